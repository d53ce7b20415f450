//! The purchase context entitle is never told: the paywall, A/B test, audience and placement
//! behind a sale, and an offer's number of periods (the set-transaction body names only the
//! variation, spec §4.10). Events send them as null rather than leave them out, so a receiver
//! finds every key of spec §9.4 and §9.5.
//!
//! Being null in every event, they tell a store nothing: [`omit_unknown`] leaves them out of a
//! payload kept compactly (five events per purchase make them a tenth of the stored bytes) and
//! [`restore_unknown`] puts them back when it is read, also into payloads stored before events
//! carried them.

use serde_json::{Map, Value};

use super::EventType;

/// Null in every event about a purchase or an access level.
const IN_EVERY_EVENT: [&str; 5] = [
    "ab_test_name",
    "cohort_name",
    "developer_id",
    "paywall_name",
    "paywall_revision",
];

/// Null in the events of a transaction besides (spec §9.4 only).
const IN_TRANSACTION_EVENTS: [&str; 2] = ["ab_test_revision", "store_offer_number_of_periods"];

fn keys(event_type: &str) -> impl Iterator<Item = &'static str> {
    let transactional = event_type != EventType::AccessLevelUpdated.as_str();
    IN_EVERY_EVENT.into_iter().chain(
        IN_TRANSACTION_EVENTS
            .into_iter()
            .filter(move |_| transactional),
    )
}

/// Sets the unknown properties of an event of `event_type` to null.
pub(super) fn insert_unknown(properties: &mut Map<String, Value>, event_type: EventType) {
    for key in keys(event_type.as_str()) {
        properties.insert(key.into(), Value::Null);
    }
}

/// The payload's `event_properties` with its `event_type`, if it has both (`profile_deleted`
/// has no properties).
fn properties_of(payload: &mut Value) -> Option<(String, &mut Map<String, Value>)> {
    let fields = payload.as_object_mut()?;
    let event_type = fields.get("event_type")?.as_str()?.to_owned();
    let properties = fields.get_mut("event_properties")?.as_object_mut()?;
    Some((event_type, properties))
}

/// Leaves out the unknown properties that are null, for a store.
pub fn omit_unknown(payload: &mut Value) {
    if let Some((event_type, properties)) = properties_of(payload) {
        for key in keys(&event_type) {
            if properties.get(key).is_some_and(Value::is_null) {
                properties.remove(key);
            }
        }
    }
}

/// Puts back, as null, every unknown property a stored payload lacks; `true` when it lacked
/// any (it was stored before events carried them, or compactly).
pub fn restore_unknown(payload: &mut Value) -> bool {
    let mut restored = false;
    if let Some((event_type, properties)) = properties_of(payload) {
        for key in keys(&event_type) {
            if !properties.contains_key(key) {
                properties.insert(key.into(), Value::Null);
                restored = true;
            }
        }
    }
    restored
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn a_payload_omitted_and_restored_is_the_same_and_older_ones_gain_the_keys() {
        for event_type in [
            EventType::SubscriptionRenewed,
            EventType::AccessLevelUpdated,
        ] {
            let mut properties = Map::new();
            properties.insert("store".into(), json!("app_store"));
            insert_unknown(&mut properties, event_type);
            let payload =
                json!({"event_type": event_type.as_str(), "event_properties": properties});
            let mut stored = payload.clone();
            omit_unknown(&mut stored);
            assert_eq!(
                stored["event_properties"],
                json!({"store": "app_store"}),
                "{event_type:?}"
            );
            restore_unknown(&mut stored);
            assert_eq!(stored, payload);
        }
        let renewed = EventType::SubscriptionRenewed.as_str();
        let mut older = json!({"event_type": renewed, "event_properties": {"store": "app_store"}});
        restore_unknown(&mut older);
        assert_eq!(older["event_properties"].as_object().unwrap().len(), 8);
        assert!(older["event_properties"]["store_offer_number_of_periods"].is_null());
    }

    #[test]
    fn a_known_value_is_kept_and_a_payload_without_properties_is_left_alone() {
        let renewed = EventType::SubscriptionRenewed.as_str();
        let mut known =
            json!({"event_type": renewed, "event_properties": {"paywall_name": "main"}});
        omit_unknown(&mut known);
        assert_eq!(known["event_properties"]["paywall_name"], "main");
        let deleted = json!({"event_type": "profile_deleted", "profile_id": "p"});
        let mut stored = deleted.clone();
        omit_unknown(&mut stored);
        restore_unknown(&mut stored);
        assert_eq!(stored, deleted);
    }
}
