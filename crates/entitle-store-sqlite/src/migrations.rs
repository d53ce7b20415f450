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
    (7, include_str!("../migrations/0007_profile_slots.sql")),
    (8, include_str!("../migrations/0008_sharing_mentions.sql")),
    (9, include_str!("../migrations/0009_events_dated_ahead.sql")),
    (10, include_str!("../migrations/0010_scheduled_access.sql")),
    (
        11,
        include_str!("../migrations/0011_deleted_profile_ids.sql"),
    ),
    (12, include_str!("../migrations/0012_exchange_rates.sql")),
    (
        13,
        include_str!("../migrations/0013_per_endpoint_delivery.sql"),
    ),
    (
        14,
        include_str!("../migrations/0014_dated_events_move_up.sql"),
    ),
];

/// Where a migration's SQL hands over to its code (`copy_rows`), in files that need one.
const CODE_GOES_HERE: &str = "-- (the rows are copied here)";

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
        match sql.split_once(CODE_GOES_HERE) {
            Some((before, after)) => {
                tx.execute_batch(before).map_err(backend)?;
                copy_rows(&tx, *version)?;
                tx.execute_batch(after).map_err(backend)?;
            }
            None => tx.execute_batch(sql).map_err(backend)?,
        }
        tx.execute(
            "INSERT INTO schema_migrations (version, applied_at) VALUES (?1, unixepoch())",
            [version],
        )
        .map_err(backend)?;
    }
    tx.commit().map_err(backend)
}

/// The part of a migration that SQL alone cannot do.
fn copy_rows(tx: &Connection, version: i64) -> StoreResult<()> {
    match version {
        7 => copy_profiles_to_their_slots(tx),
        _ => Err(StoreError::Backend(format!(
            "migration {version} has no code to run"
        ))),
    }
}

/// Migration 7: every profile row into `profiles_slotted`, at its slot or the next free one.
fn copy_profiles_to_their_slots(tx: &Connection) -> StoreResult<()> {
    let mut keys = tx
        .prepare("SELECT app_pk, profile_id FROM profiles")
        .map_err(backend)?;
    let mut copy = tx
        .prepare(
            "INSERT INTO profiles_slotted
                 (profile_slot, app_pk, profile_id, customer_user_id, attributes, created_at, updated_at, purchases)
             SELECT ?1, app_pk, profile_id, customer_user_id, attributes, created_at, updated_at, purchases
               FROM profiles WHERE app_pk = ?2 AND profile_id = ?3",
        )
        .map_err(backend)?;
    let mut rows = keys.query([]).map_err(backend)?;
    while let Some(row) = rows.next().map_err(backend)? {
        let app_pk: i64 = row.get(0).map_err(backend)?;
        let profile_id: Vec<u8> = row.get(1).map_err(backend)?;
        let home = crate::slots::profile_slot(app_pk, &profile_id);
        let slot = crate::slots::first_free(tx, "profiles_slotted", home)?;
        copy.execute(rusqlite::params![slot, app_pk, profile_id])
            .map_err(backend)?;
    }
    Ok(())
}
