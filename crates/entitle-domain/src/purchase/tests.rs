//! Tests of the purchase rules (written in a helper session).

use std::collections::BTreeSet;

use proptest::option;
use proptest::prelude::*;

use super::overrides::Revoke;
use super::*;
use crate::datetime::Timestamp;

const DAY: i64 = 86_400;

fn ts(secs: i64) -> Timestamp {
    Timestamp::from_unix_micros(secs * 1_000_000)
}

fn level(id: &str) -> AccessLevelId {
    AccessLevelId::parse(id).unwrap()
}

fn price(currency: &str, value: f64) -> Price {
    Price {
        country: "US".into(),
        currency: currency.into(),
        value,
    }
}

fn subscription(id: &str, original: &str, purchased: i64, expires: i64) -> Transaction {
    Transaction {
        purchase_type: PurchaseType::Subscription,
        store: StoreId::parse("app_store").unwrap(),
        environment: Environment::Production,
        store_product_id: "pro_monthly".into(),
        store_transaction_id: id.into(),
        store_original_transaction_id: original.into(),
        is_family_shared: false,
        price: price("USD", 9.99),
        purchased_at: ts(purchased),
        originally_purchased_at: ts(purchased),
        expires_at: Some(ts(expires)),
        renew_status: true,
        renew_status_changed_at: None,
        billing_issue_detected_at: None,
        grace_period_expires_at: None,
        variation_id: None,
        offer: None,
        refunded_at: None,
        cancellation_reason: None,
    }
}

fn one_time(id: &str, purchased: i64) -> Transaction {
    Transaction {
        purchase_type: PurchaseType::OneTime,
        store_product_id: "lifetime_unlock".into(),
        price: price("USD", 49.0),
        expires_at: None,
        renew_status: false,
        ..subscription(id, id, purchased, purchased + 1)
    }
}

fn offer(category: OfferCategory, offer_type: OfferType, id: Option<&str>) -> Option<Offer> {
    Some(Offer {
        category,
        offer_type,
        id: id.map(str::to_owned),
    })
}

/// Adds a transaction received at `received` (seconds).
fn receive(chain: &mut Chain, level_id: &str, transaction: Transaction, received: i64) -> Upsert {
    chain.upsert(ChainTransaction {
        transaction,
        access_level_id: level(level_id),
        received_at: ts(received),
        purchase_id: uuid::Uuid::nil(),
        usd_per_unit: None,
    })
}

/// A chain of `level_id` whose transactions were each received when purchased.
fn chain_for(level_id: &str, transactions: Vec<Transaction>) -> Chain {
    let mut chain = Chain::default();
    for t in transactions {
        let received = t.purchased_at.unix_micros() / 1_000_000;
        receive(&mut chain, level_id, t, received);
    }
    chain
}

fn chain_of(transactions: Vec<Transaction>) -> Chain {
    chain_for("premium", transactions)
}

fn key(original: &str) -> ChainKey {
    ChainKey {
        store: StoreId::parse("app_store").unwrap(),
        original_transaction_id: original.into(),
    }
}

/// The view of a profile that sees each chain as `(chain, owned, has_access)`.
fn view(chains: &[(&Chain, bool, bool)], overrides: &[AccessOverride]) -> ProfileAccessView {
    let keys: Vec<_> = chains
        .iter()
        .map(|(c, ..)| key(&c.transactions[0].transaction.store_original_transaction_id))
        .collect();
    let entries: Vec<_> = chains
        .iter()
        .zip(&keys)
        .map(|(&(chain, owned, has_access), key)| ChainForProfile {
            key,
            chain,
            owned,
            has_access,
        })
        .collect();
    derive_view(&entries, overrides)
}

/// The view of a profile that owns and holds `chain`.
fn owned(chain: &Chain, overrides: &[AccessOverride]) -> ProfileAccessView {
    view(&[(chain, true, true)], overrides)
}

/// The only access level of a view at `now`.
fn single_level(view: &ProfileAccessView, now: i64) -> AccessCandidate {
    let levels = view.access_levels(ts(now));
    assert_eq!(levels.len(), 1, "{levels:#?}");
    levels.into_iter().next().unwrap()
}

fn grant(starts: Option<i64>, expires: Option<i64>, now: i64) -> AccessOverride {
    let request = GrantRequest {
        access_level_id: AccessLevelId::premium(),
        starts_at: starts.map(ts),
        expires_at: expires.map(ts),
    };
    apply_grant(None, &request, || "grant-1".to_owned(), ts(now))
}

