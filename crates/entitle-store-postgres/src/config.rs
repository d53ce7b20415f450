//! App configuration: access levels, products, sharing policies, exchange rates.

use entitle_domain::AppId;
use entitle_domain::datetime::Timestamp;
use entitle_domain::purchase::{
    AccessLevelId, CurrencyCode, Environment, SharingPolicy, StoreId, UsdRate,
    product_without_base_plan,
};
use entitle_store::StoreError;
use sqlx::PgConnection;

use crate::apps::app_pk;
use crate::codec::micros;
use crate::error::{Error, Result};

/// `premium` always exists; other levels exist once added.
pub async fn access_level_exists(
    conn: &mut PgConnection,
    app_pk: i64,
    level: &AccessLevelId,
) -> Result<bool> {
    if *level == AccessLevelId::premium() {
        return Ok(true);
    }
    let found: Option<i32> = sqlx::query_scalar(
        "SELECT 1 FROM access_levels WHERE app_pk = $1 AND access_level_id = $2",
    )
    .bind(app_pk)
    .bind(level.as_str())
    .fetch_optional(conn)
    .await?;
    Ok(found.is_some())
}

pub async fn require_access_level(
    conn: &mut PgConnection,
    app_pk: i64,
    level: &AccessLevelId,
) -> Result<()> {
    if access_level_exists(conn, app_pk, level).await? {
        Ok(())
    } else {
        Err(Error::Store(StoreError::AccessLevelNotFound(level.clone())))
    }
}

/// The access level a product grants; an unmapped product grants `premium`. A Google Play
/// `product_id:base_plan_id` maps as mapped whole, else as its product is mapped.
pub async fn access_level_of_product(
    conn: &mut PgConnection,
    app_pk: i64,
    store: &StoreId,
    product: &str,
) -> Result<AccessLevelId> {
    let without_plan = product_without_base_plan(store.as_str(), product);
    let mapped: Option<String> = sqlx::query_scalar(
        "SELECT access_level_id FROM products
          WHERE app_pk = $1 AND store = $2 AND store_product_id IN ($3, $4)
          ORDER BY store_product_id = $3 DESC LIMIT 1",
    )
    .bind(app_pk)
    .bind(store.as_str())
    .bind(product)
    .bind(without_plan)
    .fetch_optional(conn)
    .await?;
    Ok(mapped
        .and_then(|text| AccessLevelId::parse(&text))
        .unwrap_or_else(AccessLevelId::premium))
}

pub async fn sharing_policy(
    conn: &mut PgConnection,
    app_pk: i64,
    environment: Environment,
) -> Result<SharingPolicy> {
    let text: String = sqlx::query_scalar(
        "SELECT CASE WHEN $2 THEN sharing_production ELSE sharing_sandbox END
           FROM apps WHERE app_pk = $1",
    )
    .bind(app_pk)
    .bind(environment == Environment::Production)
    .fetch_one(conn)
    .await?;
    Ok(SharingPolicy::parse(&text).unwrap_or_default())
}

