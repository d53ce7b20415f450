//! Bulk deletion jobs: a job's items are claimed under a lease (`FOR UPDATE SKIP LOCKED`, so
//! runners on several nodes share the work) and each is deleted and recorded in one
//! transaction, so a job survives restarts and no item is deleted twice.

use std::time::Duration;

use entitle_domain::datetime::Timestamp;
use entitle_domain::resolve::ProfileRef;
use entitle_domain::{AppId, CustomerUserId, ProfileId};
use entitle_store::{
    ClaimedItem, DeletedBy, DeletionJob, ItemOutcome, JobCounts, JobItem, JobTarget, StoreError,
};
use sqlx::{PgConnection, Row};

use crate::apps::app_pk;
use crate::codec::{micros, timestamp};
use crate::deletion;
use crate::error::{Error, Result};

/// Keyed hash of the list, so the same list finds the same job without storing it twice.
async fn fingerprint(
    conn: &mut PgConnection,
    app_pk: i64,
    items: &[JobTarget],
) -> Result<[u8; 32]> {
    let mut list = Vec::new();
    for item in items {
        list.extend_from_slice(item.kind().as_bytes());
        list.push(0);
        list.extend_from_slice(value(item).as_bytes());
        list.push(0);
    }
    crate::apps::record_hash(conn, app_pk, &list).await
}

fn value(target: &JobTarget) -> String {
    match target {
        JobTarget::CustomerUserId(cuid) => cuid.as_str().to_owned(),
        JobTarget::ProfileId(id) => id.to_string(),
    }
}

pub async fn create(
    conn: &mut PgConnection,
    app: AppId,
    items: &[JobTarget],
    at: Timestamp,
) -> Result<(DeletionJob, bool)> {
    let app_pk = app_pk(conn, app).await?;
    let fingerprint = fingerprint(conn, app_pk, items).await?;
    let existing: Option<uuid::Uuid> = sqlx::query_scalar(
        "SELECT job_id FROM deletion_jobs WHERE app_pk = $1 AND fingerprint = $2",
    )
    .bind(app_pk)
    .bind(fingerprint.as_slice())
    .fetch_optional(&mut *conn)
    .await?;
    if let Some(job_id) = existing {
        let (job, _) = get(conn, app, job_id, false)
            .await?
            .ok_or(Error::Store(StoreError::AppNotFound))?;
        return Ok((job, false));
    }
    let job_id = uuid::Uuid::now_v7();
    // A concurrent submission of the same list breaks the unique fingerprint; the next attempt
    // finds its job.
    let job_pk: i64 = sqlx::query_scalar(
        "INSERT INTO deletion_jobs (job_id, app_pk, fingerprint, total, created_at)
         VALUES ($1, $2, $3, $4, $5) RETURNING job_pk",
    )
    .bind(job_id)
    .bind(app_pk)
    .bind(fingerprint.as_slice())
    .bind(items.len() as i32)
    .bind(micros(at))
    .fetch_one(&mut *conn)
    .await?;
    let indexes: Vec<i32> = (0..items.len() as i32).collect();
    let kinds: Vec<&str> = items.iter().map(JobTarget::kind).collect();
    let values: Vec<String> = items.iter().map(value).collect();
    sqlx::query(
        "INSERT INTO deletion_job_items (job_pk, item_index, kind, target, status)
         SELECT $1, i, k, t, 'pending' FROM unnest($2::int[], $3::text[], $4::text[]) AS u(i, k, t)",
    )
    .bind(job_pk)
    .bind(indexes)
    .bind(kinds)
    .bind(values)
    .execute(&mut *conn)
    .await?;
    let (job, _) = get(conn, app, job_id, false)
        .await?
        .ok_or(Error::Store(StoreError::AppNotFound))?;
    Ok((job, true))
}

/// The job, and (when `with_items`) every item's result.
pub async fn get(
    conn: &mut PgConnection,
    app: AppId,
    job_id: uuid::Uuid,
    with_items: bool,
) -> Result<Option<(DeletionJob, Vec<JobItem>)>> {
    let Ok(app_pk) = app_pk(conn, app).await else {
        return Ok(None);
    };
    let row: Option<(i64, i32, i64, Option<i64>)> = sqlx::query_as(
        "SELECT job_pk, total, created_at, finished_at FROM deletion_jobs
          WHERE app_pk = $1 AND job_id = $2",
    )
    .bind(app_pk)
    .bind(job_id)
    .fetch_optional(&mut *conn)
    .await?;
    let Some((job_pk, total, created_at, finished_at)) = row else {
        return Ok(None);
    };
    let rows: Vec<(i32, String, String, Option<String>)> = sqlx::query_as(
        "SELECT item_index, kind, status, error FROM deletion_job_items
          WHERE job_pk = $1 ORDER BY item_index",
    )
    .bind(job_pk)
    .fetch_all(conn)
    .await?;
    let mut counts = JobCounts::default();
    let mut items = Vec::new();
    for (index, kind, status, error) in rows {
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
                index: index.max(0) as u32,
                kind,
                outcome,
            });
        }
    }
    let job = DeletionJob {
        job_id,
        app_id: app,
        total: total.max(0) as u32,
        counts,
        created_at: timestamp(created_at),
        finished_at: finished_at.map(timestamp),
    };
    Ok(Some((job, items)))
}

