use axum::extract::State;
use axum::http::StatusCode;
use entitle_domain::datetime::Timestamp;

use crate::error::ApiResult;
use crate::extract::{Authenticated, ProfileTarget};
use crate::state::ApiState;

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
