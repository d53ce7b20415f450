//! `/api/v2/server-side-api/profile/`: create, get, update, delete (spec §5.1–5.4).

pub mod create;
pub mod delete;
pub mod get;
pub mod update;

use axum::Json;
use entitle_domain::datetime::Timestamp;
use entitle_domain::profile::Profile;

use crate::state::ApiState;
use crate::wire::profile_response::{ProfileEnvelope, render};

/// The `{"data": Profile}` answer shared by every profile-returning endpoint.
pub fn respond(state: &ApiState, profile: &Profile) -> Json<ProfileEnvelope> {
    Json(render(profile, Timestamp::now(), state.clock.now_millis()))
}
