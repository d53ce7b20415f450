//! Point reads run on the thread that asks for them, batched per thread.
//!
//! A GET reads one key and one profile: a few microseconds of SQLite. Handed to a reader
//! thread, the read also costs a wake-up of that thread, a wake-up of the request's task when
//! the answer is back, the context switches between them, and the profile's memory built on
//! one thread and freed on another: together more than the read itself (docs/performance.md).
//! Here each runtime thread has a lane of its own — a connection and a queue — and the reads
//! asked for on it run right there, in batches sharing one read transaction as the readers'
//! do.
//!
//! The first read queued on an idle lane leads: it yields once, so that the other requests
//! the thread is about to poll can queue theirs, then takes the whole queue and runs it in one
//! read transaction, begun after the jobs were taken. As with the readers, the snapshot thus
//! holds every commit acknowledged before any of those requests arrived. Should the leading
//! request be dropped while it waits (its client gone, its deadline passed), it runs the queue
//! as it is dropped, so no follower waits for a leader that will never come back.
//!
//! Only short point reads belong here: a read that may take long (a page of the event feed, a
//! list) would hold up every connection of the thread; those go to the reader threads. A point
//! read that misses the kernel's page cache waits for the disk on the runtime thread: the
//! trade for not handing every GET to another thread, right for a database the machine's
//! memory holds, which is what an embedded SQLite store is sized for.

use std::cell::Cell;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, MutexGuard, PoisonError};

use entitle_store::StoreResult;
use rusqlite::Connection;

use crate::connection;
use crate::key_cache::KeyCache;
use crate::readers::{self, ReadJob};

pub struct InlineReads {
    lanes: Box<[Lane]>,
}

struct Lane {
    queue: Mutex<Vec<ReadJob>>,
    reader: Mutex<LaneReader>,
}

/// A lane's connection and the keys remembered on it (`key_cache.rs`: a data version is only
/// comparable with another read on the same connection).
struct LaneReader {
    conn: Connection,
    keys: KeyCache,
}

thread_local! {
    /// The lane of the calling thread, given out in turn on its first read.
    static LANE: Cell<Option<usize>> = const { Cell::new(None) };
}

/// Hands lanes out to threads in turn.
static NEXT_LANE: AtomicUsize = AtomicUsize::new(0);

/// Most jobs one transaction serves, as for the readers.
const MAX_BATCH: usize = 64;

/// The page cache all lanes share out, in KiB: two lanes (a two-core machine) get a reader's
/// cache each; on a machine with many cores each gets less, down to [`MIN_LANE_CACHE_KIB`], so
/// that the memory the lanes can hold grows far slower than the cores.
const LANE_CACHE_BUDGET_KIB: i64 = 2 * connection::READER_CACHE_KIB;
/// Enough for the upper levels of the profiles table and its customer-user-id index.
const MIN_LANE_CACHE_KIB: i64 = 2 * 1024;

/// Each lane's page cache when there are `lanes`.
fn lane_cache_kib(lanes: usize) -> i64 {
    let share = LANE_CACHE_BUDGET_KIB / i64::try_from(lanes.max(1)).unwrap_or(i64::MAX);
    share.clamp(MIN_LANE_CACHE_KIB, connection::READER_CACHE_KIB)
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // A job panicking is caught inside it; a poisoned lock still guards whole values.
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl InlineReads {
    /// `count` lanes, one per runtime thread expected to read (threads beyond share them).
    pub fn open(path: &Path, count: usize) -> StoreResult<Self> {
        let count = count.max(1);
        let lanes = (0..count)
            .map(|_| {
                let conn = connection::open_reader(path)?;
                connection::set_cache(&conn, lane_cache_kib(count))?;
                Ok(Lane {
                    queue: Mutex::new(Vec::with_capacity(MAX_BATCH)),
                    reader: Mutex::new(LaneReader {
                        conn,
                        keys: KeyCache::default(),
                    }),
                })
            })
            .collect::<StoreResult<Vec<_>>>()?;
        Ok(Self {
            lanes: lanes.into_boxed_slice(),
        })
    }

    fn lane(&self) -> &Lane {
        let index = LANE.with(|lane| {
            lane.get().unwrap_or_else(|| {
                let index = NEXT_LANE.fetch_add(1, Ordering::Relaxed);
                lane.set(Some(index));
                index
            })
        });
        &self.lanes[index % self.lanes.len()]
    }

    /// Runs `read` on this thread's lane, in a read transaction shared with the reads queued
    /// with it.
    pub async fn run<R, F>(&self, read: F) -> StoreResult<R>
    where
        R: Send + 'static,
        F: FnOnce(&Connection) -> StoreResult<R> + Send + 'static,
    {
        let lane = self.lane();
        let (job, answer) = readers::job(read);
        let leads = {
            let mut queue = lock(&lane.queue);
            queue.push(job);
            queue.len() == 1
        };
        if leads {
            let lead = Lead { lane };
            tokio::task::yield_now().await;
            drop(lead);
        }
        answer.await
    }
}

/// The leading request's duty: run the lane's queue when it is done waiting, or when it is
/// dropped before that.
struct Lead<'a> {
    lane: &'a Lane,
}

impl Drop for Lead<'_> {
    fn drop(&mut self) {
        self.lane.run_queue();
    }
}

