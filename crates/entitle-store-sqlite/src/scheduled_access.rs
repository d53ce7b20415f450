//! Announcing access that a grant or revoke begins or ends at a set time, when it happens: a
//! grant's scheduled start or end, a revoke's `revoke_at` (spec §5.7, §7). Each override row
//! keeps the time of its next change (`change_due_at`, set when it is written); the worker's
//! tick takes the rows that are due, writes `access_level_updated` for the level if its state
//! did change (created only while an integration wants it), and sets the next time.

use entitle_domain::datetime::Timestamp;
use entitle_domain::events::plan_scheduled_access;
use entitle_domain::purchase::AccessOverride;
use entitle_domain::{AppId, ProfileId};
use entitle_store::StoreResult;
use rusqlite::{Connection, params};

use crate::codec::{backend, micros, timestamp, uuid_column};
use crate::{profiles, purchases};

struct Due {
    app_pk: i64,
    app_id: AppId,
    profile_id: ProfileId,
    stored: AccessOverride,
    due_at: Timestamp,
}

pub fn announce(conn: &Connection, now: Timestamp, limit: u32) -> StoreResult<u32> {
    let due: Vec<Due> = conn
        .prepare_cached(
            "SELECT o.app_pk, a.app_id, o.profile_id, o.body, o.change_due_at
               FROM access_overrides o JOIN apps a ON a.app_pk = o.app_pk
              WHERE o.change_due_at <= ?1 ORDER BY o.change_due_at LIMIT ?2",
        )
        .map_err(backend)?
        .query_map(params![micros(now), limit], |row| {
            Ok((
                row.get::<_, i64>(0)?,
                AppId::from_uuid(uuid_column(row, 1)?),
                ProfileId::from_uuid(uuid_column(row, 2)?),
                row.get::<_, String>(3)?,
                timestamp(row.get(4)?),
            ))
        })
        .map_err(backend)?
        .map(|row| {
            let (app_pk, app_id, profile_id, body, due_at) = row.map_err(backend)?;
            Ok(Due {
                app_pk,
                app_id,
                profile_id,
                stored: purchases::decode_override(&body)?,
                due_at,
            })
        })
        .collect::<StoreResult<_>>()?;
    for change in &due {
        let level = &change.stored.access_level_id;
        conn.prepare_cached(
            "UPDATE access_overrides SET change_due_at = ?4
              WHERE app_pk = ?1 AND profile_id = ?2 AND access_level_id = ?3",
        )
        .map_err(backend)?
        .execute(params![
            change.app_pk,
            change.profile_id.as_bytes(),
            level.as_str(),
            change.stored.next_change_after(now).map(micros)
        ])
        .map_err(backend)?;
        let profile = profiles::load(conn, change.app_id, change.app_pk, change.profile_id)?;
        let planned =
            plan_scheduled_access(&profile, level, change.due_at, now, &mut uuid::Uuid::new_v4);
        purchases::write_events(conn, change.app_pk, now, planned.into_iter().collect())?;
    }
    Ok(due.len() as u32)
}
