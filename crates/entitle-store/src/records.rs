use entitle_domain::datetime::Timestamp;
use entitle_domain::keys::SecretHash;
use entitle_domain::profile::Profile;
use entitle_domain::{AppId, KeyId, ProfileId};

use crate::StoreResult;

/// A stored API key as the authentication step sees it.
#[derive(Debug, Clone)]
pub struct ApiKeyRecord {
    pub key_id: KeyId,
    pub app_id: AppId,
    pub secret_hash: SecretHash,
    pub revoked: bool,
}

/// What [`crate::ProfileStore::get_profile_by_key`] read.
#[derive(Debug)]
pub struct KeyedProfile {
    /// The key, revoked or not; `None` if there is none.
    pub key: Option<ApiKeyRecord>,
    /// The profile's answer; `None` when there is no live key, so nothing was looked up.
    pub profile: Option<StoreResult<Profile>>,
}

/// A key to store: its public lookup part and the hash of the whole secret.
#[derive(Debug, Clone)]
pub struct NewKey {
    pub key_id: KeyId,
    pub lookup: String,
    pub secret_hash: SecretHash,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppRecord {
    pub app_id: AppId,
    pub name: String,
    pub created_at: Timestamp,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyRecord {
    pub key_id: KeyId,
    pub app_id: AppId,
    pub created_at: Timestamp,
    pub revoked_at: Option<Timestamp>,
}

/// What one deletion removed, detached and cancelled. Counts only: no personal data. Stored by
/// both backends as this JSON document (`to_document` / `from_document`).
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct DeletionCounts {
    pub custom_attributes: u32,
    pub installations: u32,
    /// Chains the profile was parent of, now without an owner (transactions kept).
    pub chains_detached: u32,
    /// Chains the profile inherited access from.
    pub share_links_removed: u32,
    /// Access levels granted or revoked on the profile server-side.
    pub overrides_removed: u32,
    /// Integration events that left the event feed.
    pub events_removed: u32,
    /// Deliveries of those events that had not been delivered yet.
    pub deliveries_cancelled: u32,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeletionReport {
    pub deletion_id: uuid::Uuid,
    pub profile_id: ProfileId,
    pub deleted_at: Timestamp,
    pub counts: DeletionCounts,
}

impl DeletionCounts {
    /// The stored form of a deletion record's counts.
    pub fn to_document(&self) -> String {
        serde_json::to_string(self).expect("counts always serialize")
    }

    /// Reads stored counts; a count the document lacks is 0.
    pub fn from_document(text: &str) -> Result<Self, serde_json::Error> {
        serde_json::from_str(text)
    }
}
