//! A database written before payloads were packed (schema version 5) upgrades in place: its
//! events keep their plain JSON payloads, and the feed reads them as they were.

use entitle_domain::AppId;
use entitle_store::{EventFeedStore, EventQuery};
use entitle_store_sqlite::{SqliteConfig, SqliteStore, integrity};

const VERSION_5: [&str; 5] = [
    include_str!("../migrations/0001_profiles.sql"),
    include_str!("../migrations/0002_purchases.sql"),
    include_str!("../migrations/0003_events.sql"),
    include_str!("../migrations/0004_expirations.sql"),
    include_str!("../migrations/0005_deletion_jobs.sql"),
];

#[tokio::test]
async fn events_written_at_schema_version_5_read_the_same_after_the_upgrade() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("entitle.db");
    let app = AppId::new_random();
    let profile = uuid::Uuid::new_v4();
    let payloads = [
        serde_json::json!({"event_type": "subscription_started", "email": "old@example.org",
            "event_properties": {"store": "app_store", "price_usd": 9.99}}),
        serde_json::json!({"event_type": "access_level_updated", "customer_user_id": "old-1",
            "event_properties": {"access_level_id": "premium"}}),
    ];
    {
        let conn = rusqlite::Connection::open(&path).unwrap();
        conn.execute_batch(
            "CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL)",
        )
        .unwrap();
        for (index, sql) in VERSION_5.iter().enumerate() {
            conn.execute_batch(sql).unwrap();
            conn.execute(
                "INSERT INTO schema_migrations (version, applied_at) VALUES (?1, 0)",
                [index as i64 + 1],
            )
            .unwrap();
        }
        conn.execute(
            "INSERT INTO apps (app_pk, app_id, name, record_key, created_at, next_event_seq)
             VALUES (1, ?1, 'old', x'00', 0, 2)",
            [app.as_bytes()],
        )
        .unwrap();
        for (seq, payload) in payloads.iter().enumerate() {
            conn.execute(
                "INSERT INTO events (app_pk, profile_id, event_seq, event_id, event_type, created_at, reissued, payload)
                 VALUES (1, ?1, ?2, ?3, ?4, 0, 0, ?5)",
                rusqlite::params![
                    profile.as_bytes(),
                    seq as i64 + 1,
                    uuid::Uuid::new_v4().as_bytes(),
                    payload["event_type"].as_str().unwrap(),
                    payload.to_string()
                ],
            )
            .unwrap();
        }
    }

    let store = SqliteStore::open(SqliteConfig::new(&path)).unwrap();
    let page = store
        .list_events(
            app,
            EventQuery {
                profile_id: None,
                customer_user_id: None,
                event_type: None,
                before: None,
                limit: 10,
            },
        )
        .await
        .unwrap();
    let read: Vec<_> = page.events.iter().map(|e| e.payload.clone()).collect();
    assert_eq!(read, vec![payloads[1].clone(), payloads[0].clone()]);
    assert_eq!(page.events[0].position, 2);
    store.close().await;
    // No event lost its payload and no payload lost its event (profiles aside: none was made).
    let problems = integrity::check(&path).unwrap();
    assert!(
        problems.iter().all(|p| p.contains("events of profiles")),
        "{problems:?}"
    );
}