fn revoke(
    existing: Option<AccessOverride>,
    current: Option<&AccessCandidate>,
    revoke_at: Option<i64>,
    now: i64,
) -> Result<AccessOverride, OverrideError> {
    let request = RevokeRequest {
        access_level_id: AccessLevelId::premium(),
        revoke_at: revoke_at.map(ts),
    };
    apply_revoke(existing, current, &request, ts(now))
}

// ---------------------------------------------------------------- Transaction::validate

fn assert_rejected(transaction: Transaction, code: &str, source: &str) {
    let error = transaction.validate().expect_err(code);
    assert_eq!(error.code.as_str(), code, "{error:?}");
    assert_eq!(error.source.as_deref(), Some(source), "{error:?}");
}

fn sub() -> Transaction {
    subscription("t2", "t1", 10 * DAY, 40 * DAY)
}

fn with(mut transaction: Transaction, edit: impl FnOnce(&mut Transaction)) -> Transaction {
    edit(&mut transaction);
    transaction
}

#[test]
fn valid_transactions_pass() {
    let cases = [
        sub(),
        with(sub(), |t| {
            t.originally_purchased_at = ts(0);
            t.renew_status = false;
            t.renew_status_changed_at = Some(ts(20 * DAY));
            t.billing_issue_detected_at = Some(ts(39 * DAY));
            t.grace_period_expires_at = t.expires_at; // equal to expires_at is allowed
        }),
        with(sub(), |t| {
            t.price.value = 0.0;
            t.offer = offer(OfferCategory::Introductory, OfferType::FreeTrial, None);
        }),
        with(sub(), |t| {
            t.is_family_shared = true;
            t.price.value = 0.0;
        }),
        with(one_time("pi_1", 0), |t| {
            t.offer = offer(OfferCategory::Promotional, OfferType::PayUpFront, Some("x"));
        }),
        with(one_time("pi_2", 0), |t| {
            t.refunded_at = Some(ts(DAY));
            t.cancellation_reason = Some(CancellationReason::Refund);
        }),
        one_time(&"é".repeat(50), 0), // the limit counts characters, not bytes
    ];
    for transaction in cases {
        assert_eq!(transaction.validate(), Ok(()), "{transaction:#?}");
    }
}

/// One test per rule: the valid `$base`, edited by `$edit`, is refused with `$code` at `$source`.
macro_rules! rejects {
    ($($name:ident: $code:literal at $source:literal, $base:expr, |$t:ident| $edit:block)+) => {$(
        #[test]
        fn $name() {
            let mut $t = $base;
            $edit
            assert_rejected($t, $code, $source);
        }
    )+};
}

rejects! {
    expires_date_error: "expires_date_error" at "expires_at", sub(), |t| { t.expires_at = Some(t.purchased_at) }
    originally_purchased_date_error: "originally_purchased_date_error" at "originally_purchased_at", sub(), |t| {
        t.originally_purchased_at = ts(11 * DAY)
    }
    renew_status_changed_date_error: "renew_status_changed_date_error" at "renew_status_changed_at", sub(), |t| {
        t.renew_status_changed_at = Some(ts(10 * DAY))
    }
    billing_issue_detected_at_date_comparison_error:
        "billing_issue_detected_at_date_comparison_error" at "billing_issue_detected_at", sub(), |t| {
        t.billing_issue_detected_at = Some(ts(DAY))
    }
    grace_period_billing_error: "grace_period_billing_error" at "grace_period_billing_error", sub(), |t| {
        t.grace_period_expires_at = Some(ts(45 * DAY))
    }
    grace_period_expires_date_error: "grace_period_expires_date_error" at "grace_period_expires_at", sub(), |t| {
        t.billing_issue_detected_at = Some(ts(39 * DAY));
        t.grace_period_expires_at = Some(ts(39 * DAY));
    }
    refund_date_error: "refund_date_error" at "refunded_at", sub(), |t| {
        t.refunded_at = Some(t.purchased_at);
        t.cancellation_reason = Some(CancellationReason::Refund);
    }
    refund_fields_error_refunded_at_without_refund_reason: "refund_fields_error" at "refunded_at", sub(), |t| {
        t.refunded_at = Some(ts(12 * DAY));
        t.cancellation_reason = Some(CancellationReason::VoluntarilyCancelled);
    }
    refund_fields_error_reason_without_refunded_at: "refund_fields_error" at "refunded_at", sub(), |t| {
        t.cancellation_reason = Some(CancellationReason::Refund)
    }
    family_share_price_error: "family_share_price_error" at "is_family_shared", sub(), |t| { t.is_family_shared = true }
    free_trial_price_error: "free_trial_price_error" at "offer.type", sub(), |t| {
        t.offer = offer(OfferCategory::Introductory, OfferType::FreeTrial, None)
    }
    store_transaction_id_error: "store_transaction_id_error" at "store_transaction_id", one_time("pi_2", 0), |t| {
        t.store_original_transaction_id = "pi_1".into()
    }
    one_time_purchase_trial_error: "one_time_purchase_trial_error" at "offer.type", one_time("pi_1", 0), |t| {
        t.price.value = 0.0;
        t.offer = offer(OfferCategory::Introductory, OfferType::FreeTrial, None);
    }
    store_transaction_id_over_50_characters: "validation_error" at "store_transaction_id", one_time("pi_1", 0), |t| {
        t.store_transaction_id = "x".repeat(51);
        t.store_original_transaction_id = "x".repeat(51);
    }
}

