//! The single writer thread and its group commit.
//!
//! Requests queue closures; the thread takes everything that is waiting (up to `max_batch`),
//! runs each closure inside its own savepoint of one `BEGIN IMMEDIATE` transaction, commits once,
//! and only then answers each request. While one commit is being fsync'd, the next batch queues,
//! so under load many requests share one fsync instead of each paying for its own. Copying the
//! WAL into the database file is mostly left to the checkpointer's thread (`checkpointer.rs`).

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Mutex;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, RecvTimeoutError, Sender};
use entitle_store::{StoreError, StoreResult};
use rusqlite::Connection;
use tokio::sync::oneshot;

use crate::checkpointer::Checkpointer;

/// A writer that has had nothing to do for this long is idle: it truncates the WAL.
const IDLE_AFTER: Duration = Duration::from_millis(50);

/// Called after the batch's commit with the commit's outcome.
type Finish = Box<dyn FnOnce(Result<(), String>) + Send>;
type Job = Box<dyn FnOnce(&Connection) -> Finish + Send>;

pub struct Writer {
    jobs: Mutex<Option<Sender<Job>>>,
    thread: Mutex<Option<JoinHandle<()>>>,
}

impl Writer {
    pub fn start(
        conn: Connection,
        checkpointer: Checkpointer,
        max_batch: usize,
    ) -> StoreResult<Self> {
        let (sender, receiver) = crossbeam_channel::unbounded();
        let thread = std::thread::Builder::new()
            .name("entitle-sqlite-writer".into())
            .spawn(move || write_loop(conn, checkpointer, receiver, max_batch.max(1)))
            .map_err(|e| StoreError::Unavailable(format!("cannot start writer thread: {e}")))?;
        Ok(Self {
            jobs: Mutex::new(Some(sender)),
            thread: Mutex::new(Some(thread)),
        })
    }

    /// Runs `work` in the next commit and answers once that commit is durable.
    pub async fn run<R, F>(&self, work: F) -> StoreResult<R>
    where
        R: Send + 'static,
        F: FnOnce(&Connection) -> StoreResult<R> + Send + 'static,
    {
        let (reply, answer) = oneshot::channel();
        let job: Job = Box::new(move |conn| {
            let outcome = in_savepoint(conn, work);
            Box::new(move |commit: Result<(), String>| {
                let result = match commit {
                    Ok(()) => outcome,
                    Err(error) => Err(StoreError::Backend(format!("commit failed: {error}"))),
                };
                let _ = reply.send(result);
            })
        });
        let sent = match self.jobs.lock().expect("writer lock").as_ref() {
            Some(jobs) => jobs.send(job).is_ok(),
            None => false,
        };
        if !sent {
            return Err(StoreError::Unavailable("the store is closed".into()));
        }
        answer
            .await
            .unwrap_or_else(|_| Err(StoreError::Backend("the write was not run".into())))
    }

    /// Stops taking work, lets the queued work commit, and waits for the thread to end.
    pub async fn close(&self) {
        drop(self.jobs.lock().expect("writer lock").take());
        let thread = self.thread.lock().expect("writer lock").take();
        if let Some(thread) = thread {
            let _ = tokio::task::spawn_blocking(move || thread.join()).await;
        }
    }
}

impl Drop for Writer {
    fn drop(&mut self) {
        if let Ok(mut jobs) = self.jobs.lock() {
            jobs.take();
        }
    }
}

fn write_loop(conn: Connection, checkpointer: Checkpointer, jobs: Receiver<Job>, max_batch: usize) {
    checkpointer.attach(&conn);
    let mut dirty = false;
    let mut last_truncate = Instant::now();
    loop {
        let first = if dirty {
            // Something was committed since the last truncation: wait only briefly for more
            // work, and truncate the WAL when none comes.
            match jobs.recv_timeout(IDLE_AFTER) {
                Ok(job) => job,
                Err(RecvTimeoutError::Timeout) => {
                    // A reader still in the WAL: try again after the next wait.
                    dirty = !checkpointer.truncate(&conn);
                    last_truncate = Instant::now();
                    continue;
                }
                Err(RecvTimeoutError::Disconnected) => break,
            }
        } else {
            match jobs.recv() {
                Ok(job) => job,
                Err(_) => break,
            }
        };
        let mut batch = Vec::with_capacity(max_batch.min(64));
        batch.push(first);
        while batch.len() < max_batch {
            match jobs.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        commit_batch(&conn, batch);
        dirty = true;
        if let Some(truncated) = checkpointer.after_commit(&conn, &mut last_truncate) {
            dirty = !truncated;
        }
    }
    // Everything queued is committed: the WAL is truncated one last time.
    checkpointer.truncate(&conn);
    checkpointer.finish();
}

fn commit_batch(conn: &Connection, batch: Vec<Job>) {
    if let Err(error) = conn.execute_batch("BEGIN IMMEDIATE") {
        // Dropping the jobs closes their reply channels; each caller gets an error.
        tracing::error!(error = %error, "cannot begin a write transaction");
        drop(batch);
        return;
    }
    let finishes: Vec<Finish> = batch.into_iter().map(|job| job(conn)).collect();
    let commit = conn.execute_batch("COMMIT").map_err(|e| e.to_string());
    if let Err(error) = &commit {
        tracing::error!(%error, "commit failed; rolling the batch back");
        let _ = conn.execute_batch("ROLLBACK");
    }
    for finish in finishes {
        finish(commit.clone());
    }
}

/// Runs one request's work in a savepoint: its failure (or panic) undoes only its own writes.
fn in_savepoint<R>(
    conn: &Connection,
    work: impl FnOnce(&Connection) -> StoreResult<R>,
) -> StoreResult<R> {
    conn.execute_batch("SAVEPOINT request")
        .map_err(|e| StoreError::Backend(e.to_string()))?;
    let outcome = catch_unwind(AssertUnwindSafe(|| work(conn)))
        .unwrap_or_else(|_| Err(StoreError::Backend("a write panicked".into())));
    let end = if outcome.is_ok() {
        "RELEASE request"
    } else {
        "ROLLBACK TO request; RELEASE request"
    };
    conn.execute_batch(end)
        .map_err(|e| StoreError::Backend(e.to_string()))?;
    outcome
}
