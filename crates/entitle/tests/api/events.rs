//! Integration events: the exact sequences of spec §9.7 for purchases, grants, sharing and
//! expiry. What the feed holds and how it is read: `feed.rs`.

use entitle_domain::datetime::Timestamp;
use serde_json::{Value, json};

use crate::feed::{feed_once, new_events, with};
use crate::helpers::*;

#[tokio::test]
async fn subscription_lifecycle_events() {
    let server = TestServer::start().await;
    let _receiver = server.listen_to_every_event().await;
    server.create_profile("subscriber").await;
    let mut seen = 0;
    let first = subscription("s-1", "s-1", &days_from_now(-40), &days_from_now(-10));
    server.set_transaction("subscriber", &first).await;
    assert_eq!(
        new_events(&server, "", &mut seen).await,
        ["subscription_started", "access_level_updated"]
    );

    let renewal = with(
        subscription("s-2", "s-1", &days_from_now(-10), &days_from_now(20)),
        json!({"originally_purchased_at": days_from_now(-40)}),
    );
    server.set_transaction("subscriber", &renewal).await;
    assert_eq!(
        new_events(&server, "", &mut seen).await,
        ["subscription_renewed", "access_level_updated"]
    );

    // Re-sending the same transaction unchanged produces nothing.
    server.set_transaction("subscriber", &renewal).await;
    assert!(new_events(&server, "", &mut seen).await.is_empty());

    let cancelled = with(
        renewal.clone(),
        json!({"renew_status": false, "renew_status_changed_at": days_from_now(-1)}),
    );
    server.set_transaction("subscriber", &cancelled).await;
    assert_eq!(
        new_events(&server, "", &mut seen).await,
        ["subscription_renewal_cancelled", "access_level_updated"]
    );

    let reactivated = with(
        renewal.clone(),
        json!({"renew_status": true, "renew_status_changed_at": days_from_now(0)}),
    );
    server.set_transaction("subscriber", &reactivated).await;
    assert_eq!(
        new_events(&server, "", &mut seen).await,
        ["subscription_renewal_reactivated", "access_level_updated"]
    );

    let billing = with(
        reactivated.clone(),
        json!({"billing_issue_detected_at": days_from_now(-1), "grace_period_expires_at": days_from_now(25)}),
    );
    server.set_transaction("subscriber", &billing).await;
    assert_eq!(
        new_events(&server, "", &mut seen).await,
        [
            "billing_issue_detected",
            "entered_grace_period",
            "access_level_updated"
        ]
    );

    let refunded = with(
        billing,
        json!({"refunded_at": days_from_now(0), "cancellation_reason": "refund"}),
    );
    server.set_transaction("subscriber", &refunded).await;
    assert_eq!(
        new_events(&server, "", &mut seen).await,
        ["subscription_refunded", "access_level_updated"]
    );

    // Another user's chain: cancelled, then its period ends (the store reports the final state).
    server.create_profile("ender").await;
    let ended = with(
        subscription("e-1", "e-1", &days_from_now(-30), &days_from_now(-1)),
        json!({"renew_status": false, "renew_status_changed_at": days_from_now(-5)}),
    );
    server.set_transaction("ender", &ended).await;
    assert_eq!(
        new_events(&server, "customer_user_id=ender", &mut 0).await,
        [
            "subscription_started",
            "subscription_renewal_cancelled",
            "subscription_expired",
            "access_level_updated"
        ]
    );
}

/// Spec §9.7, "Immediate upgrade": `subscription_refunded` with `cancellation_reason:
/// upgraded` for the old product (no `subscription_expired`), `subscription_started` for the
/// new, an `access_level_updated` for each.
#[tokio::test]
async fn an_immediate_upgrade_refunds_the_old_subscription_instead_of_expiring_it() {
    let server = TestServer::start().await;
    let _receiver = server.listen_to_every_event().await;
    server.create_profile("upgrader").await;
    let old = subscription("u-1", "u-1", &days_from_now(-10), &days_from_now(20));
    server.set_transaction("upgrader", &old).await;
    let mut seen = 0;
    new_events(&server, "", &mut seen).await;

    let replaced = with(
        old,
        json!({"cancellation_reason": "upgraded", "renew_status": false, "expires_at": days_from_now(0)}),
    );
    let (status, answer) = server.set_transaction("upgrader", &replaced).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(
        new_events(&server, "", &mut seen).await,
        ["subscription_refunded", "access_level_updated"]
    );
    let refunded = &server.feed("event_type=subscription_refunded").await[0];
    let properties = &refunded["payload"]["event_properties"];
    assert_eq!(
        properties["cancellation_reason"], "upgraded",
        "{properties}"
    );

    let new = with(
        subscription("u-2", "u-2", &days_from_now(0), &days_from_now(365)),
        json!({"store_product_id": "pro.yearly"}),
    );
    server.set_transaction("upgrader", &new).await;
    assert_eq!(
        new_events(&server, "", &mut seen).await,
        ["subscription_started", "access_level_updated"]
    );
}

