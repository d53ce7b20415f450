//! Deletion records (an audit trail with no personal data) and bulk deletion jobs.

use std::time::Duration;

use entitle_domain::datetime::Timestamp;
use entitle_domain::{AppId, CustomerUserId, KeyId, ProfileId};

use crate::records::DeletionCounts;

/// Who asked for a deletion.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeletedBy {
    /// An app's API key, through the Adapty-compatible DELETE.
    Key(KeyId),
    /// A bulk deletion job of the admin API.
    Job(uuid::Uuid),
}

/// One deletion, as the audit trail keeps it: when, by whom, how much; the profile id only as
/// a keyed hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeletionRecord {
    pub position: i64,
    pub deletion_id: uuid::Uuid,
    pub deleted_at: Timestamp,
    pub deleted_by: DeletedBy,
    pub profile_hash: [u8; 32],
    pub counts: DeletionCounts,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeletionRecordPage {
    pub records: Vec<DeletionRecord>,
    /// Pass as `after` for the next page; `None` at the end.
    pub next: Option<i64>,
}

/// What one item of a job names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JobTarget {
    CustomerUserId(CustomerUserId),
    ProfileId(ProfileId),
}

impl JobTarget {
    pub fn kind(&self) -> &'static str {
        match self {
            JobTarget::CustomerUserId(_) => "customer_user_id",
            JobTarget::ProfileId(_) => "profile_id",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ItemOutcome {
    Pending,
    Deleted,
    NotFound,
    Failed(String),
}

impl ItemOutcome {
    pub fn as_str(&self) -> &'static str {
        match self {
            ItemOutcome::Pending => "pending",
            ItemOutcome::Deleted => "deleted",
            ItemOutcome::NotFound => "not_found",
            ItemOutcome::Failed(_) => "failed",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct JobCounts {
    pub pending: u32,
    pub deleted: u32,
    pub not_found: u32,
    pub failed: u32,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeletionJob {
    pub job_id: uuid::Uuid,
    pub app_id: AppId,
    pub total: u32,
    pub counts: JobCounts,
    pub created_at: Timestamp,
    pub finished_at: Option<Timestamp>,
}

impl DeletionJob {
    pub fn status(&self) -> &'static str {
        if self.finished_at.is_some() {
            "completed"
        } else if self.counts.pending == self.total {
            "queued"
        } else {
            "running"
        }
    }
}

/// An item's result. The id it named is not kept once it is done (it may be personal data);
/// the index says which line of the submitted list it was.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobItem {
    pub index: u32,
    pub kind: &'static str,
    pub outcome: ItemOutcome,
}

/// An item a runner has claimed under a lease.
#[derive(Debug, Clone)]
pub struct ClaimedItem {
    pub job_id: uuid::Uuid,
    pub app_id: AppId,
    pub index: u32,
    pub target: JobTarget,
    pub lease_owner: String,
}

/// How long a runner's claim on an item lasts.
pub const ITEM_LEASE: Duration = Duration::from_secs(60);

/// What `/readyz` reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Readiness {
    pub schema_version: i64,
    pub latest_schema_version: i64,
}

/// What `/metrics` reports about the outbox.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct OutboxStats {
    /// Deliveries not yet delivered, refused, failed or cancelled.
    pub pending: u64,
    /// Age of the oldest delivery that is due now, in seconds (0 when none is due).
    pub oldest_due_age_seconds: f64,
    /// Integrations whose attempts have all failed since their last answered one; after a day
    /// of it their retries stop (spec §9.6).
    pub failing_integrations: u64,
}
