//! Starting a server on a fresh database and talking to it.

use std::net::SocketAddr;
use std::sync::Arc;

use entitle::{Backend, Config, DatabaseUrl};

pub use crate::database::{TestDatabase, on_postgres};
use entitle_domain::datetime::Timestamp;
use reqwest::{Method, StatusCode};
use serde_json::Value;
use tokio::sync::oneshot;

use crate::receiver::Receiver;

pub const PROFILE: &str = "/api/v2/server-side-api/profile/";

pub struct TestServer {
    pub address: SocketAddr,
    pub database_url: DatabaseUrl,
    pub client: reqwest::Client,
    /// The secret key of the app created for the test.
    pub key: String,
    pub app_id: String,
    shutdown: Option<oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<anyhow::Result<()>>>,
    /// Shared by every server on the same database; removed when the last one goes.
    dir: Arc<TestDatabase>,
}

impl TestServer {
    /// A server over a fresh database, with one app and its key.
    pub async fn start() -> Self {
        Self::start_with(|_| {}).await
    }

    /// Like [`TestServer::start`], with the configuration adjusted first. The admin API is on
    /// (token [`ADMIN_TOKEN`]) and webhooks may reach loopback receivers.
    pub async fn start_with(adjust: impl FnOnce(&mut Config)) -> Self {
        let (dir, database_url) = TestDatabase::create().await;
        let app = create_app(&database_url, "test").await;
        Self::launch(dir, database_url, app, adjust).await
    }

    /// Another server on this server's database (a second node, or the same data after a
    /// restart), using the same app and key.
    pub async fn sibling(&self, adjust: impl FnOnce(&mut Config)) -> Self {
        let app = (self.app_id.clone(), self.key.clone());
        Self::launch(self.dir.clone(), self.database_url.clone(), app, adjust).await
    }

    async fn launch(
        dir: Arc<TestDatabase>,
        database_url: DatabaseUrl,
        (app_id, key): (String, String),
        adjust: impl FnOnce(&mut Config),
    ) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let address = listener.local_addr().expect("address");
        let (shutdown, signal) = oneshot::channel::<()>();
        let mut config = Config::for_database(database_url.clone());
        config.admin_token = Some(ADMIN_TOKEN.to_owned());
        if let Some(worker) = config.worker.as_mut() {
            worker.targets.allow_private = true;
            worker.poll_interval = std::time::Duration::from_millis(20);
        }
        adjust(&mut config);
        let task = tokio::spawn(entitle::run(config, listener, async {
            let _ = signal.await;
        }));
        Self {
            address,
            database_url,
            client: reqwest::Client::builder()
                .pool_max_idle_per_host(64)
                .build()
                .expect("client"),
            key,
            app_id,
            shutdown: Some(shutdown),
            task: Some(task),
            dir,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.address, path)
    }

    /// Another app on the same database, as `(app_id, secret_key)`.
    pub async fn another_app(&self, name: &str) -> (String, String) {
        create_app(&self.database_url, name).await
    }

    /// A request with this test's key.
    pub fn request(&self, method: Method, path: &str) -> reqwest::RequestBuilder {
        self.request_as(&self.key, method, path)
    }

    pub fn request_as(&self, key: &str, method: Method, path: &str) -> reqwest::RequestBuilder {
        self.client
            .request(method, self.url(path))
            .header("Authorization", format!("Api-Key {key}"))
    }

    /// A profile request naming the profile by customer user id.
    pub fn profile(&self, method: Method, cuid: &str) -> reqwest::RequestBuilder {
        self.request(method, PROFILE)
            .header("adapty-customer-user-id", cuid)
    }

    /// The admin API with the admin token.
    pub fn admin(&self, method: Method, path: &str) -> reqwest::RequestBuilder {
        self.client
            .request(method, self.url(path))
            .header("Authorization", format!("Bearer {ADMIN_TOKEN}"))
    }

    /// The Prometheus text of `/metrics`.
    pub async fn metrics(&self) -> String {
        self.client
            .get(self.url("/metrics"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap()
    }

    /// The whole event feed of this test's app (or with a query), newest first.
    pub async fn feed(&self, query: &str) -> Vec<Value> {
        let path = format!("/admin/v1/apps/{}/events?limit=500&{query}", self.app_id);
        let (status, body) = send(self.admin(Method::GET, &path)).await;
        assert_eq!(status, 200, "{body}");
        body["data"].as_array().expect("data").clone()
    }

    /// Event types of the feed, oldest first.
    pub async fn event_types(&self, query: &str) -> Vec<String> {
        let mut types: Vec<String> = self
            .feed(query)
            .await
            .iter()
            .map(|e| e["event_type"].as_str().unwrap().to_owned())
            .collect();
        types.reverse();
        types
    }

    /// Stops the server gracefully and waits for it. The returned database is removed when the
    /// last holder drops it.
    pub async fn stop(mut self) -> Arc<TestDatabase> {
        self.stop_in_place().await;
        self.dir.clone()
    }

    /// Stops this server and starts a new one on the same database and key.
    pub async fn restart(mut self, adjust: impl FnOnce(&mut Config)) -> Self {
        self.stop_in_place().await;
        self.sibling(adjust).await
    }

    async fn stop_in_place(&mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
        if let Some(task) = self.task.take() {
            task.await.expect("server task").expect("server result");
        }
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
    }
}

pub const ADMIN_TOKEN: &str = "test-admin-token";

pub async fn create_app(database_url: &DatabaseUrl, name: &str) -> (String, String) {
    let backend = Backend::open(database_url).await.expect("open database");
    let (key, secret) = entitle::cli::keys::new_key();
    let app = backend
        .store()
        .create_app(name, key, Timestamp::now())
        .await
        .expect("create app");
    backend.close().await;
    (app.app_id.to_string(), secret.expose().to_owned())
}

/// Status and JSON body (`Value::Null` for an empty body).
pub async fn send(request: reqwest::RequestBuilder) -> (StatusCode, Value) {
    let response = request.send().await.expect("request reaches the server");
    let status = response.status();
    let bytes = response.bytes().await.expect("body");
    let body = if bytes.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&bytes)
            .unwrap_or_else(|_| panic!("body is not JSON: {}", String::from_utf8_lossy(&bytes)))
    };
    (status, body)
}

