//! Per-request context: the `Request-Id` header on every response, and one log line per request
//! (method, route, status, latency, request id, app id; never a header value or a body).

use std::cell::Cell;
use std::task::Poll;
use std::time::Instant;

use axum::extract::{MatchedPath, Request};
use axum::http::HeaderValue;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use entitle_domain::AppId;

use crate::error::ApiError;

tokio::task_local! {
    /// The app the request is made for, once its key is admitted; its log line names it. A
    /// task-local rather than a request extension: nothing to allocate per request.
    static REQUEST_APP: Cell<Option<AppId>>;
}

/// Notes the app the request being handled is made for (outside a request: nothing).
pub fn note_app(app_id: AppId) {
    let _ = REQUEST_APP.try_with(|app| app.set(Some(app_id)));
}

/// Everything around a request, in one layer (each layer of its own costs a boxed future and
/// a clone of the routes per request): the `Request-Id` header, the deadline, a handler's
/// panic turned into a 500, reading the body, and the request's metrics and log line. Past
/// the deadline the client gets the error envelope (408 while its body is still awaited, 503
/// after) and the work is dropped (a write not yet committed is rolled back).
pub async fn around_request(
    axum::extract::State(limit): axum::extract::State<std::time::Duration>,
    request: Request,
    next: Next,
) -> Response {
    let started = Instant::now();
    let request_id = RequestId::random();
    let method = request.method().clone();
    let route = request.extensions().get::<MatchedPath>().cloned();
    let body_limit = crate::extract::body_limit(route.as_ref(), &method);

    // One deadline for reading the body and handling the request.
    let deadline = tokio::time::Instant::now() + limit;
    let handled = async {
        let response = match catch_panic(read_body_then(request, next, body_limit, deadline)).await
        {
            Ok(response) => response,
            Err(panic) => panic_response(panic),
        };
        (response, REQUEST_APP.with(Cell::get))
    };
    let (mut response, app_id) = REQUEST_APP.scope(Cell::new(None), handled).await;

    response
        .headers_mut()
        .insert("request-id", request_id.header_value());
    let route = route.as_ref().map_or("unmatched", MatchedPath::as_str);
    let status = response.status();
    let latency = started.elapsed();
    crate::metrics::observe(
        route,
        method.as_str(),
        status.as_str(),
        latency.as_secs_f64(),
    );
    let unknown: &dyn std::fmt::Display = &"-";
    let app_id = app_id
        .as_ref()
        .map_or(unknown, |id| id as &dyn std::fmt::Display);
    tracing::info!(
        target: "entitle::request",
        request_id = request_id.as_str(),
        %method,
        route,
        status = status.as_u16(),
        latency_ms = latency.as_secs_f64() * 1000.0,
        app_id = %app_id,
        "request"
    );
    response
}

/// Reads every request body before routing, so an answer given without looking at the body
/// (401, 404, 405) still leaves the connection clean for the client's next request. Bodies
/// over the limit are read up to [`DRAIN_LIMIT`] and answered 413; past that the connection is
/// closed. One declared larger than that is answered 413 before any of it is read. A body
/// known to be empty (a GET's) has nothing to read.
///
/// Both steps end at `deadline`: a body not in by then is the client's lateness (408), a
/// request still being handled the server's (503).
async fn read_body_then(
    request: Request,
    next: Next,
    limit: usize,
    deadline: tokio::time::Instant,
) -> Response {
    let too_large = |drained| ApiError::PayloadTooLarge { limit, drained }.into_response();
    let size = axum::body::HttpBody::size_hint(request.body());
    let request = if size.exact() == Some(0) {
        request
    } else if size.lower() > DRAIN_LIMIT as u64 {
        return too_large(false);
    } else {
        let (parts, body) = request.into_parts();
        let read = tokio::time::timeout_at(deadline, axum::body::to_bytes(body, DRAIN_LIMIT));
        let bytes = match read.await {
            Err(_) => return ApiError::BodyTimeout.into_response(),
            Ok(Ok(bytes)) if bytes.len() <= limit => bytes,
            Ok(Ok(_)) => return too_large(true),
            // Past the drain limit: the rest is not read.
            Ok(Err(error)) if is_over_limit(&error) => return too_large(false),
            Ok(Err(_)) => return ApiError::BodyUnreadable.into_response(),
        };
        Request::from_parts(parts, axum::body::Body::from(bytes))
    };
    tokio::time::timeout_at(deadline, next.run(request))
        .await
        .unwrap_or_else(|_| ApiError::Timeout.into_response())
}

/// Whether reading a body failed because it passed the limit, not because it broke off or
/// was malformed.
fn is_over_limit(error: &axum::Error) -> bool {
    let mut cause: Option<&(dyn std::error::Error + 'static)> = Some(error);
    while let Some(current) = cause {
        if current.is::<http_body_util::LengthLimitError>() {
            return true;
        }
        cause = current.source();
    }
    false
}

/// Most bytes read from a request whose body is over the limit, before giving up on it.
pub const DRAIN_LIMIT: usize = 4 * 1024 * 1024;

/// 32 lower-case hex digits, random per request, rendered without allocating.
struct RequestId([u8; 32]);

impl RequestId {
    fn random() -> Self {
        const HEX: &[u8; 16] = b"0123456789abcdef";
        let value = rand::random::<u128>();
        let mut digits = [0u8; 32];
        for (place, digit) in digits.iter_mut().enumerate() {
            *digit = HEX[((value >> (124 - 4 * place)) & 0xf) as usize];
        }
        Self(digits)
    }

    fn as_str(&self) -> &str {
        // Hex digits only: always ASCII.
        std::str::from_utf8(&self.0).unwrap_or_default()
    }

    fn header_value(&self) -> HeaderValue {
        HeaderValue::from_bytes(&self.0).unwrap_or_else(|_| HeaderValue::from_static("-"))
    }
}

/// `handling`, with a panic while it is polled caught and handed back instead of unwinding
/// through the connection (here rather than in a layer of its own: one boxed future and one
/// clone of the routes less per request).
async fn catch_panic(
    handling: impl Future<Output = Response>,
) -> Result<Response, Box<dyn std::any::Any + Send>> {
    let mut handling = std::pin::pin!(handling);
    std::future::poll_fn(|cx| {
        match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| handling.as_mut().poll(cx)))
        {
            Ok(Poll::Pending) => Poll::Pending,
            Ok(Poll::Ready(response)) => Poll::Ready(Ok(response)),
            Err(panic) => Poll::Ready(Err(panic)),
        }
    })
    .await
}

