//! The one place where failures become HTTP responses: Adapty's error envelope (spec §3.1),
//! with `status_code` always equal to the HTTP status. Internal details are logged, never sent.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use entitle_domain::datetime::Timestamp;
use entitle_domain::purchase::OverrideError;
use entitle_domain::{ErrorCode, ProfileId, ValidationError};
use entitle_store::StoreError;
use serde::Serialize;

#[derive(Debug)]
pub enum ApiError {
    /// 401 `not_authenticated` (spec §2.2 shape A).
    NotAuthenticated(&'static str),
    /// 400 with the error's own code and source.
    Invalid(ValidationError),
    /// 404 `profile_does_not_exist`.
    ProfileNotFound,
    /// 413: the body is larger than its route's limit (in bytes). Unless it was `drained`
    /// (read to its end) the connection is closed: the rest of it may still be on its way.
    PayloadTooLarge { limit: usize, drained: bool },
    /// 404 for a path entitle does not serve.
    RouteNotFound,
    /// 405 for a method a path does not support.
    MethodNotAllowed,
    /// 429 `rate_limited`, with `Retry-After`.
    RateLimited { retry_after_secs: u64 },
    /// 503: handling the request took longer than the server allows.
    Timeout,
    /// 408: the client did not send the whole body before the deadline (a `Content-Length`
    /// larger than what it sent, or a sender that stalled). The connection is closed: what
    /// remains of the body may still arrive.
    BodyTimeout,
    /// 400 `parse_error`: the body could not be read as HTTP (a malformed chunk, a connection
    /// closed before `Content-Length` bytes came). The connection is closed: where the next
    /// request would begin is unknown.
    BodyUnreadable,
    /// 503: storage is shutting down or unreachable.
    Unavailable,
    /// 500: a fault of ours. The detail was logged where it happened.
    Internal,
}

impl ApiError {
    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::NotAuthenticated(_) => StatusCode::UNAUTHORIZED,
            ApiError::Invalid(_) | ApiError::BodyUnreadable => StatusCode::BAD_REQUEST,
            ApiError::ProfileNotFound | ApiError::RouteNotFound => StatusCode::NOT_FOUND,
            ApiError::PayloadTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            ApiError::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
            ApiError::Unavailable | ApiError::Timeout => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::BodyTimeout => StatusCode::REQUEST_TIMEOUT,
            ApiError::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn parts(&self) -> (&'static str, Option<String>, String) {
        match self {
            ApiError::NotAuthenticated(message) => (
                "not_authenticated",
                Some("non_field_errors".into()),
                (*message).to_owned(),
            ),
            ApiError::Invalid(error) => (
                error.code.as_str(),
                error.source.clone(),
                error.message.clone(),
            ),
            ApiError::ProfileNotFound => {
                ("profile_does_not_exist", None, "Profile not found".into())
            }
            ApiError::PayloadTooLarge { limit, .. } => (
                "payload_too_large",
                None,
                format!("Request body is larger than {limit} bytes."),
            ),
            ApiError::RouteNotFound => ("not_found", None, "Not found.".into()),
            ApiError::MethodNotAllowed => {
                ("method_not_allowed", None, "Method not allowed.".into())
            }
            ApiError::RateLimited { .. } => ("rate_limited", None, "Request was throttled.".into()),
            ApiError::Unavailable => (
                "service_unavailable",
                None,
                "The service is temporarily unavailable; retry shortly.".into(),
            ),
            ApiError::Timeout => (
                "request_timeout",
                None,
                "The request took too long and was abandoned; retry it.".into(),
            ),
            ApiError::BodyTimeout => (
                "request_timeout",
                None,
                "The request body did not arrive in full before the deadline; send it again."
                    .into(),
            ),
            ApiError::BodyUnreadable => (
                "parse_error",
                None,
                "The request body could not be read: it was malformed or cut short.".into(),
            ),
            ApiError::Internal => ("server_error", None, "Internal server error.".into()),
        }
    }

