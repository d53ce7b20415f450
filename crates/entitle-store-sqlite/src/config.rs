//! App configuration: access levels, products, sharing policies, exchange rates.

use entitle_domain::AppId;
use entitle_domain::datetime::Timestamp;
use entitle_domain::purchase::{
    AccessLevelId, CurrencyCode, Environment, SharingPolicy, StoreId, UsdRate,
    product_without_base_plan,
};
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

/// The access level a product grants; an unmapped product grants `premium`. A Google Play
/// `product_id:base_plan_id` maps as mapped whole, else as its product is mapped.
pub fn access_level_of_product(
    conn: &Connection,
    app_pk: i64,
    store: &StoreId,
    product: &str,
) -> StoreResult<AccessLevelId> {
    let without_plan = product_without_base_plan(store.as_str(), product);
    let mapped: Option<String> = conn
        .prepare_cached(
            "SELECT access_level_id FROM products
              WHERE app_pk = ?1 AND store = ?2 AND store_product_id IN (?3, ?4)
              ORDER BY store_product_id = ?3 DESC LIMIT 1",
        )
        .map_err(backend)?
        .query_row(
            params![app_pk, store.as_str(), product, without_plan],
            |row| row.get(0),
        )
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

/// US dollars per unit of `currency` for the app's transactions now (`None` for USD, whose
/// prices need none, and for a currency without a rate).
pub fn usd_per_unit(conn: &Connection, app_pk: i64, currency: &str) -> StoreResult<Option<f64>> {
    let Some(code) = CurrencyCode::parse(currency).filter(|code| !code.is_usd()) else {
        return Ok(None);
    };
    conn.prepare_cached(
        "SELECT usd_per_unit FROM exchange_rates WHERE app_pk = ?1 AND currency = ?2",
    )
    .map_err(backend)?
    .query_row(params![app_pk, code.as_str()], |row| row.get(0))
    .optional()
    .map_err(backend)
}

pub fn set_exchange_rate(
    conn: &Connection,
    app: AppId,
    currency: &CurrencyCode,
    rate: UsdRate,
) -> StoreResult<()> {
    let app_pk = app_pk(conn, app)?;
    conn.execute(
        "INSERT INTO exchange_rates (app_pk, currency, usd_per_unit) VALUES (?1, ?2, ?3)
         ON CONFLICT (app_pk, currency) DO UPDATE SET usd_per_unit = excluded.usd_per_unit",
        params![app_pk, currency.as_str(), rate.usd_per_unit()],
    )
    .map_err(backend)?;
    Ok(())
}

pub fn remove_exchange_rate(
    conn: &Connection,
    app: AppId,
    currency: &CurrencyCode,
) -> StoreResult<bool> {
    let app_pk = app_pk(conn, app)?;
    let removed = conn
        .execute(
            "DELETE FROM exchange_rates WHERE app_pk = ?1 AND currency = ?2",
            params![app_pk, currency.as_str()],
        )
        .map_err(backend)?;
    Ok(removed > 0)
}

pub fn list_exchange_rates(
    conn: &Connection,
    app: AppId,
) -> StoreResult<Vec<(CurrencyCode, UsdRate)>> {
    let app_pk = app_pk(conn, app)?;
    let mut statement = conn
        .prepare_cached(
            "SELECT currency, usd_per_unit FROM exchange_rates WHERE app_pk = ?1 ORDER BY currency",
        )
        .map_err(backend)?;
    let rows = statement
        .query_map([app_pk], |row| {
            Ok((row.get::<_, String>(0)?, row.get::<_, f64>(1)?))
        })
        .map_err(backend)?;
    let mut rates = Vec::new();
    for row in rows {
        let (currency, value) = row.map_err(backend)?;
        let rate = CurrencyCode::parse(&currency)
            .zip(UsdRate::new(value))
            .ok_or_else(|| StoreError::Backend(format!("stored rate of {currency} unreadable")))?;
        rates.push(rate);
    }
    Ok(rates)
}
