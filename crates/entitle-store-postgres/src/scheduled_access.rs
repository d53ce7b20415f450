//! Announcing access that a grant or revoke begins or ends at a set time, when it happens: a
//! grant's scheduled start or end, a revoke's `revoke_at` (spec §5.7, §7). Each override row
//! keeps the time of its next change (`change_due_at`, set when it is written); the worker's
//! tick takes the rows that are due, writes `access_level_updated` for the level if its state
//! did change (created only while an integration wants it), and sets the next time.
//!
//! Every worker of every node calls this. The profiles are locked first (profiles before
//! anything else, as everywhere in this backend), then each override is read again with
//! `SKIP LOCKED` and only if still due: one another worker has just announced no longer is.

use entitle_domain::datetime::Timestamp;
use entitle_domain::events::plan_scheduled_access;
use entitle_domain::{AppId, ProfileId};
use sqlx::{PgConnection, Row};

use crate::codec::micros;
use crate::error::Result;
use crate::outbox::write_events;
use crate::overrides::decode_override;
use crate::profiles;

struct Due {
    app_pk: i64,
    app_id: AppId,
    profile_id: ProfileId,
    level: String,
}

pub async fn announce(conn: &mut PgConnection, now: Timestamp, limit: u32) -> Result<u32> {
    let rows = sqlx::query(
        "SELECT o.app_pk, a.app_id, o.profile_id, o.access_level_id
           FROM access_overrides o JOIN apps a ON a.app_pk = o.app_pk
          WHERE o.change_due_at <= $1 ORDER BY o.change_due_at LIMIT $2",
    )
    .bind(micros(now))
    .bind(i64::from(limit))
    .fetch_all(&mut *conn)
    .await?;
    let mut due = Vec::with_capacity(rows.len());
    for row in rows {
        due.push(Due {
            app_pk: row.try_get(0)?,
            app_id: AppId::from_uuid(row.try_get(1)?),
            profile_id: ProfileId::from_uuid(row.try_get(2)?),
            level: row.try_get(3)?,
        });
    }
    let mut by_app: Vec<(i64, Vec<ProfileId>)> = Vec::new();
    for change in &due {
        match by_app.iter_mut().find(|(app, _)| *app == change.app_pk) {
            Some((_, ids)) => ids.push(change.profile_id),
            None => by_app.push((change.app_pk, vec![change.profile_id])),
        }
    }
    by_app.sort_by_key(|(app, _)| *app);
    for (app_pk, mut ids) in by_app {
        ids.sort();
        ids.dedup();
        profiles::lock_all(conn, app_pk, &ids).await?;
    }

    let mut announced = 0;
    for change in &due {
        // Read again under the profile's lock: a grant or revoke may have rewritten it.
        let still_due: Option<(String, i64)> = sqlx::query_as(
            "SELECT body, change_due_at FROM access_overrides
              WHERE app_pk = $1 AND profile_id = $2 AND access_level_id = $3
                AND change_due_at <= $4
              FOR UPDATE SKIP LOCKED",
        )
        .bind(change.app_pk)
        .bind(change.profile_id.as_uuid())
        .bind(&change.level)
        .bind(micros(now))
        .fetch_optional(&mut *conn)
        .await?;
        let Some((body, due_at)) = still_due else {
            continue;
        };
        let stored = decode_override(&body)?;
        sqlx::query(
            "UPDATE access_overrides SET change_due_at = $4
              WHERE app_pk = $1 AND profile_id = $2 AND access_level_id = $3",
        )
        .bind(change.app_pk)
        .bind(change.profile_id.as_uuid())
        .bind(&change.level)
        .bind(stored.next_change_after(now).map(micros))
        .execute(&mut *conn)
        .await?;
        announced += 1;
        let profile = profiles::load(conn, change.app_id, change.app_pk, change.profile_id).await?;
        let planned = plan_scheduled_access(
            &profile,
            &stored.access_level_id,
            Timestamp::from_unix_micros(due_at),
            now,
            &mut uuid::Uuid::new_v4,
        );
        write_events(conn, change.app_pk, now, planned.into_iter().collect()).await?;
    }
    Ok(announced)
}
