//! JSON request bodies: at most 1 MiB, parsed before any field is looked at, so malformed JSON
//! is always `parse_error` and a wrong field is always reported by name.

use axum::body::Body;
use axum::extract::{FromRequest, Request};
use entitle_domain::{ErrorCode, ValidationError};
use serde_json::{Map, Value};

use crate::error::ApiError;

/// Largest accepted body (DESIGN.md §3.5).
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

/// Largest accepted body of a bulk deletion job: its 10,000 ids may each be a customer user id
/// of up to 256 bytes, more than [`MAX_BODY_BYTES`] holds.
pub const MAX_JOB_BODY_BYTES: usize = 3 * 1024 * 1024;

/// The body as a JSON object, of at most `LIMIT` bytes. An empty body is an empty object:
/// Adapty's own recipes create profiles with no body at all. `Content-Type` is not inspected,
/// so duplicated or missing content types never stand in the way of a valid body.
pub struct JsonObject<const LIMIT: usize = MAX_BODY_BYTES>(pub Map<String, Value>);

impl<S: Send + Sync, const LIMIT: usize> FromRequest<S> for JsonObject<LIMIT> {
    type Rejection = ApiError;

    async fn from_request(request: Request, _: &S) -> Result<Self, ApiError> {
        let bytes = read_limited(request.into_body(), LIMIT).await?;
        parse_object(&bytes).map(JsonObject)
    }
}

async fn read_limited(body: Body, limit: usize) -> Result<bytes::Bytes, ApiError> {
    axum::body::to_bytes(body, limit).await.map_err(|error| {
        let cause = error.into_inner();
        if cause.is::<http_body_util::LengthLimitError>() {
            ApiError::PayloadTooLarge { limit }
        } else {
            ApiError::parse("The request body could not be read.")
        }
    })
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