#[test]
fn missing_offer_id() {
    use OfferCategory::{OfferCode, Promotional, WinBack};
    for category in [Promotional, OfferCode, WinBack] {
        let mut t = sub();
        t.offer = offer(category, OfferType::PayAsYouGo, None);
        assert_rejected(t, "missing_offer_id", "offer.category");
    }
}

// ---------------------------------------------------------------- access derivation

#[test]
fn one_access_level_per_chain_from_its_latest_transaction() {
    let mut a2 = subscription("a2", "a1", 30 * DAY, 60 * DAY);
    a2.originally_purchased_at = ts(0);
    let a = chain_of(vec![subscription("a1", "a1", 0, 30 * DAY), a2]);
    let b = chain_for("pro", vec![one_time("b1", 5 * DAY)]);
    let view = view(&[(&a, true, true), (&b, true, true)], &[]);
    let levels = view.access_levels(ts(31 * DAY));
    let ids: Vec<_> = levels
        .iter()
        .map(|c| (c.access_level_id.as_str(), c.store_transaction_id.as_str()))
        .collect();
    assert_eq!(ids, [("premium", "a2"), ("pro", "b1")]);
    assert_eq!(levels[0].source, AccessSource::Chain(key("a1")));
    assert_eq!(view.active_levels(ts(31 * DAY)), ["premium", "pro"]);
}

#[test]
fn a_renewal_replaces_the_earlier_transaction() {
    let mut chain = chain_of(vec![subscription("t1", "t1", 0, 30 * DAY)]);
    let mut renewal = subscription("t2", "t1", 30 * DAY, 60 * DAY);
    renewal.originally_purchased_at = ts(0);
    let upsert = receive(&mut chain, "premium", renewal, 30 * DAY);
    assert_eq!(upsert, Upsert::New);
    let view = owned(&chain, &[]);
    let access = single_level(&view, 45 * DAY);
    assert_eq!(access.store_transaction_id, "t2");
    assert_eq!(access.store_original_transaction_id, "t1");
    assert_eq!(access.purchased_at, ts(30 * DAY));
    assert_eq!(access.originally_purchased_at, ts(0));
    assert_eq!(access.expires_at, Some(ts(60 * DAY)));
    assert!(access.is_active(ts(45 * DAY)));
    assert_eq!(view.subscriptions.len(), 1);
    assert_eq!(view.subscriptions[0].transaction.store_transaction_id, "t2");
    assert_eq!(view.subscriptions[0].originally_purchased_at, ts(0));
}

fn in_grace() -> Chain {
    let mut t = subscription("t1", "t1", 0, 30 * DAY);
    t.billing_issue_detected_at = Some(ts(29 * DAY));
    t.grace_period_expires_at = Some(ts(36 * DAY));
    chain_of(vec![t])
}

#[test]
fn grace_period_extends_access_to_its_end() {
    let access = single_level(&owned(&in_grace(), &[]), 32 * DAY);
    assert!(access.is_in_grace_period(ts(32 * DAY)));
    assert_eq!(access.expires_at, Some(ts(30 * DAY)));
    let effective = access.effective_expires_at(ts(32 * DAY));
    assert_eq!(effective, Some(ts(36 * DAY)));
    assert!(access.is_active(ts(32 * DAY)));
    assert!(!access.is_in_grace_period(ts(36 * DAY)));
    assert!(!access.is_active(ts(36 * DAY)));
}

#[test]
fn cancelled_renewal_stays_active_until_expiry() {
    let mut t = subscription("t1", "t1", 0, 30 * DAY);
    t.renew_status = false;
    t.renew_status_changed_at = Some(ts(10 * DAY));
    let access = single_level(&owned(&chain_of(vec![t.clone()]), &[]), 20 * DAY);
    assert_eq!(access.renewal_cancelled_at, Some(ts(10 * DAY)));
    assert!(!access.will_renew);
    assert!(access.is_active(ts(20 * DAY)) && !access.is_active(ts(30 * DAY)));
    // Switching auto-renew back on resets renewal_cancelled_at to null.
    t.renew_status = true;
    t.renew_status_changed_at = Some(ts(15 * DAY));
    let access = single_level(&owned(&chain_of(vec![t]), &[]), 20 * DAY);
    assert_eq!(access.renewal_cancelled_at, None);
}

