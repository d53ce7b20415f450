//! The `Profile` response (spec §4.4–4.7), always wrapped as `{"data": Profile}`.
//!
//! Personal fields (names, email, phone, birthday, installations) are request-only and are
//! never echoed.
//!
//! The bodies borrow from the profile they render (no copy of its strings) and are written
//! once, straight into the response's bytes: a GET does little else.

use entitle_domain::datetime::Timestamp;
use entitle_domain::profile::{CustomAttributeValue, Profile};
use entitle_domain::purchase::{AccessCandidate, Offer, OwnedPurchase};
use serde::Serialize;
use sha2::{Digest, Sha256};
use utoipa::ToSchema;

#[derive(Serialize, ToSchema)]
pub struct ProfileEnvelope<'a> {
    pub data: ProfileBody<'a>,
}

#[derive(Serialize, ToSchema)]
pub struct ProfileBody<'a> {
    pub app_id: String,
    pub profile_id: String,
    pub customer_user_id: Option<&'a str>,
    pub total_revenue_usd: f64,
    pub segment_hash: String,
    pub timestamp: i64,
    pub custom_attributes: Vec<CustomAttributeBody<'a>>,
    pub access_levels: Vec<AccessLevelBody<'a>>,
    pub subscriptions: Vec<SubscriptionBody<'a>>,
    pub non_subscriptions: Vec<NonSubscriptionBody<'a>>,
}

#[derive(Serialize, ToSchema)]
pub struct CustomAttributeBody<'a> {
    pub key: &'a str,
    /// A string or a number.
    #[schema(schema_with = crate::openapi::schemas::attribute_value_stored)]
    pub value: AttributeValueBody<'a>,
}

/// A custom attribute's value as JSON: a string, or a number (`null` if it is not finite).
#[derive(Serialize)]
#[serde(untagged)]
pub enum AttributeValueBody<'a> {
    Text(&'a str),
    Number(f64),
}

#[derive(Serialize, ToSchema)]
pub struct OfferBody<'a> {
    #[schema(value_type = String)]
    pub category: &'static str,
    #[serde(rename = "type")]
    #[schema(value_type = String)]
    pub offer_type: &'static str,
    pub id: Option<&'a str>,
}

#[derive(Serialize, ToSchema)]
pub struct AccessLevelBody<'a> {
    pub access_level_id: &'a str,
    pub store: &'a str,
    pub store_product_id: &'a str,
    pub store_base_plan_id: Option<&'a str>,
    pub store_transaction_id: &'a str,
    pub store_original_transaction_id: &'a str,
    pub offer: Option<OfferBody<'a>>,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub starts_at: Option<Timestamp>,
    #[schema(value_type = String, format = DateTime)]
    pub purchased_at: Timestamp,
    #[schema(value_type = String, format = DateTime)]
    pub originally_purchased_at: Timestamp,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub expires_at: Option<Timestamp>,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub renewal_cancelled_at: Option<Timestamp>,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub billing_issue_detected_at: Option<Timestamp>,
    pub is_in_grace_period: bool,
    #[schema(value_type = Option<String>)]
    pub cancellation_reason: Option<&'static str>,
}

#[derive(Serialize, ToSchema)]
pub struct SubscriptionBody<'a> {
    pub store: &'a str,
    pub store_product_id: &'a str,
    pub store_base_plan_id: Option<&'a str>,
    pub store_transaction_id: &'a str,
    pub store_original_transaction_id: &'a str,
    pub offer: Option<OfferBody<'a>>,
    #[schema(value_type = String, example = "Production")]
    pub environment: &'static str,
    #[schema(value_type = String, format = DateTime)]
    pub purchased_at: Timestamp,
    #[schema(value_type = String, format = DateTime)]
    pub originally_purchased_at: Timestamp,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub expires_at: Option<Timestamp>,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub renewal_cancelled_at: Option<Timestamp>,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub billing_issue_detected_at: Option<Timestamp>,
    pub is_in_grace_period: bool,
    #[schema(value_type = Option<String>)]
    pub cancellation_reason: Option<&'static str>,
}

#[derive(Serialize, ToSchema)]
pub struct NonSubscriptionBody<'a> {
    pub purchase_id: String,
    pub store: &'a str,
    pub store_product_id: &'a str,
    pub store_base_plan_id: Option<&'a str>,
    pub store_transaction_id: &'a str,
    pub store_original_transaction_id: &'a str,
    #[schema(value_type = String, format = DateTime)]
    pub purchased_at: Timestamp,
    #[schema(value_type = String, example = "Production")]
    pub environment: &'static str,
    pub is_refund: bool,
    pub is_consumable: bool,
}

