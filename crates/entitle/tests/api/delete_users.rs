//! `entitle delete-users` against a running server, and the per-key rate limit it must respect.

use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::Value;

use crate::helpers::*;

/// Runs `entitle delete-users` (the real binary) without blocking the server's runtime.
async fn delete_users(
    server: &TestServer,
    file: &std::path::Path,
    extra: &[&str],
) -> (bool, Value, String) {
    let mut args = vec![
        "delete-users".to_owned(),
        "--url".to_owned(),
        server.url(""),
        "--api-key".to_owned(),
        server.key.clone(),
        "--file".to_owned(),
        file.display().to_string(),
        "--json".to_owned(),
    ];
    args.extend(extra.iter().map(|s| (*s).to_owned()));
    let output = tokio::task::spawn_blocking(move || {
        std::process::Command::new(env!("CARGO_BIN_EXE_entitle"))
            .args(&args)
            .env_remove("ENTITLE_API_KEY")
            .output()
            .expect("run entitle")
    })
    .await
    .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let summary = serde_json::from_str(stdout.trim()).unwrap_or(Value::Null);
    (
        output.status.success(),
        summary,
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deletes_a_list_and_resumes_without_repeating_work() {
    let server = TestServer::start().await;
    let mut lines = vec!["# users to forget".to_owned(), String::new()];
    for i in 0..40 {
        let cuid = format!("bulk-{i}");
        server.create_profile(&cuid).await;
        lines.push(cuid);
    }
    lines.extend(["ghost-1", "ghost-2", "ghost-3", "bulk-0"].map(str::to_owned));
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("users.txt");
    std::fs::write(&file, lines.join("\n")).unwrap();

    let (ok, summary, stderr) = delete_users(&server, &file, &["--concurrency", "16"]).await;
    assert!(ok, "{stderr}");
    assert_eq!(summary["deleted"], 40, "{summary}");
    assert_eq!(summary["not_found"], 3);
    assert_eq!(summary["failed"], 0);
    for i in [0, 17, 39] {
        let (status, _) = send(server.profile(Method::GET, &format!("bulk-{i}"))).await;
        assert_eq!(status, 404);
    }
    let results = std::fs::read_to_string(dir.path().join("users.results.jsonl")).unwrap();
    assert_eq!(results.lines().count(), 43);
    assert!(
        results
            .lines()
            .all(|l| serde_json::from_str::<Value>(l).is_ok())
    );

    // A second run finds everything done and sends nothing.
    let (ok, summary, _) = delete_users(&server, &file, &[]).await;
    assert!(ok);
    assert_eq!(summary["skipped_already_done"], 43);
    assert_eq!(summary["deleted"], 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn by_profile_id_and_failures_are_reported() {
    let server = TestServer::start().await;
    let id = server.create_profile("by-id").await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("ids.txt");
    std::fs::write(&file, format!("{id}\nnot-a-uuid\n")).unwrap();
    let (ok, summary, stderr) = delete_users(&server, &file, &["--by", "profile-id"]).await;
    assert!(!ok, "a failed deletion makes the command fail");
    assert!(stderr.contains("failed"), "{stderr}");
    assert_eq!(summary["deleted"], 1);
    assert_eq!(summary["failed"], 1);
    let results = std::fs::read_to_string(dir.path().join("ids.results.jsonl")).unwrap();
    assert!(
        results.contains("\"http_status\":400") && results.contains("validation_error"),
        "{results}"
    );
}

/// Creates a profile for each of `users` on a server with a rate limit, waiting out its 429s.
async fn create_under_the_limit(server: &TestServer, users: &[String]) {
    for user in users {
        loop {
            let (status, _) = send(server.profile(Method::POST, user)).await;
            if status == 200 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_rate_limit_answers_429_and_the_cli_waits_it_out() {
    // 600 requests a minute: 10 a second with a burst of 10.
    let server = TestServer::start_with(|config| config.rate_limit_per_minute = 600).await;
    let mut throttled = None;
    for _ in 0..40 {
        let response = server.profile(Method::GET, "nobody").send().await.unwrap();
        if response.status() == 429 {
            throttled = Some(response);
            break;
        }
    }
    let response = throttled.expect("the limit was reached");
    let retry_after: u64 = response.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(retry_after >= 1);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error_code"], "rate_limited");
    assert_eq!(body["status_code"], 429);
    // Another app's key has its own bucket.
    let (_, other_key) = server.another_app("other").await;
    let (status, _) = send(
        server
            .request_as(&other_key, Method::GET, PROFILE)
            .header("adapty-customer-user-id", "x"),
    )
    .await;
    assert_eq!(status, 404);

    tokio::time::sleep(Duration::from_secs(2)).await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("users.txt");
    let users: Vec<String> = (0..30).map(|i| format!("limited-{i}")).collect();
    create_under_the_limit(&server, &users).await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    std::fs::write(&file, users.join("\n")).unwrap();
    let started = Instant::now();
    let (ok, summary, stderr) = delete_users(&server, &file, &["--concurrency", "8"]).await;
    assert!(ok, "{stderr}");
    assert_eq!(summary["deleted"], 30, "{summary}");
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "the limit was honoured"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_far_over_the_rate_limit_slows_down_and_still_deletes_everyone() {
    // One request a second: the last of twelve users is turned away about eleven times, more
    // than a client that counted 429s as failed tries would take.
    let server = TestServer::start_with(|config| config.rate_limit_per_minute = 60).await;
    let users: Vec<String> = (0..12).map(|i| format!("patient-{i}")).collect();
    create_under_the_limit(&server, &users).await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("users.txt");
    std::fs::write(&file, users.join("\n")).unwrap();
    let (ok, summary, stderr) = delete_users(&server, &file, &["--concurrency", "12"]).await;
    assert!(ok, "{stderr}");
    assert_eq!(summary["deleted"], 12, "{summary}");
    assert_eq!(summary["failed"], 0, "{summary}");
}
