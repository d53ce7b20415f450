use axum::extract::State;
use axum::response::Response;

use super::respond;
use crate::error::{ApiError, ApiResult};
use crate::extract::{PresentedKey, ProfileTarget};
use crate::state::ApiState;

#[utoipa::path(
    get,
    path = "/api/v2/server-side-api/profile/",
    tag = "profile",
    operation_id = "getProfile",
    summary = "Get a profile",
    params(crate::openapi::schemas::ProfileHeaders),
    responses(
        (status = 200, description = "The profile", body = crate::wire::profile_response::ProfileEnvelope),
        (status = 400, description = "A client mistake: the field is named in `source`", body = crate::error::Envelope),
        (status = 401, description = "Missing, malformed, unknown or revoked key (`not_authenticated`)", body = crate::error::Envelope),
        (status = 404, description = "`profile_does_not_exist`", body = crate::error::Envelope),
        (status = 413, description = "Body over 1 MiB", body = crate::error::Envelope),
        (status = 429, description = "`rate_limited`; see `Retry-After`", body = crate::error::Envelope),
    ),
    security(("apikeyAuth" = []))
)]
/// `GET`: the full profile. Any body or `Content-Type` sent along is ignored.
pub async fn handle(
    State(state): State<ApiState>,
    key: PresentedKey,
    target: Result<ProfileTarget, ApiError>,
) -> ApiResult<Response> {
    // The key and the profile are read in one trip to the store; the profile is used only
    // once the key is admitted, and a mistake in the profile headers is reported only to a
    // caller whose key is good, as on every route.
    let ProfileTarget(target) = match target {
        Ok(target) => target,
        Err(mistake) => {
            key.authenticate(&state).await?;
            return Err(mistake);
        }
    };
    let read = state.store.get_profile_by_key(key.lookup(), target).await?;
    key.admit(&state, read.key)?;
    // An admitted key always comes with the profile's answer.
    let profile = read.profile.ok_or(ApiError::Internal)??;
    respond(&state, &profile)
}
