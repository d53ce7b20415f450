//! A chain: every transaction sharing one `store_original_transaction_id` — one purchase on
//! one store account ("the same Apple ID").

use serde::{Deserialize, Serialize};

use super::transaction::{AccessLevelId, StoreId, Transaction};
use crate::datetime::Timestamp;

#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct ChainKey {
    pub store: StoreId,
    pub original_transaction_id: String,
}

/// A transaction as the chain keeps it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChainTransaction {
    pub transaction: Transaction,
    /// The access level the product mapped to when this transaction arrived.
    pub access_level_id: AccessLevelId,
    /// When entitle received (or last updated) it: orders it against grants and revokes.
    pub received_at: Timestamp,
    /// Stable id of the purchase, shown as `purchase_id` for one-time purchases.
    pub purchase_id: uuid::Uuid,
    /// US dollars per unit of the price's currency, as the app's rate stood when the
    /// transaction arrived (`currency.rs`); `None` for dollars, and without a rate.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub usd_per_unit: Option<f64>,
}

impl ChainTransaction {
    /// The price in US dollars (`price_usd`): as charged in USD, else converted at the rate
    /// kept with the transaction; `None` without one.
    pub fn price_usd(&self) -> Option<f64> {
        let price = &self.transaction.price;
        super::in_usd(price.value, &price.currency, self.usd_per_unit)
    }

    /// Revenue in USD this transaction counts for: its price in dollars unless refunded.
    pub fn revenue_usd(&self) -> f64 {
        if self.transaction.is_refunded() {
            0.0
        } else {
            self.price_usd().unwrap_or(0.0)
        }
    }
}

/// What re-sending a transaction did to its chain.
#[derive(Debug, Clone, PartialEq)]
pub enum Upsert {
    /// A transaction id the chain had not seen: a purchase or a renewal.
    New,
    /// A known transaction id, updated in place; the previous version is kept here.
    Updated(Box<ChainTransaction>),
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct Chain {
    /// Ordered by `purchased_at`, then by arrival.
    pub transactions: Vec<ChainTransaction>,
}

impl Chain {
    pub fn latest(&self) -> Option<&ChainTransaction> {
        self.transactions.last()
    }

    /// The latest transaction before the one with this id was added or updated.
    pub fn latest_other_than(&self, store_transaction_id: &str) -> Option<&ChainTransaction> {
        self.transactions
            .iter()
            .rev()
            .find(|t| t.transaction.store_transaction_id != store_transaction_id)
    }

    pub fn upsert(&mut self, incoming: ChainTransaction) -> Upsert {
        let id = incoming.transaction.store_transaction_id.clone();
        let outcome = match self
            .transactions
            .iter()
            .position(|t| t.transaction.store_transaction_id == id)
        {
            Some(at) => {
                let mut incoming = incoming;
                incoming.purchase_id = self.transactions[at].purchase_id;
                let previous = std::mem::replace(&mut self.transactions[at], incoming);
                Upsert::Updated(Box::new(previous))
            }
            None => {
                self.transactions.push(incoming);
                Upsert::New
            }
        };
        self.transactions
            .sort_by_key(|t| (t.transaction.purchased_at, t.received_at));
        outcome
    }

    /// When the chain's latest subscription period (or grace period) ends, if that is after
    /// `now`: the moment its expiry is to be announced.
    pub fn expiry_due(&self, now: Timestamp) -> Option<Timestamp> {
        self.period_end().filter(|end| *end > now)
    }

    /// The end of the latest subscription period, counting a grace period; `None` for one-time
    /// purchases and refunded transactions (their end was announced as a refund).
    pub fn period_end(&self) -> Option<Timestamp> {
        let t = &self.latest()?.transaction;
        if t.purchase_type != super::PurchaseType::Subscription || t.is_refunded() {
            return None;
        }
        let grace = t.billing_issue_detected_at.and(t.grace_period_expires_at);
        match (t.expires_at, grace) {
            (Some(expires), Some(grace)) => Some(expires.max(grace)),
            (expires, _) => expires,
        }
    }

    /// Whether a transaction of this chain is a free trial: one sent with a `free_trial` offer,
    /// or a subscription's first transaction at price zero with no offer (spec §4.8: "Zero price
    /// on the first transaction of a chain means a free trial; zero on a renewal means a free
    /// renewal"). A family-shared transaction is free without being a trial.
    pub fn is_trial(&self, current: &ChainTransaction) -> bool {
        let t = &current.transaction;
        let is_first = self
            .transactions
            .first()
            .is_some_and(|first| first.transaction.store_transaction_id == t.store_transaction_id);
        t.has_free_trial_offer()
            || (is_first
                && t.purchase_type == super::PurchaseType::Subscription
                && t.offer.is_none()
                && !t.is_family_shared
                && t.price.value == 0.0)
    }

    pub fn find(&self, store_transaction_id: &str) -> Option<&ChainTransaction> {
        self.transactions
            .iter()
            .find(|t| t.transaction.store_transaction_id == store_transaction_id)
    }
}
