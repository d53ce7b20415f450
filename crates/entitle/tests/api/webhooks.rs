//! Webhook delivery to a real local receiver: headers and signatures, the retry rules, restarts,
//! two workers on one database, and what deletion and reassignment do to events.

use std::collections::HashMap;
use std::time::Duration;

use base64::Engine;
use hmac::{Hmac, Mac};
use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::*;
use crate::receiver::{Received, Receiver};

const SETTLE: Duration = Duration::from_secs(20);

/// A server whose worker retries quickly: first retry after 100 ms, at most `retries` retries.
async fn fast_server(retries: u32) -> TestServer {
    TestServer::start_with(|config| {
        let worker = config.worker.as_mut().unwrap();
        worker.retry.first_retry = Duration::from_millis(100);
        worker.retry.max_retries = retries;
        worker.timeout = Duration::from_millis(500);
        worker.lease = Duration::from_secs(2);
    })
    .await
}

fn header<'a>(request: &'a Received, name: &str) -> &'a str {
    request
        .headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
}

/// Standard Webhooks verification, written independently of the server's code.
fn signature_valid(secret: &str, request: &Received) -> bool {
    let key = base64::engine::general_purpose::STANDARD
        .decode(secret.strip_prefix("whsec_").unwrap())
        .unwrap();
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(&key).unwrap();
    let signed = format!(
        "{}.{}.",
        header(request, "webhook-id"),
        header(request, "webhook-timestamp")
    );
    mac.update(signed.as_bytes());
    mac.update(&request.body);
    let expected = format!(
        "v1,{}",
        base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
    );
    header(request, "webhook-signature")
        .split(' ')
        .any(|s| s == expected)
}