#[test]
fn a_refund_ends_access_at_refunded_at() {
    let mut t = subscription("t1", "t1", 0, 30 * DAY);
    t.refunded_at = Some(ts(5 * DAY));
    t.cancellation_reason = Some(CancellationReason::Refund);
    t.billing_issue_detected_at = Some(ts(DAY));
    t.grace_period_expires_at = Some(ts(40 * DAY));
    let mut lifetime = one_time("pi_1", 0);
    lifetime.refunded_at = Some(ts(5 * DAY));
    lifetime.cancellation_reason = Some(CancellationReason::Refund);
    let (subs, once) = (chain_of(vec![t]), chain_for("pro", vec![lifetime]));
    let view = view(&[(&subs, true, true), (&once, true, true)], &[]);
    assert_eq!(view.access_levels(ts(6 * DAY)).len(), 2);
    for access in view.access_levels(ts(6 * DAY)) {
        assert_eq!(access.expires_at, Some(ts(5 * DAY)), "{access:#?}");
        assert!(access.is_refund && !access.is_lifetime && !access.will_renew);
        assert_eq!(access.cancellation_reason, Some(CancellationReason::Refund));
        assert!(!access.is_in_grace_period(ts(6 * DAY)));
        assert!(access.is_active(ts(4 * DAY)) && !access.is_active(ts(6 * DAY)));
    }
    assert_eq!(view.total_revenue_usd, 0.0);
    assert!(view.non_subscriptions[0].transaction.is_refunded());
}

#[test]
fn a_one_time_purchase_is_lifetime_access() {
    let view = owned(&chain_of(vec![one_time("pi_1", 0)]), &[]);
    let access = single_level(&view, 10_000 * DAY);
    assert_eq!(access.expires_at, None);
    assert!(access.is_lifetime && access.is_active(ts(10_000 * DAY)));
    assert!(view.subscriptions.is_empty());
    assert_eq!(view.non_subscriptions.len(), 1);
    assert_eq!(view.non_subscriptions[0].purchase_id, uuid::Uuid::nil());
}

#[test]
fn a_grant_starting_in_the_future_is_not_active_yet() {
    let view = derive_view(&[], &[grant(Some(10 * DAY), None, 0)]);
    let access = single_level(&view, 5 * DAY);
    assert_eq!(access.starts_at, Some(ts(10 * DAY)));
    assert_eq!(access.store, GRANT_STORE);
    assert_eq!(access.store_product_id, GRANT_PRODUCT_ID);
    assert!(!access.is_active(ts(5 * DAY)));
    assert!(view.active_levels(ts(5 * DAY)).is_empty());
    assert_eq!(view.active_levels(ts(10 * DAY)), ["premium"]);
}

#[test]
fn total_revenue_stays_a_number_when_stored_prices_are_beyond_the_bound() {
    // Rows stored before prices were bounded may hold any finite price.
    let mut huge = one_time("h1", DAY);
    huge.price = price("USD", 1e308);
    let mut huger = one_time("h2", DAY);
    huger.price = price("USD", 1.5e308);
    let (a, b) = (chain_of(vec![huge]), chain_for("pro", vec![huger]));
    let view = view(&[(&a, true, true), (&b, true, true)], &[]);
    assert_eq!(view.total_revenue_usd, f64::MAX);

    let mut large = one_time("l1", DAY);
    large.price = price("USD", 1e307);
    let view = self::view(&[(&chain_of(vec![large]), true, true)], &[]);
    assert_eq!(view.total_revenue_usd, 1e307);
}

#[test]
fn a_price_is_validated_between_0_and_the_bound() {
    for (value, ok) in [
        (0.0, true),
        (transaction::MAX_PRICE, true),
        (-0.01, false),
        (1.01e15, false),
    ] {
        let mut transaction = one_time("p1", DAY);
        transaction.price = price("USD", value);
        let checked = transaction.validate();
        assert_eq!(checked.is_ok(), ok, "{value}: {checked:?}");
        if let Err(error) = checked {
            assert_eq!(error.source.as_deref(), Some("price.value"));
        }
    }
}

