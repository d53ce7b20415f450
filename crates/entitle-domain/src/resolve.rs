//! Which profile a request names (DESIGN.md §3.1–3.2). The store looks up the candidates inside
//! its transaction and asks these functions what to do; the decisions themselves are pure.

use crate::ids::{CustomerUserId, ProfileId};

/// What the `adapty-profile-id` / `adapty-customer-user-id` headers named.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProfileRef {
    Id(ProfileId),
    CustomerUserId(CustomerUserId),
    /// Both headers: the profile id wins; the customer user id must not contradict it.
    Both(ProfileId, CustomerUserId),
}

impl ProfileRef {
    pub fn profile_id(&self) -> Option<ProfileId> {
        match self {
            ProfileRef::Id(id) | ProfileRef::Both(id, _) => Some(*id),
            ProfileRef::CustomerUserId(_) => None,
        }
    }

    pub fn customer_user_id(&self) -> Option<&CustomerUserId> {
        match self {
            ProfileRef::CustomerUserId(cuid) | ProfileRef::Both(_, cuid) => Some(cuid),
            ProfileRef::Id(_) => None,
        }
    }
}

/// The identity part of a stored profile, as much as the rules need to see.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProfileIdentity {
    pub profile_id: ProfileId,
    pub customer_user_id: Option<CustomerUserId>,
}

/// Why a request's profile headers cannot be honoured.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResolveError {
    /// 404 `profile_does_not_exist`.
    NotFound,
    /// The customer user id already belongs to a different profile (create with both headers):
    /// 400 `validation_error`. Profiles are never merged.
    CustomerUserIdTaken,
}

/// Get, update, delete and the purchase operations: which existing profile is meant.
///
/// `by_id` is the profile stored under the header's profile id (when one was sent), `by_cuid`
/// the profile holding the header's customer user id.
pub fn resolve_existing(
    target: &ProfileRef,
    by_id: Option<&ProfileIdentity>,
    by_cuid: Option<&ProfileIdentity>,
) -> Result<ProfileId, ResolveError> {
    match target {
        ProfileRef::Id(_) => by_id.map(|p| p.profile_id).ok_or(ResolveError::NotFound),
        ProfileRef::CustomerUserId(_) => {
            by_cuid.map(|p| p.profile_id).ok_or(ResolveError::NotFound)
        }
        ProfileRef::Both(_, cuid) => {
            let profile = by_id.ok_or(ResolveError::NotFound)?;
            match &profile.customer_user_id {
                Some(own) if own != cuid => Err(ResolveError::NotFound),
                _ => Ok(profile.profile_id),
            }
        }
    }
}

/// What a create request does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CreatePlan {
    /// The profile exists: apply the body as an update and answer 200.
    UseExisting(ProfileId),
    /// An anonymous profile gets the header's customer user id, then the body as an update.
    AttachCustomerUserId(ProfileId),
    /// A new profile with this id (and the header's customer user id, if any).
    CreateNew(ProfileId),
}

/// Create (DESIGN.md §3.2): get-or-create by customer user id or by profile id; with both
/// headers, attach the customer user id to the named profile.
///
/// `fresh_id` is the id a brand-new profile gets when the request names none.
pub fn plan_create(
    target: &ProfileRef,
    by_id: Option<&ProfileIdentity>,
    by_cuid: Option<&ProfileIdentity>,
    fresh_id: ProfileId,
) -> Result<CreatePlan, ResolveError> {
    match target {
        ProfileRef::CustomerUserId(_) => Ok(match by_cuid {
            Some(existing) => CreatePlan::UseExisting(existing.profile_id),
            None => CreatePlan::CreateNew(fresh_id),
        }),
        ProfileRef::Id(id) => Ok(match by_id {
            Some(existing) => CreatePlan::UseExisting(existing.profile_id),
            None => CreatePlan::CreateNew(*id),
        }),
        ProfileRef::Both(_, cuid) => {
            let profile = by_id.ok_or(ResolveError::NotFound)?;
            match &profile.customer_user_id {
                Some(own) if own == cuid => Ok(CreatePlan::UseExisting(profile.profile_id)),
                Some(_) => Err(ResolveError::NotFound),
                None => match by_cuid {
                    Some(other) if other.profile_id != profile.profile_id => {
                        Err(ResolveError::CustomerUserIdTaken)
                    }
                    _ => Ok(CreatePlan::AttachCustomerUserId(profile.profile_id)),
                },
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cuid(text: &str) -> CustomerUserId {
        CustomerUserId::parse(text).unwrap()
    }

    fn identity(id: ProfileId, customer_user_id: Option<&str>) -> ProfileIdentity {
        ProfileIdentity {
            profile_id: id,
            customer_user_id: customer_user_id.map(cuid),
        }
    }

    #[test]
    fn existing_profile_resolution() {
        let p = ProfileId::new_random();
        let anonymous = identity(p, None);
        let known = identity(p, Some("u1"));

        assert_eq!(
            resolve_existing(&ProfileRef::Id(p), Some(&anonymous), None),
            Ok(p)
        );
        assert_eq!(
            resolve_existing(&ProfileRef::Id(p), None, None),
            Err(ResolveError::NotFound)
        );
        assert_eq!(
            resolve_existing(&ProfileRef::CustomerUserId(cuid("u1")), None, Some(&known)),
            Ok(p)
        );
        // Both headers: the id wins; a contradicting customer user id is "not found".
        assert_eq!(
            resolve_existing(&ProfileRef::Both(p, cuid("u1")), Some(&known), Some(&known)),
            Ok(p)
        );
        assert_eq!(
            resolve_existing(&ProfileRef::Both(p, cuid("u2")), Some(&known), None),
            Err(ResolveError::NotFound)
        );
        assert_eq!(
            resolve_existing(&ProfileRef::Both(p, cuid("u2")), Some(&anonymous), None),
            Ok(p)
        );
    }

    #[test]
    fn create_plans() {
        let p = ProfileId::new_random();
        let q = ProfileId::new_random();
        let fresh = ProfileId::new_random();
        let by_cuid = ProfileRef::CustomerUserId(cuid("u1"));

        assert_eq!(
            plan_create(&by_cuid, None, None, fresh),
            Ok(CreatePlan::CreateNew(fresh))
        );
        assert_eq!(
            plan_create(&by_cuid, None, Some(&identity(q, Some("u1"))), fresh),
            Ok(CreatePlan::UseExisting(q))
        );
        assert_eq!(
            plan_create(&ProfileRef::Id(p), None, None, fresh),
            Ok(CreatePlan::CreateNew(p))
        );
        assert_eq!(
            plan_create(
                &ProfileRef::Both(p, cuid("u1")),
                Some(&identity(p, None)),
                None,
                fresh
            ),
            Ok(CreatePlan::AttachCustomerUserId(p))
        );
        assert_eq!(
            plan_create(
                &ProfileRef::Both(p, cuid("u1")),
                Some(&identity(p, None)),
                Some(&identity(q, Some("u1"))),
                fresh
            ),
            Err(ResolveError::CustomerUserIdTaken)
        );
        assert_eq!(
            plan_create(&ProfileRef::Both(p, cuid("u1")), None, None, fresh),
            Err(ResolveError::NotFound)
        );
        assert_eq!(
            plan_create(
                &ProfileRef::Both(p, cuid("u1")),
                Some(&identity(p, Some("u1"))),
                None,
                fresh
            ),
            Ok(CreatePlan::UseExisting(p))
        );
    }
}
