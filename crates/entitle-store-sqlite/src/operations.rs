//! Readiness and outbox figures for operators.

use entitle_domain::datetime::Timestamp;
use entitle_store::{OutboxStats, Readiness, StoreResult};
use rusqlite::{Connection, params};

use crate::codec::{backend, micros};
use crate::migrations;

pub fn readiness(conn: &Connection) -> StoreResult<Readiness> {
    let schema_version: i64 = conn
        .query_row(
            "SELECT COALESCE(MAX(version), 0) FROM schema_migrations",
            [],
            |row| row.get(0),
        )
        .map_err(backend)?;
    Ok(Readiness {
        schema_version,
        latest_schema_version: migrations::latest(),
    })
}

pub fn outbox_stats(conn: &Connection, now: Timestamp) -> StoreResult<OutboxStats> {
    let (pending, oldest_due): (i64, Option<i64>) = conn
        .prepare_cached(
            "SELECT COUNT(*), MIN(CASE WHEN next_attempt_at <= ?1 THEN created_at END)
               FROM deliveries WHERE status = 'pending'",
        )
        .map_err(backend)?
        .query_row(params![micros(now)], |row| Ok((row.get(0)?, row.get(1)?)))
        .map_err(backend)?;
    let failing: i64 = conn
        .prepare_cached(
            "SELECT COUNT(*) FROM integrations WHERE removed_at IS NULL AND failing_since IS NOT NULL",
        )
        .map_err(backend)?
        .query_row([], |row| row.get(0))
        .map_err(backend)?;
    Ok(OutboxStats {
        failing_integrations: failing.max(0) as u64,
        pending: pending.max(0) as u64,
        oldest_due_age_seconds: oldest_due
            .map_or(0.0, |created| (micros(now) - created).max(0) as f64 / 1e6),
    })
}
