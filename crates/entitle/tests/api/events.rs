//! Integration events: the exact sequences of spec §9.7, their payloads, and the event feed.

use std::time::Duration;

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::*;
use crate::receiver::Receiver;

fn with(mut body: Value, changes: Value) -> Value {
    for (key, value) in changes.as_object().unwrap() {
        body[key] = value.clone();
    }
    body
}

/// The event types added to the feed since `before`, oldest first.
async fn new_events(server: &TestServer, query: &str, before: &mut usize) -> Vec<String> {
    let all = server.event_types(query).await;
    let added = all[*before..].to_vec();
    *before = all.len();
    added
}

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
    let converted = with(
        subscription("t-2", "t-1", &days_from_now(1), &days_from_now(31)),
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
    let grant = |body: Value| {
        send(
            server
                .request(Method::POST, GRANT)
                .header("adapty-customer-user-id", "granted")
                .json(&body),
        )
    };
    let revoke = |body: Value| {
        send(
            server
                .request(Method::POST, REVOKE)
                .header("adapty-customer-user-id", "granted")
                .json(&body),
        )
    };
    grant(json!({"access_level_id": "premium"})).await;
    revoke(json!({"access_level_id": "premium"})).await;
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

/// Spec §9.1: `access_level_updated` "is only created if the webhook integration is configured
/// and this event type is enabled": not in the feed without one, and not for an integration
/// of the other environment or without that type.
#[tokio::test]
async fn access_level_updated_exists_only_for_an_integration_that_wants_it() {
    let server = TestServer::start().await;
    server.create_profile("quiet").await;
    server
        .cli(&[
            "access-levels",
            "add",
            "--app",
            &server.app_id,
            "--id",
            "vip",
        ])
        .await;
    let mut seen = 0;
    let started = days_from_now(-1);
    let period = |n: i64| {
        let bought = if n == 0 {
            started.clone()
        } else {
            days_from_now(n - 1)
        };
        with(
            subscription(&format!("q-{n}"), "q-0", &bought, &days_from_now(n + 30)),
            json!({"originally_purchased_at": started}),
        )
    };
    let (status, body) = server.set_transaction("quiet", &period(0)).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        new_events(&server, "", &mut seen).await,
        ["subscription_started"]
    );
    let (status, _) = send(
        server
            .request(Method::POST, GRANT)
            .header("adapty-customer-user-id", "quiet")
            .json(&json!({"access_level_id": "vip"})),
    )
    .await;
    assert_eq!(status, 200);
    let (_, profile) = send(server.profile(Method::GET, "quiet")).await;
    assert!(active_levels(&profile).contains(&"vip".to_owned()));
    let (status, _) = send(
        server
            .request(Method::POST, REVOKE)
            .header("adapty-customer-user-id", "quiet")
            .json(&json!({"access_level_id": "vip"})),
    )
    .await;
    assert_eq!(status, 200);
    let (_, profile) = send(server.profile(Method::GET, "quiet")).await;
    assert!(!active_levels(&profile).contains(&"vip".to_owned()));
    assert!(new_events(&server, "", &mut seen).await.is_empty());

    let sandbox_only = Receiver::ok().await;
    add_webhook(&server, &sandbox_only.url, &["--environment", "sandbox"]).await;
    let renewals_only = Receiver::ok().await;
    add_webhook(
        &server,
        &renewals_only.url,
        &["--events", "subscription_renewed"],
    )
    .await;
    let (status, body) = server.set_transaction("quiet", &period(1)).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        new_events(&server, "", &mut seen).await,
        ["subscription_renewed"]
    );

    let access_only = Receiver::ok().await;
    let (access_integration, _) = add_webhook(
        &server,
        &access_only.url,
        &["--events", "access_level_updated"],
    )
    .await;
    let (status, body) = server.set_transaction("quiet", &period(2)).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        new_events(&server, "", &mut seen).await,
        ["subscription_renewed", "access_level_updated"]
    );
    let delivered = access_only.wait_for(1, Duration::from_secs(20)).await;
    assert_eq!(delivered[0].json["event_type"], "access_level_updated");
    let renewals = renewals_only.wait_for(2, Duration::from_secs(20)).await;
    assert!(
        renewals
            .iter()
            .all(|r| r.json["event_type"] == "subscription_renewed")
    );
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(sandbox_only.received().is_empty());
    assert_eq!(access_only.received().len(), 1);

    // Once that integration is removed, none again.
    server
        .cli(&["webhooks", "remove", "--integration", &access_integration])
        .await;
    let (status, body) = server.set_transaction("quiet", &period(3)).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        new_events(&server, "", &mut seen).await,
        ["subscription_renewed"]
    );
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
            assert_eq!(
                for_profile(&parent)[0]["payload"]["event_properties"]["is_active"],
                false
            );
            assert_eq!(
                for_profile(&newcomer)[0]["payload"]["event_properties"]["is_active"],
                true
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
async fn payloads_carry_the_documented_fields() {
    let server = TestServer::start().await;
    send(server.profile(Method::POST, "payload").json(&json!({
        "email": "payload@example.org",
        "custom_attributes": [{"key": "tier", "value": "gold"}]
    })))
    .await;
    server
        .set_transaction(
            "payload",
            &subscription("p-1", "p-1", "2026-01-10T12:00:00Z", "2099-02-10T12:00:00Z"),
        )
        .await;
    let feed = server.feed("event_type=subscription_started").await;
    assert_eq!(feed.len(), 1);
    let event = &feed[0];
    let payload = &event["payload"];
    assert_eq!(payload["event_type"], "subscription_started");
    assert_eq!(payload["customer_user_id"], "payload");
    assert_eq!(payload["email"], "payload@example.org");
    assert_eq!(payload["event_api_version"], 1);
    assert_eq!(payload["event_datetime"], "2026-01-10T12:00:00.000000+0000");
    assert_eq!(payload["user_attributes"], json!({"tier": "gold"}));
    assert_eq!(payload["reissued"], false);
    let properties = &payload["event_properties"];
    assert_eq!(properties["profile_event_id"], event["profile_event_id"]);
    assert_eq!(properties["transaction_id"], "p-1");
    assert_eq!(properties["original_transaction_id"], "p-1");
    assert_eq!(properties["vendor_product_id"], "pro.monthly");
    assert_eq!(properties["store"], "app_store");
    assert_eq!(properties["environment"], "Production");
    assert_eq!(properties["price_local"], 9.99);
    assert_eq!(properties["currency"], "USD");
    assert_eq!(
        properties["subscription_expires_at"],
        "2099-02-10T12:00:00.000000+0000"
    );
    assert_eq!(properties["profile_has_access_level"], true);
    // Every event id is unique.
    let all = server.feed("").await;
    let mut ids: Vec<_> = all
        .iter()
        .map(|e| e["profile_event_id"].as_str().unwrap())
        .collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), all.len());
}

