//! HTTP metrics and the `/metrics`, `/healthz` endpoints.

use std::cell::RefCell;
use std::sync::LazyLock;

use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use entitle_domain::datetime::Timestamp;
use prometheus::{
    Encoder, Gauge, Histogram, HistogramOpts, HistogramVec, IntCounter, IntCounterVec, IntGauge,
    Opts, TextEncoder, register_gauge, register_histogram_vec, register_int_counter_vec,
    register_int_gauge,
};

use crate::error::ApiError;
use crate::state::ApiState;

pub static REQUESTS: LazyLock<IntCounterVec> = LazyLock::new(|| {
    register_int_counter_vec!(
        Opts::new(
            "entitle_http_requests_total",
            "HTTP requests, by route, method and status."
        ),
        &["route", "method", "status"]
    )
    .expect("metric registers once")
});

pub static LATENCY: LazyLock<HistogramVec> = LazyLock::new(|| {
    register_histogram_vec!(
        HistogramOpts::new(
            "entitle_http_request_duration_seconds",
            "Time to answer, by route and method."
        )
        .buckets(vec![
            0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0
        ]),
        &["route", "method"]
    )
    .expect("metric registers once")
});

/// One series pair (request count, latency) of a route, method and status.
struct Series {
    route: Box<str>,
    method: Box<str>,
    status: Box<str>,
    requests: IntCounter,
    latency: Histogram,
}

/// Series a thread remembers; past it, it looks the others up each time. Routes, methods and
/// statuses are few, so this is never reached in practice.
const MAX_SERIES_PER_THREAD: usize = 256;

thread_local! {
    /// The series this thread has observed. Looking one up by its labels hashes them and takes
    /// the metric's lock, on every request; a handle is a shared counter of its own.
    static SERIES: RefCell<Vec<Series>> = const { RefCell::new(Vec::new()) };
}

impl Series {
    fn new(route: &str, method: &str, status: &str) -> Self {
        Self {
            route: route.into(),
            method: method.into(),
            status: status.into(),
            requests: REQUESTS.with_label_values(&[route, method, status]),
            latency: LATENCY.with_label_values(&[route, method]),
        }
    }

    fn is(&self, route: &str, method: &str, status: &str) -> bool {
        &*self.status == status && &*self.method == method && &*self.route == route
    }

    fn observe(&self, seconds: f64) {
        self.requests.inc();
        self.latency.observe(seconds);
    }
}

/// The method as a label: HTTP's own methods by name, anything else as `other`, so that a
/// client inventing methods cannot make series without end (as `unmatched` does for paths).
fn method_label(method: &str) -> &str {
    const KNOWN: [&str; 9] = [
        "GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "CONNECT", "TRACE",
    ];
    if KNOWN.contains(&method) {
        method
    } else {
        "other"
    }
}

pub fn observe(route: &str, method: &str, status: &str, seconds: f64) {
    let method = method_label(method);
    SERIES.with(|cell| {
        let mut remembered = cell.borrow_mut();
        if let Some(series) = remembered.iter().find(|s| s.is(route, method, status)) {
            return series.observe(seconds);
        }
        let series = Series::new(route, method, status);
        series.observe(seconds);
        if remembered.len() < MAX_SERIES_PER_THREAD {
            remembered.push(series);
        }
    });
}

pub static OUTBOX_PENDING: LazyLock<IntGauge> = LazyLock::new(|| {
    register_int_gauge!(
        "entitle_outbox_pending",
        "Webhook deliveries not yet delivered, refused, failed or cancelled."
    )
    .expect("metric registers once")
});

pub static OUTBOX_OLDEST_DUE: LazyLock<Gauge> = LazyLock::new(|| {
    register_gauge!(
        "entitle_outbox_oldest_due_age_seconds",
        "Age of the oldest webhook delivery that is due now (0 when none is)."
    )
    .expect("metric registers once")
});

pub static WEBHOOKS_FAILING: LazyLock<IntGauge> = LazyLock::new(|| {
    register_int_gauge!(
        "entitle_webhook_integrations_failing",
        "Webhook integrations whose attempts have all failed since their last answered one; after a day of it they get first attempts only."
    )
    .expect("metric registers once")
});

