//! `GET /admin/v1/apps/{app_id}/deletion-records`: the deletion audit trail — when, by which key
//! (or job), what was removed, detached and cancelled. No personal data: the profile id appears
//! only as a keyed hash.

use axum::Json;
use axum::extract::{Path, RawQuery, State};
use entitle_domain::ValidationError;
use entitle_domain::datetime::Timestamp;
use entitle_store::DeletedBy;
use serde_json::{Value, json};

use super::events::{Params, app_id, decode_cursor, encode_cursor, unknown_app_not_found};
use crate::error::{ApiError, ApiResult};
use crate::extract::AdminAuth;
use crate::state::ApiState;

#[utoipa::path(
    get,
    path = "/admin/v1/apps/{app_id}/deletion-records",
    tag = "admin",
    operation_id = "listDeletionRecords",
    params(
        ("app_id" = String, Path, description = "The app", format = Uuid),
        ("since" = Option<String>, Query, description = "Only deletions at or after this date-time"),
        ("cursor" = Option<String>, Query, description = "`next_cursor` of the previous page"),
        ("limit" = Option<u32>, Query, minimum = 1, maximum = 1000, description = "1 to 1000, default 100"),
    ),
    responses(
        (status = 200, description = "Oldest first", body = crate::openapi::schemas::DeletionRecordPage),
        (status = 400, description = "A bad parameter", body = crate::error::Envelope),
        (status = 401, description = "Missing or wrong admin token", body = crate::error::Envelope),
        (status = 404, description = "No such app", body = crate::error::Envelope),
    ),
    security(("adminToken" = []))
)]
pub async fn list(
    State(state): State<ApiState>,
    _: AdminAuth,
    Path(app): Path<String>,
    RawQuery(raw): RawQuery,
) -> ApiResult<Json<Value>> {
    let app = app_id(&app)?;
    let params = Params::parse(raw.as_deref());
    let since = params
        .get("since")
        .map(|text| {
            // A `+` of the offset that arrives unencoded reads as a space.
            Timestamp::parse(&text.replace(' ', "+")).ok_or_else(|| {
                ApiError::Invalid(ValidationError::new(
                    entitle_domain::ErrorCode::Datetime,
                    "since",
                    "invalid datetime format",
                ))
            })
        })
        .transpose()?;
    let after = params.get("cursor").map(decode_cursor).transpose()?;
    let limit = match params.get("limit") {
        None => 100,
        Some(text) => text
            .parse::<u32>()
            .ok()
            .filter(|n| (1..=1000).contains(n))
            .ok_or_else(|| {
                ApiError::Invalid(ValidationError::field(
                    "limit",
                    "limit must be a whole number from 1 to 1000",
                ))
            })?,
    };
    let page = state
        .store
        .list_deletion_records(app, since, after, limit)
        .await
        .map_err(unknown_app_not_found)?;
    let records: Vec<Value> = page
        .records
        .iter()
        .map(|record| {
            let deleted_by = match record.deleted_by {
                DeletedBy::Key(key) => json!({ "key_id": key.to_string() }),
                DeletedBy::Job(job) => json!({ "job_id": job.to_string() }),
            };
            let c = &record.counts;
            json!({
                "deletion_id": record.deletion_id.to_string(),
                "deleted_at": record.deleted_at,
                "deleted_by": deleted_by,
                "profile_hash": hex::encode(record.profile_hash),
                "counts": {
                    "custom_attributes_removed": c.custom_attributes,
                    "installations_removed": c.installations,
                    "chains_detached": c.chains_detached,
                    "share_links_removed": c.share_links_removed,
                    "overrides_removed": c.overrides_removed,
                    "events_removed": c.events_removed,
                    "deliveries_cancelled": c.deliveries_cancelled,
                },
            })
        })
        .collect();
    Ok(Json(
        json!({ "data": records, "next_cursor": page.next.map(encode_cursor) }),
    ))
}
