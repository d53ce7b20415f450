//! Apps and API keys.

use entitle_domain::datetime::Timestamp;
use entitle_domain::keys::SecretHash;
use entitle_domain::{AppId, KeyId};
use entitle_store::{ApiKeyRecord, AppRecord, KeyRecord, NewKey, StoreError};
use sqlx::{PgConnection, Row};

use crate::codec::{micros, timestamp};
use crate::error::{Error, Result};

pub async fn find_key(conn: &mut PgConnection, lookup: &str) -> Result<Option<ApiKeyRecord>> {
    let row = sqlx::query(
        "SELECT k.key_id, a.app_id, k.secret_sha256, k.revoked_at IS NOT NULL
           FROM api_keys k JOIN apps a ON a.app_pk = k.app_pk
          WHERE k.lookup = $1",
    )
    .bind(lookup)
    .fetch_optional(conn)
    .await?;
    let Some(row) = row else {
        return Ok(None);
    };
    let hash: Vec<u8> = row.try_get(2)?;
    let secret_hash = SecretHash(hash.try_into().map_err(|_| {
        Error::Store(StoreError::Backend(
            "stored key hash is not 32 bytes".into(),
        ))
    })?);
    Ok(Some(ApiKeyRecord {
        key_id: KeyId::from_uuid(row.try_get(0)?),
        app_id: AppId::from_uuid(row.try_get(1)?),
        secret_hash,
        revoked: row.try_get(3)?,
    }))
}

/// The internal key of an app, or `AppNotFound`.
pub async fn app_pk(conn: &mut PgConnection, app: AppId) -> Result<i64> {
    sqlx::query_scalar("SELECT app_pk FROM apps WHERE app_id = $1")
        .bind(app.as_uuid())
        .fetch_optional(conn)
        .await?
        .ok_or(Error::Store(StoreError::AppNotFound))
}

/// `message` hashed with the app's record key (a deletion record's profile, a deletion job's
/// list): matchable by whoever knows the message, readable by no one.
pub async fn record_hash(conn: &mut PgConnection, app_pk: i64, message: &[u8]) -> Result<[u8; 32]> {
    let record_key: Vec<u8> = sqlx::query_scalar("SELECT record_key FROM apps WHERE app_pk = $1")
        .bind(app_pk)
        .fetch_one(conn)
        .await?;
    Ok(entitle_domain::keys::keyed_hash(&record_key, message))
}

/// The app's internal key for a request that names a profile: an unknown app has no profiles.
pub async fn profile_app(conn: &mut PgConnection, app: AppId) -> Result<i64> {
    app_pk(conn, app).await.map_err(|error| match error {
        Error::Store(StoreError::AppNotFound) => Error::Store(StoreError::ProfileNotFound),
        other => other,
    })
}

pub async fn create_app(
    conn: &mut PgConnection,
    name: &str,
    key: &NewKey,
    at: Timestamp,
) -> Result<AppRecord> {
    let app_id = AppId::new_random();
    let record_key: Vec<u8> = [
        *uuid::Uuid::new_v4().as_bytes(),
        *uuid::Uuid::new_v4().as_bytes(),
    ]
    .concat();
    let app_pk: i64 = sqlx::query_scalar(
        "INSERT INTO apps (app_id, name, record_key, created_at) VALUES ($1, $2, $3, $4)
         RETURNING app_pk",
    )
    .bind(app_id.as_uuid())
    .bind(name)
    .bind(record_key)
    .bind(micros(at))
    .fetch_one(&mut *conn)
    .await?;
    insert_key(conn, app_pk, key, at).await?;
    Ok(AppRecord {
        app_id,
        name: name.to_owned(),
        created_at: at,
    })
}

/// Any constant shared by every entitle node: "first app" for the bootstrap lock.
const FIRST_APP_LOCK: i64 = 0x0066_6972_7374_6170;

/// The first app, only if there is none. Nodes starting together take a transaction-scoped
/// advisory lock, so one of them creates it and the others find it.
pub async fn create_first_app(
    conn: &mut PgConnection,
    name: &str,
    key: &NewKey,
    at: Timestamp,
) -> Result<Option<AppRecord>> {
    sqlx::query("SELECT pg_advisory_xact_lock($1)")
        .bind(FIRST_APP_LOCK)
        .execute(&mut *conn)
        .await?;
    let exists: bool = sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM apps)")
        .fetch_one(&mut *conn)
        .await?;
    if exists {
        return Ok(None);
    }
    create_app(conn, name, key, at).await.map(Some)
}

pub async fn list_apps(conn: &mut PgConnection) -> Result<Vec<AppRecord>> {
    let rows = sqlx::query("SELECT app_id, name, created_at FROM apps ORDER BY app_pk")
        .fetch_all(conn)
        .await?;
    rows.iter()
        .map(|row| {
            Ok(AppRecord {
                app_id: AppId::from_uuid(row.try_get(0)?),
                name: row.try_get(1)?,
                created_at: timestamp(row.try_get(2)?),
            })
        })
        .collect()
}

pub async fn create_key(
    conn: &mut PgConnection,
    app: AppId,
    key: &NewKey,
    at: Timestamp,
) -> Result<KeyRecord> {
    let app_pk = app_pk(conn, app).await?;
    insert_key(conn, app_pk, key, at).await?;
    Ok(KeyRecord {
        key_id: key.key_id,
        app_id: app,
        created_at: at,
        revoked_at: None,
    })
}

async fn insert_key(
    conn: &mut PgConnection,
    app_pk: i64,
    key: &NewKey,
    at: Timestamp,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO api_keys (lookup, key_id, app_pk, secret_sha256, created_at)
         VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(&key.lookup)
    .bind(key.key_id.as_uuid())
    .bind(app_pk)
    .bind(key.secret_hash.0.as_slice())
    .bind(micros(at))
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn revoke_key(conn: &mut PgConnection, key: KeyId, at: Timestamp) -> Result<KeyRecord> {
    let row = sqlx::query(
        "UPDATE api_keys k SET revoked_at = COALESCE(k.revoked_at, $2)
           FROM apps a
          WHERE k.key_id = $1 AND a.app_pk = k.app_pk
         RETURNING a.app_id, k.created_at, k.revoked_at",
    )
    .bind(key.as_uuid())
    .bind(micros(at))
    .fetch_optional(conn)
    .await?
    .ok_or(Error::Store(StoreError::KeyNotFound))?;
    Ok(KeyRecord {
        key_id: key,
        app_id: AppId::from_uuid(row.try_get(0)?),
        created_at: timestamp(row.try_get(1)?),
        revoked_at: row.try_get::<Option<i64>, _>(2)?.map(timestamp),
    })
}
