//! Webhook integrations.

use entitle_domain::datetime::Timestamp;
use entitle_domain::events::EventType;
use entitle_domain::purchase::Environment;
use entitle_domain::{AppId, IntegrationId};
use entitle_store::{Integration, IntegrationRow, StoreError};
use sqlx::postgres::PgRow;
use sqlx::{PgConnection, Row};

use crate::apps::app_pk;
use crate::codec::{micros, timestamp};
use crate::error::{Error, Result};

const COLUMNS: &str = "i.integration_pk, i.integration_id, a.app_id, i.url, i.authorization_header,
                       i.environment, i.event_types, i.signing_secret, i.created_at, i.failing_since";

fn read(row: &PgRow) -> Result<IntegrationRow> {
    let environment: Option<String> = row.try_get(5)?;
    let events: Option<String> = row.try_get(6)?;
    Ok(IntegrationRow {
        integration_pk: row.try_get(0)?,
        integration: Integration {
            integration_id: IntegrationId::from_uuid(row.try_get(1)?),
            app_id: AppId::from_uuid(row.try_get(2)?),
            url: row.try_get(3)?,
            authorization: row.try_get(4)?,
            environment: environment.as_deref().and_then(Environment::parse),
            events: events.map(|text| text.split(',').filter_map(EventType::parse).collect()),
            signing_secret: row.try_get(7)?,
            created_at: timestamp(row.try_get(8)?),
            failing_since: row.try_get::<Option<i64>, _>(9)?.map(timestamp),
        },
    })
}

/// The app's integrations that take new deliveries. `FOR SHARE`: an integration being removed
/// concurrently waits for this transaction's deliveries and cancels them, or this transaction
/// waits for the removal and no longer sees it, so no delivery is left pending for a removed
/// integration.
pub async fn active_integrations(
    conn: &mut PgConnection,
    app_pk: i64,
) -> Result<Vec<IntegrationRow>> {
    let sql = format!(
        "SELECT {COLUMNS} FROM integrations i JOIN apps a ON a.app_pk = i.app_pk
          WHERE i.app_pk = $1 AND i.removed_at IS NULL ORDER BY i.integration_pk
            FOR SHARE OF i"
    );
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(app_pk)
        .fetch_all(conn)
        .await?;
    rows.iter().map(read).collect()
}

pub async fn add(conn: &mut PgConnection, integration: &Integration) -> Result<Integration> {
    let app_pk = app_pk(conn, integration.app_id).await?;
    let events = integration.events.as_ref().map(|types| {
        types
            .iter()
            .map(|t| t.as_str())
            .collect::<Vec<_>>()
            .join(",")
    });
    sqlx::query(
        "INSERT INTO integrations (integration_id, app_pk, url, authorization_header, environment,
                                   event_types, signing_secret, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(integration.integration_id.as_uuid())
    .bind(app_pk)
    .bind(&integration.url)
    .bind(&integration.authorization)
    .bind(integration.environment.map(Environment::as_str))
    .bind(events)
    .bind(&integration.signing_secret)
    .bind(micros(integration.created_at))
    .execute(conn)
    .await?;
    Ok(Integration {
        failing_since: None,
        ..integration.clone()
    })
}

pub async fn list(conn: &mut PgConnection, app: Option<AppId>) -> Result<Vec<Integration>> {
    let rows = match app {
        Some(app) => {
            let app_pk = app_pk(conn, app).await?;
            let sql = format!(
                "SELECT {COLUMNS} FROM integrations i JOIN apps a ON a.app_pk = i.app_pk
                  WHERE i.app_pk = $1 AND i.removed_at IS NULL ORDER BY i.integration_pk"
            );
            sqlx::query(sqlx::AssertSqlSafe(sql))
                .bind(app_pk)
                .fetch_all(conn)
                .await?
        }
        None => {
            let sql = format!(
                "SELECT {COLUMNS} FROM integrations i JOIN apps a ON a.app_pk = i.app_pk
                  WHERE i.removed_at IS NULL ORDER BY i.integration_pk"
            );
            sqlx::query(sqlx::AssertSqlSafe(sql))
                .fetch_all(conn)
                .await?
        }
    };
    rows.iter()
        .map(|row| read(row).map(|r| r.integration))
        .collect()
}

pub async fn remove(
    conn: &mut PgConnection,
    id: IntegrationId,
    at: Timestamp,
) -> Result<Integration> {
    let sql = format!(
        "SELECT {COLUMNS} FROM integrations i JOIN apps a ON a.app_pk = i.app_pk
          WHERE i.integration_id = $1 AND i.removed_at IS NULL
            FOR UPDATE OF i"
    );
    let row = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(id.as_uuid())
        .fetch_optional(&mut *conn)
        .await?
        .ok_or(Error::Store(StoreError::IntegrationNotFound))?;
    let row = read(&row)?;
    sqlx::query("UPDATE integrations SET removed_at = $2 WHERE integration_pk = $1")
        .bind(row.integration_pk)
        .bind(micros(at))
        .execute(&mut *conn)
        .await?;
    sqlx::query(
        "UPDATE deliveries SET status = 'cancelled', next_attempt_at = NULL, lease_owner = NULL, lease_until = NULL
          WHERE integration_pk = $1 AND status = 'pending'",
    )
    .bind(row.integration_pk)
    .execute(conn)
    .await?;
    Ok(row.integration)
}
