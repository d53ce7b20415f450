//! The profile lifecycle in SQL. Every function runs inside the caller's transaction.
//!
//! Locking rule of this backend: a transaction that changes a profile, rewrites its purchases
//! view, or writes events about it first holds that profile's row lock (`FOR UPDATE`), and
//! takes profile locks before chain locks, several profiles in `profile_id` order. A profile is
//! found without a lock, then locked and checked: if it changed identity or vanished in between,
//! the attempt ends with [`Error::Changed`] and the transaction runs again.

use std::collections::HashMap;

use entitle_domain::datetime::Timestamp;
use entitle_domain::profile::{Profile, ProfileAttributes, ProfilePatch};
use entitle_domain::purchase::ProfileAccessView;
use entitle_domain::resolve::{
    CreatePlan, ProfileIdentity, ProfileRef, ResolveError, plan_create, resolve_existing,
};
use entitle_domain::{AppId, CustomerUserId, ProfileId};
use entitle_store::StoreError;
use sqlx::postgres::PgRow;
use sqlx::{PgConnection, Row as _};

use crate::apps::{app_pk, profile_app};
use crate::codec::{micros, timestamp};
use crate::error::{Error, Result, corrupt, encode};

/// A profile row as stored.
pub struct Row {
    pub identity: ProfileIdentity,
    attributes: String,
    purchases: Option<String>,
    created_at: i64,
    updated_at: i64,
}

const COLUMNS: &str = "profile_id, customer_user_id, attributes, created_at, updated_at, purchases";

fn read_row(row: &PgRow) -> Result<Row> {
    let customer_user_id: Option<String> = row.try_get(1)?;
    Ok(Row {
        identity: ProfileIdentity {
            profile_id: ProfileId::from_uuid(row.try_get(0)?),
            customer_user_id: customer_user_id.and_then(|text| CustomerUserId::parse(&text).ok()),
        },
        attributes: row.try_get(2)?,
        created_at: row.try_get(3)?,
        updated_at: row.try_get(4)?,
        purchases: row.try_get(5)?,
    })
}

pub async fn by_id(conn: &mut PgConnection, app_pk: i64, id: ProfileId) -> Result<Option<Row>> {
    let sql = format!("SELECT {COLUMNS} FROM profiles WHERE app_pk = $1 AND profile_id = $2");
    let row = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(app_pk)
        .bind(id.as_uuid())
        .fetch_optional(conn)
        .await?;
    row.as_ref().map(read_row).transpose()
}

/// Locks these profiles (in `profile_id` order, so lockers of overlapping sets never deadlock)
/// and returns the ones that exist, as they are now.
pub async fn lock_all(
    conn: &mut PgConnection,
    app_pk: i64,
    ids: &[ProfileId],
) -> Result<HashMap<ProfileId, Row>> {
    let uuids: Vec<uuid::Uuid> = ids.iter().map(|id| *id.as_uuid()).collect();
    let sql = format!(
        "SELECT {COLUMNS} FROM profiles WHERE app_pk = $1 AND profile_id = ANY($2)
          ORDER BY profile_id FOR UPDATE"
    );
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(app_pk)
        .bind(uuids)
        .fetch_all(conn)
        .await?;
    rows.iter()
        .map(|row| read_row(row).map(|row| (row.identity.profile_id, row)))
        .collect()
}

/// Locks the profile a request resolved to and returns it as it is now; `Changed` if it is gone
/// or has another customer user id than when it was resolved.
pub async fn lock_resolved(conn: &mut PgConnection, app_pk: i64, seen: &Row) -> Result<Row> {
    let id = seen.identity.profile_id;
    let mut locked = lock_all(conn, app_pk, &[id]).await?;
    match locked.remove(&id) {
        Some(row) if row.identity == seen.identity => Ok(row),
        _ => Err(Error::Changed),
    }
}

/// The rows the headers point at, by profile id and by customer user id, read in one statement
/// so both come from one snapshot.
async fn candidates(
    conn: &mut PgConnection,
    app_pk: i64,
    target: &ProfileRef,
) -> Result<(Option<Row>, Option<Row>)> {
    let sql = format!(
        "SELECT {COLUMNS} FROM profiles
          WHERE app_pk = $1 AND (profile_id = $2 OR customer_user_id = $3)"
    );
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(app_pk)
        .bind(target.profile_id().map(|id| *id.as_uuid()))
        .bind(target.customer_user_id().map(CustomerUserId::as_str))
        .fetch_all(conn)
        .await?;
    let mut rows = rows.iter().map(read_row).collect::<Result<Vec<_>>>()?;
    let id_row = target
        .profile_id()
        .and_then(|id| take(&mut rows, |row| row.identity.profile_id == id));
    let cuid_row = match target.customer_user_id() {
        Some(cuid) => match &id_row {
            Some(row) if row.identity.customer_user_id.as_ref() == Some(cuid) => None,
            _ => take(&mut rows, |row| {
                row.identity.customer_user_id.as_ref() == Some(cuid)
            }),
        },
        None => None,
    };
    Ok((id_row, cuid_row))
}

fn take(rows: &mut Vec<Row>, wanted: impl Fn(&Row) -> bool) -> Option<Row> {
    let index = rows.iter().position(wanted)?;
    Some(rows.swap_remove(index))
}

fn resolve_error(error: ResolveError) -> Error {
    Error::Store(match error {
        ResolveError::NotFound => StoreError::ProfileNotFound,
        ResolveError::CustomerUserIdTaken => StoreError::CustomerUserIdTaken,
    })
}

