//! Which due deliveries a worker's claim takes: the oldest due, but at most `per_endpoint` in
//! flight to any one integration (across every worker), so that an endpoint slow to answer can
//! fill only its own share of the workers' slots. Due retries past the cut-offs (spec §9.6) are
//! given up on the way instead of being taken.

use entitle_domain::datetime::Timestamp;
use entitle_domain::events::RetryCutOffs;
use entitle_store::StoreResult;
use rusqlite::{Connection, params};

use crate::codec::{backend, micros};

/// Rounds of giving up per integration and claim: bounds one claim's work when an endpoint has
/// a long run of due retries to give up; the rest go at the next claims.
const GIVE_UP_ROUNDS: usize = 8;

/// An integration with due deliveries, as a claim sees it.
struct Endpoint {
    integration_pk: i64,
    failing_since: Option<i64>,
    in_flight: u32,
}

struct Due {
    delivery_pk: i64,
    next_attempt_at: i64,
    attempts: u32,
    created_at: i64,
}

/// The deliveries to lease, oldest due first, at most `limit`.
pub fn choose(
    conn: &Connection,
    now: Timestamp,
    limit: u32,
    per_endpoint: u32,
    cut_offs: RetryCutOffs,
) -> StoreResult<Vec<i64>> {
    let mut chosen: Vec<(i64, i64)> = Vec::new();
    for endpoint in endpoints_with_due_work(conn, now)? {
        let room = per_endpoint.saturating_sub(endpoint.in_flight).min(limit);
        if room == 0 {
            continue;
        }
        let circuit_open = endpoint
            .failing_since
            .is_some_and(|since| since <= micros(cut_offs.failing_since_by));
        let beyond_cut_off = |d: &Due| {
            d.attempts > 0 && (circuit_open || d.created_at <= micros(cut_offs.created_by))
        };
        let mut taken: Vec<i64> = Vec::new();
        for _ in 0..GIVE_UP_ROUNDS {
            // Those taken in an earlier round are still due (they are leased only at the end),
            // so they come back in front of the rest and are passed over.
            let due = oldest_due(conn, endpoint.integration_pk, now, room)?;
            let exhausted = due.len() < room as usize;
            let (give_up, fresh): (Vec<Due>, Vec<Due>) = due
                .into_iter()
                .filter(|d| !taken.contains(&d.delivery_pk))
                .partition(|d| beyond_cut_off(d));
            for d in &fresh {
                taken.push(d.delivery_pk);
                chosen.push((d.next_attempt_at, d.delivery_pk));
            }
            give_up_retries(conn, &give_up)?;
            if give_up.is_empty() || exhausted || taken.len() as u32 >= room {
                break;
            }
        }
    }
    chosen.sort_unstable();
    chosen.truncate(limit as usize);
    Ok(chosen.into_iter().map(|(_, pk)| pk).collect())
}

fn endpoints_with_due_work(conn: &Connection, now: Timestamp) -> StoreResult<Vec<Endpoint>> {
    conn.prepare_cached(
        "SELECT i.integration_pk, i.failing_since,
                (SELECT COUNT(*) FROM deliveries l
                  WHERE l.integration_pk = i.integration_pk AND l.lease_until > ?1)
           FROM integrations i
          WHERE i.removed_at IS NULL
            AND EXISTS (SELECT 1 FROM deliveries d
                         WHERE d.integration_pk = i.integration_pk AND d.status = 'pending'
                           AND d.next_attempt_at <= ?1
                           AND (d.lease_until IS NULL OR d.lease_until <= ?1))",
    )
    .map_err(backend)?
    .query_map([micros(now)], |row| {
        Ok(Endpoint {
            integration_pk: row.get(0)?,
            failing_since: row.get(1)?,
            in_flight: row.get(2)?,
        })
    })
    .map_err(backend)?
    .collect::<Result<_, _>>()
    .map_err(backend)
}

fn oldest_due(
    conn: &Connection,
    integration_pk: i64,
    now: Timestamp,
    limit: u32,
) -> StoreResult<Vec<Due>> {
    conn.prepare_cached(
        "SELECT delivery_pk, next_attempt_at, attempts, created_at FROM deliveries
          WHERE integration_pk = ?1 AND status = 'pending' AND next_attempt_at <= ?2
            AND (lease_until IS NULL OR lease_until <= ?2)
          ORDER BY next_attempt_at LIMIT ?3",
    )
    .map_err(backend)?
    .query_map(params![integration_pk, micros(now), limit], |row| {
        Ok(Due {
            delivery_pk: row.get(0)?,
            next_attempt_at: row.get(1)?,
            attempts: row.get(2)?,
            created_at: row.get(3)?,
        })
    })
    .map_err(backend)?
    .collect::<Result<_, _>>()
    .map_err(backend)
}

fn give_up_retries(conn: &Connection, retries: &[Due]) -> StoreResult<()> {
    let mut statement = conn
        .prepare_cached(
            "UPDATE deliveries SET status = 'failed', next_attempt_at = NULL,
                    lease_owner = NULL, lease_until = NULL
              WHERE delivery_pk = ?1",
        )
        .map_err(backend)?;
    for retry in retries {
        statement.execute([retry.delivery_pk]).map_err(backend)?;
    }
    Ok(())
}
