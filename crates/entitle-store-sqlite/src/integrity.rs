//! Consistency checks over a database file: rows that belong to nothing. A deletion that was
//! only half applied would leave some of these behind; tests run this after crashes.

use std::path::Path;

use entitle_store::StoreResult;

use crate::codec::backend;
use crate::connection;

// The checks spell out a profile's probe range (`slots.rs`): its slot to its slot + 15.
const _: () = assert!(crate::slots::PROBES == 16);

/// Each check: what it finds, and the query counting it.
const CHECKS: &[(&str, &str)] = &[
    (
        "inheritor links of profiles that do not exist",
        "SELECT COUNT(*) FROM chain_inheritors i
          WHERE NOT EXISTS (SELECT 1 FROM profiles p WHERE p.profile_slot BETWEEN profile_slot(i.app_pk, i.profile_id) AND profile_slot(i.app_pk, i.profile_id) + 15 AND p.app_pk = i.app_pk AND p.profile_id = i.profile_id)",
    ),
    (
        "chains owned by profiles that do not exist",
        "SELECT COUNT(*) FROM chains c
          WHERE c.owner_profile_id IS NOT NULL
            AND NOT EXISTS (SELECT 1 FROM profiles p WHERE p.profile_slot BETWEEN profile_slot(c.app_pk, c.owner_profile_id) AND profile_slot(c.app_pk, c.owner_profile_id) + 15 AND p.app_pk = c.app_pk AND p.profile_id = c.owner_profile_id)",
    ),
    (
        "grants or revokes of profiles that do not exist",
        "SELECT COUNT(*) FROM access_overrides o
          WHERE NOT EXISTS (SELECT 1 FROM profiles p WHERE p.profile_slot BETWEEN profile_slot(o.app_pk, o.profile_id) AND profile_slot(o.app_pk, o.profile_id) + 15 AND p.app_pk = o.app_pk AND p.profile_id = o.profile_id)",
    ),
    (
        "events of profiles that do not exist (other than profile_deleted)",
        "SELECT COUNT(*) FROM events e
          WHERE e.event_type <> 'profile_deleted'
            AND NOT EXISTS (SELECT 1 FROM profiles p WHERE p.profile_slot BETWEEN profile_slot(e.app_pk, e.profile_id) AND profile_slot(e.app_pk, e.profile_id) + 15 AND p.app_pk = e.app_pk AND p.profile_id = e.profile_id)",
    ),
    (
        "event payloads of events that do not exist",
        "SELECT COUNT(*) FROM event_bodies WHERE body_pk NOT IN (SELECT body_pk FROM events)",
    ),
    (
        "deliveries of events that do not exist",
        "SELECT COUNT(*) FROM deliveries d
          WHERE NOT EXISTS (SELECT 1 FROM events e
                             WHERE e.app_pk = d.app_pk AND e.profile_id = d.profile_id AND e.event_seq = d.event_seq)",
    ),
    (
        "delivery attempts of deliveries that do not exist",
        "SELECT COUNT(*) FROM delivery_attempts a
          WHERE NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.delivery_pk = a.delivery_pk)",
    ),
    (
        "transaction ids of chains that do not exist",
        "SELECT COUNT(*) FROM transaction_ids t
          WHERE NOT EXISTS (SELECT 1 FROM chains c WHERE c.chain_pk = t.chain_pk)",
    ),
];

/// Problems found in the database at `path`, as sentences; empty when it is consistent.
pub fn check(path: &Path) -> StoreResult<Vec<String>> {
    let conn = connection::open_reader(path)?;
    crate::slots::register(&conn)?;
    let mut problems = Vec::new();
    for (what, query) in CHECKS {
        let count: i64 = conn
            .query_row(query, [], |row| row.get(0))
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
