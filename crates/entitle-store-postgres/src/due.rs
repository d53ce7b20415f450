//! Which due deliveries a worker's claim takes: the oldest due, but at most `per_endpoint` in
//! flight to any one integration (across every worker), so that an endpoint slow to answer can
//! fill only its own share of the workers' slots. Due retries past the cut-offs (spec §9.6) are
//! given up on the way instead of being taken.
//!
//! Two workers claiming at once take turns per endpoint: each takes a transaction-scoped
//! advisory lock on the endpoint before counting what is in flight to it, and passes over an
//! endpoint whose lock another claim holds, so neither waits and the count stays true.

use entitle_domain::datetime::Timestamp;
use entitle_domain::events::RetryCutOffs;
use entitle_store::ClaimLimits;
use entitle_store::claims::{DueDelivery, EndpointPick, oldest_due_first};
use sqlx::{PgConnection, Row};

use crate::codec::{micros, timestamp};
use crate::error::Result;

/// The advisory lock class of per-endpoint claims ("ent" in ASCII); the key is the integration.
const CLAIM_LOCK_CLASS: i32 = 0x0065_6e74;

/// The deliveries to lease, oldest due first, within `limits`; each is locked for this
/// transaction.
pub async fn choose(
    conn: &mut PgConnection,
    now: Timestamp,
    limits: ClaimLimits,
    cut_offs: RetryCutOffs,
) -> Result<Vec<i64>> {
    let mut taken = Vec::new();
    for (integration_pk, failing_since) in endpoints_with_due_work(conn, now).await? {
        if !lock_endpoint(conn, integration_pk).await? {
            continue;
        }
        let in_flight = in_flight(conn, integration_pk, now).await?;
        let room = limits.room(in_flight);
        let mut pick = EndpointPick::new(room, failing_since.map(timestamp), cut_offs);
        while let Some(fetch) = pick.next_fetch() {
            let due = oldest_due(conn, integration_pk, now, fetch).await?;
            give_up_retries(conn, &pick.absorb(due)).await?;
        }
        taken.extend(pick.into_taken());
    }
    Ok(oldest_due_first(taken, limits.total))
}

async fn endpoints_with_due_work(
    conn: &mut PgConnection,
    now: Timestamp,
) -> Result<Vec<(i64, Option<i64>)>> {
    let rows = sqlx::query(
        "SELECT i.integration_pk, i.failing_since
           FROM integrations i
          WHERE i.removed_at IS NULL
            AND EXISTS (SELECT 1 FROM deliveries d
                         WHERE d.integration_pk = i.integration_pk AND d.status = 'pending'
                           AND d.next_attempt_at <= $1
                           AND (d.lease_until IS NULL OR d.lease_until <= $1))
          ORDER BY i.integration_pk",
    )
    .bind(micros(now))
    .fetch_all(&mut *conn)
    .await?;
    rows.iter()
        .map(|row| Ok((row.try_get(0)?, row.try_get(1)?)))
        .collect()
}

/// `false` when another claim is choosing from this endpoint right now.
async fn lock_endpoint(conn: &mut PgConnection, integration_pk: i64) -> Result<bool> {
    // The key wraps past 2³¹ integrations; two sharing a key only take turns.
    let key = integration_pk as i32;
    Ok(
        sqlx::query_scalar("SELECT pg_try_advisory_xact_lock($1, $2)")
            .bind(CLAIM_LOCK_CLASS)
            .bind(key)
            .fetch_one(&mut *conn)
            .await?,
    )
}

async fn in_flight(conn: &mut PgConnection, integration_pk: i64, now: Timestamp) -> Result<u32> {
    let count: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM deliveries WHERE integration_pk = $1 AND lease_until > $2",
    )
    .bind(integration_pk)
    .bind(micros(now))
    .fetch_one(&mut *conn)
    .await?;
    Ok(u32::try_from(count).unwrap_or(u32::MAX))
}

async fn oldest_due(
    conn: &mut PgConnection,
    integration_pk: i64,
    now: Timestamp,
    limit: u32,
) -> Result<Vec<DueDelivery>> {
    let rows = sqlx::query(
        "SELECT delivery_pk, next_attempt_at, attempts, created_at FROM deliveries
          WHERE integration_pk = $1 AND status = 'pending' AND next_attempt_at <= $2
            AND (lease_until IS NULL OR lease_until <= $2)
          ORDER BY next_attempt_at
          LIMIT $3
            FOR UPDATE SKIP LOCKED",
    )
    .bind(integration_pk)
    .bind(micros(now))
    .bind(i64::from(limit))
    .fetch_all(&mut *conn)
    .await?;
    rows.iter()
        .map(|row| {
            Ok(DueDelivery {
                delivery_pk: row.try_get(0)?,
                next_attempt_at: timestamp(row.try_get(1)?),
                attempts: row.try_get::<i32, _>(2)?.max(0) as u32,
                created_at: timestamp(row.try_get(3)?),
            })
        })
        .collect()
}

async fn give_up_retries(conn: &mut PgConnection, retries: &[i64]) -> Result<()> {
    if retries.is_empty() {
        return Ok(());
    }
    sqlx::query(
        "UPDATE deliveries SET status = 'failed', next_attempt_at = NULL,
                lease_owner = NULL, lease_until = NULL
          WHERE delivery_pk = ANY($1)",
    )
    .bind(retries)
    .execute(&mut *conn)
    .await?;
    Ok(())
}
