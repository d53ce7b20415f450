//! The storage contract every entitle backend implements.
//!
//! Methods are shaped by use case and atomic: each one does all of its writes in one database
//! transaction inside the backend, so callers never hold a transaction across this boundary
//! (STYLE.md habit 3). The capabilities are split into small traits; [`Store`] is all of them.

mod error;
mod records;

use async_trait::async_trait;
use entitle_domain::datetime::Timestamp;
use entitle_domain::keys::SecretHash;
use entitle_domain::profile::{Profile, ProfilePatch};
use entitle_domain::resolve::ProfileRef;
use entitle_domain::{AppId, KeyId};

pub use error::{StoreError, StoreResult};
pub use records::{ApiKeyRecord, AppRecord, DeletionCounts, DeletionReport, KeyRecord, NewKey};

/// Looking up API keys on every request.
#[async_trait]
pub trait KeyStore: Send + Sync {
    /// The key whose public lookup part is `lookup`, revoked or not; `None` if there is none.
    async fn find_key(&self, lookup: &str) -> StoreResult<Option<ApiKeyRecord>>;
}

/// The profile lifecycle of the Adapty-compatible API.
#[async_trait]
pub trait ProfileStore: Send + Sync {
    /// Get-or-create (DESIGN.md §3.2), then the patch applied as an update.
    async fn create_profile(
        &self,
        app: AppId,
        target: ProfileRef,
        patch: ProfilePatch,
        at: Timestamp,
    ) -> StoreResult<Profile>;

    async fn get_profile(&self, app: AppId, target: ProfileRef) -> StoreResult<Profile>;

    async fn update_profile(
        &self,
        app: AppId,
        target: ProfileRef,
        patch: ProfilePatch,
        at: Timestamp,
    ) -> StoreResult<Profile>;

    /// Deletes the profile and everything that is only its own, writes a deletion record, all
    /// in one transaction (DESIGN.md §4).
    async fn delete_profile(
        &self,
        app: AppId,
        target: ProfileRef,
        deleted_by: KeyId,
        at: Timestamp,
    ) -> StoreResult<DeletionReport>;
}

/// Operator actions: apps and their keys.
#[async_trait]
pub trait AdminStore: Send + Sync {
    /// A new app with its first key, in one transaction.
    async fn create_app(
        &self,
        name: &str,
        first_key: NewKey,
        at: Timestamp,
    ) -> StoreResult<AppRecord>;
    async fn list_apps(&self) -> StoreResult<Vec<AppRecord>>;
    async fn create_key(&self, app: AppId, key: NewKey, at: Timestamp) -> StoreResult<KeyRecord>;
    /// Revokes a key at once; revoking a revoked key is not an error.
    async fn revoke_key(&self, key: KeyId, at: Timestamp) -> StoreResult<KeyRecord>;
}

/// Everything a backend offers.
pub trait Store: KeyStore + ProfileStore + AdminStore {}

impl<T: KeyStore + ProfileStore + AdminStore> Store for T {}

/// A helper for backends: the hash a key must match.
pub fn key_matches(record: &ApiKeyRecord, presented: &SecretHash) -> bool {
    record.secret_hash.matches(presented)
}
