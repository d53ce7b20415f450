//! Parents and inheritors under each sharing policy, in production and sandbox, and the story at
//! the heart of entitle: delete → detach → reassign (spec §8.2–8.4, DESIGN.md §4–5).

use futures::future::join_all;
use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::*;

fn chain_body(id: &str, environment: &str) -> Value {
    let mut body = subscription(id, "shared-chain", &days_from_now(-1), &days_from_now(30));
    body["environment"] = json!(environment);
    body
}

async fn levels_of(server: &TestServer, cuid: &str) -> Vec<String> {
    let (status, body) = send(server.profile(Method::GET, cuid)).await;
    assert_eq!(status, 200, "{body}");
    active_levels(&body)
}

async fn anonymous_profile(server: &TestServer) -> String {
    let id = uuid::Uuid::new_v4().to_string();
    let (status, _) = send(
        server
            .request(Method::POST, PROFILE)
            .header("adapty-profile-id", &id),
    )
    .await;
    assert_eq!(status, 200);
    id
}

#[tokio::test]
async fn each_policy_in_each_environment() {
    for environment in ["Production", "Sandbox"] {
        for policy in ["enabled", "transfer", "disabled"] {
            let server = TestServer::start().await;
            server
                .set_sharing(&environment.to_lowercase(), policy)
                .await;
            // The other environment keeps the default (`enabled`), so policies are per environment.
            for cuid in ["parent", "second", "third"] {
                server.create_profile(cuid).await;
            }
            let (status, parent) = server
                .set_transaction("parent", &chain_body("tx-1", environment))
                .await;
            assert_eq!(status, 200, "{parent}");
            let (status, second) = server
                .set_transaction("second", &chain_body("tx-1", environment))
                .await;
            assert_eq!(status, 200, "{second}");
            // History stays with the parent.
            assert_eq!(second["data"]["subscriptions"], json!([]), "{policy}");
            assert_eq!(second["data"]["total_revenue_usd"], 0.0);
            let parent_levels = levels_of(&server, "parent").await;
            let second_levels = levels_of(&server, "second").await;
            match policy {
                "enabled" => {
                    assert_eq!(parent_levels, vec!["premium"]);
                    assert_eq!(second_levels, vec!["premium"]);
                }
                "transfer" => {
                    assert!(
                        parent_levels.is_empty(),
                        "transfer takes the access from the parent"
                    );
                    assert_eq!(second_levels, vec!["premium"]);
                    server
                        .set_transaction("third", &chain_body("tx-1", environment))
                        .await;
                    assert!(levels_of(&server, "second").await.is_empty());
                    assert_eq!(levels_of(&server, "third").await, vec!["premium"]);
                }
                _ => {
                    assert_eq!(parent_levels, vec!["premium"]);
                    assert!(
                        second_levels.is_empty(),
                        "disabled: the buyer keeps it alone"
                    );
                }
            }
            // Anonymous profiles share under every policy.
            let anonymous = anonymous_profile(&server).await;
            let (status, answer) = send(
                server
                    .request(Method::POST, SET_TRANSACTION)
                    .header("adapty-profile-id", &anonymous)
                    .json(&chain_body("tx-1", environment)),
            )
            .await;
            assert_eq!(status, 200);
            assert_eq!(
                active_levels(&answer),
                vec!["premium"],
                "{environment} {policy}"
            );

            // The policy of the other environment is still `enabled`.
            let other = if environment == "Production" {
                "Sandbox"
            } else {
                "Production"
            };
            let mut body = chain_body("o-1", other);
            body["store_original_transaction_id"] = json!("other-chain");
            server.set_transaction("parent", &body).await;
            let (_, answer) = server.set_transaction("second", &body).await;
            assert!(
                active_levels(&answer).contains(&"premium".to_owned()),
                "{other} stays enabled"
            );
        }
    }
}

