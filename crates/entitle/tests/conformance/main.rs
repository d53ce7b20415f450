//! One story told through the `Store` trait (no HTTP) on both backends in the same run, a fresh
//! SQLite file and a fresh PostgreSQL database: app and keys, profiles, purchases, grants,
//! delete → detach → reassign, the feed, the outbox, expiry, bulk deletion and the audit trail.
//! Each step asserts what every backend must do, and the two transcripts of what was observed
//! must be equal.
//!
//! Needs PostgreSQL (`ENTITLE_TEST_POSTGRES_URL`, default the local server); `scripts/test`
//! starts it.

mod story;
mod workers;

use entitle::{Backend, DatabaseUrl};
use entitle_store::Store;

/// The whole story on one store; what it observed.
async fn tell(store: &dyn Store) -> Vec<String> {
    let mut seen = Vec::new();
    let told = story::profiles_and_purchases(store, &mut seen).await;
    workers::outbox_expiry_and_jobs(store, told, &mut seen).await;
    seen
}

async fn fresh_postgres() -> (DatabaseUrl, String, String) {
    let admin = std::env::var("ENTITLE_TEST_POSTGRES_URL")
        .ok()
        .filter(|url| !url.is_empty())
        .unwrap_or_else(|| "postgres://postgres@127.0.0.1:5432/postgres".into());
    let name = format!("entitle_test_{}", uuid::Uuid::new_v4().simple());
    entitle_store_postgres::admin::create_database(&admin, &name)
        .await
        .unwrap_or_else(|e| panic!("PostgreSQL is needed ({admin}): {e}"));
    let (scheme, rest) = admin.split_once("://").unwrap();
    let authority = rest.split(['/', '?']).next().unwrap();
    let url = DatabaseUrl::Postgres(format!("{scheme}://{authority}/{name}"));
    (url, admin, name)
}

#[tokio::test]
async fn both_backends_tell_the_same_story() {
    let dir = tempfile::tempdir().unwrap();
    let sqlite = Backend::open(&DatabaseUrl::Sqlite(dir.path().join("conformance.db")))
        .await
        .unwrap();
    let on_sqlite = tell(&*sqlite.store()).await;
    sqlite.close().await;

    let (url, admin, name) = fresh_postgres().await;
    let postgres = Backend::open(&url).await.unwrap();
    let on_postgres = tell(&*postgres.store()).await;
    postgres.close().await;
    entitle_store_postgres::admin::drop_database(&admin, &name)
        .await
        .unwrap();

    assert_eq!(on_sqlite, on_postgres);
}