/// Asserts the documented error envelope and returns it.
#[track_caller]
pub fn assert_error(status: StatusCode, body: &Value, expected_status: u16, code: &str) {
    assert_eq!(status.as_u16(), expected_status, "status; body: {body}");
    assert_eq!(body["error_code"], code, "error_code; body: {body}");
    assert_eq!(
        body["status_code"], expected_status,
        "status_code; body: {body}"
    );
    let errors = body["errors"].as_array().expect("errors is an array");
    assert!(!errors.is_empty(), "errors is empty");
    for item in errors {
        assert!(
            item["errors"].as_array().is_some_and(|m| !m.is_empty()),
            "messages: {body}"
        );
        assert!(
            item["source"].is_null() || item["source"].is_string(),
            "source: {body}"
        );
    }
}

/// The `source` of the first error item.
pub fn error_source(body: &Value) -> Option<&str> {
    body["errors"][0]["source"].as_str()
}

/// Redactions for snapshots: ids and clocks change every run.
pub fn redacted(body: &Value) -> Value {
    let mut body = body.clone();
    if let Some(data) = body.get_mut("data").and_then(Value::as_object_mut) {
        for field in ["app_id", "profile_id", "timestamp", "segment_hash"] {
            if data.contains_key(field) {
                data.insert(field.into(), Value::String(format!("[{field}]")));
            }
        }
    }
    body
}

pub const SET_TRANSACTION: &str = "/api/v2/server-side-api/purchase/set/transaction/";
pub const GRANT: &str = "/api/v2/server-side-api/purchase/profile/grant/access-level/";
pub const REVOKE: &str = "/api/v2/server-side-api/purchase/profile/revoke/access-level/";

/// A valid subscription transaction body; dates are RFC 3339 strings.
pub fn subscription(id: &str, original: &str, purchased_at: &str, expires_at: &str) -> Value {
    serde_json::json!({
        "purchase_type": "subscription",
        "store": "app_store",
        "environment": "Production",
        "store_product_id": "pro.monthly",
        "store_transaction_id": id,
        "store_original_transaction_id": original,
        "price": { "country": "US", "currency": "USD", "value": 9.99 },
        "purchased_at": purchased_at,
        "originally_purchased_at": purchased_at,
        "expires_at": expires_at,
        "renew_status": true
    })
}

/// Creates `cuid`'s profile and sends it a monthly subscription bought a day ago (transaction
/// `id`, a chain of its own): a `subscription_started` and an `access_level_updated`.
pub async fn purchase(server: &TestServer, cuid: &str, id: &str) {
    server.create_profile(cuid).await;
    let (status, body) = server
        .set_transaction(
            cuid,
            &subscription(id, id, &days_from_now(-1), &days_from_now(30)),
        )
        .await;
    assert_eq!(status, 200, "{body}");
}

/// A server whose worker is off, with one integration (to `url`, for `subscription_started`)
/// and one purchase by `cuid`: one delivery waits, for the test to claim through the store it
/// opens beside the server.
pub async fn one_waiting_delivery(url: &str, cuid: &str) -> (TestServer, entitle::Backend) {
    let server = TestServer::start_with(|config| config.worker = None).await;
    add_webhook(&server, url, &["--events", "subscription_started"]).await;
    purchase(&server, cuid, &format!("{cuid}-1")).await;
    let backend = entitle::Backend::open(&server.database_url).await.unwrap();
    (server, backend)
}

