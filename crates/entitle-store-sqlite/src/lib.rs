//! entitle's embedded SQLite backend.
//!
//! All writes go through one writer thread that commits whatever has queued up as one
//! transaction (group commit): each request's work runs in its own savepoint, so one failing
//! request never undoes another, and no request is answered before the commit that holds it
//! is durable. Reads run on a small pool of reader threads against the WAL.

mod apps;
pub mod bench;
mod chains;
mod checkpointer;
mod codec;
mod config;
mod connection;
mod dated_ahead;
mod deletion_jobs;
mod deletion_records;
mod deliveries;
mod documents;
mod due;
mod expirations;
mod feed;
mod inline_reads;
mod integrations;
pub mod integrity;
mod key_cache;
mod migrations;
mod operations;
mod outbox;
mod profiles;
mod purchases;
mod readers;
mod scheduled_access;
mod slots;
mod views;
mod writer;

use std::path::{Path, PathBuf};

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
use entitle_store::{
    AdminStore, ApiKeyRecord, AppRecord, AttemptResult, ClaimLimits, ClaimedDelivery, ClaimedItem,
    ConfigStore, DeletedBy, DeletionJob, DeletionJobStore, DeletionRecordPage, DeletionRecordStore,
    DeletionReport, DeliveryStore, EventFeedStore, EventPage, EventQuery, Integration,
    IntegrationStore, ItemOutcome, JobItem, JobTarget, KeyRecord, KeyStore, KeyedProfile, NewKey,
    OperationsStore, OutboxStats, ProfileStore, PurchaseStore, Readiness, StoreError, StoreResult,
};

use checkpointer::Checkpointer;
use inline_reads::InlineReads;
use readers::Readers;
use writer::Writer;

/// Settings of the SQLite backend.
#[derive(Debug, Clone)]
pub struct SqliteConfig {
    pub path: PathBuf,
    /// Reader threads (and connections); [`default_readers`] unless set.
    pub readers: usize,
    /// Most requests one commit may carry.
    pub max_batch: usize,
    /// Connections for point reads run on the asking thread (`inline_reads.rs`): one per
    /// runtime worker thread, which the default runtime has one per core.
    pub lanes: usize,
}

impl SqliteConfig {
    pub fn new(path: impl Into<PathBuf>) -> Self {
        Self {
            path: path.into(),
            readers: default_readers(),
            max_batch: 256,
            lanes: std::thread::available_parallelism().map_or(1, |cores| cores.get()),
        }
    }
}

/// One reader per two cores. A reader that is busy takes every job that arrived meanwhile
/// into its next batch; an idle one must be woken for each job, a round trip through the
/// kernel that cost more than the read itself when four readers shared two cores
/// (docs/performance.md). The HTTP work needs the other half of the machine anyway.
pub fn default_readers() -> usize {
    std::thread::available_parallelism().map_or(1, |cores| (cores.get() / 2).max(1))
}

pub struct SqliteStore {
    writer: Writer,
    readers: Readers,
    /// Point reads (a key, a profile), run where they are asked for.
    inline: InlineReads,
    path: PathBuf,
}

