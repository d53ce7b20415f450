//! The storage ceiling on SQLite: the store's own delete and get, in-process on a copy of the
//! seeded database, with the store's durability (`synchronous = FULL`, WAL, `secure_delete`),
//! at several commit sizes; the best is the ceiling. CPU time and bytes written are read from
//! `/proc/self` around each run (nothing else in this process works meanwhile).

use std::path::Path;

use anyhow::Context;
use entitle_domain::CustomerUserId;
use entitle_store_sqlite::bench::{copy_database, delete_ceiling, get_ceiling};
use serde::Serialize;

use super::plan;
use super::proc;
use super::seed::BenchApp;

/// Reads per read transaction in the get ceiling.
const GET_BATCH: usize = 256;

#[derive(Debug, Clone, Serialize)]
pub struct DeleteRun {
    /// Deletes per commit.
    pub batch: usize,
    pub deletes: u64,
    pub per_second: f64,
    /// Pages appended to the WAL per delete.
    pub wal_frames_per_delete: f64,
    /// Bytes written per delete (WAL frames, checkpoint copies into the database file), from
    /// `wchar` in `/proc/self/io`.
    pub written_bytes_per_delete: Option<f64>,
    /// CPU time per delete (user + system), to set against the server's.
    pub cpu_us_per_delete: Option<f64>,
}

#[derive(Debug, Clone, Serialize)]
pub struct GetRun {
    pub threads: usize,
    /// Reads per read transaction.
    pub batch: usize,
    pub gets: u64,
    pub per_second: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct StorageCeiling {
    pub deletes: Vec<DeleteRun>,
    pub gets: Option<GetRun>,
}

impl StorageCeiling {
    /// The fastest delete run: the ceiling DELETE is compared with.
    pub fn best_delete(&self) -> Option<&DeleteRun> {
        self.deletes
            .iter()
            .max_by(|a, b| a.per_second.total_cmp(&b.per_second))
    }
}

fn cuids(indexes: &[u64]) -> Vec<CustomerUserId> {
    indexes
        .iter()
        .map(|&index| CustomerUserId::parse(&plan::customer_user_id(index)).expect("valid"))
        .collect()
}

/// Measures on a copy of `database` made in `work_dir` (removed afterwards). The delete
/// targets are split evenly between the commit sizes of `batches`, in order.
pub async fn measure(
    database: &Path,
    work_dir: &Path,
    app: &BenchApp,
    get_targets: &[u64],
    delete_targets: &[u64],
    batches: &[usize],
) -> anyhow::Result<StorageCeiling> {
    let copy = work_dir.join("storage-ceiling.db");
    let (database, app_id, key_id) = (database.to_owned(), app.app_id, app.key_id);
    let (gets, deletes) = (cuids(get_targets), cuids(delete_targets));
    let batches = batches.to_vec();
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    tokio::task::spawn_blocking(move || -> anyhow::Result<StorageCeiling> {
        copy_database(&database, &copy)?;
        let get_run = (!gets.is_empty())
            .then(|| get_ceiling(&copy, app_id, &gets, threads, GET_BATCH))
            .transpose()?
            .map(|run| GetRun {
                threads: run.threads,
                batch: run.batch,
                gets: run.gets,
                per_second: run.per_second(),
            });
        let mut runs = Vec::new();
        let share = deletes.len().div_ceil(batches.len().max(1)).max(1);
        for (batch, targets) in batches.iter().zip(deletes.chunks(share)) {
            let before = proc::sample(std::process::id());
            let run = delete_ceiling(&copy, app_id, key_id, targets, *batch)?;
            let after = proc::sample(std::process::id());
            let used = before.zip(after);
            let per_delete = |total: f64| total / run.deletes.max(1) as f64;
            runs.push(DeleteRun {
                batch: *batch,
                deletes: run.deletes,
                per_second: run.per_second(),
                wal_frames_per_delete: run.wal_frames_per_delete(),
                written_bytes_per_delete: used.map(|(b, a)| {
                    per_delete(a.written_bytes.saturating_sub(b.written_bytes) as f64)
                }),
                cpu_us_per_delete: used
                    .map(|(b, a)| per_delete((a.cpu_seconds - b.cpu_seconds) * 1e6)),
            });
        }
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", copy.display()));
        }
        Ok(StorageCeiling {
            deletes: runs,
            gets: get_run,
        })
    })
    .await
    .context("the storage ceiling panicked")?
}