pub async fn add_access_level(
    conn: &mut PgConnection,
    app: AppId,
    level: &AccessLevelId,
    at: Timestamp,
) -> Result<()> {
    let app_pk = app_pk(conn, app).await?;
    sqlx::query(
        "INSERT INTO access_levels (app_pk, access_level_id, created_at) VALUES ($1, $2, $3)
         ON CONFLICT DO NOTHING",
    )
    .bind(app_pk)
    .bind(level.as_str())
    .bind(micros(at))
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn list_access_levels(conn: &mut PgConnection, app: AppId) -> Result<Vec<AccessLevelId>> {
    let app_pk = app_pk(conn, app).await?;
    let rows: Vec<String> = sqlx::query_scalar(
        "SELECT access_level_id FROM access_levels WHERE app_pk = $1
          ORDER BY access_level_id COLLATE \"C\"",
    )
    .bind(app_pk)
    .fetch_all(conn)
    .await?;
    let mut levels = vec![AccessLevelId::premium()];
    for text in rows {
        if let Some(level) = AccessLevelId::parse(&text)
            && !levels.contains(&level)
        {
            levels.push(level);
        }
    }
    Ok(levels)
}

pub async fn set_product(
    conn: &mut PgConnection,
    app: AppId,
    store: &StoreId,
    product: &str,
    level: &AccessLevelId,
) -> Result<()> {
    let app_pk = app_pk(conn, app).await?;
    require_access_level(conn, app_pk, level).await?;
    sqlx::query(
        "INSERT INTO products (app_pk, store, store_product_id, access_level_id)
         VALUES ($1, $2, $3, $4)
         ON CONFLICT (app_pk, store, store_product_id)
         DO UPDATE SET access_level_id = excluded.access_level_id",
    )
    .bind(app_pk)
    .bind(store.as_str())
    .bind(product)
    .bind(level.as_str())
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn set_sharing_policy(
    conn: &mut PgConnection,
    app: AppId,
    environment: Environment,
    policy: SharingPolicy,
) -> Result<()> {
    let app_pk = app_pk(conn, app).await?;
    let sql = match environment {
        Environment::Production => "UPDATE apps SET sharing_production = $2 WHERE app_pk = $1",
        Environment::Sandbox => "UPDATE apps SET sharing_sandbox = $2 WHERE app_pk = $1",
    };
    sqlx::query(sql)
        .bind(app_pk)
        .bind(policy.as_str())
        .execute(conn)
        .await?;
    Ok(())
}

/// US dollars per unit of `currency` for the app's transactions now (`None` for USD, whose
/// prices need none, and for a currency without a rate).
pub async fn usd_per_unit(
    conn: &mut PgConnection,
    app_pk: i64,
    currency: &str,
) -> Result<Option<f64>> {
    let Some(code) = CurrencyCode::parse(currency).filter(|code| !code.is_usd()) else {
        return Ok(None);
    };
    Ok(sqlx::query_scalar(
        "SELECT usd_per_unit FROM exchange_rates WHERE app_pk = $1 AND currency = $2",
    )
    .bind(app_pk)
    .bind(code.as_str())
    .fetch_optional(conn)
    .await?)
}

pub async fn set_exchange_rate(
    conn: &mut PgConnection,
    app: AppId,
    currency: &CurrencyCode,
    rate: UsdRate,
) -> Result<()> {
    let app_pk = app_pk(conn, app).await?;
    sqlx::query(
        "INSERT INTO exchange_rates (app_pk, currency, usd_per_unit) VALUES ($1, $2, $3)
         ON CONFLICT (app_pk, currency) DO UPDATE SET usd_per_unit = excluded.usd_per_unit",
    )
    .bind(app_pk)
    .bind(currency.as_str())
    .bind(rate.usd_per_unit())
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn remove_exchange_rate(
    conn: &mut PgConnection,
    app: AppId,
    currency: &CurrencyCode,
) -> Result<bool> {
    let app_pk = app_pk(conn, app).await?;
    let removed = sqlx::query("DELETE FROM exchange_rates WHERE app_pk = $1 AND currency = $2")
        .bind(app_pk)
        .bind(currency.as_str())
        .execute(conn)
        .await?;
    Ok(removed.rows_affected() > 0)
}

pub async fn list_exchange_rates(
    conn: &mut PgConnection,
    app: AppId,
) -> Result<Vec<(CurrencyCode, UsdRate)>> {
    let app_pk = app_pk(conn, app).await?;
    let rows: Vec<(String, f64)> = sqlx::query_as(
        "SELECT currency, usd_per_unit FROM exchange_rates WHERE app_pk = $1
          ORDER BY currency COLLATE \"C\"",
    )
    .bind(app_pk)
    .fetch_all(conn)
    .await?;
    rows.into_iter()
        .map(|(currency, value)| {
            CurrencyCode::parse(&currency)
                .zip(UsdRate::new(value))
                .ok_or_else(|| crate::error::corrupt("exchange rate", currency))
        })
        .collect()
}
