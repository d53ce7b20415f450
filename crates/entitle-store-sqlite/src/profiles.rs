//! The profile lifecycle in SQL. Every function runs inside the caller's transaction.

use std::sync::LazyLock;

use entitle_domain::datetime::Timestamp;
use entitle_domain::events::plan_profile_deleted;
use entitle_domain::profile::{Profile, ProfileAttributes, ProfilePatch};
use entitle_domain::purchase::ProfileAccessView;
use entitle_domain::resolve::{
    CreatePlan, ProfileIdentity, ProfileRef, ResolveError, plan_create, resolve_existing,
};
use entitle_domain::{AppId, CustomerUserId, ProfileId};
use entitle_store::{
    DeletedBy, DeletionCounts, DeletionReport, KeyedProfile, StoreError, StoreResult,
};
use rusqlite::{Connection, OptionalExtension, params};

use crate::apps::app_pk;
use crate::codec::{self, backend, micros, timestamp, uuid_column};
use crate::documents::Document;
use crate::outbox::{self, Outbox};
use crate::slots;

/// A profile row as stored.
pub struct Row {
    /// Where the row is (`slots.rs`): later statements of the same transaction go straight there.
    slot: i64,
    pub identity: ProfileIdentity,
    attributes: String,
    purchases: Option<Document>,
    created_at: i64,
    updated_at: i64,
}

const COLUMNS: &str =
    "profile_id, customer_user_id, attributes, created_at, updated_at, purchases, profile_slot";

fn read_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<Row> {
    let customer_user_id: Option<String> = row.get(1)?;
    Ok(Row {
        slot: row.get(6)?,
        identity: ProfileIdentity {
            profile_id: ProfileId::from_uuid(uuid_column(row, 0)?),
            customer_user_id: customer_user_id.and_then(|text| CustomerUserId::parse(&text).ok()),
        },
        attributes: row.get(2)?,
        created_at: row.get(3)?,
        updated_at: row.get(4)?,
        purchases: row.get(5)?,
    })
}

/// Statements built once, not on every request.
static BY_ID: LazyLock<String> = LazyLock::new(|| {
    let row = slots::matching("?1", "?2", "?3");
    format!("SELECT {COLUMNS} FROM profiles WHERE {row}")
});
static BY_CUSTOMER_USER_ID: LazyLock<String> = LazyLock::new(|| {
    format!("SELECT {COLUMNS} FROM profiles WHERE app_pk = ?1 AND customer_user_id = ?2")
});

pub fn by_id(conn: &Connection, app_pk: i64, id: ProfileId) -> StoreResult<Option<Row>> {
    conn.prepare_cached(&BY_ID)
        .map_err(backend)?
        .query_row(
            params![app_pk, id.as_bytes(), slots::slot_of(app_pk, id)],
            read_row,
        )
        .optional()
        .map_err(backend)
}

fn by_customer_user_id(
    conn: &Connection,
    app_pk: i64,
    cuid: &CustomerUserId,
) -> StoreResult<Option<Row>> {
    conn.prepare_cached(&BY_CUSTOMER_USER_ID)
        .map_err(backend)?
        .query_row(params![app_pk, cuid.as_str()], read_row)
        .optional()
        .map_err(backend)
}

/// The rows the headers point at: by profile id and by customer user id.
fn candidates(
    conn: &Connection,
    app_pk: i64,
    target: &ProfileRef,
) -> StoreResult<(Option<Row>, Option<Row>)> {
    let id_row = match target.profile_id() {
        Some(id) => by_id(conn, app_pk, id)?,
        None => None,
    };
    let cuid_row = match target.customer_user_id() {
        Some(cuid) => match &id_row {
            Some(row) if row.identity.customer_user_id.as_ref() == Some(cuid) => None,
            _ => by_customer_user_id(conn, app_pk, cuid)?,
        },
        None => None,
    };
    Ok((id_row, cuid_row))
}

fn resolve_error(error: ResolveError) -> StoreError {
    match error {
        ResolveError::NotFound => StoreError::ProfileNotFound,
        ResolveError::CustomerUserIdTaken => StoreError::CustomerUserIdTaken,
    }
}

/// Finds the existing profile a request names.
pub fn resolve(conn: &Connection, app_pk: i64, target: &ProfileRef) -> StoreResult<Row> {
    let (id_row, cuid_row) = candidates(conn, app_pk, target)?;
    let chosen = resolve_existing(
        target,
        id_row.as_ref().map(|r| &r.identity),
        cuid_row
            .as_ref()
            .map(|r| &r.identity)
            .or(id_row.as_ref().map(|r| &r.identity)),
    )
    .map_err(resolve_error)?;
    [id_row, cuid_row]
        .into_iter()
        .flatten()
        .find(|row| row.identity.profile_id == chosen)
        .ok_or(StoreError::ProfileNotFound)
}

fn decode_attributes(row: &Row) -> StoreResult<ProfileAttributes> {
    serde_json::from_str(&row.attributes)
        .map_err(|e| StoreError::Backend(format!("stored profile attributes unreadable: {e}")))
}

