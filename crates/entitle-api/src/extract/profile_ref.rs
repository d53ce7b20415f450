//! The profile-identifying headers (spec §2.3, DESIGN.md §3.1) and `adapty-platform`.

use axum::extract::FromRequestParts;
use axum::http::HeaderMap;
use axum::http::request::Parts;
use entitle_domain::profile::Platform;
use entitle_domain::resolve::ProfileRef;
use entitle_domain::{CustomerUserId, ErrorCode, ProfileId, ValidationError};

use crate::error::ApiError;

pub const PROFILE_ID: &str = "adapty-profile-id";
pub const CUSTOMER_USER_ID: &str = "adapty-customer-user-id";
pub const PLATFORM: &str = "adapty-platform";

/// Which profile the request is about.
#[derive(Debug, Clone)]
pub struct ProfileTarget(pub ProfileRef);

impl<S: Send + Sync> FromRequestParts<S> for ProfileTarget {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        profile_ref(&parts.headers).map(ProfileTarget)
    }
}

pub fn profile_ref(headers: &HeaderMap) -> Result<ProfileRef, ApiError> {
    let profile_id = header_text(headers, PROFILE_ID)?
        .map(|text| {
            ProfileId::parse(text).ok_or_else(|| {
                ValidationError::field(PROFILE_ID, format!("{PROFILE_ID} must be a UUID"))
            })
        })
        .transpose()?;
    let customer_user_id = header_text(headers, CUSTOMER_USER_ID)?
        .map(|text| {
            CustomerUserId::parse(text).map_err(|why| {
                ValidationError::field(CUSTOMER_USER_ID, format!("{CUSTOMER_USER_ID} {why}"))
            })
        })
        .transpose()?;
    match (profile_id, customer_user_id) {
        (Some(id), Some(cuid)) => Ok(ProfileRef::Both(id, cuid)),
        (Some(id), None) => Ok(ProfileRef::Id(id)),
        (None, Some(cuid)) => Ok(ProfileRef::CustomerUserId(cuid)),
        (None, None) => Err(ValidationError::request(
            ErrorCode::ValidationError,
            format!("{PROFILE_ID} or {CUSTOMER_USER_ID} header is required"),
        )
        .into()),
    }
}

/// The optional `adapty-platform` header.
#[derive(Debug, Clone, Copy)]
pub struct PlatformHeader(pub Option<Platform>);

impl<S: Send + Sync> FromRequestParts<S> for PlatformHeader {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        let platform = header_text(&parts.headers, PLATFORM)?
            .map(|text| {
                Platform::parse(text).ok_or_else(|| {
                    ValidationError::new(
                        ErrorCode::Enum,
                        PLATFORM,
                        permitted_message(Platform::PERMITTED),
                    )
                })
            })
            .transpose()?;
        Ok(PlatformHeader(platform))
    }
}

pub fn permitted_message(permitted: &[&str]) -> String {
    let listed: Vec<String> = permitted.iter().map(|value| format!("'{value}'")).collect();
    format!(
        "value is not a valid enumeration member; permitted: {}",
        listed.join(", ")
    )
}

/// A header's text: absent or blank counts as not sent; several different values, or bytes that
/// are not text, are a client mistake naming the header.
fn header_text<'a>(
    headers: &'a HeaderMap,
    name: &'static str,
) -> Result<Option<&'a str>, ApiError> {
    let mut chosen: Option<&str> = None;
    for value in headers.get_all(name) {
        let text = std::str::from_utf8(value.as_bytes())
            .map_err(|_| ValidationError::field(name, format!("{name} must be UTF-8 text")))?
            // Only HTTP's own optional whitespace: a customer user id is any string, and one
            // ending in a no-break space names another user than one without it.
            .trim_matches([' ', '\t']);
        if text.is_empty() {
            continue;
        }
        match chosen {
            Some(previous) if previous != text => {
                return Err(ValidationError::field(
                    name,
                    format!("{name} was sent more than once with different values"),
                )
                .into());
            }
            _ => chosen = Some(text),
        }
    }
    Ok(chosen)
}
