//! Opening a connection with the settings every entitle connection needs.

use std::path::Path;
use std::time::Duration;

use entitle_store::{StoreError, StoreResult};
use rusqlite::Connection;

use crate::codec::backend;

/// WAL for concurrent readers; `synchronous = FULL` so that a commit is on disk (fsync'd) before
/// anyone is told it happened; `secure_delete` so deleted personal data is overwritten in the
/// file, not merely unlinked from the b-tree (DESIGN.md §4.5).
pub fn open(path: &Path) -> StoreResult<Connection> {
    let conn = Connection::open(path)
        .map_err(|e| StoreError::Unavailable(format!("cannot open {}: {e}", path.display())))?;
    conn.busy_timeout(Duration::from_secs(10))
        .map_err(backend)?;
    conn.execute_batch(
        "PRAGMA journal_mode = WAL;
         PRAGMA synchronous = FULL;
         PRAGMA secure_delete = ON;
         PRAGMA foreign_keys = OFF;
         PRAGMA temp_store = MEMORY;
         PRAGMA cache_size = -16000;",
    )
    .map_err(backend)?;
    Ok(conn)
}

/// A reader: same file, query-only, so a bug can never write through it.
pub fn open_reader(path: &Path) -> StoreResult<Connection> {
    let conn = open(path)?;
    conn.execute_batch("PRAGMA query_only = ON;")
        .map_err(backend)?;
    Ok(conn)
}
