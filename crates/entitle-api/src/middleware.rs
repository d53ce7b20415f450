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

/// Reads every request body before routing, so an answer given without looking at the body
/// (401, 404, 405) still leaves the connection clean for the client's next request. Bodies
/// over the limit are read up to [`DRAIN_LIMIT`] and answered 413; past that the connection is
/// closed.
pub async fn buffer_body(request: Request, next: Next) -> Response {
    let (parts, body) = request.into_parts();
    let bytes = match axum::body::to_bytes(body, DRAIN_LIMIT).await {
        Ok(bytes) => bytes,
        Err(_) => return ApiError::PayloadTooLarge.into_response(),
    };
    if bytes.len() > crate::extract::MAX_BODY_BYTES {
        return ApiError::PayloadTooLarge.into_response();
    }
    next.run(Request::from_parts(parts, axum::body::Body::from(bytes)))
        .await
}

/// Most bytes read from a request whose body is over the limit, before giving up on it.
pub const DRAIN_LIMIT: usize = 4 * 1024 * 1024;

/// Longest a request may take, reading its body included; past it the client gets a 503 with
/// the error envelope and the work is dropped (a write not yet committed is rolled back).
pub async fn request_deadline(
    axum::extract::State(limit): axum::extract::State<std::time::Duration>,
    request: Request,
    next: Next,
) -> Response {
    match tokio::time::timeout(limit, next.run(request)).await {
        Ok(response) => response,
        Err(_) => ApiError::Timeout.into_response(),
    }
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
