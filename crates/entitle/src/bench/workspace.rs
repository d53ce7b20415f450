//! Where a bench run keeps its database and the server's log.

use std::path::{Path, PathBuf};

use anyhow::Context;

use crate::config::{DEFAULT_DATABASE_URL, DatabaseUrl};

pub struct Workspace {
    /// Removed with the workspace; holds the server's log (and the database when temporary).
    dir: tempfile::TempDir,
    pub database_url: DatabaseUrl,
    /// The database file's size after seeding (SQLite).
    pub database_bytes: Option<u64>,
}

impl Workspace {
    /// The default SQLite URL means "a fresh temporary database": the bench must never seed
    /// into (or delete from) a database someone uses. Any other SQLite path must not exist yet.
    pub fn new(requested: &DatabaseUrl) -> anyhow::Result<Self> {
        let dir = tempfile::Builder::new()
            .prefix("entitle-bench-")
            .tempdir()
            .context("cannot create a temporary folder")?;
        let default = DatabaseUrl::parse(DEFAULT_DATABASE_URL).ok();
        let database_url = match requested {
            DatabaseUrl::Postgres(_) => requested.clone(),
            sqlite if Some(sqlite) == default.as_ref() => {
                DatabaseUrl::Sqlite(dir.path().join("bench.db"))
            }
            DatabaseUrl::Sqlite(path) => {
                anyhow::ensure!(
                    !path.exists(),
                    "{} exists; the bench seeds a fresh database (name a new file, or none for a temporary one)",
                    path.display()
                );
                DatabaseUrl::Sqlite(path.clone())
            }
        };
        Ok(Self {
            dir,
            database_url,
            database_bytes: None,
        })
    }

    /// Whether the database is the run's own, in its temporary folder.
    pub fn is_temporary(&self) -> bool {
        self.sqlite_path()
            .is_some_and(|path| path.starts_with(self.dir.path()))
    }

    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    pub fn sqlite_path(&self) -> Option<&Path> {
        match &self.database_url {
            DatabaseUrl::Sqlite(path) => Some(path),
            DatabaseUrl::Postgres(_) => None,
        }
    }

    /// Records the size of the seeded database file.
    pub fn measure_database(&mut self) {
        self.database_bytes = self
            .sqlite_path()
            .and_then(|path| std::fs::metadata(path).ok())
            .map(|meta| meta.len());
    }

    pub fn backend(&self) -> &'static str {
        match self.database_url {
            DatabaseUrl::Sqlite(_) => "sqlite",
            DatabaseUrl::Postgres(_) => "postgres",
        }
    }

    /// A path inside the workspace.
    pub fn file(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }
}
