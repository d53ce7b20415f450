use axum::Json;
use axum::extract::State;

use super::respond;
use crate::error::ApiResult;
use crate::extract::{Authenticated, ProfileTarget};
use crate::state::ApiState;
use crate::wire::profile_response::ProfileEnvelope;

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
    auth: Authenticated,
    ProfileTarget(target): ProfileTarget,
) -> ApiResult<Json<ProfileEnvelope>> {
    let profile = state.store.get_profile(auth.app_id, target).await?;
    Ok(respond(&state, &profile))
}
