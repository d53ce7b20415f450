//! The webhook payload (spec §9.2–9.5). It carries personal data (email, customer user id,
//! custom attributes), which is why an event lives with its profile and leaves with it.

use serde_json::{Map, Value, json};

use super::EventType;
use super::unknown::insert_unknown;
use crate::datetime::Timestamp;
use crate::ids::{AppId, ProfileId};
use crate::profile::{CustomAttributeValue, Profile};
use crate::purchase::{
    AccessCandidate, CancellationReason, Chain, ChainTransaction, PurchaseType, Transaction,
};

/// Another profile sharing the access, as listed in `profiles_sharing_access_level`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SharingProfile {
    pub profile_id: ProfileId,
    pub customer_user_id: Option<String>,
}

/// What the payload says about the profile an event belongs to.
pub struct EventContext<'a> {
    pub profile: &'a Profile,
    /// Other profiles sharing the access the event is about (empty: `null`).
    pub sharing: &'a [SharingProfile],
    pub now: Timestamp,
}

fn time(at: Option<Timestamp>) -> Value {
    at.map_or(Value::Null, |at| Value::String(at.to_event_format()))
}

fn detail<'a>(profile: &'a Profile, name: &str) -> Option<&'a str> {
    profile
        .attributes
        .installations
        .last()
        .and_then(|i| i.details.iter().find(|(key, _)| key == name))
        .map(|(_, value)| value.as_str())
}

/// The whole payload of one event.
pub fn build_payload(
    context: &EventContext<'_>,
    event_id: uuid::Uuid,
    event_type: EventType,
    event_datetime: Timestamp,
    mut properties: Map<String, Value>,
    reissued: bool,
) -> Value {
    let profile = context.profile;
    let analytics_disabled = profile.attributes.analytics_disabled == Some(true);
    let active_now = profile.purchases.active_levels(context.now);
    properties.insert("profile_event_id".into(), json!(event_id.to_string()));
    properties.insert("profile_id".into(), json!(profile.profile_id.to_string()));
    properties.insert("event_datetime".into(), time(Some(event_datetime)));
    properties.insert(
        "profile_has_access_level".into(),
        json!(!active_now.is_empty()),
    );
    properties.insert(
        "profile_total_revenue_usd".into(),
        json!(profile.purchases.total_revenue_usd),
    );
    properties.insert(
        "profile_country".into(),
        json!(profile.attributes.ip_country.as_ref().map(|c| c.as_str())),
    );
    properties.insert("profile_ip_address".into(), Value::Null);
    let user_attributes: Map<String, Value> = profile
        .attributes
        .custom_attributes
        .iter()
        .map(|a| {
            let value = match &a.value {
                CustomAttributeValue::String(text) => json!(text),
                CustomAttributeValue::Number(number) => json!(number),
            };
            (a.key.as_str().to_owned(), value)
        })
        .collect();
    let sharing = if context.sharing.is_empty() {
        Value::Null
    } else {
        Value::Array(
            context
                .sharing
                .iter()
                .map(|s| json!({"profile_id": s.profile_id.to_string(), "customer_user_id": s.customer_user_id}))
                .collect(),
        )
    };
    // With analytics disabled, advertising identifiers are left out (spec §4.1).
    let ad_id = |name: &str| {
        if analytics_disabled {
            Value::Null
        } else {
            json!(detail(profile, name))
        }
    };
    json!({
        "profile_id": profile.profile_id.to_string(),
        "customer_user_id": profile.customer_user_id.as_ref().map(|c| c.as_str()),
        "idfv": ad_id("idfv"),
        "idfa": ad_id("idfa"),
        "advertising_id": ad_id("advertising_id"),
        "profile_install_datetime": time(Some(profile.created_at)),
        "user_agent": detail(profile, "user_agent"),
        "email": profile.attributes.email.as_ref().map(|e| e.as_str()),
        "event_type": event_type.as_str(),
        "event_datetime": time(Some(event_datetime)),
        "event_properties": properties,
        "event_api_version": 1,
        "profiles_sharing_access_level": sharing,
        "user_attributes": user_attributes,
        "integration_ids": Value::Null,
        "reissued": reissued,
    })
}

