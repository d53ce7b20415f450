//! Which events a change produces (spec §9.7).

use std::collections::BTreeMap;

use super::EventType;
use crate::datetime::Timestamp;
use crate::purchase::{
    AccessCandidate, AccessLevelId, CancellationReason, Chain, ChainTransaction, ProfileAccessView,
    PurchaseType, Transaction, Upsert,
};

/// The transactional events a transaction produces, with their business time.
///
/// `chain` holds the transaction (and the previous ones), `previous_latest` is the chain's
/// latest transaction before this one arrived (for a new transaction), `upsert` says whether
/// the transaction is new or an update in place.
pub fn transaction_events(
    chain: &Chain,
    previous_latest: Option<&ChainTransaction>,
    upsert: &Upsert,
    current: &ChainTransaction,
    now: Timestamp,
) -> Vec<(EventType, Timestamp)> {
    let t = &current.transaction;
    let trial = chain.is_trial(current);
    let mut events = Vec::new();
    match upsert {
        Upsert::New => {
            events.push(match t.purchase_type {
                PurchaseType::OneTime => (EventType::NonSubscriptionPurchase, t.purchased_at),
                PurchaseType::Subscription => match previous_latest {
                    None if trial => (EventType::TrialStarted, t.purchased_at),
                    None => (EventType::SubscriptionStarted, t.purchased_at),
                    Some(previous) if chain.is_trial(previous) && !trial => {
                        (EventType::TrialConverted, t.purchased_at)
                    }
                    Some(_) => (EventType::SubscriptionRenewed, t.purchased_at),
                },
            });
            events.extend(state_changes(None, current, trial, now));
        }
        Upsert::Updated(previous) => {
            events.extend(state_changes(Some(previous), current, trial, now));
        }
    }
    events
}

/// Changes of state carried by a transaction: auto-renew, billing issues, grace, refund, expiry.
/// Compared with the transaction's previous version (none for a new transaction).
fn state_changes(
    previous: Option<&ChainTransaction>,
    current: &ChainTransaction,
    trial: bool,
    now: Timestamp,
) -> Vec<(EventType, Timestamp)> {
    let t = &current.transaction;
    let before = previous.map(|p| &p.transaction);
    let mut events = Vec::new();
    if t.purchase_type == PurchaseType::Subscription {
        let was_renewing = before.is_none_or(|b| b.renew_status);
        let changed_at = t.renew_status_changed_at.unwrap_or(now);
        // An immediate upgrade ends the subscription rather than cancelling its renewal: its
        // events are the refund and the access change (spec §9.7).
        let upgraded_away =
            t.cancellation_reason == Some(CancellationReason::Upgraded) && ended_for_good(t, now);
        if was_renewing && !t.renew_status && !upgraded_away {
            let kind = if trial {
                EventType::TrialRenewalCancelled
            } else {
                EventType::SubscriptionRenewalCancelled
            };
            events.push((kind, changed_at));
        }
        if before.is_some_and(|b| !b.renew_status) && t.renew_status {
            let kind = if trial {
                EventType::TrialRenewalReactivated
            } else {
                EventType::SubscriptionRenewalReactivated
            };
            events.push((kind, changed_at));
        }
        if let Some(detected) = t.billing_issue_detected_at
            && before.is_none_or(|b| b.billing_issue_detected_at.is_none())
        {
            events.push((EventType::BillingIssueDetected, detected));
        }
        if t.billing_issue_detected_at.is_some()
            && let Some(grace) = t.grace_period_expires_at
            && before.is_none_or(|b| b.grace_period_expires_at.is_none())
            && now < grace
        {
            events.push((
                EventType::EnteredGracePeriod,
                t.billing_issue_detected_at.unwrap_or(now),
            ));
        }
    }
    if let Some(refunded) = t.refunded_at
        && before.is_none_or(|b| b.refunded_at.is_none())
    {
        let kind = match t.purchase_type {
            PurchaseType::OneTime => EventType::NonSubscriptionPurchaseRefunded,
            PurchaseType::Subscription => EventType::SubscriptionRefunded,
        };
        events.push((kind, refunded));
    }
    // Announced when a version of the transaction first says it ended for good, also after the
    // period's end passed.
    if t.purchase_type == PurchaseType::Subscription
        && !t.is_refunded()
        && ended_for_good(t, now)
        && before.is_none_or(|b| !ended_for_good(b, now))
    {
        events.push((period_end_event(trial, t), t.expires_at.unwrap_or(now)));
    }
    events
}

