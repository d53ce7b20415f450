//! Bulk deletion jobs: a job's items are claimed under a lease and each is deleted and recorded
//! in one transaction, so a job survives restarts and no item is deleted twice.

use std::time::Duration;

use entitle_domain::datetime::Timestamp;
use entitle_domain::resolve::ProfileRef;
use entitle_domain::{AppId, CustomerUserId, ProfileId};
use entitle_store::{
    ClaimedItem, DeletedBy, DeletionJob, ItemOutcome, JobCounts, JobItem, JobTarget, StoreError,
    StoreResult,
};
use rusqlite::{Connection, OptionalExtension, params};

use crate::apps::app_pk;
use crate::codec::{backend, micros, timestamp, uuid_column};
use crate::profiles;

/// Keyed hash of the list, so the same list finds the same job without storing it twice.
fn fingerprint(conn: &Connection, app_pk: i64, items: &[JobTarget]) -> StoreResult<[u8; 32]> {
    let mut list = Vec::new();
    for item in items {
        list.extend_from_slice(item.kind().as_bytes());
        list.push(0);
        list.extend_from_slice(value(item).as_bytes());
        list.push(0);
    }
    crate::apps::record_hash(conn, app_pk, &list)
}

fn value(target: &JobTarget) -> String {
    match target {
        JobTarget::CustomerUserId(cuid) => cuid.as_str().to_owned(),
        JobTarget::ProfileId(id) => id.to_string(),
    }
}

pub fn create(
    conn: &Connection,
    app: AppId,
    items: &[JobTarget],
    at: Timestamp,
) -> StoreResult<(DeletionJob, bool)> {
    let app_pk = app_pk(conn, app)?;
    let fingerprint = fingerprint(conn, app_pk, items)?;
    let existing: Option<[u8; 16]> = conn
        .prepare_cached("SELECT job_id FROM deletion_jobs WHERE app_pk = ?1 AND fingerprint = ?2")
        .map_err(backend)?
        .query_row(params![app_pk, fingerprint], |row| row.get(0))
        .optional()
        .map_err(backend)?;
    if let Some(job_id) = existing {
        let (job, _) = get(conn, app, uuid::Uuid::from_bytes(job_id), false)?
            .ok_or(StoreError::AppNotFound)?;
        return Ok((job, false));
    }
    let job_id = uuid::Uuid::now_v7();
    conn.prepare_cached(
        "INSERT INTO deletion_jobs (job_id, app_pk, fingerprint, total, created_at) VALUES (?1, ?2, ?3, ?4, ?5)",
    )
    .map_err(backend)?
    .execute(params![job_id.as_bytes(), app_pk, fingerprint, items.len() as i64, micros(at)])
    .map_err(backend)?;
    let job_pk = conn.last_insert_rowid();
    let mut insert = conn
        .prepare_cached(
            "INSERT INTO deletion_job_items (job_pk, item_index, kind, target, status) VALUES (?1, ?2, ?3, ?4, 'pending')",
        )
        .map_err(backend)?;
    for (index, item) in items.iter().enumerate() {
        insert
            .execute(params![job_pk, index as i64, item.kind(), value(item)])
            .map_err(backend)?;
    }
    let (job, _) = get(conn, app, job_id, false)?.ok_or(StoreError::AppNotFound)?;
    Ok((job, true))
}

