//! WAL checkpoints off the commit path.
//!
//! By default SQLite checkpoints inside the commit that pushes the WAL past 1,000 frames, so
//! every few batches one of them also copies the WAL into the database file before anyone is
//! answered. Here the writer's connection reports its WAL size after each commit (a WAL hook,
//! which also switches the built-in auto-checkpoint off) and a thread of its own does the
//! copying on a connection of its own: PASSIVE checkpoints, which never block the writer,
//! whenever the WAL has grown past [`CHECKPOINT_FRAMES`]. The writer still truncates the WAL
//! itself once it is idle, and at the latest every [`TRUNCATE_EVERY`] (`writer.rs`): with
//! `secure_delete` the database file holds no deleted row, and truncating the WAL removes the
//! older page images that still did (DESIGN.md §4.5). By then the copying is mostly done, so
//! the truncation is short. Between truncations the writer also starts a long WAL over from
//! its beginning ([`Checkpointer::wrap`]), so that a busy WAL stays tens of megabytes long
//! instead of growing past a hundred. The two never wait on each other inside SQLite (whose
//! busy handler sleeps in steps of up to 100 ms): a mutex of this process orders them.

use std::cell::RefCell;
use std::os::raw::c_int;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use entitle_store::{StoreError, StoreResult};
use rusqlite::Connection;
use rusqlite::hooks::Wal;

use crate::connection;

/// Frames (pages) in the WAL that start a PASSIVE checkpoint: SQLite's own default.
pub const CHECKPOINT_FRAMES: u64 = 1000;
/// How long WAL frames (which may hold old versions of deleted rows) may outlive their commit
/// while the writer is busy; an idle writer truncates the WAL at once.
pub const TRUNCATE_EVERY: Duration = Duration::from_secs(2);
/// Frames in the WAL (about 33 MB) past which the writer starts it over
/// ([`Checkpointer::wrap`]).
pub const WRAP_FRAMES: u64 = 8 * CHECKPOINT_FRAMES;

#[derive(Default)]
struct State {
    /// Frames in the WAL after the last commit, as the WAL hook reported them.
    wal_frames: u64,
    /// Frames appended by commits since the checkpointer started.
    frames_written: u64,
    /// The WAL size at the last checkpoint (no new one until it grows again).
    checkpointed_at: u64,
    /// The WAL size at the writer's last try to start it over; zero once it has started
    /// over. A try fails while a reader still needs the WAL's frames (SQLite then goes on
    /// appending), so the next waits until the WAL has grown by [`CHECKPOINT_FRAMES`] more.
    wrap_tried_at: u64,
    stopping: bool,
}

struct Shared {
    state: Mutex<State>,
    wake: Condvar,
    /// Held while a checkpoint runs, by either thread.
    copying: Mutex<()>,
}

impl Shared {
    fn committed(&self, frames: u64) {
        let mut state = self.state.lock().expect("checkpointer lock");
        // After a complete checkpoint the next commit starts the WAL over from its beginning.
        let written = frames.checked_sub(state.wal_frames).unwrap_or(frames);
        if frames < state.wal_frames {
            state.checkpointed_at = 0;
            state.wrap_tried_at = 0;
        }
        state.wal_frames = frames;
        state.frames_written += written;
        if frames >= state.checkpointed_at + CHECKPOINT_FRAMES {
            self.wake.notify_one();
        }
    }
}

thread_local! {
    /// The checkpointer of the connection committing on this thread (the WAL hook is a plain
    /// function, so it finds its checkpointer here).
    static REPORT_TO: RefCell<Option<Arc<Shared>>> = const { RefCell::new(None) };
}

fn report_commit(_wal: &Wal, frames: c_int) -> rusqlite::Result<()> {
    REPORT_TO.with(|target| {
        if let Some(shared) = target.borrow().as_ref() {
            shared.committed(frames.max(0) as u64);
        }
    });
    Ok(())
}

pub struct Checkpointer {
    shared: Arc<Shared>,
    thread: Option<JoinHandle<()>>,
    /// The database's WAL file (SQLite names it after the database).
    wal: PathBuf,
}

impl Checkpointer {
    /// Starts the checkpoint thread on its own connection to the database at `path`.
    pub fn start(path: &Path) -> StoreResult<Self> {
        let conn = connection::open(path)?;
        connection::set_cache(&conn, connection::CHECKPOINTER_CACHE_KIB)?;
        let shared = Arc::new(Shared {
            state: Mutex::new(State::default()),
            wake: Condvar::new(),
            copying: Mutex::new(()),
        });
        let thread = std::thread::Builder::new()
            .name("entitle-sqlite-checkpoint".into())
            .spawn({
                let shared = shared.clone();
                move || checkpoint_loop(&conn, &shared)
            })
            .map_err(|e| StoreError::Unavailable(format!("cannot start checkpoint thread: {e}")))?;
        let mut wal = path.as_os_str().to_owned();
        wal.push("-wal");
        Ok(Self {
            shared,
            thread: Some(thread),
            wal: PathBuf::from(wal),
        })
    }

    /// Makes `conn`'s commits, made on the calling thread, report to this checkpointer, and
    /// switches off SQLite's checkpoint-inside-commit for it.
    pub fn attach(&self, conn: &Connection) {
        REPORT_TO.with(|target| *target.borrow_mut() = Some(self.shared.clone()));
        conn.wal_hook(Some(report_commit));
    }

