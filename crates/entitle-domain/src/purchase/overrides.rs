//! Server-side grants and revokes (spec §4.11, §5.6–5.7): overrides on top of what the store
//! transactions give. A revoke is superseded by the chain's next transaction (spec §5.7).

use serde::{Deserialize, Serialize};

use super::access::{AccessCandidate, AccessSource};
use super::transaction::{AccessLevelId, CancellationReason, Environment};
use crate::datetime::Timestamp;

/// `store` and `store_product_id` shown for server-side grants.
pub const GRANT_STORE: &str = "adapty";
pub const GRANT_PRODUCT_ID: &str = "adapty_server_side_product";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Grant {
    /// The synthetic `store_transaction_id` of the grant; stable across re-grants.
    pub grant_id: String,
    pub starts_at: Option<Timestamp>,
    pub expires_at: Option<Timestamp>,
    pub granted_at: Timestamp,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Revoke {
    /// When the access ends.
    pub revoke_at: Timestamp,
    /// When the revoke was made.
    pub revoked_at: Timestamp,
}

/// A profile's overrides for one access level.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AccessOverride {
    pub access_level_id: AccessLevelId,
    pub grant: Option<Grant>,
    pub revoke: Option<Revoke>,
}

#[derive(Debug, Clone)]
pub struct GrantRequest {
    pub access_level_id: AccessLevelId,
    pub starts_at: Option<Timestamp>,
    pub expires_at: Option<Timestamp>,
}

#[derive(Debug, Clone)]
pub struct RevokeRequest {
    pub access_level_id: AccessLevelId,
    pub revoke_at: Option<Timestamp>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OverrideError {
    /// `profile_paid_access_level_does_not_exist`.
    ProfileHasNoSuchAccessLevel,
    /// `value_error`: `revoke_at` is not in the future.
    RevokeNotInFuture,
    /// `revocation_date_more_than_expiration_date`.
    RevokeAfterExpiry {
        revoke_at: Timestamp,
        expires_at: Timestamp,
    },
}

/// Grants (or re-grants, replacing the window of) an access level. Granting again the window
/// already granted, and not revoked since, changes nothing (spec §10: a repeated grant is a
/// no-op, and `access_level_updated` comes only from a change): the grant keeps the moment it
/// was made, which the profile shows as the level's `purchased_at`.
pub fn apply_grant(
    existing: Option<AccessOverride>,
    request: &GrantRequest,
    new_grant_id: impl FnOnce() -> String,
    now: Timestamp,
) -> AccessOverride {
    if let Some(unchanged) = existing.as_ref().filter(|o| o.grants_unrevoked(request)) {
        return unchanged.clone();
    }
    let grant_id = existing
        .as_ref()
        .and_then(|o| o.grant.as_ref())
        .map(|g| g.grant_id.clone())
        .unwrap_or_else(new_grant_id);
    AccessOverride {
        access_level_id: request.access_level_id.clone(),
        grant: Some(Grant {
            grant_id,
            starts_at: request.starts_at,
            expires_at: request.expires_at,
            granted_at: now,
        }),
        revoke: existing.and_then(|o| o.revoke),
    }
}

/// Revokes now or at a future `revoke_at`, given the profile's current access for the level.
pub fn apply_revoke(
    existing: Option<AccessOverride>,
    current: Option<&AccessCandidate>,
    request: &RevokeRequest,
    now: Timestamp,
) -> Result<AccessOverride, OverrideError> {
    let current = current
        .filter(|c| c.is_active(now) || c.starts_at.is_some_and(|s| s > now))
        .ok_or(OverrideError::ProfileHasNoSuchAccessLevel)?;
    let revoke_at = match request.revoke_at {
        None => now,
        Some(at) if at <= now => return Err(OverrideError::RevokeNotInFuture),
        Some(at) => at,
    };
    if let Some(expires_at) = current.effective_expires_at(now)
        && revoke_at > expires_at
    {
        return Err(OverrideError::RevokeAfterExpiry {
            revoke_at,
            expires_at,
        });
    }
    let mut updated = existing.unwrap_or(AccessOverride {
        access_level_id: request.access_level_id.clone(),
        grant: None,
        revoke: None,
    });
    updated.revoke = Some(Revoke {
        revoke_at,
        revoked_at: now,
    });
    Ok(updated)
}

impl AccessOverride {
    /// Whether this override already grants `request`'s window and no revoke cut it since.
    fn grants_unrevoked(&self, request: &GrantRequest) -> bool {
        let Some(grant) = &self.grant else {
            return false;
        };
        // `restrict` cuts a grant made at or before the revoke.
        let revoked_since = self
            .revoke
            .as_ref()
            .is_some_and(|revoke| grant.granted_at <= revoke.revoked_at);
        grant.starts_at == request.starts_at
            && grant.expires_at == request.expires_at
            && !revoked_since
    }

