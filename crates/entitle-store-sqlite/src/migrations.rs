//! Schema migrations, embedded in the binary and applied in order at start.

use entitle_store::{StoreError, StoreResult};
use rusqlite::Connection;

use crate::codec::backend;

const MIGRATIONS: &[(i64, &str)] = &[
    (1, include_str!("../migrations/0001_profiles.sql")),
    (2, include_str!("../migrations/0002_purchases.sql")),
    (3, include_str!("../migrations/0003_events.sql")),
    (4, include_str!("../migrations/0004_expirations.sql")),
    (5, include_str!("../migrations/0005_deletion_jobs.sql")),
    (6, include_str!("../migrations/0006_compact_rows.sql")),
];

/// The newest schema version this build knows.
pub fn latest() -> i64 {
    MIGRATIONS.last().map_or(0, |(version, _)| *version)
}

pub fn run(conn: &mut Connection) -> StoreResult<()> {
    let tx = conn
        .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
        .map_err(backend)?;
    tx.execute_batch(
        "CREATE TABLE IF NOT EXISTS schema_migrations (
             version INTEGER PRIMARY KEY,
             applied_at INTEGER NOT NULL
         )",
    )
    .map_err(backend)?;
    let current: i64 = tx
        .query_row(
            "SELECT COALESCE(MAX(version), 0) FROM schema_migrations",
            [],
            |row| row.get(0),
        )
        .map_err(backend)?;
    if current > latest() {
        return Err(StoreError::Unavailable(format!(
            "the database is at schema version {current}, newer than this build ({})",
            latest()
        )));
    }
    for (version, sql) in MIGRATIONS.iter().filter(|(version, _)| *version > current) {
        tx.execute_batch(sql).map_err(backend)?;
        tx.execute(
            "INSERT INTO schema_migrations (version, applied_at) VALUES (?1, unixepoch())",
            [version],
        )
        .map_err(backend)?;
    }
    tx.commit().map_err(backend)
}
