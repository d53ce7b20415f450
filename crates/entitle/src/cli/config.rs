//! App configuration commands. A running server reads configuration from the database on every
//! request that needs it, so changes take effect without a restart.

use anyhow::Context;
use entitle_domain::AppId;
use entitle_domain::datetime::Timestamp;
use entitle_domain::purchase::{AccessLevelId, Environment, SharingPolicy, StoreId};
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
    let backend = Backend::open(database_url).await?;
    let result = backend
        .store()
        .add_access_level(app, level.clone(), Timestamp::now())
        .await;
    backend.close().await;
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
    let backend = Backend::open(database_url).await?;
    let result = backend.store().list_access_levels(app).await;
    backend.close().await;
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
    let backend = Backend::open(database_url).await?;
    let result = backend
        .store()
        .set_product(app, store.clone(), product_id, level.clone())
        .await;
    backend.close().await;
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
    let backend = Backend::open(database_url).await?;
    let result = backend
        .store()
        .set_sharing_policy(app, environment, policy)
        .await;
    backend.close().await;
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
