//! Integration events (spec §9): which events a change produces, what their payload holds, and
//! how their delivery is retried. Pure: the store writes them in the change's transaction.

mod derive;
mod payload;
mod personal;
mod plan;
mod retry;
mod sharing;
mod unknown;

pub use derive::{AccessChange, access_changes, replay_chain, transaction_events};
pub use payload::{
    EventContext, SharingProfile, access_level_properties, build_payload, profile_deleted_payload,
    transaction_properties,
};
pub use personal::{PERSONAL_FIELDS, join_personal, split_personal};
pub use plan::{
    PlannedEvent, StoreEvent, Touched, plan_access_events, plan_expiry, plan_profile_deleted,
    plan_scheduled_access, plan_store_event,
};
pub use retry::{AttemptOutcome, RetryCutOffs, RetryPolicy, classify_status};
pub use sharing::{forget_sharing_profile, sharing_profile_ids};
pub use unknown::{omit_unknown, restore_unknown};

use serde::{Deserialize, Serialize};

macro_rules! event_types {
    ($($variant:ident = $text:literal),+ $(,)?) => {
        /// `event_type` values (spec §9.1), plus entitle's `profile_deleted`.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        pub enum EventType {
            $(#[serde(rename = $text)] $variant),+
        }

        impl EventType {
            pub const ALL: &'static [EventType] = &[$(EventType::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self {
                    $(EventType::$variant => $text,)+
                }
            }

            pub fn parse(text: &str) -> Option<Self> {
                match text {
                    $($text => Some(EventType::$variant),)+
                    _ => None,
                }
            }
        }
    };
}

event_types! {
    SubscriptionStarted = "subscription_started",
    SubscriptionRenewed = "subscription_renewed",
    SubscriptionRenewalCancelled = "subscription_renewal_cancelled",
    SubscriptionRenewalReactivated = "subscription_renewal_reactivated",
    SubscriptionExpired = "subscription_expired",
    SubscriptionRefunded = "subscription_refunded",
    NonSubscriptionPurchase = "non_subscription_purchase",
    NonSubscriptionPurchaseRefunded = "non_subscription_purchase_refunded",
    TrialStarted = "trial_started",
    TrialConverted = "trial_converted",
    TrialRenewalCancelled = "trial_renewal_cancelled",
    TrialRenewalReactivated = "trial_renewal_reactivated",
    TrialExpired = "trial_expired",
    EnteredGracePeriod = "entered_grace_period",
    BillingIssueDetected = "billing_issue_detected",
    AccessLevelUpdated = "access_level_updated",
    ProfileDeleted = "profile_deleted",
}

impl EventType {
    /// Events about a transaction (attached to the chain's parent only).
    pub fn is_transactional(self) -> bool {
        !matches!(
            self,
            EventType::AccessLevelUpdated | EventType::ProfileDeleted
        )
    }

    /// Events that exist only for a webhook integration which has them enabled (spec §9.1:
    /// `access_level_updated` "is only created if the webhook integration is configured and
    /// this event type is enabled"; `profile_deleted` is entitle's, sent only on request).
    /// Without such an integration they are not created, not even in the event feed.
    pub fn is_webhook_only(self) -> bool {
        matches!(
            self,
            EventType::AccessLevelUpdated | EventType::ProfileDeleted
        )
    }
}
