//! Deleting a profile (DESIGN.md §4), in the caller's transaction.
//!
//! The profile's row lock is taken first and held to the end: every transaction that writes
//! events about a profile or shares a chain with it takes the same lock, so none of them can
//! add something about the profile after its data has been removed here.

use entitle_domain::AppId;
use entitle_domain::datetime::Timestamp;
use entitle_domain::events::plan_profile_deleted;
use entitle_domain::resolve::ProfileRef;
use entitle_store::{DeletedBy, DeletionCounts, DeletionReport};
use sqlx::PgConnection;

use crate::apps::profile_app;
use crate::codec::micros;
use crate::error::Result;
use crate::outbox::{self, Outbox};
use crate::profiles;

pub async fn delete(
    conn: &mut PgConnection,
    app: AppId,
    target: &ProfileRef,
    deleted_by: DeletedBy,
    at: Timestamp,
) -> Result<DeletionReport> {
    let app_pk = profile_app(conn, app).await?;
    let row = profiles::resolve_locked(conn, app_pk, target).await?;
    let profile = profiles::to_profile(app, row)?;
    let id = *profile.profile_id.as_uuid();
    let remove = async |conn: &mut PgConnection, sql: &'static str| -> Result<u32> {
        let done = sqlx::query(sql).bind(app_pk).bind(id).execute(conn).await?;
        Ok(done.rows_affected() as u32)
    };
    remove(
        conn,
        "DELETE FROM profiles WHERE app_pk = $1 AND profile_id = $2",
    )
    .await?;
    // History detaches: the chains keep their transactions (store facts only) and lose their
    // owner; the next profile to use the purchase becomes its parent.
    let chains_detached = remove(
        conn,
        "UPDATE chains SET owner_profile_id = NULL, owner_has_access = TRUE
          WHERE app_pk = $1 AND owner_profile_id = $2",
    )
    .await?;
    let share_links_removed = remove(
        conn,
        "DELETE FROM chain_inheritors WHERE app_pk = $1 AND profile_id = $2",
    )
    .await?;
    let overrides_removed = remove(
        conn,
        "DELETE FROM access_overrides WHERE app_pk = $1 AND profile_id = $2",
    )
    .await?;
    // Its integration events leave the feed, and their pending deliveries go with them.
    let (events_removed, deliveries_cancelled) =
        outbox::remove_profile_events(conn, app_pk, profile.profile_id).await?;

    let counts = DeletionCounts {
        custom_attributes: profile.attributes.custom_attributes.len() as u32,
        installations: profile.attributes.installations.len() as u32,
        chains_detached,
        share_links_removed,
        overrides_removed,
        events_removed,
        deliveries_cancelled,
    };
    let report = DeletionReport {
        deletion_id: uuid::Uuid::now_v7(),
        profile_id: profile.profile_id,
        deleted_at: at,
        counts,
    };
    record_deletion(conn, app_pk, &report, deleted_by).await?;
    announce_deletion(conn, app, app_pk, &report).await?;
    Ok(report)
}

async fn record_deletion(
    conn: &mut PgConnection,
    app_pk: i64,
    report: &DeletionReport,
    deleted_by: DeletedBy,
) -> Result<()> {
    let profile_hash =
        crate::deletion_records::profile_hash(conn, app_pk, report.profile_id).await?;
    let counts = report.counts.to_document();
    let (kind, who) = match deleted_by {
        DeletedBy::Key(key) => ("key", *key.as_uuid()),
        DeletedBy::Job(job) => ("job", job),
    };
    sqlx::query(
        "INSERT INTO deletion_records
             (app_pk, deletion_id, profile_hash, deleted_by, deleted_by_kind, deleted_at, counts)
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(app_pk)
    .bind(report.deletion_id)
    .bind(profile_hash.as_slice())
    .bind(who)
    .bind(kind)
    .bind(micros(report.deleted_at))
    .bind(counts)
    .execute(conn)
    .await?;
    Ok(())
}

/// `profile_deleted` (an entitle extension, with no personal data), created by the outbox only
/// for the integrations that subscribed to it.
async fn announce_deletion(
    conn: &mut PgConnection,
    app: AppId,
    app_pk: i64,
    report: &DeletionReport,
) -> Result<()> {
    let event = plan_profile_deleted(
        app,
        report.profile_id,
        report.deleted_at,
        uuid::Uuid::new_v4(),
    );
    Outbox::new(app_pk, report.deleted_at)
        .emit(conn, event)
        .await
}
