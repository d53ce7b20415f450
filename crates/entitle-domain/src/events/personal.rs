//! Keeping a payload's personal data apart from its store facts, so a store can hold the facts
//! compactly and the personal data as it is, where a deletion can be checked byte for byte.

use serde_json::{Map, Value};

/// The top-level payload fields that hold personal data: who the person is, how to reach them,
/// their devices, what the app knows about them, and who shares their access.
pub const PERSONAL_FIELDS: [&str; 8] = [
    "customer_user_id",
    "email",
    "idfv",
    "idfa",
    "advertising_id",
    "user_agent",
    "user_attributes",
    "profiles_sharing_access_level",
];

/// Splits a payload into its store facts and its personal fields, so a store can keep the two
/// apart: the facts in a compact (compressed) form, the personal data as it is, where an
/// operator can check byte for byte that a deletion left none of it behind.
/// `join_personal` puts the two back together into the same value.
pub fn split_personal(mut payload: Value) -> (Value, Map<String, Value>) {
    let mut personal = Map::new();
    if let Some(fields) = payload.as_object_mut() {
        for name in PERSONAL_FIELDS {
            if let Some(value) = fields.remove(name) {
                personal.insert(name.to_owned(), value);
            }
        }
    }
    (payload, personal)
}

/// The inverse of `split_personal`.
pub fn join_personal(mut facts: Value, personal: Map<String, Value>) -> Value {
    if let Some(fields) = facts.as_object_mut() {
        fields.extend(personal);
    }
    facts
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::datetime::Timestamp;
    use crate::events::profile_deleted_payload;
    use crate::ids::{AppId, ProfileId};

    #[test]
    fn splitting_keeps_every_personal_field_out_of_the_facts_and_joining_restores_the_payload() {
        let payload = json!({
            "profile_id": "p", "customer_user_id": "cuid", "email": "a@b.c", "idfv": null,
            "idfa": "ad", "advertising_id": null, "user_agent": "ua",
            "user_attributes": {"k": "v"}, "profiles_sharing_access_level": [{"customer_user_id": "x"}],
            "event_properties": {"store": "app_store"}, "event_type": "subscription_started",
        });
        let (facts, personal) = split_personal(payload.clone());
        let facts_text = facts.to_string();
        for name in PERSONAL_FIELDS {
            assert!(personal.contains_key(name), "{name} is personal");
            assert!(
                !facts_text.contains(&format!("\"{name}\"")),
                "{name} left the facts"
            );
        }
        assert_eq!(facts["event_properties"]["store"], "app_store");
        assert_eq!(join_personal(facts, personal), payload);
    }

    #[test]
    fn a_payload_without_personal_fields_splits_into_itself() {
        let payload = profile_deleted_payload(
            AppId::new_random(),
            ProfileId::new_random(),
            uuid::Uuid::nil(),
            Timestamp::from_unix_micros(0),
        );
        let (facts, personal) = split_personal(payload.clone());
        assert!(personal.is_empty());
        assert_eq!(facts, payload);
    }
}
