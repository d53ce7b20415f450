//! Conversions between domain values and PostgreSQL columns.

use entitle_domain::datetime::Timestamp;

pub fn micros(at: Timestamp) -> i64 {
    at.unix_micros()
}

pub fn timestamp(micros: i64) -> Timestamp {
    Timestamp::from_unix_micros(micros)
}
