//! Which events a write produces, with their payloads, ready to be stored by any backend.

use serde_json::Value;

use super::EventType;
use super::derive::{access_changes, period_end_event, replay_chain, transaction_events};
use super::payload::{
    EventContext, SharingProfile, access_level_properties, build_payload, profile_deleted_payload,
    transaction_properties,
};
use crate::datetime::Timestamp;
use crate::ids::{AppId, ProfileId};
use crate::profile::Profile;
use crate::purchase::{
    AccessCandidate, AccessLevelId, Chain, ChainOwnership, Environment, ProfileAccessView, Upsert,
};

/// An event to write to the feed (and to the outbox when `forward`).
#[derive(Debug, Clone, PartialEq)]
pub struct PlannedEvent {
    pub profile_id: ProfileId,
    pub event_id: uuid::Uuid,
    pub event_type: EventType,
    pub environment: Environment,
    pub payload: Value,
    /// The event's `event_datetime`: the feed shows it only from then on (spec §8.5, §9.8).
    pub occurred_at: Timestamp,
    pub reissued: bool,
    /// False when the profile has analytics disabled: the event stays in the feed only.
    pub forward: bool,
}

/// A profile touched by a write: its state after the write and its purchases view before.
pub struct Touched<'a> {
    pub after: &'a Profile,
    pub before: &'a ProfileAccessView,
}

/// A transaction recorded in a chain.
pub struct StoreEvent<'a> {
    /// The chain before the transaction arrived (replayed when the chain is reattached).
    pub chain_before: &'a Chain,
    pub chain: &'a Chain,
    pub upsert: &'a Upsert,
    pub store_transaction_id: &'a str,
    pub ownership: &'a ChainOwnership,
    pub reattached: bool,
    /// Every profile the write touched (parent, inheritors before and after, sender).
    pub touched: &'a [Touched<'a>],
    pub now: Timestamp,
}

