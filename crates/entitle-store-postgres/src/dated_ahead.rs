//! Events dated ahead of their write move to the head of the feed once their date has come.
//!
//! An event dated ahead (spec §8.5) is hidden until its date. Shown then at the position of its
//! write, it would sit below events a reader paging down from the newest has already passed,
//! so the worker gives it the next position when its date comes, as if it were written then;
//! its deliveries and sharing mentions, which name it by position, go with it.
//!
//! Every worker of every node calls this. Rewriting an event is writing events about its
//! profile, so the profiles are locked first (`profiles.rs`); an event another worker moved
//! meanwhile no longer waits (`hidden_until` is NULL) and is passed over.

use std::collections::BTreeMap;

use entitle_domain::ProfileId;
use entitle_domain::datetime::Timestamp;
use sqlx::{PgConnection, Row};

use crate::codec::micros;
use crate::error::Result;
use crate::profiles;

/// An event waiting for its date, by its key.
struct Waiting {
    app_pk: i64,
    profile_id: ProfileId,
    event_seq: i64,
}

pub async fn reveal(conn: &mut PgConnection, now: Timestamp, limit: u32) -> Result<u32> {
    // Oldest date first, then in the order they were written: the order they became visible.
    let rows = sqlx::query(
        "SELECT app_pk, profile_id, event_seq FROM events
          WHERE hidden_until IS NOT NULL AND hidden_until <= $1
          ORDER BY hidden_until, event_seq LIMIT $2",
    )
    .bind(micros(now))
    .bind(i64::from(limit))
    .fetch_all(&mut *conn)
    .await?;
    let due = rows
        .iter()
        .map(|row| {
            Ok(Waiting {
                app_pk: row.try_get(0)?,
                profile_id: ProfileId::from_uuid(row.try_get(1)?),
                event_seq: row.try_get(2)?,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    let mut profiles_by_app: BTreeMap<i64, Vec<ProfileId>> = BTreeMap::new();
    for event in &due {
        profiles_by_app
            .entry(event.app_pk)
            .or_default()
            .push(event.profile_id);
    }
    for (app_pk, mut ids) in profiles_by_app {
        ids.sort();
        ids.dedup();
        profiles::lock_all(conn, app_pk, &ids).await?;
    }
    let mut moved = 0;
    for event in &due {
        let position: Option<i64> = sqlx::query_scalar(
            "UPDATE events SET event_seq = nextval('event_positions'), hidden_until = NULL
              WHERE app_pk = $1 AND profile_id = $2 AND event_seq = $3
                AND hidden_until IS NOT NULL
             RETURNING event_seq",
        )
        .bind(event.app_pk)
        .bind(event.profile_id.as_uuid())
        .bind(event.event_seq)
        .fetch_optional(&mut *conn)
        .await?;
        let Some(position) = position else {
            continue;
        };
        sqlx::query(
            "UPDATE deliveries SET event_seq = $4
              WHERE app_pk = $1 AND profile_id = $2 AND event_seq = $3",
        )
        .bind(event.app_pk)
        .bind(event.profile_id.as_uuid())
        .bind(event.event_seq)
        .bind(position)
        .execute(&mut *conn)
        .await?;
        sqlx::query(
            "UPDATE sharing_mentions SET event_seq = $3 WHERE app_pk = $1 AND event_seq = $2",
        )
        .bind(event.app_pk)
        .bind(event.event_seq)
        .bind(position)
        .execute(&mut *conn)
        .await?;
        moved += 1;
    }
    Ok(moved)
}
