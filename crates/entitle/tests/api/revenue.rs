//! Revenue charged in other currencies than the US dollar (spec §4.4 `total_revenue_usd`, §9.4
//! `price_usd`): converted at the rate the app's operator set (`entitle currencies`) when the
//! transaction arrived, and counted as nothing without one.

use serde_json::{Value, json};

use crate::feed::with;
use crate::helpers::*;

fn in_currency(id: &str, currency: &str, value: f64) -> Value {
    with(
        subscription(id, id, &days_from_now(-1), &days_from_now(29)),
        json!({"price": {"country": "DE", "currency": currency, "value": value}}),
    )
}

async fn price_usd_of(server: &TestServer, cuid: &str) -> Value {
    let started = server
        .feed(&format!(
            "customer_user_id={cuid}&event_type=subscription_started"
        ))
        .await;
    started[0]["payload"]["event_properties"]["price_usd"].clone()
}

#[tokio::test]
async fn prices_in_other_currencies_count_at_the_rate_of_their_arrival() {
    let server = TestServer::start().await;
    let _receiver = server.listen_to_every_event().await;
    let app = server.app_id.clone();
    let rates = ["currencies", "set", "--app", &app, "--currency", "eur"];
    server
        .cli(&[&rates[..], &["--usd-per-unit", "1.1"]].concat())
        .await;
    let listed = server
        .cli(&["currencies", "list", "--app", &app, "--json"])
        .await;
    assert_eq!(
        serde_json::from_str::<Value>(&listed).unwrap(),
        json!({"EUR": 1.1})
    );

    server.create_profile("euro").await;
    let (status, first) = server
        .set_transaction("euro", &in_currency("e-1", "EUR", 10.0))
        .await;
    assert_eq!(status, 200, "{first}");
    assert_eq!(first["data"]["total_revenue_usd"], 11.0);
    assert_eq!(price_usd_of(&server, "euro").await, 11.0);

    // A later rate applies to later transactions only; a lower-case code is the same currency.
    server
        .cli(&[&rates[..], &["--usd-per-unit", "2"]].concat())
        .await;
    let renewal = with(
        subscription("e-2", "e-1", &days_from_now(0), &days_from_now(30)),
        json!({"originally_purchased_at": days_from_now(-1),
               "price": {"country": "DE", "currency": "eur", "value": 10.0}}),
    );
    let (_, renewed) = server.set_transaction("euro", &renewal).await;
    assert_eq!(renewed["data"]["total_revenue_usd"], 31.0);

    // Without a rate a price counts for nothing and its price_usd is null.
    server.create_profile("yen").await;
    let (_, yen) = server
        .set_transaction("yen", &in_currency("y-1", "JPY", 1500.0))
        .await;
    assert_eq!(yen["data"]["total_revenue_usd"], 0.0);
    assert!(price_usd_of(&server, "yen").await.is_null());
    server
        .cli(&["currencies", "remove", "--app", &app, "--currency", "EUR"])
        .await;
    server.create_profile("late").await;
    let (_, late) = server
        .set_transaction("late", &in_currency("l-1", "EUR", 10.0))
        .await;
    assert_eq!(late["data"]["total_revenue_usd"], 0.0);
}
