use std::time::Instant;

use super::*;

fn file_size(path: &Path) -> u64 {
    std::fs::metadata(path).map(|m| m.len()).unwrap_or(0)
}

/// A new database `name` in `dir` with a table for page-sized rows: its path, its WAL's
/// path and a connection to it.
fn database_of_pages(dir: &Path, name: &str) -> (PathBuf, PathBuf, Connection) {
    let path = dir.join(format!("{name}.db"));
    let wal = dir.join(format!("{name}.db-wal"));
    let conn = connection::open(&path).unwrap();
    conn.execute_batch("CREATE TABLE pages (id INTEGER PRIMARY KEY, body BLOB NOT NULL)")
        .unwrap();
    (path, wal, conn)
}

#[test]
fn a_growing_wal_is_copied_into_the_database_by_the_checkpoint_thread_and_truncated_by_the_writer()
{
    let dir = tempfile::tempdir().unwrap();
    let (path, wal, conn) = database_of_pages(dir.path(), "checkpoint");
    let checkpointer = Checkpointer::start(&path).unwrap();
    checkpointer.attach(&conn);
    let before = file_size(&path);
    // Each commit appends at least one page-sized row: well past the threshold.
    for id in 0..(CHECKPOINT_FRAMES + 200) {
        commit_pages(&conn, id, 1);
    }
    assert!(checkpointer.frames_written() > CHECKPOINT_FRAMES);
    // Nothing here checkpoints (the WAL hook switched SQLite's own auto-checkpoint off):
    // the pages reach the database file only through the checkpoint thread.
    let deadline = Instant::now() + Duration::from_secs(20);
    while file_size(&path) < before + CHECKPOINT_FRAMES * 4000 {
        assert!(Instant::now() < deadline, "the WAL was not checkpointed");
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(file_size(&wal) > 0);
    assert!(checkpointer.truncate(&conn));
    assert_eq!(file_size(&wal), 0, "the WAL is truncated to nothing");
    let rows: u64 = conn
        .query_row("SELECT COUNT(*) FROM pages", [], |row| row.get(0))
        .unwrap();
    assert_eq!(rows, CHECKPOINT_FRAMES + 200);
    checkpointer.finish();
}

/// Commits `pages` page-sized rows, with ids from `from` on, in one transaction.
fn commit_pages(conn: &Connection, from: u64, pages: u64) {
    conn.execute_batch("BEGIN IMMEDIATE").unwrap();
    for id in from..from + pages {
        conn.execute(
            "INSERT INTO pages (id, body) VALUES (?1, zeroblob(4000))",
            [id],
        )
        .unwrap();
    }
    conn.execute_batch("COMMIT").unwrap();
}

/// A writer's connection to a new database of pages, with its checkpointer's thread
/// stopped: as for a writer whose checkpoints never catch up, nothing copies the WAL, so
/// SQLite never starts it over by itself. Also returns the WAL's path.
fn writer_without_checkpoint_thread(dir: &Path, name: &str) -> (PathBuf, Connection, Checkpointer) {
    let (path, wal, conn) = database_of_pages(dir, name);
    let mut checkpointer = Checkpointer::start(&path).unwrap();
    checkpointer.attach(&conn);
    checkpointer.stop();
    (wal, conn, checkpointer)
}

/// Pages the WAL holds, from its size (a 32-byte header, then 24 bytes and a page a frame).
fn wal_frames_in(wal: &Path) -> u64 {
    file_size(wal).saturating_sub(32) / (24 + 4096)
}

#[test]
fn a_busy_writer_starts_a_long_wal_over_instead_of_growing_it() {
    let dir = tempfile::tempdir().unwrap();
    let (wal, conn, checkpointer) = writer_without_checkpoint_thread(dir.path(), "wrap");
    commit_pages(&conn, 0, WRAP_FRAMES / 2);
    assert!(!checkpointer.wrap(&conn), "a short WAL is left to grow");
    commit_pages(&conn, WRAP_FRAMES / 2, WRAP_FRAMES / 2 + 100);
    let longest = wal_frames_in(&wal);
    assert!(longest > WRAP_FRAMES, "{longest} frames");
    assert!(checkpointer.wrap(&conn), "a long WAL is copied whole");
    // The next commit writes from the start of the WAL: the file does not grow, and it
    // holds every row.
    commit_pages(&conn, WRAP_FRAMES + 100, 100);
    assert_eq!(
        wal_frames_in(&wal),
        longest,
        "the WAL was overwritten, not grown"
    );
    let frames = checkpointer.shared.state.lock().unwrap().wal_frames;
    assert!(frames < 200, "the WAL started over: {frames} frames in use");
    let rows: u64 = conn
        .query_row("SELECT COUNT(*) FROM pages", [], |row| row.get(0))
        .unwrap();
    assert_eq!(rows, WRAP_FRAMES + 200);
    assert!(checkpointer.truncate(&conn));
    assert_eq!(file_size(&wal), 0);
}

#[test]
fn a_wal_a_reader_kept_from_starting_over_is_tried_again_only_once_it_has_grown() {
    let dir = tempfile::tempdir().unwrap();
    let (_wal, conn, checkpointer) = writer_without_checkpoint_thread(dir.path(), "reader");
    let frames = || checkpointer.shared.state.lock().unwrap().wal_frames;
    commit_pages(&conn, 0, WRAP_FRAMES + 100);
    // A reader of the newest snapshot: the copy is made whole, but the reader still reads
    // from the WAL, so the next commit cannot start it over.
    let reader = connection::open(&dir.path().join("reader.db")).unwrap();
    reader.execute_batch("BEGIN").unwrap();
    let _: i64 = reader
        .query_row("SELECT COUNT(*) FROM pages", [], |row| row.get(0))
        .unwrap();
    assert!(checkpointer.wrap(&conn));
    commit_pages(&conn, WRAP_FRAMES + 100, 100);
    assert!(
        frames() > WRAP_FRAMES + 100,
        "the reader kept the WAL growing"
    );
    reader.execute_batch("COMMIT").unwrap();
    // Not tried after every commit: only once the WAL has grown by a checkpoint's worth.
    assert!(!checkpointer.wrap(&conn));
    commit_pages(&conn, WRAP_FRAMES + 200, CHECKPOINT_FRAMES);
    assert!(checkpointer.wrap(&conn));
    commit_pages(&conn, WRAP_FRAMES + 200 + CHECKPOINT_FRAMES, 10);
    assert!(frames() < 100, "the WAL started over: {} frames", frames());
    assert!(checkpointer.truncate(&conn));
}

#[test]
fn truncating_an_empty_wal_leaves_the_readers_page_caches_alone() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("idle.db");
    let conn = connection::open(&path).unwrap();
    conn.execute_batch("CREATE TABLE rows (id INTEGER PRIMARY KEY)")
        .unwrap();
    let checkpointer = Checkpointer::start(&path).unwrap();
    checkpointer.attach(&conn);
    assert!(checkpointer.truncate(&conn));
    // SQLite's data version moves when a connection had to drop its page cache: another
    // connection committed, or the WAL was started over.
    let reader = connection::open(&path).unwrap();
    let version = || -> i64 {
        reader
            .query_row("PRAGMA data_version", [], |row| row.get(0))
            .unwrap()
    };
    let before = version();
    // A write transaction that changed nothing, as an idle poll's, then the idle truncation.
    conn.execute("UPDATE rows SET id = id WHERE id = -1", [])
        .unwrap();
    assert!(checkpointer.truncate(&conn));
    assert_eq!(version(), before, "the reader's cache survived");
    conn.execute("INSERT INTO rows (id) VALUES (1)", [])
        .unwrap();
    assert!(checkpointer.truncate(&conn));
    assert_eq!(file_size(&dir.path().join("idle.db-wal")), 0);
    assert_ne!(version(), before, "a real change is still seen");
    checkpointer.finish();
}
