//! Reading the deletion audit trail.

use entitle_domain::datetime::Timestamp;
use entitle_domain::{AppId, KeyId, ProfileId};
use entitle_store::{DeletedBy, DeletionCounts, DeletionRecord, DeletionRecordPage};
use sqlx::{PgConnection, Row};

use crate::apps::app_pk;
use crate::codec::{micros, timestamp};
use crate::error::{Result, corrupt};

/// The keyed hash a deletion record holds instead of the profile id.
pub async fn profile_hash(
    conn: &mut PgConnection,
    app_pk: i64,
    profile_id: ProfileId,
) -> Result<[u8; 32]> {
    crate::apps::record_hash(conn, app_pk, profile_id.as_bytes()).await
}

/// Whether a profile with this id was deleted from the app.
pub async fn was_deleted(
    conn: &mut PgConnection,
    app_pk: i64,
    profile_id: ProfileId,
) -> Result<bool> {
    let profile_hash = profile_hash(conn, app_pk, profile_id).await?;
    Ok(sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM deletion_records WHERE app_pk = $1 AND profile_hash = $2)",
    )
    .bind(app_pk)
    .bind(profile_hash.as_slice())
    .fetch_one(conn)
    .await?)
}

pub async fn list(
    conn: &mut PgConnection,
    app: AppId,
    since: Option<Timestamp>,
    after: Option<i64>,
    limit: u32,
) -> Result<DeletionRecordPage> {
    // An unknown app is `AppNotFound`, and a failed read an error: neither an empty page.
    let app_pk = app_pk(conn, app).await?;
    let limit = limit.clamp(1, 1000);
    let rows = sqlx::query(
        "SELECT deletion_seq, deletion_id, deleted_at, deleted_by, deleted_by_kind, profile_hash,
                counts
           FROM deletion_records
          WHERE app_pk = $1 AND deletion_seq > $2 AND deleted_at >= $3
          ORDER BY deletion_seq LIMIT $4",
    )
    .bind(app_pk)
    .bind(after.unwrap_or(0))
    .bind(since.map_or(i64::MIN, micros))
    .bind(i64::from(limit) + 1)
    .fetch_all(conn)
    .await?;
    let mut records = Vec::with_capacity(rows.len());
    for row in rows {
        let who: uuid::Uuid = row.try_get(3)?;
        let kind: String = row.try_get(4)?;
        let hash: Vec<u8> = row.try_get(5)?;
        let counts: String = row.try_get(6)?;
        let counts =
            DeletionCounts::from_document(&counts).map_err(|e| corrupt("deletion counts", e))?;
        records.push(DeletionRecord {
            position: row.try_get(0)?,
            deletion_id: row.try_get(1)?,
            deleted_at: timestamp(row.try_get(2)?),
            deleted_by: if kind == "job" {
                DeletedBy::Job(who)
            } else {
                DeletedBy::Key(KeyId::from_uuid(who))
            },
            profile_hash: hash
                .try_into()
                .map_err(|_| corrupt("profile hash", "not 32 bytes"))?,
            counts,
        });
    }
    let next = if records.len() > limit as usize {
        records.truncate(limit as usize);
        records.last().map(|r| r.position)
    } else {
        None
    };
    Ok(DeletionRecordPage { records, next })
}
