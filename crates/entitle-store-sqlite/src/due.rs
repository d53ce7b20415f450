//! Which due deliveries a worker's claim takes: the oldest due, but at most `per_endpoint` in
//! flight to any one integration (across every worker), so that an endpoint slow to answer can
//! fill only its own share of the workers' slots. Due retries past the cut-offs (spec §9.6) are
//! given up on the way instead of being taken.

use entitle_domain::datetime::Timestamp;
use entitle_domain::events::RetryCutOffs;
use entitle_store::ClaimLimits;
use entitle_store::StoreResult;
use entitle_store::claims::{DueDelivery, EndpointPick, oldest_due_first};
use rusqlite::{Connection, params};

use crate::codec::{backend, micros, timestamp};

/// An integration with due deliveries, as a claim sees it.
struct Endpoint {
    integration_pk: i64,
    failing_since: Option<i64>,
    in_flight: u32,
}

/// The deliveries to lease, oldest due first, within `limits`.
pub fn choose(
    conn: &Connection,
    now: Timestamp,
    limits: ClaimLimits,
    cut_offs: RetryCutOffs,
) -> StoreResult<Vec<i64>> {
    let mut taken = Vec::new();
    for endpoint in endpoints_with_due_work(conn, now)? {
        let room = limits.room(endpoint.in_flight);
        let failing_since = endpoint.failing_since.map(timestamp);
        let mut pick = EndpointPick::new(room, failing_since, cut_offs);
        while let Some(fetch) = pick.next_fetch() {
            let due = oldest_due(conn, endpoint.integration_pk, now, fetch)?;
            give_up_retries(conn, &pick.absorb(due))?;
        }
        taken.extend(pick.into_taken());
    }
    Ok(oldest_due_first(taken, limits.total))
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
) -> StoreResult<Vec<DueDelivery>> {
    conn.prepare_cached(
        "SELECT delivery_pk, next_attempt_at, attempts, created_at FROM deliveries
          WHERE integration_pk = ?1 AND status = 'pending' AND next_attempt_at <= ?2
            AND (lease_until IS NULL OR lease_until <= ?2)
          ORDER BY next_attempt_at LIMIT ?3",
    )
    .map_err(backend)?
    .query_map(params![integration_pk, micros(now), limit], |row| {
        Ok(DueDelivery {
            delivery_pk: row.get(0)?,
            next_attempt_at: timestamp(row.get(1)?),
            attempts: row.get(2)?,
            created_at: timestamp(row.get(3)?),
        })
    })
    .map_err(backend)?
    .collect::<Result<_, _>>()
    .map_err(backend)
}

fn give_up_retries(conn: &Connection, retries: &[i64]) -> StoreResult<()> {
    let mut statement = conn
        .prepare_cached(
            "UPDATE deliveries SET status = 'failed', next_attempt_at = NULL,
                    lease_owner = NULL, lease_until = NULL
              WHERE delivery_pk = ?1",
        )
        .map_err(backend)?;
    for delivery_pk in retries {
        statement.execute([delivery_pk]).map_err(backend)?;
    }
    Ok(())
}
