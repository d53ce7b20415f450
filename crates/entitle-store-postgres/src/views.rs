//! Re-deriving a profile's purchases view after a change, in the same transaction. The caller
//! holds the profile's lock, so no other transaction changes its chains or overrides meanwhile.

use entitle_domain::ProfileId;
use entitle_domain::purchase::{AccessOverride, ChainForProfile, ProfileAccessView, derive_view};
use sqlx::PgConnection;

use crate::chains::chains_of_profile;
use crate::error::{Result, corrupt, encode};

pub async fn overrides_of(
    conn: &mut PgConnection,
    app_pk: i64,
    profile_id: ProfileId,
) -> Result<Vec<AccessOverride>> {
    let bodies: Vec<String> = sqlx::query_scalar(
        "SELECT body FROM access_overrides WHERE app_pk = $1 AND profile_id = $2
          ORDER BY access_level_id COLLATE \"C\"",
    )
    .bind(app_pk)
    .bind(profile_id.as_uuid())
    .fetch_all(conn)
    .await?;
    bodies
        .iter()
        .map(|text| serde_json::from_str(text).map_err(|e| corrupt("override", e)))
        .collect()
}

/// Derives the profile's view from its chains and overrides and stores it with the profile.
pub async fn refresh(
    conn: &mut PgConnection,
    app_pk: i64,
    profile_id: ProfileId,
) -> Result<ProfileAccessView> {
    let chains = chains_of_profile(conn, app_pk, profile_id).await?;
    let overrides = overrides_of(conn, app_pk, profile_id).await?;
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
    sqlx::query("UPDATE profiles SET purchases = $3 WHERE app_pk = $1 AND profile_id = $2")
        .bind(app_pk)
        .bind(profile_id.as_uuid())
        .bind(encode(&view)?)
        .execute(conn)
        .await?;
    Ok(view)
}
