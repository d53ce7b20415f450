//! Reading the deletion audit trail.

use entitle_domain::datetime::Timestamp;
use entitle_domain::{AppId, KeyId, ProfileId};
use entitle_store::{
    DeletedBy, DeletionCounts, DeletionRecord, DeletionRecordPage, StoreError, StoreResult,
};
use rusqlite::{Connection, params};

use crate::apps::app_pk;
use crate::codec::{backend, micros, timestamp, uuid_column};

/// The keyed hash a deletion record holds instead of the profile id.
pub fn profile_hash(
    conn: &Connection,
    app_pk: i64,
    profile_id: ProfileId,
) -> StoreResult<[u8; 32]> {
    crate::apps::record_hash(conn, app_pk, profile_id.as_bytes())
}

/// Whether a profile with this id was deleted from the app.
pub fn was_deleted(conn: &Connection, app_pk: i64, profile_id: ProfileId) -> StoreResult<bool> {
    conn.prepare_cached(
        "SELECT EXISTS (SELECT 1 FROM deletion_records WHERE app_pk = ?1 AND profile_hash = ?2)",
    )
    .map_err(backend)?
    .query_row(
        params![app_pk, profile_hash(conn, app_pk, profile_id)?],
        |row| row.get(0),
    )
    .map_err(backend)
}

pub fn list(
    conn: &Connection,
    app: AppId,
    since: Option<Timestamp>,
    after: Option<i64>,
    limit: u32,
) -> StoreResult<DeletionRecordPage> {
    // An unknown app is `AppNotFound`, and a failed read an error: neither an empty page.
    let app_pk = app_pk(conn, app)?;
    let limit = limit.clamp(1, 1000);
    let mut statement = conn
        .prepare_cached(
            "SELECT deletion_seq, deletion_id, deleted_at, deleted_by, deleted_by_kind, profile_hash, counts
               FROM deletion_records
              WHERE app_pk = ?1 AND deletion_seq > ?2 AND deleted_at >= ?3
              ORDER BY deletion_seq LIMIT ?4",
        )
        .map_err(backend)?;
    let rows = statement
        .query_map(
            params![
                app_pk,
                after.unwrap_or(0),
                since.map_or(i64::MIN, micros),
                i64::from(limit) + 1
            ],
            |row| {
                Ok((
                    row.get::<_, i64>(0)?,
                    uuid_column(row, 1)?,
                    row.get::<_, i64>(2)?,
                    uuid_column(row, 3)?,
                    row.get::<_, String>(4)?,
                    row.get::<_, [u8; 32]>(5)?,
                    row.get::<_, String>(6)?,
                ))
            },
        )
        .map_err(backend)?;
    let mut records = Vec::new();
    for row in rows {
        let (position, deletion_id, deleted_at, who, kind, profile_hash, counts) =
            row.map_err(backend)?;
        let counts = DeletionCounts::from_document(&counts)
            .map_err(|e| StoreError::Backend(e.to_string()))?;
        records.push(DeletionRecord {
            position,
            deletion_id,
            deleted_at: timestamp(deleted_at),
            deleted_by: if kind == "job" {
                DeletedBy::Job(who)
            } else {
                DeletedBy::Key(KeyId::from_uuid(who))
            },
            profile_hash,
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
