//! After a delete, the person's data is nowhere: not in the database file after a checkpoint,
//! not in the WAL, not in the logs, not in any feed or outbox row (issue 7, point 4).

use std::time::Duration;

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{ADMIN_TOKEN, TestServer, days_from_now, send, subscription};
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

/// A period of one subscription chain, which a second profile restoring it shares.
fn shared_chain(id: &str) -> Value {
    subscription(id, "shared-chain", &days_from_now(-1), &days_from_now(30))
}

/// Feed entries that name `cuid` or `profile_id` anywhere, as text (a search of the whole
/// entry, not only where the name is expected).
async fn naming(server: &TestServer, cuid: &str, profile_id: &str) -> Vec<String> {
    server
        .feed("")
        .await
        .iter()
        // The announcement of a deletion carries the deleted profile's id and nothing else.
        .filter(|entry| entry["event_type"] != "profile_deleted")
        .map(Value::to_string)
        .filter(|entry| entry.contains(cuid) || entry.contains(profile_id))
        .collect()
}

#[tokio::test]
async fn a_deleted_profile_leaves_the_sharing_lists_of_other_profiles_events() {
    let server = TestServer::start().await;
    let _receiver = server.listen_to_every_event().await;
    let keeper = server.create_profile("keeper").await;
    let leaver = server.create_profile("leaver-inheritor").await;
    server
        .set_transaction("keeper", &shared_chain("tx-1"))
        .await;
    server
        .set_transaction("leaver-inheritor", &shared_chain("tx-1"))
        .await;
    // The renewal's events of the keeper name the inheritor as sharing the access.
    server
        .set_transaction("keeper", &shared_chain("tx-2"))
        .await;
    let keepers_naming_it: Vec<Value> = server
        .feed(&format!("profile_id={keeper}"))
        .await
        .into_iter()
        .filter(|e| e.to_string().contains("leaver-inheritor"))
        .collect();
    assert!(!keepers_naming_it.is_empty(), "the keeper's events name it");
    let (status, _) = send(server.profile(Method::DELETE, "leaver-inheritor")).await;
    assert_eq!(status, 204);
    assert_eq!(
        naming(&server, "leaver-inheritor", &leaver).await,
        Vec::<String>::new(),
        "nothing in the feed names the deleted inheritor"
    );
    // The keeper's events stay, with a list that no longer holds it (null: no one else left).
    let keepers = server.feed(&format!("profile_id={keeper}")).await;
    for before in &keepers_naming_it {
        let after = keepers
            .iter()
            .find(|e| e["event_id"] == before["event_id"])
            .expect("the keeper's event stays");
        assert_eq!(
            after["payload"]["profiles_sharing_access_level"],
            Value::Null
        );
        assert_eq!(after["payload"]["customer_user_id"], "keeper");
    }

    // The other way round: a new inheritor's events name the parent, which is then deleted.
    let heir = server.create_profile("heir").await;
    server.set_transaction("heir", &shared_chain("tx-2")).await;
    let heirs = server.feed(&format!("profile_id={heir}")).await;
    assert!(
        heirs.iter().any(|e| e.to_string().contains(&keeper)),
        "the heir's events name the parent: {heirs:?}"
    );
    let (status, _) = send(server.profile(Method::DELETE, "keeper")).await;
    assert_eq!(status, 204);
    assert_eq!(
        naming(&server, "\"keeper\"", &keeper).await,
        Vec::<String>::new(),
        "nothing in the feed names the deleted parent"
    );
    assert!(
        !server.feed(&format!("profile_id={heir}")).await.is_empty(),
        "the heir's events stay"
    );
}
