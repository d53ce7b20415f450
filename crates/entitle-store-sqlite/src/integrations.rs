//! Webhook integrations.

use entitle_domain::datetime::Timestamp;
use entitle_domain::events::EventType;
use entitle_domain::purchase::Environment;
use entitle_domain::{AppId, IntegrationId};
use entitle_store::{Integration, IntegrationRow, StoreError, StoreResult};
use rusqlite::{Connection, params};

use crate::apps::app_pk;
use crate::codec::{backend, micros, timestamp, uuid_column};

const COLUMNS: &str =
    "i.integration_pk, i.integration_id, a.app_id, i.url, i.authorization, i.environment,
                       i.event_types, i.signing_secret, i.created_at, i.failing_since";

fn read(row: &rusqlite::Row<'_>) -> rusqlite::Result<IntegrationRow> {
    let environment: Option<String> = row.get(5)?;
    let events: Option<String> = row.get(6)?;
    Ok(IntegrationRow {
        integration_pk: row.get(0)?,
        integration: Integration {
            integration_id: IntegrationId::from_uuid(uuid_column(row, 1)?),
            app_id: AppId::from_uuid(uuid_column(row, 2)?),
            url: row.get(3)?,
            authorization: row.get(4)?,
            environment: environment.as_deref().and_then(Environment::parse),
            events: events.map(|text| text.split(',').filter_map(EventType::parse).collect()),
            signing_secret: row.get(7)?,
            created_at: timestamp(row.get(8)?),
            failing_since: row.get::<_, Option<i64>>(9)?.map(timestamp),
        },
    })
}

pub fn active_integrations(conn: &Connection, app_pk: i64) -> StoreResult<Vec<IntegrationRow>> {
    let mut statement = conn
        .prepare_cached(&format!(
            "SELECT {COLUMNS} FROM integrations i JOIN apps a ON a.app_pk = i.app_pk
              WHERE i.app_pk = ?1 AND i.removed_at IS NULL ORDER BY i.integration_pk"
        ))
        .map_err(backend)?;
    let rows = statement.query_map([app_pk], read).map_err(backend)?;
    rows.collect::<Result<_, _>>().map_err(backend)
}

pub fn add(conn: &Connection, integration: &Integration) -> StoreResult<Integration> {
    let app_pk = app_pk(conn, integration.app_id)?;
    let events = integration.events.as_ref().map(|types| {
        types
            .iter()
            .map(|t| t.as_str())
            .collect::<Vec<_>>()
            .join(",")
    });
    conn.execute(
        "INSERT INTO integrations (integration_id, app_pk, url, authorization, environment, event_types, signing_secret, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        params![
            integration.integration_id.as_bytes(),
            app_pk,
            integration.url,
            integration.authorization,
            integration.environment.map(Environment::as_str),
            events,
            integration.signing_secret,
            micros(integration.created_at)
        ],
    )
    .map_err(backend)?;
    Ok(Integration {
        failing_since: None,
        ..integration.clone()
    })
}

pub fn list(conn: &Connection, app: Option<AppId>) -> StoreResult<Vec<Integration>> {
    match app {
        Some(app) => {
            let app_pk = app_pk(conn, app)?;
            Ok(active_integrations(conn, app_pk)?
                .into_iter()
                .map(|r| r.integration)
                .collect())
        }
        None => {
            let mut statement = conn
                .prepare_cached(&format!(
                    "SELECT {COLUMNS} FROM integrations i JOIN apps a ON a.app_pk = i.app_pk
                      WHERE i.removed_at IS NULL ORDER BY i.integration_pk"
                ))
                .map_err(backend)?;
            let rows = statement.query_map([], read).map_err(backend)?;
            rows.map(|row| row.map(|r| r.integration).map_err(backend))
                .collect()
        }
    }
}

pub fn remove(conn: &Connection, id: IntegrationId, at: Timestamp) -> StoreResult<Integration> {
    let row = conn
        .prepare_cached(&format!(
            "SELECT {COLUMNS} FROM integrations i JOIN apps a ON a.app_pk = i.app_pk
              WHERE i.integration_id = ?1 AND i.removed_at IS NULL"
        ))
        .map_err(backend)?
        .query_row([id.as_bytes()], read)
        .map_err(|error| match error {
            rusqlite::Error::QueryReturnedNoRows => StoreError::IntegrationNotFound,
            other => backend(other),
        })?;
    conn.execute(
        "UPDATE integrations SET removed_at = ?2 WHERE integration_pk = ?1",
        params![row.integration_pk, micros(at)],
    )
    .map_err(backend)?;
    conn.execute(
        "UPDATE deliveries SET status = 'cancelled', next_attempt_at = NULL, lease_owner = NULL, lease_until = NULL
          WHERE integration_pk = ?1 AND status = 'pending'",
        [row.integration_pk],
    )
    .map_err(backend)?;
    Ok(row.integration)
}
