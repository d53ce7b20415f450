//! Consistency checks over a database file: rows that belong to nothing. A deletion that was
//! only half applied would leave some of these behind; tests run this after crashes.

use std::path::Path;

use entitle_store::StoreResult;

use crate::codec::backend;
use crate::{connection, slots};

/// `NOT EXISTS` a profile of (`app`, `id`), two SQL expressions of the outer query: the slot
/// is computed in SQL by the function [`slots::register`] adds.
fn no_profile(app: &str, id: &str) -> String {
    let row = slots::matching(app, id, &format!("profile_slot({app}, {id})"));
    format!("NOT EXISTS (SELECT 1 FROM profiles WHERE {row})")
}

/// Each check: what it finds, and the query counting it.
fn checks() -> Vec<(&'static str, String)> {
    vec![
        (
            "inheritor links of profiles that do not exist",
            format!(
                "SELECT COUNT(*) FROM chain_inheritors i WHERE {}",
                no_profile("i.app_pk", "i.profile_id")
            ),
        ),
        (
            "chains owned by profiles that do not exist",
            format!(
                "SELECT COUNT(*) FROM chains c WHERE c.owner_profile_id IS NOT NULL AND {}",
                no_profile("c.app_pk", "c.owner_profile_id")
            ),
        ),
        (
            "grants or revokes of profiles that do not exist",
            format!(
                "SELECT COUNT(*) FROM access_overrides o WHERE {}",
                no_profile("o.app_pk", "o.profile_id")
            ),
        ),
        (
            "events of profiles that do not exist (other than profile_deleted)",
            format!(
                "SELECT COUNT(*) FROM events e WHERE e.event_type <> 'profile_deleted' AND {}",
                no_profile("e.app_pk", "e.profile_id")
            ),
        ),
        (
            "event payloads of events that do not exist",
            "SELECT COUNT(*) FROM event_bodies WHERE body_pk NOT IN (SELECT body_pk FROM events)".to_owned(),
        ),
        (
            "mentions in event payloads that do not exist",
            "SELECT COUNT(*) FROM sharing_mentions m
          WHERE NOT EXISTS (SELECT 1 FROM event_bodies b WHERE b.body_pk = m.body_pk)".to_owned(),
        ),
        (
            "mentions of profiles that do not exist",
            format!(
                "SELECT COUNT(*) FROM sharing_mentions m WHERE {}",
                no_profile("m.app_pk", "m.profile_id")
            ),
        ),
        (
            "deliveries of events that do not exist",
            "SELECT COUNT(*) FROM deliveries d
          WHERE NOT EXISTS (SELECT 1 FROM events e
                             WHERE e.app_pk = d.app_pk AND e.profile_id = d.profile_id AND e.event_seq = d.event_seq)".to_owned(),
        ),
        (
            "delivery attempts of deliveries that do not exist",
            "SELECT COUNT(*) FROM delivery_attempts a
          WHERE NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.delivery_pk = a.delivery_pk)".to_owned(),
        ),
        (
            "transaction ids of chains that do not exist",
            "SELECT COUNT(*) FROM transaction_ids t
          WHERE NOT EXISTS (SELECT 1 FROM chains c WHERE c.chain_pk = t.chain_pk)".to_owned(),
        ),
    ]
}

/// Problems found in the database at `path`, as sentences; empty when it is consistent.
pub fn check(path: &Path) -> StoreResult<Vec<String>> {
    let conn = connection::open_reader(path)?;
    slots::register(&conn)?;
    let mut problems = Vec::new();
    for (what, query) in checks() {
        let count: i64 = conn
            .query_row(&query, [], |row| row.get(0))
            .map_err(backend)?;
        if count > 0 {
            problems.push(format!("{count} {what}"));
        }
    }
    let quick: String = conn
        .query_row("PRAGMA quick_check", [], |row| row.get(0))
        .map_err(backend)?;
    if quick != "ok" {
        problems.push(format!("SQLite quick_check: {quick}"));
    }
    Ok(problems)
}
