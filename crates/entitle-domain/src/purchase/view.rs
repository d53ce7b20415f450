//! What a profile's purchases amount to: the `access_levels`, `subscriptions`,
//! `non_subscriptions` and `total_revenue_usd` of its responses.
//!
//! The view is derived after every write that touches the profile and stored with it, so a read
//! is one row. Everything that depends on the clock (which candidate is active, grace periods)
//! is decided when the view is rendered, not when it is stored.

use serde::{Deserialize, Serialize};

use super::access::{AccessCandidate, best_per_level, best_per_level_of, candidates_for};
use super::chain::{Chain, ChainKey, ChainTransaction};
use super::overrides::AccessOverride;
use super::transaction::{Offer, PurchaseType, Transaction};
use crate::datetime::Timestamp;

/// A chain the profile owns, shown in `subscriptions` or `non_subscriptions`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OwnedPurchase {
    /// The chain's latest transaction.
    pub transaction: Transaction,
    /// The chain's first purchase.
    pub originally_purchased_at: Timestamp,
    pub purchase_id: uuid::Uuid,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct ProfileAccessView {
    pub candidates: Vec<AccessCandidate>,
    pub subscriptions: Vec<OwnedPurchase>,
    pub non_subscriptions: Vec<OwnedPurchase>,
    pub total_revenue_usd: f64,
}

/// A chain as seen from one profile.
pub struct ChainForProfile<'a> {
    pub key: &'a ChainKey,
    pub chain: &'a Chain,
    /// The profile is the chain's parent (history and revenue are its own).
    pub owned: bool,
    /// The profile holds the chain's access.
    pub has_access: bool,
}

pub fn derive_view(
    chains: &[ChainForProfile<'_>],
    overrides: &[AccessOverride],
) -> ProfileAccessView {
    let mut view = ProfileAccessView::default();
    for entry in chains {
        if entry.has_access
            && let Some(candidate) = candidates_for(entry.key, entry.chain)
        {
            view.candidates.push(candidate);
        }
        if !entry.owned {
            continue;
        }
        view.total_revenue_usd += entry
            .chain
            .transactions
            .iter()
            .map(ChainTransaction::revenue_usd)
            .sum::<f64>();
        if let Some(latest) = entry.chain.latest() {
            let mut transaction = latest.transaction.clone();
            // A trial sent without an offer shows as the free trial it is, as its access level
            // does (`access.rs`): one profile answer never says both.
            if transaction.offer.is_none() && entry.chain.is_trial(latest) {
                transaction.offer = Some(Offer::implied_free_trial());
            }
            let owned = OwnedPurchase {
                transaction,
                originally_purchased_at: entry
                    .chain
                    .transactions
                    .iter()
                    .map(|t| t.transaction.originally_purchased_at)
                    .min()
                    .unwrap_or(latest.transaction.originally_purchased_at),
                purchase_id: latest.purchase_id,
            };
            match latest.transaction.purchase_type {
                PurchaseType::Subscription => view.subscriptions.push(owned),
                PurchaseType::OneTime => view.non_subscriptions.push(owned),
            }
        }
    }
    view.candidates
        .extend(overrides.iter().filter_map(AccessOverride::grant_candidate));
    for candidate in &mut view.candidates {
        for override_ in overrides {
            override_.restrict(candidate);
        }
    }
    view.subscriptions.sort_by_key(|p| {
        (
            p.originally_purchased_at,
            p.transaction.store_original_transaction_id.clone(),
        )
    });
    view.non_subscriptions.sort_by_key(|p| {
        (
            p.transaction.purchased_at,
            p.transaction.store_transaction_id.clone(),
        )
    });
    view.total_revenue_usd = round_to_cents(view.total_revenue_usd);
    view
}

/// `total` rounded to cents, and always a finite number (the field is never null): prices are
/// bounded on the way in, but rows stored before the bound may hold larger ones.
fn round_to_cents(total: f64) -> f64 {
    let rounded = (total * 100.0).round() / 100.0;
    if rounded.is_finite() {
        rounded
    } else if total.is_finite() {
        total
    } else {
        f64::MAX
    }
}

impl ProfileAccessView {
    /// The access levels at `now`: one per level.
    pub fn access_levels(&self, now: Timestamp) -> Vec<AccessCandidate> {
        best_per_level(&self.candidates, now)
    }

    /// [`Self::access_levels`], borrowed.
    pub fn access_levels_ref(&self, now: Timestamp) -> Vec<&AccessCandidate> {
        best_per_level_of(&self.candidates, now)
    }

    /// Ids of the levels active at `now`.
    pub fn active_levels(&self, now: Timestamp) -> Vec<String> {
        self.access_levels(now)
            .into_iter()
            .filter(|c| c.is_active(now))
            .map(|c| c.access_level_id.as_str().to_owned())
            .collect()
    }
}
