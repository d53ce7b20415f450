//! App configuration commands. A running server reads configuration from the database on every
//! request that needs it, so changes take effect without a restart.

use anyhow::Context;
use entitle_domain::AppId;
use entitle_domain::datetime::Timestamp;
use entitle_domain::purchase::{
    AccessLevelId, CurrencyCode, Environment, SharingPolicy, StoreId, UsdRate,
};
use serde_json::json;

use super::output::print;
use crate::backend::Backend;
use crate::config::DatabaseUrl;

fn app(app_id: &str) -> anyhow::Result<AppId> {
    AppId::parse(app_id).context("--app must be an app id (a UUID)")
}

fn level(id: &str) -> anyhow::Result<AccessLevelId> {
    AccessLevelId::parse(id)
        .context("an access level id is 1 to 100 letters, digits, '_', '-' or '.'")
}

pub async fn add_access_level(
    database_url: &DatabaseUrl,
    app_id: &str,
    id: &str,
    json: bool,
) -> anyhow::Result<()> {
    let (app, level) = (app(app_id)?, level(id)?);
    let result = Backend::call_once(database_url, async |db| {
        db.add_access_level(app, level.clone(), Timestamp::now())
            .await
    })
    .await?;
    result.with_context(|| format!("cannot add access level to app {app}"))?;
    let value = json!({ "app_id": app.to_string(), "access_level_id": level.as_str() });
    print(json, &value, || {
        format!("access level `{}` exists in app {app}", level.as_str())
    });
    Ok(())
}

pub async fn list_access_levels(
    database_url: &DatabaseUrl,
    app_id: &str,
    json: bool,
) -> anyhow::Result<()> {
    let app = app(app_id)?;
    let result =
        Backend::call_once(database_url, async |db| db.list_access_levels(app).await).await?;
    let levels = result.with_context(|| format!("cannot list access levels of app {app}"))?;
    let names: Vec<&str> = levels.iter().map(AccessLevelId::as_str).collect();
    print(json, &json!(names), || names.join("\n"));
    Ok(())
}

pub async fn set_product(
    database_url: &DatabaseUrl,
    app_id: &str,
    store: &str,
    product_id: &str,
    access_level: &str,
    json: bool,
) -> anyhow::Result<()> {
    let (app, level) = (app(app_id)?, level(access_level)?);
    let store =
        StoreId::parse(store).context("--store must be a store name of at most 100 characters")?;
    anyhow::ensure!(!product_id.is_empty(), "--product-id must not be empty");
    let result = Backend::call_once(database_url, async |db| {
        db.set_product(app, store.clone(), product_id, level.clone())
            .await
    })
    .await?;
    result.with_context(|| format!("cannot map product `{product_id}`"))?;
    let value = json!({
        "app_id": app.to_string(),
        "store": store.as_str(),
        "store_product_id": product_id,
        "access_level_id": level.as_str(),
    });
    print(json, &value, || {
        format!(
            "{} `{product_id}` now grants `{}`",
            store.as_str(),
            level.as_str()
        )
    });
    Ok(())
}

pub async fn set_sharing(
    database_url: &DatabaseUrl,
    app_id: &str,
    environment: &str,
    policy: &str,
    json: bool,
) -> anyhow::Result<()> {
    let app = app(app_id)?;
    let environment = match environment {
        "sandbox" => Environment::Sandbox,
        _ => Environment::Production,
    };
    let policy =
        SharingPolicy::parse(policy).context("--policy must be enabled, transfer or disabled")?;
    let result = Backend::call_once(database_url, async |db| {
        db.set_sharing_policy(app, environment, policy).await
    })
    .await?;
    result.with_context(|| format!("cannot set the sharing policy of app {app}"))?;
    let value = json!({
        "app_id": app.to_string(),
        "environment": environment.as_str().to_lowercase(),
        "policy": policy.as_str(),
    });
    print(json, &value, || {
        format!(
            "{} sharing in app {app} is now `{}`",
            environment.as_str(),
            policy.as_str()
        )
    });
    Ok(())
}

/// A currency other than the US dollar, as rates are keyed.
fn foreign_currency(currency: &str) -> anyhow::Result<CurrencyCode> {
    let code = CurrencyCode::parse(currency)
        .context("--currency must be an ISO 4217 code of three letters, e.g. EUR")?;
    anyhow::ensure!(
        !code.is_usd(),
        "USD needs no rate: its prices count as charged"
    );
    Ok(code)
}

pub async fn set_exchange_rate(
    database_url: &DatabaseUrl,
    app_id: &str,
    currency: &str,
    usd_per_unit: f64,
    json: bool,
) -> anyhow::Result<()> {
    let (app, currency) = (app(app_id)?, foreign_currency(currency)?);
    let rate = UsdRate::new(usd_per_unit).with_context(|| {
        format!(
            "--usd-per-unit must be a number above 0 and at most {}",
            UsdRate::MAX
        )
    })?;
    let result = Backend::call_once(database_url, async |db| {
        db.set_exchange_rate(app, &currency, rate).await
    })
    .await?;
    result.with_context(|| format!("cannot set the rate of {currency} in app {app}"))?;
    let value = json!({
        "app_id": app.to_string(),
        "currency": currency.as_str(),
        "usd_per_unit": rate.usd_per_unit(),
    });
    print(json, &value, || {
        format!(
            "1 {currency} counts as {} USD in app {app} from now on",
            rate.usd_per_unit()
        )
    });
    Ok(())
}

pub async fn remove_exchange_rate(
    database_url: &DatabaseUrl,
    app_id: &str,
    currency: &str,
    json: bool,
) -> anyhow::Result<()> {
    let (app, currency) = (app(app_id)?, foreign_currency(currency)?);
    let result = Backend::call_once(database_url, async |db| {
        db.remove_exchange_rate(app, &currency).await
    })
    .await?;
    let removed =
        result.with_context(|| format!("cannot remove the rate of {currency} in app {app}"))?;
    anyhow::ensure!(removed, "app {app} has no rate for {currency}");
    let value =
        json!({ "app_id": app.to_string(), "currency": currency.as_str(), "removed": true });
    print(json, &value, || {
        format!("{currency} is no longer converted in app {app}")
    });
    Ok(())
}

pub async fn list_exchange_rates(
    database_url: &DatabaseUrl,
    app_id: &str,
    json: bool,
) -> anyhow::Result<()> {
    let app = app(app_id)?;
    let result =
        Backend::call_once(database_url, async |db| db.list_exchange_rates(app).await).await?;
    let rates = result.with_context(|| format!("cannot list the rates of app {app}"))?;
    let value: serde_json::Map<String, serde_json::Value> = rates
        .iter()
        .map(|(currency, rate)| (currency.to_string(), json!(rate.usd_per_unit())))
        .collect();
    print(json, &json!(value), || {
        rates
            .iter()
            .map(|(currency, rate)| format!("{currency} {}", rate.usd_per_unit()))
            .collect::<Vec<_>>()
            .join("\n")
    });
    Ok(())
}
