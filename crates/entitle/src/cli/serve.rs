use std::net::SocketAddr;

use anyhow::Context;

use super::{ServeArgs, WorkerArgs};
use crate::backend::Backend;
use crate::config::{Config, DatabaseUrl};

pub async fn serve(database_url: DatabaseUrl, args: ServeArgs) -> anyhow::Result<()> {
    let listen: SocketAddr = args.listen;
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .with_context(|| format!("cannot listen on {listen}"))?;
    let config = Config {
        listen,
        database_url,
        admin_token: args.admin_token.filter(|token| !token.is_empty()),
        worker: (!args.no_worker).then(|| args.worker.config()),
        rate_limit_per_minute: args.rate_limit_per_minute,
        request_timeout: args.request_timeout,
        idle_timeout: args.idle_timeout,
    };
    crate::run(config, listener, shutdown_signal()).await
}

pub async fn worker(database_url: DatabaseUrl, args: WorkerArgs) -> anyhow::Result<()> {
    crate::run_worker(&database_url, args.config(), shutdown_signal()).await
}

pub async fn migrate(database_url: &DatabaseUrl) -> anyhow::Result<()> {
    let backend = Backend::open(database_url).await?;
    backend.close().await;
    eprintln!("the database at {database_url} is up to date");
    Ok(())
}

/// Resolves on SIGINT or SIGTERM.
pub async fn shutdown_signal() {
    let interrupt = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = interrupt => {},
        () = terminate => {},
    }
    tracing::info!("shutdown requested; finishing in-flight requests");
}