/// `GET /metrics`: every registered metric in Prometheus text format. The outbox figures are
/// read from the database at scrape time, so every node reports the shared outbox.
#[utoipa::path(
    get,
    path = "/metrics",
    tag = "operations",
    operation_id = "metrics",
    responses((status = 200, description = "Prometheus text format", content_type = "text/plain"))
)]
pub async fn render(State(state): State<ApiState>) -> Response {
    match state.store.outbox_stats(Timestamp::now()).await {
        Ok(stats) => {
            OUTBOX_PENDING.set(i64::try_from(stats.pending).unwrap_or(i64::MAX));
            OUTBOX_OLDEST_DUE.set(stats.oldest_due_age_seconds);
            WEBHOOKS_FAILING.set(i64::try_from(stats.failing_integrations).unwrap_or(i64::MAX));
        }
        Err(error) => tracing::warn!(%error, "cannot read outbox figures for /metrics"),
    }
    let mut buffer = Vec::new();
    if TextEncoder::new()
        .encode(&prometheus::gather(), &mut buffer)
        .is_err()
    {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    }
    let mut response = buffer.into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
    );
    response
}

/// `GET /readyz`: the database answers and its schema is the one this build expects.
#[utoipa::path(
    get,
    path = "/readyz",
    tag = "operations",
    operation_id = "readyz",
    responses(
        (status = 200, description = "Ready to serve"),
        (status = 503, description = "The database is unreachable or its schema is not current", body = crate::error::Envelope)
    )
)]
pub async fn readyz(State(state): State<ApiState>) -> Response {
    match state.store.readiness().await {
        Ok(ready) if ready.schema_version == ready.latest_schema_version => {
            axum::Json(serde_json::json!({
                "status": "ready",
                "schema_version": ready.schema_version,
            }))
            .into_response()
        }
        Ok(ready) => {
            tracing::warn!(
                schema = ready.schema_version,
                expected = ready.latest_schema_version,
                "schema is not the one this build expects"
            );
            ApiError::Unavailable.into_response()
        }
        Err(error) => ApiError::from(error).into_response(),
    }
}

/// `GET /healthz`: the process is alive and answering.
#[utoipa::path(
    get,
    path = "/healthz",
    tag = "operations",
    operation_id = "healthz",
    responses((status = 200, description = "The process is alive"))
)]
pub async fn healthz() -> axum::Json<serde_json::Value> {
    axum::Json(serde_json::json!({ "status": "ok" }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_observation_counts_once_in_its_own_series() {
        let route = "/test/each-observation-counts-once";
        observe(route, "GET", "200", 0.002);
        observe(route, "GET", "200", 0.004);
        observe(route, "GET", "404", 0.001);
        // From another thread, which remembers series of its own: the same counters.
        std::thread::spawn(move || observe(route, "GET", "200", 0.003))
            .join()
            .unwrap();
        assert_eq!(REQUESTS.with_label_values(&[route, "GET", "200"]).get(), 3);
        assert_eq!(REQUESTS.with_label_values(&[route, "GET", "404"]).get(), 1);
        let latency = LATENCY.with_label_values(&[route, "GET"]);
        assert_eq!(latency.get_sample_count(), 4);
        assert!((latency.get_sample_sum() - 0.010).abs() < 1e-9);
    }

    #[test]
    fn invented_methods_share_one_label() {
        let route = "/test/invented-methods";
        for method in ["FOOBAR1", "FOOBAR2", "get"] {
            observe(route, method, "405", 0.001);
        }
        observe(route, "PATCH", "405", 0.001);
        assert_eq!(
            REQUESTS.with_label_values(&[route, "other", "405"]).get(),
            3
        );
        assert_eq!(
            REQUESTS.with_label_values(&[route, "PATCH", "405"]).get(),
            1
        );
        let text = prometheus::TextEncoder::new()
            .encode_to_string(&prometheus::gather())
            .unwrap();
        assert!(!text.contains("FOOBAR"), "{text}");
    }
}
