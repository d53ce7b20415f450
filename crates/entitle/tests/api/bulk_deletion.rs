//! Bulk deletion jobs and deletion records on the admin API (issue 8, points 2–4).

use std::time::Duration;

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::*;

async fn wait_until_done(server: &TestServer, job_id: &str) -> Value {
    let path = format!("/admin/v1/apps/{}/deletions/{job_id}", server.app_id);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        let (status, body) = send(server.admin(Method::GET, &path)).await;
        assert_eq!(status, 200, "{body}");
        if body["status"] == "completed" {
            return body;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the job never finished: {body}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn a_job_deletes_a_list_and_reports_each_item() {
    let server = TestServer::start().await;
    let mut cuids = Vec::new();
    for i in 0..30 {
        let cuid = format!("bulk-{i}");
        server.create_profile(&cuid).await;
        server
            .set_transaction(
                &cuid,
                &subscription(
                    &format!("bj-{i}"),
                    &format!("bj-{i}"),
                    &days_from_now(-1),
                    &days_from_now(30),
                ),
            )
            .await;
        cuids.push(cuid);
    }
    let by_id = server.create_profile("by-profile-id").await;
    cuids.push("nobody-here".to_owned());
    let body = json!({"customer_user_ids": cuids, "profile_ids": [by_id, "00000000-0000-4000-8000-000000000000"]});
    let path = format!("/admin/v1/apps/{}/deletions", server.app_id);
    let (status, created) = send(server.admin(Method::POST, &path).json(&body)).await;
    assert_eq!(status, 202, "{created}");
    assert_eq!(created["total"], 33);
    let job_id = created["job_id"].as_str().unwrap().to_owned();

    let done = wait_until_done(&server, &job_id).await;
    assert_eq!(
        done["counts"],
        json!({"pending": 0, "deleted": 31, "not_found": 2, "failed": 0})
    );
    let items = done["items"].as_array().unwrap();
    assert_eq!(items.len(), 33);
    assert_eq!(
        items[30],
        json!({"index": 30, "kind": "customer_user_id", "status": "not_found"})
    );
    assert_eq!(
        items[31],
        json!({"index": 31, "kind": "profile_id", "status": "deleted"})
    );
    assert!(done["finished_at"].is_string());
    // The results never repeat the ids (they may be personal data): only positions.
    assert!(!done.to_string().contains("bulk-1"));
    for cuid in ["bulk-0", "bulk-29"] {
        let (status, _) = send(server.profile(Method::GET, cuid)).await;
        assert_eq!(status, 404);
    }

    // Resubmitting the same list is idempotent: the same job, nothing run twice.
    let (status, again) = send(server.admin(Method::POST, &path).json(&body)).await;
    assert_eq!(status, 200);
    assert_eq!(again["job_id"], job_id.as_str());
    assert_eq!(again["status"], "completed");

    // Every deletion is in the audit trail: by the job, with counts, without personal data.
    let (status, records) = send(server.admin(
        Method::GET,
        &format!("/admin/v1/apps/{}/deletion-records", server.app_id),
    ))
    .await;
    assert_eq!(status, 200);
    let records = records["data"].as_array().unwrap().clone();
    assert_eq!(records.len(), 31);
    let record = &records[0];
    assert_eq!(record["deleted_by"], json!({"job_id": job_id}));
    assert_eq!(record["counts"]["chains_detached"], 1);
    assert_eq!(
        record["counts"]["events_removed"], 1,
        "subscription_started"
    );
    assert_eq!(record["profile_hash"].as_str().unwrap().len(), 64);
    let text = serde_json::to_string(&records).unwrap();
    assert!(
        !text.contains("bulk-") && !text.contains(&by_id),
        "no personal data or raw ids"
    );
}

#[tokio::test]
async fn bad_job_requests_are_refused() {
    let server = TestServer::start().await;
    let path = format!("/admin/v1/apps/{}/deletions", server.app_id);
    let too_many: Vec<String> = (0..10_001).map(|i| format!("u{i}")).collect();
    for (body, source) in [
        (json!({}), None),
        (json!({"customer_user_ids": []}), None),
        (
            json!({"customer_user_ids": "u1"}),
            Some("customer_user_ids"),
        ),
        (json!({"customer_user_ids": [1]}), Some("customer_user_ids")),
        (json!({"profile_ids": ["not-a-uuid"]}), Some("profile_ids")),
        (
            json!({"customer_user_ids": too_many}),
            Some("customer_user_ids"),
        ),
    ] {
        let (status, answer) = send(server.admin(Method::POST, &path).json(&body)).await;
        assert_error(status, &answer, 400, "validation_error");
        assert_eq!(error_source(&answer), source, "{answer}");
    }
    let (status, answer) = send(
        server
            .request(Method::POST, &path)
            .json(&json!({"customer_user_ids": ["x"]})),
    )
    .await;
    assert_error(status, &answer, 401, "not_authenticated");
    let (status, _) = send(server.admin(
        Method::GET,
        &format!("{path}/00000000-0000-4000-8000-000000000000"),
    ))
    .await;
    assert_eq!(status, 404);
    // An app nobody made: 404 on every admin path that names it, never an empty page.
    let unknown = "00000000-0000-4000-8000-00000000abcd";
    for path in [
        format!("/admin/v1/apps/{unknown}/deletions"),
        format!("/admin/v1/apps/{unknown}/deletion-records"),
        format!("/admin/v1/apps/{unknown}/events"),
    ] {
        let request = if path.ends_with("/deletions") {
            server
                .admin(Method::POST, &path)
                .json(&json!({"customer_user_ids": ["x"]}))
        } else {
            server.admin(Method::GET, &path)
        };
        let (status, answer) = send(request).await;
        assert_error(status, &answer, 404, "not_found");
    }
}

#[tokio::test]
async fn a_job_of_ten_thousand_of_the_longest_ids_is_taken() {
    let server = TestServer::start().await;
    let path = format!("/admin/v1/apps/{}/deletions", server.app_id);
    // 10,000 customer user ids of the most bytes one may have (256): over 2.5 MB of JSON, more
    // than the 1 MiB other bodies are held to.
    let longest: Vec<String> = (0..10_000).map(|i| format!("{i:0>256}")).collect();
    let (status, answer) = send(
        server
            .admin(Method::POST, &path)
            .json(&json!({ "customer_user_ids": longest })),
    )
    .await;
    // Taken whole (running it is the other tests' business: ten thousand lookups would only
    // slow the suite).
    assert_eq!(status, 202, "{answer}");
    assert_eq!(answer["total"], 10_000, "{answer}");
    // Past 3 MiB it is refused, with the envelope.
    let padding = "x".repeat(3 * 1024 * 1024);
    let (status, answer) = send(
        server
            .admin(Method::POST, &path)
            .json(&json!({ "customer_user_ids": ["a"], "padding": padding })),
    )
    .await;
    assert_error(status, &answer, 413, "payload_too_large");
    // Other bodies keep the 1 MiB limit.
    let padding = "x".repeat(1024 * 1024 + 1);
    let (status, answer) = send(
        server
            .profile(Method::PATCH, "anyone")
            .json(&json!({ "ignored": padding })),
    )
    .await;
    assert_error(status, &answer, 413, "payload_too_large");
}

#[tokio::test]
async fn a_job_survives_a_restart() {
    // A server that records jobs but runs none; the next one (with a runner) finishes it.
    let server = TestServer::start_with(|config| config.worker = None).await;
    for i in 0..20 {
        server.create_profile(&format!("later-{i}")).await;
    }
    let path = format!("/admin/v1/apps/{}/deletions", server.app_id);
    let cuids: Vec<String> = (0..20).map(|i| format!("later-{i}")).collect();
    let (status, created) = send(
        server
            .admin(Method::POST, &path)
            .json(&json!({"customer_user_ids": cuids})),
    )
    .await;
    assert_eq!(status, 202);
    let job_id = created["job_id"].as_str().unwrap().to_owned();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let (_, pending) = send(server.admin(Method::GET, &format!("{path}/{job_id}"))).await;
    assert_eq!(pending["status"], "queued");
    let server = server.restart(|_| {}).await;
    let done = wait_until_done(&server, &job_id).await;
    assert_eq!(done["counts"]["deleted"], 20);
}

#[tokio::test]
async fn deletion_records_page_and_filter_by_time() {
    let server = TestServer::start().await;
    for i in 0..5 {
        server.create_profile(&format!("gone-{i}")).await;
        send(server.profile(Method::DELETE, &format!("gone-{i}"))).await;
    }
    let base = format!("/admin/v1/apps/{}/deletion-records", server.app_id);
    let (_, first) = send(server.admin(Method::GET, &format!("{base}?limit=2"))).await;
    assert_eq!(first["data"].as_array().unwrap().len(), 2);
    let cursor = first["next_cursor"].as_str().unwrap();
    let (_, rest) =
        send(server.admin(Method::GET, &format!("{base}?limit=10&cursor={cursor}"))).await;
    assert_eq!(rest["data"].as_array().unwrap().len(), 3);
    assert_eq!(rest["next_cursor"], Value::Null);
    let record = &first["data"][0];
    assert_eq!(record["deleted_by"]["key_id"].as_str().unwrap().len(), 36);
    let since = days_from_now(1).replace('+', "%2B");
    let (_, future) = send(server.admin(Method::GET, &format!("{base}?since={since}"))).await;
    assert_eq!(future["data"], json!([]));
    let (status, answer) =
        send(server.admin(Method::GET, &format!("{base}?since=yesterday"))).await;
    assert_error(status, &answer, 400, "datetime");
}

#[tokio::test]
async fn readiness_and_outbox_metrics() {
    let server = TestServer::start().await;
    let (status, body) = send(server.client.get(server.url("/readyz"))).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["status"], "ready");
    let text = server.metrics().await;
    assert!(text.contains("entitle_outbox_pending "), "{text}");
    assert!(text.contains("entitle_outbox_oldest_due_age_seconds "));
}
