//! The first binary layout of the purchases view (format byte 2), kept to read rows written in
//! it. Postcard stores fields by position, so adding `store_country` and `variation_id` to the
//! access candidate made a new layout (format byte 3); these types are the candidate as it was,
//! field for field, and must never change.

use entitle_domain::datetime::Timestamp;
use entitle_domain::purchase::{
    AccessCandidate, AccessLevelId, AccessSource, CancellationReason, Environment, Offer,
    OwnedPurchase, ProfileAccessView,
};
use serde::Deserialize;

#[derive(Deserialize)]
pub(super) struct ViewV1 {
    candidates: Vec<CandidateV1>,
    subscriptions: Vec<OwnedPurchase>,
    non_subscriptions: Vec<OwnedPurchase>,
    total_revenue_usd: f64,
}

#[derive(Deserialize)]
struct CandidateV1 {
    access_level_id: AccessLevelId,
    source: AccessSource,
    store: String,
    store_product_id: String,
    store_base_plan_id: Option<String>,
    store_transaction_id: String,
    store_original_transaction_id: String,
    offer: Option<Offer>,
    starts_at: Option<Timestamp>,
    purchased_at: Timestamp,
    originally_purchased_at: Timestamp,
    expires_at: Option<Timestamp>,
    renewal_cancelled_at: Option<Timestamp>,
    billing_issue_detected_at: Option<Timestamp>,
    grace_period_expires_at: Option<Timestamp>,
    cancellation_reason: Option<CancellationReason>,
    environment: Environment,
    is_refund: bool,
    will_renew: bool,
    is_lifetime: bool,
    asserted_at: Timestamp,
}

impl From<ViewV1> for ProfileAccessView {
    fn from(view: ViewV1) -> Self {
        ProfileAccessView {
            candidates: view.candidates.into_iter().map(Into::into).collect(),
            subscriptions: view.subscriptions,
            non_subscriptions: view.non_subscriptions,
            total_revenue_usd: view.total_revenue_usd,
        }
    }
}

impl From<CandidateV1> for AccessCandidate {
    fn from(c: CandidateV1) -> Self {
        AccessCandidate {
            access_level_id: c.access_level_id,
            source: c.source,
            store: c.store,
            store_product_id: c.store_product_id,
            store_base_plan_id: c.store_base_plan_id,
            store_transaction_id: c.store_transaction_id,
            store_original_transaction_id: c.store_original_transaction_id,
            offer: c.offer,
            starts_at: c.starts_at,
            purchased_at: c.purchased_at,
            originally_purchased_at: c.originally_purchased_at,
            expires_at: c.expires_at,
            renewal_cancelled_at: c.renewal_cancelled_at,
            billing_issue_detected_at: c.billing_issue_detected_at,
            grace_period_expires_at: c.grace_period_expires_at,
            cancellation_reason: c.cancellation_reason,
            environment: c.environment,
            is_refund: c.is_refund,
            will_renew: c.will_renew,
            is_lifetime: c.is_lifetime,
            // Not kept in this layout: absent until the profile's next write derives it anew.
            store_country: None,
            variation_id: None,
            asserted_at: c.asserted_at,
        }
    }
}
