//! HTTP metrics and the `/metrics`, `/healthz` endpoints.

use std::sync::LazyLock;

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use prometheus::{
    Encoder, HistogramOpts, HistogramVec, IntCounterVec, Opts, TextEncoder, register_histogram_vec,
    register_int_counter_vec,
};

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

pub fn observe(route: &str, method: &str, status: u16, seconds: f64) {
    REQUESTS
        .with_label_values(&[route, method, &status.to_string()])
        .inc();
    LATENCY.with_label_values(&[route, method]).observe(seconds);
}

#[utoipa::path(
    get,
    path = "/metrics",
    tag = "operations",
    operation_id = "metrics",
    responses((status = 200, description = "Prometheus text format", content_type = "text/plain"))
)]
/// `GET /metrics`: every registered metric in Prometheus text format.
pub async fn render() -> Response {
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

#[utoipa::path(
    get,
    path = "/healthz",
    tag = "operations",
    operation_id = "healthz",
    responses((status = 200, description = "The process is alive"))
)]
/// `GET /healthz`: the process is alive and answering.
pub async fn healthz() -> axum::Json<serde_json::Value> {
    axum::Json(serde_json::json!({ "status": "ok" }))
}
