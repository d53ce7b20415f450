//! Writing events and their deliveries inside the change's own transaction (the transactional
//! outbox): a change and its events commit together or not at all.

use entitle_domain::ProfileId;
use entitle_domain::datetime::Timestamp;
use entitle_domain::events::{PlannedEvent, forget_sharing_profile, sharing_profile_ids};
use entitle_store::{IntegrationRow, hidden_until, wanting};
use sqlx::PgConnection;

use crate::codec::micros;
use crate::error::{Result, corrupt};
use crate::integrations::active_integrations;

/// Collects a request's events; the app's integrations are read once, on the first event.
pub struct Outbox {
    app_pk: i64,
    at: Timestamp,
    integrations: Option<Vec<IntegrationRow>>,
}

impl Outbox {
    pub fn new(app_pk: i64, at: Timestamp) -> Self {
        Self {
            app_pk,
            at,
            integrations: None,
        }
    }

    pub async fn emit(&mut self, conn: &mut PgConnection, event: PlannedEvent) -> Result<()> {
        let targets = self.targets(conn, &event).await?;
        if event.event_type.is_webhook_only() && targets.is_empty() {
            return Ok(());
        }
        // The position comes from a global sequence: concurrent writers never wait for each
        // other to number their events.
        let seq: i64 = sqlx::query_scalar(
            "INSERT INTO events (app_pk, profile_id, event_seq, event_id, event_type, created_at,
                                 reissued, payload, hidden_until)
             VALUES ($1, $2, nextval('event_positions'), $3, $4, $5, $6, $7, $8)
             RETURNING event_seq",
        )
        .bind(self.app_pk)
        .bind(event.profile_id.as_uuid())
        .bind(event.event_id)
        .bind(event.event_type.as_str())
        .bind(micros(self.at))
        .bind(event.reissued)
        .bind(event.payload.to_string())
        .bind(hidden_until(event.occurred_at, self.at))
        .fetch_one(&mut *conn)
        .await?;
        for profile_id in sharing_profile_ids(&event.payload) {
            sqlx::query(
                "INSERT INTO sharing_mentions (app_pk, profile_id, event_seq) VALUES ($1, $2, $3)
                 ON CONFLICT DO NOTHING",
            )
            .bind(self.app_pk)
            .bind(profile_id.as_uuid())
            .bind(seq)
            .execute(&mut *conn)
            .await?;
        }
        crate::transact::note_event(event.event_type);
        if !event.forward {
            return Ok(());
        }
        for integration_pk in targets {
            sqlx::query(
                "INSERT INTO deliveries (webhook_id, app_pk, profile_id, event_seq, integration_pk,
                                         status, created_at, next_attempt_at)
                 VALUES ($1, $2, $3, $4, $5, 'pending', $6, $6)",
            )
            .bind(format!("msg_{}", uuid::Uuid::new_v4().simple()))
            .bind(self.app_pk)
            .bind(event.profile_id.as_uuid())
            .bind(seq)
            .bind(integration_pk)
            .bind(micros(self.at))
            .execute(&mut *conn)
            .await?;
        }
        Ok(())
    }

    /// The active integrations of the app that want this event (read once per request).
    async fn targets(&mut self, conn: &mut PgConnection, event: &PlannedEvent) -> Result<Vec<i64>> {
        if self.integrations.is_none() {
            self.integrations = Some(active_integrations(conn, self.app_pk).await?);
        }
        let rows = self.integrations.as_deref().unwrap_or_default();
        Ok(wanting(rows, event.event_type, event.environment))
    }
}

/// Writes planned events (and their deliveries) through the outbox.
pub async fn write_events(
    conn: &mut PgConnection,
    app_pk: i64,
    at: Timestamp,
    planned: Vec<PlannedEvent>,
) -> Result<()> {
    let mut outbox = Outbox::new(app_pk, at);
    for event in planned {
        outbox.emit(conn, event).await?;
    }
    Ok(())
}

/// Removes a deleted profile's events and their deliveries; returns
/// `(events removed, deliveries not yet delivered)`.
pub async fn remove_profile_events(
    conn: &mut PgConnection,
    app_pk: i64,
    profile_id: ProfileId,
) -> Result<(u32, u32)> {
    forget_in_other_events(conn, app_pk, profile_id).await?;
    let id = profile_id.as_uuid();
    sqlx::query(
        "DELETE FROM sharing_mentions WHERE event_seq IN
             (SELECT event_seq FROM events WHERE app_pk = $1 AND profile_id = $2)",
    )
    .bind(app_pk)
    .bind(id)
    .execute(&mut *conn)
    .await?;
    // The deliveries go with their statuses returned, so the pending ones are counted by the
    // statement that removes them (a worker may be finishing one meanwhile).
    let removed: Vec<(i64, String)> = sqlx::query_as(
        "DELETE FROM deliveries WHERE app_pk = $1 AND profile_id = $2
         RETURNING delivery_pk, status",
    )
    .bind(app_pk)
    .bind(id)
    .fetch_all(&mut *conn)
    .await?;
    let pending = removed.iter().filter(|(_, s)| s == "pending").count() as u32;
    let delivery_pks: Vec<i64> = removed.into_iter().map(|(pk, _)| pk).collect();
    sqlx::query("DELETE FROM delivery_attempts WHERE delivery_pk = ANY($1)")
        .bind(delivery_pks)
        .execute(&mut *conn)
        .await?;
    let events = sqlx::query("DELETE FROM events WHERE app_pk = $1 AND profile_id = $2")
        .bind(app_pk)
        .bind(id)
        .execute(conn)
        .await?
        .rows_affected() as u32;
    Ok((events, pending))
}

/// Takes a deleted profile out of the sharing lists of the other profiles' events that name it
/// (`sharing.rs` in the domain); their feed entries and pending deliveries read the same
/// payloads. One statement when no event names it, as for most deletes. The events are locked,
/// so two deletions naming one event each take their own profile out of its latest payload.
async fn forget_in_other_events(
    conn: &mut PgConnection,
    app_pk: i64,
    profile_id: ProfileId,
) -> Result<()> {
    let naming: Vec<i64> = sqlx::query_scalar(
        "DELETE FROM sharing_mentions WHERE app_pk = $1 AND profile_id = $2 RETURNING event_seq",
    )
    .bind(app_pk)
    .bind(profile_id.as_uuid())
    .fetch_all(&mut *conn)
    .await?;
    if naming.is_empty() {
        return Ok(());
    }
    let payloads: Vec<(i64, String)> = sqlx::query_as(
        "SELECT event_seq, payload FROM events
          WHERE app_pk = $1 AND event_seq = ANY($2)
          FOR UPDATE",
    )
    .bind(app_pk)
    .bind(&naming)
    .fetch_all(&mut *conn)
    .await?;
    for (event_seq, payload) in payloads {
        let mut payload: serde_json::Value =
            serde_json::from_str(&payload).map_err(|e| corrupt("event payload", e))?;
        if forget_sharing_profile(&mut payload, profile_id) {
            sqlx::query("UPDATE events SET payload = $3 WHERE app_pk = $1 AND event_seq = $2")
                .bind(app_pk)
                .bind(event_seq)
                .bind(payload.to_string())
                .execute(&mut *conn)
                .await?;
        }
    }
    Ok(())
}
