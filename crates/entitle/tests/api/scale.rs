//! Several `entitle serve` processes on one database (issue 5): what one node writes every node
//! reads, a key revoked with the CLI stops working everywhere, the nodes' webhook workers share
//! one outbox without sending any attempt twice, and concurrent purchases through both nodes
//! keep every shared view complete. With `ENTITLE_TEST_BACKEND=postgres` the nodes share one
//! PostgreSQL database; by default they share one SQLite file.

use std::collections::HashMap;
use std::time::Duration;

use futures::future::join_all;
use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::*;
use crate::receiver::Receiver;

const SETTLE: Duration = Duration::from_secs(30);

/// Webhook retries quick enough for a test.
fn fast_worker(config: &mut entitle::Config) {
    let worker = config.worker.as_mut().expect("a worker");
    worker.retry.first_retry = Duration::from_millis(50);
    worker.retry.max_retries = 8;
    worker.timeout = Duration::from_secs(2);
}

#[tokio::test]
async fn what_one_node_writes_every_node_reads() {
    let one = TestServer::start().await;
    let two = one.sibling(|_| {}).await;
    let (status, created) = send(
        one.profile(Method::POST, "roaming")
            .json(&json!({"custom_attributes": [{"key": "node", "value": "one"}]})),
    )
    .await;
    assert_eq!(status, 200, "{created}");

    let (status, read) = send(two.profile(Method::GET, "roaming")).await;
    assert_eq!(status, 200, "{read}");
    assert_eq!(read["data"]["profile_id"], created["data"]["profile_id"]);
    assert_eq!(
        read["data"]["custom_attributes"],
        json!([{"key": "node", "value": "one"}])
    );

    let (status, _) = send(
        two.profile(Method::PATCH, "roaming")
            .json(&json!({"custom_attributes": [{"key": "node", "value": "two"}]})),
    )
    .await;
    assert_eq!(status, 200);
    let (_, read) = send(one.profile(Method::GET, "roaming")).await;
    assert_eq!(
        read["data"]["custom_attributes"],
        json!([{"key": "node", "value": "two"}])
    );

    let (status, _) = send(one.profile(Method::DELETE, "roaming")).await;
    assert_eq!(status, 204);
    let (status, body) = send(two.profile(Method::GET, "roaming")).await;
    assert_error(status, &body, 404, "profile_does_not_exist");
    let (status, body) = send(two.profile(Method::DELETE, "roaming")).await;
    assert_error(status, &body, 404, "profile_does_not_exist");
}

#[tokio::test]
async fn a_key_revoked_with_the_cli_stops_working_on_every_node() {
    let one = TestServer::start().await;
    let two = one.sibling(|_| {}).await;
    let created: Value = serde_json::from_str(
        one.cli(&["keys", "create", "--app", &one.app_id, "--json"])
            .await
            .trim(),
    )
    .expect("JSON from keys create");
    let key_id = created["key_id"].as_str().unwrap();
    let secret = created["secret_key"].as_str().unwrap();
    for node in [&one, &two] {
        let (status, body) = send(
            node.request_as(secret, Method::POST, PROFILE)
                .header("adapty-customer-user-id", "keyholder"),
        )
        .await;
        assert_eq!(status, 200, "{body}");
    }

    one.cli(&["keys", "revoke", "--key", key_id, "--json"])
        .await;
    for node in [&one, &two] {
        let (status, body) = send(
            node.request_as(secret, Method::GET, PROFILE)
                .header("adapty-customer-user-id", "keyholder"),
        )
        .await;
        assert_error(status, &body, 401, "not_authenticated");
        // The app's other key is untouched.
        let (status, _) = send(node.profile(Method::GET, "keyholder")).await;
        assert_eq!(status, 200);
    }
}

