use axum::Json;
use axum::extract::State;

use super::respond;
use crate::error::ApiResult;
use crate::extract::{Authenticated, ProfileTarget};
use crate::state::ApiState;
use crate::wire::profile_response::ProfileEnvelope;

/// `GET`: the full profile. Any body or `Content-Type` sent along is ignored.
pub async fn handle(
    State(state): State<ApiState>,
    auth: Authenticated,
    ProfileTarget(target): ProfileTarget,
) -> ApiResult<Json<ProfileEnvelope>> {
    let profile = state.store.get_profile(auth.app_id, target).await?;
    Ok(respond(&state, &profile))
}
