use axum::Json;
use axum::extract::State;
use entitle_domain::datetime::Timestamp;

use crate::error::ApiResult;
use crate::extract::{Authenticated, JsonObject, ProfileTarget};
use crate::routes::profile::respond;
use crate::state::ApiState;
use crate::wire::access_request::read_grant;
use crate::wire::profile_response::ProfileEnvelope;

/// Gives (or re-sets the window of) an access level without a transaction.
pub async fn handle(
    State(state): State<ApiState>,
    auth: Authenticated,
    ProfileTarget(target): ProfileTarget,
    JsonObject(body): JsonObject,
) -> ApiResult<Json<ProfileEnvelope>> {
    let request = read_grant(&body)?;
    let profile = state
        .store
        .grant_access_level(auth.app_id, target, request, Timestamp::now())
        .await?;
    Ok(respond(&state, &profile))
}
