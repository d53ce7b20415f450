//! What an event says (spec §9.4, §9.5): the properties a receiver reads, beyond the event
//! sequences of `events.rs`.

use serde_json::{Value, json};

use crate::feed::with;
use crate::helpers::*;

/// Spec §9.4 and §9.5: `access_level_updated` names the storefront country and the paywall
/// variation of the purchase behind the access (none for a grant), and both kinds of event
/// carry every documented paywall key, null where entitle is not told the value.
#[tokio::test]
async fn access_level_updated_carries_the_purchase_store_country_and_variation() {
    let server = TestServer::start().await;
    let _receiver = server.listen_to_every_event().await;
    server.create_profile("buyer").await;
    server.create_profile("gifted").await;
    let body = with(
        subscription("v-1", "v-1", &days_from_now(-1), &days_from_now(29)),
        json!({"price": {"country": "DE", "currency": "USD", "value": 9.99},
               "variation_id": "var-42"}),
    );
    server.set_transaction("buyer", &body).await;
    server
        .post_for(GRANT, "gifted", &json!({"access_level_id": "premium"}))
        .await;
    let only = |cuid: &str, kind: &str| format!("customer_user_id={cuid}&event_type={kind}");
    let properties = |events: Vec<Value>| {
        assert_eq!(events.len(), 1, "{events:?}");
        events[0]["payload"]["event_properties"].clone()
    };
    let bought = properties(server.feed(&only("buyer", "access_level_updated")).await);
    assert_eq!(bought["store_country"], "DE", "{bought}");
    assert_eq!(bought["variation_id"], "var-42", "{bought}");
    let granted = properties(server.feed(&only("gifted", "access_level_updated")).await);
    assert_eq!(granted["vendor_product_id"], "adapty_server_side_product");
    assert!(granted["store_country"].is_null() && granted["variation_id"].is_null());
    let started = properties(server.feed(&only("buyer", "subscription_started")).await);
    assert_eq!(started["store_country"], "DE");
    assert_eq!(started["variation_id"], "var-42");
    for key in [
        "ab_test_name",
        "cohort_name",
        "developer_id",
        "paywall_name",
        "paywall_revision",
    ] {
        for event in [&bought, &granted, &started] {
            assert!(event.get(key).is_some_and(Value::is_null), "{key}: {event}");
        }
    }
    for key in ["ab_test_revision", "store_offer_number_of_periods"] {
        assert!(started.get(key).is_some_and(Value::is_null), "{key}");
    }
}