pub async fn claim(
    conn: &mut PgConnection,
    runner: &str,
    now: Timestamp,
    lease: Duration,
    limit: u32,
) -> Result<Vec<ClaimedItem>> {
    let until = now.plus_micros(lease.as_micros().min(i64::MAX as u128) as i64);
    let rows = sqlx::query(
        "WITH due AS (
             SELECT job_pk, item_index FROM deletion_job_items
              WHERE status = 'pending' AND (lease_until IS NULL OR lease_until <= $3)
              ORDER BY job_pk, item_index
              LIMIT $4
                FOR UPDATE SKIP LOCKED)
         UPDATE deletion_job_items i SET lease_owner = $1, lease_until = $2
           FROM due, deletion_jobs j, apps a
          WHERE i.job_pk = due.job_pk AND i.item_index = due.item_index
            AND j.job_pk = i.job_pk AND a.app_pk = j.app_pk
         RETURNING j.job_id, a.app_id, i.item_index, i.kind, i.target",
    )
    .bind(runner)
    .bind(micros(until))
    .bind(micros(now))
    .bind(i64::from(limit))
    .fetch_all(conn)
    .await?;
    let mut items = Vec::with_capacity(rows.len());
    for row in rows {
        let kind: String = row.try_get(3)?;
        let text: Option<String> = row.try_get(4)?;
        let text = text.unwrap_or_default();
        let target = if kind == "profile_id" {
            ProfileId::parse(&text).map(JobTarget::ProfileId)
        } else {
            CustomerUserId::parse(&text)
                .ok()
                .map(JobTarget::CustomerUserId)
        }
        .ok_or_else(|| {
            Error::Store(StoreError::Backend(
                "a stored job item is unreadable".into(),
            ))
        })?;
        items.push(ClaimedItem {
            job_id: row.try_get(0)?,
            app_id: AppId::from_uuid(row.try_get(1)?),
            index: row.try_get::<i32, _>(2)?.max(0) as u32,
            target,
            lease_owner: runner.to_owned(),
        });
    }
    // In list order, as the claim chose them (RETURNING keeps no order).
    items.sort_by_key(|item| (item.job_id, item.index));
    Ok(items)
}

pub async fn run(
    conn: &mut PgConnection,
    item: &ClaimedItem,
    at: Timestamp,
) -> Result<Option<ItemOutcome>> {
    // The item's row lock, held to the end: a runner that took it over after a lapsed lease
    // waits here, then finds it done.
    let job_pk: Option<i64> = sqlx::query_scalar(
        "SELECT i.job_pk FROM deletion_job_items i JOIN deletion_jobs j ON j.job_pk = i.job_pk
          WHERE j.job_id = $1 AND i.item_index = $2 AND i.status = 'pending'
            AND i.lease_owner = $3
            FOR UPDATE OF i",
    )
    .bind(item.job_id)
    .bind(item.index as i32)
    .bind(&item.lease_owner)
    .fetch_optional(&mut *conn)
    .await?;
    let Some(job_pk) = job_pk else {
        return Ok(None);
    };
    let target = match &item.target {
        JobTarget::CustomerUserId(cuid) => ProfileRef::CustomerUserId(cuid.clone()),
        JobTarget::ProfileId(id) => ProfileRef::Id(*id),
    };
    // The delete runs in its own savepoint: if it fails, its writes go and the failure is
    // still recorded. A conflict with a concurrent transaction is not a failure: the whole
    // attempt runs again.
    sqlx::query("SAVEPOINT job_item")
        .execute(&mut *conn)
        .await?;
    let deleted =
        deletion::delete(conn, item.app_id, &target, DeletedBy::Job(item.job_id), at).await;
    let outcome = match deleted {
        Ok(_) => ItemOutcome::Deleted,
        Err(Error::Store(StoreError::ProfileNotFound)) => ItemOutcome::NotFound,
        Err(error) if error.is_retryable() => return Err(error),
        Err(error) => {
            tracing::warn!(
                error = %error.log_safe(),
                job = %item.job_id,
                index = item.index,
                "a bulk deletion item failed"
            );
            sqlx::query("ROLLBACK TO SAVEPOINT job_item")
                .execute(&mut *conn)
                .await?;
            ItemOutcome::Failed("the deletion failed".into())
        }
    };
    sqlx::query("RELEASE SAVEPOINT job_item")
        .execute(&mut *conn)
        .await?;
    let error = match &outcome {
        ItemOutcome::Failed(message) => Some(message.clone()),
        _ => None,
    };
    sqlx::query(
        "UPDATE deletion_job_items SET status = $3, error = $4, target = NULL, lease_owner = NULL,
                lease_until = NULL
          WHERE job_pk = $1 AND item_index = $2",
    )
    .bind(job_pk)
    .bind(item.index as i32)
    .bind(outcome.as_str())
    .bind(error)
    .execute(&mut *conn)
    .await?;
    // Runners finishing a job's last items at once: the job row's lock orders them, so the
    // last one sees every other item done (each statement sees what committed before it).
    sqlx::query("SELECT 1 FROM deletion_jobs WHERE job_pk = $1 FOR UPDATE")
        .bind(job_pk)
        .execute(&mut *conn)
        .await?;
    sqlx::query(
        "UPDATE deletion_jobs SET finished_at = $2
          WHERE job_pk = $1 AND finished_at IS NULL
            AND NOT EXISTS (SELECT 1 FROM deletion_job_items
                             WHERE job_pk = $1 AND status = 'pending')",
    )
    .bind(job_pk)
    .bind(micros(at))
    .execute(conn)
    .await?;
    Ok(Some(outcome))
}
