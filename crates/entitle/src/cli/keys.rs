use anyhow::Context;
use entitle_domain::datetime::Timestamp;
use entitle_domain::keys::ApiSecret;
use entitle_domain::{AppId, KeyId};
use entitle_store::NewKey;
use serde_json::json;

use super::output::print;
use crate::backend::Backend;
use crate::config::DatabaseUrl;

/// A fresh secret and the record that stores it (its hash, never the secret).
pub fn new_key() -> (NewKey, ApiSecret) {
    let secret = ApiSecret::generate(&mut rand::rng());
    let key = NewKey {
        key_id: KeyId::new_random(),
        lookup: secret.lookup().to_owned(),
        secret_hash: secret.hash(),
    };
    (key, secret)
}

pub async fn create(database_url: &DatabaseUrl, app_id: &str, json: bool) -> anyhow::Result<()> {
    let app_id = AppId::parse(app_id).context("--app must be an app id (a UUID)")?;
    let (key, secret) = new_key();
    let record = Backend::call_once(database_url, async |db| {
        db.create_key(app_id, key, Timestamp::now()).await
    })
    .await?;
    let record = record.with_context(|| format!("cannot create a key for app {app_id}"))?;
    let value = json!({ "key_id": record.key_id.to_string(), "secret_key": secret.expose() });
    print(json, &value, || value.to_string());
    if !json {
        eprintln!("Store the secret key now: it is not shown again.");
    }
    Ok(())
}

pub async fn revoke(database_url: &DatabaseUrl, key_id: &str, json: bool) -> anyhow::Result<()> {
    let key_id = KeyId::parse(key_id).context("--key must be a key id (a UUID)")?;
    let record = Backend::call_once(database_url, async |db| {
        db.revoke_key(key_id, Timestamp::now()).await
    })
    .await?;
    let record = record.with_context(|| format!("cannot revoke key {key_id}"))?;
    let revoked_at = record.revoked_at.map(Timestamp::to_rfc3339);
    let value = json!({ "key_id": key_id.to_string(), "app_id": record.app_id.to_string(), "revoked_at": revoked_at });
    print(json, &value, || {
        format!("revoked key {key_id} of app {}", record.app_id)
    });
    Ok(())
}
