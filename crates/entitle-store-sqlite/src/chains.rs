//! Chains, their owner and inheritors, in SQL.

use entitle_domain::ProfileId;
use entitle_domain::datetime::Timestamp;
use entitle_domain::purchase::{
    Chain, ChainKey, ChainOwnership, ChainTransaction, Claimant, StoreId,
};
use entitle_store::{StoreError, StoreResult};
use rusqlite::{Connection, OptionalExtension, params};

use crate::codec::{backend, micros};
use crate::documents::{self, Document};
use crate::profiles;

/// A stored chain with its ownership.
pub struct StoredChain {
    pub chain_pk: Option<i64>,
    pub key: ChainKey,
    pub chain: Chain,
    pub ownership: ChainOwnership,
}

pub fn decode_transactions(stored: &Document) -> StoreResult<Chain> {
    let transactions: Vec<ChainTransaction> = stored.decode("chain")?;
    Ok(Chain { transactions })
}

pub fn encode_transactions(chain: &Chain) -> StoreResult<Vec<u8>> {
    documents::pack(&chain.transactions)
}

/// The chain with this key, or an empty one that does not exist yet.
pub fn load(conn: &Connection, app_pk: i64, key: &ChainKey) -> StoreResult<StoredChain> {
    let row = conn
        .prepare_cached(
            "SELECT chain_pk, owner_profile_id, owner_has_access, transactions FROM chains
              WHERE app_pk = ?1 AND store = ?2 AND original_transaction_id = ?3",
        )
        .map_err(backend)?
        .query_row(
            params![app_pk, key.store.as_str(), key.original_transaction_id],
            |row| {
                Ok((
                    row.get::<_, i64>(0)?,
                    row.get::<_, Option<[u8; 16]>>(1)?,
                    row.get::<_, bool>(2)?,
                    row.get::<_, Document>(3)?,
                ))
            },
        )
        .optional()
        .map_err(backend)?;
    let Some((chain_pk, owner, owner_has_access, transactions)) = row else {
        return Ok(StoredChain {
            chain_pk: None,
            key: key.clone(),
            chain: Chain::default(),
            ownership: ChainOwnership {
                owner: None,
                owner_has_access: true,
                inheritors: Vec::new(),
            },
        });
    };
    let owner = match owner {
        Some(bytes) => Some(claimant(conn, app_pk, ProfileId::from_bytes(bytes))?),
        None => None,
    };
    let inheritors = inheritor_ids(conn, chain_pk)?
        .into_iter()
        .map(|id| claimant(conn, app_pk, id))
        .collect::<StoreResult<Vec<_>>>()?;
    Ok(StoredChain {
        chain_pk: Some(chain_pk),
        key: key.clone(),
        chain: decode_transactions(&transactions)?,
        ownership: ChainOwnership {
            owner,
            owner_has_access,
            inheritors,
        },
    })
}

fn inheritor_ids(conn: &Connection, chain_pk: i64) -> StoreResult<Vec<ProfileId>> {
    let mut statement = conn
        .prepare_cached("SELECT profile_id FROM chain_inheritors WHERE chain_pk = ?1")
        .map_err(backend)?;
    let rows = statement
        .query_map([chain_pk], |row| row.get::<_, [u8; 16]>(0))
        .map_err(backend)?;
    rows.map(|row| row.map(ProfileId::from_bytes).map_err(backend))
        .collect()
}

/// A profile taking part in a chain, identified or anonymous as of now.
pub fn claimant(conn: &Connection, app_pk: i64, profile_id: ProfileId) -> StoreResult<Claimant> {
    let identified = profiles::by_id(conn, app_pk, profile_id)?
        .is_some_and(|row| row.identity.customer_user_id.is_some());
    Ok(Claimant {
        profile_id,
        identified,
    })
}

