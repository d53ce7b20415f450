//! Profiles: what a person's record holds, and how a create or update request changes it.

mod attributes;
mod custom;
mod patch;

pub use attributes::{
    AttStatus, CountryCode, Email, Gender, Installation, Ipv4, Platform, ProfileAttributes,
    ProfileStore,
};
pub use custom::{
    CustomAttribute, CustomAttributeChange, CustomAttributeKey, CustomAttributeValue,
};
pub use patch::{Patch, ProfilePatch};

use crate::datetime::Timestamp;
use crate::ids::{AppId, CustomerUserId, ProfileId};
use crate::purchase::ProfileAccessView;

/// A stored profile: identity plus everything the person told us.
#[derive(Debug, Clone, PartialEq)]
pub struct Profile {
    pub app_id: AppId,
    pub profile_id: ProfileId,
    pub customer_user_id: Option<CustomerUserId>,
    pub attributes: ProfileAttributes,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    /// What the profile's purchases, grants and shares give it.
    pub purchases: ProfileAccessView,
}
