//! The deletion audit trail, bulk deletion jobs and operator figures over this crate's
//! functions; see `store.rs` for the pattern.

use async_trait::async_trait;
use entitle_domain::AppId;
use entitle_domain::datetime::Timestamp;
use entitle_store::{
    ClaimedItem, DeletionJob, DeletionJobStore, DeletionRecordPage, DeletionRecordStore,
    ItemOutcome, JobItem, JobTarget, OperationsStore, OutboxStats, Readiness, StoreResult,
};

use crate::transact::{Mode, transaction};
use crate::{PgStore, deletion_jobs, deletion_records, operations};

#[async_trait]
impl DeletionRecordStore for PgStore {
    async fn list_deletion_records(
        &self,
        app: AppId,
        since: Option<Timestamp>,
        after: Option<i64>,
        limit: u32,
    ) -> StoreResult<DeletionRecordPage> {
        transaction!(self, Mode::Read, [], |conn| deletion_records::list(
            conn, app, since, after, limit
        ))
    }
}

#[async_trait]
impl DeletionJobStore for PgStore {
    async fn create_deletion_job(
        &self,
        app: AppId,
        items: Vec<JobTarget>,
        at: Timestamp,
    ) -> StoreResult<(DeletionJob, bool)> {
        transaction!(self, Mode::Write, [items], |conn| {
            deletion_jobs::create(conn, app, &items, at)
        })
    }

    async fn get_deletion_job(
        &self,
        app: AppId,
        job_id: uuid::Uuid,
    ) -> StoreResult<Option<(DeletionJob, Vec<JobItem>)>> {
        transaction!(self, Mode::Snapshot, [], |conn| deletion_jobs::get(
            conn, app, job_id, true
        ))
    }

    async fn claim_deletion_items(
        &self,
        runner: &str,
        now: Timestamp,
        lease: std::time::Duration,
        limit: u32,
    ) -> StoreResult<Vec<ClaimedItem>> {
        let runner = runner.to_owned();
        transaction!(self, Mode::Write, [runner], |conn| {
            deletion_jobs::claim(conn, &runner, now, lease, limit)
        })
    }

    async fn run_deletion_item(
        &self,
        item: &ClaimedItem,
        at: Timestamp,
    ) -> StoreResult<Option<ItemOutcome>> {
        let item = item.clone();
        let outcome = transaction!(self, Mode::Write, [item], |conn| deletion_jobs::run(
            conn, &item, at
        ))?;
        if outcome == Some(ItemOutcome::Deleted) {
            // Counted once committed, not once per attempt.
            entitle_store::metrics::PROFILES_DELETED.inc();
        }
        Ok(outcome)
    }
}

#[async_trait]
impl OperationsStore for PgStore {
    async fn readiness(&self) -> StoreResult<Readiness> {
        transaction!(self, Mode::Read, [], |conn| operations::readiness(conn))
    }

    async fn outbox_stats(&self, now: Timestamp) -> StoreResult<OutboxStats> {
        transaction!(self, Mode::Read, [], |conn| operations::outbox_stats(
            conn, now
        ))
    }
}
