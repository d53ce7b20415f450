use axum::Json;
use axum::extract::State;
use entitle_domain::datetime::Timestamp;

use crate::error::ApiResult;
use crate::extract::{Authenticated, JsonObject, ProfileTarget};
use crate::routes::profile::respond;
use crate::state::ApiState;
use crate::wire::profile_response::ProfileEnvelope;
use crate::wire::transaction_request::read_transaction;

/// Records a purchase, renewal or update of a known transaction id.
pub async fn handle(
    State(state): State<ApiState>,
    auth: Authenticated,
    ProfileTarget(target): ProfileTarget,
    JsonObject(body): JsonObject,
) -> ApiResult<Json<ProfileEnvelope>> {
    let transaction = read_transaction(&body)?;
    let profile = state
        .store
        .set_transaction(auth.app_id, target, transaction, Timestamp::now())
        .await?;
    Ok(respond(&state, &profile))
}