#[tokio::test]
async fn delete_detaches_and_a_restore_reassigns_the_whole_history() {
    let server = TestServer::start().await;
    server.create_profile("first-owner").await;
    let start = days_from_now(-60);
    let periods = [(-60, -30), (-30, 0), (0, 30)];
    for (i, (from, to)) in periods.iter().enumerate() {
        let mut body = subscription(
            &format!("h-{i}"),
            "h-0",
            &days_from_now(*from),
            &days_from_now(*to),
        );
        body["originally_purchased_at"] = json!(start);
        let (status, answer) = server.set_transaction("first-owner", &body).await;
        assert_eq!(status, 200, "{answer}");
    }
    let (status, _) = send(server.profile(Method::DELETE, "first-owner")).await;
    assert_eq!(status, 204);
    let (status, _) = send(server.profile(Method::GET, "first-owner")).await;
    assert_eq!(status, 404);

    // Another user restores with the same store account: the detached chain is theirs now,
    // whatever the sharing policy.
    server.set_sharing("production", "disabled").await;
    server.create_profile("restorer").await;
    let mut restore = subscription("h-2", "h-0", &days_from_now(0), &days_from_now(30));
    restore["originally_purchased_at"] = json!(start);
    let (status, answer) = server.set_transaction("restorer", &restore).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(active_levels(&answer), vec!["premium"]);
    let subscriptions = answer["data"]["subscriptions"].as_array().unwrap();
    assert_eq!(subscriptions.len(), 1);
    assert_eq!(subscriptions[0]["store_transaction_id"], "h-2");
    assert_eq!(
        subscriptions[0]["originally_purchased_at"],
        answer["data"]["access_levels"][0]["originally_purchased_at"]
    );
    // The whole history counts for the new parent: three charges.
    assert_eq!(answer["data"]["total_revenue_usd"], 29.97);

    // The deleted customer user id comes back as a fresh profile with nothing.
    server.create_profile("first-owner").await;
    assert!(levels_of(&server, "first-owner").await.is_empty());
}

#[tokio::test]
async fn transfer_from_an_anonymous_buyer_keeps_one_identified_holder() {
    let server = TestServer::start().await;
    server.set_sharing("production", "transfer").await;
    let buyer = anonymous_profile(&server).await;
    let (status, _) = send(
        server
            .request(Method::POST, SET_TRANSACTION)
            .header("adapty-profile-id", &buyer)
            .json(&chain_body("tx-1", "Production")),
    )
    .await;
    assert_eq!(status, 200);
    for cuid in ["first", "second"] {
        server.create_profile(cuid).await;
        server
            .set_transaction(cuid, &chain_body("tx-1", "Production"))
            .await;
    }
    assert!(
        levels_of(&server, "first").await.is_empty(),
        "the access moved on to the second identified user"
    );
    assert_eq!(levels_of(&server, "second").await, vec!["premium"]);
    let (_, anonymous) = send(
        server
            .request(Method::GET, PROFILE)
            .header("adapty-profile-id", &buyer),
    )
    .await;
    assert_eq!(
        active_levels(&anonymous),
        vec!["premium"],
        "the buyer keeps it"
    );
}

#[tokio::test]
async fn deleting_an_inheritor_leaves_the_parent_alone() {
    let server = TestServer::start().await;
    for cuid in ["parent", "heir"] {
        server.create_profile(cuid).await;
    }
    server
        .set_transaction("parent", &chain_body("tx-1", "Production"))
        .await;
    server
        .set_transaction("heir", &chain_body("tx-1", "Production"))
        .await;
    assert_eq!(levels_of(&server, "heir").await, vec!["premium"]);
    let (status, _) = send(server.profile(Method::DELETE, "heir")).await;
    assert_eq!(status, 204);
    let (_, parent) = send(server.profile(Method::GET, "parent")).await;
    assert_eq!(active_levels(&parent), vec!["premium"]);
    assert_eq!(parent["data"]["subscriptions"].as_array().unwrap().len(), 1);
    // A new profile with the heir's id starts with nothing.
    server.create_profile("heir").await;
    assert!(levels_of(&server, "heir").await.is_empty());
}

