//! The operator CLI, run as the real binary against the test's database.

use std::process::Command;

use reqwest::Method;
use serde_json::Value;

use crate::helpers::*;

fn entitle(database_url: &entitle::DatabaseUrl, args: &[&str]) -> (bool, String, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_entitle"))
        .args(args)
        .arg("--database-url")
        .arg(database_url.redacted())
        .env_remove("ENTITLE_DATABASE_URL")
        .output()
        .expect("run entitle");
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

fn json_line(stdout: &str) -> Value {
    serde_json::from_str(stdout.trim()).unwrap_or_else(|_| panic!("not JSON: {stdout}"))
}

fn is_secret(text: &str) -> bool {
    let Some(rest) = text.strip_prefix("secret_live_") else {
        return false;
    };
    let Some((lookup, secret)) = rest.split_once('.') else {
        return false;
    };
    lookup.len() == 8 && secret.len() == 32
}

#[tokio::test]
async fn apps_and_keys_from_the_command_line_work_on_a_running_server() {
    let server = TestServer::start().await;
    let url = server.database_url.clone();

    let (ok, stdout, stderr) = entitle(&url, &["apps", "create", "--name", "shop", "--json"]);
    assert!(ok, "{stderr}");
    let app = json_line(&stdout);
    let app_id = app["app_id"].as_str().unwrap().to_owned();
    let first_key = app["secret_key"].as_str().unwrap().to_owned();
    let first_key_id = app["key_id"].as_str().unwrap().to_owned();
    assert!(is_secret(&first_key), "{first_key}");

    let (ok, stdout, _) = entitle(&url, &["apps", "list", "--json"]);
    assert!(ok);
    let apps = json_line(&stdout);
    assert!(
        apps.as_array()
            .unwrap()
            .iter()
            .any(|a| a["app_id"] == app_id.as_str() && a["name"] == "shop")
    );
    let (ok, stdout, _) = entitle(&url, &["apps", "list"]);
    assert!(ok && stdout.contains("shop") && stdout.contains(&app_id));

    let (ok, stdout, stderr) = entitle(&url, &["keys", "create", "--app", &app_id, "--json"]);
    assert!(ok, "{stderr}");
    let key = json_line(&stdout);
    let key_id = key["key_id"].as_str().unwrap().to_owned();
    let second_key = key["secret_key"].as_str().unwrap().to_owned();
    assert!(is_secret(&second_key));
    assert_ne!(first_key, second_key);

    // Both keys of the app work on the running server, and see the same app.
    for secret in [&first_key, &second_key] {
        let (status, body) = send(
            server
                .request_as(secret, Method::POST, PROFILE)
                .header("adapty-customer-user-id", "cli-user"),
        )
        .await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["data"]["app_id"], app_id.as_str());
    }

    let (ok, stdout, stderr) = entitle(&url, &["keys", "revoke", "--key", &key_id, "--json"]);
    assert!(ok, "{stderr}");
    assert_eq!(json_line(&stdout)["key_id"], key_id.as_str());

    // Revoked: stops at once on the server that is already running; the other key still works.
    let (status, body) = send(
        server
            .request_as(&second_key, Method::GET, PROFILE)
            .header("adapty-customer-user-id", "cli-user"),
    )
    .await;
    assert_error(status, &body, 401, "not_authenticated");
    let (status, _) = send(
        server
            .request_as(&first_key, Method::GET, PROFILE)
            .header("adapty-customer-user-id", "cli-user"),
    )
    .await;
    assert_eq!(status, 200);

    // The first key's id, printed by `apps create`, revokes it.
    let (ok, _, stderr) = entitle(&url, &["keys", "revoke", "--key", &first_key_id]);
    assert!(ok, "{stderr}");
    let (status, body) = send(
        server
            .request_as(&first_key, Method::GET, PROFILE)
            .header("adapty-customer-user-id", "cli-user"),
    )
    .await;
    assert_error(status, &body, 401, "not_authenticated");

    // The secret is stored only as a hash: it is nowhere in the database file.
    if let entitle::DatabaseUrl::Sqlite(path) = &url {
        let mut bytes = std::fs::read(path).unwrap();
        if let Ok(wal) = std::fs::read(path.with_extension("db-wal")) {
            bytes.extend(wal);
        }
        for secret in [&first_key, &second_key] {
            assert!(
                !contains(&bytes, secret.as_bytes()),
                "a secret is stored in clear"
            );
        }
    }
}

#[tokio::test]
async fn cli_errors_are_clear_and_fail() {
    let server = TestServer::start().await;
    let url = server.database_url.clone();
    let (ok, _, stderr) = entitle(&url, &["keys", "create", "--app", "not-a-uuid"]);
    assert!(!ok && stderr.contains("--app"), "{stderr}");
    let (ok, _, stderr) = entitle(
        &url,
        &[
            "keys",
            "create",
            "--app",
            "00000000-0000-4000-8000-000000000000",
        ],
    );
    assert!(!ok && stderr.contains("app not found"), "{stderr}");
    let (ok, _, stderr) = entitle(
        &url,
        &[
            "keys",
            "revoke",
            "--key",
            "00000000-0000-4000-8000-000000000000",
        ],
    );
    assert!(!ok && stderr.contains("key not found"), "{stderr}");
    let (ok, _, _) = entitle(&url, &["apps", "create", "--name", "  "]);
    assert!(!ok);
}

pub fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack
        .windows(needle.len())
        .any(|window| window == needle)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_first_start_creates_an_app_and_shows_its_key_once() {
    let dir = tempfile::tempdir().unwrap();
    let database = dir.path().join("fresh").join("entitle.db");
    let first = crate::process::first_start_output(&database).await;
    assert!(database.exists(), "the database and its folder are created");
    let secret = first
        .split_whitespace()
        .find(|word| word.starts_with("secret_live_"))
        .expect("the key is shown")
        .trim_end_matches('\'')
        .to_owned();
    assert!(is_secret(&secret), "{secret}");
    assert!(
        first.contains("curl") && first.contains(&format!("Api-Key {secret}")),
        "{first}"
    );
    assert!(first.contains("/api/v2/server-side-api/profile/"));
    // The key works, and the next start shows nothing.
    let second = crate::process::first_start_output(&database).await;
    assert!(!second.contains("secret_live_"), "{second}");
    let server = crate::process::ServerProcess::start(&database, None, &[]).await;
    let response = reqwest::Client::new()
        .post(format!("{}/api/v2/server-side-api/profile/", server.base))
        .header("Authorization", format!("Api-Key {secret}"))
        .header("adapty-customer-user-id", "first")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    server.stop();
}
