//! `GET /admin/v1/apps/{app_id}/events`: the event feed, newest first, cursor-paged, each event
//! with its delivery status per integration.

use axum::Json;
use axum::extract::{Path, RawQuery, State};
use entitle_domain::datetime::Timestamp;
use entitle_domain::events::EventType;
use entitle_domain::{AppId, CustomerUserId, ErrorCode, ProfileId, ValidationError};
use entitle_store::{EventPage, EventQuery};
use serde_json::{Value, json};

use crate::error::{ApiError, ApiResult};
use crate::extract::AdminAuth;
use crate::state::ApiState;

/// Query parameters, read leniently: unknown ones are ignored, a repeated one takes its last value.
#[derive(Debug, Default)]
pub struct Params(std::collections::HashMap<String, String>);

impl Params {
    pub fn parse(raw: Option<&str>) -> Self {
        Self(
            form_urlencoded::parse(raw.unwrap_or("").as_bytes())
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect(),
        )
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .get(name)
            .map(String::as_str)
            .filter(|v| !v.is_empty())
    }
}

fn invalid(source: &str, message: &str) -> ApiError {
    ApiError::Invalid(ValidationError::field(source, message))
}

/// The app a request's path names; its log line names it too (every caller has passed the
/// admin token check by then).
pub fn app_id(text: &str) -> ApiResult<AppId> {
    let app = AppId::parse(text).ok_or_else(|| invalid("app_id", "app_id must be a UUID"))?;
    crate::middleware::note_app(app);
    Ok(app)
}

/// An app the admin API does not know answers 404, as any path that names nothing.
pub fn unknown_app_not_found(error: entitle_store::StoreError) -> ApiError {
    match error {
        entitle_store::StoreError::AppNotFound => ApiError::RouteNotFound,
        other => other.into(),
    }
}

/// Cursors are opaque to clients: `c` + the position of the last event of the previous page.
pub fn encode_cursor(position: i64) -> String {
    format!("c{position}")
}

pub fn decode_cursor(text: &str) -> ApiResult<i64> {
    text.strip_prefix('c')
        .and_then(|n| n.parse().ok())
        .filter(|n: &i64| *n > 0)
        .ok_or_else(|| {
            ApiError::Invalid(ValidationError::new(
                ErrorCode::Rule("invalid_cursor"),
                "cursor",
                "cursor is not one this API returned",
            ))
        })
}

/// The event feed of an app: newest first, cursor-paged, with delivery status per integration.
#[utoipa::path(
    get,
    path = "/admin/v1/apps/{app_id}/events",
    tag = "admin",
    operation_id = "listEvents",
    params(
        ("app_id" = String, Path, description = "The app", format = Uuid),
        ("profile_id" = Option<String>, Query, description = "Only this profile's events", format = Uuid),
        ("customer_user_id" = Option<String>, Query, description = "Only this user's events"),
        ("event_type" = Option<String>, Query, description = "Only events of this type"),
        ("cursor" = Option<String>, Query, description = "`next_cursor` of the previous page"),
        ("limit" = Option<u32>, Query, minimum = 1, maximum = 500, description = "1 to 500, default 50"),
    ),
    responses(
        (status = 200, description = "One page of events", body = crate::openapi::schemas::EventPage),
        (status = 400, description = "A bad parameter", body = crate::error::Envelope),
        (status = 401, description = "Missing or wrong admin token", body = crate::error::Envelope),
        (status = 404, description = "No such app, or the admin API is off (no admin token configured)", body = crate::error::Envelope),
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
    let query = EventQuery {
        profile_id: params
            .get("profile_id")
            .map(|text| {
                ProfileId::parse(text)
                    .ok_or_else(|| invalid("profile_id", "profile_id must be a UUID"))
            })
            .transpose()?,
        customer_user_id: params
            .get("customer_user_id")
            .map(|text| {
                CustomerUserId::parse(text)
                    .map_err(|why| invalid("customer_user_id", &format!("customer_user_id {why}")))
            })
            .transpose()?,
        event_type: params
            .get("event_type")
            .map(|text| {
                EventType::parse(text)
                    .ok_or_else(|| invalid("event_type", "event_type is not a known event type"))
            })
            .transpose()?,
        before: params.get("cursor").map(decode_cursor).transpose()?,
        limit: match params.get("limit") {
            None => EventQuery::DEFAULT_LIMIT,
            Some(text) => text
                .parse::<u32>()
                .ok()
                .filter(|n| (1..=EventQuery::MAX_LIMIT).contains(n))
                .ok_or_else(|| invalid("limit", "limit must be a whole number from 1 to 500"))?,
        },
        as_of: Timestamp::now(),
    };
    let page = state
        .store
        .list_events(app, query)
        .await
        .map_err(unknown_app_not_found)?;
    Ok(Json(render(page)))
}

fn render(page: EventPage) -> Value {
    let events: Vec<Value> = page
        .events
        .into_iter()
        .map(|event| {
            json!({
                "profile_event_id": event.event_id.to_string(),
                "event_type": event.event_type.as_str(),
                "profile_id": event.profile_id.to_string(),
                "created_at": event.created_at,
                "reissued": event.reissued,
                "payload": event.payload,
                "deliveries": event.deliveries.iter().map(|d| json!({
                    "integration_id": d.integration_id.to_string(),
                    "webhook_id": d.webhook_id,
                    "status": d.state.as_str(),
                    "next_attempt_at": d.next_attempt_at,
                    "attempts": d.attempts.iter().map(|a| json!({
                        "attempted_at": a.attempted_at,
                        "status_code": a.status_code,
                        "error": a.error,
                        "duration_ms": a.duration_ms,
                    })).collect::<Vec<_>>(),
                })).collect::<Vec<_>>(),
            })
        })
        .collect();
    json!({ "data": events, "next_cursor": page.next.map(encode_cursor) })
}