/// Whether the period `t` reports is over by `now` (its grace period too, after a billing
/// issue) and will not renew. A renewing subscription whose period lapsed is still waiting for
/// its next charge (`Transaction::period_end_is_final`).
fn ended_for_good(t: &Transaction, now: Timestamp) -> bool {
    let end = if t.billing_issue_detected_at.is_some() {
        t.grace_period_expires_at.or(t.expires_at)
    } else {
        t.expires_at
    };
    end.is_some_and(|end| end <= now) && t.period_end_is_final()
}

/// The event that announces the end for good of a subscription period: `trial_expired` for a
/// trial, `subscription_refunded` for a subscription ended by an immediate upgrade (spec §9.1
/// and §9.7: "`subscription_refunded` with `cancellation_reason: upgraded` for the old product
/// (no `subscription_expired`)"), `subscription_expired` otherwise.
pub(crate) fn period_end_event(trial: bool, t: &Transaction) -> EventType {
    if trial {
        EventType::TrialExpired
    } else if t.cancellation_reason == Some(CancellationReason::Upgraded) {
        EventType::SubscriptionRefunded
    } else {
        EventType::SubscriptionExpired
    }
}

/// The events of a whole chain as if its transactions had arrived now, oldest first: used to
/// reissue a detached chain's history under its new parent.
pub fn replay_chain(
    chain: &Chain,
    now: Timestamp,
) -> Vec<(EventType, Timestamp, &ChainTransaction)> {
    let mut events = Vec::new();
    let mut previous: Option<&ChainTransaction> = None;
    for current in &chain.transactions {
        for (kind, at) in transaction_events(chain, previous, &Upsert::New, current, now) {
            events.push((kind, at, current));
        }
        previous = Some(current);
    }
    events
}

/// An access level whose state changed for a profile.
#[derive(Debug, Clone, PartialEq)]
pub struct AccessChange {
    pub access_level_id: AccessLevelId,
    /// The access level now; `None` when the profile no longer has it at all.
    pub now: Option<AccessCandidate>,
    /// The access level before the change.
    pub before: Option<AccessCandidate>,
}

/// The access levels whose visible state differs between two views of one profile.
pub fn access_changes(
    before: &ProfileAccessView,
    after: &ProfileAccessView,
    now: Timestamp,
) -> Vec<AccessChange> {
    let index = |view: &ProfileAccessView| -> BTreeMap<AccessLevelId, AccessCandidate> {
        view.access_levels(now)
            .into_iter()
            .map(|c| (c.access_level_id.clone(), c))
            .collect()
    };
    let (old, new) = (index(before), index(after));
    let mut levels: Vec<&AccessLevelId> = old.keys().chain(new.keys()).collect();
    levels.sort();
    levels.dedup();
    levels
        .into_iter()
        .filter(|level| {
            let visible = |c: Option<&AccessCandidate>| {
                c.map(|c| {
                    let mut c = c.clone();
                    c.asserted_at = Timestamp::from_unix_micros(0);
                    (c.is_active(now), c)
                })
            };
            visible(old.get(*level)) != visible(new.get(*level))
        })
        .map(|level| AccessChange {
            access_level_id: level.clone(),
            now: new.get(level).cloned(),
            before: old.get(level).cloned(),
        })
        .collect()
}
