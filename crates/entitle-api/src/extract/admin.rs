//! `Authorization: Bearer <admin token>` for the admin API. No token configured: the admin API
//! is off. App keys are never accepted here.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use subtle::ConstantTimeEq;

use crate::error::ApiError;
use crate::state::ApiState;

pub struct AdminAuth;

impl FromRequestParts<ApiState> for AdminAuth {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &ApiState) -> Result<Self, ApiError> {
        let Some(expected) = state.admin_token.as_deref() else {
            return Err(ApiError::RouteNotFound);
        };
        let header = parts.headers.get(axum::http::header::AUTHORIZATION).ok_or(
            ApiError::NotAuthenticated("Authentication credentials were not provided."),
        )?;
        let presented = header
            .to_str()
            .ok()
            .and_then(|text| {
                let (scheme, token) = text.trim().split_once(' ')?;
                scheme.eq_ignore_ascii_case("Bearer").then(|| token.trim())
            })
            .ok_or(ApiError::NotAuthenticated(
                "The admin API takes `Authorization: Bearer <admin token>`.",
            ))?;
        if bool::from(presented.as_bytes().ct_eq(expected.as_bytes())) {
            Ok(AdminAuth)
        } else {
            Err(ApiError::NotAuthenticated("Invalid admin token."))
        }
    }
}