/// Writes the chain, its transaction ids and its inheritors; returns its key.
pub fn save(
    conn: &Connection,
    app_pk: i64,
    stored: &StoredChain,
    new_transaction_id: Option<&str>,
    now: Timestamp,
) -> StoreResult<i64> {
    let owner = stored.ownership.owner.map(|o| *o.profile_id.as_bytes());
    let expiry_due = stored.chain.expiry_due(now).map(micros);
    let transactions = encode_transactions(&stored.chain)?;
    let chain_pk = match stored.chain_pk {
        Some(chain_pk) => {
            conn.prepare_cached(
                "UPDATE chains SET owner_profile_id = ?2, owner_has_access = ?3, transactions = ?4,
                        expiry_due_at = ?5
                  WHERE chain_pk = ?1",
            )
            .map_err(backend)?
            .execute(params![
                chain_pk,
                owner,
                stored.ownership.owner_has_access,
                transactions,
                expiry_due
            ])
            .map_err(backend)?;
            chain_pk
        }
        None => {
            conn.prepare_cached(
                "INSERT INTO chains (app_pk, store, original_transaction_id, owner_profile_id, owner_has_access, transactions, expiry_due_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            )
            .map_err(backend)?
            .execute(params![
                app_pk,
                stored.key.store.as_str(),
                stored.key.original_transaction_id,
                owner,
                stored.ownership.owner_has_access,
                transactions,
                expiry_due
            ])
            .map_err(backend)?;
            conn.last_insert_rowid()
        }
    };
    if let Some(transaction_id) = new_transaction_id {
        conn.prepare_cached(
            "INSERT OR IGNORE INTO transaction_ids (app_pk, store, store_transaction_id, chain_pk)
             VALUES (?1, ?2, ?3, ?4)",
        )
        .map_err(backend)?
        .execute(params![
            app_pk,
            stored.key.store.as_str(),
            transaction_id,
            chain_pk
        ])
        .map_err(backend)?;
    }
    let current = inheritor_ids(conn, chain_pk)?;
    let wanted: Vec<ProfileId> = stored
        .ownership
        .inheritors
        .iter()
        .map(|i| i.profile_id)
        .collect();
    for gone in current.iter().filter(|id| !wanted.contains(id)) {
        conn.prepare_cached(
            "DELETE FROM chain_inheritors WHERE app_pk = ?1 AND profile_id = ?2 AND chain_pk = ?3",
        )
        .map_err(backend)?
        .execute(params![app_pk, gone.as_bytes(), chain_pk])
        .map_err(backend)?;
    }
    for added in wanted.iter().filter(|id| !current.contains(id)) {
        conn.prepare_cached("INSERT OR IGNORE INTO chain_inheritors (app_pk, profile_id, chain_pk) VALUES (?1, ?2, ?3)")
            .map_err(backend)?
            .execute(params![app_pk, added.as_bytes(), chain_pk])
            .map_err(backend)?;
    }
    Ok(chain_pk)
}

/// The chain a store transaction id already belongs to, if any.
pub fn chain_of_transaction(
    conn: &Connection,
    app_pk: i64,
    store: &StoreId,
    store_transaction_id: &str,
) -> StoreResult<Option<String>> {
    conn.prepare_cached(
        "SELECT c.original_transaction_id FROM transaction_ids t JOIN chains c ON c.chain_pk = t.chain_pk
          WHERE t.app_pk = ?1 AND t.store = ?2 AND t.store_transaction_id = ?3",
    )
    .map_err(backend)?
    .query_row(params![app_pk, store.as_str(), store_transaction_id], |row| row.get(0))
    .optional()
    .map_err(backend)
}

/// Every chain a profile owns or inherits, as `(key, chain, owned, has_access)`.
pub fn chains_of_profile(
    conn: &Connection,
    app_pk: i64,
    profile_id: ProfileId,
) -> StoreResult<Vec<(ChainKey, Chain, bool, bool)>> {
    let read = |row: &rusqlite::Row<'_>| -> rusqlite::Result<(String, String, bool, Document)> {
        Ok((row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?))
    };
    let mut chains = Vec::new();
    let mut owned = conn
        .prepare_cached(
            "SELECT store, original_transaction_id, owner_has_access, transactions FROM chains
              WHERE app_pk = ?1 AND owner_profile_id = ?2",
        )
        .map_err(backend)?;
    for row in owned
        .query_map(params![app_pk, profile_id.as_bytes()], read)
        .map_err(backend)?
    {
        let (store, original, has_access, transactions) = row.map_err(backend)?;
        chains.push((
            chain_key(&store, original)?,
            decode_transactions(&transactions)?,
            true,
            has_access,
        ));
    }
    let mut inherited = conn
        .prepare_cached(
            "SELECT c.store, c.original_transaction_id, 1, c.transactions
               FROM chain_inheritors i JOIN chains c ON c.chain_pk = i.chain_pk
              WHERE i.app_pk = ?1 AND i.profile_id = ?2",
        )
        .map_err(backend)?;
    for row in inherited
        .query_map(params![app_pk, profile_id.as_bytes()], read)
        .map_err(backend)?
    {
        let (store, original, _, transactions) = row.map_err(backend)?;
        chains.push((
            chain_key(&store, original)?,
            decode_transactions(&transactions)?,
            false,
            true,
        ));
    }
    Ok(chains)
}

fn chain_key(store: &str, original_transaction_id: String) -> StoreResult<ChainKey> {
    Ok(ChainKey {
        store: StoreId::parse(store)
            .ok_or_else(|| StoreError::Backend("stored store id invalid".into()))?,
        original_transaction_id,
    })
}
