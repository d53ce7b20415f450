//! Per-request context: the `Request-Id` header on every response, and one log line per request
//! (method, route, status, latency, request id, app id; never a header value or a body).

use std::sync::{Arc, OnceLock};
use std::time::Instant;

use axum::extract::{MatchedPath, Request};
use axum::http::HeaderValue;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use entitle_domain::AppId;

use crate::error::ApiError;

/// Filled in while a request is handled; read when it is logged.
#[derive(Default)]
pub struct RequestContext {
    pub app_id: OnceLock<AppId>,
}

pub async fn request_context(mut request: Request, next: Next) -> Response {
    let started = Instant::now();
    let request_id = format!("{:032x}", rand::random::<u128>());
    let context = Arc::new(RequestContext::default());
    request.extensions_mut().insert(context.clone());
    let method = request.method().clone();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map(|path| path.as_str().to_owned())
        .unwrap_or_else(|| "unmatched".to_owned());

    let mut response = next.run(request).await;

    if let Ok(value) = HeaderValue::from_str(&request_id) {
        response.headers_mut().insert("request-id", value);
    }
    let status = response.status().as_u16();
    let latency_ms = started.elapsed().as_secs_f64() * 1000.0;
    crate::metrics::observe(&route, method.as_str(), status, latency_ms / 1000.0);
    let app_id = context.app_id.get().map(ToString::to_string);
    tracing::info!(
        target: "entitle::request",
        request_id,
        %method,
        route,
        status,
        latency_ms,
        app_id = app_id.as_deref().unwrap_or("-"),
        "request"
    );
    response
}

/// A panic in a handler becomes a 500 with the standard envelope, never a dropped connection.
pub fn panic_response(_: Box<dyn std::any::Any + Send + 'static>) -> Response {
    tracing::error!("a request handler panicked");
    ApiError::Internal.into_response()
}