fn offer(offer: &Option<Offer>) -> Option<OfferBody<'_>> {
    offer.as_ref().map(|offer| OfferBody {
        category: offer.category.as_str(),
        offer_type: offer.offer_type.as_str(),
        id: offer.id.as_deref(),
    })
}

fn access_level(candidate: &AccessCandidate, now: Timestamp) -> AccessLevelBody<'_> {
    AccessLevelBody {
        is_in_grace_period: candidate.is_in_grace_period(now),
        expires_at: candidate.effective_expires_at(now),
        access_level_id: candidate.access_level_id.as_str(),
        store: &candidate.store,
        store_product_id: &candidate.store_product_id,
        store_base_plan_id: candidate.base_plan_id(),
        store_transaction_id: &candidate.store_transaction_id,
        store_original_transaction_id: &candidate.store_original_transaction_id,
        offer: offer(&candidate.offer),
        starts_at: candidate.starts_at,
        purchased_at: candidate.purchased_at,
        originally_purchased_at: candidate.originally_purchased_at,
        renewal_cancelled_at: candidate.renewal_cancelled_at,
        billing_issue_detected_at: candidate.billing_issue_detected_at,
        cancellation_reason: candidate.cancellation_reason.map(|r| r.as_str()),
    }
}

fn subscription(owned: &OwnedPurchase, now: Timestamp) -> SubscriptionBody<'_> {
    let t = &owned.transaction;
    SubscriptionBody {
        store: t.store.as_str(),
        store_product_id: &t.store_product_id,
        store_base_plan_id: t.base_plan_id(),
        store_transaction_id: &t.store_transaction_id,
        store_original_transaction_id: &t.store_original_transaction_id,
        offer: offer(&t.offer),
        environment: t.environment.as_str(),
        purchased_at: t.purchased_at,
        originally_purchased_at: owned.originally_purchased_at,
        expires_at: t.expires_at,
        renewal_cancelled_at: t.renewal_cancelled_at(),
        billing_issue_detected_at: t.billing_issue_detected_at,
        is_in_grace_period: t.billing_issue_detected_at.is_some()
            && !t.is_refunded()
            && t.grace_period_expires_at.is_some_and(|grace| now < grace),
        cancellation_reason: t.cancellation_reason.map(|r| r.as_str()),
    }
}

fn non_subscription(owned: &OwnedPurchase) -> NonSubscriptionBody<'_> {
    let t = &owned.transaction;
    NonSubscriptionBody {
        purchase_id: owned.purchase_id.to_string(),
        store: t.store.as_str(),
        store_product_id: &t.store_product_id,
        store_base_plan_id: t.base_plan_id(),
        store_transaction_id: &t.store_transaction_id,
        store_original_transaction_id: &t.store_original_transaction_id,
        purchased_at: t.purchased_at,
        environment: t.environment.as_str(),
        is_refund: t.is_refunded(),
        is_consumable: false,
    }
}

pub fn render(profile: &Profile, now: Timestamp, timestamp: i64) -> ProfileEnvelope<'_> {
    let custom_attributes = profile
        .attributes
        .custom_attributes
        .iter()
        .map(|attribute| CustomAttributeBody {
            key: attribute.key.as_str(),
            value: match &attribute.value {
                CustomAttributeValue::String(text) => AttributeValueBody::Text(text.as_str()),
                CustomAttributeValue::Number(number) => AttributeValueBody::Number(*number),
            },
        })
        .collect();
    let purchases = &profile.purchases;
    let levels = purchases.access_levels_ref(now);
    ProfileEnvelope {
        data: ProfileBody {
            app_id: profile.app_id.to_string(),
            profile_id: profile.profile_id.to_string(),
            customer_user_id: profile.customer_user_id.as_ref().map(|c| c.as_str()),
            total_revenue_usd: purchases.total_revenue_usd,
            segment_hash: segment_hash(profile, &levels, now),
            timestamp,
            custom_attributes,
            access_levels: levels
                .iter()
                .map(|candidate| access_level(candidate, now))
                .collect(),
            subscriptions: purchases
                .subscriptions
                .iter()
                .map(|s| subscription(s, now))
                .collect(),
            non_subscriptions: purchases
                .non_subscriptions
                .iter()
                .map(non_subscription)
                .collect(),
        },
    }
}

/// 16 hex characters that change when the profile's segment membership (its app and active
/// access levels) changes, as Adapty's internal `segment_hash` does.
fn segment_hash(profile: &Profile, levels: &[&AccessCandidate], now: Timestamp) -> String {
    let mut hasher = Sha256::new();
    hasher.update(profile.app_id.as_bytes());
    for level in levels.iter().filter(|level| level.is_active(now)) {
        hasher.update(level.access_level_id.as_str().as_bytes());
        hasher.update([0]);
    }
    hex::encode(&hasher.finalize()[..8])
}