#[test]
fn revenue_counts_owned_usd_transactions_that_were_not_refunded() {
    let mut a3 = subscription("a3", "a1", 60 * DAY, 90 * DAY);
    a3.refunded_at = Some(ts(61 * DAY));
    a3.cancellation_reason = Some(CancellationReason::Refund);
    let a = chain_of(vec![
        subscription("a1", "a1", 0, 30 * DAY),
        subscription("a2", "a1", 30 * DAY, 60 * DAY),
        a3,
    ]);
    let mut eur = one_time("b1", DAY);
    eur.price = price("EUR", 49.0);
    let b = chain_for("pro", vec![eur]);
    let c = chain_for("family", vec![one_time("c1", DAY)]); // shared with us: not our revenue
    let view = view(
        &[(&a, true, true), (&b, true, true), (&c, false, true)],
        &[],
    );
    assert_eq!(view.total_revenue_usd, 19.98);
    assert_eq!(view.subscriptions.len(), 1);
    assert_eq!(view.non_subscriptions.len(), 1);
    let levels = view.access_levels(ts(2 * DAY));
    let levels: Vec<_> = levels.iter().map(|c| &c.store_transaction_id).collect();
    assert_eq!(levels, ["c1", "a3", "b1"]); // family, premium, pro
    // A grant adds access, never revenue.
    assert_eq!(owned(&a, &[grant(None, None, 0)]).total_revenue_usd, 19.98);
}

#[test]
fn an_owned_chain_without_access_is_still_listed() {
    let chain = chain_of(vec![subscription("t1", "t1", 0, 30 * DAY)]);
    let view = view(&[(&chain, true, false)], &[]);
    assert!(view.candidates.is_empty());
    assert!(view.access_levels(ts(DAY)).is_empty());
    assert_eq!(view.subscriptions.len(), 1);
    assert_eq!(view.total_revenue_usd, 9.99);
}

// ---------------------------------------------------------------- grants and revokes

#[test]
fn revoking_a_lifetime_grant_now_ends_it_now() {
    let granted = grant(None, None, 0);
    let current = single_level(&derive_view(&[], std::slice::from_ref(&granted)), 10 * DAY);
    assert!(current.is_lifetime && current.is_active(ts(10 * DAY)));
    let revoked = revoke(Some(granted), Some(&current), None, 10 * DAY).unwrap();
    let access = single_level(&derive_view(&[], &[revoked]), 10 * DAY);
    assert_eq!(access.expires_at, Some(ts(10 * DAY)));
    let adapty_revoked = Some(CancellationReason::AdaptyRevoked);
    assert_eq!(access.cancellation_reason, adapty_revoked);
    assert_eq!(access.renewal_cancelled_at, Some(ts(10 * DAY)));
    assert!(!access.is_lifetime && !access.is_active(ts(10 * DAY)));
}

/// Spec §5.7: "Immediate revoke sets the access level's expiry to now; a future `revoke_at`
/// shortens it." During a grace period the current expiry is the grace end, so a `revoke_at`
/// inside the grace period is accepted and must be where the access ends.
#[test]
fn a_revoke_during_a_grace_period_ends_access_at_revoke_at() {
    let chain = in_grace();
    let current = single_level(&owned(&chain, &[]), 32 * DAY);
    let later =
        revoke(None, Some(&current), Some(34 * DAY), 32 * DAY).expect("within the grace period");
    let access = single_level(&owned(&chain, &[later]), 33 * DAY);
    assert_eq!(access.expires_at, Some(ts(34 * DAY)));
    assert!(access.is_active(ts(33 * DAY)));
    let now = revoke(None, Some(&current), None, 32 * DAY).unwrap();
    let access = single_level(&owned(&chain, &[now]), 32 * DAY);
    assert_eq!(access.expires_at, Some(ts(32 * DAY)));
}

#[test]
fn revoking_access_that_has_not_begun_ends_it_where_it_would_begin() {
    let future = grant(Some(10 * DAY), None, 0);
    let current = single_level(&derive_view(&[], std::slice::from_ref(&future)), DAY);
    let revoked = revoke(Some(future), Some(&current), None, DAY).unwrap();
    let access = single_level(&derive_view(&[], &[revoked]), 2 * DAY);
    assert_eq!(access.starts_at, Some(ts(10 * DAY)));
    assert_eq!(access.expires_at, Some(ts(10 * DAY)));
    for at in [2 * DAY, 10 * DAY, 20 * DAY] {
        assert!(!access.is_active(ts(at)), "{at}");
    }
}

#[test]
fn revoke_at_must_be_in_the_future() {
    let current = single_level(&derive_view(&[], &[grant(None, None, 0)]), 10 * DAY);
    for at in [DAY, 10 * DAY] {
        let refused = revoke(None, Some(&current), Some(at), 10 * DAY);
        assert_eq!(refused, Err(OverrideError::RevokeNotInFuture));
    }
}

