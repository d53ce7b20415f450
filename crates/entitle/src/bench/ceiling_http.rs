//! The HTTP ceiling: a bare axum server, served by the same loop as the real one, answering
//! the bench's paths with fixed bytes (a real profile response captured from the server under
//! test), so the only work per request is HTTP itself. It runs on a runtime of its own, with as
//! many worker threads as the real server's default runtime, and is driven by the same load
//! client.

use std::net::SocketAddr;
use std::thread::JoinHandle;
use std::time::Duration;

use anyhow::Context;
use axum::Router;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use bytes::Bytes;
use tokio::sync::oneshot;

use super::scenario::{PROFILE_PATH, SET_TRANSACTION_PATH};

pub struct BareServer {
    address: SocketAddr,
    shutdown: Option<oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl BareServer {
    /// Serves `profile` (a JSON body) for GET and both POSTs, and 204 for DELETE.
    pub fn start(profile: Bytes) -> anyhow::Result<Self> {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").context("bind")?;
        listener.set_nonblocking(true)?;
        let address = listener.local_addr()?;
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .thread_name("bench-bare-http")
            .build()
            .context("cannot build the bare server's runtime")?;
        let (shutdown, stopped) = oneshot::channel::<()>();
        let answer = move || {
            let body = profile.clone();
            async move { ([(header::CONTENT_TYPE, "application/json")], body).into_response() }
        };
        // The POST handlers read their body, as the real ones do.
        let (create, set) = (answer.clone(), answer.clone());
        let app = Router::new()
            .route(
                PROFILE_PATH,
                get(answer)
                    .post(move |_: Bytes| create())
                    .delete(|| async { StatusCode::NO_CONTENT }),
            )
            .route(SET_TRANSACTION_PATH, post(move |_: Bytes| set()));
        let thread = std::thread::Builder::new()
            .name("bench-bare-http".into())
            .spawn(move || {
                runtime.block_on(async move {
                    let listener = match tokio::net::TcpListener::from_std(listener) {
                        Ok(listener) => listener,
                        Err(error) => {
                            eprintln!("bare server: {error}");
                            return;
                        }
                    };
                    let limits = crate::http_server::ConnectionLimits {
                        idle_timeout: crate::config::DEFAULT_IDLE_TIMEOUT,
                        shutdown_grace: Duration::from_secs(5),
                    };
                    let stopped = async {
                        let _ = stopped.await;
                    };
                    let _ = crate::http_server::serve_until(listener, app, stopped, limits).await;
                });
            })?;
        Ok(Self {
            address,
            shutdown: Some(shutdown),
            thread: Some(thread),
        })
    }

    pub fn address(&self) -> SocketAddr {
        self.address
    }
}

impl Drop for BareServer {
    fn drop(&mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