impl Lane {
    /// Runs every queued job, up to [`MAX_BATCH`] per read transaction.
    fn run_queue(&self) {
        let mut reader = lock(&self.reader);
        loop {
            let batch: Vec<ReadJob> = {
                let mut queue = lock(&self.queue);
                let take = queue.len().min(MAX_BATCH);
                queue.drain(..take).collect()
            };
            if batch.is_empty() {
                return;
            }
            let LaneReader { conn, keys } = &mut *reader;
            crate::key_cache::lend(keys, || readers::run_batch(conn, batch));
        }
    }
}

#[cfg(test)]
mod tests {
    use std::future::Future;
    use std::pin::pin;
    use std::task::{Context, Poll, Waker};

    use entitle_store::StoreError;

    use super::*;
    use crate::migrations;

    fn store_file() -> (tempfile::TempDir, std::path::PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("inline.db");
        let mut conn = connection::open(&path).unwrap();
        migrations::run(&mut conn).unwrap();
        conn.execute_batch("CREATE TABLE counter (n INTEGER); INSERT INTO counter VALUES (1);")
            .unwrap();
        (dir, path)
    }

    /// The counter as a read sees it, and whether the read ran inside a batch's transaction.
    fn read_counter(conn: &Connection) -> StoreResult<(i64, bool)> {
        let n = conn
            .query_row("SELECT n FROM counter", [], |row| row.get(0))
            .map_err(|e| StoreError::Backend(e.to_string()))?;
        Ok((n, !conn.is_autocommit()))
    }

    fn poll_once<F: Future>(future: std::pin::Pin<&mut F>) -> Poll<F::Output> {
        future.poll(&mut Context::from_waker(Waker::noop()))
    }

    #[tokio::test]
    async fn reads_queued_together_run_in_one_transaction_begun_after_they_were_queued() {
        let (_dir, path) = store_file();
        let reads = InlineReads::open(&path, 1).unwrap();
        let mut leader = pin!(reads.run(read_counter));
        let mut follower = pin!(reads.run(read_counter));
        assert!(
            poll_once(leader.as_mut()).is_pending(),
            "the leader yields first"
        );
        assert!(
            poll_once(follower.as_mut()).is_pending(),
            "the follower waits"
        );
        // Committed after both were queued but before their batch began: both see it.
        let writer = connection::open(&path).unwrap();
        writer.execute("UPDATE counter SET n = 2", []).unwrap();
        assert_eq!(leader.await.unwrap(), (2, true));
        assert_eq!(follower.await.unwrap(), (2, true));
    }

    #[tokio::test]
    async fn a_follower_is_answered_when_its_leader_is_dropped_while_waiting() {
        let (_dir, path) = store_file();
        let reads = InlineReads::open(&path, 1).unwrap();
        let mut leader = Box::pin(reads.run(read_counter));
        let mut follower = pin!(reads.run(read_counter));
        assert!(poll_once(leader.as_mut()).is_pending());
        assert!(poll_once(follower.as_mut()).is_pending());
        // The leader's client went away: its future is dropped before it ran the queue.
        drop(leader);
        let answered = tokio::time::timeout(std::time::Duration::from_secs(5), follower).await;
        assert_eq!(
            answered.expect("the follower was answered").unwrap(),
            (1, true)
        );
        // The lane is free again: the next read leads a batch of its own.
        assert_eq!(reads.run(read_counter).await.unwrap(), (1, true));
    }

    #[tokio::test]
    async fn a_panicking_read_fails_alone() {
        let (_dir, path) = store_file();
        let reads = InlineReads::open(&path, 1).unwrap();
        let panicked = reads
            .run(|_| -> StoreResult<()> { panic!("a bug in a read") })
            .await;
        assert!(
            matches!(panicked, Err(StoreError::Backend(_))),
            "{panicked:?}"
        );
        assert_eq!(reads.run(read_counter).await.unwrap(), (1, true));
    }

    #[test]
    fn lanes_share_a_page_cache_budget_that_grows_slower_than_the_cores() {
        assert_eq!(lane_cache_kib(1), connection::READER_CACHE_KIB);
        assert_eq!(lane_cache_kib(2), connection::READER_CACHE_KIB);
        assert_eq!(lane_cache_kib(4), connection::READER_CACHE_KIB / 2);
        assert_eq!(lane_cache_kib(64), MIN_LANE_CACHE_KIB);
        let (_dir, path) = store_file();
        let reads = InlineReads::open(&path, 4).unwrap();
        let kib: i64 = lock(&reads.lanes[0].reader)
            .conn
            .query_row("PRAGMA cache_size", [], |row| row.get(0))
            .unwrap();
        assert_eq!(kib, -lane_cache_kib(4), "a negative cache_size is KiB");
    }

    #[test]
    fn threads_take_lanes_in_turn() {
        let (_dir, path) = store_file();
        let reads = InlineReads::open(&path, 2).unwrap();
        let lane_of_a_new_thread = || {
            std::thread::scope(|scope| {
                scope
                    .spawn(|| std::ptr::from_ref(reads.lane()) as usize)
                    .join()
                    .unwrap()
            })
        };
        let (first, second) = (lane_of_a_new_thread(), lane_of_a_new_thread());
        assert_ne!(first, second, "two threads in a row share no lane");
        assert_eq!(
            std::ptr::from_ref(reads.lane()),
            std::ptr::from_ref(reads.lane())
        );
    }
}
