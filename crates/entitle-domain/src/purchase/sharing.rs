//! Who gets a chain's access when several profiles use one store account (spec §8.2–8.3,
//! DESIGN.md §4–5). Applied only when a store event for the chain arrives: changing the policy
//! never rewrites existing state.

use serde::{Deserialize, Serialize};

use crate::ids::ProfileId;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SharingPolicy {
    /// Every profile on the same store account shares the access.
    #[default]
    Enabled,
    /// One identified profile at a time holds the access; anonymous profiles still share.
    Transfer,
    /// The access stays with the buyer; anonymous profiles still share.
    Disabled,
}

impl SharingPolicy {
    pub const PERMITTED: &'static [&'static str] = &["enabled", "transfer", "disabled"];

    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "enabled" => Some(Self::Enabled),
            "transfer" => Some(Self::Transfer),
            "disabled" => Some(Self::Disabled),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Enabled => "enabled",
            Self::Transfer => "transfer",
            Self::Disabled => "disabled",
        }
    }
}

/// A profile taking part, and whether it carries a customer user id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claimant {
    pub profile_id: ProfileId,
    pub identified: bool,
}

/// Who owns a chain and who shares it.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ChainOwnership {
    /// The parent: the profile all of the chain's transactions (and their events) belong to.
    /// `None` once the parent has been deleted (the chain is detached).
    pub owner: Option<Claimant>,
    /// Whether the parent itself holds the access (false after a transfer away from it).
    pub owner_has_access: bool,
    /// Inheritors currently holding the access.
    pub inheritors: Vec<Claimant>,
}

impl ChainOwnership {
    pub fn holders(&self) -> Vec<ProfileId> {
        let owner = self
            .owner
            .filter(|_| self.owner_has_access)
            .map(|o| o.profile_id);
        owner
            .into_iter()
            .chain(self.inheritors.iter().map(|i| i.profile_id))
            .collect()
    }

