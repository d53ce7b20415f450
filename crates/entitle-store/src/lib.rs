//! The storage contract every entitle backend implements.
//!
//! Methods are shaped by use case and atomic: each one does all of its writes in one database
//! transaction inside the backend, so callers never hold a transaction across this boundary
//! (STYLE.md habit 3). The capabilities are split into small traits; [`Store`] is all of them.

pub mod claims;
mod deletions;
mod error;
mod events;
pub mod metrics;
mod records;

use async_trait::async_trait;
use entitle_domain::datetime::Timestamp;
use entitle_domain::events::RetryCutOffs;
use entitle_domain::profile::{Profile, ProfilePatch};
use entitle_domain::purchase::{
    AccessLevelId, CurrencyCode, Environment, GrantRequest, RevokeRequest, SharingPolicy, StoreId,
    Transaction, UsdRate,
};
use entitle_domain::resolve::ProfileRef;
use entitle_domain::{AppId, IntegrationId, KeyId};

pub use deletions::{
    ClaimedItem, DeletedBy, DeletionJob, DeletionRecord, DeletionRecordPage, ITEM_LEASE,
    ItemOutcome, JobCounts, JobItem, JobTarget, OutboxStats, Readiness,
};
pub use error::{StoreError, StoreResult};
pub use events::{
    AttemptRecord, AttemptResult, ClaimLimits, ClaimedDelivery, DEFAULT_LEASE, DeliveryState,
    DeliveryStatus, EventPage, EventQuery, FeedEvent, Integration, IntegrationRow, hidden_until,
    wanting,
};
pub use records::{
    ApiKeyRecord, AppRecord, DeletionCounts, DeletionReport, KeyRecord, KeyedProfile, NewKey,
};

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

    /// A GET's whole read in one trip to the store: the key whose lookup part is `lookup` (as
    /// [`KeyStore::find_key`] finds it) and, when that key is not revoked, the profile `target`
    /// names in the key's app (as [`ProfileStore::get_profile`] answers). The caller checks
    /// the presented secret against the key's hash before it uses the profile.
    async fn get_profile_by_key(
        &self,
        lookup: &str,
        target: ProfileRef,
    ) -> StoreResult<KeyedProfile>;

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
    /// Sets the rate at which the app's transactions in `currency` are converted to US dollars
    /// from now on (USD itself is never converted).
    async fn set_exchange_rate(
        &self,
        app: AppId,
        currency: &CurrencyCode,
        rate: UsdRate,
    ) -> StoreResult<()>;
    /// Removes a rate; `false` when the app had none for the currency.
    async fn remove_exchange_rate(&self, app: AppId, currency: &CurrencyCode) -> StoreResult<bool>;
    /// The app's rates, by currency code.
    async fn list_exchange_rates(&self, app: AppId) -> StoreResult<Vec<(CurrencyCode, UsdRate)>>;
}

/// Webhook integrations of an app.
#[async_trait]
pub trait IntegrationStore: Send + Sync {
    async fn add_integration(&self, integration: Integration) -> StoreResult<Integration>;
    /// Integrations of one app, or of every app.
    async fn list_integrations(&self, app: Option<AppId>) -> StoreResult<Vec<Integration>>;
    /// Removes an integration; its pending deliveries are cancelled.
    async fn remove_integration(
        &self,
        integration: IntegrationId,
        at: Timestamp,
    ) -> StoreResult<Integration>;
}

/// Reading the event feed.
#[async_trait]
pub trait EventFeedStore: Send + Sync {
    /// Newest first.
    async fn list_events(&self, app: AppId, query: EventQuery) -> StoreResult<EventPage>;
}

/// The transactional outbox, as delivery workers see it.
#[async_trait]
pub trait DeliveryStore: Send + Sync {
    /// Claims due deliveries for `lease`, oldest due first within `limits`; no other worker gets
    /// them meanwhile. Due retries beyond `cut_offs` are given up (`failed`) instead: those of deliveries created
    /// too long ago, and those to an integration whose attempts have all failed since too long
    /// ago (its circuit is open; first attempts are still made, and one that succeeds closes it).
    async fn claim_deliveries(
        &self,
        worker: &str,
        now: Timestamp,
        lease: std::time::Duration,
        limits: ClaimLimits,
        cut_offs: RetryCutOffs,
    ) -> StoreResult<Vec<ClaimedDelivery>>;

