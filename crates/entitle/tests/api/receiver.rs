//! A real local webhook receiver: records every request and answers as a script says.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use serde_json::Value;

/// One request as received.
#[derive(Debug, Clone)]
pub struct Received {
    pub headers: HeaderMap,
    pub body: Vec<u8>,
    pub json: Value,
}

/// How to answer the n-th request (from 0).
pub type Script = Arc<dyn Fn(usize) -> (u16, Duration) + Send + Sync>;

#[derive(Clone)]
struct Shared {
    received: Arc<Mutex<Vec<Received>>>,
    script: Script,
    /// Sent as `Location` with every answer (for redirect tests).
    location: Option<String>,
    /// While open, every request waits before it is answered (see [`Receiver::held`]).
    gate: Option<Arc<tokio::sync::Semaphore>>,
}

pub struct Receiver {
    pub url: String,
    received: Arc<Mutex<Vec<Received>>>,
    gate: Option<Arc<tokio::sync::Semaphore>>,
    _task: tokio::task::JoinHandle<()>,
}

impl Receiver {
    /// A receiver answering 200 at once.
    pub async fn ok() -> Self {
        Self::scripted(|_| (200, Duration::ZERO)).await
    }

    pub async fn scripted(
        script: impl Fn(usize) -> (u16, Duration) + Send + Sync + 'static,
    ) -> Self {
        Self::start(Arc::new(script), None, None).await
    }

    /// A receiver that records each request at once but answers none (200) until
    /// [`Receiver::release`].
    pub async fn held() -> Self {
        let gate = Arc::new(tokio::sync::Semaphore::new(0));
        Self::start(Arc::new(|_| (200, Duration::ZERO)), None, Some(gate)).await
    }

    /// Lets a [`Receiver::held`] answer every request, waiting or to come.
    pub fn release(&self) {
        if let Some(gate) = &self.gate {
            gate.close();
        }
    }

    /// Answers every request with a 307 redirect to `location`.
    pub async fn redirecting(location: &str) -> Self {
        Self::start(
            Arc::new(|_| (307, Duration::ZERO)),
            Some(location.to_owned()),
            None,
        )
        .await
    }

    async fn start(
        script: Script,
        location: Option<String>,
        gate: Option<Arc<tokio::sync::Semaphore>>,
    ) -> Self {
        let received = Arc::new(Mutex::new(Vec::new()));
        let shared = Shared {
            received: received.clone(),
            script,
            location,
            gate: gate.clone(),
        };
        let app = axum::Router::new()
            .route("/hook", axum::routing::post(record))
            .with_state(shared);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/hook", listener.local_addr().unwrap());
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Self {
            url,
            received,
            gate,
            _task: task,
        }
    }

    pub fn received(&self) -> Vec<Received> {
        self.received.lock().unwrap().clone()
    }

    /// Waits until at least `count` requests arrived (or panics after `within`).
    pub async fn wait_for(&self, count: usize, within: Duration) -> Vec<Received> {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            let received = self.received();
            if received.len() >= count {
                return received;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "expected {count} webhook requests, got {}",
                received.len()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

async fn record(
    State(shared): State<Shared>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> (StatusCode, HeaderMap) {
    let index = {
        let mut received = shared.received.lock().unwrap();
        received.push(Received {
            headers,
            json: serde_json::from_slice(&body).unwrap_or(Value::Null),
            body: body.to_vec(),
        });
        received.len() - 1
    };
    if let Some(gate) = &shared.gate {
        // Closed by `release`: every waiter (and every later request) goes on.
        let _ = gate.acquire().await;
    }
    let (status, delay) = (shared.script)(index);
    if !delay.is_zero() {
        tokio::time::sleep(delay).await;
    }
    let mut answer = HeaderMap::new();
    if let Some(location) = &shared.location {
        answer.insert(axum::http::header::LOCATION, location.parse().unwrap());
    }
    (StatusCode::from_u16(status).unwrap(), answer)
}