#[tokio::test]
async fn deleting_a_parent_with_two_inheritors() {
    let server = TestServer::start().await;
    for cuid in ["parent", "heir-a", "heir-b", "newcomer"] {
        server.create_profile(cuid).await;
    }
    server
        .set_transaction("parent", &chain_body("tx-1", "Production"))
        .await;
    server
        .set_transaction("heir-a", &chain_body("tx-1", "Production"))
        .await;
    server
        .set_transaction("heir-b", &chain_body("tx-1", "Production"))
        .await;
    let (status, _) = send(server.profile(Method::DELETE, "parent")).await;
    assert_eq!(status, 204);
    // Inheritors keep their access until the chain's next store event.
    assert_eq!(levels_of(&server, "heir-a").await, vec!["premium"]);
    assert_eq!(levels_of(&server, "heir-b").await, vec!["premium"]);

    // The next event comes from heir-a: it becomes the parent and sees the history.
    let (status, answer) = server
        .set_transaction("heir-a", &chain_body("tx-2", "Production"))
        .await;
    assert_eq!(status, 200);
    assert_eq!(answer["data"]["subscriptions"].as_array().unwrap().len(), 1);
    assert_eq!(answer["data"]["total_revenue_usd"], 19.98);
    assert_eq!(
        levels_of(&server, "heir-b").await,
        vec!["premium"],
        "enabled: heir-b still shares"
    );
    // Under `enabled`, a newcomer inherits from the new parent.
    let (_, newcomer) = server
        .set_transaction("newcomer", &chain_body("tx-2", "Production"))
        .await;
    assert_eq!(active_levels(&newcomer), vec!["premium"]);
    assert_eq!(newcomer["data"]["subscriptions"], json!([]));
}

#[tokio::test]
async fn concurrent_deletes_and_transactions_on_one_chain() {
    let server = TestServer::start().await;
    let users: Vec<String> = (0..16).map(|i| format!("racer-{i}")).collect();
    for user in &users {
        server.create_profile(user).await;
    }
    // Every user sends transactions of one chain while half of them are deleted.
    let requests = users.iter().enumerate().flat_map(|(i, user)| {
        let server = &server;
        let transaction = async move {
            let body = chain_body(&format!("race-{i}"), "Production");
            server.set_transaction(user, &body).await
        };
        let delete = async move {
            if i % 2 == 0 {
                send(server.profile(Method::DELETE, user)).await
            } else {
                send(server.profile(Method::GET, user)).await
            }
        };
        [
            Box::pin(transaction) as std::pin::Pin<Box<dyn std::future::Future<Output = _>>>,
            Box::pin(delete),
        ]
    });
    let results = join_all(requests).await;
    for (status, body) in &results {
        assert!(
            [200, 204, 404].contains(&status.as_u16()),
            "{status} {body}"
        );
    }
    // Every acknowledged transaction is in the chain, once: read it through a surviving owner.
    let acknowledged: Vec<usize> = results
        .chunks(2)
        .enumerate()
        .filter(|(_, pair)| pair[0].0 == 200)
        .map(|(i, _)| i)
        .collect();
    let survivors: Vec<&String> = users
        .iter()
        .enumerate()
        .filter(|(i, _)| i % 2 == 1)
        .map(|(_, u)| u)
        .collect();
    // A fresh restore makes one survivor the parent if the chain is detached, so the history
    // is visible through exactly one profile.
    let (status, answer) = server
        .set_transaction(survivors[0], &chain_body("race-final", "Production"))
        .await;
    assert_eq!(status, 200, "{answer}");
    let mut owners = 0;
    let mut revenue = 0.0;
    for user in &survivors {
        let (_, body) = send(server.profile(Method::GET, user)).await;
        if !body["data"]["subscriptions"].as_array().unwrap().is_empty() {
            owners += 1;
            revenue = body["data"]["total_revenue_usd"].as_f64().unwrap();
        }
        assert_eq!(
            active_levels(&body),
            vec!["premium"],
            "{user} shares the access"
        );
    }
    assert!(owners <= 1, "a chain has at most one owner");
    if owners == 1 {
        let expected = ((acknowledged.len() + 1) as f64 * 9.99 * 100.0).round() / 100.0;
        assert_eq!(revenue, expected, "no acknowledged transaction was lost");
    }
}
