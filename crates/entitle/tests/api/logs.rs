//! Logs: one JSON line per request with request id, app id, route, status and latency, and
//! never the key, an email or an attribute value (issue 8, point 5).

use std::time::Duration;

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::ADMIN_TOKEN;
use crate::process::{ServerProcess, create_app};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_json_line_per_request_without_secrets() {
    let dir = tempfile::tempdir().unwrap();
    let database = dir.path().join("entitle.db");
    let log = dir.path().join("server.log");
    let (app_id, key) = create_app(&database);
    let server =
        ServerProcess::start(&database, Some(&log), &[("ENTITLE_LOG_FORMAT", "json")]).await;
    let client = reqwest::Client::new();
    let mut request_ids = Vec::new();
    for (method, body) in [
        (
            Method::POST,
            json!({"email": "logged-not@example.org", "custom_attributes": [{"key": "k", "value": "attribute-value-xyz"}]}),
        ),
        (Method::GET, json!({})),
        (Method::DELETE, json!({})),
    ] {
        let response = client
            .request(
                method,
                format!("{}/api/v2/server-side-api/profile/", server.base),
            )
            .header("Authorization", format!("Api-Key {key}"))
            .header("adapty-customer-user-id", "log-user")
            .json(&body)
            .send()
            .await
            .unwrap();
        assert!(response.status().is_success());
        request_ids.push(
            response.headers()["request-id"]
                .to_str()
                .unwrap()
                .to_owned(),
        );
    }
    // An admin request names the app of its path.
    let response = client
        .get(format!(
            "{}/admin/v1/apps/{app_id}/deletion-records",
            server.base
        ))
        .header("Authorization", format!("Bearer {ADMIN_TOKEN}"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let admin_request_id = response.headers()["request-id"]
        .to_str()
        .unwrap()
        .to_owned();
    tokio::time::sleep(Duration::from_millis(200)).await;
    server.stop();
    let text = std::fs::read_to_string(&log).unwrap();
    let lines: Vec<Value> = text
        .lines()
        .filter(|line| !line.trim().is_empty())
        .map(|line| {
            serde_json::from_str(line).unwrap_or_else(|_| panic!("not a JSON line: {line}"))
        })
        .collect();
    for request_id in &request_ids {
        let matching: Vec<&Value> = lines
            .iter()
            .filter(|l| l["request_id"] == request_id.as_str())
            .collect();
        assert_eq!(matching.len(), 1, "one line for request {request_id}");
        let line = matching[0];
        assert_eq!(line["app_id"], app_id.as_str());
        assert_eq!(line["route"], "/api/v2/server-side-api/profile/");
        assert!(line["status"].as_u64().is_some());
        assert!(line["latency_ms"].as_f64().is_some());
        assert!(line["method"].is_string());
    }
    let admin_line = lines
        .iter()
        .find(|l| l["request_id"] == admin_request_id.as_str())
        .expect("a line for the admin request");
    assert_eq!(admin_line["app_id"], app_id.as_str());
    assert_eq!(
        admin_line["route"],
        "/admin/v1/apps/{app_id}/deletion-records"
    );
    for secret in [
        ADMIN_TOKEN,
        key.as_str(),
        "logged-not@example.org",
        "attribute-value-xyz",
        "log-user",
    ] {
        assert!(!text.contains(secret), "the log holds {secret}");
    }
}
