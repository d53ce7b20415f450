//! Reader threads, each with its own connection, sharing one queue of read jobs.

use std::path::Path;

use crossbeam_channel::Sender;
use entitle_store::{StoreError, StoreResult};
use rusqlite::Connection;
use tokio::sync::oneshot;

use crate::connection;

type ReadJob = Box<dyn FnOnce(&Connection) + Send>;

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
                    while let Ok(job) = jobs.recv() {
                        job(&conn);
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
        let (reply, answer) = oneshot::channel();
        let job: ReadJob = Box::new(move |conn| {
            let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| read(conn)))
                .unwrap_or_else(|_| Err(StoreError::Backend("a read panicked".into())));
            let _ = reply.send(outcome);
        });
        self.jobs
            .send(job)
            .map_err(|_| StoreError::Unavailable("the readers stopped".into()))?;
        answer
            .await
            .unwrap_or_else(|_| Err(StoreError::Backend("the read was not run".into())))
    }
}

/// Runs several reads against one consistent snapshot of the database.
pub fn snapshot<R>(
    conn: &Connection,
    read: impl FnOnce(&Connection) -> StoreResult<R>,
) -> StoreResult<R> {
    conn.execute_batch("BEGIN DEFERRED")
        .map_err(|e| StoreError::Backend(e.to_string()))?;
    let outcome = read(conn);
    let _ = conn.execute_batch("COMMIT");
    outcome
}
