//! After a delete, the person's data is nowhere: not in the database file after a checkpoint,
//! not in the WAL, not in the logs, not in any feed or outbox row (issue 7, point 4).

use std::time::Duration;

use reqwest::Method;
use serde_json::json;

use crate::helpers::{ADMIN_TOKEN, days_from_now, subscription};
use crate::process::{ServerProcess, create_app};
use crate::receiver::Receiver;

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|window| window == needle.as_bytes())
}

fn database_bytes(path: &std::path::Path) -> Vec<u8> {
    let mut bytes = std::fs::read(path).unwrap_or_default();
    for suffix in ["-wal", "-shm", "-journal"] {
        let mut name = path.as_os_str().to_owned();
        name.push(suffix);
        bytes.extend(std::fs::read(std::path::PathBuf::from(name)).unwrap_or_default());
    }
    bytes
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deleted_profile_leaves_no_trace() {
    let dir = tempfile::tempdir().unwrap();
    let database = dir.path().join("entitle.db");
    let log = dir.path().join("server.log");
    let (app_id, key) = create_app(&database);
    let server = ServerProcess::start(
        &database,
        Some(&log),
        &[("ENTITLE_WEBHOOK_RETRY_BASE", "1h")],
    )
    .await;
    let receiver = Receiver::scripted(|_| (500, Duration::ZERO)).await;
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_entitle"))
        .args([
            "webhooks",
            "add",
            "--app",
            &app_id,
            "--url",
            &receiver.url,
            "--database-url",
        ])
        .arg(&database)
        .output()
        .unwrap();
    assert!(output.status.success());

    let unique = uuid::Uuid::new_v4().simple().to_string();
    let secrets = [
        format!("erase-cuid-{unique}"),
        format!("erase{unique}@example.org"),
        format!("Firstname{}", &unique[..12]),
        format!("Lastname{}", &unique[12..24]),
        format!(
            "+4670{}",
            &unique
                .chars()
                .filter(char::is_ascii_digit)
                .take(7)
                .collect::<String>()
        ),
        format!("attr-{}", &unique[..20]),
    ];
    let [cuid, email, first, last, phone, attribute] = secrets.clone();
    let client = reqwest::Client::new();
    let request = |method: Method, path: &str| {
        client
            .request(method, format!("{}{path}", server.base))
            .header("Authorization", format!("Api-Key {key}"))
            .header("adapty-customer-user-id", &cuid)
    };
    let body = json!({
        "email": email, "first_name": first, "last_name": last, "phone_number": phone,
        "custom_attributes": [{"key": "secret", "value": attribute}],
    });
    let created = request(Method::POST, "/api/v2/server-side-api/profile/")
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 200);
    let purchase = subscription(
        &format!("tx-{unique}"),
        &format!("tx-{unique}"),
        &days_from_now(-1),
        &days_from_now(30),
    );
    let bought = request(
        Method::POST,
        "/api/v2/server-side-api/purchase/set/transaction/",
    )
    .json(&purchase)
    .send()
    .await
    .unwrap();
    assert_eq!(bought.status(), 200);
    receiver.wait_for(1, Duration::from_secs(20)).await;

    // Before: the data is there, in the database files as in the feed, so the searches below
    // can find it (personal data is never stored compressed: a byte search proves erasure).
    let bytes = database_bytes(&database);
    for secret in &secrets {
        assert!(contains(&bytes, secret), "{secret} is not stored as it is");
    }
    let feed = client
        .get(format!("{}/admin/v1/apps/{app_id}/events", server.base))
        .header("Authorization", format!("Bearer {ADMIN_TOKEN}"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(feed.contains(&email));

    let deleted = request(Method::DELETE, "/api/v2/server-side-api/profile/")
        .send()
        .await
        .unwrap();
    assert_eq!(deleted.status(), 204);

    let feed = client
        .get(format!("{}/admin/v1/apps/{app_id}/events", server.base))
        .header("Authorization", format!("Bearer {ADMIN_TOKEN}"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    for secret in &secrets {
        assert!(
            !feed.contains(secret.as_str()),
            "the feed still holds {secret}"
        );
    }
    // The writer truncates the WAL after a checkpoint once it is idle; then no byte of the
    // database files holds the person's data.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let bytes = database_bytes(&database);
        let left: Vec<_> = secrets.iter().filter(|s| contains(&bytes, s)).collect();
        if left.is_empty() {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "still in the database files: {left:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    server.stop();
    let bytes = database_bytes(&database);
    for secret in &secrets {
        assert!(
            !contains(&bytes, secret),
            "{secret} is in the database files after shutdown"
        );
    }
    let logs = std::fs::read(&log).unwrap();
    assert!(logs.len() > 1000, "the server logged (at debug level)");
    for secret in &secrets {
        assert!(!contains(&logs, secret), "{secret} is in the logs");
    }
}
