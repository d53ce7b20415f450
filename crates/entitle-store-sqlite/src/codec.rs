//! Conversions between domain values and SQLite columns.

use entitle_domain::ProfileId;
use entitle_domain::datetime::Timestamp;
use entitle_store::{StoreError, StoreResult};
use rusqlite::{Connection, params};

/// Any SQLite failure that is not a client's fault. The text goes to logs, never to clients.
pub fn backend(error: rusqlite::Error) -> StoreError {
    StoreError::Backend(error.to_string())
}

pub fn micros(at: Timestamp) -> i64 {
    at.unix_micros()
}

pub fn timestamp(micros: i64) -> Timestamp {
    Timestamp::from_unix_micros(micros)
}

/// Column-read helper: converts a stored uuid blob inside a row mapper.
pub fn uuid_column(row: &rusqlite::Row<'_>, index: usize) -> rusqlite::Result<uuid::Uuid> {
    let bytes: [u8; 16] = row.get(index)?;
    Ok(uuid::Uuid::from_bytes(bytes))
}

/// Runs a statement about one profile, bound as `?1` (app) and `?2` (profile id); returns the
/// rows it changed.
pub fn for_profile(
    conn: &Connection,
    sql: &str,
    app_pk: i64,
    profile_id: ProfileId,
) -> StoreResult<u32> {
    conn.prepare_cached(sql)
        .map_err(backend)?
        .execute(params![app_pk, profile_id.as_bytes()])
        .map(|n| n as u32)
        .map_err(backend)
}