#[test]
fn revoke_at_may_shorten_but_not_pass_the_current_expiry() {
    let chain = chain_of(vec![subscription("t1", "t1", 0, 30 * DAY)]);
    let current = single_level(&owned(&chain, &[]), DAY);
    let refused = revoke(None, Some(&current), Some(31 * DAY), DAY);
    let expected = OverrideError::RevokeAfterExpiry {
        revoke_at: ts(31 * DAY),
        expires_at: ts(30 * DAY),
    };
    assert_eq!(refused, Err(expected));
    assert!(revoke(None, Some(&current), Some(30 * DAY), DAY).is_ok());
    let shortened = revoke(None, Some(&current), Some(20 * DAY), DAY).unwrap();
    let access = single_level(&owned(&chain, &[shortened]), 10 * DAY);
    assert_eq!(access.expires_at, Some(ts(20 * DAY)));
    assert!(access.is_active(ts(10 * DAY)) && !access.is_active(ts(20 * DAY)));
}

#[test]
fn revoking_a_level_the_profile_does_not_have() {
    let missing = Err(OverrideError::ProfileHasNoSuchAccessLevel);
    assert_eq!(revoke(None, None, None, DAY), missing);
    let expired = single_level(&derive_view(&[], &[grant(None, Some(DAY), 0)]), 2 * DAY);
    assert_eq!(revoke(None, Some(&expired), None, 2 * DAY), missing);
}

#[test]
fn a_later_chain_transaction_supersedes_a_revoke() {
    let mut chain = chain_of(vec![subscription("t1", "t1", 0, 30 * DAY)]);
    let current = single_level(&owned(&chain, &[]), 10 * DAY);
    let overrides = [revoke(None, Some(&current), None, 10 * DAY).unwrap()];
    let access = single_level(&owned(&chain, &overrides), 15 * DAY);
    assert_eq!(access.expires_at, Some(ts(10 * DAY)));
    assert!(!access.is_active(ts(15 * DAY)));
    // A restore re-sends the chain after the revoke: the access returns.
    let mut restored = subscription("t2", "t1", 20 * DAY, 50 * DAY);
    restored.originally_purchased_at = ts(0);
    receive(&mut chain, "premium", restored, 20 * DAY);
    let access = single_level(&owned(&chain, &overrides), 21 * DAY);
    assert_eq!(access.store_transaction_id, "t2");
    assert_eq!(access.expires_at, Some(ts(50 * DAY)));
    assert_eq!(access.cancellation_reason, None);
    assert!(access.is_active(ts(21 * DAY)));
}

#[test]
fn re_granting_keeps_the_grant_id_and_lifts_an_earlier_revoke() {
    let first = grant(None, None, 0);
    let current = single_level(&derive_view(&[], std::slice::from_ref(&first)), DAY);
    let revoked = revoke(Some(first), Some(&current), None, DAY).unwrap();
    let request = GrantRequest {
        access_level_id: AccessLevelId::premium(),
        starts_at: None,
        expires_at: Some(ts(90 * DAY)),
    };
    let again = apply_grant(
        Some(revoked),
        &request,
        || unreachable!("the grant id is reused"),
        ts(2 * DAY),
    );
    let access = single_level(&derive_view(&[], &[again]), 3 * DAY);
    assert_eq!(
        (
            access.store_transaction_id.as_str(),
            access.store_original_transaction_id.as_str()
        ),
        ("grant-1", "grant-1")
    );
    assert_eq!(access.expires_at, Some(ts(90 * DAY)));
    assert_eq!(access.cancellation_reason, None);
    assert!(access.is_active(ts(3 * DAY)));
}

#[test]
fn granting_the_same_window_again_changes_nothing_unless_it_was_revoked() {
    let first = grant(None, Some(90 * DAY), 0);
    let request = GrantRequest {
        access_level_id: AccessLevelId::premium(),
        starts_at: None,
        expires_at: Some(ts(90 * DAY)),
    };
    let new_id = || unreachable!("the grant id is reused");
    let again = apply_grant(Some(first.clone()), &request, new_id, ts(DAY));
    assert_eq!(again, first, "the same window, unrevoked: nothing changes");

    let longer = GrantRequest {
        expires_at: Some(ts(120 * DAY)),
        ..request.clone()
    };
    let extended = apply_grant(Some(first.clone()), &longer, new_id, ts(DAY));
    let made_at = extended.grant.as_ref().map(|g| g.granted_at);
    assert_eq!(made_at, Some(ts(DAY)), "a new window is a new grant");

    let current = single_level(&derive_view(&[], std::slice::from_ref(&first)), DAY);
    let revoked = revoke(Some(first), Some(&current), None, DAY).unwrap();
    let restored = apply_grant(Some(revoked), &request, new_id, ts(2 * DAY));
    assert_eq!(
        restored.grant.as_ref().map(|g| g.granted_at),
        Some(ts(2 * DAY))
    );
    let access = single_level(&derive_view(&[], &[restored]), 3 * DAY);
    assert!(
        access.is_active(ts(3 * DAY)),
        "granting again lifts the revoke"
    );
}

