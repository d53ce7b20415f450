//! Apps and API keys.

use entitle_domain::datetime::Timestamp;
use entitle_domain::keys::SecretHash;
use entitle_domain::{AppId, KeyId};
use entitle_store::{ApiKeyRecord, AppRecord, KeyRecord, NewKey, StoreError, StoreResult};
use rusqlite::{Connection, OptionalExtension, params};

use crate::codec::{backend, micros, timestamp, uuid_column};

/// The key and the internal key of its app.
pub fn find_key_in_app(
    conn: &Connection,
    lookup: &str,
) -> StoreResult<Option<(ApiKeyRecord, i64)>> {
    conn.prepare_cached(
        "SELECT k.key_id, a.app_id, k.secret_sha256, k.revoked_at IS NOT NULL, a.app_pk
           FROM api_keys k JOIN apps a ON a.app_pk = k.app_pk
          WHERE k.lookup = ?1",
    )
    .map_err(backend)?
    .query_row([lookup], |row| {
        let key = ApiKeyRecord {
            key_id: KeyId::from_uuid(uuid_column(row, 0)?),
            app_id: AppId::from_uuid(uuid_column(row, 1)?),
            secret_hash: SecretHash(row.get(2)?),
            revoked: row.get(3)?,
        };
        Ok((key, row.get(4)?))
    })
    .optional()
    .map_err(backend)
}

/// The internal key of an app, or `AppNotFound`.
pub fn app_pk(conn: &Connection, app: AppId) -> StoreResult<i64> {
    conn.prepare_cached("SELECT app_pk FROM apps WHERE app_id = ?1")
        .map_err(backend)?
        .query_row([app.as_bytes()], |row| row.get(0))
        .optional()
        .map_err(backend)?
        .ok_or(StoreError::AppNotFound)
}

/// `message` hashed with the app's record key (a deletion record's profile, a deletion job's
/// list): matchable by whoever knows the message, readable by no one.
pub fn record_hash(conn: &Connection, app_pk: i64, message: &[u8]) -> StoreResult<[u8; 32]> {
    let record_key: Vec<u8> = conn
        .prepare_cached("SELECT record_key FROM apps WHERE app_pk = ?1")
        .map_err(backend)?
        .query_row([app_pk], |row| row.get(0))
        .map_err(backend)?;
    Ok(entitle_domain::keys::keyed_hash(&record_key, message))
}

pub fn create_app(
    conn: &Connection,
    name: &str,
    key: &NewKey,
    at: Timestamp,
) -> StoreResult<AppRecord> {
    let app_id = AppId::new_random();
    let record_key: Vec<u8> = [
        *uuid::Uuid::new_v4().as_bytes(),
        *uuid::Uuid::new_v4().as_bytes(),
    ]
    .concat();
    conn.execute(
        "INSERT INTO apps (app_id, name, record_key, created_at) VALUES (?1, ?2, ?3, ?4)",
        params![app_id.as_bytes(), name, record_key, micros(at)],
    )
    .map_err(backend)?;
    insert_key(conn, conn.last_insert_rowid(), key, at)?;
    Ok(AppRecord {
        app_id,
        name: name.to_owned(),
        created_at: at,
    })
}

pub fn list_apps(conn: &Connection) -> StoreResult<Vec<AppRecord>> {
    let mut statement = conn
        .prepare_cached("SELECT app_id, name, created_at FROM apps ORDER BY app_pk")
        .map_err(backend)?;
    let rows = statement
        .query_map([], |row| {
            Ok(AppRecord {
                app_id: AppId::from_uuid(uuid_column(row, 0)?),
                name: row.get(1)?,
                created_at: timestamp(row.get(2)?),
            })
        })
        .map_err(backend)?;
    rows.collect::<Result<_, _>>().map_err(backend)
}

pub fn create_key(
    conn: &Connection,
    app: AppId,
    key: &NewKey,
    at: Timestamp,
) -> StoreResult<KeyRecord> {
    let app_pk = app_pk(conn, app)?;
    insert_key(conn, app_pk, key, at)?;
    Ok(KeyRecord {
        key_id: key.key_id,
        app_id: app,
        created_at: at,
        revoked_at: None,
    })
}

fn insert_key(conn: &Connection, app_pk: i64, key: &NewKey, at: Timestamp) -> StoreResult<()> {
    conn.execute(
        "INSERT INTO api_keys (lookup, key_id, app_pk, secret_sha256, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5)",
        params![
            key.lookup,
            key.key_id.as_bytes(),
            app_pk,
            key.secret_hash.0,
            micros(at)
        ],
    )
    .map_err(backend)?;
    Ok(())
}

pub fn revoke_key(conn: &Connection, key: KeyId, at: Timestamp) -> StoreResult<KeyRecord> {
    conn.execute(
        "UPDATE api_keys SET revoked_at = COALESCE(revoked_at, ?2) WHERE key_id = ?1",
        params![key.as_bytes(), micros(at)],
    )
    .map_err(backend)?;
    conn.query_row(
        "SELECT a.app_id, k.created_at, k.revoked_at
           FROM api_keys k JOIN apps a ON a.app_pk = k.app_pk WHERE k.key_id = ?1",
        [key.as_bytes()],
        |row| {
            Ok(KeyRecord {
                key_id: key,
                app_id: AppId::from_uuid(uuid_column(row, 0)?),
                created_at: timestamp(row.get(1)?),
                revoked_at: row.get::<_, Option<i64>>(2)?.map(timestamp),
            })
        },
    )
    .optional()
    .map_err(backend)?
    .ok_or(StoreError::KeyNotFound)
}

/// The first app, only if there is none (the single writer makes the check and insert atomic).
pub fn create_first_app(
    conn: &Connection,
    name: &str,
    key: &NewKey,
    at: Timestamp,
) -> StoreResult<Option<AppRecord>> {
    let apps: i64 = conn
        .query_row("SELECT COUNT(*) FROM apps", [], |row| row.get(0))
        .map_err(backend)?;
    if apps > 0 {
        return Ok(None);
    }
    create_app(conn, name, key, at).map(Some)
}
