//! Chains, their owner and inheritors, in SQL.

use entitle_domain::ProfileId;
use entitle_domain::datetime::Timestamp;
use entitle_domain::purchase::{Chain, ChainKey, ChainOwnership, ChainTransaction, StoreId};
use entitle_store::StoreError;
use sqlx::{PgConnection, Row};

use crate::codec::micros;
use crate::error::{Error, Result, corrupt, encode};

/// A chain row as stored, before its holders are looked up.
#[derive(Debug, Clone, PartialEq)]
pub struct ChainRow {
    pub chain_pk: i64,
    pub owner: Option<ProfileId>,
    pub owner_has_access: bool,
    pub transactions: String,
    /// Sorted, so two reads compare equal when the set is the same.
    pub inheritors: Vec<ProfileId>,
}

impl ChainRow {
    /// Every profile holding the chain (owner first).
    pub fn holders(&self) -> Vec<ProfileId> {
        self.owner
            .into_iter()
            .chain(self.inheritors.iter().copied())
            .collect()
    }

    pub fn decode(&self) -> Result<Chain> {
        decode_transactions(&self.transactions)
    }
}

/// A stored chain (or one that does not exist yet) with its ownership.
pub struct StoredChain {
    pub chain_pk: Option<i64>,
    pub key: ChainKey,
    pub chain: Chain,
    pub ownership: ChainOwnership,
}

pub fn decode_transactions(text: &str) -> Result<Chain> {
    let transactions: Vec<ChainTransaction> =
        serde_json::from_str(text).map_err(|e| corrupt("chain", e))?;
    Ok(Chain { transactions })
}

/// The chain with this key; `lock` holds its row until the transaction ends. Take it only after
/// the locks of the chain's holders (see `profiles.rs`).
pub async fn read(
    conn: &mut PgConnection,
    app_pk: i64,
    key: &ChainKey,
    lock: bool,
) -> Result<Option<ChainRow>> {
    let sql = if lock {
        "SELECT chain_pk, owner_profile_id, owner_has_access, transactions FROM chains
          WHERE app_pk = $1 AND store = $2 AND original_transaction_id = $3 FOR UPDATE"
    } else {
        "SELECT chain_pk, owner_profile_id, owner_has_access, transactions FROM chains
          WHERE app_pk = $1 AND store = $2 AND original_transaction_id = $3"
    };
    let row = sqlx::query(sql)
        .bind(app_pk)
        .bind(key.store.as_str())
        .bind(&key.original_transaction_id)
        .fetch_optional(&mut *conn)
        .await?;
    let Some(row) = row else {
        return Ok(None);
    };
    let chain_pk: i64 = row.try_get(0)?;
    Ok(Some(ChainRow {
        chain_pk,
        owner: row
            .try_get::<Option<uuid::Uuid>, _>(1)?
            .map(ProfileId::from_uuid),
        owner_has_access: row.try_get(2)?,
        transactions: row.try_get(3)?,
        inheritors: inheritor_ids(conn, chain_pk).await?,
    }))
}

/// The chain row with this internal key, if it still exists.
pub async fn read_by_pk(conn: &mut PgConnection, chain_pk: i64) -> Result<Option<ChainRow>> {
    let row = sqlx::query(
        "SELECT owner_profile_id, owner_has_access, transactions FROM chains WHERE chain_pk = $1",
    )
    .bind(chain_pk)
    .fetch_optional(&mut *conn)
    .await?;
    let Some(row) = row else {
        return Ok(None);
    };
    Ok(Some(ChainRow {
        chain_pk,
        owner: row
            .try_get::<Option<uuid::Uuid>, _>(0)?
            .map(ProfileId::from_uuid),
        owner_has_access: row.try_get(1)?,
        transactions: row.try_get(2)?,
        inheritors: inheritor_ids(conn, chain_pk).await?,
    }))
}

async fn inheritor_ids(conn: &mut PgConnection, chain_pk: i64) -> Result<Vec<ProfileId>> {
    let ids: Vec<uuid::Uuid> = sqlx::query_scalar(
        "SELECT profile_id FROM chain_inheritors WHERE chain_pk = $1 ORDER BY profile_id",
    )
    .bind(chain_pk)
    .fetch_all(conn)
    .await?;
    Ok(ids.into_iter().map(ProfileId::from_uuid).collect())
}