// ---------------------------------------------------------------- properties

/// (level, starts_at, expires_at, grace period length past expires_at, asserted_at).
type CandidateParts = (usize, Option<i64>, Option<i64>, Option<i64>, i64);

/// A candidate shaped like validated data: a grace period only on a dated candidate, ending at
/// or after its expiry.
fn candidate((lvl, starts, expires, grace, asserted): CandidateParts) -> AccessCandidate {
    let request = GrantRequest {
        access_level_id: level(["a", "b", "c"][lvl]),
        starts_at: starts.map(ts),
        expires_at: expires.map(ts),
    };
    let mut candidate = apply_grant(None, &request, || format!("g{asserted}"), ts(asserted))
        .grant_candidate()
        .unwrap();
    let grace_end = expires
        .zip(grace)
        .map(|(expires, extra)| ts(expires + extra));
    candidate.billing_issue_detected_at = grace_end.map(|_| ts(0));
    candidate.grace_period_expires_at = grace_end;
    candidate
}

fn candidate_parts() -> impl Strategy<Value = CandidateParts> {
    let at = || option::of(0i64..100);
    (0usize..3, at(), at(), option::of(0i64..20), 0i64..100)
}

/// `a` is at or after `b`, `None` being infinitely late.
fn later_or_equal(a: Option<Timestamp>, b: Option<Timestamp>) -> bool {
    match (a, b) {
        (None, _) => true,
        (Some(_), None) => false,
        (Some(a), Some(b)) => a >= b,
    }
}

proptest! {
    #[test]
    fn best_per_level_picks_one_active_longest_candidate_per_level(
        parts in proptest::collection::vec(candidate_parts(), 0..12),
        now in 0i64..120,
    ) {
        let candidates: Vec<_> = parts.into_iter().map(candidate).collect();
        let now = ts(now);
        let best = best_per_level(&candidates, now);
        let present: BTreeSet<_> = candidates.iter().map(|c| c.access_level_id.clone()).collect();
        let chosen: Vec<_> = best.iter().map(|c| c.access_level_id.clone()).collect();
        prop_assert_eq!(chosen, present.into_iter().collect::<Vec<_>>());
        for pick in &best {
            prop_assert!(candidates.contains(pick));
            let active = candidates.iter().filter(|c| c.access_level_id == pick.access_level_id && c.is_active(now));
            for rival in active {
                prop_assert!(pick.is_active(now));
                let (mine, theirs) = (pick.effective_expires_at(now), rival.effective_expires_at(now));
                prop_assert!(later_or_equal(mine, theirs), "{:?} lasts longer than {:?}", rival, pick);
            }
        }
    }

    #[test]
    fn restrict_never_extends_an_expiry(
        parts in candidate_parts(),
        same_level in any::<bool>(),
        revoke_at in 0i64..120,
        revoked_at in 0i64..120,
    ) {
        let mut candidate = candidate(parts);
        let before = candidate.clone();
        let access_level_id = if same_level { before.access_level_id.clone() } else { level("other") };
        let revoke = Revoke { revoke_at: ts(revoke_at), revoked_at: ts(revoked_at) };
        AccessOverride { access_level_id, grant: None, revoke: Some(revoke) }.restrict(&mut candidate);
        // Judged at the moment the revoke was made, the expiry in force never grows; and at no
        // moment does the restricted candidate give access the original did not.
        prop_assert!(later_or_equal(
            before.effective_expires_at(ts(revoked_at)),
            candidate.effective_expires_at(ts(revoked_at))
        ));
        for now in [0, revoke_at, revoked_at, 119].map(ts) {
            prop_assert!(before.is_active(now) || !candidate.is_active(now));
        }
        if !same_level || before.asserted_at > ts(revoked_at) {
            prop_assert_eq!(candidate, before);
        } else {
            prop_assert!(!candidate.is_active(ts(revoke_at)));
        }
    }

    #[test]
    fn derive_view_revenue_is_never_negative_and_counts_owned_chains_only(
        chains in proptest::collection::vec(
            (proptest::collection::vec((0i64..100, 0u32..10_000, any::<bool>(), any::<bool>()), 1..5), any::<bool>(), any::<bool>()),
            0..5,
        ),
    ) {
        let mut built = Vec::new();
        let mut expected_cents = 0u64;
        for (i, (txns, owned, has_access)) in chains.iter().enumerate() {
            let original = format!("o{i}");
            let mut transactions = Vec::new();
            for (j, &(at, cents, usd, refunded)) in txns.iter().enumerate() {
                let mut t = subscription(&format!("o{i}-{j}"), &original, at * DAY, (at + 30) * DAY);
                t.price = price(if usd { "USD" } else { "EUR" }, f64::from(cents) / 100.0);
                if refunded {
                    t.refunded_at = Some(ts(at * DAY + 1));
                    t.cancellation_reason = Some(CancellationReason::Refund);
                }
                if *owned && usd && !refunded {
                    expected_cents += u64::from(cents);
                }
                transactions.push(t);
            }
            built.push((chain_of(transactions), *owned, *has_access));
        }
        let entries: Vec<_> = built.iter().map(|(chain, owned, has_access)| (chain, *owned, *has_access)).collect();
        let view = view(&entries, &[]);
        prop_assert!(view.total_revenue_usd >= 0.0);
        prop_assert!((view.total_revenue_usd - expected_cents as f64 / 100.0).abs() < 0.005);
        prop_assert_eq!(view.subscriptions.len(), built.iter().filter(|b| b.1).count());
        prop_assert_eq!(view.candidates.len(), built.iter().filter(|b| b.2).count());
    }
}