/// A valid one-time purchase body.
pub fn one_time(id: &str, purchased_at: &str) -> Value {
    serde_json::json!({
        "purchase_type": "one_time_purchase",
        "store": "stripe",
        "store_product_id": "lifetime_unlock",
        "store_transaction_id": id,
        "store_original_transaction_id": id,
        "price": { "country": "US", "currency": "USD", "value": 49.0 },
        "purchased_at": purchased_at
    })
}

/// An RFC 3339 instant `days` from now (negative for the past).
pub fn days_from_now(days: i64) -> String {
    let now = Timestamp::now().unix_micros();
    Timestamp::from_unix_micros(now + days * 86_400_000_000).to_rfc3339()
}

impl TestServer {
    /// Creates a profile for `cuid` and returns its id.
    pub async fn create_profile(&self, cuid: &str) -> String {
        let (status, body) = send(self.profile(Method::POST, cuid)).await;
        assert_eq!(status, 200, "{body}");
        body["data"]["profile_id"].as_str().unwrap().to_owned()
    }

    /// Sends a transaction for `cuid` and returns the response.
    pub async fn set_transaction(&self, cuid: &str, body: &Value) -> (StatusCode, Value) {
        self.post_for(SET_TRANSACTION, cuid, body).await
    }

    /// POSTs `body` to `path` (a grant, a revoke, a transaction) for `cuid`.
    pub async fn post_for(&self, path: &str, cuid: &str, body: &Value) -> (StatusCode, Value) {
        send(
            self.request(Method::POST, path)
                .header("adapty-customer-user-id", cuid)
                .json(body),
        )
        .await
    }

    /// Runs the real `entitle` binary with `args` on this server's database. Awaited on a thread of its own,
    /// so the server (which runs on the test's runtime) keeps serving meanwhile: a command that
    /// waits for a lock one of the server's transactions holds would otherwise wait forever.
    pub async fn cli(&self, args: &[&str]) -> String {
        let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_entitle"));
        command
            .args(args)
            .arg("--database-url")
            .arg(match &self.database_url {
                DatabaseUrl::Postgres(url) => url.clone(),
                sqlite => sqlite.redacted(),
            })
            .env_remove("ENTITLE_DATABASE_URL");
        let output = tokio::task::spawn_blocking(move || command.output())
            .await
            .expect("the command's thread")
            .expect("run entitle");
        assert!(
            output.status.success(),
            "entitle {args:?} failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8_lossy(&output.stdout).into_owned()
    }

    /// Defines access level `id` in the app through the CLI.
    pub async fn add_access_level(&self, id: &str) {
        self.cli(&["access-levels", "add", "--app", &self.app_id, "--id", id])
            .await;
    }

    /// Sets the app's sharing policy for `environment` (`production` or `sandbox`) through the
    /// CLI.
    pub async fn set_sharing(&self, environment: &str, policy: &str) {
        self.cli(&[
            "apps",
            "set-sharing",
            "--app",
            &self.app_id,
            "--environment",
            environment,
            "--policy",
            policy,
        ])
        .await;
    }

    /// A real receiver with an integration subscribed to every event of the app. Events that
    /// exist only for an integration that wants them (`access_level_updated`, spec §9.1) are
    /// created only while one does.
    pub async fn listen_to_every_event(&self) -> Receiver {
        self.listen(&[]).await.0
    }

    /// A real receiver with an integration added for it (`extra`: `webhooks add` options);
    /// returns the receiver and the integration's id.
    pub async fn listen(&self, extra: &[&str]) -> (Receiver, String) {
        let receiver = Receiver::ok().await;
        let (integration, _) = add_webhook(self, &receiver.url, extra).await;
        (receiver, integration)
    }
}

/// Adds an integration through the CLI; returns `(integration_id, signing_secret)`.
pub async fn add_webhook(server: &TestServer, url: &str, extra: &[&str]) -> (String, String) {
    let mut args = vec![
        "webhooks",
        "add",
        "--app",
        &server.app_id,
        "--url",
        url,
        "--json",
    ];
    args.extend_from_slice(extra);
    let out: Value = serde_json::from_str(server.cli(&args).await.trim()).unwrap();
    (
        out["integration_id"].as_str().unwrap().to_owned(),
        out["signing_secret"].as_str().unwrap().to_owned(),
    )
}

/// The ids of the access levels in a profile response that are active now.
pub fn active_levels(body: &Value) -> Vec<String> {
    let now = Timestamp::now();
    body["data"]["access_levels"]
        .as_array()
        .expect("access_levels")
        .iter()
        .filter(|level| {
            let expires = level["expires_at"].as_str().and_then(Timestamp::parse);
            let starts = level["starts_at"].as_str().and_then(Timestamp::parse);
            expires.is_none_or(|e| e > now) && starts.is_none_or(|s| s <= now)
        })
        .map(|level| level["access_level_id"].as_str().unwrap().to_owned())
        .collect()
}
