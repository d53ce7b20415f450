//! The outbox as workers see it: claim due deliveries under a lease, record each attempt.
//! Both run in the single writer, so a claim is atomic and two workers never get one delivery.

use std::time::Duration;

use entitle_domain::datetime::Timestamp;
use entitle_domain::events::{AttemptOutcome, RetryCutOffs};
use entitle_store::{AttemptResult, ClaimLimits, ClaimedDelivery, StoreResult};
use rusqlite::{Connection, OptionalExtension, params};

use crate::codec::{backend, micros, timestamp};
use crate::documents::{self, Document};
use crate::due;

struct ClaimedRow {
    delivery_id: i64,
    webhook_id: String,
    app_pk: i64,
    profile_id: Vec<u8>,
    event_seq: i64,
    integration_pk: i64,
    attempts: u32,
    created_at: i64,
}

pub fn claim(
    conn: &Connection,
    worker: &str,
    now: Timestamp,
    lease: Duration,
    limits: ClaimLimits,
    cut_offs: RetryCutOffs,
) -> StoreResult<Vec<ClaimedDelivery>> {
    let chosen = due::choose(conn, now, limits, cut_offs)?;
    let lease_until = now.plus_micros(lease.as_micros().min(i64::MAX as u128) as i64);
    let mut statement = conn
        .prepare_cached(
            "UPDATE deliveries SET lease_owner = ?1, lease_until = ?2 WHERE delivery_pk = ?3
             RETURNING delivery_pk, webhook_id, app_pk, profile_id, event_seq, integration_pk, attempts, created_at",
        )
        .map_err(backend)?;
    let mut claimed = Vec::with_capacity(chosen.len());
    for delivery_pk in chosen {
        claimed.push(
            statement
                .query_row(params![worker, micros(lease_until), delivery_pk], |row| {
                    Ok(ClaimedRow {
                        delivery_id: row.get(0)?,
                        webhook_id: row.get(1)?,
                        app_pk: row.get(2)?,
                        profile_id: row.get(3)?,
                        event_seq: row.get(4)?,
                        integration_pk: row.get(5)?,
                        attempts: row.get(6)?,
                        created_at: row.get(7)?,
                    })
                })
                .map_err(backend)?,
        );
    }
    let mut deliveries = Vec::with_capacity(claimed.len());
    for row in claimed {
        let (facts, personal): (Document, Option<String>) = conn
            .prepare_cached(
                "SELECT b.payload, b.personal FROM events e JOIN event_bodies b ON b.body_pk = e.body_pk
                  WHERE e.app_pk = ?1 AND e.profile_id = ?2 AND e.event_seq = ?3",
            )
            .map_err(backend)?
            .query_row(params![row.app_pk, row.profile_id, row.event_seq], |r| Ok((r.get(0)?, r.get(1)?)))
            .map_err(backend)?;
        let body = documents::read_payload(&facts, personal.as_deref())?.to_string();
        let (url, authorization, signing_secret): (String, Option<String>, String) = conn
            .prepare_cached("SELECT url, authorization, signing_secret FROM integrations WHERE integration_pk = ?1")
            .map_err(backend)?
            .query_row([row.integration_pk], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .map_err(backend)?;
        deliveries.push(ClaimedDelivery {
            delivery_id: row.delivery_id,
            webhook_id: row.webhook_id,
            url,
            authorization,
            signing_secret,
            body,
            attempts_made: row.attempts,
            created_at: timestamp(row.created_at),
            lease_owner: worker.to_owned(),
        });
    }
    Ok(deliveries)
}

pub fn record(
    conn: &Connection,
    claim: &ClaimedDelivery,
    result: &AttemptResult,
) -> StoreResult<bool> {
    let (status, next) = match (result.outcome, result.retry_at) {
        (AttemptOutcome::Delivered, _) => ("delivered", None),
        (AttemptOutcome::Refused, _) => ("refused", None),
        (AttemptOutcome::Failed, Some(at)) => ("pending", Some(micros(at))),
        (AttemptOutcome::Failed, None) => ("failed", None),
    };
    let integration_pk: Option<i64> = conn
        .prepare_cached(
            "UPDATE deliveries SET attempts = attempts + 1, status = ?4, next_attempt_at = ?5,
                    lease_owner = NULL, lease_until = NULL
              WHERE delivery_pk = ?1 AND lease_owner = ?2 AND attempts = ?3 AND status = 'pending'
             RETURNING integration_pk",
        )
        .map_err(backend)?
        .query_row(
            params![
                claim.delivery_id,
                claim.lease_owner,
                claim.attempts_made,
                status,
                next
            ],
            |row| row.get(0),
        )
        .optional()
        .map_err(backend)?;
    let Some(integration_pk) = integration_pk else {
        return Ok(false);
    };
    let attempt = &result.attempt;
    conn.prepare_cached(
        "INSERT INTO delivery_attempts (delivery_pk, attempt, attempted_at, status_code, error, duration_ms)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )
    .map_err(backend)?
    .execute(params![
        claim.delivery_id,
        claim.attempts_made + 1,
        micros(attempt.attempted_at),
        attempt.status_code,
        attempt.error,
        i64::try_from(attempt.duration_ms).unwrap_or(i64::MAX)
    ])
    .map_err(backend)?;
    mark_integration(conn, integration_pk, result)?;
    Ok(true)
}

/// Keeps the integration's circuit state: failing since its first failed attempt after the last
/// answered one, healthy again at the next answered one. Written only when it changes.
fn mark_integration(
    conn: &Connection,
    integration_pk: i64,
    result: &AttemptResult,
) -> StoreResult<()> {
    match result.outcome {
        AttemptOutcome::Failed => conn
            .prepare_cached(
                "UPDATE integrations SET failing_since = ?2
                  WHERE integration_pk = ?1 AND failing_since IS NULL",
            )
            .map_err(backend)?
            .execute(params![integration_pk, micros(result.attempt.attempted_at)]),
        AttemptOutcome::Delivered | AttemptOutcome::Refused => conn
            .prepare_cached(
                "UPDATE integrations SET failing_since = NULL
                  WHERE integration_pk = ?1 AND failing_since IS NOT NULL",
            )
            .map_err(backend)?
            .execute([integration_pk]),
    }
    .map_err(backend)?;
    Ok(())
}
