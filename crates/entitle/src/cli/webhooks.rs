//! Webhook integration commands.

use anyhow::Context;
use entitle_domain::datetime::Timestamp;
use entitle_domain::events::EventType;
use entitle_domain::purchase::Environment;
use entitle_domain::{AppId, IntegrationId};
use entitle_store::Integration;
use serde_json::{Value, json};

use super::output::print;
use crate::backend::Backend;
use crate::config::DatabaseUrl;

pub struct AddRequest {
    pub app_id: String,
    pub url: String,
    pub authorization: Option<String>,
    pub environment: Option<String>,
    pub events: Option<Vec<String>>,
}

fn describe(integration: &Integration) -> Value {
    json!({
        "integration_id": integration.integration_id.to_string(),
        "app_id": integration.app_id.to_string(),
        "url": integration.url,
        "environment": integration.environment.map(|e| e.as_str().to_lowercase()),
        "events": integration.events.as_ref().map(|types| types.iter().map(|t| t.as_str()).collect::<Vec<_>>()),
        "has_authorization": integration.authorization.is_some(),
        "created_at": integration.created_at.to_rfc3339(),
        "failing_since": integration.failing_since.map(|at| at.to_rfc3339()),
    })
}

pub async fn add(
    database_url: &DatabaseUrl,
    request: AddRequest,
    json_output: bool,
) -> anyhow::Result<()> {
    let app_id = AppId::parse(&request.app_id).context("--app must be an app id (a UUID)")?;
    let url = url_checked(&request.url)?;
    let events = request
        .events
        .map(|names| {
            names
                .iter()
                .map(|name| {
                    EventType::parse(name.trim())
                        .with_context(|| format!("`{name}` is not an event type"))
                })
                .collect::<anyhow::Result<Vec<_>>>()
        })
        .transpose()?;
    let integration = Integration {
        integration_id: IntegrationId::new_random(),
        app_id,
        url,
        authorization: request.authorization.filter(|a| !a.is_empty()),
        environment: request.environment.as_deref().map(|e| match e {
            "sandbox" => Environment::Sandbox,
            _ => Environment::Production,
        }),
        events,
        signing_secret: entitle_webhooks::generate_signing_secret(),
        created_at: Timestamp::now(),
        failing_since: None,
    };
    let added = Backend::call_once(database_url, async |db| {
        db.add_integration(integration).await
    })
    .await?;
    let added = added.with_context(|| format!("cannot add a webhook to app {app_id}"))?;
    let value = json!({
        "integration_id": added.integration_id.to_string(),
        "signing_secret": added.signing_secret,
    });
    print(json_output, &value, || value.to_string());
    if !json_output {
        eprintln!("Store the signing secret now: it is not shown again.");
    }
    Ok(())
}

/// http(s) URLs only, with no credentials in them; whether the address may be reached is
/// decided when delivering.
fn url_checked(text: &str) -> anyhow::Result<String> {
    let lower = text.to_ascii_lowercase();
    anyhow::ensure!(
        (lower.starts_with("http://") || lower.starts_with("https://"))
            && text.len() > "http://".len(),
        "--url must be an http:// or https:// URL"
    );
    // A user name or password in the URL would be shown by `webhooks list` and sent in place
    // of `--authorization`; the message does not repeat the URL, which holds them.
    let parsed =
        reqwest::Url::parse(text).map_err(|e| anyhow::anyhow!("--url is not a URL: {e}"))?;
    anyhow::ensure!(
        parsed.username().is_empty() && parsed.password().is_none(),
        "--url must not carry a user name or password; pass the receiver's credentials with --authorization"
    );
    Ok(text.to_owned())
}

pub async fn list(
    database_url: &DatabaseUrl,
    app_id: Option<&str>,
    json_output: bool,
) -> anyhow::Result<()> {
    let app = app_id
        .map(|id| AppId::parse(id).context("--app must be an app id (a UUID)"))
        .transpose()?;
    let listed =
        Backend::call_once(database_url, async |db| db.list_integrations(app).await).await?;
    let listed = listed?;
    let value = Value::Array(listed.iter().map(describe).collect());
    print(json_output, &value, || {
        listed
            .iter()
            .map(|i| {
                let health = match i.failing_since {
                    Some(at) => format!("  failing since {}", at.to_rfc3339()),
                    None => String::new(),
                };
                format!("{}  {}  {}{health}", i.integration_id, i.app_id, i.url)
            })
            .collect::<Vec<_>>()
            .join("\n")
    });
    Ok(())
}

pub async fn remove(
    database_url: &DatabaseUrl,
    integration_id: &str,
    json_output: bool,
) -> anyhow::Result<()> {
    let id = IntegrationId::parse(integration_id)
        .context("--integration must be an integration id (a UUID)")?;
    let removed = Backend::call_once(database_url, async |db| {
        db.remove_integration(id, Timestamp::now()).await
    })
    .await?;
    let removed = removed.with_context(|| format!("cannot remove integration {id}"))?;
    let value = json!({ "integration_id": removed.integration_id.to_string(), "removed": true });
    print(json_output, &value, || format!("removed integration {id}"));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::url_checked;

    #[test]
    fn webhook_urls_are_http_without_credentials() {
        assert!(url_checked("https://hooks.example.com/entitle?x=1").is_ok());
        assert!(url_checked("http://10.0.0.7:8080/in").is_ok());
        for refused in [
            "ftp://hooks.example.com/",
            "https://",
            "https://user:hunter2@hooks.example.com/in",
            "https://token@hooks.example.com/in",
            "http://:hunter2@hooks.example.com/",
        ] {
            let error = url_checked(refused).expect_err(refused).to_string();
            assert!(!error.contains("hunter2"), "{error}");
        }
        let error = url_checked("https://user:hunter2@hooks.example.com/in").unwrap_err();
        assert!(error.to_string().contains("--authorization"), "{error}");
    }
}