/// `event_properties` of a transactional event (spec §9.4).
pub fn transaction_properties(
    current: &ChainTransaction,
    chain: &Chain,
    event_type: EventType,
) -> Map<String, Value> {
    let t = &current.transaction;
    let trial = chain.is_trial(current);
    let price_local = if trial {
        Value::Null
    } else {
        json!(t.price.value)
    };
    let price_usd = if trial {
        Value::Null
    } else {
        json!(current.price_usd())
    };
    let consecutive = chain
        .transactions
        .iter()
        .take_while(|c| c.transaction.store_transaction_id != t.store_transaction_id)
        .filter(|c| !chain.is_trial(c) && !c.transaction.is_refunded())
        .count()
        + usize::from(!trial);
    let offer = t.offer.as_ref();
    let mut map = object(json!({
        "store": t.store.as_str(),
        "environment": t.environment.as_str(),
        "vendor_product_id": t.store_product_id,
        "base_plan_id": Value::Null,
        "transaction_id": t.store_transaction_id,
        "original_transaction_id": t.store_original_transaction_id,
        "purchase_date": time(Some(t.purchased_at)),
        "original_purchase_date": time(chain.transactions.first().map(|f| f.transaction.originally_purchased_at.min(t.originally_purchased_at))),
        "subscription_expires_at": match t.purchase_type {
            PurchaseType::OneTime => Value::Null,
            PurchaseType::Subscription => time(subscription_expires_at(t, event_type)),
        },
        "currency": t.price.currency,
        "price_local": price_local,
        "price_usd": price_usd,
        "original_price_local": price_local,
        "original_price_usd": price_usd,
        "proceeds_local": Value::Null,
        "proceeds_usd": Value::Null,
        "net_revenue_local": Value::Null,
        "net_revenue_usd": Value::Null,
        "tax_amount_local": Value::Null,
        "tax_amount_usd": Value::Null,
        "consecutive_payments": consecutive,
        // Neither the standard price nor the store's commission rate is sent to entitle: the
        // discount is unknown (null, spec §9.4), and the reduced rate is not assumed.
        "discount_amount_local": Value::Null,
        "discount_amount_usd": Value::Null,
        "rate_after_first_year": false,
        "store_country": t.price.country,
        "variation_id": t.variation_id,
        "promotional_offer_id": offer.and_then(|o| o.id.clone()),
        "store_offer_category": offer.map(|o| o.category.as_str()),
        "store_offer_discount_type": offer.map(|o| o.offer_type.as_str()),
    }));
    insert_unknown(&mut map, event_type);
    if t.purchase_type == PurchaseType::Subscription {
        map.insert(
            "cancellation_reason".into(),
            json!(t.cancellation_reason.map(|r| r.as_str())),
        );
        map.insert(
            "will_renew".into(),
            json!(t.renew_status && !t.is_refunded()),
        );
        map.insert("is_refund".into(), json!(t.is_refunded()));
        map.insert("is_lifetime".into(), json!(false));
        map.insert(
            "is_in_grace_period".into(),
            json!(t.billing_issue_detected_at.is_some() && t.grace_period_expires_at.is_some()),
        );
        map.insert(
            "trial_duration".into(),
            json!(
                event_type
                    .as_str()
                    .starts_with("trial_")
                    .then(|| trial_duration(current, chain))
                    .flatten()
            ),
        );
        if ended_by_billing(t, event_type) {
            // The final failure of a billing retry (spec §9.7): the grace period is over.
            map.insert("cancellation_reason".into(), json!("billing_error"));
            map.insert("is_in_grace_period".into(), json!(false));
            map.insert("will_renew".into(), json!(false));
        }
    }
    // A refund event says why: a refund, or an immediate upgrade (spec §9.1), which keeps the
    // transaction's own `upgraded`.
    if matches!(
        event_type,
        EventType::SubscriptionRefunded | EventType::NonSubscriptionPurchaseRefunded
    ) && t.cancellation_reason != Some(CancellationReason::Upgraded)
    {
        map.insert("cancellation_reason".into(), json!("refund"));
    }
    map
}

/// The fields of a `json!` object literal.
fn object(value: Value) -> Map<String, Value> {
    match value {
        Value::Object(map) => map,
        _ => Map::new(),
    }
}

