use axum::extract::State;
use axum::response::Response;
use entitle_domain::datetime::Timestamp;

use super::respond;
use crate::error::ApiResult;
use crate::extract::{Authenticated, JsonObject, PlatformHeader, ProfileTarget};
use crate::state::ApiState;
use crate::wire::profile_request::read_profile_request;

#[utoipa::path(
    patch,
    path = "/api/v2/server-side-api/profile/",
    tag = "profile",
    operation_id = "updateProfile",
    summary = "Update a profile",
    params(crate::openapi::schemas::ProfileWriteHeaders),
    request_body(content = crate::openapi::schemas::ProfileRequest, content_type = "application/json"),
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
/// `PATCH`: only the fields present change; custom attributes merge by key. A non-null
/// `customer_user_id` is never changed (DESIGN.md §3.3).
pub async fn handle(
    State(state): State<ApiState>,
    auth: Authenticated,
    ProfileTarget(target): ProfileTarget,
    PlatformHeader(platform): PlatformHeader,
    JsonObject(body): JsonObject,
) -> ApiResult<Response> {
    let patch = read_profile_request(&body, platform)?;
    let profile = state
        .store
        .update_profile(auth.app_id, target, patch, Timestamp::now())
        .await?;
    respond(&state, &profile)
}
