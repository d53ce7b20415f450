//! Readiness and outbox figures for operators.

use entitle_domain::datetime::Timestamp;
use entitle_store::{OutboxStats, Readiness};
use sqlx::PgConnection;

use crate::codec::micros;
use crate::error::Result;
use crate::migrations;

pub async fn readiness(conn: &mut PgConnection) -> Result<Readiness> {
    let schema_version: i64 =
        sqlx::query_scalar("SELECT COALESCE(MAX(version), 0) FROM schema_migrations")
            .fetch_one(conn)
            .await?;
    Ok(Readiness {
        schema_version,
        latest_schema_version: migrations::latest(),
    })
}

pub async fn outbox_stats(conn: &mut PgConnection, now: Timestamp) -> Result<OutboxStats> {
    let (pending, oldest_due): (i64, Option<i64>) = sqlx::query_as(
        "SELECT COUNT(*), MIN(CASE WHEN next_attempt_at <= $1 THEN created_at END)
           FROM deliveries WHERE status = 'pending'",
    )
    .bind(micros(now))
    .fetch_one(&mut *conn)
    .await?;
    let failing: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM integrations WHERE removed_at IS NULL AND failing_since IS NOT NULL",
    )
    .fetch_one(conn)
    .await?;
    Ok(OutboxStats {
        failing_integrations: failing.max(0) as u64,
        pending: pending.max(0) as u64,
        oldest_due_age_seconds: oldest_due
            .map_or(0.0, |created| (micros(now) - created).max(0) as f64 / 1e6),
    })
}