/// The regular expiry; on a refund the refund's date, and on the events of a billing issue the
/// grace period's end when there is one (spec §9.4).
fn subscription_expires_at(t: &Transaction, event_type: EventType) -> Option<Timestamp> {
    let billing = matches!(
        event_type,
        EventType::BillingIssueDetected | EventType::EnteredGracePeriod
    );
    t.refunded_at
        .or(t.grace_period_expires_at.filter(|_| billing))
        .or(t.expires_at)
}

/// An expiry after a billing issue the store never resolved.
fn ended_by_billing(t: &Transaction, event_type: EventType) -> bool {
    matches!(
        event_type,
        EventType::SubscriptionExpired | EventType::TrialExpired
    ) && t.billing_issue_detected_at.is_some()
        && t.cancellation_reason.is_none()
}

/// The length of the chain's trial up to `current` (the trial itself, or the one it converted),
/// `"7 days"` style.
fn trial_duration(current: &ChainTransaction, chain: &Chain) -> Option<String> {
    let trial = if chain.is_trial(current) {
        &current.transaction
    } else {
        &chain
            .transactions
            .iter()
            .take_while(|c| {
                c.transaction.store_transaction_id != current.transaction.store_transaction_id
            })
            .filter(|c| chain.is_trial(c))
            .last()?
            .transaction
    };
    let micros = trial.expires_at?.unix_micros() - trial.purchased_at.unix_micros();
    let days = (micros + 43_200_000_000).div_euclid(86_400_000_000);
    Some(if days == 1 {
        "1 day".to_owned()
    } else {
        format!("{days} days")
    })
}

/// `event_properties` of `access_level_updated` (spec §9.5).
pub fn access_level_properties(
    candidate: &AccessCandidate,
    active: bool,
    now: Timestamp,
) -> Map<String, Value> {
    let offer = candidate.offer.as_ref();
    let mut map = object(json!({
        "access_level_id": candidate.access_level_id.as_str(),
        "is_active": active,
        "is_lifetime": candidate.is_lifetime,
        "is_refund": candidate.is_refund,
        "is_in_grace_period": candidate.is_in_grace_period(now),
        "will_renew": candidate.will_renew && active,
        "activated_at": time(Some(candidate.purchased_at)),
        "starts_at": time(candidate.starts_at),
        "expires_at": time(candidate.effective_expires_at(now)),
        "subscription_expires_at": time(candidate.expires_at),
        "renewed_at": time(Some(candidate.purchased_at)),
        "purchase_date": time(Some(candidate.purchased_at)),
        "original_purchase_date": time(Some(candidate.originally_purchased_at)),
        "billing_issue_detected_at": time(candidate.billing_issue_detected_at),
        "cancellation_reason": candidate.cancellation_reason.map(|r| r.as_str()),
        "store": candidate.store,
        "environment": candidate.environment.as_str(),
        "vendor_product_id": candidate.store_product_id,
        "base_plan_id": candidate.base_plan_id(),
        "transaction_id": candidate.store_transaction_id,
        "original_transaction_id": candidate.store_original_transaction_id,
        "active_introductory_offer_type": offer.filter(|o| o.category.as_str() == "introductory").map(|o| o.offer_type.as_str()),
        "active_promotional_offer_id": offer.filter(|o| o.category.as_str() != "introductory").and_then(|o| o.id.clone()),
        "active_promotional_offer_type": offer.filter(|o| o.category.as_str() != "introductory").map(|o| o.offer_type.as_str()),
        "currency": "USD",
        "trial_duration": Value::Null,
        "store_country": candidate.store_country,
        "variation_id": candidate.variation_id,
    }));
    insert_unknown(&mut map, EventType::AccessLevelUpdated);
    map
}

/// The payload of `profile_deleted`: no personal data at all.
pub fn profile_deleted_payload(
    app_id: AppId,
    profile_id: ProfileId,
    event_id: uuid::Uuid,
    deleted_at: Timestamp,
) -> Value {
    json!({
        "event_type": EventType::ProfileDeleted.as_str(),
        "app_id": app_id.to_string(),
        "profile_id": profile_id.to_string(),
        "deleted_at": time(Some(deleted_at)),
        "event_datetime": time(Some(deleted_at)),
        "profile_event_id": event_id.to_string(),
        "event_api_version": 1,
    })
}
