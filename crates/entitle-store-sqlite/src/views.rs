//! Re-deriving a profile's purchases view after a change, in the same transaction.

use std::sync::LazyLock;

use entitle_domain::ProfileId;
use entitle_domain::purchase::{AccessOverride, ChainForProfile, ProfileAccessView, derive_view};
use entitle_store::{StoreError, StoreResult};
use rusqlite::{Connection, params};

use crate::chains::chains_of_profile;
use crate::codec::backend;
use crate::documents;
use crate::slots;

/// Built once, not on every write.
static SET_VIEW: LazyLock<String> = LazyLock::new(|| {
    let row = slots::matching("?1", "?2", "?4");
    format!("UPDATE profiles SET purchases = ?3 WHERE {row}")
});

pub fn overrides_of(
    conn: &Connection,
    app_pk: i64,
    profile_id: ProfileId,
) -> StoreResult<Vec<AccessOverride>> {
    let mut statement = conn
        .prepare_cached("SELECT body FROM access_overrides WHERE app_pk = ?1 AND profile_id = ?2")
        .map_err(backend)?;
    let rows = statement
        .query_map(params![app_pk, profile_id.as_bytes()], |row| {
            row.get::<_, String>(0)
        })
        .map_err(backend)?;
    rows.map(|row| {
        let text = row.map_err(backend)?;
        serde_json::from_str(&text)
            .map_err(|e| StoreError::Backend(format!("stored override unreadable: {e}")))
    })
    .collect()
}

/// Derives the profile's view from its chains and overrides and stores it with the profile.
pub fn refresh(
    conn: &Connection,
    app_pk: i64,
    profile_id: ProfileId,
) -> StoreResult<ProfileAccessView> {
    let chains = chains_of_profile(conn, app_pk, profile_id)?;
    let overrides = overrides_of(conn, app_pk, profile_id)?;
    let entries: Vec<ChainForProfile<'_>> = chains
        .iter()
        .map(|(key, chain, owned, has_access)| ChainForProfile {
            key,
            chain,
            owned: *owned,
            has_access: *has_access,
        })
        .collect();
    let view = derive_view(&entries, &overrides);
    let packed = documents::pack_binary(&view)?;
    conn.prepare_cached(&SET_VIEW)
        .map_err(backend)?
        .execute(params![
            app_pk,
            profile_id.as_bytes(),
            packed,
            slots::slot_of(app_pk, profile_id)
        ])
        .map_err(backend)?;
    Ok(view)
}