/// A panic in a handler becomes a 500 with the standard envelope, never a dropped connection.
fn panic_response(_: Box<dyn std::any::Any + Send + 'static>) -> Response {
    tracing::error!("a request handler panicked");
    ApiError::Internal.into_response()
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use axum::Router;
    use axum::body::Body;
    use axum::http::{Request, StatusCode};
    use axum::routing::get;
    use tower::ServiceExt;

    use super::*;

    /// Routes that panic, outlast any deadline, and echo their body's length, behind the layer.
    fn routes(limit: Duration) -> Router {
        Router::new()
            .route(
                "/panics",
                get(|| async {
                    panic!("a bug in a handler");
                    #[allow(unreachable_code)]
                    ""
                }),
            )
            .route(
                "/slow",
                get(|| async {
                    tokio::time::sleep(Duration::from_secs(60)).await;
                    ""
                }),
            )
            .route(
                "/echo-length",
                axum::routing::post(|body: bytes::Bytes| async move { body.len().to_string() }),
            )
            .layer(axum::middleware::from_fn_with_state(limit, around_request))
    }

    /// The status, whether a `request-id` came back, and the body.
    async fn send(request: Request<Body>, limit: Duration) -> (StatusCode, bool, bytes::Bytes) {
        let response = routes(limit).oneshot(request).await.unwrap();
        let status = response.status();
        let has_request_id = response.headers().contains_key("request-id");
        let bytes = axum::body::to_bytes(response.into_body(), 1 << 20)
            .await
            .unwrap();
        (status, has_request_id, bytes)
    }

    async fn answer(path: &str, limit: Duration) -> (StatusCode, bool, serde_json::Value) {
        let request = Request::get(path).body(Body::empty()).unwrap();
        let (status, has_request_id, bytes) = send(request, limit).await;
        (
            status,
            has_request_id,
            serde_json::from_slice(&bytes).unwrap(),
        )
    }

    #[tokio::test]
    async fn a_panicking_handler_answers_500_with_the_envelope() {
        let (status, has_request_id, body) = answer("/panics", Duration::from_secs(5)).await;
        assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
        assert!(has_request_id);
        assert_eq!(body["error_code"], "server_error", "{body}");
    }

    #[tokio::test]
    async fn a_request_past_its_deadline_answers_503_with_the_envelope() {
        let (status, has_request_id, body) = answer("/slow", Duration::from_millis(50)).await;
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
        assert!(has_request_id);
        assert_eq!(body["error_code"], "request_timeout", "{body}");
    }

    /// A body sent in pieces (its size unknown up front), its sender kept open after them
    /// until the answer is in when `finished` is false.
    async fn post_in_pieces(
        pieces: Vec<Vec<u8>>,
        finished: bool,
        limit: Duration,
    ) -> (StatusCode, bool, bytes::Bytes) {
        let (mut sender, channel) = http_body_util::Channel::<bytes::Bytes>::new(pieces.len() + 1);
        for piece in pieces {
            sender.send_data(piece.into()).await.unwrap();
        }
        let _kept_open = (!finished).then_some(sender);
        let request = Request::post("/echo-length")
            .body(Body::new(channel))
            .unwrap();
        send(request, limit).await
    }

    #[tokio::test]
    async fn a_body_sent_in_pieces_reaches_the_route_whole() {
        let pieces = vec![vec![b'a'; 1000], vec![b'b'; 24], vec![b'c'; 3]];
        let (status, has_request_id, body) =
            post_in_pieces(pieces, true, Duration::from_secs(5)).await;
        assert_eq!(status, StatusCode::OK);
        assert!(has_request_id);
        assert_eq!(&body[..], b"1027");
    }

    #[tokio::test]
    async fn a_body_over_the_limit_answers_413_with_the_envelope() {
        let limit = crate::extract::body_limit(None, &axum::http::Method::POST);
        let pieces = vec![vec![b'x'; limit], vec![b'y'; 1]];
        let (status, has_request_id, body) =
            post_in_pieces(pieces, true, Duration::from_secs(5)).await;
        assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
        assert!(has_request_id);
        let body: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(body["error_code"], "payload_too_large", "{body}");
    }

    #[tokio::test]
    async fn a_body_that_never_ends_answers_408_at_the_deadline() {
        let (status, has_request_id, body) =
            post_in_pieces(vec![b"{".to_vec()], false, Duration::from_millis(50)).await;
        assert_eq!(status, StatusCode::REQUEST_TIMEOUT);
        assert!(has_request_id);
        let body: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(body["error_code"], "request_timeout", "{body}");
        assert_eq!(body["status_code"], 408, "{body}");
    }
}
