//! Announcing the end of subscription periods when it happens.

use entitle_domain::AppId;
use entitle_domain::datetime::Timestamp;
use entitle_domain::events::{Touched, plan_expiry};
use entitle_domain::purchase::{ChainKey, StoreId};
use entitle_store::{StoreError, StoreResult};
use rusqlite::{Connection, params};

use crate::codec::{backend, micros, uuid_column};
use crate::{chains, profiles, purchases};

struct Due {
    chain_pk: i64,
    app_pk: i64,
    app_id: AppId,
    key: ChainKey,
}

pub fn announce(conn: &Connection, now: Timestamp, limit: u32) -> StoreResult<u32> {
    let due: Vec<Due> = conn
        .prepare_cached(
            "SELECT c.chain_pk, c.app_pk, a.app_id, c.store, c.original_transaction_id
               FROM chains c JOIN apps a ON a.app_pk = c.app_pk
              WHERE c.expiry_due_at <= ?1 ORDER BY c.expiry_due_at LIMIT ?2",
        )
        .map_err(backend)?
        .query_map(params![micros(now), limit], |row| {
            Ok((
                row.get(0)?,
                row.get(1)?,
                AppId::from_uuid(uuid_column(row, 2)?),
                row.get::<_, String>(3)?,
                row.get(4)?,
            ))
        })
        .map_err(backend)?
        .map(|row| {
            let (chain_pk, app_pk, app_id, store, original) = row.map_err(backend)?;
            let store = StoreId::parse(&store)
                .ok_or_else(|| StoreError::Backend("stored store id invalid".into()))?;
            Ok(Due {
                chain_pk,
                app_pk,
                app_id,
                key: ChainKey {
                    store,
                    original_transaction_id: original,
                },
            })
        })
        .collect::<StoreResult<_>>()?;
    for chain in &due {
        conn.prepare_cached("UPDATE chains SET expiry_due_at = NULL WHERE chain_pk = ?1")
            .map_err(backend)?
            .execute([chain.chain_pk])
            .map_err(backend)?;
        let stored = chains::load(conn, chain.app_pk, &chain.key)?;
        let Some(ended_at) = stored.chain.period_end() else {
            continue;
        };
        let holders = stored.ownership.participants();
        let after = holders
            .iter()
            .map(|id| profiles::load(conn, chain.app_id, chain.app_pk, *id))
            .collect::<StoreResult<Vec<_>>>()?;
        let touched: Vec<Touched<'_>> = after
            .iter()
            .map(|profile| Touched {
                after: profile,
                before: &profile.purchases,
            })
            .collect();
        let planned = plan_expiry(
            &stored.chain,
            &stored.ownership,
            &touched,
            ended_at,
            now,
            &mut uuid::Uuid::new_v4,
        );
        purchases::write_events(conn, chain.app_pk, now, planned)?;
    }
    Ok(due.len() as u32)
}
