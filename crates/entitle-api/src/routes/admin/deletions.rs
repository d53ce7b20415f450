//! Bulk deletion jobs (`/admin/v1/apps/{app_id}/deletions`): up to 10,000 profile ids or
//! customer user ids per job, run in the background, resumable across restarts. Resubmitting
//! the same list returns the same job.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use entitle_domain::datetime::Timestamp;
use entitle_domain::{CustomerUserId, ProfileId, ValidationError};
use entitle_store::{DeletionJob, ItemOutcome, JobItem, JobTarget};
use serde_json::{Value, json};

use super::events::app_id;
use crate::error::{ApiError, ApiResult};
use crate::extract::{AdminAuth, JsonObject};
use crate::state::ApiState;

/// Most items one job may hold.
pub const MAX_ITEMS: usize = 10_000;

fn invalid(source: &str, message: impl Into<String>) -> ApiError {
    ApiError::Invalid(ValidationError::field(source, message))
}

/// The `customer_user_ids` and `profile_ids` arrays of the body, in that order.
fn read_targets(body: &serde_json::Map<String, Value>) -> ApiResult<Vec<JobTarget>> {
    let mut targets = Vec::new();
    for field in ["customer_user_ids", "profile_ids"] {
        let Some(value) = body.get(field).filter(|v| !v.is_null()) else {
            continue;
        };
        let items = value
            .as_array()
            .ok_or_else(|| invalid(field, format!("{field} must be an array of strings")))?;
        for (index, item) in items.iter().enumerate() {
            let text = item
                .as_str()
                .ok_or_else(|| invalid(field, format!("{field}[{index}] must be a string")))?;
            targets.push(if field == "profile_ids" {
                JobTarget::ProfileId(
                    ProfileId::parse(text)
                        .ok_or_else(|| invalid(field, format!("{field}[{index}] is not a UUID")))?,
                )
            } else {
                JobTarget::CustomerUserId(
                    CustomerUserId::parse(text)
                        .map_err(|why| invalid(field, format!("{field}[{index}] {why}")))?,
                )
            });
            if targets.len() > MAX_ITEMS {
                return Err(invalid(
                    field,
                    format!("a job holds at most {MAX_ITEMS} ids"),
                ));
            }
        }
    }
    if targets.is_empty() {
        return Err(ApiError::Invalid(ValidationError::request(
            entitle_domain::ErrorCode::ValidationError,
            "send customer_user_ids and/or profile_ids, with at least one id",
        )));
    }
    Ok(targets)
}

fn summary(job: &DeletionJob) -> Value {
    json!({
        "job_id": job.job_id.to_string(),
        "status": job.status(),
        "total": job.total,
        "counts": {
            "pending": job.counts.pending,
            "deleted": job.counts.deleted,
            "not_found": job.counts.not_found,
            "failed": job.counts.failed,
        },
        "created_at": job.created_at,
        "finished_at": job.finished_at,
    })
}

#[utoipa::path(
    post,
    path = "/admin/v1/apps/{app_id}/deletions",
    tag = "admin",
    operation_id = "createDeletionJob",
    params(("app_id" = String, Path, description = "The app", format = Uuid)),
    request_body(content = crate::openapi::schemas::DeletionJobRequest, content_type = "application/json"),
    responses(
        (status = 202, description = "A new job", body = crate::openapi::schemas::DeletionJobSummary),
        (status = 200, description = "The existing job for the same list", body = crate::openapi::schemas::DeletionJobSummary),
        (status = 400, description = "A bad list, or an app id that is not a UUID", body = crate::error::Envelope),
        (status = 401, description = "Missing or wrong admin token", body = crate::error::Envelope),
        (status = 404, description = "No such app", body = crate::error::Envelope),
        (status = 413, description = "A body over 3 MiB", body = crate::error::Envelope),
    ),
    security(("adminToken" = []))
)]
pub async fn create(
    State(state): State<ApiState>,
    _: AdminAuth,
    Path(app): Path<String>,
    JsonObject(body): JsonObject,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let app = app_id(&app)?;
    let targets = read_targets(&body)?;
    let (job, created) = state
        .store
        .create_deletion_job(app, targets, Timestamp::now())
        .await
        .map_err(super::events::unknown_app_not_found)?;
    let status = if created {
        StatusCode::ACCEPTED
    } else {
        StatusCode::OK
    };
    Ok((status, Json(summary(&job))))
}

fn item(item: &JobItem) -> Value {
    let mut value =
        json!({ "index": item.index, "kind": item.kind, "status": item.outcome.as_str() });
    if let ItemOutcome::Failed(error) = &item.outcome {
        value["error"] = json!(error);
    }
    value
}

#[utoipa::path(
    get,
    path = "/admin/v1/apps/{app_id}/deletions/{job_id}",
    tag = "admin",
    operation_id = "getDeletionJob",
    params(
        ("app_id" = String, Path, description = "The app", format = Uuid),
        ("job_id" = String, Path, description = "The job", format = Uuid),
    ),
    responses(
        (status = 200, description = "The job with per-item results (by position in the submitted list)", body = crate::openapi::schemas::DeletionJobResult),
        (status = 400, description = "An app id or job id that is not a UUID", body = crate::error::Envelope),
        (status = 404, description = "No such job", body = crate::error::Envelope),
        (status = 401, description = "Missing or wrong admin token", body = crate::error::Envelope),
    ),
    security(("adminToken" = []))
)]
pub async fn get(
    State(state): State<ApiState>,
    _: AdminAuth,
    Path((app, job)): Path<(String, String)>,
) -> ApiResult<Json<Value>> {
    let app = app_id(&app)?;
    let job_id =
        uuid::Uuid::try_parse(&job).map_err(|_| invalid("job_id", "job_id must be a UUID"))?;
    let (job, items) = state
        .store
        .get_deletion_job(app, job_id)
        .await?
        .ok_or(ApiError::RouteNotFound)?;
    let mut body = summary(&job);
    body["items"] = Value::Array(items.iter().map(item).collect());
    Ok(Json(body))
}
