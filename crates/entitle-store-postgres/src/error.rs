//! Failures inside a transaction, and which of them are worth running the transaction again.

use entitle_domain::ValidationError;
use entitle_store::StoreError;

/// What a function running inside a transaction can fail with.
#[derive(Debug)]
pub enum Error {
    /// A definite answer (not found, invalid, ...): returned to the caller as it is.
    Store(StoreError),
    Db(sqlx::Error),
    /// Something read before it was locked changed in between (another transaction deleted or
    /// re-identified a profile, or changed a chain's holders): the transaction starts again.
    Changed,
}

pub type Result<T> = std::result::Result<T, Error>;

impl From<StoreError> for Error {
    fn from(error: StoreError) -> Self {
        Self::Store(error)
    }
}

impl From<ValidationError> for Error {
    fn from(error: ValidationError) -> Self {
        Self::Store(StoreError::Invalid(error))
    }
}

impl From<sqlx::Error> for Error {
    fn from(error: sqlx::Error) -> Self {
        Self::Db(error)
    }
}

/// SQLSTATEs a concurrent transaction causes: trying again sees its outcome and gives the answer
/// a serial execution would have given.
const SERIALIZATION_FAILURE: &str = "40001";
const DEADLOCK_DETECTED: &str = "40P01";
/// Two inserts of one key (a customer user id, a chain, a transaction id) raced; on the next try
/// the loser finds the winner's row.
const UNIQUE_VIOLATION: &str = "23505";

impl Error {
    pub fn is_retryable(&self) -> bool {
        match self {
            Self::Changed => true,
            Self::Db(sqlx::Error::Database(error)) => error.code().is_some_and(|code| {
                [SERIALIZATION_FAILURE, DEADLOCK_DETECTED, UNIQUE_VIOLATION].contains(&&*code)
            }),
            _ => false,
        }
    }

    /// A description safe for logs. A database error's DETAIL can quote the row it is about
    /// (`Key (app_pk, customer_user_id)=(1, mara@…) already exists`), so only its SQLSTATE and
    /// message are kept.
    pub fn log_safe(&self) -> String {
        match self {
            Self::Store(error) => error.to_string(),
            Self::Db(error) => describe(error),
            Self::Changed => "the rows it read changed before they were locked".into(),
        }
    }

    /// The error the caller sees. Database details go to the logs, never to clients (the API
    /// logs `Backend` and answers with a generic message).
    pub fn into_store(self) -> StoreError {
        match self {
            Self::Store(error) => error,
            Self::Db(error) => db_error(error),
            Self::Changed => StoreError::Unavailable(
                "the data kept changing under the transaction; gave up retrying".into(),
            ),
        }
    }
}

pub fn db_error(error: sqlx::Error) -> StoreError {
    match error {
        sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::Io(_) => {
            StoreError::Unavailable(error.to_string())
        }
        other => StoreError::Backend(describe(&other)),
    }
}

/// A database error without its DETAIL (see [`Error::log_safe`]).
fn describe(error: &sqlx::Error) -> String {
    match error {
        sqlx::Error::Database(error) => format!(
            "SQLSTATE {}: {}",
            error.code().as_deref().unwrap_or("?"),
            error.message()
        ),
        other => other.to_string(),
    }
}

/// A stored document that does not parse: a backend failure, never the client's fault.
pub fn corrupt(what: &str, error: impl std::fmt::Display) -> Error {
    Error::Store(StoreError::Backend(format!(
        "stored {what} unreadable: {error}"
    )))
}

pub fn encode(value: &impl serde::Serialize) -> Result<String> {
    serde_json::to_string(value).map_err(|e| Error::Store(StoreError::Backend(e.to_string())))
}
