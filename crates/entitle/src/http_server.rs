//! The HTTP server loop: accepts connections and serves the router on each, as `axum::serve`
//! does, with two things it cannot give.
//!
//! - **A bound on idle connections.** `axum::serve` gives hyper no timer, and without one
//!   hyper's header-read timeout is off: a connection idle between requests, or a client that
//!   began a request head and never finished it, holds a socket (and a file descriptor) for
//!   as long as its peer stays silent, forever if the peer vanished without a FIN. Here such a
//!   connection is closed after the idle timeout.
//! - **A bounded shutdown.** A stopping server stops accepting, lets every connection finish
//!   the request it is serving, and waits for them at most the grace period.

use std::future::Future;
use std::io;
use std::time::Duration;

use axum::Router;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::service::TowerToHyperService;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

/// How connections are kept.
#[derive(Debug, Clone, Copy)]
pub struct ConnectionLimits {
    /// A connection with no request in progress (idle between requests, or still sending a
    /// request's head) is closed after this.
    pub idle_timeout: Duration,
    /// How long a stopping server waits for its connections to finish.
    pub shutdown_grace: Duration,
}

/// Serves `app` on `listener` until `shutdown` resolves, then stops accepting and lets open
/// connections finish their requests, for at most the shutdown grace.
pub async fn serve_until(
    listener: TcpListener,
    app: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
    limits: ConnectionLimits,
) -> io::Result<()> {
    let builder = connection_builder(limits.idle_timeout);
    // Every connection's task holds a receiver of `stopping`; when the last is dropped, every
    // connection has ended.
    let (stop, stopping) = watch::channel(false);
    tokio::pin!(shutdown);
    loop {
        let stream = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _peer)) => stream,
                Err(error) => {
                    wait_after_accept_error(error).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        tokio::spawn(serve_connection(
            builder.clone(),
            stream,
            app.clone(),
            stopping.clone(),
        ));
    }
    drop(listener);
    drop(stopping);
    let _ = stop.send(true);
    if tokio::time::timeout(limits.shutdown_grace, stop.closed())
        .await
        .is_err()
    {
        tracing::warn!(
            grace_secs = limits.shutdown_grace.as_secs_f64(),
            "connections still open after the shutdown grace period are closed unanswered"
        );
    }
    Ok(())
}

fn connection_builder(idle_timeout: Duration) -> auto::Builder<TokioExecutor> {
    // HTTP/1 only, as the server has always spoken. hyper's header-read timer starts whenever
    // the connection waits for a request head, which includes waiting idle for the next
    // request on a kept-alive connection.
    let mut builder = auto::Builder::new(TokioExecutor::new()).http1_only();
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(idle_timeout);
    builder
}

async fn serve_connection(
    builder: auto::Builder<TokioExecutor>,
    stream: TcpStream,
    app: Router,
    mut stopping: watch::Receiver<bool>,
) {
    let service = TowerToHyperService::new(app);
    let connection = builder.serve_connection(TokioIo::new(stream), service);
    tokio::pin!(connection);
    tokio::select! {
        _ = connection.as_mut() => return,
        _ = stopping.wait_for(|stop| *stop) => {}
    }
    // Finish the request in progress, then close.
    connection.as_mut().graceful_shutdown();
    let _ = connection.await;
}

/// Connection errors are the peer's and are skipped. Anything else (typically running out of
/// file descriptors) is logged and accepting pauses for a second, so that the loop does not
/// spin while connections close and free some.
async fn wait_after_accept_error(error: io::Error) {
    if matches!(
        error.kind(),
        io::ErrorKind::ConnectionRefused
            | io::ErrorKind::ConnectionAborted
            | io::ErrorKind::ConnectionReset
    ) {
        return;
    }
    tracing::error!(%error, "cannot accept a connection; retrying in a second");
    tokio::time::sleep(Duration::from_secs(1)).await;
}
