//! The storage backend chosen by the database URL.

use std::sync::Arc;

use anyhow::{Context, bail};
use entitle_store::Store;
use entitle_store_sqlite::{SqliteConfig, SqliteStore};

use crate::config::DatabaseUrl;

pub enum Backend {
    Sqlite(Arc<SqliteStore>),
}

impl Backend {
    /// Opens the database, creating it (and its folder) if needed, and runs the migrations.
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
            DatabaseUrl::Postgres(_) => {
                bail!("PostgreSQL is not available in this build yet; use a SQLite URL")
            }
        }
    }

    pub fn store(&self) -> Arc<dyn Store> {
        match self {
            Self::Sqlite(store) => store.clone(),
        }
    }

    /// Commits queued writes and releases the database.
    pub async fn close(&self) {
        match self {
            Self::Sqlite(store) => store.close().await,
        }
    }
}