/// Writes the chain, its new transaction id and its inheritors; returns its key.
pub async fn save(
    conn: &mut PgConnection,
    app_pk: i64,
    stored: &StoredChain,
    new_transaction_id: Option<&str>,
    now: Timestamp,
) -> Result<i64> {
    let owner = stored.ownership.owner.map(|o| *o.profile_id.as_uuid());
    let expiry_due = stored.chain.expiry_due(now).map(micros);
    let transactions = encode(&stored.chain.transactions)?;
    let chain_pk = match stored.chain_pk {
        Some(chain_pk) => {
            sqlx::query(
                "UPDATE chains SET owner_profile_id = $2, owner_has_access = $3, transactions = $4,
                        expiry_due_at = $5
                  WHERE chain_pk = $1",
            )
            .bind(chain_pk)
            .bind(owner)
            .bind(stored.ownership.owner_has_access)
            .bind(transactions)
            .bind(expiry_due)
            .execute(&mut *conn)
            .await?;
            chain_pk
        }
        // A concurrent first transaction of the same chain breaks the unique key here; the next
        // attempt finds that chain and adds to it.
        None => {
            sqlx::query_scalar(
                "INSERT INTO chains (app_pk, store, original_transaction_id, owner_profile_id,
                                     owner_has_access, transactions, expiry_due_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7)
                 RETURNING chain_pk",
            )
            .bind(app_pk)
            .bind(stored.key.store.as_str())
            .bind(&stored.key.original_transaction_id)
            .bind(owner)
            .bind(stored.ownership.owner_has_access)
            .bind(transactions)
            .bind(expiry_due)
            .fetch_one(&mut *conn)
            .await?
        }
    };
    if let Some(transaction_id) = new_transaction_id {
        record_transaction_id(conn, app_pk, &stored.key.store, transaction_id, chain_pk).await?;
    }
    let current = inheritor_ids(conn, chain_pk).await?;
    let wanted: Vec<ProfileId> = stored
        .ownership
        .inheritors
        .iter()
        .map(|i| i.profile_id)
        .collect();
    for gone in current.iter().filter(|id| !wanted.contains(id)) {
        sqlx::query(
            "DELETE FROM chain_inheritors WHERE app_pk = $1 AND profile_id = $2 AND chain_pk = $3",
        )
        .bind(app_pk)
        .bind(gone.as_uuid())
        .bind(chain_pk)
        .execute(&mut *conn)
        .await?;
    }
    for added in wanted.iter().filter(|id| !current.contains(id)) {
        sqlx::query(
            "INSERT INTO chain_inheritors (app_pk, profile_id, chain_pk) VALUES ($1, $2, $3)
             ON CONFLICT DO NOTHING",
        )
        .bind(app_pk)
        .bind(added.as_uuid())
        .bind(chain_pk)
        .execute(&mut *conn)
        .await?;
    }
    Ok(chain_pk)
}

/// Maps a store transaction id to its chain. If a concurrent transaction just gave the same id
/// to another chain, this attempt is `Changed`: the next one refuses the id, as a serial run
/// would have.
async fn record_transaction_id(
    conn: &mut PgConnection,
    app_pk: i64,
    store: &StoreId,
    transaction_id: &str,
    chain_pk: i64,
) -> Result<()> {
    let holder: Option<i64> = sqlx::query_scalar(
        "WITH added AS (
             INSERT INTO transaction_ids (app_pk, store, store_transaction_id, chain_pk)
             VALUES ($1, $2, $3, $4)
             ON CONFLICT DO NOTHING
             RETURNING chain_pk)
         SELECT chain_pk FROM added
          UNION ALL
         SELECT chain_pk FROM transaction_ids
          WHERE app_pk = $1 AND store = $2 AND store_transaction_id = $3
          LIMIT 1",
    )
    .bind(app_pk)
    .bind(store.as_str())
    .bind(transaction_id)
    .bind(chain_pk)
    .fetch_optional(conn)
    .await?;
    // No row at all: the insert met a row committed after this statement's snapshot began.
    match holder {
        Some(holder) if holder == chain_pk => Ok(()),
        _ => Err(Error::Changed),
    }
}

/// The chain a store transaction id already belongs to, if any.
pub async fn chain_of_transaction(
    conn: &mut PgConnection,
    app_pk: i64,
    store: &StoreId,
    store_transaction_id: &str,
) -> Result<Option<String>> {
    Ok(sqlx::query_scalar(
        "SELECT c.original_transaction_id
           FROM transaction_ids t JOIN chains c ON c.chain_pk = t.chain_pk
          WHERE t.app_pk = $1 AND t.store = $2 AND t.store_transaction_id = $3",
    )
    .bind(app_pk)
    .bind(store.as_str())
    .bind(store_transaction_id)
    .fetch_optional(conn)
    .await?)
}

/// Every chain a profile owns or inherits, as `(key, chain, owned, has_access)`.
pub async fn chains_of_profile(
    conn: &mut PgConnection,
    app_pk: i64,
    profile_id: ProfileId,
) -> Result<Vec<(ChainKey, Chain, bool, bool)>> {
    let owned: Vec<(String, String, bool, String)> = sqlx::query_as(
        "SELECT store, original_transaction_id, owner_has_access, transactions FROM chains
          WHERE app_pk = $1 AND owner_profile_id = $2 ORDER BY chain_pk",
    )
    .bind(app_pk)
    .bind(profile_id.as_uuid())
    .fetch_all(&mut *conn)
    .await?;
    let inherited: Vec<(String, String, bool, String)> = sqlx::query_as(
        "SELECT c.store, c.original_transaction_id, TRUE, c.transactions
           FROM chain_inheritors i JOIN chains c ON c.chain_pk = i.chain_pk
          WHERE i.app_pk = $1 AND i.profile_id = $2 ORDER BY c.chain_pk",
    )
    .bind(app_pk)
    .bind(profile_id.as_uuid())
    .fetch_all(conn)
    .await?;
    let mut chains = Vec::with_capacity(owned.len() + inherited.len());
    for (rows, is_owned) in [(owned, true), (inherited, false)] {
        for (store, original, has_access, transactions) in rows {
            chains.push((
                chain_key(&store, original)?,
                decode_transactions(&transactions)?,
                is_owned,
                has_access,
            ));
        }
    }
    Ok(chains)
}

pub fn chain_key(store: &str, original_transaction_id: String) -> Result<ChainKey> {
    Ok(ChainKey {
        store: StoreId::parse(store)
            .ok_or_else(|| Error::Store(StoreError::Backend("stored store id invalid".into())))?,
        original_transaction_id,
    })
}
