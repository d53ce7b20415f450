//! Set transaction, grant and revoke: each one transaction that updates the chain or override,
//! then re-derives the view of every profile the change touches.

use entitle_domain::datetime::Timestamp;
use entitle_domain::events::{
    PlannedEvent, StoreEvent, Touched, plan_access_events, plan_store_event,
};
use entitle_domain::profile::Profile;
use entitle_domain::purchase::{
    AccessLevelId, AccessOverride, ChainKey, ChainTransaction, Claimant, Environment, GrantRequest,
    RevokeRequest, Transaction, Upsert, apply_grant, apply_revoke, apply_store_event,
};
use entitle_domain::resolve::ProfileRef;
use entitle_domain::{AppId, ProfileId, ValidationError};
use entitle_store::{StoreError, StoreResult};
use rusqlite::{Connection, OptionalExtension, params};

use crate::apps::app_pk;
use crate::codec::{backend, micros};
use crate::outbox::Outbox;
use crate::{chains, config, profiles, views};

/// The app's internal key for a request that names a profile: an unknown app has no profiles.
fn profile_app(conn: &Connection, app: AppId) -> StoreResult<i64> {
    app_pk(conn, app).map_err(|_| StoreError::ProfileNotFound)
}

pub fn set_transaction(
    conn: &Connection,
    app: AppId,
    target: &ProfileRef,
    transaction: Transaction,
    at: Timestamp,
) -> StoreResult<Profile> {
    let app_pk = profile_app(conn, app)?;
    let sender_row = profiles::resolve(conn, app_pk, target)?;
    let sender = Claimant {
        profile_id: sender_row.identity.profile_id,
        identified: sender_row.identity.customer_user_id.is_some(),
    };
    let key = ChainKey {
        store: transaction.store.clone(),
        original_transaction_id: transaction.store_original_transaction_id.clone(),
    };
    let transaction_id = transaction.store_transaction_id.clone();
    if let Some(other) = chains::chain_of_transaction(conn, app_pk, &key.store, &transaction_id)?
        && other != key.original_transaction_id
    {
        return Err(ValidationError::field(
            "store_transaction_id",
            format!(
                "store_transaction_id `{transaction_id}` already belongs to the chain of store_original_transaction_id `{other}`."
            ),
        )
        .into());
    }
    let mut stored = chains::load(conn, app_pk, &key)?;
    if let Some(latest) = stored.chain.latest()
        && latest.transaction.purchase_type != transaction.purchase_type
    {
        return Err(ValidationError::field(
            "purchase_type",
            format!(
                "the chain of `{}` holds {} transactions; purchase_type cannot change within a chain.",
                key.original_transaction_id,
                latest.transaction.purchase_type.as_str()
            ),
        )
        .into());
    }
    let level =
        config::access_level_of_product(conn, app_pk, &key.store, &transaction.store_product_id)?;
    let policy = config::sharing_policy(conn, app_pk, transaction.environment)?;
    let existed = !stored.chain.transactions.is_empty();
    let before = stored.ownership.clone();
    let chain_before = stored.chain.clone();
    let usd_per_unit = config::usd_per_unit(conn, app_pk, &transaction.price.currency)?;
    let upsert = stored.chain.upsert(ChainTransaction {
        transaction,
        access_level_id: level,
        received_at: at,
        purchase_id: uuid::Uuid::new_v4(),
        usd_per_unit,
    });
    let outcome = apply_store_event(policy, &before, existed, sender);
    stored.ownership = outcome.ownership;

    let mut affected = before.participants();
    affected.extend(stored.ownership.participants());
    affected.push(sender.profile_id);
    affected.sort();
    affected.dedup();
    let views_before = affected
        .iter()
        .map(|id| profiles::load(conn, app, app_pk, *id).map(|p| p.purchases))
        .collect::<StoreResult<Vec<_>>>()?;

    let new_id = matches!(upsert, Upsert::New).then_some(transaction_id.as_str());
    chains::save(conn, app_pk, &stored, new_id, at)?;
    for profile_id in &affected {
        views::refresh(conn, app_pk, *profile_id)?;
    }
    let after = affected
        .iter()
        .map(|id| profiles::load(conn, app, app_pk, *id))
        .collect::<StoreResult<Vec<_>>>()?;
    let touched: Vec<Touched<'_>> = after
        .iter()
        .zip(&views_before)
        .map(|(after, before)| Touched { after, before })
        .collect();
    let planned = plan_store_event(
        &StoreEvent {
            chain_before: &chain_before,
            chain: &stored.chain,
            upsert: &upsert,
            store_transaction_id: &transaction_id,
            ownership: &stored.ownership,
            reattached: outcome.reattached,
            touched: &touched,
            now: at,
        },
        &mut uuid::Uuid::new_v4,
    );
    write_events(conn, app_pk, at, planned)?;
    after
        .into_iter()
        .find(|p| p.profile_id == sender.profile_id)
        .ok_or(StoreError::ProfileNotFound)
}

