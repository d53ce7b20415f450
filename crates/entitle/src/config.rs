//! Configuration: defaults, then `ENTITLE_*` environment variables, then flags (clap reads
//! both), validated before anything starts.

use std::fmt;
use std::net::SocketAddr;
use std::path::PathBuf;

/// Where the data lives.
#[derive(Clone, PartialEq, Eq)]
pub enum DatabaseUrl {
    Sqlite(PathBuf),
    Postgres(String),
}

pub const DEFAULT_DATABASE_URL: &str = "sqlite://./entitle-data/entitle.db";

impl DatabaseUrl {
    /// `sqlite://PATH`, `sqlite:PATH`, `postgres://…`/`postgresql://…`, or a bare file path.
    pub fn parse(text: &str) -> Result<Self, String> {
        let text = text.trim();
        if text.is_empty() {
            return Err("the database URL is empty".into());
        }
        if text.starts_with("postgres://") || text.starts_with("postgresql://") {
            return Ok(Self::Postgres(text.to_owned()));
        }
        let path = text
            .strip_prefix("sqlite://")
            .or_else(|| text.strip_prefix("sqlite:"))
            .unwrap_or(text);
        let path = path.split('?').next().unwrap_or(path);
        if path.is_empty() {
            return Err("the SQLite URL names no file".into());
        }
        if path.contains("://") {
            return Err(format!(
                "unsupported database URL scheme in `{}`",
                redact(text)
            ));
        }
        Ok(Self::Sqlite(PathBuf::from(path)))
    }

    /// The URL without any password, for logs.
    pub fn redacted(&self) -> String {
        match self {
            Self::Sqlite(path) => format!("sqlite://{}", path.display()),
            Self::Postgres(url) => redact(url),
        }
    }
}

/// `scheme://user:secret@host` → `scheme://user:***@host`.
fn redact(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    match rest.split_once('@') {
        Some((credentials, host)) => {
            let user = credentials.split(':').next().unwrap_or("");
            format!("{scheme}://{user}:***@{host}")
        }
        None => url.to_owned(),
    }
}

impl fmt::Display for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.redacted())
    }
}

impl fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DatabaseUrl({})", self.redacted())
    }
}

/// Everything `serve` needs.
#[derive(Debug, Clone)]
pub struct Config {
    pub listen: SocketAddr,
    pub database_url: DatabaseUrl,
}

impl Config {
    pub fn for_database(database_url: DatabaseUrl) -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            database_url,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn database_urls() {
        assert_eq!(
            DatabaseUrl::parse(DEFAULT_DATABASE_URL).unwrap(),
            DatabaseUrl::Sqlite("./entitle-data/entitle.db".into())
        );
        assert_eq!(
            DatabaseUrl::parse("sqlite:x.db").unwrap(),
            DatabaseUrl::Sqlite("x.db".into())
        );
        assert_eq!(
            DatabaseUrl::parse("/tmp/e.db").unwrap(),
            DatabaseUrl::Sqlite("/tmp/e.db".into())
        );
        assert!(matches!(
            DatabaseUrl::parse("postgres://u:pw@127.0.0.1/test").unwrap(),
            DatabaseUrl::Postgres(_)
        ));
        assert!(DatabaseUrl::parse("").is_err());
        assert!(DatabaseUrl::parse("mysql://x").is_err());
    }

    #[test]
    fn passwords_never_show() {
        let url = DatabaseUrl::parse("postgres://app:hunter2@db/entitle").unwrap();
        assert!(!format!("{url} {url:?}").contains("hunter2"));
    }
}