#[tokio::test]
async fn workers_on_two_nodes_share_the_outbox_and_send_each_attempt_once() {
    // The first requests fail, so some deliveries are retried, possibly by the other node.
    let receiver = Receiver::scripted(|n| (if n < 6 { 500 } else { 200 }, Duration::ZERO)).await;
    let one = TestServer::start_with(fast_worker).await;
    let two = one.sibling(fast_worker).await;
    one.cli(&[
        "webhooks",
        "add",
        "--app",
        &one.app_id,
        "--url",
        &receiver.url,
        "--json",
    ])
    .await;
    let purchases = (0..24).map(|i| {
        let node = if i % 2 == 0 { &one } else { &two };
        async move {
            let cuid = format!("twin-{i}");
            node.create_profile(&cuid).await;
            let body = subscription(
                &format!("tw-{i}"),
                &format!("tw-{i}"),
                &days_from_now(-1),
                &days_from_now(30),
            );
            let (status, answer) = node.set_transaction(&cuid, &body).await;
            assert_eq!(status, 200, "{answer}");
        }
    });
    join_all(purchases).await;

    let feed = settled(&one).await;
    let deliveries: Vec<&Value> = feed
        .iter()
        .flat_map(|e| e["deliveries"].as_array().unwrap())
        .collect();
    assert!(deliveries.len() >= 48, "{} deliveries", deliveries.len());
    // Give any duplicate sender time to show itself.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let mut received: HashMap<String, usize> = HashMap::new();
    for request in receiver.received() {
        let id = request.headers["webhook-id"].to_str().unwrap().to_owned();
        *received.entry(id).or_default() += 1;
    }
    for delivery in &deliveries {
        assert_eq!(delivery["status"], "delivered", "{delivery}");
        let attempts = delivery["attempts"].as_array().unwrap().len();
        let id = delivery["webhook_id"].as_str().unwrap();
        assert_eq!(
            received.get(id).copied().unwrap_or(0),
            attempts,
            "webhook {id}: every recorded attempt arrived once, and nothing else"
        );
    }
    let recorded: usize = deliveries
        .iter()
        .map(|d| d["attempts"].as_array().unwrap().len())
        .sum();
    assert_eq!(receiver.received().len(), recorded);
    assert!(recorded > deliveries.len(), "some deliveries were retried");
}

#[tokio::test]
async fn concurrent_purchases_through_two_nodes_keep_every_shared_view_complete() {
    let one = TestServer::start().await;
    let two = one.sibling(|_| {}).await;
    for (level, product) in [("gold", "gold.monthly"), ("silver", "silver.monthly")] {
        one.add_access_level(level).await;
        one.cli(&[
            "products",
            "set",
            "--app",
            &one.app_id,
            "--store",
            "app_store",
            "--product-id",
            product,
            "--access-level",
            level,
        ])
        .await;
    }
    let users: Vec<String> = (0..8).map(|i| format!("sharer-{i}")).collect();
    for user in &users {
        one.create_profile(user).await;
    }
    // Every user sends a transaction of both chains (one store account, sharing enabled), all
    // at once and through both nodes: each write re-derives the views of every holder.
    let requests = users.iter().enumerate().flat_map(|(i, user)| {
        ["gold", "silver"].map(|level| {
            let node = if i % 2 == 0 { &one } else { &two };
            async move {
                let mut body = subscription(
                    &format!("{level}-{i}"),
                    &format!("{level}-chain"),
                    &days_from_now(-1),
                    &days_from_now(30),
                );
                body["store_product_id"] = json!(format!("{level}.monthly"));
                node.set_transaction(user, &body).await
            }
        })
    });
    for (status, body) in join_all(requests).await {
        assert_eq!(status, 200, "{body}");
    }
    for user in &users {
        for node in [&one, &two] {
            let (_, body) = send(node.profile(Method::GET, user)).await;
            let mut levels = active_levels(&body);
            levels.sort();
            assert_eq!(levels, ["gold", "silver"], "{user}: {body}");
        }
    }
}

/// The feed once no delivery is pending any more.
async fn settled(server: &TestServer) -> Vec<Value> {
    let deadline = tokio::time::Instant::now() + SETTLE;
    loop {
        let feed = server.feed("").await;
        let pending = feed
            .iter()
            .flat_map(|e| e["deliveries"].as_array().unwrap())
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
