//! Reading the event feed: newest first, with each event's deliveries.

use entitle_domain::events::EventType;
use entitle_domain::{AppId, IntegrationId, ProfileId};
use entitle_store::{
    AttemptRecord, DeliveryState, DeliveryStatus, EventPage, EventQuery, FeedEvent, StoreError,
    StoreResult,
};
use rusqlite::types::Value as SqlValue;
use rusqlite::{Connection, params, params_from_iter};

use crate::apps::app_pk;
use crate::codec::{backend, timestamp, uuid_column};
use crate::documents::{self, Document};
use crate::profiles;

pub fn list_events(conn: &Connection, app: AppId, query: &EventQuery) -> StoreResult<EventPage> {
    let empty = EventPage {
        events: Vec::new(),
        next: None,
    };
    // An unknown app is `AppNotFound`, and a failed read an error: neither an empty page.
    let app_pk = app_pk(conn, app)?;
    let profile_id = match (&query.profile_id, &query.customer_user_id) {
        (Some(id), _) => Some(*id),
        (None, Some(cuid)) => {
            let target = entitle_domain::resolve::ProfileRef::CustomerUserId(cuid.clone());
            match profiles::resolve(conn, app_pk, &target) {
                Ok(row) => Some(row.identity.profile_id),
                Err(StoreError::ProfileNotFound) => return Ok(empty),
                Err(other) => return Err(other),
            }
        }
        (None, None) => None,
    };
    let mut sql = String::from(
        "SELECT e.event_seq, e.event_id, e.event_type, e.profile_id, e.created_at, e.reissued,
                b.payload, b.personal
           FROM events e JOIN event_bodies b ON b.body_pk = e.body_pk
          WHERE e.app_pk = ? AND (e.hidden_until IS NULL OR e.hidden_until <= ?)",
    );
    let mut values: Vec<SqlValue> = vec![
        SqlValue::Integer(app_pk),
        SqlValue::Integer(query.as_of.unix_micros()),
    ];
    if let Some(id) = profile_id {
        sql.push_str(" AND e.profile_id = ?");
        values.push(SqlValue::Blob(id.as_bytes().to_vec()));
    }
    if let Some(kind) = query.event_type {
        sql.push_str(" AND e.event_type = ?");
        values.push(SqlValue::Text(kind.as_str().to_owned()));
    }
    if let Some(before) = query.before {
        sql.push_str(" AND e.event_seq < ?");
        values.push(SqlValue::Integer(before));
    }
    let limit = query.limit.clamp(1, EventQuery::MAX_LIMIT);
    sql.push_str(" ORDER BY e.event_seq DESC LIMIT ?");
    values.push(SqlValue::Integer(i64::from(limit) + 1));

    let mut statement = conn.prepare(&sql).map_err(backend)?;
    let rows = statement
        .query_map(params_from_iter(values), |row| {
            Ok((
                row.get::<_, i64>(0)?,
                uuid_column(row, 1)?,
                row.get::<_, String>(2)?,
                ProfileId::from_uuid(uuid_column(row, 3)?),
                row.get::<_, i64>(4)?,
                row.get::<_, bool>(5)?,
                row.get::<_, Document>(6)?,
                row.get::<_, Option<String>>(7)?,
            ))
        })
        .map_err(backend)?;
    let mut events = Vec::new();
    for row in rows {
        let (position, event_id, kind, profile_id, created_at, reissued, facts, personal) =
            row.map_err(backend)?;
        events.push(FeedEvent {
            position,
            event_id,
            event_type: EventType::parse(&kind)
                .ok_or_else(|| StoreError::Backend(format!("unknown stored event type {kind}")))?,
            profile_id,
            created_at: timestamp(created_at),
            reissued,
            payload: documents::read_payload(&facts, personal.as_deref())?,
            deliveries: deliveries_of(conn, app_pk, profile_id, position)?,
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

fn deliveries_of(
    conn: &Connection,
    app_pk: i64,
    profile_id: ProfileId,
    seq: i64,
) -> StoreResult<Vec<DeliveryStatus>> {
    let mut statement = conn
        .prepare_cached(
            "SELECT d.delivery_pk, i.integration_id, d.webhook_id, d.status, d.next_attempt_at
               FROM deliveries d JOIN integrations i ON i.integration_pk = d.integration_pk
              WHERE d.app_pk = ?1 AND d.profile_id = ?2 AND d.event_seq = ?3
              ORDER BY d.delivery_pk",
        )
        .map_err(backend)?;
    let rows = statement
        .query_map(params![app_pk, profile_id.as_bytes(), seq], |row| {
            Ok((
                row.get::<_, i64>(0)?,
                IntegrationId::from_uuid(uuid_column(row, 1)?),
                row.get::<_, String>(2)?,
                row.get::<_, String>(3)?,
                row.get::<_, Option<i64>>(4)?,
            ))
        })
        .map_err(backend)?;
    let mut deliveries = Vec::new();
    for row in rows {
        let (delivery_pk, integration_id, webhook_id, status, next) = row.map_err(backend)?;
        let state = DeliveryState::parse(&status)
            .ok_or_else(|| StoreError::Backend(format!("unknown delivery status {status}")))?;
        deliveries.push(DeliveryStatus {
            integration_id,
            webhook_id,
            state,
            next_attempt_at: next
                .filter(|_| state == DeliveryState::Pending)
                .map(timestamp),
            attempts: attempts_of(conn, delivery_pk)?,
        });
    }
    Ok(deliveries)
}

fn attempts_of(conn: &Connection, delivery_pk: i64) -> StoreResult<Vec<AttemptRecord>> {
    let mut statement = conn
        .prepare_cached(
            "SELECT attempted_at, status_code, error, duration_ms FROM delivery_attempts
              WHERE delivery_pk = ?1 ORDER BY attempt",
        )
        .map_err(backend)?;
    let rows = statement
        .query_map([delivery_pk], |row| {
            Ok(AttemptRecord {
                attempted_at: timestamp(row.get(0)?),
                status_code: row.get(1)?,
                error: row.get(2)?,
                duration_ms: row.get::<_, i64>(3)?.max(0) as u64,
            })
        })
        .map_err(backend)?;
    rows.collect::<Result<_, _>>().map_err(backend)
}