pub fn to_profile(app: AppId, row: Row) -> StoreResult<Profile> {
    let attributes = decode_attributes(&row)?;
    let purchases = match &row.purchases {
        Some(stored) => stored.decode_view()?,
        None => ProfileAccessView::default(),
    };
    Ok(Profile {
        app_id: app,
        profile_id: row.identity.profile_id,
        customer_user_id: row.identity.customer_user_id,
        attributes,
        created_at: timestamp(row.created_at),
        updated_at: timestamp(row.updated_at),
        purchases,
    })
}

fn encode(attributes: &ProfileAttributes) -> StoreResult<String> {
    serde_json::to_string(attributes).map_err(|e| StoreError::Backend(e.to_string()))
}

pub fn get(conn: &Connection, app: AppId, target: &ProfileRef) -> StoreResult<Profile> {
    let app_pk = app_pk(conn, app).map_err(|_| StoreError::ProfileNotFound)?;
    let row = resolve(conn, app_pk, target)?;
    to_profile(app, row)
}

/// The key `lookup` names and, when it is live, the profile `target` names in its app.
pub fn get_by_key(
    conn: &Connection,
    lookup: &str,
    target: &ProfileRef,
) -> StoreResult<KeyedProfile> {
    match crate::key_cache::find_key_in_app(conn, lookup)? {
        Some((key, app_pk)) if !key.revoked => {
            let profile = resolve(conn, app_pk, target).and_then(|row| to_profile(key.app_id, row));
            Ok(KeyedProfile {
                key: Some(key),
                profile: Some(profile),
            })
        }
        key => Ok(KeyedProfile {
            key: key.map(|(key, _)| key),
            profile: None,
        }),
    }
}

pub fn create(
    conn: &Connection,
    app: AppId,
    target: &ProfileRef,
    patch: ProfilePatch,
    at: Timestamp,
) -> StoreResult<Profile> {
    let app_pk = app_pk(conn, app)?;
    let (id_row, cuid_row) = candidates(conn, app_pk, target)?;
    if let (ProfileRef::Id(id), None) = (target, &id_row)
        && crate::deletion_records::was_deleted(conn, app_pk, *id)?
    {
        // Get-or-create by id never brings a deleted profile back (DESIGN.md §4).
        return Err(StoreError::ProfileNotFound);
    }
    let plan = plan_create(
        target,
        id_row.as_ref().map(|r| &r.identity),
        cuid_row
            .as_ref()
            .map(|r| &r.identity)
            .or(id_row.as_ref().map(|r| &r.identity)),
        ProfileId::new_random(),
    )
    .map_err(resolve_error)?;
    match plan {
        CreatePlan::UseExisting(id) => {
            let row = [id_row, cuid_row]
                .into_iter()
                .flatten()
                .find(|row| row.identity.profile_id == id)
                .ok_or(StoreError::ProfileNotFound)?;
            write_update(conn, app, row, None, patch, at)
        }
        CreatePlan::AttachCustomerUserId(id) => {
            let row = id_row.ok_or(StoreError::ProfileNotFound)?;
            debug_assert_eq!(row.identity.profile_id, id);
            let cuid = target.customer_user_id().cloned();
            write_update(conn, app, row, cuid, patch, at)
        }
        CreatePlan::CreateNew(id) => {
            let mut attributes = ProfileAttributes::default();
            attributes.apply(patch)?;
            let cuid = target.customer_user_id().cloned();
            let slot = slots::free_slot(conn, app_pk, id)?;
            conn.prepare_cached(
                "INSERT INTO profiles (profile_slot, app_pk, profile_id, customer_user_id, attributes, created_at, updated_at)
                 VALUES (?6, ?1, ?2, ?3, ?4, ?5, ?5)",
            )
            .map_err(backend)?
            .execute(params![
                app_pk,
                id.as_bytes(),
                cuid.as_ref().map(CustomerUserId::as_str),
                encode(&attributes)?,
                micros(at),
                slot
            ])
            .map_err(backend)?;
            Ok(Profile {
                app_id: app,
                profile_id: id,
                customer_user_id: cuid,
                attributes,
                created_at: at,
                updated_at: at,
                purchases: ProfileAccessView::default(),
            })
        }
    }
}

pub fn update(
    conn: &Connection,
    app: AppId,
    target: &ProfileRef,
    patch: ProfilePatch,
    at: Timestamp,
) -> StoreResult<Profile> {
    let app_pk = app_pk(conn, app).map_err(|_| StoreError::ProfileNotFound)?;
    let row = resolve(conn, app_pk, target)?;
    write_update(conn, app, row, None, patch, at)
}

