//! Events dated ahead of their write move to the head of the feed once their date has come.
//!
//! The feed is newest first by position, and on SQLite positions are handed out in commit
//! order, so a reader that pages from the top down to the last position it saw misses nothing
//! written since. An event dated ahead (spec §8.5) is hidden until its date: shown then at the
//! position of its write, it would sit below events such a reader has already passed. The
//! worker therefore gives it the next position when its date comes, as if it were written
//! then; its deliveries, which name it by position, go with it.

use entitle_domain::datetime::Timestamp;
use entitle_store::StoreResult;
use rusqlite::{Connection, params};

use crate::codec::{backend, micros};

/// An event waiting for its date, by its key.
struct Waiting {
    app_pk: i64,
    profile_id: Vec<u8>,
    event_seq: i64,
}

pub fn reveal(conn: &Connection, now: Timestamp, limit: u32) -> StoreResult<u32> {
    // Oldest date first, then in the order they were written: the order they became visible.
    let due: Vec<Waiting> = conn
        .prepare_cached(
            "SELECT app_pk, profile_id, event_seq FROM events
              WHERE hidden_until IS NOT NULL AND hidden_until <= ?1
              ORDER BY hidden_until, event_seq LIMIT ?2",
        )
        .map_err(backend)?
        .query_map(params![micros(now), limit], |row| {
            Ok(Waiting {
                app_pk: row.get(0)?,
                profile_id: row.get(1)?,
                event_seq: row.get(2)?,
            })
        })
        .map_err(backend)?
        .collect::<Result<_, _>>()
        .map_err(backend)?;
    for event in &due {
        let position = crate::outbox::next_position(conn, event.app_pk)?;
        let key = params![event.app_pk, event.profile_id, event.event_seq, position];
        conn.prepare_cached(
            "UPDATE events SET event_seq = ?4, hidden_until = NULL
              WHERE app_pk = ?1 AND profile_id = ?2 AND event_seq = ?3",
        )
        .map_err(backend)?
        .execute(key)
        .map_err(backend)?;
        conn.prepare_cached(
            "UPDATE deliveries SET event_seq = ?4
              WHERE app_pk = ?1 AND profile_id = ?2 AND event_seq = ?3",
        )
        .map_err(backend)?
        .execute(key)
        .map_err(backend)?;
    }
    Ok(due.len() as u32)
}
