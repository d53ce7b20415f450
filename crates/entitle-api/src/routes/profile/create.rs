use axum::Json;
use axum::extract::State;
use entitle_domain::datetime::Timestamp;

use super::respond;
use crate::error::ApiResult;
use crate::extract::{Authenticated, JsonObject, PlatformHeader, ProfileTarget};
use crate::state::ApiState;
use crate::wire::profile_request::read_profile_request;
use crate::wire::profile_response::ProfileEnvelope;

/// `POST`: get-or-create the named profile, then apply the body (DESIGN.md §3.2). Always 200.
pub async fn handle(
    State(state): State<ApiState>,
    auth: Authenticated,
    ProfileTarget(target): ProfileTarget,
    PlatformHeader(platform): PlatformHeader,
    JsonObject(body): JsonObject,
) -> ApiResult<Json<ProfileEnvelope>> {
    let patch = read_profile_request(&body, platform)?;
    let profile = state
        .store
        .create_profile(auth.app_id, target, patch, Timestamp::now())
        .await?;
    Ok(respond(&state, &profile))
}