/// Applies a patch (and, for an anonymous profile being identified, its new customer user id).
fn write_update(
    conn: &Connection,
    app: AppId,
    row: Row,
    attach: Option<CustomerUserId>,
    patch: ProfilePatch,
    at: Timestamp,
) -> StoreResult<Profile> {
    let slot = row.slot;
    let mut profile = to_profile(app, row)?;
    profile.attributes.apply(patch)?;
    if profile.customer_user_id.is_none() {
        profile.customer_user_id = attach;
    }
    profile.updated_at = at;
    conn.prepare_cached(
        "UPDATE profiles SET customer_user_id = ?2, attributes = ?3, updated_at = ?4
          WHERE profile_slot = ?1",
    )
    .map_err(backend)?
    .execute(params![
        slot,
        profile
            .customer_user_id
            .as_ref()
            .map(CustomerUserId::as_str),
        encode(&profile.attributes)?,
        micros(at)
    ])
    .map_err(backend)?;
    Ok(profile)
}

pub fn delete(
    conn: &Connection,
    app: AppId,
    target: &ProfileRef,
    deleted_by: DeletedBy,
    at: Timestamp,
) -> StoreResult<DeletionReport> {
    let app_pk = app_pk(conn, app).map_err(|_| StoreError::ProfileNotFound)?;
    let row = resolve(conn, app_pk, target)?;
    // Only what the deletion record counts is read; the purchases view is not decoded.
    let attributes = decode_attributes(&row)?;
    let profile_id = row.identity.profile_id;
    let remove = |sql: &str| codec::for_profile(conn, sql, app_pk, profile_id);
    conn.prepare_cached("DELETE FROM profiles WHERE profile_slot = ?1")
        .map_err(backend)?
        .execute([row.slot])
        .map_err(backend)?;
    // History detaches: the chains keep their transactions (store facts only) and lose their
    // owner; the next profile to use the purchase becomes its parent.
    let chains_detached = remove(
        "UPDATE chains SET owner_profile_id = NULL, owner_has_access = 1
          WHERE app_pk = ?1 AND owner_profile_id = ?2",
    )?;
    let share_links_removed =
        remove("DELETE FROM chain_inheritors WHERE app_pk = ?1 AND profile_id = ?2")?;
    let overrides_removed =
        remove("DELETE FROM access_overrides WHERE app_pk = ?1 AND profile_id = ?2")?;
    // Its integration events leave the feed, and their pending deliveries go with them.
    let (events_removed, deliveries_cancelled) =
        outbox::remove_profile_events(conn, app_pk, profile_id)?;

    let counts = DeletionCounts {
        custom_attributes: attributes.custom_attributes.len() as u32,
        installations: attributes.installations.len() as u32,
        chains_detached,
        share_links_removed,
        overrides_removed,
        events_removed,
        deliveries_cancelled,
    };
    let report = DeletionReport {
        deletion_id: uuid::Uuid::now_v7(),
        profile_id,
        deleted_at: at,
        counts,
    };
    record_deletion(conn, app_pk, &report, deleted_by)?;
    announce_deletion(conn, app, app_pk, &report)?;
    entitle_store::metrics::PROFILES_DELETED.inc();
    Ok(report)
}

fn record_deletion(
    conn: &Connection,
    app_pk: i64,
    report: &DeletionReport,
    deleted_by: DeletedBy,
) -> StoreResult<()> {
    let profile_hash = crate::deletion_records::profile_hash(conn, app_pk, report.profile_id)?;
    let (kind, who) = match deleted_by {
        DeletedBy::Key(key) => ("key", *key.as_bytes()),
        DeletedBy::Job(job) => ("job", *job.as_bytes()),
    };
    let counts = report.counts.to_document();
    conn.prepare_cached(
        "INSERT INTO deletion_records
             (app_pk, deletion_seq, deletion_id, profile_hash, deleted_by, deleted_by_kind, deleted_at, counts)
         VALUES (?1,
                 COALESCE((SELECT MAX(deletion_seq) FROM deletion_records WHERE app_pk = ?1), 0) + 1,
                 ?2, ?3, ?4, ?7, ?5, ?6)",
    )
    .map_err(backend)?
    .execute(params![
        app_pk,
        report.deletion_id.as_bytes(),
        profile_hash,
        who,
        micros(report.deleted_at),
        counts,
        kind
    ])
    .map_err(backend)?;
    Ok(())
}

/// The profile with this id, as stored now.
pub fn load(conn: &Connection, app: AppId, app_pk: i64, id: ProfileId) -> StoreResult<Profile> {
    let row = by_id(conn, app_pk, id)?.ok_or(StoreError::ProfileNotFound)?;
    to_profile(app, row)
}

/// `profile_deleted` (an entitle extension, with no personal data), created by the outbox only
/// for the integrations that subscribed to it.
fn announce_deletion(
    conn: &Connection,
    app: AppId,
    app_pk: i64,
    report: &DeletionReport,
) -> StoreResult<()> {
    let event = plan_profile_deleted(
        app,
        report.profile_id,
        report.deleted_at,
        uuid::Uuid::new_v4(),
    );
    Outbox::new(conn, app_pk, report.deleted_at).emit(event)
}
