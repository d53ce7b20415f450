//! JSON request bodies: at most 1 MiB (a bulk deletion job's 3 MiB), parsed before any field is
//! looked at, so malformed JSON is always `parse_error` and a wrong field is always reported by
//! name.

use axum::extract::{FromRequest, MatchedPath, Request};
use axum::http::Method;
use entitle_domain::{ErrorCode, ValidationError};
use serde_json::{Map, Value};

use crate::error::ApiError;

/// Largest accepted body (DESIGN.md §3.5).
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

/// Largest accepted body of a bulk deletion job: its 10,000 ids may each be a customer user id
/// of up to 256 bytes, more than [`MAX_BODY_BYTES`] holds.
pub const MAX_JOB_BODY_BYTES: usize = 3 * 1024 * 1024;

/// The route whose bodies may be up to [`MAX_JOB_BODY_BYTES`].
const JOB_ROUTE: &str = "/admin/v1/apps/{app_id}/deletions";

/// The largest body a request to `route` may carry: the one table of limits, applied by the
/// request layer (`middleware.rs`) to every request before its handler runs.
pub fn body_limit(route: Option<&MatchedPath>, method: &Method) -> usize {
    match route {
        Some(route) if route.as_str() == JOB_ROUTE && method == Method::POST => MAX_JOB_BODY_BYTES,
        _ => MAX_BODY_BYTES,
    }
}

/// The body as a JSON object. An empty body is an empty object: Adapty's own recipes create
/// profiles with no body at all. `Content-Type` is not inspected, so duplicated or missing
/// content types never stand in the way of a valid body.
pub struct JsonObject(pub Map<String, Value>);

impl<S: Send + Sync> FromRequest<S> for JsonObject {
    type Rejection = ApiError;

    async fn from_request(request: Request, _: &S) -> Result<Self, ApiError> {
        // The request layer has read the body and held it to its route's limit already.
        let bytes = axum::body::to_bytes(request.into_body(), MAX_JOB_BODY_BYTES)
            .await
            .map_err(|_| ApiError::parse("The request body could not be read."))?;
        parse_object(&bytes).map(JsonObject)
    }
}

pub fn parse_object(bytes: &[u8]) -> Result<Map<String, Value>, ApiError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(Map::new());
    }
    let value: Value = serde_json::from_slice(bytes)
        .map_err(|error| ApiError::parse(format!("JSON parse error - {error}")))?;
    match value {
        Value::Object(map) => Ok(map),
        _ => Err(ValidationError::request(
            ErrorCode::ValidationError,
            "The request body must be a JSON object.",
        )
        .into()),
    }
}
