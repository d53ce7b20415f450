//! Writing events and their deliveries inside the change's own transaction (the transactional
//! outbox): a change and its events commit together or not at all.

use entitle_domain::ProfileId;
use entitle_domain::datetime::Timestamp;
use entitle_domain::events::{PlannedEvent, forget_sharing_profile, sharing_profile_ids};
use entitle_store::{IntegrationRow, StoreError, StoreResult, hidden_until, wanting};
use rusqlite::{Connection, OptionalExtension, params};

use crate::codec::{self, backend, micros};
use crate::documents;
use crate::integrations::active_integrations;

/// Collects a request's events; the app's integrations are read once, on the first event.
pub struct Outbox<'c> {
    conn: &'c Connection,
    app_pk: i64,
    at: Timestamp,
    integrations: Option<Vec<IntegrationRow>>,
}

impl<'c> Outbox<'c> {
    pub fn new(conn: &'c Connection, app_pk: i64, at: Timestamp) -> Self {
        Self {
            conn,
            app_pk,
            at,
            integrations: None,
        }
    }

    pub fn emit(&mut self, event: PlannedEvent) -> StoreResult<()> {
        let targets = self.targets(&event)?;
        if event.event_type.is_webhook_only() && targets.is_empty() {
            return Ok(());
        }
        let seq = next_position(self.conn, self.app_pk)?;
        let named = sharing_profile_ids(&event.payload);
        let (facts, personal) = documents::store_payload(event.payload)?;
        self.conn
            .prepare_cached("INSERT INTO event_bodies (payload, personal) VALUES (?1, ?2)")
            .map_err(backend)?
            .execute(params![facts, personal])
            .map_err(backend)?;
        let body_pk = self.conn.last_insert_rowid();
        for profile_id in named {
            self.conn
                .prepare_cached(
                    "INSERT OR IGNORE INTO sharing_mentions (app_pk, profile_id, body_pk) VALUES (?1, ?2, ?3)",
                )
                .map_err(backend)?
                .execute(params![self.app_pk, profile_id.as_bytes(), body_pk])
                .map_err(backend)?;
        }
        self.conn
            .prepare_cached(
                "INSERT INTO events (app_pk, profile_id, event_seq, event_id, event_type, created_at, reissued, body_pk, hidden_until)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            )
            .map_err(backend)?
            .execute(params![
                self.app_pk,
                event.profile_id.as_bytes(),
                seq,
                event.event_id.as_bytes(),
                event.event_type.as_str(),
                micros(self.at),
                event.reissued,
                body_pk,
                hidden_until(event.occurred_at, self.at)
            ])
            .map_err(backend)?;
        entitle_store::metrics::EVENTS_CREATED
            .with_label_values(&[event.event_type.as_str()])
            .inc();
        if !event.forward {
            return Ok(());
        }
        for integration_pk in targets {
            self.conn
                .prepare_cached(
                    "INSERT INTO deliveries (webhook_id, app_pk, profile_id, event_seq, integration_pk, status, created_at, next_attempt_at)
                     VALUES (?1, ?2, ?3, ?4, ?5, 'pending', ?6, ?6)",
                )
                .map_err(backend)?
                .execute(params![
                    format!("msg_{}", uuid::Uuid::new_v4().simple()),
                    self.app_pk,
                    event.profile_id.as_bytes(),
                    seq,
                    integration_pk,
                    micros(self.at)
                ])
                .map_err(backend)?;
        }
        Ok(())
    }

    /// The active integrations of the app that want this event (read once per request).
    fn targets(&mut self, event: &PlannedEvent) -> StoreResult<Vec<i64>> {
        if self.integrations.is_none() {
            self.integrations = Some(active_integrations(self.conn, self.app_pk)?);
        }
        let rows = self.integrations.as_deref().unwrap_or_default();
        Ok(wanting(rows, event.event_type, event.environment))
    }
}

/// Removes a deleted profile's events and their deliveries; returns
/// `(events removed, deliveries not yet delivered)`.
pub fn remove_profile_events(
    conn: &Connection,
    app_pk: i64,
    profile_id: ProfileId,
) -> StoreResult<(u32, u32)> {
    let id = profile_id.as_bytes();
    let pending: u32 = conn
        .prepare_cached(
            "SELECT COUNT(*) FROM deliveries WHERE app_pk = ?1 AND profile_id = ?2 AND status = 'pending'",
        )
        .map_err(backend)?
        .query_row(params![app_pk, id], |row| row.get(0))
        .map_err(backend)?;
    forget_in_other_events(conn, app_pk, profile_id)?;
    // Each statement removes the rows of this one profile (bound as ?1, ?2); children first.
    let remove = |sql: &str| codec::for_profile(conn, sql, app_pk, profile_id);
    remove(
        "DELETE FROM sharing_mentions WHERE body_pk IN
             (SELECT body_pk FROM events WHERE app_pk = ?1 AND profile_id = ?2)",
    )?;
    remove(
        "DELETE FROM delivery_attempts WHERE delivery_pk IN
             (SELECT delivery_pk FROM deliveries WHERE app_pk = ?1 AND profile_id = ?2)",
    )?;
    remove("DELETE FROM deliveries WHERE app_pk = ?1 AND profile_id = ?2")?;
    remove(
        "DELETE FROM event_bodies WHERE body_pk IN
             (SELECT body_pk FROM events WHERE app_pk = ?1 AND profile_id = ?2)",
    )?;
    let events = remove("DELETE FROM events WHERE app_pk = ?1 AND profile_id = ?2")?;
    Ok((events, pending))
}

/// Takes a deleted profile out of the sharing lists of the other profiles' events that name it
/// (`sharing.rs` in the domain); their feed entries and pending deliveries read the same bodies.
/// One statement when no event names it, as for most deletes.
fn forget_in_other_events(
    conn: &Connection,
    app_pk: i64,
    profile_id: ProfileId,
) -> StoreResult<()> {
    let naming: Vec<i64> = conn
        .prepare_cached(
            "DELETE FROM sharing_mentions WHERE app_pk = ?1 AND profile_id = ?2 RETURNING body_pk",
        )
        .map_err(backend)?
        .query_map(params![app_pk, profile_id.as_bytes()], |row| row.get(0))
        .map_err(backend)?
        .collect::<Result<_, _>>()
        .map_err(backend)?;
    for body_pk in naming {
        let personal: Option<String> = conn
            .prepare_cached("SELECT personal FROM event_bodies WHERE body_pk = ?1")
            .map_err(backend)?
            .query_row([body_pk], |row| row.get(0))
            .optional()
            .map_err(backend)?
            .flatten();
        let Some(text) = personal else { continue };
        let mut fields: serde_json::Value = serde_json::from_str(&text)
            .map_err(|e| StoreError::Backend(format!("stored event fields unreadable: {e}")))?;
        if forget_sharing_profile(&mut fields, profile_id) {
            conn.prepare_cached("UPDATE event_bodies SET personal = ?2 WHERE body_pk = ?1")
                .map_err(backend)?
                .execute(params![body_pk, fields.to_string()])
                .map_err(backend)?;
        }
    }
    Ok(())
}

/// The next feed position of an app: positions are handed out in commit order (one writer).
pub fn next_position(conn: &Connection, app_pk: i64) -> StoreResult<i64> {
    conn.prepare_cached(
        "UPDATE apps SET next_event_seq = next_event_seq + 1 WHERE app_pk = ?1 RETURNING next_event_seq",
    )
    .map_err(backend)?
    .query_row([app_pk], |row| row.get(0))
    .map_err(backend)
}
