//! What a bench profile holds, twice: as domain values (what the bulk seed writes) and as the
//! wire bodies a client would send for the same profile. A test checks the two agree by
//! comparing a seeded profile with one built over HTTP from these bodies.

use entitle_domain::CustomerUserId;
use entitle_domain::datetime::Timestamp;
use entitle_domain::profile::{
    CustomAttributeChange, CustomAttributeKey, CustomAttributeValue, Email, Patch, ProfilePatch,
};
use entitle_domain::purchase::{
    Environment, Offer, OfferCategory, OfferType, Price, PurchaseType, StoreId, Transaction,
};
use entitle_store_sqlite::bench::SeedProfile;
use serde_json::{Value, json};

/// Transactions seeded per profile, all in one chain: a free trial, its conversion to a paid
/// period, and a renewal whose next charge has already failed (a billing issue, in its grace
/// period). That makes 5 events with no webhook integration (spec §9.1 creates
/// `access_level_updated` only for one): `trial_started`, `trial_converted`,
/// `subscription_renewed`, `billing_issue_detected`, `entered_grace_period`.
pub const SEEDED_TRANSACTIONS: u32 = 3;

/// The events those transactions make.
pub const SEEDED_EVENTS: usize = 5;

/// The seeded transaction that is the free trial, and the one with the billing issue.
const TRIAL: u32 = 0;
const BILLING_ISSUE: u32 = SEEDED_TRANSACTIONS - 1;

const DAY: i64 = 86_400_000_000;
const PRICE: f64 = 9.99;
const PRODUCT: &str = "pro.monthly";

/// The customer user id of seeded profile `index` (also what requests name it by).
pub fn customer_user_id(index: u64) -> String {
    format!("bench-{index}")
}

/// The customer user id of the `index`-th profile the create scenario makes.
pub fn new_customer_user_id(index: u64) -> String {
    format!("bench-new-{index}")
}

fn transaction_id(index: u64, number: u32) -> String {
    format!("bench-{index}-{number}")
}

/// When transaction `number` of a chain was bought and when its period ends. Periods are 30
/// days; the seeded chain's third period runs from 15 days before `anchor` (the seeding time)
/// to 15 days after, so seeded profiles have access while the bench runs. The fourth (the
/// set-transaction scenario's renewal) is bought `now`, before the third ends, as stores renew.
fn period(number: u32, anchor: Timestamp, now: Timestamp) -> (Timestamp, Timestamp) {
    let first = anchor.plus_micros(-75 * DAY);
    match number {
        0..SEEDED_TRANSACTIONS => {
            let bought = first.plus_micros(i64::from(number) * 30 * DAY);
            (bought, bought.plus_micros(30 * DAY))
        }
        _ => (now, first.plus_micros(i64::from(number + 1) * 30 * DAY)),
    }
}

/// When the billing issue of the last seeded period was detected, and when its grace period
/// ends: a day before `anchor`, and 16 days after it (a day past the period's end), so the
/// profile is in its grace period while the bench runs.
fn billing_issue(number: u32, anchor: Timestamp) -> Option<(Timestamp, Timestamp)> {
    (number == BILLING_ISSUE).then(|| (anchor.plus_micros(-DAY), anchor.plus_micros(16 * DAY)))
}

fn price(number: u32) -> f64 {
    if number == TRIAL { 0.0 } else { PRICE }
}

/// Transaction `number` of profile `index`'s chain, as the set-transaction endpoint reads it.
pub fn transaction(index: u64, number: u32, anchor: Timestamp, now: Timestamp) -> Transaction {
    let (purchased_at, expires_at) = period(number, anchor, now);
    let billing = billing_issue(number, anchor);
    Transaction {
        purchase_type: PurchaseType::Subscription,
        store: StoreId::parse("app_store").expect("a valid store"),
        environment: Environment::Production,
        store_product_id: PRODUCT.to_owned(),
        store_transaction_id: transaction_id(index, number),
        store_original_transaction_id: transaction_id(index, 0),
        is_family_shared: false,
        price: Price {
            country: "US".to_owned(),
            currency: "USD".to_owned(),
            value: price(number),
        },
        purchased_at,
        originally_purchased_at: period(0, anchor, now).0,
        expires_at: Some(expires_at),
        renew_status: true,
        renew_status_changed_at: None,
        billing_issue_detected_at: billing.map(|(detected, _)| detected),
        grace_period_expires_at: billing.map(|(_, grace)| grace),
        variation_id: None,
        offer: (number == TRIAL).then_some(Offer {
            category: OfferCategory::Introductory,
            offer_type: OfferType::FreeTrial,
            id: None,
        }),
        refunded_at: None,
        cancellation_reason: None,
    }
}

/// The same transaction as a set-transaction request body.
pub fn transaction_body(index: u64, number: u32, anchor: Timestamp, now: Timestamp) -> Value {
    let (purchased_at, expires_at) = period(number, anchor, now);
    let mut body = json!({
        "purchase_type": "subscription",
        "store": "app_store",
        "environment": "Production",
        "store_product_id": PRODUCT,
        "store_transaction_id": transaction_id(index, number),
        "store_original_transaction_id": transaction_id(index, 0),
        "price": { "country": "US", "currency": "USD", "value": price(number) },
        "purchased_at": purchased_at.to_rfc3339(),
        "originally_purchased_at": period(0, anchor, now).0.to_rfc3339(),
        "expires_at": expires_at.to_rfc3339(),
        "renew_status": true
    });
    if number == TRIAL {
        body["offer"] = json!({ "category": "introductory", "type": "free_trial", "id": null });
    }
    if let Some((detected, grace)) = billing_issue(number, anchor) {
        body["billing_issue_detected_at"] = detected.to_rfc3339().into();
        body["grace_period_expires_at"] = grace.to_rfc3339().into();
    }
    body
}

fn email(index: u64) -> String {
    format!("bench-{index}@example.com")
}

/// A create request body: a name, an email and two custom attributes.
pub fn create_body(index: u64) -> Value {
    json!({
        "first_name": "Bench",
        "email": email(index),
        "custom_attributes": [
            { "key": "plan_tier", "value": "pro" },
            { "key": "lessons_done", "value": index % 50 }
        ]
    })
}

/// The same create request as the patch the store applies.
pub fn create_patch(index: u64) -> ProfilePatch {
    let key = |text: &str| CustomAttributeKey::parse(text).expect("a valid key");
    ProfilePatch {
        first_name: Patch::Set("Bench".to_owned()),
        email: Patch::Set(Email::parse(&email(index)).expect("a valid email")),
        custom_attributes: vec![
            CustomAttributeChange {
                key: key("plan_tier"),
                value: Some(CustomAttributeValue::String("pro".to_owned())),
            },
            CustomAttributeChange {
                key: key("lessons_done"),
                value: Some(CustomAttributeValue::Number((index % 50) as f64)),
            },
        ],
        ..ProfilePatch::default()
    }
}

/// Seeded profile `index`: created, then its three transactions.
pub fn seed_profile(index: u64, anchor: Timestamp) -> SeedProfile {
    SeedProfile {
        customer_user_id: CustomerUserId::parse(&customer_user_id(index))
            .expect("a valid customer user id"),
        patch: create_patch(index),
        transactions: (0..SEEDED_TRANSACTIONS)
            .map(|number| transaction(index, number, anchor, anchor))
            .collect(),
    }
}
