//! The `Profile` response (spec §4.4), always wrapped as `{"data": Profile}`.
//!
//! Personal fields (names, email, phone, birthday, installations) are request-only and are
//! never echoed.

use entitle_domain::profile::{CustomAttributeValue, Profile};
use serde::Serialize;
use sha2::{Digest, Sha256};

#[derive(Serialize)]
pub struct ProfileEnvelope {
    pub data: ProfileBody,
}

#[derive(Serialize)]
pub struct ProfileBody {
    pub app_id: String,
    pub profile_id: String,
    pub customer_user_id: Option<String>,
    pub total_revenue_usd: f64,
    pub segment_hash: String,
    pub timestamp: i64,
    pub custom_attributes: Vec<CustomAttributeBody>,
    pub access_levels: Vec<serde_json::Value>,
    pub subscriptions: Vec<serde_json::Value>,
    pub non_subscriptions: Vec<serde_json::Value>,
}

#[derive(Serialize)]
pub struct CustomAttributeBody {
    pub key: String,
    pub value: serde_json::Value,
}

pub fn render(profile: &Profile, timestamp: i64) -> ProfileEnvelope {
    let custom_attributes = profile
        .attributes
        .custom_attributes
        .iter()
        .map(|attribute| CustomAttributeBody {
            key: attribute.key.as_str().to_owned(),
            value: match &attribute.value {
                CustomAttributeValue::String(text) => serde_json::Value::from(text.as_str()),
                CustomAttributeValue::Number(number) => serde_json::Value::from(*number),
            },
        })
        .collect();
    ProfileEnvelope {
        data: ProfileBody {
            app_id: profile.app_id.to_string(),
            profile_id: profile.profile_id.to_string(),
            customer_user_id: profile
                .customer_user_id
                .as_ref()
                .map(|c| c.as_str().to_owned()),
            total_revenue_usd: 0.0,
            segment_hash: segment_hash(profile, &[]),
            timestamp,
            custom_attributes,
            access_levels: Vec::new(),
            subscriptions: Vec::new(),
            non_subscriptions: Vec::new(),
        },
    }
}

/// 16 hex characters that change when the profile's segment membership (its app and active
/// access levels) changes, as Adapty's internal `segment_hash` does.
fn segment_hash(profile: &Profile, active_access_levels: &[&str]) -> String {
    let mut levels = active_access_levels.to_vec();
    levels.sort_unstable();
    let mut hasher = Sha256::new();
    hasher.update(profile.app_id.as_bytes());
    for level in levels {
        hasher.update(level.as_bytes());
        hasher.update([0]);
    }
    hex::encode(&hasher.finalize()[..8])
}
