//! A database written before payloads were packed (schema version 5) upgrades in place: its
//! events keep their plain JSON payloads, and the feed reads them as they were.

use entitle_domain::AppId;
use entitle_domain::CustomerUserId;
use entitle_domain::resolve::ProfileRef;
use entitle_store::{EventFeedStore, EventQuery, ProfileStore};
use entitle_store_sqlite::{SqliteConfig, SqliteStore, integrity};

/// The migrations of earlier schema versions, in order: version n is the first n.
const MIGRATIONS: [&str; 9] = [
    include_str!("../migrations/0001_profiles.sql"),
    include_str!("../migrations/0002_purchases.sql"),
    include_str!("../migrations/0003_events.sql"),
    include_str!("../migrations/0004_expirations.sql"),
    include_str!("../migrations/0005_deletion_jobs.sql"),
    include_str!("../migrations/0006_compact_rows.sql"),
    // Migration 7 copies profile rows in code; on a database with none, its SQL is all there is.
    include_str!("../migrations/0007_profile_slots.sql"),
    include_str!("../migrations/0008_sharing_mentions.sql"),
    include_str!("../migrations/0009_events_dated_ahead.sql"),
];

/// A database file at schema `version`, as a build of that version left it.
fn database_at(path: &std::path::Path, version: usize) -> rusqlite::Connection {
    let conn = rusqlite::Connection::open(path).unwrap();
    conn.execute_batch(
        "CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL)",
    )
    .unwrap();
    for (index, sql) in MIGRATIONS[..version].iter().enumerate() {
        conn.execute_batch(sql).unwrap();
        conn.execute(
            "INSERT INTO schema_migrations (version, applied_at) VALUES (?1, 0)",
            [index as i64 + 1],
        )
        .unwrap();
    }
    conn
}

const OLD_ATTRIBUTES: &str =
    r#"{"email":"old@example.org","custom_attributes":[{"key":"tier","value":"pro"}]}"#;
const OLD_VIEW: &str = r#"{"candidates":[],"subscriptions":[{"transaction":{"purchase_type":"subscription","store":"app_store","environment":"Production","store_product_id":"pro.monthly","store_transaction_id":"t-1","store_original_transaction_id":"t-1","is_family_shared":false,"price":{"country":"US","currency":"USD","value":9.99},"purchased_at":"2026-09-16T19:10:38.236113+00:00","originally_purchased_at":"2026-09-16T19:10:38.236113+00:00","expires_at":"2026-10-16T19:10:38.236113+00:00","renew_status":true,"renew_status_changed_at":null,"billing_issue_detected_at":null,"grace_period_expires_at":null,"variation_id":null,"offer":null,"refunded_at":null,"cancellation_reason":null},"originally_purchased_at":"2026-09-16T19:10:38.236113+00:00","purchase_id":"3aa0a0d5-aa37-48f5-b6e7-4fb274ebe966"}],"non_subscriptions":[],"total_revenue_usd":9.99}"#;

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
        let conn = database_at(&path, 5);
        conn.execute(
            "INSERT INTO apps (app_pk, app_id, name, record_key, created_at, next_event_seq)
             VALUES (1, ?1, 'old', x'00', 0, 2)",
            [app.as_bytes()],
        )
        .unwrap();
        // A profile as version 5 stored it: attributes and purchases view as plain JSON.
        conn.execute(
            "INSERT INTO profiles (app_pk, profile_id, customer_user_id, attributes, created_at, updated_at, purchases)
             VALUES (1, ?1, 'old-1', ?2, 0, 0, ?3)",
            rusqlite::params![profile.as_bytes(), OLD_ATTRIBUTES, OLD_VIEW],
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
    let read = store
        .get_profile(
            app,
            ProfileRef::CustomerUserId(CustomerUserId::parse("old-1").unwrap()),
        )
        .await
        .unwrap();
    assert_eq!(read.profile_id.as_uuid(), &profile);
    assert_eq!(
        read.attributes.email.as_ref().unwrap().as_str(),
        "old@example.org"
    );
    assert_eq!(read.purchases.subscriptions.len(), 1);
    assert_eq!(read.purchases.total_revenue_usd, 9.99);
    let page = store
        .list_events(
            app,
            EventQuery {
                limit: 10,
                ..EventQuery::default()
            },
        )
        .await
        .unwrap();
    let read: Vec<_> = page.events.iter().map(|e| e.payload.clone()).collect();
    // The same, with the properties every event now names as null (`events/unknown.rs`).
    let as_now = |payload: &serde_json::Value| {
        let mut payload = payload.clone();
        entitle_domain::events::restore_unknown(&mut payload);
        payload
    };
    assert_eq!(read, vec![as_now(&payloads[1]), as_now(&payloads[0])]);
    assert_eq!(page.events[0].position, 2);
    store.close().await;
    // No event lost its payload and no payload lost its event.
    assert_eq!(integrity::check(&path).unwrap(), Vec::<String>::new());
}

