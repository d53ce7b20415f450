//! API keys remembered on each reading connection for as long as the database has not changed.
//!
//! Every request looks its key up. A reader keeps the keys it has read together with SQLite's
//! data version, which moves whenever another connection commits: the writer, or another
//! process revoking a key. Each lookup first reads the data version, in the same read
//! transaction as the rest of the request's reads; while it is unchanged nothing has been
//! committed since the keys were read, so a remembered key is exactly the stored key (a
//! revocation is still seen by the first request that arrives after it). When it moved,
//! everything remembered is forgotten. Only readers remember (reader threads and the lanes of
//! `inline_reads.rs`); elsewhere every lookup reads the table.
//!
//! Within one read transaction the data version cannot move (the snapshot is fixed), so it is
//! read once per transaction: a reader's batch of requests shares one. The readers tell this
//! module when a transaction ends ([`transaction_ended`]).
//!
//! A data version is only comparable with another read on the same connection, so remembered
//! keys belong to a connection: a reader thread's own, or a lane's (`inline_reads.rs`), lent to
//! the thread running the lane's batch ([`lend`]).

use std::cell::RefCell;
use std::collections::HashMap;

use entitle_store::{ApiKeyRecord, StoreResult};
use rusqlite::Connection;

use crate::apps;
use crate::codec::backend;

/// Most keys a reader remembers; past it, it starts over (an app has a handful).
const MAX_KEYS: usize = 1024;

/// The keys remembered on one connection.
pub struct KeyCache {
    data_version: i64,
    /// `data_version` was read inside the read transaction still open on the connection.
    read_in_open_transaction: bool,
    keys: HashMap<String, (ApiKeyRecord, i64)>,
}

impl Default for KeyCache {
    fn default() -> Self {
        Self {
            data_version: i64::MIN,
            read_in_open_transaction: false,
            keys: HashMap::new(),
        }
    }
}

thread_local! {
    static REMEMBERED: RefCell<Option<KeyCache>> = const { RefCell::new(None) };
}

/// Lets the calling thread (a reader, with its one connection) remember keys.
pub fn remember_on_this_thread() {
    REMEMBERED.with(|cell| *cell.borrow_mut() = Some(KeyCache::default()));
}

/// Runs `work` (reads on the connection `cache` belongs to) with `cache` as this thread's
/// remembered keys, then gives it back and restores what the thread had.
pub fn lend<R>(cache: &mut KeyCache, work: impl FnOnce() -> R) -> R {
    struct Return<'a> {
        cache: &'a mut KeyCache,
        previous: Option<KeyCache>,
    }
    impl Drop for Return<'_> {
        fn drop(&mut self) {
            let lent = REMEMBERED.with(|cell| cell.replace(self.previous.take()));
            if let Some(lent) = lent {
                *self.cache = lent;
            }
        }
    }
    let previous = REMEMBERED.with(|cell| cell.replace(Some(std::mem::take(cache))));
    let _return = Return { cache, previous };
    work()
}

/// [`apps::find_key_in_app`], from memory when nothing was committed since it was read.
pub fn find_key_in_app(
    conn: &Connection,
    lookup: &str,
) -> StoreResult<Option<(ApiKeyRecord, i64)>> {
    REMEMBERED.with(|cell| {
        let mut slot = cell.borrow_mut();
        let Some(remembered) = slot.as_mut() else {
            return apps::find_key_in_app(conn, lookup);
        };
        let in_transaction = !conn.is_autocommit();
        if !(in_transaction && remembered.read_in_open_transaction) {
            let data_version: i64 = conn
                .prepare_cached("PRAGMA data_version")
                .map_err(backend)?
                .query_row([], |row| row.get(0))
                .map_err(backend)?;
            if data_version != remembered.data_version {
                remembered.keys.clear();
                remembered.data_version = data_version;
            }
            remembered.read_in_open_transaction = in_transaction;
        }
        if let Some(found) = remembered.keys.get(lookup) {
            return Ok(Some(found.clone()));
        }
        let found = apps::find_key_in_app(conn, lookup)?;
        if let Some(found) = &found {
            if remembered.keys.len() >= MAX_KEYS {
                remembered.keys.clear();
            }
            remembered.keys.insert(lookup.to_owned(), found.clone());
        }
        Ok(found)
    })
}

/// The read transaction open on this thread has ended: the next lookup reads the data version
/// again. `readers.rs` reports every reader transaction's end here.
pub fn transaction_ended() {
    REMEMBERED.with(|cell| {
        if let Some(remembered) = cell.borrow_mut().as_mut() {
            remembered.read_in_open_transaction = false;
        }
    });
}

#[cfg(test)]
mod tests {
    use entitle_domain::KeyId;
    use entitle_domain::datetime::Timestamp;
    use entitle_domain::keys::SecretHash;
    use entitle_store::NewKey;

    use super::*;
    use crate::{connection, migrations};

    #[test]
    fn a_remembered_key_is_forgotten_once_another_connection_commits() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("keys.db");
        let mut writer = connection::open(&path).unwrap();
        migrations::run(&mut writer).unwrap();
        let at = Timestamp::from_unix_micros(1_700_000_000_000_000);
        let key = NewKey {
            key_id: KeyId::new_random(),
            lookup: "lookup-1".into(),
            secret_hash: SecretHash([7; 32]),
        };
        apps::create_app(&writer, "a", &key, at).unwrap();
        let reader = connection::open_reader(&path).unwrap();
        let read = || {
            reader.execute_batch("BEGIN").unwrap();
            let found = find_key_in_app(&reader, &key.lookup).unwrap();
            reader.execute_batch("COMMIT").unwrap();
            transaction_ended();
            found.map(|(key, _)| key.revoked)
        };
        remember_on_this_thread();
        assert_eq!(read(), Some(false));
        // The table changes under the reader's memory: the next lookup must see it.
        writer
            .execute("UPDATE api_keys SET revoked_at = 1", [])
            .unwrap();
        assert_eq!(read(), Some(true));
        writer.execute("DELETE FROM api_keys", []).unwrap();
        assert_eq!(read(), None);
    }

    #[test]
    fn a_lent_cache_comes_back_with_what_it_learned() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("keys.db");
        let mut writer = connection::open(&path).unwrap();
        migrations::run(&mut writer).unwrap();
        let key = NewKey {
            key_id: KeyId::new_random(),
            lookup: "lookup-2".into(),
            secret_hash: SecretHash([9; 32]),
        };
        let at = Timestamp::from_unix_micros(1_700_000_000_000_000);
        apps::create_app(&writer, "a", &key, at).unwrap();
        let reader = connection::open_reader(&path).unwrap();
        let mut cache = KeyCache::default();
        // A thread that remembers nothing of its own (a runtime thread running a lane).
        let found = lend(&mut cache, || {
            find_key_in_app(&reader, &key.lookup).unwrap()
        });
        assert!(found.is_some());
        assert!(
            cache.keys.contains_key(&key.lookup),
            "the cache kept the key"
        );
        assert!(
            REMEMBERED.with(|cell| cell.borrow().is_none()),
            "the thread has none again"
        );
        // A reader thread keeps its own cache across a loan.
        remember_on_this_thread();
        lend(&mut cache, || ());
        assert!(REMEMBERED.with(|cell| cell.borrow().as_ref().is_some_and(|c| c.keys.is_empty())));
        assert_eq!(cache.keys.len(), 1);
    }
}
