//! The storage backend chosen by the database URL.

use std::sync::Arc;

use anyhow::Context;
use entitle_store::{Store, StoreResult};
use entitle_store_postgres::{PgConfig, PgStore};
use entitle_store_sqlite::{SqliteConfig, SqliteStore};

use crate::config::DatabaseUrl;

pub enum Backend {
    Sqlite(Arc<SqliteStore>),
    Postgres(Arc<PgStore>),
}

impl Backend {
    /// Opens the database, creating it (and its folder) if needed for SQLite, and runs the
    /// migrations.
    pub async fn open(url: &DatabaseUrl) -> anyhow::Result<Self> {
        match url {
            DatabaseUrl::Sqlite(path) => {
                let path = path.clone();
                let store =
                    tokio::task::spawn_blocking(move || SqliteStore::open(SqliteConfig::new(path)))
                        .await
                        .context("opening the database panicked")?
                        .with_context(|| format!("cannot open {url}"))?;
                Ok(Self::Sqlite(Arc::new(store)))
            }
            DatabaseUrl::Postgres(text) => {
                // `url` displays without its password; the store's errors never include it.
                let store = PgStore::open(PgConfig::from_url(text)?)
                    .await
                    .with_context(|| format!("cannot open {url}"))?;
                Ok(Self::Postgres(Arc::new(store)))
            }
        }
    }

    pub fn store(&self) -> Arc<dyn Store> {
        match self {
            Self::Sqlite(store) => store.clone(),
            Self::Postgres(store) => store.clone(),
        }
    }

    /// Commits queued writes and releases the database.
    /// Opens the database, makes one call on its store and closes it again, whatever the call
    /// answered: what each one-shot command of the CLI does.
    pub async fn call_once<T>(
        url: &DatabaseUrl,
        call: impl AsyncFnOnce(Arc<dyn Store>) -> StoreResult<T>,
    ) -> anyhow::Result<StoreResult<T>> {
        let backend = Self::open(url).await?;
        let answered = call(backend.store()).await;
        backend.close().await;
        Ok(answered)
    }

    pub async fn close(&self) {
        match self {
            Self::Sqlite(store) => store.close().await,
            Self::Postgres(store) => store.close().await,
        }
    }
}