    pub fn parse(message: impl Into<String>) -> Self {
        ApiError::Invalid(ValidationError::request(ErrorCode::ParseError, message))
    }
}

impl From<ValidationError> for ApiError {
    fn from(error: ValidationError) -> Self {
        ApiError::Invalid(error)
    }
}

impl From<StoreError> for ApiError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::ProfileNotFound => ApiError::ProfileNotFound,
            StoreError::CustomerUserIdTaken => ApiError::Invalid(ValidationError::field(
                "adapty-customer-user-id",
                "This customer user id already belongs to another profile; profiles are never merged.",
            )),
            StoreError::Invalid(error) => ApiError::Invalid(error),
            StoreError::AccessLevelNotFound(level) => ApiError::Invalid(ValidationError::new(
                ErrorCode::Rule("paid_access_level_does_not_exist"),
                "non_field_errors",
                format!("Paid access level `{}` does not exist", level.as_str()),
            )),
            StoreError::Revoke {
                error,
                level,
                profile_id,
            } => ApiError::Invalid(revoke_error(error, level.as_str(), profile_id)),
            // The key authenticated, but its app or the key itself is gone: treat as unknown.
            StoreError::AppNotFound | StoreError::KeyNotFound | StoreError::IntegrationNotFound => {
                ApiError::NotAuthenticated("Invalid API key.")
            }
            StoreError::Unavailable(detail) => {
                tracing::warn!(%detail, "storage unavailable");
                ApiError::Unavailable
            }
            StoreError::Backend(detail) => {
                tracing::error!(%detail, "storage failure");
                ApiError::Internal
            }
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status();
        let (code, source, message) = self.parts();
        let body = Envelope {
            errors: [EnvelopeItem {
                source,
                errors: [message],
            }],
            error_code: code,
            status_code: status.as_u16(),
        };
        let mut response = (status, Json(body)).into_response();
        match self {
            ApiError::RateLimited { retry_after_secs } => {
                response.headers_mut().insert(
                    axum::http::header::RETRY_AFTER,
                    axum::http::HeaderValue::from(retry_after_secs.max(1)),
                );
            }
            // The rest of the body may still be on its way: the connection cannot carry
            // another request.
            ApiError::BodyTimeout
            | ApiError::BodyUnreadable
            | ApiError::PayloadTooLarge { drained: false, .. } => {
                response.headers_mut().insert(
                    axum::http::header::CONNECTION,
                    axum::http::HeaderValue::from_static("close"),
                );
            }
            _ => {}
        }
        response
    }
}

fn revoke_error(error: OverrideError, level: &str, profile_id: ProfileId) -> ValidationError {
    match error {
        OverrideError::ProfileHasNoSuchAccessLevel => ValidationError::new(
            ErrorCode::Rule("profile_paid_access_level_does_not_exist"),
            "non_field_errors",
            format!("Profile `{profile_id}` has no `{level}` access level"),
        ),
        OverrideError::RevokeNotInFuture => ValidationError::new(
            ErrorCode::ValueError,
            "revoke_at",
            "Must be greater than the current time or null",
        ),
        OverrideError::RevokeAfterExpiry {
            revoke_at,
            expires_at,
        } => ValidationError::new(
            ErrorCode::Rule("revocation_date_more_than_expiration_date"),
            "revoke_at",
            format!(
                "Revocation date ({}) is more than current expiration date ({})",
                spaced(revoke_at),
                spaced(expires_at)
            ),
        ),
    }
}

/// `2028-08-29 09:33:42+00:00`, the rendering Adapty uses inside messages.
fn spaced(at: Timestamp) -> String {
    let text = at.to_rfc3339();
    let (date, time) = text.split_once('T').unwrap_or((&text, ""));
    let time = match time.split_once('.') {
        Some((whole, rest)) => format!("{whole}{}", &rest[rest.len().saturating_sub(6)..]),
        None => time.to_owned(),
    };
    format!("{date} {time}")
}

/// Field order as in Adapty's documents: `errors`, `error_code`, `status_code`.
#[derive(Serialize, utoipa::ToSchema)]
pub struct Envelope {
    #[schema(value_type = Vec<EnvelopeItem>)]
    errors: [EnvelopeItem; 1],
    #[schema(value_type = String, example = "profile_does_not_exist")]
    error_code: &'static str,
    status_code: u16,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct EnvelopeItem {
    source: Option<String>,
    #[schema(value_type = Vec<String>)]
    errors: [String; 1],
}

pub type ApiResult<T> = Result<T, ApiError>;
