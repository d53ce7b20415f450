//! App configuration: access levels, products, sharing policies.

use entitle_domain::AppId;
use entitle_domain::datetime::Timestamp;
use entitle_domain::purchase::{AccessLevelId, Environment, SharingPolicy, StoreId};
use entitle_store::{StoreError, StoreResult};
use rusqlite::{Connection, OptionalExtension, params};

use crate::apps::app_pk;
use crate::codec::{backend, micros};

/// `premium` always exists; other levels exist once added.
pub fn access_level_exists(
    conn: &Connection,
    app_pk: i64,
    level: &AccessLevelId,
) -> StoreResult<bool> {
    if *level == AccessLevelId::premium() {
        return Ok(true);
    }
    conn.prepare_cached("SELECT 1 FROM access_levels WHERE app_pk = ?1 AND access_level_id = ?2")
        .map_err(backend)?
        .query_row(params![app_pk, level.as_str()], |_| Ok(()))
        .optional()
        .map(|found| found.is_some())
        .map_err(backend)
}

pub fn require_access_level(
    conn: &Connection,
    app_pk: i64,
    level: &AccessLevelId,
) -> StoreResult<()> {
    if access_level_exists(conn, app_pk, level)? {
        Ok(())
    } else {
        Err(StoreError::AccessLevelNotFound(level.clone()))
    }
}

/// The access level a product grants; an unmapped product grants `premium`.
pub fn access_level_of_product(
    conn: &Connection,
    app_pk: i64,
    store: &StoreId,
    product: &str,
) -> StoreResult<AccessLevelId> {
    let mapped: Option<String> = conn
        .prepare_cached(
            "SELECT access_level_id FROM products WHERE app_pk = ?1 AND store = ?2 AND store_product_id = ?3",
        )
        .map_err(backend)?
        .query_row(params![app_pk, store.as_str(), product], |row| row.get(0))
        .optional()
        .map_err(backend)?;
    Ok(mapped
        .and_then(|text| AccessLevelId::parse(&text))
        .unwrap_or_else(AccessLevelId::premium))
}

pub fn sharing_policy(
    conn: &Connection,
    app_pk: i64,
    environment: Environment,
) -> StoreResult<SharingPolicy> {
    let column = match environment {
        Environment::Production => "sharing_production",
        Environment::Sandbox => "sharing_sandbox",
    };
    let text: String = conn
        .prepare_cached(&format!("SELECT {column} FROM apps WHERE app_pk = ?1"))
        .map_err(backend)?
        .query_row([app_pk], |row| row.get(0))
        .map_err(backend)?;
    Ok(SharingPolicy::parse(&text).unwrap_or_default())
}

pub fn add_access_level(
    conn: &Connection,
    app: AppId,
    level: &AccessLevelId,
    at: Timestamp,
) -> StoreResult<()> {
    let app_pk = app_pk(conn, app)?;
    conn.execute(
        "INSERT OR IGNORE INTO access_levels (app_pk, access_level_id, created_at) VALUES (?1, ?2, ?3)",
        params![app_pk, level.as_str(), micros(at)],
    )
    .map_err(backend)?;
    Ok(())
}

pub fn list_access_levels(conn: &Connection, app: AppId) -> StoreResult<Vec<AccessLevelId>> {
    let app_pk = app_pk(conn, app)?;
    let mut statement = conn
        .prepare_cached(
            "SELECT access_level_id FROM access_levels WHERE app_pk = ?1 ORDER BY access_level_id",
        )
        .map_err(backend)?;
    let rows = statement
        .query_map([app_pk], |row| row.get::<_, String>(0))
        .map_err(backend)?;
    let mut levels = vec![AccessLevelId::premium()];
    for row in rows {
        if let Some(level) = AccessLevelId::parse(&row.map_err(backend)?)
            && !levels.contains(&level)
        {
            levels.push(level);
        }
    }
    Ok(levels)
}

pub fn set_product(
    conn: &Connection,
    app: AppId,
    store: &StoreId,
    product: &str,
    level: &AccessLevelId,
) -> StoreResult<()> {
    let app_pk = app_pk(conn, app)?;
    require_access_level(conn, app_pk, level)?;
    conn.execute(
        "INSERT INTO products (app_pk, store, store_product_id, access_level_id) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT (app_pk, store, store_product_id) DO UPDATE SET access_level_id = excluded.access_level_id",
        params![app_pk, store.as_str(), product, level.as_str()],
    )
    .map_err(backend)?;
    Ok(())
}

pub fn set_sharing_policy(
    conn: &Connection,
    app: AppId,
    environment: Environment,
    policy: SharingPolicy,
) -> StoreResult<()> {
    let app_pk = app_pk(conn, app)?;
    let column = match environment {
        Environment::Production => "sharing_production",
        Environment::Sandbox => "sharing_sandbox",
    };
    conn.execute(
        &format!("UPDATE apps SET {column} = ?2 WHERE app_pk = ?1"),
        params![app_pk, policy.as_str()],
    )
    .map_err(backend)?;
    Ok(())
}
