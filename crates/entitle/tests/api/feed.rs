//! The event feed: which events are created at all (spec §9.1), what their payloads carry,
//! and reading the feed through the admin API (paging, filters, its own token).

use std::time::Duration;

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::*;

/// `body` with the top-level fields of `changes` set; a change `"-field": null` removes
/// `field`.
pub fn with(mut body: Value, changes: Value) -> Value {
    for (key, value) in changes.as_object().unwrap() {
        match key.strip_prefix('-').filter(|_| value.is_null()) {
            Some(removed) => {
                body.as_object_mut().unwrap().remove(removed);
            }
            None => body[key] = value.clone(),
        }
    }
    body
}

/// The event types added to the feed since `before`, oldest first.
pub async fn new_events(server: &TestServer, query: &str, before: &mut usize) -> Vec<String> {
    let all = server.event_types(query).await;
    let added = all[*before..].to_vec();
    *before = all.len();
    added
}

/// The feed (with `query`) once `holds` is true of it: events the worker writes on its own
/// come within a tick or two. Panics, showing the feed, after 20 s.
pub async fn feed_once(
    server: &TestServer,
    query: &str,
    holds: impl Fn(&[Value]) -> bool,
) -> Vec<Value> {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        let feed = server.feed(query).await;
        if holds(&feed) {
            return feed;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "never came: {query}: {feed:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Sends `transaction` for `quiet` and returns the event types it added to the feed.
async fn events_of(server: &TestServer, transaction: &Value, seen: &mut usize) -> Vec<String> {
    let (status, body) = server.set_transaction("quiet", transaction).await;
    assert_eq!(status, 200, "{body}");
    new_events(server, "", seen).await
}

/// Spec §9.1: `access_level_updated` "is only created if the webhook integration is configured
/// and this event type is enabled": not in the feed without one, and not for an integration
/// of the other environment or without that type.
#[tokio::test]
async fn access_level_updated_exists_only_for_an_integration_that_wants_it() {
    let server = TestServer::start().await;
    server.create_profile("quiet").await;
    server.add_access_level("vip").await;
    let mut seen = 0;
    // Every period bought in the past: one dated ahead would stay out of the feed until then.
    let started = days_from_now(-5);
    let period = |n: i64| {
        let bought = if n == 0 {
            started.clone()
        } else {
            days_from_now(n - 5)
        };
        with(
            subscription(&format!("q-{n}"), "q-0", &bought, &days_from_now(n + 30)),
            json!({"originally_purchased_at": started}),
        )
    };
    assert_eq!(
        events_of(&server, &period(0), &mut seen).await,
        ["subscription_started"]
    );
    let vip = json!({"access_level_id": "vip"});
    let (status, _) = server.post_for(GRANT, "quiet", &vip).await;
    assert_eq!(status, 200);
    let (_, profile) = send(server.profile(Method::GET, "quiet")).await;
    assert!(active_levels(&profile).contains(&"vip".to_owned()));
    let (status, _) = server.post_for(REVOKE, "quiet", &vip).await;
    assert_eq!(status, 200);
    let (_, profile) = send(server.profile(Method::GET, "quiet")).await;
    assert!(!active_levels(&profile).contains(&"vip".to_owned()));
    assert!(new_events(&server, "", &mut seen).await.is_empty());

    let (sandbox_only, _) = server.listen(&["--environment", "sandbox"]).await;
    let (renewals_only, _) = server.listen(&["--events", "subscription_renewed"]).await;
    assert_eq!(
        events_of(&server, &period(1), &mut seen).await,
        ["subscription_renewed"]
    );

    let (access_only, access_integration) =
        server.listen(&["--events", "access_level_updated"]).await;
    assert_eq!(
        events_of(&server, &period(2), &mut seen).await,
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
    assert_eq!(
        events_of(&server, &period(3), &mut seen).await,
        ["subscription_renewed"]
    );
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

/// Spec §8.5, §9.8: an event the store reports ahead of time (here a trial converting in eight
/// seconds) goes to integrations at once, with its date unchanged, and stays out of the feed
/// until that date. Then it heads the feed, above an event written after it but shown before
/// it, with its delivery: a reader paging down to the last event it saw does not miss it.
#[tokio::test]
async fn an_event_dated_ahead_is_delivered_at_once_and_shown_from_its_date() {
    let server = TestServer::start().await;
    let receiver = server.listen_to_every_event().await;
    server.create_profile("early").await;
    let trial = with(
        subscription("e-1", "e-1", &days_from_now(-7), &days_from_now(1)),
        json!({"price": {"country": "US", "currency": "USD", "value": 0},
               "offer": {"category": "introductory", "type": "free_trial", "id": null}}),
    );
    server.set_transaction("early", &trial).await;
    let converts_at = entitle_domain::datetime::Timestamp::now().plus_micros(8_000_000);
    let conversion = with(
        subscription("e-2", "e-1", &converts_at.to_rfc3339(), &days_from_now(31)),
        json!({"originally_purchased_at": days_from_now(-7)}),
    );
    let (status, body) = server.set_transaction("early", &conversion).await;
    assert_eq!(status, 200, "{body}");

    let converted = |feed: &[Value]| feed.iter().any(|e| e["event_type"] == "trial_converted");
    assert!(
        !converted(&server.feed("customer_user_id=early").await),
        "hidden before its date"
    );
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    let delivered = loop {
        let received = receiver.received();
        if let Some(hook) = received
            .iter()
            .find(|r| r.json["event_type"] == "trial_converted")
        {
            break hook.json.clone();
        }
        assert!(tokio::time::Instant::now() < deadline, "never delivered");
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert!(
        entitle_domain::datetime::Timestamp::now() < converts_at,
        "delivered before its date (the server took too long to tell)"
    );
    assert_eq!(
        delivered["event_datetime"],
        converts_at.to_event_format(),
        "delivered with its date unchanged"
    );
    server.create_profile("meanwhile").await;
    let purchase = subscription("m-1", "m-1", &days_from_now(0), &days_from_now(30));
    server.set_transaction("meanwhile", &purchase).await;
    let seen_before = server.feed("").await;
    assert!(!converted(&seen_before), "still hidden");

    feed_once(&server, "customer_user_id=early", converted).await;
    assert!(
        entitle_domain::datetime::Timestamp::now() >= converts_at,
        "shown before its date"
    );
    let feed = feed_once(&server, "", |feed| converted(&feed[..1])).await;
    assert_eq!(
        feed.len(),
        seen_before.len() + 1,
        "moved, not copied: {feed:#?}"
    );
    let ids = |events: &[Value]| -> Vec<Value> {
        events
            .iter()
            .map(|e| e["profile_event_id"].clone())
            .collect()
    };
    assert_eq!(
        ids(&feed[1..]),
        ids(&seen_before),
        "the rest of the feed as it was"
    );
    let deliveries = &feed[0]["deliveries"];
    assert_eq!(deliveries.as_array().map(Vec::len), Some(1), "{deliveries}");
    assert_eq!(deliveries[0]["status"], "delivered", "{deliveries}");
    assert_eq!(deliveries[0]["webhook_id"], delivered_webhook_id(&receiver));
}

/// The `webhook-id` the receiver got `trial_converted` with.
fn delivered_webhook_id(receiver: &crate::receiver::Receiver) -> String {
    let received = receiver.received();
    let hook = received
        .iter()
        .find(|r| r.json["event_type"] == "trial_converted")
        .expect("received");
    hook.headers["webhook-id"].to_str().unwrap().to_owned()
}

/// Spec §9.4 and §9.7: a trial's events carry its length; the events of a billing issue carry
/// the grace period's end as `subscription_expires_at`; and when the grace period ends with no
/// renewal, the expiry says `billing_error` and the grace period is over.
#[tokio::test]
async fn trial_length_grace_end_and_a_billing_failure_in_the_payloads() {
    let server = TestServer::start().await;
    let _receiver = server.listen_to_every_event().await;
    server.create_profile("failing").await;
    let trial = with(
        subscription("b-1", "b-1", &days_from_now(-10), &days_from_now(-3)),
        json!({"price": {"country": "US", "currency": "USD", "value": 0},
               "offer": {"category": "introductory", "type": "free_trial", "id": null}}),
    );
    server.set_transaction("failing", &trial).await;
    let started = server.feed("event_type=trial_started").await;
    let properties = &started[0]["payload"]["event_properties"];
    assert_eq!(properties["trial_duration"], "7 days");
    assert_eq!(properties["discount_amount_usd"], Value::Null);
    assert_eq!(properties["rate_after_first_year"], false);

    let grace_ends = entitle_domain::datetime::Timestamp::now().plus_micros(1_500_000);
    let failing = with(
        subscription("b-2", "b-1", &days_from_now(-3), &days_from_now(0)),
        json!({"originally_purchased_at": days_from_now(-10),
               "billing_issue_detected_at": days_from_now(0),
               "grace_period_expires_at": grace_ends.to_rfc3339()}),
    );
    let (status, body) = server.set_transaction("failing", &failing).await;
    assert_eq!(status, 200, "{body}");
    for kind in ["billing_issue_detected", "entered_grace_period"] {
        let events = server.feed(&format!("event_type={kind}")).await;
        assert_eq!(events.len(), 1, "{kind}");
        let properties = &events[0]["payload"]["event_properties"];
        assert_eq!(
            properties["subscription_expires_at"],
            grace_ends.to_event_format(),
            "{kind}"
        );
        assert_eq!(
            properties["trial_duration"],
            Value::Null,
            "not a trial event"
        );
    }

    let feed = feed_once(&server, "event_type=subscription_expired", |feed| {
        !feed.is_empty()
    })
    .await;
    let expired = &feed[0]["payload"]["event_properties"];
    assert_eq!(expired["cancellation_reason"], "billing_error");
    assert_eq!(expired["is_in_grace_period"], false);
    assert_eq!(expired["will_renew"], false);
}
