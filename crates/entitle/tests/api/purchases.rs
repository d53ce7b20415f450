//! Set transaction, grant and revoke over HTTP (spec §5.5–5.7): responses, derived fields and
//! every documented error code.

use reqwest::Method;
use serde_json::{Value, json};

use crate::feed::with;
use crate::helpers::*;

#[tokio::test]
async fn a_subscription_and_a_one_time_purchase() {
    let server = TestServer::start().await;
    server.create_profile("buyer").await;
    let body = subscription(
        "t-1",
        "t-1",
        "2026-01-10T12:00:00Z",
        "2099-02-10T12:00:00+0000",
    );
    let (status, answer) = server.set_transaction("buyer", &body).await;
    assert_eq!(status, 200, "{answer}");
    insta::assert_json_snapshot!("set_transaction_subscription", redacted(&answer));

    let (status, answer) = server
        .set_transaction(
            "buyer",
            &one_time("pi_1", "2026-01-11T09:30:00.461425+00:00"),
        )
        .await;
    assert_eq!(status, 200, "{answer}");
    let data = &answer["data"];
    assert_eq!(data["total_revenue_usd"], 58.99);
    assert_eq!(data["subscriptions"].as_array().unwrap().len(), 1);
    let purchase = &data["non_subscriptions"][0];
    assert_eq!(purchase["store_transaction_id"], "pi_1");
    assert_eq!(purchase["is_refund"], false);
    assert_eq!(purchase["environment"], "Production");
    assert_eq!(purchase["purchased_at"], "2026-01-11T09:30:00.461425+00:00");
    assert!(uuid::Uuid::parse_str(purchase["purchase_id"].as_str().unwrap()).is_ok());
    // Both map to `premium` (no products configured); one access level entry.
    assert_eq!(active_levels(&answer), vec!["premium"]);
    assert_eq!(data["access_levels"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn renewals_and_updates_in_place() {
    let server = TestServer::start().await;
    server.create_profile("renews").await;
    let first = subscription("r-1", "r-1", &days_from_now(-40), &days_from_now(-10));
    server.set_transaction("renews", &first).await;
    let (_, expired) = send(server.profile(Method::GET, "renews")).await;
    assert!(
        active_levels(&expired).is_empty(),
        "the first period has ended"
    );

    // A new transaction id in the chain is a renewal: the chain's latest transaction governs.
    let renewal = with(
        subscription("r-2", "r-1", &days_from_now(-10), &days_from_now(20)),
        json!({"originally_purchased_at": days_from_now(-40)}),
    );
    let (_, renewed) = server.set_transaction("renews", &renewal).await;
    assert_eq!(active_levels(&renewed), vec!["premium"]);
    let subscriptions = renewed["data"]["subscriptions"].as_array().unwrap();
    assert_eq!(subscriptions.len(), 1, "one entry per chain");
    assert_eq!(subscriptions[0]["store_transaction_id"], "r-2");
    assert_eq!(renewed["data"]["total_revenue_usd"], 19.98);

    // Re-sending a known transaction id updates it in place: auto-renew off.
    let cancel_at = days_from_now(-1);
    let update = with(
        renewal.clone(),
        json!({"renew_status": false, "renew_status_changed_at": cancel_at}),
    );
    let (_, cancelled) = server.set_transaction("renews", &update).await;
    let level = &cancelled["data"]["access_levels"][0];
    assert_eq!(
        level["renewal_cancelled_at"]
            .as_str()
            .and_then(entitle_domain::datetime::Timestamp::parse),
        entitle_domain::datetime::Timestamp::parse(&cancel_at)
    );
    assert_eq!(
        active_levels(&cancelled),
        vec!["premium"],
        "access lasts until the period ends"
    );
    assert_eq!(
        cancelled["data"]["total_revenue_usd"], 19.98,
        "an update is not a new charge"
    );

    // Billing issue with a grace period: still active, in grace, expiry shown as the grace end.
    let grace_end = days_from_now(25);
    let billing = with(
        renewal.clone(),
        json!({"expires_at": days_from_now(-1), "billing_issue_detected_at": days_from_now(-2), "grace_period_expires_at": grace_end}),
    );
    let (status, in_grace) = server.set_transaction("renews", &billing).await;
    assert_eq!(status, 200, "{in_grace}");
    let level = &in_grace["data"]["access_levels"][0];
    assert_eq!(level["is_in_grace_period"], true);
    assert_eq!(active_levels(&in_grace), vec!["premium"]);

    // A refund ends the access.
    let refund = with(
        renewal,
        json!({"refunded_at": days_from_now(-1), "cancellation_reason": "refund"}),
    );
    let (_, refunded) = server.set_transaction("renews", &refund).await;
    assert!(active_levels(&refunded).is_empty());
    assert_eq!(
        refunded["data"]["access_levels"][0]["cancellation_reason"],
        "refund"
    );
    assert_eq!(
        refunded["data"]["total_revenue_usd"], 9.99,
        "refunds are subtracted"
    );
}

/// (changes to a valid subscription body, error_code, source)
fn transaction_errors() -> Vec<(Value, &'static str, Option<&'static str>)> {
    vec![
        (
            json!({"expires_at": "2026-01-01T00:00:00Z"}),
            "expires_date_error",
            Some("expires_at"),
        ),
        (
            json!({"originally_purchased_at": "2026-03-01T00:00:00Z"}),
            "originally_purchased_date_error",
            Some("originally_purchased_at"),
        ),
        (
            json!({"renew_status_changed_at": "2026-01-01T00:00:00Z"}),
            "renew_status_changed_date_error",
            Some("renew_status_changed_at"),
        ),
        (
            json!({"billing_issue_detected_at": "2026-01-01T00:00:00Z"}),
            "billing_issue_detected_at_date_comparison_error",
            Some("billing_issue_detected_at"),
        ),
        (
            json!({"grace_period_expires_at": "2026-04-01T00:00:00Z"}),
            "grace_period_billing_error",
            Some("grace_period_billing_error"),
        ),
        (
            json!({"billing_issue_detected_at": "2026-02-11T00:00:00Z", "grace_period_expires_at": "2026-02-12T00:00:00Z"}),
            "grace_period_expires_date_error",
            Some("grace_period_expires_at"),
        ),
        (
            json!({"refunded_at": "2026-01-01T00:00:00Z", "cancellation_reason": "refund"}),
            "refund_date_error",
            Some("refunded_at"),
        ),
        (
            json!({"refunded_at": "2026-02-20T00:00:00Z"}),
            "refund_fields_error",
            Some("refunded_at"),
        ),
        (
            json!({"cancellation_reason": "refund"}),
            "refund_fields_error",
            Some("refunded_at"),
        ),
        (
            json!({"is_family_shared": true}),
            "family_share_price_error",
            Some("is_family_shared"),
        ),
        (
            json!({"offer": {"category": "introductory", "type": "free_trial", "id": null}}),
            "free_trial_price_error",
            Some("offer.type"),
        ),
        (
            json!({"offer": {"category": "promotional", "type": "pay_up_front", "id": null}}),
            "missing_offer_id",
            Some("offer.category"),
        ),
        (
            json!({"store_transaction_id": "x".repeat(51)}),
            "validation_error",
            Some("store_transaction_id"),
        ),
        (
            json!({"purchased_at": "yesterday"}),
            "datetime",
            Some("purchased_at"),
        ),
        (
            json!({"expires_at": 12}),
            "validation_error",
            Some("expires_at"),
        ),
        (
            json!({"purchase_type": "rental"}),
            "enum",
            Some("purchase_type"),
        ),
        (
            json!({"environment": "production"}),
            "enum",
            Some("environment"),
        ),
        (
            json!({"cancellation_reason": "bored"}),
            "enum",
            Some("cancellation_reason"),
        ),
        (
            json!({"offer": {"category": "seasonal", "type": "pay_up_front", "id": "x"}}),
            "enum",
            Some("offer.category"),
        ),
        (
            json!({"offer": {"category": "promotional", "type": "gift", "id": "x"}}),
            "enum",
            Some("offer.type"),
        ),
        (
            json!({"price": {"country": "US", "currency": "USD"}}),
            "parse_error",
            Some("price.value"),
        ),
        (
            json!({"price": {"country": "USA", "currency": "USD", "value": 1}}),
            "validation_error",
            Some("price.country"),
        ),
        (
            json!({"price": {"country": "US", "currency": "USD", "value": "1"}}),
            "validation_error",
            Some("price.value"),
        ),
        (
            json!({"price": {"country": "US", "currency": "USD", "value": -1}}),
            "validation_error",
            Some("price.value"),
        ),
        (
            // Summed, prices like this once made the profile's total revenue infinite (null).
            json!({"price": {"country": "US", "currency": "USD", "value": 1e307}}),
            "validation_error",
            Some("price.value"),
        ),
        (json!({"price": 9.99}), "validation_error", Some("price")),
        (
            json!({"-store_transaction_id": null}),
            "parse_error",
            Some("store_transaction_id"),
        ),
        (
            json!({"-purchase_type": null}),
            "parse_error",
            Some("purchase_type"),
        ),
        (
            json!({"-expires_at": null}),
            "parse_error",
            Some("expires_at"),
        ),
        (
            json!({"-renew_status": null}),
            "parse_error",
            Some("renew_status"),
        ),
        (json!({"-price": null}), "parse_error", Some("price")),
        (
            json!({"renew_status": "yes"}),
            "validation_error",
            Some("renew_status"),
        ),
        (
            json!({"store_transaction_id": "a\u{0}b"}),
            "validation_error",
            Some("store_transaction_id"),
        ),
        (
            json!({"store_product_id": "pro\nmonthly"}),
            "validation_error",
            Some("store_product_id"),
        ),
    ]
}

#[tokio::test]
async fn every_transaction_rule_is_enforced() {
    let server = TestServer::start().await;
    server.create_profile("strict").await;
    let valid = subscription("v-1", "v-1", "2026-02-01T00:00:00Z", "2026-03-01T00:00:00Z");
    for (changes, code, source) in transaction_errors() {
        let body = with(valid.clone(), changes.clone());
        let (status, answer) = server.set_transaction("strict", &body).await;
        assert_error(status, &answer, 400, code);
        assert_eq!(error_source(&answer), source, "{changes} → {answer}");
    }
    // One-time purchase rules.
    let one = one_time("o-1", "2026-02-01T00:00:00Z");
    let cases = [
        (
            json!({"store_original_transaction_id": "o-0"}),
            "store_transaction_id_error",
            "store_transaction_id",
        ),
        (
            json!({"offer": {"category": "introductory", "type": "free_trial", "id": null}, "price": {"country": "US", "currency": "USD", "value": 0}}),
            "one_time_purchase_trial_error",
            "offer.type",
        ),
    ];
    for (changes, code, source) in cases {
        let (status, answer) = server
            .set_transaction("strict", &with(one.clone(), changes))
            .await;
        assert_error(status, &answer, 400, code);
        assert_eq!(error_source(&answer), Some(source));
    }
    let (_, answer) = server
        .set_transaction(
            "strict",
            &with(valid.clone(), json!({"expires_at": "2026-01-01T00:00:00Z"})),
        )
        .await;
    insta::assert_json_snapshot!("expires_date_error", answer);

    // Nothing was recorded by any rejected request; the valid one goes through.
    let (_, profile) = send(server.profile(Method::GET, "strict")).await;
    assert_eq!(profile["data"]["subscriptions"], json!([]));
    let (status, _) = server.set_transaction("strict", &valid).await;
    assert_eq!(status, 200);

    // A known transaction id cannot move to another chain.
    let moved = subscription(
        "v-1",
        "v-other",
        "2026-02-01T00:00:00Z",
        "2026-03-01T00:00:00Z",
    );
    let (status, answer) = server.set_transaction("strict", &moved).await;
    assert_error(status, &answer, 400, "validation_error");
    assert_eq!(error_source(&answer), Some("store_transaction_id"));

    // Unknown profile: 404 profile_does_not_exist.
    let (status, answer) = server.set_transaction("nobody", &valid).await;
    assert_error(status, &answer, 404, "profile_does_not_exist");
}

/// Spec §10: granting the same thing again is a no-op, and `access_level_updated` is sent only
/// on a change.
#[tokio::test]
async fn granting_the_same_window_again_changes_nothing() {
    let server = TestServer::start().await;
    let _receiver = server.listen_to_every_event().await;
    server.create_profile("regranted").await;
    let grant = |body: Value| {
        let server = &server;
        async move { server.post_for(GRANT, "regranted", &body).await }
    };
    let window = json!({"access_level_id": "premium", "expires_at": days_from_now(30)});
    let (status, first) = grant(window.clone()).await;
    assert_eq!(status, 200, "{first}");
    let (status, again) = grant(window).await;
    assert_eq!(status, 200, "{again}");
    assert_eq!(
        again["data"]["access_levels"], first["data"]["access_levels"],
        "the grant keeps the moment it was made"
    );
    let updates = server.feed("event_type=access_level_updated").await;
    assert_eq!(updates.len(), 1, "{updates:?}");

    let longer = json!({"access_level_id": "premium", "expires_at": days_from_now(60)});
    let (status, extended) = grant(longer).await;
    assert_eq!(status, 200, "{extended}");
    let level = &extended["data"]["access_levels"][0];
    assert_ne!(
        level["expires_at"],
        first["data"]["access_levels"][0]["expires_at"]
    );
    let updates = server.feed("event_type=access_level_updated").await;
    assert_eq!(updates.len(), 2, "a new window is a change: {updates:?}");
}

#[tokio::test]
async fn grant_and_revoke() {
    let server = TestServer::start().await;
    let profile_id = server.create_profile("granted").await;
    let api = &server;
    let grant = |body: Value| async move { api.post_for(GRANT, "granted", &body).await };
    let revoke = |body: Value| async move { api.post_for(REVOKE, "granted", &body).await };

    let (status, answer) = grant(json!({"access_level_id": "gold"})).await;
    assert_error(status, &answer, 400, "paid_access_level_does_not_exist");
    assert_eq!(
        answer["errors"][0]["errors"][0],
        "Paid access level `gold` does not exist"
    );
    assert_eq!(error_source(&answer), Some("non_field_errors"));

    let (status, answer) = revoke(json!({"access_level_id": "premium"})).await;
    assert_error(
        status,
        &answer,
        400,
        "profile_paid_access_level_does_not_exist",
    );
    assert_eq!(
        answer["errors"][0]["errors"][0],
        format!("Profile `{profile_id}` has no `premium` access level")
    );

    let (status, answer) = grant(json!({"access_level_id": "premium"})).await;
    assert_eq!(status, 200, "{answer}");
    let level = &answer["data"]["access_levels"][0];
    assert_eq!(level["store"], "adapty");
    assert_eq!(level["store_product_id"], "adapty_server_side_product");
    assert_eq!(level["expires_at"], Value::Null, "lifetime");
    assert_eq!(active_levels(&answer), vec!["premium"]);
    assert_eq!(
        answer["data"]["total_revenue_usd"], 0.0,
        "grants are not revenue"
    );

    let (status, answer) =
        revoke(json!({"access_level_id": "premium", "revoke_at": days_from_now(-1)})).await;
    assert_error(status, &answer, 400, "value_error");
    assert_eq!(error_source(&answer), Some("revoke_at"));
    assert_eq!(
        answer["errors"][0]["errors"][0],
        "Must be greater than the current time or null"
    );

    // A window: revoke_at past its end is refused.
    let (status, _) =
        grant(json!({"access_level_id": "premium", "expires_at": days_from_now(10)})).await;
    assert_eq!(status, 200);
    let (status, answer) =
        revoke(json!({"access_level_id": "premium", "revoke_at": days_from_now(20)})).await;
    assert_error(
        status,
        &answer,
        400,
        "revocation_date_more_than_expiration_date",
    );
    assert_eq!(error_source(&answer), Some("revoke_at"));
    let message = answer["errors"][0]["errors"][0].as_str().unwrap();
    assert!(
        message.starts_with("Revocation date (")
            && message.contains("is more than current expiration date"),
        "{message}"
    );

    // A future revoke shortens; an immediate one ends it now.
    let revoke_at = days_from_now(5);
    let (status, answer) =
        revoke(json!({"access_level_id": "premium", "revoke_at": revoke_at})).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(active_levels(&answer), vec!["premium"]);
    let (status, answer) = revoke(json!({"access_level_id": "premium"})).await;
    assert_eq!(status, 200);
    let level = &answer["data"]["access_levels"][0];
    assert_eq!(level["cancellation_reason"], "adapty_revoked");
    assert!(level["renewal_cancelled_at"].is_string());
    assert!(active_levels(&answer).is_empty(), "{answer}");
    insta::assert_json_snapshot!("revoked_grant", redacted_level(&answer));

    // A scheduled grant starts in the future.
    let (_, answer) =
        grant(json!({"access_level_id": "premium", "starts_at": days_from_now(3)})).await;
    assert!(active_levels(&answer).is_empty());
    assert!(answer["data"]["access_levels"][0]["starts_at"].is_string());

    // Unknown profile on grant and revoke: 404.
    for path in [GRANT, REVOKE] {
        let (status, answer) = send(
            server
                .request(Method::POST, path)
                .header("adapty-customer-user-id", "nobody")
                .json(&json!({"access_level_id": "premium"})),
        )
        .await;
        assert_error(status, &answer, 404, "profile_does_not_exist");
    }
    // Malformed bodies.
    let (status, answer) = grant(json!({"starts_at": "now"})).await;
    assert_error(status, &answer, 400, "parse_error");
    assert_eq!(error_source(&answer), Some("access_level_id"));
    let (status, answer) = grant(json!({"access_level_id": "premium", "expires_at": "soon"})).await;
    assert_error(status, &answer, 400, "datetime");
}

fn redacted_level(body: &Value) -> Value {
    let mut level = body["data"]["access_levels"][0].clone();
    for field in [
        "store_transaction_id",
        "store_original_transaction_id",
        "purchased_at",
        "originally_purchased_at",
        "expires_at",
        "renewal_cancelled_at",
    ] {
        level[field] = json!(format!("[{field}]"));
    }
    level
}

#[tokio::test]
async fn a_revoke_of_store_access_is_superseded_by_the_next_transaction() {
    let server = TestServer::start().await;
    server.create_profile("store-revoked").await;
    server
        .set_transaction(
            "store-revoked",
            &subscription("s-1", "s-1", &days_from_now(-1), &days_from_now(30)),
        )
        .await;
    let (status, answer) = send(
        server
            .request(Method::POST, REVOKE)
            .header("adapty-customer-user-id", "store-revoked")
            .json(&json!({"access_level_id": "premium"})),
    )
    .await;
    assert_eq!(status, 200);
    assert!(active_levels(&answer).is_empty());
    let renewal = with(
        subscription("s-2", "s-1", &days_from_now(0), &days_from_now(60)),
        json!({"originally_purchased_at": days_from_now(-1)}),
    );
    let (_, answer) = server.set_transaction("store-revoked", &renewal).await;
    assert_eq!(
        active_levels(&answer),
        vec!["premium"],
        "the store's next event brings access back"
    );
}
