//! entitle's PostgreSQL backend, for several API nodes and workers on one database.
//!
//! Every store method is one transaction (`transact.rs`), calling the same domain functions in
//! the same order as the SQLite backend. Where SQLite's single writer serializes everything,
//! this backend takes row locks in one global order (profiles, then chains) and runs a method
//! again when a concurrent one got in its way, so both backends give the same answers.

mod apps;
mod chains;
mod codec;
mod config;
mod dated_ahead;
mod deletion;
mod deletion_jobs;
mod deletion_records;
mod deliveries;
mod due;
mod error;
mod expirations;
mod feed;
mod integrations;
mod migrations;
mod operations;
mod outbox;
mod overrides;
mod planning;
mod profiles;
mod purchases;
mod scheduled_access;
mod store;
mod store_deletions;
mod transact;
mod views;

use std::str::FromStr;
use std::time::Duration;

use entitle_store::{StoreError, StoreResult};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{ConnectOptions, Connection, PgConnection, PgPool};

use crate::error::db_error;
pub use crate::planning::Planning;
use crate::transact::Mode;

/// Settings of the PostgreSQL backend.
#[derive(Clone)]
pub struct PgConfig {
    /// `postgres://user:password@host:port/database?…`, as libpq understands it.
    pub url: String,
    /// Most connections this process opens; they are opened when needed and closed when idle.
    pub max_connections: u32,
    /// How long a request waits for a free connection before failing with 503.
    pub acquire_timeout: Duration,
}

/// The pool size when the URL does not set one.
pub const DEFAULT_MAX_CONNECTIONS: u32 = 10;

impl PgConfig {
    /// Reads entitle's own `max_connections=N` URL parameter (PostgreSQL's parameters pass on
    /// unchanged).
    pub fn from_url(url: &str) -> StoreResult<Self> {
        let (base, query) = url.split_once('?').unwrap_or((url, ""));
        let mut max_connections = DEFAULT_MAX_CONNECTIONS;
        let mut kept = Vec::new();
        for pair in query.split('&').filter(|pair| !pair.is_empty()) {
            match pair.split_once('=') {
                Some(("max_connections", value)) => {
                    max_connections = value.parse().ok().filter(|n| *n > 0).ok_or_else(|| {
                        StoreError::Unavailable(format!(
                            "max_connections must be a positive number, not `{value}`"
                        ))
                    })?;
                }
                _ => kept.push(pair),
            }
        }
        let url = if kept.is_empty() {
            base.to_owned()
        } else {
            format!("{base}?{}", kept.join("&"))
        };
        Ok(Self {
            url,
            max_connections,
            acquire_timeout: Duration::from_secs(30),
        })
    }

    fn connect_options(&self) -> StoreResult<PgConnectOptions> {
        // The URL may hold a password: the error never repeats it.
        PgConnectOptions::from_str(&self.url)
            .map(|options| options.application_name("entitle"))
            .map_err(|_| StoreError::Unavailable("the PostgreSQL URL is not valid".into()))
    }
}

impl std::fmt::Debug for PgConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgConfig")
            .field("max_connections", &self.max_connections)
            .field("acquire_timeout", &self.acquire_timeout)
            .finish_non_exhaustive()
    }
}

pub struct PgStore {
    pool: PgPool,
}

impl PgStore {
    /// Connects and runs the migrations.
    pub async fn open(config: PgConfig) -> StoreResult<Self> {
        let pool = PgPoolOptions::new()
            .max_connections(config.max_connections)
            .min_connections(0)
            .idle_timeout(Duration::from_secs(60))
            .acquire_timeout(config.acquire_timeout)
            .after_connect(|conn, _| Box::pin(planning::plan_for_the_server(conn)))
            .connect_with(config.connect_options()?)
            .await
            .map_err(|e| StoreError::Unavailable(format!("cannot connect to PostgreSQL: {e}")))?;
        let store = Self { pool };
        store.migrate().await?;
        if !store.planning().await?.autovacuum {
            tracing::warn!(
                "PostgreSQL runs with autovacuum off: entitle plans every statement afresh so \
                 that lookups stay index scans as tables grow; turn autovacuum on to keep \
                 table statistics and cached plans"
            );
        }
        Ok(store)
    }

    /// How this store's connections plan their statements (`planning.rs`).
    pub async fn planning(&self) -> StoreResult<Planning> {
        let mut conn = self.pool.acquire().await.map_err(db_error)?;
        planning::read(&mut conn).await.map_err(db_error)
    }

    async fn migrate(&self) -> StoreResult<()> {
        transact::run(&self.pool, Mode::Write, |conn| {
            Box::pin(migrations::run(conn))
        })
        .await
    }

    /// Waits for checked-out connections to come back and closes them all; later calls answer
    /// `Unavailable`.
    pub async fn close(&self) {
        self.pool.close().await;
    }
}

/// Creating and dropping whole databases, for tests that each want a fresh one.
pub mod admin {
    use super::*;

    /// A database name this module accepts: lowercase letters, digits and `_`, so it can be
    /// spliced into `CREATE DATABASE` safely.
    fn checked(name: &str) -> StoreResult<&str> {
        let valid = !name.is_empty()
            && name.len() <= 63
            && name
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
        if valid {
            Ok(name)
        } else {
            Err(StoreError::Backend(format!(
                "invalid database name `{name}`"
            )))
        }
    }

    async fn connect(admin_url: &str) -> StoreResult<PgConnection> {
        let options = PgConfig::from_url(admin_url)?.connect_options()?;
        options
            .connect()
            .await
            .map_err(|e| StoreError::Unavailable(format!("cannot connect to PostgreSQL: {e}")))
    }

    /// Creates an empty database named `name`, connecting through `admin_url`.
    pub async fn create_database(admin_url: &str, name: &str) -> StoreResult<()> {
        let sql = format!("CREATE DATABASE \"{}\"", checked(name)?);
        let mut conn = connect(admin_url).await?;
        let result = sqlx::raw_sql(sqlx::AssertSqlSafe(sql))
            .execute(&mut conn)
            .await
            .map(|_| ())
            .map_err(db_error);
        let _ = conn.close().await;
        result
    }

    /// Drops the database `name` if it exists, ending its sessions first.
    pub async fn drop_database(admin_url: &str, name: &str) -> StoreResult<()> {
        let sql = format!(
            "DROP DATABASE IF EXISTS \"{}\" WITH (FORCE)",
            checked(name)?
        );
        let mut conn = connect(admin_url).await?;
        let result = sqlx::raw_sql(sqlx::AssertSqlSafe(sql))
            .execute(&mut conn)
            .await
            .map(|_| ())
            .map_err(db_error);
        let _ = conn.close().await;
        result
    }
}
