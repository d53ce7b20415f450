//! Set transaction: one transaction that records the transaction in its chain, applies the
//! sharing policy, then re-derives the view of every profile the change touches.

use std::collections::HashMap;

use entitle_domain::datetime::Timestamp;
use entitle_domain::events::{StoreEvent, Touched, plan_store_event};
use entitle_domain::profile::Profile;
use entitle_domain::purchase::{
    ChainKey, ChainOwnership, ChainTransaction, Claimant, Transaction, Upsert, apply_store_event,
};
use entitle_domain::resolve::ProfileRef;
use entitle_domain::{AppId, ProfileId, ValidationError};
use entitle_store::StoreError;
use sqlx::PgConnection;

use crate::apps::profile_app;
use crate::chains::{self, ChainRow, StoredChain};
use crate::error::{Error, Result};
use crate::outbox::write_events;
use crate::{config, profiles, views};

pub async fn set_transaction(
    conn: &mut PgConnection,
    app: AppId,
    target: &ProfileRef,
    transaction: Transaction,
    at: Timestamp,
) -> Result<Profile> {
    let app_pk = profile_app(conn, app).await?;
    let sender_seen = profiles::resolve(conn, app_pk, target).await?;
    refuse_nul(&transaction)?;
    let key = ChainKey {
        store: transaction.store.clone(),
        original_transaction_id: transaction.store_original_transaction_id.clone(),
    };
    let transaction_id = transaction.store_transaction_id.clone();
    if let Some(other) =
        chains::chain_of_transaction(conn, app_pk, &key.store, &transaction_id).await?
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

    // Lock the sender and the chain's holders, then the chain; the holders read before the
    // locks must still be its holders, or this attempt starts again.
    let seen = chains::read(conn, app_pk, &key, false).await?;
    let sender_id = sender_seen.identity.profile_id;
    let mut lock_set = seen.as_ref().map(ChainRow::holders).unwrap_or_default();
    lock_set.push(sender_id);
    lock_set.sort();
    lock_set.dedup();
    let locked = profiles::lock_all(conn, app_pk, &lock_set).await?;
    if locked.get(&sender_id).map(|row| &row.identity) != Some(&sender_seen.identity) {
        return Err(Error::Changed);
    }
    let row = chains::read(conn, app_pk, &key, true).await?;
    if holders_of(row.as_ref()) != holders_of(seen.as_ref()) {
        return Err(Error::Changed);
    }
    let mut stored = stored_chain(key.clone(), row.as_ref(), &locked)?;
    let sender = claimant(&locked, sender_id);

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
        config::access_level_of_product(conn, app_pk, &key.store, &transaction.store_product_id)
            .await?;
    let policy = config::sharing_policy(conn, app_pk, transaction.environment).await?;
    let existed = !stored.chain.transactions.is_empty();
    let before = stored.ownership.clone();
    let chain_before = stored.chain.clone();
    let usd_per_unit = config::usd_per_unit(conn, app_pk, &transaction.price.currency).await?;
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
    let mut views_before = Vec::with_capacity(affected.len());
    for id in &affected {
        views_before.push(profiles::load(conn, app, app_pk, *id).await?.purchases);
    }

    let new_id = matches!(upsert, Upsert::New).then_some(transaction_id.as_str());
    chains::save(conn, app_pk, &stored, new_id, at).await?;
    for profile_id in &affected {
        views::refresh(conn, app_pk, *profile_id).await?;
    }
    let mut after = Vec::with_capacity(affected.len());
    for id in &affected {
        after.push(profiles::load(conn, app, app_pk, *id).await?);
    }
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
    write_events(conn, app_pk, at, planned).await?;
    after
        .into_iter()
        .find(|p| p.profile_id == sender.profile_id)
        .ok_or(Error::Store(StoreError::ProfileNotFound))
}

/// PostgreSQL text cannot hold U+0000, and these ids are stored as columns of their own (the
/// rest of a transaction lives in a JSON document, where it is escaped): refuse it as invalid
/// rather than fail the write.
fn refuse_nul(transaction: &Transaction) -> Result<()> {
    let ids = [
        ("store_transaction_id", &transaction.store_transaction_id),
        (
            "store_original_transaction_id",
            &transaction.store_original_transaction_id,
        ),
        ("store_product_id", &transaction.store_product_id),
    ];
    match ids.iter().find(|(_, text)| text.contains('\0')) {
        Some((field, _)) => Err(ValidationError::field(
            *field,
            format!("{field} must not contain the character U+0000."),
        )
        .into()),
        None => Ok(()),
    }
}

/// What decides who must be locked: the chain's existence and its holders.
fn holders_of(row: Option<&ChainRow>) -> Option<(i64, Option<ProfileId>, &[ProfileId])> {
    row.map(|row| (row.chain_pk, row.owner, row.inheritors.as_slice()))
}

/// A profile taking part in a chain, identified or anonymous as of now (its row is locked).
/// A holder with no profile row counts as anonymous, as in the SQLite backend.
pub fn claimant(locked: &HashMap<ProfileId, profiles::Row>, profile_id: ProfileId) -> Claimant {
    Claimant {
        profile_id,
        identified: locked
            .get(&profile_id)
            .is_some_and(|row| row.identity.customer_user_id.is_some()),
    }
}

pub fn stored_chain(
    key: ChainKey,
    row: Option<&ChainRow>,
    locked: &HashMap<ProfileId, profiles::Row>,
) -> Result<StoredChain> {
    let Some(row) = row else {
        return Ok(StoredChain {
            chain_pk: None,
            key,
            chain: Default::default(),
            ownership: ChainOwnership {
                owner: None,
                owner_has_access: true,
                inheritors: Vec::new(),
            },
        });
    };
    Ok(StoredChain {
        chain_pk: Some(row.chain_pk),
        key,
        chain: row.decode()?,
        ownership: ChainOwnership {
            owner: row.owner.map(|id| claimant(locked, id)),
            owner_has_access: row.owner_has_access,
            inheritors: row
                .inheritors
                .iter()
                .map(|id| claimant(locked, *id))
                .collect(),
        },
    })
}
