//! Running `entitle serve` as a real process: for tests that kill it, restart it or read its logs.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

pub struct ServerProcess {
    pub child: Child,
    pub base: String,
}

/// A port that was free a moment ago.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Creates an app with the CLI; returns `(app_id, secret_key)`.
pub fn create_app(database: &Path) -> (String, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_entitle"))
        .args([
            "apps",
            "create",
            "--name",
            "proc",
            "--json",
            "--database-url",
        ])
        .arg(database)
        .env_remove("ENTITLE_DATABASE_URL")
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let created: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    (
        created["app_id"].as_str().unwrap().to_owned(),
        created["secret_key"].as_str().unwrap().to_owned(),
    )
}

impl ServerProcess {
    /// Starts `entitle serve` on `database` and waits until it answers.
    pub async fn start(database: &Path, log: Option<&PathBuf>, extra_env: &[(&str, &str)]) -> Self {
        let port = free_port();
        let mut command = Command::new(env!("CARGO_BIN_EXE_entitle"));
        command
            .args([
                "serve",
                "--listen",
                &format!("127.0.0.1:{port}"),
                "--database-url",
            ])
            .arg(database)
            .env_remove("ENTITLE_DATABASE_URL")
            .env("ENTITLE_ADMIN_TOKEN", super::helpers::ADMIN_TOKEN)
            .env("ENTITLE_WEBHOOK_ALLOW_PRIVATE_TARGETS", "true")
            .env("RUST_LOG", "debug")
            .stdout(Stdio::null());
        for (key, value) in extra_env {
            command.env(key, value);
        }
        match log {
            Some(path) => {
                let file = std::fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(path)
                    .unwrap();
                command.stderr(file);
            }
            None => {
                command.stderr(Stdio::null());
            }
        }
        let child = command.spawn().expect("start entitle serve");
        let server = Self {
            child,
            base: format!("http://127.0.0.1:{port}"),
        };
        let client = reqwest::Client::new();
        for _ in 0..400 {
            if client
                .get(format!("{}/healthz", server.base))
                .send()
                .await
                .is_ok()
            {
                return server;
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        drop(server); // kills and reaps the child
        panic!("entitle serve did not start");
    }

    /// SIGKILL: no shutdown, no flush, nothing.
    pub fn kill(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// SIGTERM, then wait for a graceful exit.
    pub fn stop(mut self) {
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(self.child.id().to_string())
            .status();
        let _ = self.child.wait();
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts `entitle serve` on an empty database and returns what it printed on standard output
/// by the time it answers, then stops it.
pub async fn first_start_output(database: &Path) -> String {
    let port = free_port();
    // Beside the database's folder, which the server itself must create.
    let stdout = database.parent().unwrap().with_extension("stdout");
    let file = std::fs::File::create(&stdout).unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_entitle"))
        .args([
            "serve",
            "--listen",
            &format!("127.0.0.1:{port}"),
            "--database-url",
        ])
        .arg(database)
        .env_remove("ENTITLE_DATABASE_URL")
        .stdout(file)
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let client = reqwest::Client::new();
    for _ in 0..400 {
        if client
            .get(format!("http://127.0.0.1:{port}/healthz"))
            .send()
            .await
            .is_ok()
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    let _ = Command::new("kill")
        .arg("-TERM")
        .arg(child.id().to_string())
        .status();
    let _ = child.wait();
    std::fs::read_to_string(stdout).unwrap()
}