fn sharing_for(
    profile_id: ProfileId,
    ownership: &ChainOwnership,
    touched: &[Touched<'_>],
) -> Vec<SharingProfile> {
    let holders = ownership.holders();
    if !holders.contains(&profile_id) {
        // A profile without the access (the loser of a transfer) shares it with no one, and
        // its events do not name who took it.
        return Vec::new();
    }
    holders
        .into_iter()
        .filter(|holder| *holder != profile_id)
        .map(|holder| SharingProfile {
            profile_id: holder,
            customer_user_id: touched
                .iter()
                .find(|t| t.after.profile_id == holder)
                .and_then(|t| t.after.customer_user_id.as_ref())
                .map(|c| c.as_str().to_owned()),
        })
        .collect()
}

fn forward(profile: &Profile) -> bool {
    profile.attributes.analytics_disabled != Some(true)
}

/// The events of a set-transaction: the reissued history of a reattached chain, the
/// transaction's own events for the chain's parent, and `access_level_updated` for every
/// touched profile whose access changed. Planned, not necessarily created: the stores drop
/// the webhook-only ones no integration wants ([`EventType::is_webhook_only`]).
pub fn plan_store_event(
    input: &StoreEvent<'_>,
    new_id: &mut dyn FnMut() -> uuid::Uuid,
) -> Vec<PlannedEvent> {
    let mut planned = Vec::new();
    let Some(owner) = input.ownership.owner else {
        return planned;
    };
    let Some(parent) = input
        .touched
        .iter()
        .find(|t| t.after.profile_id == owner.profile_id)
    else {
        return planned;
    };
    let sharing = sharing_for(owner.profile_id, input.ownership, input.touched);
    let context = EventContext {
        profile: parent.after,
        sharing: &sharing,
        now: input.now,
    };
    let mut transactional = |chain: &Chain,
                             kind: EventType,
                             at: Timestamp,
                             current: &crate::purchase::ChainTransaction,
                             reissued: bool| {
        let event_id = new_id();
        let properties = transaction_properties(current, chain, kind);
        PlannedEvent {
            profile_id: owner.profile_id,
            event_id,
            event_type: kind,
            environment: current.transaction.environment,
            payload: build_payload(&context, event_id, kind, at, properties, reissued),
            occurred_at: at,
            reissued,
            forward: forward(parent.after),
        }
    };
    if input.reattached {
        for (kind, at, current) in replay_chain(input.chain_before, input.now) {
            planned.push(transactional(input.chain_before, kind, at, current, true));
        }
    }
    if let Some(current) = input.chain.find(input.store_transaction_id) {
        let previous_latest = match input.upsert {
            Upsert::New => input.chain_before.latest(),
            Upsert::Updated(_) => None,
        };
        for (kind, at) in transaction_events(
            input.chain,
            previous_latest,
            input.upsert,
            current,
            input.now,
        ) {
            planned.push(transactional(input.chain, kind, at, current, false));
        }
    }
    let environment = input
        .chain
        .find(input.store_transaction_id)
        .map_or(Environment::Production, |t| t.transaction.environment);
    for touched in input.touched {
        let sharing = sharing_for(touched.after.profile_id, input.ownership, input.touched);
        planned.extend(plan_access_events(
            touched,
            &sharing,
            environment,
            input.now,
            new_id,
        ));
    }
    planned
}

/// `access_level_updated` for each access level whose state changed for one profile.
pub fn plan_access_events(
    touched: &Touched<'_>,
    sharing: &[SharingProfile],
    environment: Environment,
    now: Timestamp,
    new_id: &mut dyn FnMut() -> uuid::Uuid,
) -> Vec<PlannedEvent> {
    let context = EventContext {
        profile: touched.after,
        sharing,
        now,
    };
    access_changes(touched.before, &touched.after.purchases, now)
        .into_iter()
        .filter_map(|change| {
            let (candidate, active) = match (change.now, change.before) {
                (Some(now_state), _) => {
                    let active = now_state.is_active(now);
                    (now_state, active)
                }
                (None, Some(before)) => (before.lost_at(now), false),
                (None, None) => return None,
            };
            Some(access_level_updated(
                &context,
                &candidate,
                active,
                now,
                environment,
                new_id,
            ))
        })
        .collect()
}

/// One `access_level_updated` of the context's profile, dated `changed_at`.
fn access_level_updated(
    context: &EventContext<'_>,
    candidate: &AccessCandidate,
    active: bool,
    changed_at: Timestamp,
    environment: Environment,
    new_id: &mut dyn FnMut() -> uuid::Uuid,
) -> PlannedEvent {
    let event_id = new_id();
    PlannedEvent {
        profile_id: context.profile.profile_id,
        event_id,
        event_type: EventType::AccessLevelUpdated,
        environment,
        payload: build_payload(
            context,
            event_id,
            EventType::AccessLevelUpdated,
            changed_at,
            access_level_properties(candidate, active, context.now),
            false,
        ),
        occurred_at: changed_at,
        reissued: false,
        forward: forward(context.profile),
    }
}

/// `access_level_updated` for `level` of `profile` if it began or ended at `changed_at` with no
/// write (a grant's scheduled start or end, a revoke taking effect): its state just before then
/// against its state `now`. Grants and revokes are the profile's own: shared with no one, and
/// counted as production like the writes that made them.
pub fn plan_scheduled_access(
    profile: &Profile,
    level: &AccessLevelId,
    changed_at: Timestamp,
    now: Timestamp,
    new_id: &mut dyn FnMut() -> uuid::Uuid,
) -> Option<PlannedEvent> {
    let view = &profile.purchases;
    let just_before = changed_at.plus_micros(-1);
    let name = level.as_str().to_owned();
    let was_active = view.active_levels(just_before).contains(&name);
    let active = view.active_levels(now).contains(&name);
    if was_active == active {
        return None;
    }
    let of_level = |at: Timestamp| {
        view.access_levels(at)
            .into_iter()
            .find(|candidate| candidate.access_level_id == *level)
    };
    let candidate = of_level(now).or_else(|| of_level(just_before))?;
    let context = EventContext {
        profile,
        sharing: &[],
        now,
    };
    Some(access_level_updated(
        &context,
        &candidate,
        active,
        changed_at,
        Environment::Production,
        new_id,
    ))
}

/// `profile_deleted` (an entitle extension, with no personal data); the stores create it only
/// for the integrations that subscribed to it.
pub fn plan_profile_deleted(
    app: AppId,
    profile_id: ProfileId,
    deleted_at: Timestamp,
    event_id: uuid::Uuid,
) -> PlannedEvent {
    PlannedEvent {
        profile_id,
        event_id,
        event_type: EventType::ProfileDeleted,
        environment: Environment::Production,
        payload: profile_deleted_payload(app, profile_id, event_id, deleted_at),
        occurred_at: deleted_at,
        reissued: false,
        forward: true,
    }
}

/// The events of a subscription period that ended with no newer transaction: the expiry for
/// the parent when the end is final, and `access_level_updated` for each holder whose access
/// the end took away (created only while an integration wants it).
///
/// A renewing subscription whose period lapsed with no news is still waiting for its next
/// charge (`Transaction::period_end_is_final`): its access ends now, and its expiry is
/// announced if the store later says the renewal will not come (a version of the transaction
/// with auto-renew off), or its renewal otherwise.
pub fn plan_expiry(
    chain: &Chain,
    ownership: &ChainOwnership,
    touched: &[Touched<'_>],
    ended_at: Timestamp,
    now: Timestamp,
    new_id: &mut dyn FnMut() -> uuid::Uuid,
) -> Vec<PlannedEvent> {
    let mut planned = Vec::new();
    let Some(latest) = chain.latest() else {
        return planned;
    };
    if latest.transaction.period_end_is_final()
        && let Some(owner) = ownership.owner
        && let Some(parent) = touched
            .iter()
            .find(|t| t.after.profile_id == owner.profile_id)
    {
        let kind = period_end_event(chain.is_trial(latest), &latest.transaction);
        let sharing = sharing_for(owner.profile_id, ownership, touched);
        let context = EventContext {
            profile: parent.after,
            sharing: &sharing,
            now,
        };
        let event_id = new_id();
        planned.push(PlannedEvent {
            profile_id: owner.profile_id,
            event_id,
            event_type: kind,
            environment: latest.transaction.environment,
            payload: build_payload(
                &context,
                event_id,
                kind,
                ended_at,
                transaction_properties(latest, chain, kind),
                false,
            ),
            occurred_at: ended_at,
            reissued: false,
            forward: forward(parent.after),
        });
    }
    // Access is time-dependent: compare each holder's levels just before the end and now.
    let just_before = ended_at.plus_micros(-1);
    for holder in touched {
        let view = &holder.after.purchases;
        let was_active = view.active_levels(just_before);
        let active = view.active_levels(now);
        let sharing = sharing_for(holder.after.profile_id, ownership, touched);
        let context = EventContext {
            profile: holder.after,
            sharing: &sharing,
            now,
        };
        for candidate in view.access_levels(now) {
            let level = candidate.access_level_id.as_str().to_owned();
            if was_active.contains(&level) && !active.contains(&level) {
                planned.push(access_level_updated(
                    &context,
                    &candidate,
                    false,
                    ended_at,
                    latest.transaction.environment,
                    new_id,
                ));
            }
        }
    }
    planned
}
