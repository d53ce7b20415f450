//! Where a profile's row lives: its slot, the rowid of the `profiles` table.
//!
//! A profile is found by (app, profile id). Keyed by that pair, as a `WITHOUT ROWID` table,
//! every interior page of the b-tree held whole rows (hundreds of bytes each): eight to a page,
//! six levels at 100,000 profiles, and a read or a delete walked all of them. A rowid table
//! keeps rows in its leaves only, and its interior pages hold a few hundred 8-byte keys: three
//! levels at 100,000, four at a million. A separate (app, profile id) index would add a b-tree
//! to every write; instead the rowid is computed from the pair.
//!
//! The slot is the first 62 bits of SHA-256 over the app and the profile id. A cryptographic
//! hash, because profile ids may come from clients: nobody can choose ids that crowd another
//! app's slots. Two pairs meeting in one slot (about one chance in 10^7 at a million profiles)
//! take the next free one: a row lives within [`PROBES`] slots of its own, and every lookup
//! reads that short range, checking the app and the id.

use entitle_domain::ProfileId;
use entitle_store::{StoreError, StoreResult};
use rusqlite::Connection;
use rusqlite::functions::FunctionFlags;
use sha2::{Digest, Sha256};

use crate::codec::backend;

/// Slots a row may sit past its own; a lookup reads `slot ..= slot + PROBES - 1`.
pub const PROBES: i64 = 16;

/// Names the hash, so that it is never confused with another use of SHA-256 over the same ids.
const DOMAIN: &[u8] = b"entitle profile slot v1\0";

/// The slot of (app, profile id): 0 to 2^62 - 1, so the probe range never overflows.
pub fn profile_slot(app_pk: i64, profile_id: &[u8]) -> i64 {
    let digest = Sha256::new()
        .chain_update(DOMAIN)
        .chain_update(app_pk.to_be_bytes())
        .chain_update(profile_id)
        .finalize();
    let mut first = [0u8; 8];
    first.copy_from_slice(&digest[..8]);
    (u64::from_be_bytes(first) >> 2) as i64
}

/// [`profile_slot`] for a profile id.
pub fn slot_of(app_pk: i64, profile_id: ProfileId) -> i64 {
    profile_slot(app_pk, profile_id.as_bytes())
}

/// SQL that matches the row of (`app`, `id`) near `slot`, three SQL expressions: a row sits at
/// its own slot or one of the next [`PROBES`] - 1.
pub fn matching(app: &str, id: &str, slot: &str) -> String {
    format!(
        "profile_slot BETWEEN {slot} AND {slot} + {} AND app_pk = {app} AND profile_id = {id}",
        PROBES - 1
    )
}

/// A free slot for a new row of (app, profile id): its own slot, or the first free one after.
pub fn free_slot(conn: &Connection, app_pk: i64, profile_id: ProfileId) -> StoreResult<i64> {
    first_free(conn, "profiles", slot_of(app_pk, profile_id))
}

/// The first slot of `table` not taken, from `home` on: `home` or one of the next
/// [`PROBES`] - 1. (`table` is `profiles`, or the table migration 7 filled.)
pub fn first_free(conn: &Connection, table: &str, home: i64) -> StoreResult<i64> {
    let taken: Vec<i64> = conn
        .prepare_cached(&format!(
            "SELECT profile_slot FROM {table} WHERE profile_slot BETWEEN ?1 AND ?1 + ?2 - 1"
        ))
        .map_err(backend)?
        .query_map([home, PROBES], |row| row.get(0))
        .map_err(backend)?
        .collect::<Result<_, _>>()
        .map_err(backend)?;
    (home..home + PROBES)
        .find(|slot| !taken.contains(slot))
        .ok_or_else(|| StoreError::Backend("no free profile slot near its own".into()))
}

/// Makes `profile_slot(app_pk, profile_id)` callable from SQL on `conn`, for queries that
/// look profiles up row by row (the integrity checks).
pub fn register(conn: &Connection) -> StoreResult<()> {
    conn.create_scalar_function(
        "profile_slot",
        2,
        FunctionFlags::SQLITE_UTF8 | FunctionFlags::SQLITE_DETERMINISTIC,
        |context| {
            let app_pk: i64 = context.get(0)?;
            let profile_id: Vec<u8> = context.get(1)?;
            Ok(profile_slot(app_pk, &profile_id))
        },
    )
    .map_err(backend)
}

