//! A receiver that is slow to answer delays only its own deliveries: the worker keeps sending
//! to every other endpoint meanwhile.

use std::time::Duration;

use crate::helpers::*;
use crate::receiver::Receiver;

const SETTLE: Duration = Duration::from_secs(20);

/// A server whose worker waits long enough that no attempt to a held receiver ends before the
/// test releases it.
async fn patient_server(tune: impl FnOnce(&mut entitle_webhooks::WorkerConfig)) -> TestServer {
    TestServer::start_with(|config| {
        let worker = config.worker.as_mut().unwrap();
        worker.timeout = Duration::from_secs(120);
        worker.lease = Duration::from_secs(240);
        tune(worker);
    })
    .await
}

#[tokio::test]
async fn a_receiver_that_has_not_answered_does_not_hold_up_other_endpoints() {
    let held = Receiver::held().await;
    let prompt = Receiver::ok().await;
    let server = patient_server(|_| {}).await;
    add_webhook(&server, &held.url, &[]).await;
    add_webhook(&server, &prompt.url, &[]).await;

    // Each purchase makes two events, each delivered to both endpoints.
    purchase(&server, "first-buyer", "first-1").await;
    prompt.wait_for(2, SETTLE).await;
    held.wait_for(1, SETTLE).await;
    purchase(&server, "second-buyer", "second-1").await;
    let received = prompt.wait_for(4, SETTLE).await;
    assert!(
        received
            .iter()
            .any(|r| r.json["customer_user_id"] == "second-buyer"),
        "the prompt endpoint got the second purchase's events while the held one answered nothing"
    );

    held.release();
    let received = held.wait_for(4, SETTLE).await;
    assert_eq!(
        received.len(),
        4,
        "each event reaches the held endpoint once"
    );
    let feed = server.feed("").await;
    let deadline = tokio::time::Instant::now() + SETTLE;
    let mut feed = feed;
    while feed
        .iter()
        .flat_map(|e| e["deliveries"].as_array().unwrap().iter())
        .any(|d| d["status"] != "delivered")
    {
        assert!(
            tokio::time::Instant::now() < deadline,
            "deliveries not all delivered: {feed:#?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
        feed = server.feed("").await;
    }
    assert_eq!(feed.len(), 4);
}

#[tokio::test]
async fn a_receiver_with_many_deliveries_waiting_takes_only_its_share_of_the_slots() {
    let held = Receiver::held().await;
    let prompt = Receiver::ok().await;
    let server = patient_server(|worker| {
        // Few slots, so that the held endpoint's deliveries alone could fill them all.
        worker.batch = 4;
        worker.per_endpoint = 2;
    })
    .await;
    add_webhook(&server, &held.url, &[]).await;
    add_webhook(&server, &prompt.url, &[]).await;

    // Three purchases: six deliveries to each endpoint, the held endpoint's first each time.
    for buyer in 1..=3 {
        purchase(
            &server,
            &format!("buyer-{buyer}"),
            &format!("share-{buyer}"),
        )
        .await;
        let received = prompt.wait_for(2 * buyer, SETTLE).await;
        assert_eq!(
            received.len(),
            2 * buyer,
            "the prompt endpoint got every event so far while the held one answered nothing"
        );
    }
    assert_eq!(
        held.received().len(),
        2,
        "two of the held endpoint's deliveries in flight, no more"
    );

    held.release();
    let received = held.wait_for(6, SETTLE).await;
    assert_eq!(
        received.len(),
        6,
        "each event reaches the held endpoint once"
    );
}
