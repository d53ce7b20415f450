//! The retry cut-offs of spec §9.6: an endpoint that has failed for a day gets no retries until a
//! delivery to it succeeds again (each event still gets its first attempt), and no retry is made
//! for an event older than a day, even one that came due while no worker ran. The day is shortened
//! here; the server's default is 24 hours.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use entitle_domain::datetime::Timestamp;
use entitle_domain::events::{AttemptOutcome, RetryPolicy};
use entitle_store::{AttemptRecord, AttemptResult, ClaimLimits};
use serde_json::Value;

use crate::helpers::*;
use crate::receiver::Receiver;

const SETTLE: Duration = Duration::from_secs(20);

/// The delivery of `cuid`'s `subscription_started` once it has left `pending`.
async fn settled_delivery(server: &TestServer, cuid: &str) -> Value {
    let deadline = tokio::time::Instant::now() + SETTLE;
    loop {
        let feed = server.feed("").await;
        let delivery = feed
            .iter()
            .find(|e| {
                e["event_type"] == "subscription_started"
                    && e["payload"]["customer_user_id"] == cuid
            })
            .map(|e| e["deliveries"][0].clone());
        if let Some(delivery) = delivery.filter(|d| d["status"] != "pending") {
            return delivery;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{cuid}'s delivery still pending: {feed:#?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// What `entitle webhooks list` says of the app's one integration.
async fn failing_since(server: &TestServer) -> Value {
    let listed: Value = serde_json::from_str(
        server
            .cli(&["webhooks", "list", "--app", &server.app_id, "--json"])
            .await
            .trim(),
    )
    .unwrap();
    listed[0]["failing_since"].clone()
}

/// Waits until `/metrics` reports `expected` failing integrations. (Its gauges are the
/// process's, and this test binary runs other servers beside this one: another server's scrape
/// may answer in between, so one look could see its figure.)
async fn wait_for_failing_gauge(server: &TestServer, expected: &str) {
    let deadline = tokio::time::Instant::now() + SETTLE;
    loop {
        let text = server.metrics().await;
        let value = text
            .lines()
            .find_map(|line| line.strip_prefix("entitle_webhook_integrations_failing "))
            .unwrap_or_else(|| panic!("no failing gauge in {text}"));
        if value == expected {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "entitle_webhook_integrations_failing is {value}, not {expected}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn attempts(delivery: &Value) -> usize {
    delivery["attempts"].as_array().unwrap().len()
}

#[tokio::test]
async fn an_endpoint_failing_for_a_day_gets_first_attempts_only_until_one_succeeds() {
    // The receiver fails as many requests as the budget says, then answers 200.
    let failures_left = Arc::new(AtomicUsize::new(usize::MAX));
    let budget = failures_left.clone();
    let receiver = Receiver::scripted(move |_| {
        let failing = budget
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
            .is_ok();
        (if failing { 500 } else { 200 }, Duration::ZERO)
    })
    .await;
    let server = TestServer::start_with(|config| {
        let worker = config.worker.as_mut().unwrap();
        worker.retry.first_retry = Duration::from_millis(100);
        // Enough retries, and time for them, that without the circuit the first event would
        // still be retried when the test ends (its 8th retry would come 25.5 s after it).
        worker.retry.max_retries = 20;
        worker.retry.give_up_after = Duration::from_secs(3600);
        worker.retry.open_circuit_after = Duration::from_millis(1500);
        worker.timeout = Duration::from_millis(500);
        worker.lease = Duration::from_secs(2);
    })
    .await;
    add_webhook(
        &server,
        &receiver.url,
        &["--events", "subscription_started"],
    )
    .await;

    // Retried while the endpoint has failed for less than the cut-off, then given up.
    purchase(&server, "before-the-cut-off", "cb-1").await;
    let first = settled_delivery(&server, "before-the-cut-off").await;
    assert_eq!(first["status"], "failed", "{first:#}");
    assert!(
        (2..=6).contains(&attempts(&first)),
        "retried for about 1.5 s, then no more: {first:#}"
    );

    // With the circuit open a new event gets its first attempt and no retry.
    purchase(&server, "circuit-open", "cb-2").await;
    let second = settled_delivery(&server, "circuit-open").await;
    assert_eq!(second["status"], "failed", "{second:#}");
    assert_eq!(attempts(&second), 1, "{second:#}");
    let since = failing_since(&server).await;
    assert_eq!(
        since, first["attempts"][0]["attempted_at"],
        "failing since the first failed attempt"
    );
    wait_for_failing_gauge(&server, "1").await;

    // A first attempt that succeeds closes the circuit...
    failures_left.store(0, Ordering::SeqCst);
    purchase(&server, "recovered", "cb-3").await;
    let third = settled_delivery(&server, "recovered").await;
    assert_eq!(third["status"], "delivered", "{third:#}");
    assert_eq!(attempts(&third), 1);
    assert_eq!(failing_since(&server).await, Value::Null);
    wait_for_failing_gauge(&server, "0").await;

    // ...so a failure after it is retried again.
    failures_left.store(1, Ordering::SeqCst);
    purchase(&server, "retried-again", "cb-4").await;
    let fourth = settled_delivery(&server, "retried-again").await;
    assert_eq!(fourth["status"], "delivered", "{fourth:#}");
    assert_eq!(attempts(&fourth), 2, "{fourth:#}");
    assert_eq!(fourth["attempts"][0]["status_code"], 500);
}

#[tokio::test]
async fn a_retry_that_came_due_past_the_events_cut_off_is_given_up_not_sent() {
    let receiver = Receiver::ok().await;
    let (server, backend) = one_waiting_delivery(&receiver.url, "overdue").await;

    // A worker fails the first attempt and schedules a retry at once, then stops.
    let store = backend.store();
    let lease = Duration::from_secs(60);
    let limits = ClaimLimits {
        total: 10,
        per_endpoint: 10,
    };
    let now = Timestamp::now();
    let claimed = store
        .claim_deliveries(
            "worker",
            now,
            lease,
            limits,
            RetryPolicy::default().cut_offs(now),
        )
        .await
        .unwrap();
    assert_eq!(claimed.len(), 1);
    let failed = AttemptResult {
        attempt: AttemptRecord {
            attempted_at: now,
            status_code: Some(503),
            error: None,
            duration_ms: 1,
        },
        outcome: AttemptOutcome::Failed,
        retry_at: Some(now),
    };
    assert!(store.record_attempt(&claimed[0], failed).await.unwrap());

    // The next claim comes after the event's cut-off: the retry is given up.
    let later = now.plus_micros(2_000_000);
    let short_day = RetryPolicy {
        give_up_after: Duration::from_secs(1),
        ..RetryPolicy::default()
    };
    let claimed = store
        .claim_deliveries("worker", later, lease, limits, short_day.cut_offs(later))
        .await
        .unwrap();
    assert!(claimed.is_empty(), "no retry past the cut-off");
    backend.close().await;

    let delivery = settled_delivery(&server, "overdue").await;
    assert_eq!(delivery["status"], "failed", "{delivery:#}");
    assert_eq!(attempts(&delivery), 1);
    assert!(receiver.received().is_empty(), "nothing was sent");
}
