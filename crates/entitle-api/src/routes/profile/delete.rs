use axum::extract::State;
use axum::http::StatusCode;
use entitle_domain::datetime::Timestamp;

use crate::error::ApiResult;
use crate::extract::{Authenticated, ProfileTarget};
use crate::state::ApiState;

#[utoipa::path(
    delete,
    path = "/api/v2/server-side-api/profile/",
    tag = "profile",
    operation_id = "deleteProfile",
    summary = "Delete a profile: its data goes, its purchase history detaches",
    params(crate::openapi::schemas::ProfileHeaders),
    responses(
        (status = 204, description = "Deleted; empty body"),
        (status = 400, description = "A client mistake: the field is named in `source`", body = crate::error::Envelope),
        (status = 401, description = "Missing, malformed, unknown or revoked key (`not_authenticated`)", body = crate::error::Envelope),
        (status = 404, description = "`profile_does_not_exist`", body = crate::error::Envelope),
        (status = 413, description = "Body over 1 MiB", body = crate::error::Envelope),
        (status = 429, description = "`rate_limited`; see `Retry-After`", body = crate::error::Envelope),
    ),
    security(("apikeyAuth" = []))
)]
/// `DELETE`: 204 with an empty body once the deletion has committed (DESIGN.md §4).
pub async fn handle(
    State(state): State<ApiState>,
    auth: Authenticated,
    ProfileTarget(target): ProfileTarget,
) -> ApiResult<StatusCode> {
    state
        .store
        .delete_profile(auth.app_id, target, auth.key_id, Timestamp::now())
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
