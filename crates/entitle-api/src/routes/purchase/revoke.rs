use axum::Json;
use axum::extract::State;
use entitle_domain::datetime::Timestamp;

use crate::error::ApiResult;
use crate::extract::{Authenticated, JsonObject, ProfileTarget};
use crate::routes::profile::respond;
use crate::state::ApiState;
use crate::wire::access_request::read_revoke;
use crate::wire::profile_response::ProfileEnvelope;

/// Ends an access level now or at a future `revoke_at`; the chain's next transaction supersedes
/// a revoke of store-backed access.
pub async fn handle(
    State(state): State<ApiState>,
    auth: Authenticated,
    ProfileTarget(target): ProfileTarget,
    JsonObject(body): JsonObject,
) -> ApiResult<Json<ProfileEnvelope>> {
    let request = read_revoke(&body)?;
    let profile = state
        .store
        .revoke_access_level(auth.app_id, target, request, Timestamp::now())
        .await?;
    Ok(respond(&state, &profile))
}
