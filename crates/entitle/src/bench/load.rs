//! The load client: `concurrency` tasks, each with its own keep-alive HTTP/1.1 connection,
//! taking the next request from a shared list until it is empty. hyper's connection API is used
//! directly (no pool, no redirects, no decompression) so the client spends as little of the
//! shared CPU as it can; the HTTP ceiling is measured with this same client.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use anyhow::Context;
use bytes::Bytes;
use http::{HeaderValue, Request, StatusCode, header};
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1::SendRequest;
use hyper_util::rt::TokioIo;
use tokio::sync::Barrier;

use super::scenario::{Prepared, Scenario};

/// Where requests go and the key they carry.
#[derive(Clone)]
pub struct Target {
    pub address: SocketAddr,
    pub authorization: HeaderValue,
}

/// What one run of one scenario measured.
#[derive(Debug, Clone, Default)]
pub struct Outcome {
    /// Requests answered with the expected status.
    pub ok: u64,
    /// Requests answered otherwise, or not answered.
    pub errors: u64,
    /// From the moment every connection was open to the last answer.
    pub seconds: f64,
    /// Latencies of the successful requests, in nanoseconds, sorted.
    pub latencies_ns: Vec<u64>,
    /// The first few failures, for the report (status and the start of the body).
    pub error_samples: Vec<String>,
}

impl Outcome {
    /// Adds another run of the same scenario: its requests, time and latencies.
    pub fn absorb(&mut self, other: Outcome) {
        self.ok += other.ok;
        self.errors += other.errors;
        self.seconds += other.seconds;
        self.latencies_ns.extend(other.latencies_ns);
        self.latencies_ns.sort_unstable();
        let room = ERROR_SAMPLES.saturating_sub(self.error_samples.len());
        self.error_samples
            .extend(other.error_samples.into_iter().take(room));
    }

    pub fn per_second(&self) -> f64 {
        self.ok as f64 / self.seconds.max(f64::EPSILON)
    }

    /// The `q` quantile of the successful requests' latency, in milliseconds.
    pub fn latency_ms(&self, q: f64) -> Option<f64> {
        let n = self.latencies_ns.len();
        if n == 0 {
            return None;
        }
        let rank = ((q * n as f64).ceil() as usize).clamp(1, n);
        Some(self.latencies_ns[rank - 1] as f64 / 1e6)
    }
}

const ERROR_SAMPLES: usize = 5;

/// Sends every request of `requests` once, `concurrency` at a time.
pub async fn drive(
    target: &Target,
    scenario: Scenario,
    requests: Arc<Vec<Prepared>>,
    concurrency: usize,
) -> anyhow::Result<Outcome> {
    let concurrency = concurrency.clamp(1, requests.len().max(1));
    let next = Arc::new(AtomicUsize::new(0));
    let start = Arc::new(Barrier::new(concurrency + 1));
    let tasks: Vec<_> = (0..concurrency)
        .map(|_| {
            let (target, requests, next, start) = (
                target.clone(),
                requests.clone(),
                next.clone(),
                start.clone(),
            );
            tokio::spawn(async move { client(target, scenario, requests, next, start).await })
        })
        .collect();
    start.wait().await;
    let started = Instant::now();
    let mut outcome = Outcome::default();
    for task in tasks {
        let mine = task.await.context("a load task panicked")??;
        outcome.ok += mine.ok;
        outcome.errors += mine.errors;
        outcome.latencies_ns.extend(mine.latencies_ns);
        for sample in mine.error_samples {
            if outcome.error_samples.len() < ERROR_SAMPLES {
                outcome.error_samples.push(sample);
            }
        }
    }
    outcome.seconds = started.elapsed().as_secs_f64();
    outcome.latencies_ns.sort_unstable();
    Ok(outcome)
}

async fn connect(address: SocketAddr) -> anyhow::Result<SendRequest<Full<Bytes>>> {
    let stream = tokio::net::TcpStream::connect(address)
        .await
        .with_context(|| format!("cannot connect to {address}"))?;
    stream.set_nodelay(true)?;
    let (sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
    tokio::spawn(async move {
        let _ = connection.await;
    });
    Ok(sender)
}

/// One client: opens its connection before the start line, then sends until the list is done.
async fn client(
    target: Target,
    scenario: Scenario,
    requests: Arc<Vec<Prepared>>,
    next: Arc<AtomicUsize>,
    start: Arc<Barrier>,
) -> anyhow::Result<Outcome> {
    let opened = connect(target.address).await;
    start.wait().await;
    let mut connection = Some(opened?);
    let mut outcome = Outcome::default();
    let host = HeaderValue::from_str(&target.address.to_string())?;
    loop {
        let index = next.fetch_add(1, Ordering::Relaxed);
        let Some(prepared) = requests.get(index) else {
            break;
        };
        let request = build(scenario, &target, &host, prepared)?;
        let began = Instant::now();
        let sender = match connection.as_mut() {
            Some(sender) => sender,
            None => connection.insert(connect(target.address).await?),
        };
        match send(sender, request).await {
            Ok((status, _)) if status == scenario.expected() => {
                outcome.latencies_ns.push(began.elapsed().as_nanos() as u64);
                outcome.ok += 1;
            }
            Ok((status, body)) => {
                outcome.errors += 1;
                if outcome.error_samples.len() < ERROR_SAMPLES {
                    let text = String::from_utf8_lossy(&body[..body.len().min(200)]).into_owned();
                    outcome.error_samples.push(format!("{status}: {text}"));
                }
            }
            Err(error) => {
                outcome.errors += 1;
                // The connection is in an unknown state; the next request opens a new one.
                connection = None;
                if outcome.error_samples.len() < ERROR_SAMPLES {
                    outcome.error_samples.push(format!("transport: {error:#}"));
                }
            }
        }
    }
    Ok(outcome)
}

fn build(
    scenario: Scenario,
    target: &Target,
    host: &HeaderValue,
    prepared: &Prepared,
) -> anyhow::Result<Request<Full<Bytes>>> {
    let mut builder = Request::builder()
        .method(scenario.method())
        .uri(scenario.path())
        .header(header::HOST, host.clone())
        .header(header::AUTHORIZATION, target.authorization.clone())
        .header("adapty-customer-user-id", prepared.customer_user_id.clone());
    if !prepared.body.is_empty() {
        builder = builder.header(header::CONTENT_TYPE, "application/json");
    }
    Ok(builder.body(Full::new(prepared.body.clone()))?)
}

async fn send(
    sender: &mut SendRequest<Full<Bytes>>,
    request: Request<Full<Bytes>>,
) -> anyhow::Result<(StatusCode, Bytes)> {
    sender.ready().await?;
    let response = sender.send_request(request).await?;
    let status = response.status();
    let body = response.into_body().collect().await?.to_bytes();
    Ok((status, body))
}

/// One request outside any measurement (readiness checks, sample bodies).
pub async fn once(
    target: &Target,
    scenario: Scenario,
    prepared: &Prepared,
) -> anyhow::Result<(StatusCode, Bytes)> {
    let host = HeaderValue::from_str(&target.address.to_string())?;
    let mut sender = connect(target.address).await?;
    send(&mut sender, build(scenario, target, &host, prepared)?).await
}