    /// Pages appended to the WAL by the attached connection's commits so far.
    pub fn frames_written(&self) -> u64 {
        self.shared
            .state
            .lock()
            .expect("checkpointer lock")
            .frames_written
    }

    /// Copies the whole WAL into the database file and truncates it to nothing, on the
    /// writer's connection (between its transactions). False when a reader still needed it.
    pub fn truncate(&self, conn: &Connection) -> bool {
        // A TRUNCATE checkpoint starts the WAL over even when it is already empty, and a WAL
        // started over makes every reader connection drop its whole page cache at its next
        // transaction. An empty WAL has nothing to copy and nothing to erase: leave it be, so
        // that commits which changed nothing (a poll that found no work) cost the readers
        // nothing. The file's size counts what other processes wrote too.
        if std::fs::metadata(&self.wal).map_or(true, |wal| wal.len() == 0) {
            return true;
        }
        let _copying = self.shared.copying.lock().expect("checkpointer lock");
        let done = checkpoint(conn, "TRUNCATE");
        if done {
            let mut state = self.shared.state.lock().expect("checkpointer lock");
            state.wal_frames = 0;
            state.checkpointed_at = 0;
        }
        done
    }

    /// Lets the next commit write the WAL from its beginning again, once it is past
    /// [`WRAP_FRAMES`]: copies what the checkpoint thread has not copied yet (a PASSIVE
    /// checkpoint on the writer's connection, between its transactions). True when it did.
    ///
    /// SQLite starts the WAL over by itself only when a write begins with every frame copied.
    /// A writer that never pauses keeps the checkpoint thread's copy from ever catching up,
    /// so the WAL would grow until the next truncation ([`TRUNCATE_EVERY`]): at a few thousand
    /// deletes a second, a hundred megabytes or more, every frame on a page the file never
    /// had, which the kernel allocates, and which the truncation then frees again. Started
    /// over, the WAL overwrites pages it already has, and the truncation has little to do.
    /// The truncations still come as before, so old page images outlive their commit no
    /// longer than they did. Skipped while the checkpoint thread is copying: tried again
    /// after the next commit. Even a copy made whole does not always start the WAL over: a
    /// reader in the WAL at the next commit keeps it growing, and the next try waits for
    /// [`CHECKPOINT_FRAMES`] more frames, so that the writer does not copy after every commit.
    pub fn wrap(&self, conn: &Connection) -> bool {
        {
            let state = self.shared.state.lock().expect("checkpointer lock");
            if state.wal_frames < WRAP_FRAMES.max(state.wrap_tried_at + CHECKPOINT_FRAMES) {
                return false;
            }
        }
        let Ok(_copying) = self.shared.copying.try_lock() else {
            return false;
        };
        let done = checkpoint(conn, "PASSIVE");
        let mut state = self.shared.state.lock().expect("checkpointer lock");
        state.wrap_tried_at = state.wal_frames;
        done
    }

    /// The WAL's upkeep after each commit of a busy writer: starts a long WAL over
    /// ([`Self::wrap`]), and truncates it ([`Self::truncate`]) once [`TRUNCATE_EVERY`] has
    /// passed since `last_truncate`, which it then moves on. The truncation's outcome when
    /// one ran. The writer and the bench's storage ceiling both call this, so that the
    /// ceiling pays for the same upkeep as the server.
    pub fn after_commit(&self, conn: &Connection, last_truncate: &mut Instant) -> Option<bool> {
        self.wrap(conn);
        if last_truncate.elapsed() < TRUNCATE_EVERY {
            return None;
        }
        let done = self.truncate(conn);
        *last_truncate = Instant::now();
        Some(done)
    }

    /// Stops the thread (the writer truncates the WAL itself before it stops).
    pub fn finish(mut self) {
        self.stop();
    }

    fn stop(&mut self) {
        self.shared
            .state
            .lock()
            .expect("checkpointer lock")
            .stopping = true;
        self.shared.wake.notify_one();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Drop for Checkpointer {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Waits until the WAL has grown by [`CHECKPOINT_FRAMES`] since the last checkpoint; false
/// when the checkpointer is stopping.
fn wait_for_growth(shared: &Shared) -> bool {
    let mut state = shared.state.lock().expect("checkpointer lock");
    loop {
        if state.stopping {
            return false;
        }
        if state.wal_frames >= state.checkpointed_at + CHECKPOINT_FRAMES {
            state.checkpointed_at = state.wal_frames;
            return true;
        }
        state = shared.wake.wait(state).expect("checkpointer lock");
    }
}

fn checkpoint_loop(conn: &Connection, shared: &Shared) {
    while wait_for_growth(shared) {
        let _copying = shared.copying.lock().expect("checkpointer lock");
        checkpoint(conn, "PASSIVE");
    }
}

/// Runs one checkpoint; true when it copied the whole WAL (and, for TRUNCATE, emptied it).
fn checkpoint(conn: &Connection, mode: &str) -> bool {
    let sql = format!("PRAGMA wal_checkpoint({mode})");
    let outcome = conn.query_row(&sql, [], |row| {
        Ok((
            row.get::<_, i64>(0)?,
            row.get::<_, i64>(1)?,
            row.get::<_, i64>(2)?,
        ))
    });
    match outcome {
        Ok((busy, log, copied)) => busy == 0 && log == copied,
        Err(error) => {
            tracing::warn!(%error, mode, "WAL checkpoint failed; it is tried again");
            false
        }
    }
}

#[cfg(test)]
mod tests;
