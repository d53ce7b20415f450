use axum::extract::State;
use axum::response::Response;
use entitle_domain::datetime::Timestamp;

use crate::error::ApiResult;
use crate::extract::{Authenticated, JsonObject, ProfileTarget};
use crate::routes::profile::respond;
use crate::state::ApiState;
use crate::wire::access_request::read_revoke;

#[utoipa::path(
    post,
    path = "/api/v2/server-side-api/purchase/profile/revoke/access-level/",
    tag = "purchase",
    operation_id = "revokeAccessLevel",
    summary = "Revoke an access level now or at a future date",
    params(crate::openapi::schemas::ProfileHeaders),
    request_body(content = crate::openapi::schemas::RevokeAccessRequest, content_type = "application/json"),
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
/// Ends an access level now or at a future `revoke_at`; the chain's next transaction supersedes
/// a revoke of store-backed access.
pub async fn handle(
    State(state): State<ApiState>,
    auth: Authenticated,
    ProfileTarget(target): ProfileTarget,
    JsonObject(body): JsonObject,
) -> ApiResult<Response> {
    let request = read_revoke(&body)?;
    let profile = state
        .store
        .revoke_access_level(auth.app_id, target, request, Timestamp::now())
        .await?;
    respond(&state, &profile)
}
