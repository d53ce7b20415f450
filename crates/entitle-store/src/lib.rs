//! The storage contract every entitle backend implements.
//!
//! Methods are shaped by use case and atomic: each one does all of its writes in one database
//! transaction inside the backend, so callers never hold a transaction across this boundary
//! (STYLE.md habit 3). The capabilities are split into small traits; [`Store`] is all of them.

mod error;
mod records;

use async_trait::async_trait;
use entitle_domain::datetime::Timestamp;
use entitle_domain::profile::{Profile, ProfilePatch};
use entitle_domain::purchase::{
    AccessLevelId, Environment, GrantRequest, RevokeRequest, SharingPolicy, StoreId, Transaction,
};
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

/// Purchases, grants and revokes: each answers the updated profile.
#[async_trait]
pub trait PurchaseStore: Send + Sync {
    /// Records a transaction in its chain (a purchase, a renewal, or an update in place of a
    /// known transaction id), applies the sharing policy, reattaches a detached chain.
    async fn set_transaction(
        &self,
        app: AppId,
        target: ProfileRef,
        transaction: Transaction,
        at: Timestamp,
    ) -> StoreResult<Profile>;

    async fn grant_access_level(
        &self,
        app: AppId,
        target: ProfileRef,
        request: GrantRequest,
        at: Timestamp,
    ) -> StoreResult<Profile>;

    async fn revoke_access_level(
        &self,
        app: AppId,
        target: ProfileRef,
        request: RevokeRequest,
        at: Timestamp,
    ) -> StoreResult<Profile>;
}

/// App configuration, read by running servers on every request that needs it.
#[async_trait]
pub trait ConfigStore: Send + Sync {
    async fn add_access_level(
        &self,
        app: AppId,
        level: AccessLevelId,
        at: Timestamp,
    ) -> StoreResult<()>;
    async fn list_access_levels(&self, app: AppId) -> StoreResult<Vec<AccessLevelId>>;
    /// Maps a store product to an access level (which must exist).
    async fn set_product(
        &self,
        app: AppId,
        store: StoreId,
        store_product_id: &str,
        level: AccessLevelId,
    ) -> StoreResult<()>;
    async fn set_sharing_policy(
        &self,
        app: AppId,
        environment: Environment,
        policy: SharingPolicy,
    ) -> StoreResult<()>;
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
pub trait Store: KeyStore + ProfileStore + PurchaseStore + ConfigStore + AdminStore {}

impl<T: KeyStore + ProfileStore + PurchaseStore + ConfigStore + AdminStore> Store for T {}
