//! The other profiles an event names in `profiles_sharing_access_level`.
//!
//! An event belongs to one profile and leaves with it, but it may also name, with their
//! customer user ids, the profiles it shares an access level with. When one of those is deleted,
//! nothing about it may stay behind in the feed or the outbox (DESIGN.md §4.3), so the stores
//! index who each event names and take a deleted profile out of the events that name it.

use serde_json::Value;

use crate::ids::ProfileId;

const FIELD: &str = "profiles_sharing_access_level";

/// The profiles a payload (or its personal fields) names as sharing its access level.
pub fn sharing_profile_ids(payload: &Value) -> Vec<ProfileId> {
    payload
        .get(FIELD)
        .and_then(Value::as_array)
        .map(|entries| {
            entries
                .iter()
                .filter_map(|entry| entry.get("profile_id")?.as_str())
                .filter_map(ProfileId::parse)
                .collect()
        })
        .unwrap_or_default()
}

/// Takes `deleted` out of the payload's (or its personal fields') sharing list. A list left
/// empty becomes `null`, as an event that shares with no one has it. Returns whether the payload
/// changed.
pub fn forget_sharing_profile(payload: &mut Value, deleted: ProfileId) -> bool {
    let Some(entries) = payload.get_mut(FIELD).and_then(Value::as_array_mut) else {
        return false;
    };
    let before = entries.len();
    entries.retain(|entry| {
        entry
            .get("profile_id")
            .and_then(Value::as_str)
            .and_then(ProfileId::parse)
            != Some(deleted)
    });
    let changed = entries.len() != before;
    if entries.is_empty() {
        payload[FIELD] = Value::Null;
    }
    changed
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn id(n: u8) -> ProfileId {
        ProfileId::from_bytes([n; 16])
    }

    fn payload(sharing: Value) -> Value {
        json!({"customer_user_id": "owner", FIELD: sharing, "event_type": "access_level_updated"})
    }

    #[test]
    fn the_named_profiles_are_read_back() {
        let named = payload(json!([
            {"profile_id": id(1).to_string(), "customer_user_id": "a"},
            {"profile_id": id(2).to_string(), "customer_user_id": null},
        ]));
        assert_eq!(sharing_profile_ids(&named), vec![id(1), id(2)]);
        assert!(sharing_profile_ids(&payload(Value::Null)).is_empty());
        assert!(sharing_profile_ids(&json!({"event_type": "x"})).is_empty());
    }

    #[test]
    fn a_deleted_profile_leaves_the_list_and_the_others_stay() {
        let mut named = payload(json!([
            {"profile_id": id(1).to_string(), "customer_user_id": "gone"},
            {"profile_id": id(2).to_string(), "customer_user_id": "stays"},
        ]));
        assert!(forget_sharing_profile(&mut named, id(1)));
        assert_eq!(
            named[FIELD],
            json!([{"profile_id": id(2).to_string(), "customer_user_id": "stays"}])
        );
        assert!(!named.to_string().contains("gone"));
        assert!(!forget_sharing_profile(&mut named, id(3)), "not named");
        assert_eq!(named["customer_user_id"], "owner", "the owner is untouched");
    }

    #[test]
    fn a_list_left_empty_becomes_null() {
        let mut named =
            payload(json!([{"profile_id": id(1).to_string(), "customer_user_id": "a"}]));
        assert!(forget_sharing_profile(&mut named, id(1)));
        assert_eq!(named[FIELD], Value::Null);
        let mut none = payload(Value::Null);
        assert!(!forget_sharing_profile(&mut none, id(1)));
    }
}
