use entitle_domain::datetime::Timestamp;
use serde_json::json;

use super::keys::new_key;
use super::output::print;
use crate::backend::Backend;
use crate::config::DatabaseUrl;

pub async fn create(database_url: &DatabaseUrl, name: &str, json: bool) -> anyhow::Result<()> {
    let name = name.trim();
    anyhow::ensure!(!name.is_empty(), "an app needs a non-empty --name");
    let (key, secret) = new_key();
    let key_id = key.key_id;
    let app = Backend::call_once(database_url, async |db| {
        db.create_app(name, key, Timestamp::now()).await
    })
    .await?;
    let app = app?;
    // The key's id too: deletion records name it, and `keys revoke` takes it.
    let value = json!({
        "app_id": app.app_id.to_string(),
        "key_id": key_id.to_string(),
        "secret_key": secret.expose(),
    });
    print(json, &value, || value.to_string());
    if !json {
        eprintln!("Store the secret key now: it is not shown again.");
    }
    Ok(())
}

pub async fn list(database_url: &DatabaseUrl, json: bool) -> anyhow::Result<()> {
    let apps = Backend::call_once(database_url, async |db| db.list_apps().await).await?;
    let apps = apps?;
    let value = json!(
        apps.iter()
            .map(|app| json!({
                "app_id": app.app_id.to_string(),
                "name": app.name,
                "created_at": app.created_at.to_rfc3339(),
            }))
            .collect::<Vec<_>>()
    );
    print(json, &value, || {
        let mut lines = vec![format!("{:<36}  {:<25}  NAME", "APP_ID", "CREATED_AT")];
        lines.extend(apps.iter().map(|app| {
            format!(
                "{}  {}  {}",
                app.app_id,
                app.created_at.to_rfc3339(),
                app.name
            )
        }));
        lines.join("\n")
    });
    Ok(())
}
