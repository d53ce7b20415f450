//! Reading the event feed: newest first, with each event's deliveries. Runs in one read-only
//! snapshot, so a page never shows an event without the deliveries it committed with.

use entitle_domain::events::{EventType, restore_unknown};
use entitle_domain::resolve::ProfileRef;
use entitle_domain::{AppId, IntegrationId, ProfileId};
use entitle_store::{
    AttemptRecord, DeliveryState, DeliveryStatus, EventPage, EventQuery, FeedEvent, StoreError,
};
use sqlx::{PgConnection, Row};

use crate::apps::app_pk;
use crate::codec::timestamp;
use crate::error::{Error, Result, corrupt};
use crate::profiles;

pub async fn list_events(
    conn: &mut PgConnection,
    app: AppId,
    query: &EventQuery,
) -> Result<EventPage> {
    let empty = EventPage {
        events: Vec::new(),
        next: None,
    };
    // An unknown app is `AppNotFound`, and a failed read an error: neither an empty page.
    let app_pk = app_pk(conn, app).await?;
    let profile_id = match (&query.profile_id, &query.customer_user_id) {
        (Some(id), _) => Some(*id),
        (None, Some(cuid)) => {
            let target = ProfileRef::CustomerUserId(cuid.clone());
            match profiles::resolve(conn, app_pk, &target).await {
                Ok(row) => Some(row.identity.profile_id),
                Err(Error::Store(StoreError::ProfileNotFound)) => return Ok(empty),
                Err(other) => return Err(other),
            }
        }
        (None, None) => None,
    };
    let limit = query.limit.clamp(1, EventQuery::MAX_LIMIT);
    // Two statements rather than one with an optional profile: each keeps a plan that walks its
    // own index (the profile's key range, or the app's feed), however the other is used.
    let sql = if profile_id.is_some() {
        "SELECT event_seq, event_id, event_type, profile_id, created_at, reissued, payload
           FROM events
          WHERE app_pk = $1 AND profile_id = $2
            AND ($3::text IS NULL OR event_type = $3)
            AND ($4::bigint IS NULL OR event_seq < $4)
            AND (hidden_until IS NULL OR hidden_until <= $6)
          ORDER BY event_seq DESC
          LIMIT $5"
    } else {
        "SELECT event_seq, event_id, event_type, profile_id, created_at, reissued, payload
           FROM events
          WHERE app_pk = $1 AND $2::uuid IS NULL
            AND ($3::text IS NULL OR event_type = $3)
            AND ($4::bigint IS NULL OR event_seq < $4)
            AND (hidden_until IS NULL OR hidden_until <= $6)
          ORDER BY event_seq DESC
          LIMIT $5"
    };
    let rows = sqlx::query(sql)
        .bind(app_pk)
        .bind(profile_id.map(|id| *id.as_uuid()))
        .bind(query.event_type.map(EventType::as_str))
        .bind(query.before)
        .bind(i64::from(limit) + 1)
        .bind(query.as_of.unix_micros())
        .fetch_all(&mut *conn)
        .await?;
    let mut events = Vec::with_capacity(rows.len());
    for row in rows {
        let position: i64 = row.try_get(0)?;
        let kind: String = row.try_get(2)?;
        let profile_id = ProfileId::from_uuid(row.try_get(3)?);
        let payload: String = row.try_get(6)?;
        let mut payload: serde_json::Value =
            serde_json::from_str(&payload).map_err(|e| corrupt("event payload", e))?;
        // Payloads stored before events carried the always-null properties gain them here.
        restore_unknown(&mut payload);
        events.push(FeedEvent {
            position,
            event_id: row.try_get(1)?,
            event_type: EventType::parse(&kind).ok_or_else(|| {
                Error::Store(StoreError::Backend(format!(
                    "unknown stored event type {kind}"
                )))
            })?,
            profile_id,
            created_at: timestamp(row.try_get(4)?),
            reissued: row.try_get(5)?,
            payload,
            deliveries: deliveries_of(conn, app_pk, profile_id, position).await?,
        });
    }
    let next = if events.len() > limit as usize {
        events.truncate(limit as usize);
        events.last().map(|e| e.position)
    } else {
        None
    };
    Ok(EventPage { events, next })
}

async fn deliveries_of(
    conn: &mut PgConnection,
    app_pk: i64,
    profile_id: ProfileId,
    seq: i64,
) -> Result<Vec<DeliveryStatus>> {
    let rows = sqlx::query(
        "SELECT d.delivery_pk, i.integration_id, d.webhook_id, d.status, d.next_attempt_at
           FROM deliveries d JOIN integrations i ON i.integration_pk = d.integration_pk
          WHERE d.app_pk = $1 AND d.profile_id = $2 AND d.event_seq = $3
          ORDER BY d.delivery_pk",
    )
    .bind(app_pk)
    .bind(profile_id.as_uuid())
    .bind(seq)
    .fetch_all(&mut *conn)
    .await?;
    let mut deliveries = Vec::with_capacity(rows.len());
    for row in rows {
        let status: String = row.try_get(3)?;
        let state = DeliveryState::parse(&status).ok_or_else(|| {
            Error::Store(StoreError::Backend(format!(
                "unknown delivery status {status}"
            )))
        })?;
        let next: Option<i64> = row.try_get(4)?;
        deliveries.push(DeliveryStatus {
            integration_id: IntegrationId::from_uuid(row.try_get(1)?),
            webhook_id: row.try_get(2)?,
            state,
            next_attempt_at: next
                .filter(|_| state == DeliveryState::Pending)
                .map(timestamp),
            attempts: attempts_of(conn, row.try_get(0)?).await?,
        });
    }
    Ok(deliveries)
}

async fn attempts_of(conn: &mut PgConnection, delivery_pk: i64) -> Result<Vec<AttemptRecord>> {
    let rows: Vec<(i64, Option<i32>, Option<String>, i64)> = sqlx::query_as(
        "SELECT attempted_at, status_code, error, duration_ms FROM delivery_attempts
          WHERE delivery_pk = $1 ORDER BY attempt",
    )
    .bind(delivery_pk)
    .fetch_all(conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(
            |(attempted_at, status_code, error, duration_ms)| AttemptRecord {
                attempted_at: timestamp(attempted_at),
                status_code: status_code.and_then(|code| u16::try_from(code).ok()),
                error,
                duration_ms: duration_ms.max(0) as u64,
            },
        )
        .collect())
}
