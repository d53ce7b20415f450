//! Records of the event feed, webhook integrations and the delivery outbox.

use std::time::Duration;

use entitle_domain::datetime::Timestamp;
use entitle_domain::events::{AttemptOutcome, EventType};
use entitle_domain::purchase::Environment;
use entitle_domain::{AppId, CustomerUserId, IntegrationId, ProfileId};

/// A webhook integration of an app.
#[derive(Clone, PartialEq, Eq)]
pub struct Integration {
    pub integration_id: IntegrationId,
    pub app_id: AppId,
    pub url: String,
    /// Sent verbatim as the `Authorization` header (Adapty's static value).
    pub authorization: Option<String>,
    /// `None`: both environments.
    pub environment: Option<Environment>,
    /// `None`: every event type.
    pub events: Option<Vec<EventType>>,
    /// Standard Webhooks secret (`whsec_…`).
    pub signing_secret: String,
    pub created_at: Timestamp,
    /// Since when every attempt to it has failed; `None` while its last attempt was answered.
    /// Kept by the workers; a new integration starts with `None` whatever is passed.
    pub failing_since: Option<Timestamp>,
}

impl std::fmt::Debug for Integration {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Integration")
            .field("integration_id", &self.integration_id)
            .field("app_id", &self.app_id)
            .field("environment", &self.environment)
            .field("events", &self.events)
            .field("failing_since", &self.failing_since)
            .finish_non_exhaustive()
    }
}

impl Integration {
    /// Whether an event of this type and environment goes to this integration.
    pub fn wants(&self, event_type: EventType, environment: Environment) -> bool {
        self.environment.is_none_or(|wanted| wanted == environment)
            && self
                .events
                .as_ref()
                .is_none_or(|types| types.contains(&event_type))
    }
}

/// An active integration as a store reads it: with the store's own key for it, which its
/// deliveries refer to.
pub struct IntegrationRow {
    pub integration_pk: i64,
    pub integration: Integration,
}

/// The keys of the integrations among `rows` that want an event of this type and environment:
/// where its deliveries go, and (for a webhook-only type) whether it is created at all.
pub fn wanting(
    rows: &[IntegrationRow],
    event_type: EventType,
    environment: Environment,
) -> Vec<i64> {
    rows.iter()
        .filter(|row| row.integration.wants(event_type, environment))
        .map(|row| row.integration_pk)
        .collect()
}

/// What the feed can be filtered by.
#[derive(Debug, Clone)]
pub struct EventQuery {
    pub profile_id: Option<ProfileId>,
    pub customer_user_id: Option<CustomerUserId>,
    pub event_type: Option<EventType>,
    /// Only events older than this position (the cursor of the previous page).
    pub before: Option<i64>,
    pub limit: u32,
    /// Only events dated no later than this: one dated in the future (a renewal or conversion
    /// the store reported ahead of time) stays hidden until then (spec §8.5, §9.8).
    pub as_of: Timestamp,
}

impl EventQuery {
    /// A page when none is asked for.
    pub const DEFAULT_LIMIT: u32 = 50;
    /// The largest page.
    pub const MAX_LIMIT: u32 = 500;
}

impl Default for EventQuery {
    /// The whole feed as it stands now, newest first, a page of the default size.
    fn default() -> Self {
        Self {
            profile_id: None,
            customer_user_id: None,
            event_type: None,
            before: None,
            limit: Self::DEFAULT_LIMIT,
            as_of: Timestamp::now(),
        }
    }
}

/// What an event's `hidden_until` column holds: its date when that is later than the write
/// (`at`), otherwise nothing (shown at once). Deliveries do not wait for it (spec §8.5).
pub fn hidden_until(occurred_at: Timestamp, at: Timestamp) -> Option<i64> {
    (occurred_at > at).then(|| occurred_at.unix_micros())
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeliveryState {
    Pending,
    Delivered,
    /// The receiver answered 400–404: accepted as final, not retried.
    Refused,
    /// Retries exhausted.
    Failed,
    /// Its integration was removed before it was delivered.
    Cancelled,
}

impl DeliveryState {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Delivered => "delivered",
            Self::Refused => "refused",
            Self::Failed => "failed",
            Self::Cancelled => "cancelled",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        [
            Self::Pending,
            Self::Delivered,
            Self::Refused,
            Self::Failed,
            Self::Cancelled,
        ]
        .into_iter()
        .find(|state| state.as_str() == text)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttemptRecord {
    pub attempted_at: Timestamp,
    pub status_code: Option<u16>,
    pub error: Option<String>,
    pub duration_ms: u64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliveryStatus {
    pub integration_id: IntegrationId,
    pub webhook_id: String,
    pub state: DeliveryState,
    pub next_attempt_at: Option<Timestamp>,
    pub attempts: Vec<AttemptRecord>,
}

/// One event of the feed with its deliveries.
#[derive(Debug, Clone, PartialEq)]
pub struct FeedEvent {
    pub position: i64,
    pub event_id: uuid::Uuid,
    pub event_type: EventType,
    pub profile_id: ProfileId,
    pub created_at: Timestamp,
    pub reissued: bool,
    pub payload: serde_json::Value,
    pub deliveries: Vec<DeliveryStatus>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct EventPage {
    pub events: Vec<FeedEvent>,
    /// Pass as `before` for the next (older) page; `None` at the end.
    pub next: Option<i64>,
}

/// How many deliveries one claim may take.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClaimLimits {
    /// At most this many in all: the worker's free slots.
    pub total: u32,
    /// At most this many in flight to one integration at a time, every worker's counted, so an
    /// endpoint slow to answer fills only its own share of the slots.
    pub per_endpoint: u32,
}

impl ClaimLimits {
    /// How many more deliveries a claim may take for an endpoint with `in_flight` already.
    pub fn room(&self, in_flight: u32) -> u32 {
        self.per_endpoint.saturating_sub(in_flight).min(self.total)
    }
}

/// A delivery a worker has claimed; the lease keeps other workers off it until it expires.
#[derive(Clone)]
pub struct ClaimedDelivery {
    pub delivery_id: i64,
    pub webhook_id: String,
    pub url: String,
    pub authorization: Option<String>,
    pub signing_secret: String,
    pub body: String,
    /// Attempts made before this one.
    pub attempts_made: u32,
    pub created_at: Timestamp,
    pub lease_owner: String,
}

impl std::fmt::Debug for ClaimedDelivery {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClaimedDelivery")
            .field("delivery_id", &self.delivery_id)
            .field("webhook_id", &self.webhook_id)
            .field("attempts_made", &self.attempts_made)
            .finish_non_exhaustive()
    }
}

/// The result of one attempt, and when to try again (if at all).
#[derive(Debug, Clone)]
pub struct AttemptResult {
    pub attempt: AttemptRecord,
    pub outcome: AttemptOutcome,
    pub retry_at: Option<Timestamp>,
}

/// How long a claim keeps other workers off a delivery.
pub const DEFAULT_LEASE: Duration = Duration::from_secs(60);
