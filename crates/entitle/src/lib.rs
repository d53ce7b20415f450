//! The entitle binary as a library: configuration, the storage backend, and
//! [`run`]`(config, listener, shutdown)`, the seam the tests use to start a real server on a
//! port of their choosing.

pub mod backend;
pub mod bench;
pub mod cli;
pub mod config;
mod deletion_runner;
pub mod http_server;
pub mod telemetry;

use std::future::Future;
use std::time::Duration;

use anyhow::Context;
use entitle_domain::datetime::Timestamp;
use tokio::net::TcpListener;

pub use backend::Backend;
pub use config::{Config, DatabaseUrl};
pub use entitle_webhooks::{TargetPolicy, WorkerConfig};

/// Runs only the webhook worker until `shutdown` resolves.
pub async fn run_worker(
    database_url: &DatabaseUrl,
    worker: WorkerConfig,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let backend = Backend::open(database_url).await?;
    let worker =
        entitle_webhooks::Worker::new(backend.store(), worker).map_err(anyhow::Error::msg)?;
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let mut deleter_stopped = stopped.clone();
    let deleter = tokio::spawn(deletion_runner::run(backend.store(), async move {
        let _ = deleter_stopped.wait_for(|stop| *stop).await;
    }));
    worker.run(shutdown).await;
    let _ = stop.send(true);
    let _ = deleter.await;
    backend.close().await;
    Ok(())
}

/// Opens the database (running migrations), makes the first app on an empty database, and
/// serves the API on `listener` until `shutdown` resolves. In-flight requests finish and queued
/// writes commit before it returns.
pub async fn run(
    config: Config,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let backend = Backend::open(&config.database_url).await?;
    let address = listener.local_addr().context("listener has no address")?;
    bootstrap_first_app(&backend, address).await?;

    let (stop_worker, worker_stopped) = tokio::sync::watch::channel(false);
    // Background work (webhooks and bulk deletions) runs where the worker runs.
    let deleter = config.worker.is_some().then(|| {
        let mut stopped = worker_stopped.clone();
        tokio::spawn(deletion_runner::run(backend.store(), async move {
            let _ = stopped.wait_for(|stop| *stop).await;
        }))
    });
    let worker = match config.worker.clone() {
        Some(worker_config) => {
            let worker = entitle_webhooks::Worker::new(backend.store(), worker_config)
                .map_err(anyhow::Error::msg)?;
            let mut stopped = worker_stopped.clone();
            Some(tokio::spawn(worker.run(async move {
                let _ = stopped.wait_for(|stop| *stop).await;
            })))
        }
        None => None,
    };

    let state = entitle_api::ApiState::new(backend.store())
        .with_admin_token(config.admin_token.clone())
        .with_rate_limit(config.rate_limit_per_minute)
        .with_request_timeout(config.request_timeout);
    let app = entitle_api::router(state);
    tracing::info!(%address, database = %config.database_url.redacted(), "entitle is serving");
    let limits = http_server::ConnectionLimits {
        idle_timeout: config.idle_timeout,
        // Every request ends by its deadline, so a connection still open a little after it
        // carries none: waiting longer for it would keep a stopping server from exiting.
        shutdown_grace: config.request_timeout + SHUTDOWN_SLACK,
    };
    let served = http_server::serve_until(listener, app, shutdown, limits)
        .await
        .context("the HTTP server failed");
    let _ = stop_worker.send(true);
    if let Some(worker) = worker {
        let _ = worker.await;
    }
    if let Some(deleter) = deleter {
        let _ = deleter.await;
    }
    backend.close().await;
    tracing::info!("entitle stopped");
    served
}

/// How long past the request deadline a stopping server waits for its connections.
const SHUTDOWN_SLACK: Duration = Duration::from_secs(1);

/// On first start with an empty database, create an app named `default` and show its key
/// once, on standard output (never in the logs).
async fn bootstrap_first_app(
    backend: &Backend,
    address: std::net::SocketAddr,
) -> anyhow::Result<()> {
    let (key, secret) = cli::keys::new_key();
    let Some(app) = backend
        .store()
        .create_first_app("default", key, Timestamp::now())
        .await?
    else {
        return Ok(());
    };
    println!(
        "Created app `default` ({app_id}). Its secret key is shown only this once:\n\n    {secret}\n\n\
         Try it:\n\n    curl -s -X POST http://{address}/api/v2/server-side-api/profile/ \\\n      \
         -H 'Authorization: Api-Key {secret}' \\\n      -H 'adapty-customer-user-id: user-1'\n",
        app_id = app.app_id,
        secret = secret.expose(),
    );
    Ok(())
}