#[test]
fn a_trial_sent_without_an_offer_shows_the_same_offer_in_subscriptions_and_access_levels() {
    let trial = chain_of(vec![Transaction {
        price: price("USD", 0.0),
        ..subscription("t-1", "t-1", 0, 10)
    }]);
    let view = owned(&trial, &[]);
    let implied = Some(Offer::implied_free_trial());
    assert_eq!(view.subscriptions[0].transaction.offer, implied);
    assert_eq!(single_level(&view, 1).offer, implied);

    let renewed = chain_of(vec![
        Transaction {
            price: price("USD", 0.0),
            ..subscription("t-1", "t-1", 0, 10)
        },
        subscription("t-2", "t-1", 10, 20),
    ]);
    let view = owned(&renewed, &[]);
    assert_eq!(
        view.subscriptions[0].transaction.offer, None,
        "a paid renewal"
    );
    assert_eq!(single_level(&view, 11).offer, None);
}

#[test]
fn a_google_base_plan_is_read_from_the_product_id_also_of_a_view_stored_without_it() {
    let on_play = |product: &str| Transaction {
        store: StoreId::parse("play_store").unwrap(),
        store_product_id: product.to_owned(),
        ..subscription("p-1", "p-1", 0, 10)
    };
    let view = owned(&chain_of(vec![on_play("pro.sub:monthly")]), &[]);
    let mut level = single_level(&view, 1);
    assert_eq!(level.base_plan_id(), Some("monthly"));
    level.store_base_plan_id = None;
    assert_eq!(
        level.base_plan_id(),
        Some("monthly"),
        "a view stored before"
    );
    for product in ["pro.sub", "pro.sub:", ":monthly"] {
        assert_eq!(on_play(product).base_plan_id(), None, "{product}");
    }
    let elsewhere = Transaction {
        store_product_id: "pro.sub:monthly".to_owned(),
        ..subscription("a-1", "a-1", 0, 10)
    };
    assert_eq!(
        elsewhere.base_plan_id(),
        None,
        "only Google Play has base plans"
    );
}

#[test]
fn a_chain_counts_a_free_first_subscription_as_a_trial_and_a_free_renewal_as_none() {
    let free = |t: Transaction| Transaction {
        price: price("USD", 0.0),
        ..t
    };
    let chain = chain_of(vec![
        free(subscription("t-1", "t-1", 0, 10)),
        subscription("t-2", "t-1", 10, 20),
        free(subscription("t-3", "t-1", 20, 30)),
    ]);
    let trials: Vec<bool> = chain
        .transactions
        .iter()
        .map(|t| chain.is_trial(t))
        .collect();
    assert_eq!(trials, [true, false, false]);

    let family = chain_of(vec![Transaction {
        is_family_shared: true,
        ..free(subscription("f-1", "f-1", 0, 10))
    }]);
    assert!(!family.is_trial(&family.transactions[0]));
    let discounted = chain_of(vec![Transaction {
        offer: offer(OfferCategory::Promotional, OfferType::PayUpFront, Some("p")),
        ..free(subscription("d-1", "d-1", 0, 10))
    }]);
    assert!(!discounted.is_trial(&discounted.transactions[0]));
    let offered = chain_of(vec![
        subscription("o-1", "o-1", 0, 10),
        Transaction {
            offer: offer(OfferCategory::Introductory, OfferType::FreeTrial, None),
            ..free(subscription("o-2", "o-1", 10, 20))
        },
    ]);
    assert!(
        offered.is_trial(&offered.transactions[1]),
        "a free_trial offer is a trial anywhere"
    );
}
