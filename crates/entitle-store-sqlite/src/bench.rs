//! What `entitle bench` needs from the SQLite backend beyond the `Store` traits: seeding many
//! profiles fast, and the storage ceiling (the store's own delete and get, run in-process).
//!
//! Both call the very functions the store's writer and readers call (`profiles::create`,
//! `purchases::set_transaction`, `profiles::delete`, `profiles::get`), so a seeded profile's
//! rows, documents, events and purchases view are exactly what the API would have written, and
//! the ceiling runs exactly the SQL a request runs. What they leave out is everything around
//! the SQL: HTTP, the queue to the writer thread, and the per-request savepoint.

use std::path::Path;
use std::time::Instant;

use entitle_domain::datetime::Timestamp;
use entitle_domain::profile::ProfilePatch;
use entitle_domain::purchase::Transaction;
use entitle_domain::resolve::ProfileRef;
use entitle_domain::{AppId, CustomerUserId, KeyId};
use entitle_store::{DeletedBy, StoreError, StoreResult};
use rusqlite::Connection;

use crate::checkpointer::Checkpointer;
use crate::codec::backend;
use crate::{apps, connection, migrations, profiles, purchases};

/// One profile to seed: created with `patch`, then sent `transactions` in order, each as a
/// set-transaction request would.
#[derive(Debug, Clone)]
pub struct SeedProfile {
    pub customer_user_id: CustomerUserId,
    pub patch: ProfilePatch,
    pub transactions: Vec<Transaction>,
}

/// What seeding wrote.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SeedCounts {
    pub profiles: u64,
    pub events: u64,
}

/// Seeds `profiles` into `app`, `per_commit` profiles per transaction, calling `progress` with
/// the running count after each commit. The WAL is checkpointed and truncated at the end, so
/// the database file alone holds everything (and can be copied).
pub fn seed(
    path: &Path,
    app: AppId,
    profiles: impl IntoIterator<Item = SeedProfile>,
    at: Timestamp,
    per_commit: usize,
    progress: &mut dyn FnMut(u64),
) -> StoreResult<SeedCounts> {
    let mut conn = connection::open(path)?;
    migrations::run(&mut conn)?;
    // Seeding is not what is measured, and a crash only loses a throw-away database. Without
    // `secure_delete` the pages freed while rows grow are left as they are instead of zeroed:
    // the same pages end up used, only the free ones hold stale bytes.
    conn.execute_batch("PRAGMA synchronous = OFF; PRAGMA secure_delete = OFF")
        .map_err(backend)?;
    let mut seeded = 0u64;
    let mut pending = profiles.into_iter().peekable();
    while pending.peek().is_some() {
        conn.execute_batch("BEGIN IMMEDIATE").map_err(backend)?;
        for profile in pending.by_ref().take(per_commit.max(1)) {
            if let Err(error) = seed_one(&conn, app, profile, at) {
                let _ = conn.execute_batch("ROLLBACK");
                return Err(error);
            }
            seeded += 1;
        }
        conn.execute_batch("COMMIT").map_err(backend)?;
        progress(seeded);
    }
    let app_pk = apps::app_pk(&conn, app)?;
    let events: u64 = conn
        .query_row(
            "SELECT COUNT(*) FROM events WHERE app_pk = ?1",
            [app_pk],
            |row| row.get(0),
        )
        .map_err(backend)?;
    checkpoint(&conn)?;
    sync_file(path)?;
    Ok(SeedCounts {
        profiles: seeded,
        events,
    })
}

fn seed_one(conn: &Connection, app: AppId, profile: SeedProfile, at: Timestamp) -> StoreResult<()> {
    let target = ProfileRef::CustomerUserId(profile.customer_user_id);
    profiles::create(conn, app, &target, profile.patch, at)?;
    for transaction in profile.transactions {
        purchases::set_transaction(conn, app, &target, transaction, at)?;
    }
    Ok(())
}

/// Copies a database that no one is writing, after moving its WAL into the main file.
pub fn copy_database(from: &Path, to: &Path) -> StoreResult<u64> {
    let conn = connection::open(from)?;
    checkpoint(&conn)?;
    drop(conn);
    let bytes = std::fs::copy(from, to)
        .map_err(|e| StoreError::Unavailable(format!("cannot copy {}: {e}", from.display())))?;
    sync_file(to)?;
    Ok(bytes)
}

/// Flushes a file's pages to the disk. The kernel counts a page as written by whoever dirties
/// it first; with the seeding's writes still in flight, a measured run's writes to the same
/// pages would go uncounted.
fn sync_file(path: &Path) -> StoreResult<()> {
    std::fs::File::open(path)
        .and_then(|file| file.sync_all())
        .map_err(|e| StoreError::Unavailable(format!("cannot sync {}: {e}", path.display())))
}

/// Copies the WAL into the database file and truncates it to nothing.
fn checkpoint(conn: &Connection) -> StoreResult<()> {
    conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))
        .map_err(backend)
}