/// Writes planned events (and their deliveries) through the outbox.
pub fn write_events(
    conn: &Connection,
    app_pk: i64,
    at: Timestamp,
    planned: Vec<PlannedEvent>,
) -> StoreResult<()> {
    let mut outbox = Outbox::new(conn, app_pk, at);
    for event in planned {
        outbox.emit(event)?;
    }
    Ok(())
}

/// Refreshes one profile's view after an override changed, with its access events.
fn refresh_with_events(
    conn: &Connection,
    app: AppId,
    app_pk: i64,
    before: Profile,
    at: Timestamp,
) -> StoreResult<Profile> {
    views::refresh(conn, app_pk, before.profile_id)?;
    let after = profiles::load(conn, app, app_pk, before.profile_id)?;
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
    write_events(conn, app_pk, at, planned)?;
    Ok(after)
}

fn load_override(
    conn: &Connection,
    app_pk: i64,
    profile_id: ProfileId,
    level: &AccessLevelId,
) -> StoreResult<Option<AccessOverride>> {
    let body: Option<String> = conn
        .prepare_cached(
            "SELECT body FROM access_overrides WHERE app_pk = ?1 AND profile_id = ?2 AND access_level_id = ?3",
        )
        .map_err(backend)?
        .query_row(params![app_pk, profile_id.as_bytes(), level.as_str()], |row| row.get(0))
        .optional()
        .map_err(backend)?;
    body.as_deref().map(decode_override).transpose()
}

/// An override as `access_overrides.body` stores it.
pub(crate) fn decode_override(body: &str) -> StoreResult<AccessOverride> {
    serde_json::from_str(body)
        .map_err(|e| StoreError::Backend(format!("stored override unreadable: {e}")))
}

/// Stores an override with the time of its next change, for the worker to announce.
fn save_override(
    conn: &Connection,
    app_pk: i64,
    profile_id: ProfileId,
    value: &AccessOverride,
    at: Timestamp,
) -> StoreResult<()> {
    let body = serde_json::to_string(value).map_err(|e| StoreError::Backend(e.to_string()))?;
    let due = value.next_change_after(at).map(micros);
    conn.prepare_cached(
        "INSERT INTO access_overrides (app_pk, profile_id, access_level_id, body, change_due_at)
         VALUES (?1, ?2, ?3, ?4, ?5)
         ON CONFLICT (app_pk, profile_id, access_level_id)
         DO UPDATE SET body = excluded.body, change_due_at = excluded.change_due_at",
    )
    .map_err(backend)?
    .execute(params![
        app_pk,
        profile_id.as_bytes(),
        value.access_level_id.as_str(),
        body,
        due
    ])
    .map_err(backend)?;
    Ok(())
}

pub fn grant(
    conn: &Connection,
    app: AppId,
    target: &ProfileRef,
    request: &GrantRequest,
    at: Timestamp,
) -> StoreResult<Profile> {
    let app_pk = profile_app(conn, app)?;
    let row = profiles::resolve(conn, app_pk, target)?;
    let profile_id = row.identity.profile_id;
    config::require_access_level(conn, app_pk, &request.access_level_id)?;
    let existing = load_override(conn, app_pk, profile_id, &request.access_level_id)?;
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
    save_override(conn, app_pk, profile_id, &updated, at)?;
    let before = profiles::load(conn, app, app_pk, profile_id)?;
    refresh_with_events(conn, app, app_pk, before, at)
}

pub fn revoke(
    conn: &Connection,
    app: AppId,
    target: &ProfileRef,
    request: &RevokeRequest,
    at: Timestamp,
) -> StoreResult<Profile> {
    let app_pk = profile_app(conn, app)?;
    let row = profiles::resolve(conn, app_pk, target)?;
    let profile = profiles::to_profile(app, row)?;
    config::require_access_level(conn, app_pk, &request.access_level_id)?;
    let current = profile
        .purchases
        .access_levels(at)
        .into_iter()
        .find(|candidate| candidate.access_level_id == request.access_level_id);
    let existing = load_override(conn, app_pk, profile.profile_id, &request.access_level_id)?;
    let updated = apply_revoke(existing, current.as_ref(), request, at).map_err(|error| {
        StoreError::Revoke {
            error,
            level: request.access_level_id.clone(),
            profile_id: profile.profile_id,
        }
    })?;
    save_override(conn, app_pk, profile.profile_id, &updated, at)?;
    refresh_with_events(conn, app, app_pk, profile, at)
}
