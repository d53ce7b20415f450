//! Each test's own database: a SQLite file by default, a fresh PostgreSQL database with
//! `ENTITLE_TEST_BACKEND=postgres`.

use std::sync::Arc;

use entitle::DatabaseUrl;

/// The backend the suite runs on: `ENTITLE_TEST_BACKEND=sqlite` (the default) or `postgres`.
pub fn on_postgres() -> bool {
    match std::env::var("ENTITLE_TEST_BACKEND").as_deref() {
        Ok("postgres") => true,
        Ok("sqlite") | Ok("") | Err(_) => false,
        Ok(other) => panic!("ENTITLE_TEST_BACKEND is `{other}`; use `sqlite` or `postgres`"),
    }
}

/// Where fresh PostgreSQL databases are created from (`ENTITLE_TEST_POSTGRES_URL`).
fn postgres_admin_url() -> String {
    std::env::var("ENTITLE_TEST_POSTGRES_URL")
        .ok()
        .filter(|url| !url.is_empty())
        .unwrap_or_else(|| "postgres://postgres@127.0.0.1:5432/postgres".to_owned())
}

/// A test's own database: a SQLite file in a temporary folder, or a PostgreSQL database made
/// for the test alone. Dropped with its last holder.
pub struct TestDatabase {
    /// Holds the SQLite file (and nothing on PostgreSQL); removed on drop.
    _dir: tempfile::TempDir,
    /// The PostgreSQL database's name.
    postgres: Option<String>,
}

impl TestDatabase {
    pub async fn create() -> (Arc<Self>, DatabaseUrl) {
        let dir = tempfile::tempdir().expect("temp dir");
        if !on_postgres() {
            let url = DatabaseUrl::Sqlite(dir.path().join("entitle.db"));
            let database = Self {
                _dir: dir,
                postgres: None,
            };
            return (Arc::new(database), url);
        }
        let admin = postgres_admin_url();
        let name = format!("entitle_test_{}", uuid::Uuid::new_v4().simple());
        entitle_store_postgres::admin::create_database(&admin, &name)
            .await
            .unwrap_or_else(|e| panic!("cannot create a test database through {admin}: {e}"));
        // Same server and user as the admin URL, the new database instead of its path.
        let (scheme, rest) = admin.split_once("://").expect("a postgres:// URL");
        let authority = rest.split(['/', '?']).next().unwrap_or(rest);
        let url = DatabaseUrl::Postgres(format!("{scheme}://{authority}/{name}"));
        let database = Self {
            _dir: dir,
            postgres: Some(name),
        };
        (Arc::new(database), url)
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        let Some(name) = self.postgres.take() else {
            return;
        };
        // Best effort. Drop may run inside the test's runtime, which cannot block on a future of
        // its own: a thread with a runtime of its own drops the database.
        let admin = postgres_admin_url();
        let _ = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime");
            runtime.block_on(entitle_store_postgres::admin::drop_database(&admin, &name))
        })
        .join();
    }
}