impl SqliteStore {
    /// Opens (creating if needed) the database file and its folder, and runs the migrations.
    pub fn open(config: SqliteConfig) -> StoreResult<Self> {
        if let Some(parent) = config.path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent).map_err(|e| {
                StoreError::Unavailable(format!("cannot create {}: {e}", parent.display()))
            })?;
        }
        let mut conn = connection::open(&config.path)?;
        migrations::run(&mut conn)?;
        connection::set_cache(&conn, connection::WRITER_CACHE_KIB)?;
        let checkpointer = Checkpointer::start(&config.path)?;
        let writer = Writer::start(conn, checkpointer, config.max_batch)?;
        let readers = Readers::start(&config.path, config.readers.max(1))?;
        let inline = InlineReads::open(&config.path, config.lanes)?;
        Ok(Self {
            writer,
            readers,
            inline,
            path: config.path,
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Finishes the queued writes and stops the writer; later calls answer `Unavailable`.
    pub async fn close(&self) {
        self.writer.close().await;
    }

    /// Runs the migrations of a database without starting a store.
    pub fn migrate(path: &Path) -> StoreResult<()> {
        let mut conn = connection::open(path)?;
        migrations::run(&mut conn)
    }
}

#[async_trait]
impl KeyStore for SqliteStore {
    async fn find_key(&self, lookup: &str) -> StoreResult<Option<ApiKeyRecord>> {
        let lookup = lookup.to_owned();
        self.inline
            .run(move |conn| {
                key_cache::find_key_in_app(conn, &lookup).map(|found| found.map(|(key, _)| key))
            })
            .await
    }
}

#[async_trait]
impl ProfileStore for SqliteStore {
    async fn create_profile(
        &self,
        app: AppId,
        target: ProfileRef,
        patch: ProfilePatch,
        at: Timestamp,
    ) -> StoreResult<Profile> {
        self.writer
            .run(move |conn| profiles::create(conn, app, &target, patch, at))
            .await
    }

    async fn get_profile(&self, app: AppId, target: ProfileRef) -> StoreResult<Profile> {
        self.inline
            .run(move |conn| profiles::get(conn, app, &target))
            .await
    }

    async fn get_profile_by_key(
        &self,
        lookup: &str,
        target: ProfileRef,
    ) -> StoreResult<KeyedProfile> {
        let lookup = lookup.to_owned();
        self.inline
            .run(move |conn| {
                readers::snapshot(conn, |conn| profiles::get_by_key(conn, &lookup, &target))
            })
            .await
    }

    async fn update_profile(
        &self,
        app: AppId,
        target: ProfileRef,
        patch: ProfilePatch,
        at: Timestamp,
    ) -> StoreResult<Profile> {
        self.writer
            .run(move |conn| profiles::update(conn, app, &target, patch, at))
            .await
    }

    async fn delete_profile(
        &self,
        app: AppId,
        target: ProfileRef,
        deleted_by: KeyId,
        at: Timestamp,
    ) -> StoreResult<DeletionReport> {
        self.writer
            .run(move |conn| profiles::delete(conn, app, &target, DeletedBy::Key(deleted_by), at))
            .await
    }
}

#[async_trait]
impl PurchaseStore for SqliteStore {
    async fn set_transaction(
        &self,
        app: AppId,
        target: ProfileRef,
        transaction: Transaction,
        at: Timestamp,
    ) -> StoreResult<Profile> {
        self.writer
            .run(move |conn| purchases::set_transaction(conn, app, &target, transaction, at))
            .await
    }

    async fn grant_access_level(
        &self,
        app: AppId,
        target: ProfileRef,
        request: GrantRequest,
        at: Timestamp,
    ) -> StoreResult<Profile> {
        self.writer
            .run(move |conn| purchases::grant(conn, app, &target, &request, at))
            .await
    }

    async fn revoke_access_level(
        &self,
        app: AppId,
        target: ProfileRef,
        request: RevokeRequest,
        at: Timestamp,
    ) -> StoreResult<Profile> {
        self.writer
            .run(move |conn| purchases::revoke(conn, app, &target, &request, at))
            .await
    }
}

#[async_trait]
impl ConfigStore for SqliteStore {
    async fn add_access_level(
        &self,
        app: AppId,
        level: AccessLevelId,
        at: Timestamp,
    ) -> StoreResult<()> {
        self.writer
            .run(move |conn| config::add_access_level(conn, app, &level, at))
            .await
    }

    async fn list_access_levels(&self, app: AppId) -> StoreResult<Vec<AccessLevelId>> {
        self.readers
            .run(move |conn| config::list_access_levels(conn, app))
            .await
    }

    async fn set_product(
        &self,
        app: AppId,
        store: StoreId,
        store_product_id: &str,
        level: AccessLevelId,
    ) -> StoreResult<()> {
        let product = store_product_id.to_owned();
        self.writer
            .run(move |conn| config::set_product(conn, app, &store, &product, &level))
            .await
    }

    async fn set_sharing_policy(
        &self,
        app: AppId,
        environment: Environment,
        policy: SharingPolicy,
    ) -> StoreResult<()> {
        self.writer
            .run(move |conn| config::set_sharing_policy(conn, app, environment, policy))
            .await
    }

    async fn set_exchange_rate(
        &self,
        app: AppId,
        currency: &CurrencyCode,
        rate: UsdRate,
    ) -> StoreResult<()> {
        let currency = currency.clone();
        self.writer
            .run(move |conn| config::set_exchange_rate(conn, app, &currency, rate))
            .await
    }

    async fn remove_exchange_rate(&self, app: AppId, currency: &CurrencyCode) -> StoreResult<bool> {
        let currency = currency.clone();
        self.writer
            .run(move |conn| config::remove_exchange_rate(conn, app, &currency))
            .await
    }

    async fn list_exchange_rates(&self, app: AppId) -> StoreResult<Vec<(CurrencyCode, UsdRate)>> {
        self.readers
            .run(move |conn| config::list_exchange_rates(conn, app))
            .await
    }
}

#[async_trait]
impl IntegrationStore for SqliteStore {
    async fn add_integration(&self, integration: Integration) -> StoreResult<Integration> {
        self.writer
            .run(move |conn| integrations::add(conn, &integration))
            .await
    }

    async fn list_integrations(&self, app: Option<AppId>) -> StoreResult<Vec<Integration>> {
        self.readers
            .run(move |conn| integrations::list(conn, app))
            .await
    }

    async fn remove_integration(
        &self,
        integration: IntegrationId,
        at: Timestamp,
    ) -> StoreResult<Integration> {
        self.writer
            .run(move |conn| integrations::remove(conn, integration, at))
            .await
    }
}

#[async_trait]
impl EventFeedStore for SqliteStore {
    async fn list_events(&self, app: AppId, query: EventQuery) -> StoreResult<EventPage> {
        self.readers
            .run(move |conn| readers::snapshot(conn, |conn| feed::list_events(conn, app, &query)))
            .await
    }
}

#[async_trait]
impl DeliveryStore for SqliteStore {
    async fn claim_deliveries(
        &self,
        worker: &str,
        now: Timestamp,
        lease: std::time::Duration,
        limits: ClaimLimits,
        cut_offs: RetryCutOffs,
    ) -> StoreResult<Vec<ClaimedDelivery>> {
        let worker = worker.to_owned();
        self.writer
            .run(move |conn| deliveries::claim(conn, &worker, now, lease, limits, cut_offs))
            .await
    }

    async fn record_attempt(
        &self,
        claim: &ClaimedDelivery,
        result: AttemptResult,
    ) -> StoreResult<bool> {
        let claim = claim.clone();
        self.writer
            .run(move |conn| deliveries::record(conn, &claim, &result))
            .await
    }

    async fn announce_expirations(&self, now: Timestamp, limit: u32) -> StoreResult<u32> {
        self.writer
            .run(move |conn| {
                Ok(expirations::announce(conn, now, limit)?
                    + scheduled_access::announce(conn, now, limit)?)
            })
            .await
    }

    async fn reveal_dated_events(&self, now: Timestamp, limit: u32) -> StoreResult<u32> {
        self.writer
            .run(move |conn| dated_ahead::reveal(conn, now, limit))
            .await
    }
}

#[async_trait]
impl DeletionRecordStore for SqliteStore {
    async fn list_deletion_records(
        &self,
        app: AppId,
        since: Option<Timestamp>,
        after: Option<i64>,
        limit: u32,
    ) -> StoreResult<DeletionRecordPage> {
        self.readers
            .run(move |conn| deletion_records::list(conn, app, since, after, limit))
            .await
    }
}

#[async_trait]
impl DeletionJobStore for SqliteStore {
    async fn create_deletion_job(
        &self,
        app: AppId,
        items: Vec<JobTarget>,
        at: Timestamp,
    ) -> StoreResult<(DeletionJob, bool)> {
        self.writer
            .run(move |conn| deletion_jobs::create(conn, app, &items, at))
            .await
    }

    async fn get_deletion_job(
        &self,
        app: AppId,
        job_id: uuid::Uuid,
    ) -> StoreResult<Option<(DeletionJob, Vec<JobItem>)>> {
        self.readers
            .run(move |conn| {
                readers::snapshot(conn, |conn| deletion_jobs::get(conn, app, job_id, true))
            })
            .await
    }

    async fn claim_deletion_items(
        &self,
        runner: &str,
        now: Timestamp,
        lease: std::time::Duration,
        limit: u32,
    ) -> StoreResult<Vec<ClaimedItem>> {
        let runner = runner.to_owned();
        self.writer
            .run(move |conn| deletion_jobs::claim(conn, &runner, now, lease, limit))
            .await
    }

    async fn run_deletion_item(
        &self,
        item: &ClaimedItem,
        at: Timestamp,
    ) -> StoreResult<Option<ItemOutcome>> {
        let item = item.clone();
        self.writer
            .run(move |conn| deletion_jobs::run(conn, &item, at))
            .await
    }
}

#[async_trait]
impl OperationsStore for SqliteStore {
    async fn readiness(&self) -> StoreResult<Readiness> {
        self.readers.run(operations::readiness).await
    }

    async fn outbox_stats(&self, now: Timestamp) -> StoreResult<OutboxStats> {
        self.readers
            .run(move |conn| operations::outbox_stats(conn, now))
            .await
    }
}

#[async_trait]
impl AdminStore for SqliteStore {
    async fn create_app(
        &self,
        name: &str,
        first_key: NewKey,
        at: Timestamp,
    ) -> StoreResult<AppRecord> {
        let name = name.to_owned();
        self.writer
            .run(move |conn| apps::create_app(conn, &name, &first_key, at))
            .await
    }

    async fn create_first_app(
        &self,
        name: &str,
        first_key: NewKey,
        at: Timestamp,
    ) -> StoreResult<Option<AppRecord>> {
        let name = name.to_owned();
        self.writer
            .run(move |conn| apps::create_first_app(conn, &name, &first_key, at))
            .await
    }

    async fn list_apps(&self) -> StoreResult<Vec<AppRecord>> {
        self.readers.run(apps::list_apps).await
    }

    async fn create_key(&self, app: AppId, key: NewKey, at: Timestamp) -> StoreResult<KeyRecord> {
        self.writer
            .run(move |conn| apps::create_key(conn, app, &key, at))
            .await
    }

    async fn revoke_key(&self, key: KeyId, at: Timestamp) -> StoreResult<KeyRecord> {
        self.writer
            .run(move |conn| apps::revoke_key(conn, key, at))
            .await
    }
}
