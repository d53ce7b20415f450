//! The outbox as workers see it: claim due deliveries under a lease, record each attempt.
//!
//! Workers on any number of nodes share the outbox. A claim locks the due rows it takes with
//! `FOR UPDATE SKIP LOCKED`, so two workers claiming at once pass over each other's rows instead
//! of waiting or taking them twice, and the lease it writes keeps later claims off them until
//! it runs out.

use std::time::Duration;

use entitle_domain::datetime::Timestamp;
use entitle_domain::events::{AttemptOutcome, RetryCutOffs, restore_unknown};
use entitle_store::{AttemptResult, ClaimLimits, ClaimedDelivery};
use sqlx::{PgConnection, Row};

use crate::codec::{micros, timestamp};
use crate::due;
use crate::error::{Result, corrupt};

pub async fn claim(
    conn: &mut PgConnection,
    worker: &str,
    now: Timestamp,
    lease: Duration,
    limits: ClaimLimits,
    cut_offs: RetryCutOffs,
) -> Result<Vec<ClaimedDelivery>> {
    let chosen = due::choose(conn, now, limits, cut_offs).await?;
    let lease_until = now.plus_micros(lease.as_micros().min(i64::MAX as u128) as i64);
    let rows = sqlx::query(
        "UPDATE deliveries SET lease_owner = $1, lease_until = $2
          WHERE delivery_pk = ANY($3)
         RETURNING delivery_pk, webhook_id, app_pk, profile_id, event_seq,
                   integration_pk, attempts, created_at, next_attempt_at",
    )
    .bind(worker)
    .bind(micros(lease_until))
    .bind(&chosen)
    .fetch_all(&mut *conn)
    .await?;
    let mut claimed = Vec::with_capacity(rows.len());
    for row in &rows {
        let next_attempt_at: i64 = row.try_get(8)?;
        claimed.push((next_attempt_at, row.try_get::<i64, _>(0)?, row));
    }
    // Oldest due first, as the claim chose them (RETURNING keeps no order).
    claimed.sort_by_key(|(due, pk, _)| (*due, *pk));
    let mut deliveries = Vec::with_capacity(claimed.len());
    for (_, delivery_id, row) in claimed {
        let body: String = sqlx::query_scalar(
            "SELECT payload FROM events WHERE app_pk = $1 AND profile_id = $2 AND event_seq = $3",
        )
        .bind(row.try_get::<i64, _>(2)?)
        .bind(row.try_get::<uuid::Uuid, _>(3)?)
        .bind(row.try_get::<i64, _>(4)?)
        .fetch_one(&mut *conn)
        .await?;
        let body = with_unknown_restored(body)?;
        let (url, authorization, signing_secret): (String, Option<String>, String) =
            sqlx::query_as(
                "SELECT url, authorization_header, signing_secret FROM integrations
                  WHERE integration_pk = $1",
            )
            .bind(row.try_get::<i64, _>(5)?)
            .fetch_one(&mut *conn)
            .await?;
        deliveries.push(ClaimedDelivery {
            delivery_id,
            webhook_id: row.try_get(1)?,
            url,
            authorization,
            signing_secret,
            body,
            attempts_made: row.try_get::<i32, _>(6)?.max(0) as u32,
            created_at: timestamp(row.try_get(7)?),
            lease_owner: worker.to_owned(),
        });
    }
    Ok(deliveries)
}

/// The webhook body as stored, or, for an event stored before events carried the always-null
/// purchase-context properties, with them.
fn with_unknown_restored(body: String) -> Result<String> {
    let mut payload: serde_json::Value =
        serde_json::from_str(&body).map_err(|e| corrupt("event payload", e))?;
    Ok(if restore_unknown(&mut payload) {
        payload.to_string()
    } else {
        body
    })
}

/// Applies only while the claim still holds: same lease owner, no attempt recorded since the
/// claim, still pending. Otherwise the lease ran out and another worker took over, or the
/// delivery was cancelled or removed with its profile, and the attempt is not recorded.
pub async fn record(
    conn: &mut PgConnection,
    claim: &ClaimedDelivery,
    result: &AttemptResult,
) -> Result<bool> {
    let (status, next) = match (result.outcome, result.retry_at) {
        (AttemptOutcome::Delivered, _) => ("delivered", None),
        (AttemptOutcome::Refused, _) => ("refused", None),
        (AttemptOutcome::Failed, Some(at)) => ("pending", Some(micros(at))),
        (AttemptOutcome::Failed, None) => ("failed", None),
    };
    let attempts = i32::try_from(claim.attempts_made).unwrap_or(i32::MAX);
    let integration_pk: Option<i64> = sqlx::query_scalar(
        "UPDATE deliveries SET attempts = attempts + 1, status = $4, next_attempt_at = $5,
                lease_owner = NULL, lease_until = NULL
          WHERE delivery_pk = $1 AND lease_owner = $2 AND attempts = $3 AND status = 'pending'
         RETURNING integration_pk",
    )
    .bind(claim.delivery_id)
    .bind(&claim.lease_owner)
    .bind(attempts)
    .bind(status)
    .bind(next)
    .fetch_optional(&mut *conn)
    .await?;
    let Some(integration_pk) = integration_pk else {
        return Ok(false);
    };
    let attempt = &result.attempt;
    sqlx::query(
        "INSERT INTO delivery_attempts (delivery_pk, attempt, attempted_at, status_code, error,
                                        duration_ms)
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(claim.delivery_id)
    .bind(attempts + 1)
    .bind(micros(attempt.attempted_at))
    .bind(attempt.status_code.map(i32::from))
    .bind(&attempt.error)
    .bind(i64::try_from(attempt.duration_ms).unwrap_or(i64::MAX))
    .execute(&mut *conn)
    .await?;
    mark_integration(conn, integration_pk, result).await?;
    Ok(true)
}

/// Keeps the integration's circuit state: failing since its first failed attempt after the last
/// answered one, healthy again at the next answered one. Written only when it changes.
async fn mark_integration(
    conn: &mut PgConnection,
    integration_pk: i64,
    result: &AttemptResult,
) -> Result<()> {
    match result.outcome {
        AttemptOutcome::Failed => {
            sqlx::query(
                "UPDATE integrations SET failing_since = $2
                  WHERE integration_pk = $1 AND failing_since IS NULL",
            )
            .bind(integration_pk)
            .bind(micros(result.attempt.attempted_at))
            .execute(conn)
            .await?
        }
        AttemptOutcome::Delivered | AttemptOutcome::Refused => {
            sqlx::query(
                "UPDATE integrations SET failing_since = NULL
                  WHERE integration_pk = $1 AND failing_since IS NOT NULL",
            )
            .bind(integration_pk)
            .execute(conn)
            .await?
        }
    };
    Ok(())
}
