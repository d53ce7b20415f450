//! Access-level candidates and the rule that picks one per access level.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::chain::{Chain, ChainKey};
use super::transaction::{AccessLevelId, CancellationReason, Environment, Offer, PurchaseType};
use crate::datetime::Timestamp;

/// Where a candidate comes from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum AccessSource {
    /// The latest transaction of a chain the profile owns or shares.
    Chain(ChainKey),
    /// A server-side grant.
    Grant,
}

/// One source's claim to an access level, with every field of the `AccessLevel` response.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AccessCandidate {
    pub access_level_id: AccessLevelId,
    pub source: AccessSource,
    pub store: String,
    pub store_product_id: String,
    pub store_base_plan_id: Option<String>,
    pub store_transaction_id: String,
    pub store_original_transaction_id: String,
    pub offer: Option<Offer>,
    pub starts_at: Option<Timestamp>,
    pub purchased_at: Timestamp,
    pub originally_purchased_at: Timestamp,
    pub expires_at: Option<Timestamp>,
    pub renewal_cancelled_at: Option<Timestamp>,
    pub billing_issue_detected_at: Option<Timestamp>,
    pub grace_period_expires_at: Option<Timestamp>,
    pub cancellation_reason: Option<CancellationReason>,
    pub environment: Environment,
    pub is_refund: bool,
    pub will_renew: bool,
    pub is_lifetime: bool,
    /// The storefront's country of the chain's latest transaction (`price.country`), for
    /// `access_level_updated` (spec §9.5); `None` for a grant, and in views stored before it
    /// was kept (read as absent until the profile's next write).
    #[serde(default)]
    pub store_country: Option<String>,
    /// The paywall variation that made the chain's latest sale, for `access_level_updated`.
    #[serde(default)]
    pub variation_id: Option<String>,
    /// When the claim was last asserted (transaction received, grant made): a revoke made
    /// after it overrides it; a later transaction of the chain supersedes the revoke.
    pub asserted_at: Timestamp,
}

impl AccessCandidate {
    pub fn is_in_grace_period(&self, now: Timestamp) -> bool {
        self.billing_issue_detected_at.is_some()
            && self
                .grace_period_expires_at
                .is_some_and(|grace| now < grace)
    }

    /// During a grace period the access lasts until the grace period ends.
    pub fn effective_expires_at(&self, now: Timestamp) -> Option<Timestamp> {
        if self.is_in_grace_period(now) {
            self.grace_period_expires_at
        } else {
            self.expires_at
        }
    }

    pub fn is_active(&self, now: Timestamp) -> bool {
        self.starts_at.is_none_or(|starts| starts <= now)
            && self
                .effective_expires_at(now)
                .is_none_or(|expires| now < expires)
    }

    /// The Google Play base plan of the product (`Transaction::base_plan_id`), also for a view
    /// stored before base plans were shown.
    pub fn base_plan_id(&self) -> Option<&str> {
        self.store_base_plan_id.as_deref().or_else(|| {
            super::transaction::split_base_plan(&self.store, &self.store_product_id)
                .map(|(_, plan)| plan)
        })
    }

    /// This access as it stands once a profile lost it at `at` (another profile took it over,
    /// its grant went): it ends there, if it had not ended before, so that dates and
    /// `is_active` say the same (spec §9.5: `is_active` is computed from `starts_at`,
    /// `expires_at` and `is_lifetime`).
    pub fn lost_at(&self, at: Timestamp) -> AccessCandidate {
        let mut lost = self.clone();
        let ends = self
            .effective_expires_at(at)
            .map_or(at, |expires| expires.min(at));
        lost.expires_at = Some(ends);
        lost.grace_period_expires_at = None;
        lost.is_lifetime = false;
        lost.will_renew = false;
        lost
    }

    /// Ordering used to pick one candidate per level: active first, then the one that lasts
    /// longest (lifetime beats any date), then the most recently asserted.
    fn rank(&self, now: Timestamp) -> (bool, bool, Option<Timestamp>, Timestamp) {
        let expires = self.effective_expires_at(now);
        (
            self.is_active(now),
            expires.is_none(),
            expires,
            self.asserted_at,
        )
    }
}

/// The candidate a chain's latest transaction gives, if any.
pub fn candidates_for(key: &ChainKey, chain: &Chain) -> Option<AccessCandidate> {
    let latest = chain.latest()?;
    let t = &latest.transaction;
    let lifetime = t.purchase_type == PurchaseType::OneTime;
    let expires_at = match (t.expires_at, t.refunded_at) {
        (Some(expires), Some(refunded)) => Some(expires.min(refunded)),
        (None, Some(refunded)) => Some(refunded),
        (expires, None) => expires,
    };
    Some(AccessCandidate {
        access_level_id: latest.access_level_id.clone(),
        source: AccessSource::Chain(key.clone()),
        store: t.store.as_str().to_owned(),
        store_product_id: t.store_product_id.clone(),
        store_base_plan_id: t.base_plan_id().map(str::to_owned),
        store_transaction_id: t.store_transaction_id.clone(),
        store_original_transaction_id: t.store_original_transaction_id.clone(),
        // A trial the transaction sent no offer for (a zero-price first transaction) shows as the
        // free trial it is, as its events do: `active_introductory_offer_type` in
        // `access_level_updated`, the access level's `offer` in the profile.
        offer: t
            .offer
            .clone()
            .or_else(|| chain.is_trial(latest).then(Offer::implied_free_trial)),
        starts_at: None,
        purchased_at: t.purchased_at,
        originally_purchased_at: chain.transactions.first().map_or(
            t.originally_purchased_at,
            |first| {
                first
                    .transaction
                    .originally_purchased_at
                    .min(t.originally_purchased_at)
            },
        ),
        expires_at,
        renewal_cancelled_at: t.renewal_cancelled_at(),
        billing_issue_detected_at: t.billing_issue_detected_at,
        grace_period_expires_at: if t.is_refunded() {
            None
        } else {
            t.grace_period_expires_at
        },
        cancellation_reason: t.cancellation_reason,
        environment: t.environment,
        is_refund: t.is_refunded(),
        will_renew: t.purchase_type == PurchaseType::Subscription
            && t.renew_status
            && !t.is_refunded(),
        is_lifetime: lifetime && !t.is_refunded(),
        store_country: Some(t.price.country.clone()),
        variation_id: t.variation_id.clone(),
        asserted_at: latest.received_at,
    })
}

/// One candidate per access level, ordered by access level id.
pub fn best_per_level(candidates: &[AccessCandidate], now: Timestamp) -> Vec<AccessCandidate> {
    best_per_level_of(candidates, now)
        .into_iter()
        .cloned()
        .collect()
}

/// [`best_per_level`] without copying the candidates (a response only reads them).
pub fn best_per_level_of(candidates: &[AccessCandidate], now: Timestamp) -> Vec<&AccessCandidate> {
    let mut best: BTreeMap<&AccessLevelId, &AccessCandidate> = BTreeMap::new();
    for candidate in candidates {
        best.entry(&candidate.access_level_id)
            .and_modify(|current| {
                if candidate.rank(now) > current.rank(now) {
                    *current = candidate;
                }
            })
            .or_insert(candidate);
    }
    best.into_values().collect()
}
