//! Reader threads, each with its own connection, sharing one queue of read jobs.
//!
//! A reader takes every job waiting in the queue (up to [`MAX_BATCH`]) and runs them in one
//! read transaction. Beginning and ending a transaction (its locks on the WAL index) costs
//! about as much as a point read, so under load this halves the work per read. It stays
//! exact: the jobs are taken off the queue *before* the transaction begins, so its snapshot
//! holds every commit that was acknowledged before any of those requests arrived — a client
//! always reads its own acknowledged writes, and a key revoked by another process is refused.

use std::path::Path;

use crossbeam_channel::Sender;
use entitle_store::{StoreError, StoreResult};
use rusqlite::Connection;
use tokio::sync::oneshot;

use crate::connection;

pub(crate) type ReadJob = Box<dyn FnOnce(&Connection) + Send>;

pub struct Readers {
    jobs: Sender<ReadJob>,
}

impl Readers {
    pub fn start(path: &Path, count: usize) -> StoreResult<Self> {
        let (sender, receiver) = crossbeam_channel::unbounded::<ReadJob>();
        for index in 0..count {
            let conn = connection::open_reader(path)?;
            let jobs = receiver.clone();
            std::thread::Builder::new()
                .name(format!("entitle-sqlite-reader-{index}"))
                .spawn(move || {
                    crate::key_cache::remember_on_this_thread();
                    let mut batch = Vec::with_capacity(MAX_BATCH);
                    while let Ok(job) = jobs.recv() {
                        batch.push(job);
                        while batch.len() < MAX_BATCH {
                            match jobs.try_recv() {
                                Ok(job) => batch.push(job),
                                Err(_) => break,
                            }
                        }
                        run_batch(&conn, batch.drain(..));
                    }
                })
                .map_err(|e| StoreError::Unavailable(format!("cannot start reader: {e}")))?;
        }
        Ok(Self { jobs: sender })
    }

    pub async fn run<R, F>(&self, read: F) -> StoreResult<R>
    where
        R: Send + 'static,
        F: FnOnce(&Connection) -> StoreResult<R> + Send + 'static,
    {
        let (job, answer) = job(read);
        self.jobs
            .send(job)
            .map_err(|_| StoreError::Unavailable("the readers stopped".into()))?;
        answer.await
    }
}

/// `read` as a job for a queue (here and in `inline_reads.rs`), and its outcome once run: a
/// panic inside the read is that read's error, never its batch's.
pub(crate) fn job<R, F>(read: F) -> (ReadJob, impl Future<Output = StoreResult<R>>)
where
    R: Send + 'static,
    F: FnOnce(&Connection) -> StoreResult<R> + Send + 'static,
{
    let (reply, answer) = oneshot::channel();
    let job: ReadJob = Box::new(move |conn| {
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| read(conn)))
            .unwrap_or_else(|_| Err(StoreError::Backend("a read panicked".into())));
        let _ = reply.send(outcome);
    });
    let outcome = async {
        answer
            .await
            .unwrap_or_else(|_| Err(StoreError::Backend("the read was not run".into())))
    };
    (job, outcome)
}

/// Most jobs one read transaction serves: enough to share its cost, few enough that one
/// reader does not take the whole queue while the others idle.
const MAX_BATCH: usize = 32;

/// Runs jobs taken off a queue in one read transaction (here and in `inline_reads.rs`).
/// Should it fail to begin, each statement reads in a transaction of its own, as before
/// batching; a transaction is never left open past its batch, so no snapshot outlives the
/// requests it was taken for.
pub(crate) fn run_batch(conn: &Connection, jobs: impl IntoIterator<Item = ReadJob>) {
    let _ = run_cached(conn, "BEGIN DEFERRED");
    for job in jobs {
        job(conn);
    }
    end_transaction(conn);
}

/// Ends the read transaction open on `conn`, if any; every reader transaction ends here, so
/// that the key cache knows its snapshot is gone (`key_cache.rs`).
fn end_transaction(conn: &Connection) {
    if !conn.is_autocommit() && run_cached(conn, "COMMIT").is_err() {
        let _ = conn.execute_batch("ROLLBACK");
    }
    crate::key_cache::transaction_ended();
}

fn run_cached(conn: &Connection, sql: &str) -> rusqlite::Result<usize> {
    conn.prepare_cached(sql)?.execute([])
}

/// Runs several reads against one consistent snapshot of the database (the batch's, when the
/// job is one of several sharing a transaction).
pub fn snapshot<R>(
    conn: &Connection,
    read: impl FnOnce(&Connection) -> StoreResult<R>,
) -> StoreResult<R> {
    if !conn.is_autocommit() {
        return read(conn);
    }
    run_cached(conn, "BEGIN DEFERRED").map_err(|e| StoreError::Backend(e.to_string()))?;
    let outcome = read(conn);
    end_transaction(conn);
    outcome
}