/// Waits until every delivery in the feed has left `pending`; returns the feed.
async fn settled(server: &TestServer) -> Vec<Value> {
    let deadline = tokio::time::Instant::now() + SETTLE;
    loop {
        let feed = server.feed("").await;
        let pending = feed
            .iter()
            .flat_map(|e| e["deliveries"].as_array().unwrap().iter())
            .any(|d| d["status"] == "pending");
        if !pending {
            return feed;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "deliveries still pending: {feed:#?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn deliveries_are_signed_and_carry_the_static_authorization() {
    let receiver = Receiver::ok().await;
    let server = fast_server(2).await;
    let (integration, secret) = add_webhook(
        &server,
        &receiver.url,
        &["--authorization", "Bearer static-value"],
    )
    .await;
    purchase(&server, "signed", "sig-1").await;
    let received = receiver.wait_for(2, SETTLE).await;
    let types: Vec<_> = received
        .iter()
        .map(|r| r.json["event_type"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(types.len(), 2);
    assert!(
        types.contains(&"subscription_started".to_owned())
            && types.contains(&"access_level_updated".to_owned())
    );
    for request in &received {
        assert_eq!(header(request, "authorization"), "Bearer static-value");
        assert_eq!(header(request, "content-type"), "application/json");
        assert!(header(request, "webhook-id").starts_with("msg_"));
        let timestamp: i64 = header(request, "webhook-timestamp").parse().unwrap();
        let now = entitle_domain::datetime::Timestamp::now().unix_micros() / 1_000_000;
        assert!((now - timestamp).abs() < 60);
        assert!(
            signature_valid(&secret, request),
            "signature does not verify"
        );
        // A tampered body would not verify.
        let mut tampered = request.clone();
        tampered.body.push(b' ');
        assert!(!signature_valid(&secret, &tampered));
    }
    let feed = settled(&server).await;
    for event in &feed {
        let delivery = &event["deliveries"][0];
        assert_eq!(delivery["integration_id"], integration.as_str());
        assert_eq!(delivery["status"], "delivered");
        assert_eq!(delivery["attempts"][0]["status_code"], 200);
    }
}

#[tokio::test]
async fn retries_follow_the_status_rules() {
    // (first answers, expected attempts, final status)
    let cases: Vec<(Vec<u16>, usize, &str)> = vec![
        (vec![500, 200], 2, "delivered"),
        (vec![405, 200], 2, "delivered"),
        (vec![503, 502, 200], 3, "delivered"),
        (vec![404], 1, "refused"),
        (vec![400], 1, "refused"),
        (vec![201], 1, "delivered"),
        (vec![500, 500, 500, 500], 3, "failed"),
    ];
    for (answers, attempts, status) in cases {
        let script = answers.clone();
        let receiver =
            Receiver::scripted(move |n| (*script.get(n).unwrap_or(&200), Duration::ZERO)).await;
        let server = fast_server(2).await;
        add_webhook(
            &server,
            &receiver.url,
            &["--events", "subscription_started"],
        )
        .await;
        purchase(&server, "retried", "r-1").await;
        let feed = settled(&server).await;
        let event = feed
            .iter()
            .find(|e| e["event_type"] == "subscription_started")
            .unwrap();
        let delivery = &event["deliveries"][0];
        assert_eq!(delivery["status"], status, "{answers:?}: {delivery}");
        let recorded = delivery["attempts"].as_array().unwrap();
        assert_eq!(recorded.len(), attempts, "{answers:?}");
        assert_eq!(receiver.received().len(), attempts, "{answers:?}");
        let codes: Vec<_> = recorded
            .iter()
            .map(|a| a["status_code"].as_u64().unwrap() as u16)
            .collect();
        assert_eq!(codes[..], answers[..attempts.min(answers.len())]);
        // One webhook id for one message, on every attempt.
        let ids: std::collections::HashSet<_> = receiver
            .received()
            .iter()
            .map(|r| header(r, "webhook-id").to_owned())
            .collect();
        assert_eq!(ids.len(), 1);
    }
}

#[tokio::test]
async fn a_receiver_that_times_out_is_retried() {
    let receiver = Receiver::scripted(|n| {
        (
            200,
            if n == 0 {
                Duration::from_secs(3)
            } else {
                Duration::ZERO
            },
        )
    })
    .await;
    let server = fast_server(2).await;
    add_webhook(
        &server,
        &receiver.url,
        &["--events", "subscription_started"],
    )
    .await;
    purchase(&server, "slow", "slow-1").await;
    let feed = settled(&server).await;
    let delivery = &feed
        .iter()
        .find(|e| e["event_type"] == "subscription_started")
        .unwrap()["deliveries"][0];
    assert_eq!(delivery["status"], "delivered");
    let attempts = delivery["attempts"].as_array().unwrap();
    assert_eq!(attempts.len(), 2);
    assert_eq!(attempts[0]["status_code"], Value::Null);
    assert!(attempts[0]["error"].as_str().unwrap().contains("no answer"));
}

#[tokio::test]
async fn a_restart_in_the_middle_of_retries_loses_nothing() {
    let receiver = Receiver::scripted(|n| (if n < 2 { 500 } else { 200 }, Duration::ZERO)).await;
    let server = TestServer::start_with(|config| {
        let worker = config.worker.as_mut().unwrap();
        worker.retry.first_retry = Duration::from_millis(400);
    })
    .await;
    add_webhook(
        &server,
        &receiver.url,
        &["--events", "subscription_started"],
    )
    .await;
    purchase(&server, "restarted", "rs-1").await;
    receiver.wait_for(1, SETTLE).await;
    let server = server
        .restart(|config| {
            let worker = config.worker.as_mut().unwrap();
            worker.retry.first_retry = Duration::from_millis(100);
        })
        .await;
    let feed = settled(&server).await;
    let delivery = &feed
        .iter()
        .find(|e| e["event_type"] == "subscription_started")
        .unwrap()["deliveries"][0];
    assert_eq!(delivery["status"], "delivered");
    assert_eq!(delivery["attempts"].as_array().unwrap().len(), 3);
}

#[tokio::test]
async fn a_claim_of_a_worker_that_died_is_taken_over_after_its_lease() {
    let receiver = Receiver::ok().await;
    // A server without a worker records the event; a "worker" claims it and dies.
    let (server, backend) = one_waiting_delivery(&receiver.url, "orphan").await;
    let now = entitle_domain::datetime::Timestamp::now();
    let claimed = backend
        .store()
        .claim_deliveries(
            "doomed-worker",
            now,
            Duration::from_millis(500),
            entitle_store::ClaimLimits {
                total: 10,
                per_endpoint: 10,
            },
            entitle_domain::events::RetryPolicy::default().cut_offs(now),
        )
        .await
        .unwrap();
    assert_eq!(claimed.len(), 1);
    backend.close().await;
    // A worker that starts now cannot take it until the lease runs out, then delivers it once.
    let server = server.restart(|_| {}).await;
    let received = receiver.wait_for(1, SETTLE).await;
    assert_eq!(received.len(), 1);
    let feed = settled(&server).await;
    assert_eq!(
        feed.iter()
            .find(|e| e["event_type"] == "subscription_started")
            .unwrap()["deliveries"][0]["status"],
        "delivered"
    );
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(receiver.received().len(), 1, "delivered once");
}

#[tokio::test]
async fn two_workers_on_one_database_never_send_one_attempt_twice() {
    let receiver = Receiver::ok().await;
    let node_one = fast_server(2).await;
    let node_two = node_one
        .sibling(|config| {
            config.worker.as_mut().unwrap().retry.first_retry = Duration::from_millis(100);
        })
        .await;
    add_webhook(&node_one, &receiver.url, &[]).await;
    for i in 0..20 {
        let node = if i % 2 == 0 { &node_one } else { &node_two };
        purchase(node, &format!("twin-{i}"), &format!("tw-{i}")).await;
    }
    let feed = settled(&node_one).await;
    let deliveries: usize = feed
        .iter()
        .map(|e| e["deliveries"].as_array().unwrap().len())
        .sum();
    assert_eq!(deliveries, 40);
    let received = receiver.wait_for(40, SETTLE).await;
    let mut counts: HashMap<String, usize> = HashMap::new();
    for request in &received {
        *counts
            .entry(header(request, "webhook-id").to_owned())
            .or_default() += 1;
    }
    assert_eq!(counts.len(), 40);
    assert!(
        counts.values().all(|n| *n == 1),
        "a webhook id arrived twice: {counts:?}"
    );
}

#[tokio::test]
async fn deletion_removes_events_and_cancels_pending_deliveries() {
    // The receiver keeps failing, with a long retry schedule: deliveries stay pending.
    let receiver = Receiver::scripted(|_| (500, Duration::ZERO)).await;
    let deleted_receiver = Receiver::ok().await;
    let server = TestServer::start_with(|config| {
        config.worker.as_mut().unwrap().retry.first_retry = Duration::from_secs(3600);
    })
    .await;
    add_webhook(&server, &receiver.url, &[]).await;
    add_webhook(
        &server,
        &deleted_receiver.url,
        &["--events", "profile_deleted"],
    )
    .await;
    send(
        server
            .profile(Method::POST, "leaving")
            .json(&json!({"email": "leaving@example.org"})),
    )
    .await;
    server
        .set_transaction(
            "leaving",
            &subscription("l-1", "l-1", &days_from_now(-1), &days_from_now(30)),
        )
        .await;
    purchase(&server, "staying", "st-1").await;
    receiver.wait_for(4, SETTLE).await;
    let profile_id = server.feed("customer_user_id=leaving").await[0]["profile_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let before = server.feed("").await;
    assert!(
        before
            .iter()
            .any(|e| e["payload"]["email"] == "leaving@example.org")
    );

    let (status, _) = send(server.profile(Method::DELETE, "leaving")).await;
    assert_eq!(status, 204);
    let after = server.feed("").await;
    assert!(after.iter().all(|e| e["profile_id"] != profile_id.as_str() || e["event_type"] == "profile_deleted"));
    assert!(
        !serde_json::to_string(&after)
            .unwrap()
            .contains("leaving@example.org")
    );
    assert_eq!(
        server
            .feed(&format!(
                "profile_id={profile_id}&event_type=access_level_updated"
            ))
            .await
            .len(),
        0
    );
    // The other user's events and pending deliveries are untouched.
    let staying: Vec<_> = after
        .iter()
        .filter(|e| e["payload"]["customer_user_id"] == "staying")
        .collect();
    assert_eq!(staying.len(), 2);
    assert!(
        staying
            .iter()
            .all(|e| e["deliveries"][0]["status"] == "pending")
    );

    // profile_deleted reaches its subscriber, with no personal data.
    let announced = deleted_receiver.wait_for(1, SETTLE).await;
    let payload = &announced[0].json;
    assert_eq!(payload["event_type"], "profile_deleted");
    assert_eq!(payload["profile_id"], profile_id.as_str());
    assert_eq!(payload["app_id"], server.app_id.as_str());
    assert!(payload["deleted_at"].is_string());
    let text = String::from_utf8_lossy(&announced[0].body);
    assert!(!text.contains("leaving@example.org") && !text.contains("\"leaving\""));
    // No further attempt is made for the deleted profile's events.
    let sent_before = receiver.received().len();
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(receiver.received().len(), sent_before);
}

#[tokio::test]
async fn reassignment_reissues_the_history_under_the_new_parent() {
    let receiver = Receiver::ok().await;
    let server = fast_server(2).await;
    add_webhook(&server, &receiver.url, &[]).await;
    server.create_profile("first").await;
    let start = days_from_now(-60);
    for (i, (from, to)) in [(-60, -30), (-30, 0)].iter().enumerate() {
        let mut body = subscription(
            &format!("ri-{i}"),
            "ri-0",
            &days_from_now(*from),
            &days_from_now(*to),
        );
        body["originally_purchased_at"] = json!(start);
        server.set_transaction("first", &body).await;
    }
    let old_ids: Vec<String> = server
        .feed("")
        .await
        .iter()
        .map(|e| e["profile_event_id"].as_str().unwrap().to_owned())
        .collect();
    send(server.profile(Method::DELETE, "first")).await;
    let left: Vec<_> = server
        .feed("")
        .await
        .iter()
        .map(|e| e["event_type"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        left,
        ["profile_deleted"],
        "only the announcement of the deletion remains"
    );

    let restorer = server.create_profile("restorer").await;
    let mut restore = subscription("ri-2", "ri-0", &days_from_now(0), &days_from_now(30));
    restore["originally_purchased_at"] = json!(start);
    server.set_transaction("restorer", &restore).await;
    let feed = server.feed(&format!("profile_id={restorer}")).await;
    assert_eq!(feed.len() + 1, server.feed("").await.len());
    let mut reissued: Vec<_> = feed.iter().filter(|e| e["reissued"] == true).collect();
    reissued.reverse();
    let types: Vec<_> = reissued
        .iter()
        .map(|e| e["event_type"].as_str().unwrap())
        .collect();
    assert_eq!(types, ["subscription_started", "subscription_renewed"]);
    for event in &reissued {
        assert_eq!(event["payload"]["reissued"], true);
        assert_eq!(event["payload"]["customer_user_id"], "restorer");
        assert!(
            !old_ids.contains(&event["profile_event_id"].as_str().unwrap().to_owned()),
            "new ids"
        );
    }
    let fresh: Vec<_> = feed
        .iter()
        .rev()
        .filter(|e| e["reissued"] == false)
        .map(|e| e["event_type"].as_str().unwrap())
        .collect();
    assert_eq!(fresh, ["subscription_renewed", "access_level_updated"]);
    // The reissued events are delivered too.
    settled(&server).await;
    let delivered = receiver.received();
    let reissued_sent = delivered
        .iter()
        .filter(|r| r.json["reissued"] == true)
        .count();
    assert_eq!(reissued_sent, 2);
}

#[tokio::test]
async fn webhook_cli_lists_and_removes_integrations() {
    let receiver = Receiver::scripted(|_| (500, Duration::ZERO)).await;
    let server = TestServer::start_with(|config| {
        config.worker.as_mut().unwrap().retry.first_retry = Duration::from_secs(3600);
    })
    .await;
    let (integration, _) = add_webhook(&server, &receiver.url, &["--environment", "sandbox"]).await;
    let listed: Value = serde_json::from_str(
        server
            .cli(&["webhooks", "list", "--app", &server.app_id, "--json"])
            .await
            .trim(),
    )
    .unwrap();
    assert_eq!(listed[0]["integration_id"], integration.as_str());
    assert_eq!(listed[0]["environment"], "sandbox");
    assert!(
        !listed.to_string().contains("whsec_"),
        "the secret is shown only once"
    );
    // Sandbox only: a production purchase is not sent there.
    purchase(&server, "prod", "prod-1").await;
    assert!(
        server
            .feed("")
            .await
            .iter()
            .all(|e| e["deliveries"].as_array().unwrap().is_empty())
    );
    let mut sandbox = subscription("sb-1", "sb-1", &days_from_now(-1), &days_from_now(30));
    sandbox["environment"] = json!("Sandbox");
    server.set_transaction("prod", &sandbox).await;
    receiver.wait_for(1, SETTLE).await;
    server
        .cli(&["webhooks", "remove", "--integration", &integration])
        .await;
    let feed = server.feed("").await;
    let statuses: Vec<_> = feed
        .iter()
        .flat_map(|e| e["deliveries"].as_array().unwrap().iter())
        .map(|d| d["status"].as_str().unwrap().to_owned())
        .collect();
    assert!(
        !statuses.is_empty() && statuses.iter().all(|s| s == "cancelled"),
        "{statuses:?}"
    );
    let listed: Value =
        serde_json::from_str(server.cli(&["webhooks", "list", "--json"]).await.trim()).unwrap();
    assert_eq!(listed, json!([]));
}
