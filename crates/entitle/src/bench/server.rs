//! The server under test: the real `entitle serve`, started as a child process of this very
//! executable, so its memory and CPU can be read from `/proc/<pid>` apart from the load
//! client's.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::Context;

use crate::config::DatabaseUrl;

pub struct ServerProcess {
    child: Child,
    address: SocketAddr,
    log: PathBuf,
}

/// How long a server may take to open its database and start listening.
const START_TIMEOUT: Duration = Duration::from_secs(120);

impl ServerProcess {
    /// Starts `entitle serve` on a free loopback port with the rate limit off, its log going
    /// to `log`. The webhook worker runs as in production: the bench app has no integrations
    /// and the seeded subscriptions do not end during the run, so it finds nothing to do.
    pub async fn start(
        database_url: &DatabaseUrl,
        log: &Path,
        log_filter: Option<&str>,
    ) -> anyhow::Result<Self> {
        let address = free_port()?;
        let executable = std::env::current_exe().context("cannot find this executable")?;
        let log_file = std::fs::File::create(log)
            .with_context(|| format!("cannot create {}", log.display()))?;
        let url = match database_url {
            DatabaseUrl::Postgres(url) => url.clone(),
            DatabaseUrl::Sqlite(path) => format!("sqlite://{}", path.display()),
        };
        let mut command = Command::new(executable);
        command
            .arg("serve")
            .args(["--listen", &address.to_string()])
            .args(["--rate-limit-per-minute", "0"])
            .args(["--database-url", &url])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log_file);
        if let Some(filter) = log_filter {
            command.env("RUST_LOG", filter);
        }
        let child = command.spawn().context("cannot start `entitle serve`")?;
        let mut server = Self {
            child,
            address,
            log: log.to_owned(),
        };
        server.wait_until_listening().await?;
        Ok(server)
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    pub fn address(&self) -> SocketAddr {
        self.address
    }

    async fn wait_until_listening(&mut self) -> anyhow::Result<()> {
        let started = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait()? {
                anyhow::bail!(
                    "`entitle serve` exited ({status}) before listening:\n{}",
                    self.log_tail()
                );
            }
            if tokio::net::TcpStream::connect(self.address).await.is_ok() {
                return Ok(());
            }
            if started.elapsed() > START_TIMEOUT {
                anyhow::bail!(
                    "`entitle serve` did not listen within {START_TIMEOUT:?}:\n{}",
                    self.log_tail()
                );
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// The end of the server's log, for error messages.
    pub fn log_tail(&self) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(20)..].join("\n")
    }
}

impl Drop for ServerProcess {
    /// Every write the server answered is already durable, so nothing is gained by draining it.
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A loopback port no one listens on right now.
fn free_port() -> anyhow::Result<SocketAddr> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").context("no free port")?;
    Ok(listener.local_addr()?)
}