#[tokio::test]
async fn trial_one_time_grant_and_revoke_events() {
    let server = TestServer::start().await;
    let _receiver = server.listen_to_every_event().await;
    server.create_profile("trialist").await;
    let mut seen = 0;
    let trial = with(
        subscription("t-1", "t-1", &days_from_now(-7), &days_from_now(1)),
        json!({"price": {"country": "US", "currency": "USD", "value": 0}, "offer": {"category": "introductory", "type": "free_trial", "id": null}}),
    );
    server.set_transaction("trialist", &trial).await;
    assert_eq!(
        new_events(&server, "", &mut seen).await,
        ["trial_started", "access_level_updated"]
    );
    let trial_cancel = with(
        trial.clone(),
        json!({"renew_status": false, "renew_status_changed_at": days_from_now(-1)}),
    );
    server.set_transaction("trialist", &trial_cancel).await;
    assert_eq!(
        new_events(&server, "", &mut seen).await,
        ["trial_renewal_cancelled", "access_level_updated"]
    );
    // Converted now: a conversion dated ahead stays out of the feed until then (feed.rs).
    let converted = with(
        subscription("t-2", "t-1", &days_from_now(0), &days_from_now(31)),
        json!({"originally_purchased_at": days_from_now(-7)}),
    );
    server.set_transaction("trialist", &converted).await;
    assert_eq!(
        new_events(&server, "", &mut seen).await,
        ["trial_converted", "access_level_updated"]
    );

    server.create_profile("lifetime").await;
    server
        .set_transaction("lifetime", &one_time("life-1", &days_from_now(0)))
        .await;
    assert_eq!(
        new_events(&server, "customer_user_id=lifetime", &mut 0).await,
        ["non_subscription_purchase", "access_level_updated"]
    );

    server.create_profile("granted").await;
    let premium = json!({"access_level_id": "premium"});
    server.post_for(GRANT, "granted", &premium).await;
    server.post_for(REVOKE, "granted", &premium).await;
    let events = server.feed("customer_user_id=granted").await;
    let types: Vec<_> = events
        .iter()
        .rev()
        .map(|e| e["event_type"].as_str().unwrap())
        .collect();
    assert_eq!(types, ["access_level_updated", "access_level_updated"]);
    let granted = &events[1]["payload"]["event_properties"];
    let revoked = &events[0]["payload"]["event_properties"];
    assert_eq!(granted["is_active"], true);
    assert_eq!(granted["vendor_product_id"], "adapty_server_side_product");
    assert_eq!(revoked["is_active"], false);
    assert_eq!(revoked["cancellation_reason"], "adapty_revoked");
}

#[tokio::test]
async fn sharing_events_per_policy() {
    for (policy, expected_for_newcomer, expected_for_parent) in
        [("enabled", 1, 0), ("transfer", 1, 1), ("disabled", 0, 0)]
    {
        let server = TestServer::start().await;
        server.set_sharing("production", policy).await;
        let _receiver = server.listen_to_every_event().await;
        let parent = server.create_profile("parent").await;
        let newcomer = server.create_profile("newcomer").await;
        let body = subscription("x-1", "x-1", &days_from_now(-1), &days_from_now(30));
        server.set_transaction("parent", &body).await;
        let before = server.feed("").await.len();
        server.set_transaction("newcomer", &body).await;
        let feed = server.feed("").await;
        let added = &feed[..feed.len() - before];
        assert!(
            added
                .iter()
                .all(|e| e["event_type"] == "access_level_updated"),
            "{policy}: {added:?}"
        );
        let for_profile = |id: &str| {
            added
                .iter()
                .filter(|e| e["profile_id"] == id)
                .collect::<Vec<_>>()
        };
        assert_eq!(
            for_profile(&newcomer).len(),
            expected_for_newcomer,
            "{policy}"
        );
        assert_eq!(for_profile(&parent).len(), expected_for_parent, "{policy}");
        if policy == "transfer" {
            let lost = &for_profile(&parent)[0]["payload"]["event_properties"];
            assert_eq!(lost["is_active"], false);
            // Its dates say so too (spec §9.5): the access ended when it was taken over.
            let ended = lost["expires_at"].as_str().and_then(Timestamp::parse);
            assert!(ended.is_some_and(|at| at <= Timestamp::now()), "{lost}");
            assert_eq!(lost["will_renew"], false, "{lost}");
            assert_eq!(
                for_profile(&newcomer)[0]["payload"]["event_properties"]["is_active"],
                true
            );
            // The parent lost the access: it shares it with no one, and is not told who has it.
            assert_eq!(
                for_profile(&parent)[0]["payload"]["profiles_sharing_access_level"],
                Value::Null
            );
        }
        if policy == "enabled" {
            let sharing = &for_profile(&newcomer)[0]["payload"]["profiles_sharing_access_level"];
            assert_eq!(
                sharing,
                &json!([{"profile_id": parent, "customer_user_id": "parent"}])
            );
        }
    }
}