    /// Records an attempt of a claimed delivery. Ignored (false) when the claim was lost: the
    /// lease expired and another worker took it over, or the delivery was cancelled. A failed
    /// attempt marks its integration failing from then on, unless it already was; an answered
    /// one (delivered or refused) marks it healthy again.
    async fn record_attempt(
        &self,
        claim: &ClaimedDelivery,
        result: AttemptResult,
    ) -> StoreResult<bool>;

    /// Announces subscriptions whose period (or grace period) has ended by `now` with no newer
    /// transaction: `subscription_expired` / `trial_expired` for the parent and
    /// `access_level_updated` for every profile that held the access (created only while an
    /// integration wants it, as every `access_level_updated`). Each chain's end is announced
    /// once. Then the same for grants and revokes whose access begins or ends at a set time
    /// (a grant's start or end, a revoke's `revoke_at`): `access_level_updated` for the level
    /// when its state changed. Returns how many of both were announced (at most `limit` each).
    async fn announce_expirations(&self, now: Timestamp, limit: u32) -> StoreResult<u32>;

    /// Moves events dated ahead of their write whose date has come by `now` (at most `limit`)
    /// to the head of the event feed: each takes the next position, as an event written now
    /// would, so that a reader who pages from the newest event down to the last one it saw
    /// finds it there. Until this runs they show at the position of their write from their date
    /// on. Their deliveries go with them. Returns how many moved.
    async fn reveal_dated_events(&self, now: Timestamp, limit: u32) -> StoreResult<u32>;
}

/// Reading the deletion audit trail.
#[async_trait]
pub trait DeletionRecordStore: Send + Sync {
    /// Oldest first: records at or after `since`, after position `after`.
    async fn list_deletion_records(
        &self,
        app: AppId,
        since: Option<Timestamp>,
        after: Option<i64>,
        limit: u32,
    ) -> StoreResult<DeletionRecordPage>;
}

/// Bulk deletion jobs: created through the admin API, run by background runners.
#[async_trait]
pub trait DeletionJobStore: Send + Sync {
    /// Creates a job for the list, or returns the app's existing job for the same list
    /// (`false`): resubmitting is idempotent.
    async fn create_deletion_job(
        &self,
        app: AppId,
        items: Vec<JobTarget>,
        at: Timestamp,
    ) -> StoreResult<(DeletionJob, bool)>;

    async fn get_deletion_job(
        &self,
        app: AppId,
        job_id: uuid::Uuid,
    ) -> StoreResult<Option<(DeletionJob, Vec<JobItem>)>>;

    /// Claims up to `limit` pending items of any job under a lease.
    async fn claim_deletion_items(
        &self,
        runner: &str,
        now: Timestamp,
        lease: std::time::Duration,
        limit: u32,
    ) -> StoreResult<Vec<ClaimedItem>>;

    /// Deletes the item's profile and records its outcome in one transaction; an item whose
    /// claim was lost is left alone (`None`).
    async fn run_deletion_item(
        &self,
        item: &ClaimedItem,
        at: Timestamp,
    ) -> StoreResult<Option<ItemOutcome>>;
}

/// What operators watch: readiness and the outbox.
#[async_trait]
pub trait OperationsStore: Send + Sync {
    /// The database answers and its schema is the one this build expects.
    async fn readiness(&self) -> StoreResult<Readiness>;
    async fn outbox_stats(&self, now: Timestamp) -> StoreResult<OutboxStats>;
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
    /// Creates the app only when the database holds none yet (the first start), atomically, so
    /// several nodes starting together make one; `None` when an app already exists.
    async fn create_first_app(
        &self,
        name: &str,
        first_key: NewKey,
        at: Timestamp,
    ) -> StoreResult<Option<AppRecord>>;
    async fn create_key(&self, app: AppId, key: NewKey, at: Timestamp) -> StoreResult<KeyRecord>;
    /// Revokes a key at once; revoking a revoked key is not an error.
    async fn revoke_key(&self, key: KeyId, at: Timestamp) -> StoreResult<KeyRecord>;
}

/// Everything a backend offers.
pub trait Store:
    KeyStore
    + ProfileStore
    + PurchaseStore
    + ConfigStore
    + IntegrationStore
    + EventFeedStore
    + DeliveryStore
    + DeletionRecordStore
    + DeletionJobStore
    + OperationsStore
    + AdminStore
{
}

impl<T> Store for T where
    T: KeyStore
        + ProfileStore
        + PurchaseStore
        + ConfigStore
        + IntegrationStore
        + EventFeedStore
        + DeliveryStore
        + DeletionRecordStore
        + DeletionJobStore
        + OperationsStore
        + AdminStore
{
}
