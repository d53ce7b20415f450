//! Grants and revokes: each one transaction that updates the override, then re-derives the
//! profile's view and writes its access events.

use entitle_domain::datetime::Timestamp;
use entitle_domain::events::{Touched, plan_access_events};
use entitle_domain::profile::Profile;
use entitle_domain::purchase::{
    AccessLevelId, AccessOverride, Environment, GrantRequest, RevokeRequest, apply_grant,
    apply_revoke,
};
use entitle_domain::resolve::ProfileRef;
use entitle_domain::{AppId, ProfileId};
use entitle_store::StoreError;
use sqlx::PgConnection;

use crate::apps::profile_app;
use crate::codec::micros;
use crate::error::{Error, Result, corrupt, encode};
use crate::outbox::write_events;
use crate::{config, profiles, views};

/// Refreshes one profile's view after an override changed, with its access events.
async fn refresh_with_events(
    conn: &mut PgConnection,
    app: AppId,
    app_pk: i64,
    before: Profile,
    at: Timestamp,
) -> Result<Profile> {
    views::refresh(conn, app_pk, before.profile_id).await?;
    let after = profiles::load(conn, app, app_pk, before.profile_id).await?;
    let touched = Touched {
        after: &after,
        before: &before.purchases,
    };
    let planned = plan_access_events(
        &touched,
        &[],
        Environment::Production,
        at,
        &mut uuid::Uuid::new_v4,
    );
    write_events(conn, app_pk, at, planned).await?;
    Ok(after)
}

async fn load_override(
    conn: &mut PgConnection,
    app_pk: i64,
    profile_id: ProfileId,
    level: &AccessLevelId,
) -> Result<Option<AccessOverride>> {
    let body: Option<String> = sqlx::query_scalar(
        "SELECT body FROM access_overrides
          WHERE app_pk = $1 AND profile_id = $2 AND access_level_id = $3",
    )
    .bind(app_pk)
    .bind(profile_id.as_uuid())
    .bind(level.as_str())
    .fetch_optional(conn)
    .await?;
    body.as_deref().map(decode_override).transpose()
}

/// An override as `access_overrides.body` stores it.
pub(crate) fn decode_override(body: &str) -> Result<AccessOverride> {
    serde_json::from_str(body).map_err(|e| corrupt("override", e))
}

/// Stores an override with the time of its next change, for the worker to announce.
async fn save_override(
    conn: &mut PgConnection,
    app_pk: i64,
    profile_id: ProfileId,
    value: &AccessOverride,
    at: Timestamp,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO access_overrides (app_pk, profile_id, access_level_id, body, change_due_at)
         VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (app_pk, profile_id, access_level_id)
         DO UPDATE SET body = excluded.body, change_due_at = excluded.change_due_at",
    )
    .bind(app_pk)
    .bind(profile_id.as_uuid())
    .bind(value.access_level_id.as_str())
    .bind(encode(value)?)
    .bind(value.next_change_after(at).map(micros))
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn grant(
    conn: &mut PgConnection,
    app: AppId,
    target: &ProfileRef,
    request: &GrantRequest,
    at: Timestamp,
) -> Result<Profile> {
    let app_pk = profile_app(conn, app).await?;
    let row = profiles::resolve_locked(conn, app_pk, target).await?;
    let profile_id = row.identity.profile_id;
    config::require_access_level(conn, app_pk, &request.access_level_id).await?;
    let existing = load_override(conn, app_pk, profile_id, &request.access_level_id).await?;
    let updated = apply_grant(
        existing,
        request,
        || {
            format!(
                "ssgrant-{}",
                &uuid::Uuid::new_v4().simple().to_string()[..12]
            )
        },
        at,
    );
    save_override(conn, app_pk, profile_id, &updated, at).await?;
    let before = profiles::load(conn, app, app_pk, profile_id).await?;
    refresh_with_events(conn, app, app_pk, before, at).await
}

pub async fn revoke(
    conn: &mut PgConnection,
    app: AppId,
    target: &ProfileRef,
    request: &RevokeRequest,
    at: Timestamp,
) -> Result<Profile> {
    let app_pk = profile_app(conn, app).await?;
    let row = profiles::resolve_locked(conn, app_pk, target).await?;
    let profile = profiles::to_profile(app, row)?;
    config::require_access_level(conn, app_pk, &request.access_level_id).await?;
    let current = profile
        .purchases
        .access_levels(at)
        .into_iter()
        .find(|candidate| candidate.access_level_id == request.access_level_id);
    let existing =
        load_override(conn, app_pk, profile.profile_id, &request.access_level_id).await?;
    let updated = apply_revoke(existing, current.as_ref(), request, at).map_err(|error| {
        Error::Store(StoreError::Revoke {
            error,
            level: request.access_level_id.clone(),
            profile_id: profile.profile_id,
        })
    })?;
    save_override(conn, app_pk, profile.profile_id, &updated, at).await?;
    refresh_with_events(conn, app, app_pk, profile, at).await
}