#[tokio::test]
async fn a_period_that_ends_is_announced_when_it_ends() {
    let server = TestServer::start().await;
    let _receiver = server.listen_to_every_event().await;
    let holder = server.create_profile("short").await;
    let heir = server.create_profile("heir").await;
    let now = entitle_domain::datetime::Timestamp::now();
    let ends = now.plus_micros(1_500_000).to_rfc3339();
    // Auto-renew off: the period's end is final (spec §9.7, "Cancel auto-renew").
    let body = with(
        subscription("short-1", "short-1", &days_from_now(-1), &ends),
        json!({"renew_status": false}),
    );
    server.set_transaction("short", &body).await;
    server.set_transaction("heir", &body).await;
    let expired = feed_once(&server, "event_type=subscription_expired", |feed| {
        !feed.is_empty()
    })
    .await;
    assert_eq!(expired.len(), 1, "announced once");
    assert_eq!(expired[0]["profile_id"], holder.as_str(), "to the parent");
    let revoked: Vec<_> = server
        .feed("event_type=access_level_updated")
        .await
        .into_iter()
        .filter(|e| e["payload"]["event_properties"]["is_active"] == false)
        .collect();
    let mut profiles: Vec<_> = revoked
        .iter()
        .map(|e| e["profile_id"].as_str().unwrap().to_owned())
        .collect();
    profiles.sort();
    let mut expected = vec![holder, heir];
    expected.sort();
    assert_eq!(
        profiles, expected,
        "every holder hears that its access ended"
    );
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert_eq!(
        server.feed("event_type=subscription_expired").await.len(),
        1
    );
}

/// Spec §5.7 and §7: access that a grant or revoke begins or ends at a set time is announced
/// when it happens, not only when the grant or revoke is written: a revoke's `revoke_at`, and
/// a scheduled grant's start and end.
#[tokio::test]
async fn scheduled_grants_and_revokes_are_announced_when_they_take_effect() {
    let server = TestServer::start().await;
    let _receiver = server.listen_to_every_event().await;
    server.add_access_level("vip").await;
    server.create_profile("timed").await;
    let now = entitle_domain::datetime::Timestamp::now();
    let revoke_at = now.plus_micros(1_500_000);
    let vip_starts = now.plus_micros(1_000_000);
    let vip_ends = now.plus_micros(2_500_000);
    let requests = [
        (GRANT, json!({"access_level_id": "premium"})),
        (
            REVOKE,
            json!({"access_level_id": "premium", "revoke_at": revoke_at.to_rfc3339()}),
        ),
        (
            GRANT,
            json!({"access_level_id": "vip", "starts_at": vip_starts.to_rfc3339(),
                   "expires_at": vip_ends.to_rfc3339()}),
        ),
    ];
    for (path, body) in &requests {
        let (status, answer) = server.post_for(path, "timed", body).await;
        assert_eq!(status, 200, "{body}: {answer}");
    }

    let announced = |level: &str, active: bool, at: entitle_domain::datetime::Timestamp| {
        json!([level, active, at.to_event_format()])
    };
    let expected = [
        announced("premium", false, revoke_at),
        announced("vip", true, vip_starts),
        announced("vip", false, vip_ends),
    ];
    let seen = |feed: &[Value]| -> Vec<Value> {
        feed.iter()
            .map(|e| {
                let properties = &e["payload"]["event_properties"];
                json!([
                    properties["access_level_id"],
                    properties["is_active"],
                    e["payload"]["event_datetime"]
                ])
            })
            .collect()
    };
    feed_once(
        &server,
        "customer_user_id=timed&event_type=access_level_updated",
        |feed| {
            let seen = seen(feed);
            expected.iter().all(|want| seen.contains(want))
        },
    )
    .await;
    let (_, profile) = send(server.profile(reqwest::Method::GET, "timed")).await;
    assert!(active_levels(&profile).is_empty(), "{profile}");
}