    /// The next moment after `now` at which this override begins or ends access (a grant's start
    /// or end, a revoke taking effect): the scheduler announces the change then.
    pub fn next_change_after(&self, now: Timestamp) -> Option<Timestamp> {
        let grant = self.grant.iter().flat_map(|g| [g.starts_at, g.expires_at]);
        let revoke = self.revoke.iter().map(|r| Some(r.revoke_at));
        grant.chain(revoke).flatten().filter(|at| *at > now).min()
    }

    /// The candidate a grant gives.
    pub fn grant_candidate(&self) -> Option<AccessCandidate> {
        let grant = self.grant.as_ref()?;
        Some(AccessCandidate {
            access_level_id: self.access_level_id.clone(),
            source: AccessSource::Grant,
            store: GRANT_STORE.to_owned(),
            store_product_id: GRANT_PRODUCT_ID.to_owned(),
            store_base_plan_id: None,
            store_transaction_id: grant.grant_id.clone(),
            store_original_transaction_id: grant.grant_id.clone(),
            offer: None,
            starts_at: grant.starts_at,
            purchased_at: grant.granted_at,
            originally_purchased_at: grant.granted_at,
            expires_at: grant.expires_at,
            renewal_cancelled_at: None,
            billing_issue_detected_at: None,
            grace_period_expires_at: None,
            cancellation_reason: None,
            environment: Environment::Production,
            is_refund: false,
            will_renew: false,
            is_lifetime: grant.expires_at.is_none(),
            store_country: None,
            variation_id: None,
            asserted_at: grant.granted_at,
        })
    }

    /// Cuts a candidate short if this revoke came after the candidate was last asserted.
    pub fn restrict(&self, candidate: &mut AccessCandidate) {
        let Some(revoke) = &self.revoke else { return };
        if candidate.access_level_id != self.access_level_id
            || candidate.asserted_at > revoke.revoked_at
        {
            return;
        }
        // The expiry in force when the revoke was made (a grace period's end counts), so a revoke
        // inside a grace period ends access at `revoke_at`, not at the lapsed expiry.
        let in_force = candidate.effective_expires_at(revoke.revoked_at);
        let ends = in_force.map_or(revoke.revoke_at, |expires| expires.min(revoke.revoke_at));
        // Access that has not begun ends where it would have begun, not before it (as Adapty's
        // v1 revoke did: `expires_at` = max(`starts_at`, now)), and still never later than the
        // expiry in force.
        let ends = match candidate.starts_at {
            Some(starts) if starts > ends => in_force.map_or(starts, |expires| expires.min(starts)),
            _ => ends,
        };
        candidate.expires_at = Some(ends);
        candidate.grace_period_expires_at = None;
        candidate.renewal_cancelled_at = Some(revoke.revoked_at);
        candidate.cancellation_reason = Some(CancellationReason::AdaptyRevoked);
        candidate.will_renew = false;
        candidate.is_lifetime = false;
    }
}
