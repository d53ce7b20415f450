//! `/api/v2/server-side-api/profile/`: create, get, update, delete (spec §5.1–5.4).

pub mod create;
pub mod delete;
pub mod get;
pub mod update;

use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use entitle_domain::datetime::Timestamp;
use entitle_domain::profile::Profile;

use crate::error::{ApiError, ApiResult};
use crate::state::ApiState;
use crate::wire::profile_json;
use crate::wire::profile_response::render;

/// Room for a typical profile answer, so that writing it rarely grows the buffer.
const TYPICAL_BODY_BYTES: usize = 2048;

/// The `{"data": Profile}` answer shared by every profile-returning endpoint, written once
/// into the response's bytes.
pub fn respond(state: &ApiState, profile: &Profile) -> ApiResult<Response> {
    let envelope = render(profile, Timestamp::now(), state.clock.now_millis());
    let mut body = Vec::with_capacity(TYPICAL_BODY_BYTES);
    profile_json::write(&envelope, &mut body).map_err(|_| ApiError::Internal)?;
    let json = HeaderValue::from_static("application/json");
    Ok(([(header::CONTENT_TYPE, json)], body).into_response())
}