#[tokio::test]
async fn profiles_written_at_schema_version_6_are_all_found_after_moving_to_their_slots() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("entitle.db");
    let app = AppId::new_random();
    let profiles: Vec<uuid::Uuid> = (0..200).map(|_| uuid::Uuid::new_v4()).collect();
    {
        let conn = database_at(&path, 6);
        conn.execute(
            "INSERT INTO apps (app_pk, app_id, name, record_key, created_at) VALUES (1, ?1, 'old', x'00', 0)",
            [app.as_bytes()],
        )
        .unwrap();
        for (index, profile) in profiles.iter().enumerate() {
            conn.execute(
                "INSERT INTO profiles (app_pk, profile_id, customer_user_id, attributes, created_at, updated_at, purchases)
                 VALUES (1, ?1, ?2, ?3, ?4, ?4, ?5)",
                rusqlite::params![
                    profile.as_bytes(),
                    format!("cuid-{index}"),
                    OLD_ATTRIBUTES,
                    index as i64,
                    OLD_VIEW
                ],
            )
            .unwrap();
        }
    }

    let store = SqliteStore::open(SqliteConfig::new(&path)).unwrap();
    for (index, profile) in profiles.iter().enumerate() {
        let id = entitle_domain::ProfileId::from_uuid(*profile);
        let by_id = store.get_profile(app, ProfileRef::Id(id)).await.unwrap();
        assert_eq!(by_id.created_at.unix_micros(), index as i64);
        assert_eq!(by_id.purchases.total_revenue_usd, 9.99);
        let cuid = CustomerUserId::parse(&format!("cuid-{index}")).unwrap();
        let by_cuid = store
            .get_profile(app, ProfileRef::CustomerUserId(cuid))
            .await
            .unwrap();
        assert_eq!(by_cuid.profile_id, id);
    }
    store.close().await;
    let conn = rusqlite::Connection::open(&path).unwrap();
    let (rows, tables): (i64, i64) = conn
        .query_row(
            "SELECT (SELECT COUNT(*) FROM profiles),
                    (SELECT COUNT(*) FROM sqlite_schema WHERE name = 'profiles_slotted')",
            [],
            |row| Ok((row.get(0)?, row.get(1)?)),
        )
        .unwrap();
    assert_eq!((rows, tables), (200, 0));
    assert_eq!(integrity::check(&path).unwrap(), Vec::<String>::new());
}