#[tokio::test]
async fn the_feed_pages_and_filters() {
    let server = TestServer::start().await;
    for user in ["a", "b"] {
        server.create_profile(user).await;
        for i in 0..3 {
            let body = subscription(
                &format!("{user}-{i}"),
                &format!("{user}-0"),
                &days_from_now(i * 30 - 60),
                &days_from_now(i * 30 - 30),
            );
            server.set_transaction(user, &body).await;
        }
    }
    let everything = server.feed("").await;
    assert_eq!(everything.len(), 6, "started and renewed twice, for each");
    // Newest first, cursor-paged.
    let mut paged = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let query = match &cursor {
            Some(c) => format!("limit=5&cursor={c}"),
            None => "limit=5".to_owned(),
        };
        let (status, page) = send(server.admin(
            Method::GET,
            &format!("/admin/v1/apps/{}/events?{query}", server.app_id),
        ))
        .await;
        assert_eq!(status, 200);
        paged.extend(page["data"].as_array().unwrap().iter().cloned());
        match page["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => break,
        }
    }
    assert_eq!(paged, everything);
    assert_eq!(server.feed("customer_user_id=a").await.len(), 3);
    assert_eq!(
        server.feed("event_type=subscription_renewed").await.len(),
        4
    );
    assert_eq!(server.feed("customer_user_id=nobody").await.len(), 0);

    for bad in [
        "limit=0",
        "limit=x",
        "cursor=zzz",
        "event_type=party",
        "profile_id=nope",
    ] {
        let (status, body) = send(server.admin(
            Method::GET,
            &format!("/admin/v1/apps/{}/events?{bad}", server.app_id),
        ))
        .await;
        assert_eq!(status, 400, "{bad}: {body}");
        assert_eq!(body["status_code"], 400);
    }
}

#[tokio::test]
async fn the_admin_api_takes_only_the_admin_token() {
    let server = TestServer::start().await;
    let path = format!("/admin/v1/apps/{}/events", server.app_id);
    let (status, body) = send(server.client.get(server.url(&path))).await;
    assert_error(status, &body, 401, "not_authenticated");
    let (status, body) = send(server.request(Method::GET, &path)).await;
    assert_error(status, &body, 401, "not_authenticated");
    let (status, body) = send(
        server
            .client
            .get(server.url(&path))
            .header("Authorization", "Bearer wrong"),
    )
    .await;
    assert_error(status, &body, 401, "not_authenticated");
    // And the app API refuses the admin token.
    let (status, body) = send(
        server
            .client
            .get(server.url(PROFILE))
            .header("Authorization", format!("Bearer {ADMIN_TOKEN}"))
            .header("adapty-customer-user-id", "x"),
    )
    .await;
    assert_error(status, &body, 401, "not_authenticated");

    // Without a configured token the admin API is off.
    let off = TestServer::start_with(|config| config.admin_token = None).await;
    let (status, body) = send(
        off.client
            .get(off.url(&path))
            .header("Authorization", "Bearer anything"),
    )
    .await;
    assert_error(status, &body, 404, "not_found");
}

#[tokio::test]
async fn a_period_that_ends_is_announced_when_it_ends() {
    let server = TestServer::start().await;
    let _receiver = server.listen_to_every_event().await;
    let holder = server.create_profile("short").await;
    let heir = server.create_profile("heir").await;
    let now = entitle_domain::datetime::Timestamp::now();
    let ends = now.plus_micros(1_500_000).to_rfc3339();
    let body = subscription("short-1", "short-1", &days_from_now(-1), &ends);
    server.set_transaction("short", &body).await;
    server.set_transaction("heir", &body).await;
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(20);
    let expired = loop {
        let feed = server.feed("event_type=subscription_expired").await;
        if !feed.is_empty() || tokio::time::Instant::now() > deadline {
            break feed;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    };
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