    /// Every profile that owns or shares the chain.
    pub fn participants(&self) -> Vec<ProfileId> {
        self.owner
            .map(|o| o.profile_id)
            .into_iter()
            .chain(self.inheritors.iter().map(|i| i.profile_id))
            .collect()
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SharingOutcome {
    pub ownership: ChainOwnership,
    /// The chain had no parent and now has one: its history is reassigned to the sender, whose
    /// events for it are reissued.
    pub reattached: bool,
}

/// Applies a store event (a transaction of the chain) sent by `sender` under `policy`.
/// `existed` says whether the chain had transactions before this one.
pub fn apply_store_event(
    policy: SharingPolicy,
    current: &ChainOwnership,
    existed: bool,
    sender: Claimant,
) -> SharingOutcome {
    let mut next = current.clone();
    match current.owner {
        None => {
            // A new chain, or a detached one: the sender becomes its parent whatever the policy,
            // and the policy is applied anew to those who inherited it.
            next.owner = Some(sender);
            next.owner_has_access = true;
            next.inheritors
                .retain(|i| i.profile_id != sender.profile_id);
            if policy != SharingPolicy::Enabled {
                next.inheritors.retain(|i| !i.identified);
            }
            SharingOutcome {
                ownership: next,
                reattached: existed,
            }
        }
        Some(owner) if owner.profile_id == sender.profile_id => {
            next.owner = Some(sender);
            if !next.owner_has_access {
                next.owner_has_access = true;
                if policy == SharingPolicy::Transfer && sender.identified {
                    next.inheritors.retain(|i| !i.identified);
                }
            }
            SharingOutcome {
                ownership: next,
                reattached: false,
            }
        }
        Some(owner) => {
            let already = next
                .inheritors
                .iter()
                .any(|i| i.profile_id == sender.profile_id);
            match policy {
                SharingPolicy::Enabled => add(&mut next, sender, already),
                SharingPolicy::Transfer if sender.identified => {
                    // The access moves to the sender; every other identified holder loses it,
                    // the parent too when it is identified. Anonymous holders keep sharing, so
                    // an anonymous buyer keeps its access while identified users pass theirs on.
                    if owner.identified {
                        next.owner_has_access = false;
                    }
                    next.inheritors.retain(|i| !i.identified);
                    next.inheritors.push(sender);
                }
                SharingPolicy::Transfer => add(&mut next, sender, already),
                SharingPolicy::Disabled if !sender.identified => add(&mut next, sender, already),
                SharingPolicy::Disabled => {}
            }
            SharingOutcome {
                ownership: next,
                reattached: false,
            }
        }
    }
}

fn add(ownership: &mut ChainOwnership, sender: Claimant, already: bool) {
    if !already {
        ownership.inheritors.push(sender);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claimant(identified: bool) -> Claimant {
        Claimant {
            profile_id: ProfileId::new_random(),
            identified,
        }
    }

    fn owned_by(owner: Claimant) -> ChainOwnership {
        ChainOwnership {
            owner: Some(owner),
            owner_has_access: true,
            inheritors: vec![],
        }
    }

    #[test]
    fn first_sender_becomes_parent() {
        let p = claimant(true);
        let out = apply_store_event(
            SharingPolicy::Disabled,
            &ChainOwnership::default(),
            false,
            p,
        );
        assert_eq!(out.ownership.owner, Some(p));
        assert!(out.ownership.owner_has_access);
        assert!(!out.reattached);
    }

    #[test]
    fn enabled_shares_with_everyone() {
        let (p, q) = (claimant(true), claimant(true));
        let out = apply_store_event(SharingPolicy::Enabled, &owned_by(p), true, q);
        assert_eq!(out.ownership.holders(), vec![p.profile_id, q.profile_id]);
        // Sending again changes nothing.
        let again = apply_store_event(SharingPolicy::Enabled, &out.ownership, true, q);
        assert_eq!(again.ownership, out.ownership);
    }

    #[test]
    fn transfer_passes_access_between_identified_users_of_an_anonymous_buyers_chain() {
        let (buyer, first, second) = (claimant(false), claimant(true), claimant(true));
        let out = apply_store_event(SharingPolicy::Transfer, &owned_by(buyer), true, first);
        assert_eq!(
            out.ownership.holders(),
            vec![buyer.profile_id, first.profile_id]
        );
        let out = apply_store_event(SharingPolicy::Transfer, &out.ownership, true, second);
        assert_eq!(
            out.ownership.holders(),
            vec![buyer.profile_id, second.profile_id],
            "one identified holder at a time; the anonymous buyer keeps its access"
        );
    }

    #[test]
    fn transfer_moves_access_between_identified_profiles() {
        let (p, q, r) = (claimant(true), claimant(true), claimant(true));
        let out = apply_store_event(SharingPolicy::Transfer, &owned_by(p), true, q);
        assert_eq!(out.ownership.holders(), vec![q.profile_id]);
        assert_eq!(
            out.ownership.owner,
            Some(p),
            "history stays with the parent"
        );
        let out = apply_store_event(SharingPolicy::Transfer, &out.ownership, true, r);
        assert_eq!(out.ownership.holders(), vec![r.profile_id]);
        // The parent using the purchase again takes the access back.
        let out = apply_store_event(SharingPolicy::Transfer, &out.ownership, true, p);
        assert_eq!(out.ownership.holders(), vec![p.profile_id]);
    }

    #[test]
    fn transfer_and_disabled_still_share_with_anonymous_profiles() {
        let (p, anon) = (claimant(true), claimant(false));
        for policy in [SharingPolicy::Transfer, SharingPolicy::Disabled] {
            let out = apply_store_event(policy, &owned_by(p), true, anon);
            assert_eq!(
                out.ownership.holders(),
                vec![p.profile_id, anon.profile_id],
                "{policy:?}"
            );
        }
        // An anonymous parent shares under transfer too.
        let (anon_parent, q) = (claimant(false), claimant(true));
        let out = apply_store_event(SharingPolicy::Transfer, &owned_by(anon_parent), true, q);
        assert_eq!(
            out.ownership.holders(),
            vec![anon_parent.profile_id, q.profile_id]
        );
    }

    #[test]
    fn disabled_gives_identified_newcomers_nothing() {
        let (p, q) = (claimant(true), claimant(true));
        let out = apply_store_event(SharingPolicy::Disabled, &owned_by(p), true, q);
        assert_eq!(out.ownership.holders(), vec![p.profile_id]);
    }

    #[test]
    fn a_detached_chain_goes_to_the_next_sender_whatever_the_policy() {
        let (q, keeps, anon) = (claimant(true), claimant(true), claimant(false));
        let detached = ChainOwnership {
            owner: None,
            owner_has_access: true,
            inheritors: vec![keeps, anon],
        };
        for policy in [
            SharingPolicy::Enabled,
            SharingPolicy::Transfer,
            SharingPolicy::Disabled,
        ] {
            let out = apply_store_event(policy, &detached, true, q);
            assert!(out.reattached);
            assert_eq!(out.ownership.owner, Some(q));
            let holders = out.ownership.holders();
            assert!(holders.contains(&q.profile_id) && holders.contains(&anon.profile_id));
            assert_eq!(
                holders.contains(&keeps.profile_id),
                policy == SharingPolicy::Enabled,
                "{policy:?}"
            );
        }
        // An inheritor that restores becomes the parent, not both.
        let out = apply_store_event(SharingPolicy::Enabled, &detached, true, keeps);
        assert_eq!(out.ownership.owner, Some(keeps));
        assert_eq!(
            out.ownership.holders(),
            vec![keeps.profile_id, anon.profile_id]
        );
    }
}
