//! The consistency check finds what a half-applied deletion would leave behind.

use entitle_store_sqlite::{SqliteConfig, SqliteStore, integrity};

#[tokio::test]
async fn orphans_are_found() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("entitle.db");
    let store = SqliteStore::open(SqliteConfig::new(&path)).unwrap();
    store.close().await;
    assert_eq!(integrity::check(&path).unwrap(), Vec::<String>::new());

    let conn = rusqlite::Connection::open(&path).unwrap();
    conn.execute_batch(
        "INSERT INTO chain_inheritors (app_pk, profile_id, chain_pk) VALUES (1, x'00112233445566778899aabbccddeeff', 7);
         INSERT INTO event_bodies (body_pk, payload) VALUES (1, '{}'), (2, '{}');
         INSERT INTO events (app_pk, profile_id, event_seq, event_id, event_type, created_at, reissued, body_pk)
              VALUES (1, x'00112233445566778899aabbccddeeff', 1, x'00', 'subscription_started', 0, 0, 1);",
    )
    .unwrap();
    drop(conn);
    let problems = integrity::check(&path).unwrap();
    assert_eq!(problems.len(), 3, "{problems:?}");
    assert!(problems[0].contains("inheritor links"));
    assert!(problems[1].contains("events of profiles"));
    assert!(problems[2].contains("1 event payloads of events that do not exist"));
}
