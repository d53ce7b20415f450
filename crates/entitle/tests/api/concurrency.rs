//! 64 concurrent creates and deletes, of distinct customer user ids and of one: never a 500,
//! never two profiles for one customer user id, a consistent final state.

use std::collections::HashSet;

use futures::future::join_all;
use reqwest::Method;

use crate::helpers::*;

#[tokio::test]
async fn concurrent_creates_of_one_customer_user_id_make_one_profile() {
    let server = TestServer::start().await;
    let results = join_all((0..64).map(|_| send(server.profile(Method::POST, "the-one")))).await;
    let ids: HashSet<String> = results
        .iter()
        .map(|(status, body)| {
            assert_eq!(*status, 200, "{body}");
            body["data"]["profile_id"].as_str().unwrap().to_owned()
        })
        .collect();
    assert_eq!(ids.len(), 1, "one customer user id, one profile");
}

#[tokio::test]
async fn concurrent_creates_and_deletes_of_distinct_users() {
    let server = TestServer::start().await;
    let created =
        join_all((0..64).map(|i| send(server.profile(Method::POST, &format!("u{i}"))))).await;
    assert!(created.iter().all(|(status, _)| *status == 200));
    let ids: HashSet<_> = created
        .iter()
        .map(|(_, b)| b["data"]["profile_id"].clone())
        .collect();
    assert_eq!(ids.len(), 64);

    // Delete the even ones while re-creating the odd ones.
    let mixed = join_all((0..64).map(|i| {
        let method = if i % 2 == 0 {
            Method::DELETE
        } else {
            Method::POST
        };
        send(server.profile(method, &format!("u{i}")))
    }))
    .await;
    for (i, (status, body)) in mixed.iter().enumerate() {
        let expected = if i % 2 == 0 { 204 } else { 200 };
        assert_eq!(status.as_u16(), expected, "u{i}: {body}");
    }
    for i in 0..64 {
        let (status, _) = send(server.profile(Method::GET, &format!("u{i}"))).await;
        assert_eq!(status.as_u16(), if i % 2 == 0 { 404 } else { 200 }, "u{i}");
    }
}

#[tokio::test]
async fn concurrent_creates_and_deletes_of_one_user_stay_consistent() {
    let server = TestServer::start().await;
    send(server.profile(Method::POST, "contested")).await;
    let results = join_all((0..64).map(|i| {
        let method = if i % 2 == 0 {
            Method::DELETE
        } else {
            Method::POST
        };
        send(server.profile(method, "contested"))
    }))
    .await;
    let mut created_ids = HashSet::new();
    for (status, body) in &results {
        assert!(
            [200, 204, 404].contains(&status.as_u16()),
            "{status}: {body}"
        );
        if *status == 404 {
            assert_eq!(body["error_code"], "profile_does_not_exist");
        }
        if *status == 200 {
            created_ids.insert(body["data"]["profile_id"].clone());
        }
    }
    // At the end there is at most one profile for the id, and a GET agrees with a second GET.
    let (first_status, first) = send(server.profile(Method::GET, "contested")).await;
    let (second_status, second) = send(server.profile(Method::GET, "contested")).await;
    assert_eq!(first_status, second_status);
    if first_status == 200 {
        assert_eq!(first["data"]["profile_id"], second["data"]["profile_id"]);
        assert!(created_ids.contains(&first["data"]["profile_id"]));
    }
    // A delete now either removes the one profile or finds none; never both a 204 and a survivor.
    let (status, _) = send(server.profile(Method::DELETE, "contested")).await;
    let (after, _) = send(server.profile(Method::GET, "contested")).await;
    assert!(status == 204 || status == 404);
    assert_eq!(after, 404);
}

#[tokio::test]
async fn shutdown_lets_in_flight_requests_finish() {
    let server = TestServer::start().await;
    let url = server.database_url.clone();
    let requests: Vec<_> = (0..64)
        .map(|i| {
            let request = server.profile(Method::POST, &format!("inflight-{i}"));
            tokio::spawn(async move { request.send().await.map(|r| r.status().as_u16()) })
        })
        .collect();
    tokio::task::yield_now().await;
    let _data = server.stop().await;
    let mut acknowledged = Vec::new();
    for (i, request) in requests.into_iter().enumerate() {
        // A request either completed with 200 or was never accepted (connection refused);
        // an accepted request is never cut off with a 5xx.
        if let Ok(status) = request.await.unwrap() {
            assert_eq!(status, 200);
            acknowledged.push(format!("inflight-{i}"));
        }
    }
    let backend = entitle::Backend::open(&url).await.unwrap();
    let app = backend.store().list_apps().await.unwrap()[0].app_id;
    for cuid in acknowledged {
        let target = entitle_domain::resolve::ProfileRef::CustomerUserId(
            entitle_domain::CustomerUserId::parse(&cuid).unwrap(),
        );
        assert!(
            backend.store().get_profile(app, target).await.is_ok(),
            "{cuid} acknowledged but lost"
        );
    }
    backend.close().await;
}
