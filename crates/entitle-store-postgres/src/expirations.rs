//! Announcing the end of subscription periods when it happens.
//!
//! Every worker of every node calls this. The holders of the due chains are locked first
//! (profiles before chains, as everywhere in this backend), then the chains themselves with
//! `SKIP LOCKED`: a chain another worker or a purchase is busy with is left for a later round,
//! and a chain whose end was already announced no longer matches `expiry_due_at <= now`.

use std::collections::HashMap;

use entitle_domain::datetime::Timestamp;
use entitle_domain::events::{Touched, plan_expiry};
use entitle_domain::{AppId, ProfileId};
use sqlx::{PgConnection, Row};

use crate::chains::{self, ChainRow};
use crate::codec::micros;
use crate::error::Result;
use crate::outbox::write_events;
use crate::profiles;
use crate::purchases::stored_chain;

struct Due {
    chain_pk: i64,
    app_pk: i64,
    app_id: AppId,
    store: String,
    original_transaction_id: String,
    seen: ChainRow,
}

pub async fn announce(conn: &mut PgConnection, now: Timestamp, limit: u32) -> Result<u32> {
    let rows = sqlx::query(
        "SELECT c.chain_pk, c.app_pk, a.app_id, c.store, c.original_transaction_id
           FROM chains c JOIN apps a ON a.app_pk = c.app_pk
          WHERE c.expiry_due_at <= $1 ORDER BY c.expiry_due_at, c.chain_pk LIMIT $2",
    )
    .bind(micros(now))
    .bind(i64::from(limit))
    .fetch_all(&mut *conn)
    .await?;
    if rows.is_empty() {
        return Ok(0);
    }
    let mut due = Vec::with_capacity(rows.len());
    for row in rows {
        let chain_pk: i64 = row.try_get(0)?;
        let Some(seen) = chains::read_by_pk(conn, chain_pk).await? else {
            continue;
        };
        due.push(Due {
            chain_pk,
            app_pk: row.try_get(1)?,
            app_id: AppId::from_uuid(row.try_get(2)?),
            store: row.try_get(3)?,
            original_transaction_id: row.try_get(4)?,
            seen,
        });
    }

    let mut locked_profiles: HashMap<i64, HashMap<ProfileId, profiles::Row>> = HashMap::new();
    let mut holders_by_app: Vec<(i64, Vec<ProfileId>)> = Vec::new();
    for chain in &due {
        match holders_by_app
            .iter_mut()
            .find(|(app, _)| *app == chain.app_pk)
        {
            Some((_, ids)) => ids.extend(chain.seen.holders()),
            None => holders_by_app.push((chain.app_pk, chain.seen.holders())),
        }
    }
    holders_by_app.sort_by_key(|(app, _)| *app);
    for (app_pk, mut ids) in holders_by_app {
        ids.sort();
        ids.dedup();
        locked_profiles.insert(app_pk, profiles::lock_all(conn, app_pk, &ids).await?);
    }

    let pks: Vec<i64> = due.iter().map(|chain| chain.chain_pk).collect();
    let claimed: Vec<i64> = sqlx::query_scalar(
        "SELECT chain_pk FROM chains WHERE chain_pk = ANY($1) AND expiry_due_at <= $2
          ORDER BY chain_pk FOR UPDATE SKIP LOCKED",
    )
    .bind(&pks)
    .bind(micros(now))
    .fetch_all(&mut *conn)
    .await?;

    let mut announced = 0;
    for chain in due.iter().filter(|chain| claimed.contains(&chain.chain_pk)) {
        // Holders changed between the first read and the locks: leave it for the next round,
        // which locks the right profiles.
        let Some(row) = chains::read_by_pk(conn, chain.chain_pk).await? else {
            continue;
        };
        if row.owner != chain.seen.owner || row.inheritors != chain.seen.inheritors {
            continue;
        }
        sqlx::query("UPDATE chains SET expiry_due_at = NULL WHERE chain_pk = $1")
            .bind(chain.chain_pk)
            .execute(&mut *conn)
            .await?;
        announced += 1;
        let locked = &locked_profiles[&chain.app_pk];
        let key = chains::chain_key(&chain.store, chain.original_transaction_id.clone())?;
        let stored = stored_chain(key, Some(&row), locked)?;
        let Some(ended_at) = stored.chain.period_end() else {
            continue;
        };
        let holders = stored.ownership.participants();
        let mut after = Vec::with_capacity(holders.len());
        for id in &holders {
            after.push(profiles::load(conn, chain.app_id, chain.app_pk, *id).await?);
        }
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
        write_events(conn, chain.app_pk, now, planned).await?;
    }
    Ok(announced)
}

/// The ends of subscription periods, then the grants' and revokes' scheduled changes
/// (`scheduled_access.rs`), in one transaction; returns how many of each were announced.
pub async fn announce_all(conn: &mut PgConnection, now: Timestamp, limit: u32) -> Result<u32> {
    let periods = announce(conn, now, limit).await?;
    Ok(periods + crate::scheduled_access::announce(conn, now, limit).await?)
}