/// The job, and (when `with_items`) every item's result.
pub fn get(
    conn: &Connection,
    app: AppId,
    job_id: uuid::Uuid,
    with_items: bool,
) -> StoreResult<Option<(DeletionJob, Vec<JobItem>)>> {
    let Ok(app_pk) = app_pk(conn, app) else {
        return Ok(None);
    };
    let row: Option<(i64, i64, i64, Option<i64>)> = conn
        .prepare_cached(
            "SELECT job_pk, total, created_at, finished_at FROM deletion_jobs WHERE app_pk = ?1 AND job_id = ?2",
        )
        .map_err(backend)?
        .query_row(params![app_pk, job_id.as_bytes()], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
        .optional()
        .map_err(backend)?;
    let Some((job_pk, total, created_at, finished_at)) = row else {
        return Ok(None);
    };
    let mut counts = JobCounts::default();
    let mut items = Vec::new();
    let mut statement = conn
        .prepare_cached("SELECT item_index, kind, status, error FROM deletion_job_items WHERE job_pk = ?1 ORDER BY item_index")
        .map_err(backend)?;
    let rows = statement
        .query_map([job_pk], |r| {
            Ok((
                r.get::<_, u32>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, Option<String>>(3)?,
            ))
        })
        .map_err(backend)?;
    for row in rows {
        let (index, kind, status, error) = row.map_err(backend)?;
        let outcome = match status.as_str() {
            "deleted" => ItemOutcome::Deleted,
            "not_found" => ItemOutcome::NotFound,
            "failed" => ItemOutcome::Failed(error.unwrap_or_default()),
            _ => ItemOutcome::Pending,
        };
        match outcome {
            ItemOutcome::Pending => counts.pending += 1,
            ItemOutcome::Deleted => counts.deleted += 1,
            ItemOutcome::NotFound => counts.not_found += 1,
            ItemOutcome::Failed(_) => counts.failed += 1,
        }
        if with_items {
            let kind = if kind == "profile_id" {
                "profile_id"
            } else {
                "customer_user_id"
            };
            items.push(JobItem {
                index,
                kind,
                outcome,
            });
        }
    }
    let job = DeletionJob {
        job_id,
        app_id: app,
        total: total as u32,
        counts,
        created_at: timestamp(created_at),
        finished_at: finished_at.map(timestamp),
    };
    Ok(Some((job, items)))
}

pub fn claim(
    conn: &Connection,
    runner: &str,
    now: Timestamp,
    lease: Duration,
    limit: u32,
) -> StoreResult<Vec<ClaimedItem>> {
    let until = now.plus_micros(lease.as_micros().min(i64::MAX as u128) as i64);
    let mut statement = conn
        .prepare_cached(
            "UPDATE deletion_job_items SET lease_owner = ?1, lease_until = ?2
              WHERE (job_pk, item_index) IN (
                  SELECT job_pk, item_index FROM deletion_job_items
                   WHERE status = 'pending' AND (lease_until IS NULL OR lease_until <= ?3)
                   ORDER BY job_pk, item_index LIMIT ?4)
             RETURNING job_pk, item_index, kind, target",
        )
        .map_err(backend)?;
    let claimed: Vec<(i64, u32, String, Option<String>)> = statement
        .query_map(params![runner, micros(until), micros(now), limit], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
        })
        .map_err(backend)?
        .collect::<Result<_, _>>()
        .map_err(backend)?;
    let mut items = Vec::with_capacity(claimed.len());
    for (job_pk, index, kind, target) in claimed {
        let (job_id, app_id) = conn
            .prepare_cached("SELECT j.job_id, a.app_id FROM deletion_jobs j JOIN apps a ON a.app_pk = j.app_pk WHERE j.job_pk = ?1")
            .map_err(backend)?
            .query_row([job_pk], |r| Ok((uuid_column(r, 0)?, AppId::from_uuid(uuid_column(r, 1)?))))
            .map_err(backend)?;
        let text = target.unwrap_or_default();
        let target = if kind == "profile_id" {
            ProfileId::parse(&text).map(JobTarget::ProfileId)
        } else {
            CustomerUserId::parse(&text)
                .ok()
                .map(JobTarget::CustomerUserId)
        }
        .ok_or_else(|| StoreError::Backend("a stored job item is unreadable".into()))?;
        items.push(ClaimedItem {
            job_id,
            app_id,
            index,
            target,
            lease_owner: runner.to_owned(),
        });
    }
    Ok(items)
}

pub fn run(
    conn: &Connection,
    item: &ClaimedItem,
    at: Timestamp,
) -> StoreResult<Option<ItemOutcome>> {
    let Some(job_pk): Option<i64> = conn
        .prepare_cached(
            "SELECT i.job_pk FROM deletion_job_items i JOIN deletion_jobs j ON j.job_pk = i.job_pk
              WHERE j.job_id = ?1 AND i.item_index = ?2 AND i.status = 'pending' AND i.lease_owner = ?3",
        )
        .map_err(backend)?
        .query_row(params![item.job_id.as_bytes(), item.index, item.lease_owner], |r| r.get(0))
        .optional()
        .map_err(backend)?
    else {
        return Ok(None);
    };
    let target = match &item.target {
        JobTarget::CustomerUserId(cuid) => ProfileRef::CustomerUserId(cuid.clone()),
        JobTarget::ProfileId(id) => ProfileRef::Id(*id),
    };
    // The delete runs in its own savepoint: if it fails, its writes go and the failure is
    // still recorded.
    conn.execute_batch("SAVEPOINT job_item").map_err(backend)?;
    let outcome = match profiles::delete(
        conn,
        item.app_id,
        &target,
        DeletedBy::Job(item.job_id),
        at,
    ) {
        Ok(_) => ItemOutcome::Deleted,
        Err(StoreError::ProfileNotFound) => ItemOutcome::NotFound,
        Err(error) => {
            tracing::warn!(%error, job = %item.job_id, index = item.index, "a bulk deletion item failed");
            ItemOutcome::Failed("the deletion failed".into())
        }
    };
    let end = if matches!(outcome, ItemOutcome::Failed(_)) {
        "ROLLBACK TO job_item; RELEASE job_item"
    } else {
        "RELEASE job_item"
    };
    conn.execute_batch(end).map_err(backend)?;
    let error = match &outcome {
        ItemOutcome::Failed(message) => Some(message.clone()),
        _ => None,
    };
    conn.prepare_cached(
        "UPDATE deletion_job_items SET status = ?3, error = ?4, target = NULL, lease_owner = NULL, lease_until = NULL
          WHERE job_pk = ?1 AND item_index = ?2",
    )
    .map_err(backend)?
    .execute(params![job_pk, item.index, outcome.as_str(), error])
    .map_err(backend)?;
    conn.prepare_cached(
        "UPDATE deletion_jobs SET finished_at = ?2
          WHERE job_pk = ?1 AND finished_at IS NULL
            AND NOT EXISTS (SELECT 1 FROM deletion_job_items WHERE job_pk = ?1 AND status = 'pending')",
    )
    .map_err(backend)?
    .execute(params![job_pk, micros(at)])
    .map_err(backend)?;
    Ok(Some(outcome))
}