/// Finds the existing profile a request names, without locking it.
pub async fn resolve(conn: &mut PgConnection, app_pk: i64, target: &ProfileRef) -> Result<Row> {
    let (id_row, cuid_row) = candidates(conn, app_pk, target).await?;
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
        .ok_or(Error::Store(StoreError::ProfileNotFound))
}

/// Finds the existing profile a request names and locks it for the rest of the transaction.
pub async fn resolve_locked(
    conn: &mut PgConnection,
    app_pk: i64,
    target: &ProfileRef,
) -> Result<Row> {
    let seen = resolve(conn, app_pk, target).await?;
    lock_resolved(conn, app_pk, &seen).await
}

pub fn to_profile(app: AppId, row: Row) -> Result<Profile> {
    let attributes: ProfileAttributes =
        serde_json::from_str(&row.attributes).map_err(|e| corrupt("profile attributes", e))?;
    let purchases = match &row.purchases {
        Some(text) => serde_json::from_str(text).map_err(|e| corrupt("purchases view", e))?,
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

/// The profile with this id, as stored now.
pub async fn load(
    conn: &mut PgConnection,
    app: AppId,
    app_pk: i64,
    id: ProfileId,
) -> Result<Profile> {
    let row = by_id(conn, app_pk, id)
        .await?
        .ok_or(Error::Store(StoreError::ProfileNotFound))?;
    to_profile(app, row)
}

pub async fn get(conn: &mut PgConnection, app: AppId, target: &ProfileRef) -> Result<Profile> {
    let app_pk = profile_app(conn, app).await?;
    let row = resolve(conn, app_pk, target).await?;
    to_profile(app, row)
}

pub async fn create(
    conn: &mut PgConnection,
    app: AppId,
    target: &ProfileRef,
    patch: ProfilePatch,
    at: Timestamp,
) -> Result<Profile> {
    let app_pk = app_pk(conn, app).await?;
    let (id_row, cuid_row) = candidates(conn, app_pk, target).await?;
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
            let seen = [id_row, cuid_row]
                .into_iter()
                .flatten()
                .find(|row| row.identity.profile_id == id)
                .ok_or(Error::Store(StoreError::ProfileNotFound))?;
            let row = lock_resolved(conn, app_pk, &seen).await?;
            write_update(conn, app, app_pk, row, None, patch, at).await
        }
        CreatePlan::AttachCustomerUserId(id) => {
            let seen = id_row.ok_or(Error::Store(StoreError::ProfileNotFound))?;
            debug_assert_eq!(seen.identity.profile_id, id);
            let row = lock_resolved(conn, app_pk, &seen).await?;
            // A concurrent create may take the customer user id first: the update then breaks
            // the unique index, and the next attempt answers as if it had come second.
            let cuid = target.customer_user_id().cloned();
            write_update(conn, app, app_pk, row, cuid, patch, at).await
        }
        CreatePlan::CreateNew(id) => {
            let mut attributes = ProfileAttributes::default();
            attributes.apply(patch)?;
            let cuid = target.customer_user_id().cloned();
            // Losing a race for the id or the customer user id breaks a unique index; the next
            // attempt finds the winner's profile and updates it instead.
            sqlx::query(
                "INSERT INTO profiles (app_pk, profile_id, customer_user_id, attributes,
                                       created_at, updated_at)
                 VALUES ($1, $2, $3, $4, $5, $5)",
            )
            .bind(app_pk)
            .bind(id.as_uuid())
            .bind(cuid.as_ref().map(CustomerUserId::as_str))
            .bind(encode(&attributes)?)
            .bind(micros(at))
            .execute(&mut *conn)
            .await?;
            // Get-or-create by id never brings a deleted profile back (DESIGN.md §4). Checked
            // after the insert: a delete of the same id that commits meanwhile holds the
            // insert on the unique index until its record is visible here.
            if let ProfileRef::Id(id) = target
                && crate::deletion_records::was_deleted(conn, app_pk, *id).await?
            {
                return Err(Error::Store(StoreError::ProfileNotFound));
            }
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

pub async fn update(
    conn: &mut PgConnection,
    app: AppId,
    target: &ProfileRef,
    patch: ProfilePatch,
    at: Timestamp,
) -> Result<Profile> {
    let app_pk = profile_app(conn, app).await?;
    let row = resolve_locked(conn, app_pk, target).await?;
    write_update(conn, app, app_pk, row, None, patch, at).await
}

/// Applies a patch (and, for an anonymous profile being identified, its new customer user id)
/// to a locked row.
async fn write_update(
    conn: &mut PgConnection,
    app: AppId,
    app_pk: i64,
    row: Row,
    attach: Option<CustomerUserId>,
    patch: ProfilePatch,
    at: Timestamp,
) -> Result<Profile> {
    let mut profile = to_profile(app, row)?;
    profile.attributes.apply(patch)?;
    if profile.customer_user_id.is_none() {
        profile.customer_user_id = attach;
    }
    profile.updated_at = at;
    sqlx::query(
        "UPDATE profiles SET customer_user_id = $3, attributes = $4, updated_at = $5
          WHERE app_pk = $1 AND profile_id = $2",
    )
    .bind(app_pk)
    .bind(profile.profile_id.as_uuid())
    .bind(
        profile
            .customer_user_id
            .as_ref()
            .map(CustomerUserId::as_str),
    )
    .bind(encode(&profile.attributes)?)
    .bind(micros(at))
    .execute(conn)
    .await?;
    Ok(profile)
}