#[cfg(test)]
mod tests {
    use entitle_domain::datetime::Timestamp;
    use entitle_domain::resolve::ProfileRef;
    use entitle_domain::{AppId, ProfileId};
    use entitle_store::DeletedBy;

    use super::*;
    use crate::{connection, migrations, profiles};

    /// A migrated database with one app (`app_pk` 1).
    fn database(dir: &tempfile::TempDir) -> (Connection, AppId) {
        let mut conn = connection::open(&dir.path().join("slots.db")).unwrap();
        migrations::run(&mut conn).unwrap();
        let app = AppId::new_random();
        conn.execute(
            "INSERT INTO apps (app_pk, app_id, name, record_key, created_at) VALUES (1, ?1, 'a', x'00', 0)",
            [app.as_bytes()],
        )
        .unwrap();
        (conn, app)
    }

    fn put(conn: &Connection, slot: i64, profile_id: ProfileId) {
        conn.execute(
            "INSERT INTO profiles (profile_slot, app_pk, profile_id, attributes, created_at, updated_at)
             VALUES (?1, 1, ?2, '{}', 0, 0)",
            rusqlite::params![slot, profile_id.as_bytes()],
        )
        .unwrap();
    }

    #[test]
    fn a_profile_whose_slot_is_taken_takes_the_next_and_is_still_found_and_deleted() {
        let dir = tempfile::tempdir().unwrap();
        let (conn, app) = database(&dir);
        let (wanted, squatter) = (ProfileId::new_random(), ProfileId::new_random());
        let home = slot_of(1, wanted);
        put(&conn, home, squatter);
        assert_eq!(free_slot(&conn, 1, wanted).unwrap(), home + 1);
        put(&conn, home + 1, wanted);
        let found = profiles::by_id(&conn, 1, wanted).unwrap().unwrap();
        assert_eq!(found.identity.profile_id, wanted);
        let target = ProfileRef::Id(wanted);
        let at = Timestamp::from_unix_micros(1_700_000_000_000_000);
        profiles::delete(&conn, app, &target, DeletedBy::Job(uuid::Uuid::nil()), at).unwrap();
        assert!(profiles::by_id(&conn, 1, wanted).unwrap().is_none());
        let left: Vec<i64> = conn
            .prepare("SELECT profile_slot FROM profiles")
            .unwrap()
            .query_map([], |row| row.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(left, vec![home], "only the other profile's row is left");
    }

    #[test]
    fn a_full_probe_range_is_an_error_not_a_misplaced_row() {
        let dir = tempfile::tempdir().unwrap();
        let (conn, _) = database(&dir);
        let wanted = ProfileId::new_random();
        let home = slot_of(1, wanted);
        for slot in home..home + PROBES {
            put(&conn, slot, ProfileId::new_random());
        }
        assert!(free_slot(&conn, 1, wanted).is_err());
    }

    #[test]
    fn a_slot_is_stable_and_leaves_room_to_probe() {
        // Rows on disk sit at these slots: the function can never change.
        let id = uuid::Uuid::from_u128(0x0123_4567_89ab_cdef_0123_4567_89ab_cdef);
        assert_eq!(
            profile_slot(1, id.as_bytes()),
            profile_slot(1, id.as_bytes())
        );
        assert_ne!(
            profile_slot(1, id.as_bytes()),
            profile_slot(2, id.as_bytes())
        );
        assert_eq!(profile_slot(7, id.as_bytes()), STABLE_SLOT);
        for app_pk in 0..1000 {
            let slot = profile_slot(app_pk, id.as_bytes());
            assert!((0..(1i64 << 62)).contains(&slot));
            assert!(slot.checked_add(PROBES).is_some());
        }
    }

    const STABLE_SLOT: i64 = 2_933_537_775_376_874_834;
}
