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
         PRAGMA temp_store = MEMORY;",
    )
    .map_err(backend)?;
    set_cache(&conn, CACHE_KIB)?;
    Ok(conn)
}

/// Page cache of a connection (SQLite's own, beside the kernel's page cache; each connection
/// has its own, as the build configures SQLite: `.cargo/config.toml`), in KiB. The
/// writer walks every b-tree a change touches: the more of their interior pages it holds, the
/// fewer of its seeks read the file as the data grows (docs/performance.md). Each reader holds
/// less (enough for the upper levels of the profiles table); a checkpoint copies WAL frames
/// without it.
/// Together they stay well inside the server's memory budget (peak RSS under 150 MB).
pub const WRITER_CACHE_KIB: i64 = 32 * 1024;
const CACHE_KIB: i64 = 16 * 1024;
pub const READER_CACHE_KIB: i64 = 12 * 1024;
pub const CHECKPOINTER_CACHE_KIB: i64 = 2 * 1024;

pub fn set_cache(conn: &Connection, kib: i64) -> StoreResult<()> {
    conn.execute_batch(&format!("PRAGMA cache_size = -{kib};"))
        .map_err(backend)
}

/// A reader: same file, query-only, so a bug can never write through it.
pub fn open_reader(path: &Path) -> StoreResult<Connection> {
    let conn = open(path)?;
    conn.execute_batch("PRAGMA query_only = ON;")
        .map_err(backend)?;
    set_cache(&conn, READER_CACHE_KIB)?;
    Ok(conn)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `.cargo/config.toml` builds SQLite without the shared page cache and the global memory
    /// statistics (each a process-wide mutex): a build that lost those flags fails here.
    #[test]
    fn sqlite_is_built_with_a_cache_per_connection_and_no_memory_statistics() {
        let conn = Connection::open_in_memory().unwrap();
        let options: Vec<String> = conn
            .prepare("PRAGMA compile_options")
            .unwrap()
            .query_map([], |row| row.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert!(options.iter().any(|o| o == "THREADSAFE=1"), "{options:?}");
        assert!(
            !options.iter().any(|o| o == "ENABLE_MEMORY_MANAGEMENT"),
            "{options:?}"
        );
        assert!(
            options.iter().any(|o| o == "DEFAULT_MEMSTATUS=0"),
            "{options:?}"
        );
    }
}