/// Deletes at their best: `batch` deletes per durable commit, on one connection.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DeleteCeiling {
    pub batch: usize,
    pub deletes: u64,
    pub seconds: f64,
    /// Pages the commits appended to the WAL (one 4 KiB frame each).
    pub wal_frames: u64,
}

impl DeleteCeiling {
    pub fn per_second(&self) -> f64 {
        self.deletes as f64 / self.seconds.max(f64::EPSILON)
    }

    pub fn wal_frames_per_delete(&self) -> f64 {
        self.wal_frames as f64 / self.deletes.max(1) as f64
    }
}

/// Runs the store's delete for each of `targets`, `batch` per transaction, with the store's
/// own connection settings (WAL, `synchronous = FULL`, `secure_delete`). Every target must
/// exist: a missing one is an error, as it would be a 404 over HTTP.
pub fn delete_ceiling(
    path: &Path,
    app: AppId,
    deleted_by: KeyId,
    targets: &[CustomerUserId],
    batch: usize,
) -> StoreResult<DeleteCeiling> {
    let conn = connection::open(path)?;
    connection::set_cache(&conn, connection::WRITER_CACHE_KIB)?;
    checkpoint(&conn)?;
    // The server's own arrangement: commits on this thread, checkpoints on another.
    let checkpointer = Checkpointer::start(path)?;
    checkpointer.attach(&conn);
    let mut last_truncate = Instant::now();
    let started = Instant::now();
    for chunk in targets.chunks(batch.max(1)) {
        conn.execute_batch("BEGIN IMMEDIATE").map_err(backend)?;
        for cuid in chunk {
            let target = ProfileRef::CustomerUserId(cuid.clone());
            let deleted = profiles::delete(
                &conn,
                app,
                &target,
                DeletedBy::Key(deleted_by),
                Timestamp::now(),
            );
            if let Err(error) = deleted {
                let _ = conn.execute_batch("ROLLBACK");
                return Err(error);
            }
        }
        conn.execute_batch("COMMIT").map_err(backend)?;
        // The busy writer's WAL upkeep (`writer.rs`), so the ceiling pays for it too.
        checkpointer.after_commit(&conn, &mut last_truncate);
    }
    // Timed like a request: done at its commit. The final truncation (an idle writer's, in the
    // server) is not timed, but its writes are on the disk either way.
    let seconds = started.elapsed().as_secs_f64();
    let wal_frames = checkpointer.frames_written();
    checkpointer.truncate(&conn);
    conn.wal_hook(None);
    checkpointer.finish();
    Ok(DeleteCeiling {
        batch,
        deletes: targets.len() as u64,
        seconds,
        wal_frames,
    })
}

/// Reads at their best: `threads` reader connections, `batch` reads per read transaction.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GetCeiling {
    pub threads: usize,
    pub batch: usize,
    pub gets: u64,
    pub seconds: f64,
}

impl GetCeiling {
    pub fn per_second(&self) -> f64 {
        self.gets as f64 / self.seconds.max(f64::EPSILON)
    }
}

/// Runs the store's get for each of `targets`, split over `threads` reader connections.
pub fn get_ceiling(
    path: &Path,
    app: AppId,
    targets: &[CustomerUserId],
    threads: usize,
    batch: usize,
) -> StoreResult<GetCeiling> {
    let threads = threads.max(1);
    let readers = (0..threads)
        .map(|_| connection::open_reader(path))
        .collect::<StoreResult<Vec<_>>>()?;
    let share = targets.len().div_ceil(threads).max(1);
    let start = std::sync::Barrier::new(threads + 1);
    let (seconds, outcomes) = std::thread::scope(|scope| {
        let workers: Vec<_> = readers
            .into_iter()
            .zip(targets.chunks(share).chain(std::iter::repeat(&[][..])))
            .map(|(conn, mine)| {
                let start = &start;
                scope.spawn(move || {
                    start.wait();
                    read_all(&conn, app, mine, batch.max(1))
                })
            })
            .collect();
        start.wait();
        let started = Instant::now();
        let outcomes: Vec<StoreResult<()>> = workers
            .into_iter()
            .map(|worker| {
                worker
                    .join()
                    .unwrap_or_else(|_| Err(StoreError::Backend("a reader panicked".into())))
            })
            .collect();
        (started.elapsed().as_secs_f64(), outcomes)
    });
    outcomes.into_iter().collect::<StoreResult<Vec<()>>>()?;
    Ok(GetCeiling {
        threads,
        batch,
        gets: targets.len() as u64,
        seconds,
    })
}

fn read_all(
    conn: &Connection,
    app: AppId,
    targets: &[CustomerUserId],
    batch: usize,
) -> StoreResult<()> {
    for chunk in targets.chunks(batch) {
        conn.execute_batch("BEGIN DEFERRED").map_err(backend)?;
        let read = chunk.iter().try_for_each(|cuid| {
            profiles::get(conn, app, &ProfileRef::CustomerUserId(cuid.clone())).map(drop)
        });
        let _ = conn.execute_batch("COMMIT");
        read?;
    }
    Ok(())
}