#[tokio::test]
async fn events_written_at_schema_version_7_lose_a_deleted_profile_they_name() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("entitle.db");
    let app = AppId::new_random();
    let named = entitle_domain::ProfileId::new_random();
    let holder = uuid::Uuid::new_v4();
    let personal = serde_json::json!({
        "customer_user_id": "holder",
        "profiles_sharing_access_level": [{"profile_id": named.to_string(), "customer_user_id": "named-x"}],
    });
    {
        let conn = database_at(&path, 7);
        conn.execute(
            "INSERT INTO apps (app_pk, app_id, name, record_key, created_at, next_event_seq)
             VALUES (1, ?1, 'old', x'00', 0, 2)",
            [app.as_bytes()],
        )
        .unwrap();
        conn.execute(
            "INSERT INTO event_bodies (body_pk, payload, personal) VALUES (1, ?1, ?2)",
            rusqlite::params![
                r#"{"event_type":"access_level_updated"}"#,
                personal.to_string()
            ],
        )
        .unwrap();
        conn.execute(
            "INSERT INTO events (app_pk, profile_id, event_seq, event_id, event_type, created_at, reissued, body_pk)
             VALUES (1, ?1, 1, ?2, 'access_level_updated', 0, 0, 1)",
            rusqlite::params![holder.as_bytes(), uuid::Uuid::new_v4().as_bytes()],
        )
        .unwrap();
    }

    let store = SqliteStore::open(SqliteConfig::new(&path)).unwrap();
    let at = entitle_domain::datetime::Timestamp::now();
    store
        .create_profile(app, ProfileRef::Id(named), Default::default(), at)
        .await
        .unwrap();
    store
        .delete_profile(
            app,
            ProfileRef::Id(named),
            entitle_domain::KeyId::new_random(),
            at,
        )
        .await
        .unwrap();
    let page = store
        .list_events(
            app,
            EventQuery {
                limit: 10,
                ..EventQuery::default()
            },
        )
        .await
        .unwrap();
    let holders: Vec<_> = page
        .events
        .iter()
        .filter(|e| e.profile_id.as_uuid() == &holder)
        .collect();
    assert_eq!(holders.len(), 1, "the holder's event stays");
    let payload = &holders[0].payload;
    assert_eq!(
        payload["profiles_sharing_access_level"],
        serde_json::Value::Null
    );
    assert_eq!(payload["customer_user_id"], "holder");
    assert!(!payload.to_string().contains("named-x"));
    store.close().await;
}

#[tokio::test]
async fn grants_written_at_schema_version_9_get_their_next_change_time() {
    use entitle_domain::datetime::Timestamp;
    use entitle_domain::purchase::{AccessLevelId, AccessOverride, Grant, Revoke};

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("entitle.db");
    let now = Timestamp::now();
    let hour = 3_600_000_000;
    let ends = now.plus_micros(2 * hour);
    let revoked = now.plus_micros(hour);
    let grant = |starts_at: Option<Timestamp>, expires_at: Option<Timestamp>| Grant {
        grant_id: "ssgrant-1".into(),
        starts_at,
        expires_at,
        granted_at: now.plus_micros(-hour),
    };
    let overrides = [
        // Its end is next.
        AccessOverride {
            access_level_id: AccessLevelId::parse("a").unwrap(),
            grant: Some(grant(Some(now.plus_micros(-hour)), Some(ends))),
            revoke: None,
        },
        // The revoke comes before the grant's end.
        AccessOverride {
            access_level_id: AccessLevelId::parse("b").unwrap(),
            grant: Some(grant(None, Some(ends))),
            revoke: Some(Revoke {
                revoke_at: revoked,
                revoked_at: now.plus_micros(-1),
            }),
        },
        // Lifetime: nothing will change.
        AccessOverride {
            access_level_id: AccessLevelId::parse("c").unwrap(),
            grant: Some(grant(None, None)),
            revoke: None,
        },
    ];
    {
        let conn = database_at(&path, 9);
        for value in &overrides {
            conn.execute(
                "INSERT INTO access_overrides (app_pk, profile_id, access_level_id, body)
                 VALUES (1, x'00', ?1, ?2)",
                rusqlite::params![
                    value.access_level_id.as_str(),
                    serde_json::to_string(value).unwrap()
                ],
            )
            .unwrap();
        }
    }
    let store = SqliteStore::open(SqliteConfig::new(&path)).unwrap();
    store.close().await;
    let conn = rusqlite::Connection::open(&path).unwrap();
    let due: Vec<(String, Option<i64>)> = conn
        .prepare("SELECT access_level_id, change_due_at FROM access_overrides ORDER BY 1")
        .unwrap()
        .query_map([], |row| Ok((row.get(0)?, row.get(1)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    // The stored times are read to the millisecond (whether SQLite rounds or cuts the rest).
    let near = |read: Option<i64>, want: Timestamp| {
        read.is_some_and(|micros| (micros - want.unix_micros()).abs() <= 1000)
    };
    assert_eq!(due.len(), 3);
    assert_eq!(due[0].0, "a");
    assert!(near(due[0].1, ends), "the grant's end: {due:?}");
    assert_eq!(due[1].0, "b");
    assert!(
        near(due[1].1, revoked),
        "the revoke, before the end: {due:?}"
    );
    assert_eq!(due[2], ("c".to_owned(), None), "nothing will change");
}
