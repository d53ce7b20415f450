//! Configuration: defaults, then `ENTITLE_*` environment variables, then flags (clap reads
//! both), validated before anything starts.

use std::fmt;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use entitle_webhooks::WorkerConfig;

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
#[derive(Clone)]
pub struct Config {
    pub listen: SocketAddr,
    pub database_url: DatabaseUrl,
    /// Bearer token of the admin API; `None` turns the admin API off.
    pub admin_token: Option<String>,
    /// The webhook worker to run inside the server; `None` runs none.
    pub worker: Option<WorkerConfig>,
    /// Requests per minute per API key; 0 turns the limit off.
    pub rate_limit_per_minute: u32,
    /// Longest a request may take, reading its body included.
    pub request_timeout: Duration,
    /// A connection with no request in progress is closed after this.
    pub idle_timeout: Duration,
}

/// How long a connection may sit with no request in progress: longer than the idle timeout of
/// common client pools' own (so that they, not the server, usually close first), short enough
/// that a vanished or stalled peer does not hold a socket for long.
pub const DEFAULT_IDLE_TIMEOUT: Duration = Duration::from_secs(60);

impl Config {
    /// Defaults: the embedded database given, a worker with the production schedule, no admin API.
    pub fn for_database(database_url: DatabaseUrl) -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            database_url,
            admin_token: None,
            worker: Some(WorkerConfig::default()),
            rate_limit_per_minute: entitle_api::DEFAULT_RATE_LIMIT_PER_MINUTE,
            request_timeout: entitle_api::DEFAULT_REQUEST_TIMEOUT,
            idle_timeout: DEFAULT_IDLE_TIMEOUT,
        }
    }
}

impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Config")
            .field("listen", &self.listen)
            .field("database_url", &self.database_url)
            .field(
                "admin_token",
                &self.admin_token.as_ref().map(|_| "<redacted>"),
            )
            .field("worker", &self.worker)
            .field("rate_limit_per_minute", &self.rate_limit_per_minute)
            .field("request_timeout", &self.request_timeout)
            .field("idle_timeout", &self.idle_timeout)
            .finish()
    }
}

/// `250ms`, `10s`, `1m`, `2h`: a whole number and a unit.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let number: u64 = number
        .parse()
        .map_err(|_| format!("`{text}` is not a duration such as 250ms, 10s, 1m or 2h"))?;
    let per_unit = match unit {
        "ms" => 1,
        "s" | "" => 1000,
        "m" => 60_000,
        "h" => 3_600_000,
        _ => return Err(format!("`{text}`: the unit must be ms, s, m or h")),
    };
    let millis = number
        .checked_mul(per_unit)
        .ok_or_else(|| format!("`{text}` is too long a duration"))?;
    Ok(Duration::from_millis(millis))
}

/// A duration as [`parse_duration`] reads it, other than zero: for a timeout, where zero would
/// end every request or connection at once.
pub fn parse_timeout(text: &str) -> Result<Duration, String> {
    match parse_duration(text)? {
        Duration::ZERO => Err(format!("`{text}`: a timeout must be longer than zero")),
        timeout => Ok(timeout),
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
    fn durations() {
        assert_eq!(parse_duration("250ms").unwrap(), Duration::from_millis(250));
        assert_eq!(parse_duration("10s").unwrap(), Duration::from_secs(10));
        assert_eq!(parse_duration("1m").unwrap(), Duration::from_secs(60));
        assert_eq!(parse_duration("2h").unwrap(), Duration::from_secs(7200));
        assert!(parse_duration("soon").is_err());
        assert!(parse_duration("5d").is_err());
        assert!(parse_duration("18446744073709551615h").is_err());
        assert_eq!(parse_timeout("2s").unwrap(), Duration::from_secs(2));
        assert!(parse_timeout("0s").is_err());
        assert!(parse_timeout("0ms").is_err());
    }

    #[test]
    fn passwords_never_show() {
        let url = DatabaseUrl::parse("postgres://app:hunter2@db/entitle").unwrap();
        assert!(!format!("{url} {url:?}").contains("hunter2"));
    }
}
