//! When a period is a trial and when it has expired (spec §4.8, §9.7): the edges of the event
//! sequences of `events.rs`.

use serde_json::{Value, json};

use crate::feed::{feed_once, new_events, with};
use crate::helpers::*;

/// Spec §4.8: "Zero price on the first transaction of a chain means a free trial; zero on a
/// renewal means a free renewal" — with or without a `free_trial` offer. A family-shared
/// purchase is free without being a trial.
#[tokio::test]
async fn a_zero_price_first_transaction_is_a_free_trial() {
    let server = TestServer::start().await;
    let _receiver = server.listen_to_every_event().await;
    let free = json!({"price": {"country": "US", "currency": "USD", "value": 0}});
    server.create_profile("zero").await;
    let mut seen = 0;
    let trial = with(
        subscription("z-1", "z-1", &days_from_now(-7), &days_from_now(-1)),
        free.clone(),
    );
    server.set_transaction("zero", &trial).await;
    let started = new_events(&server, "", &mut seen).await;
    assert_eq!(started[0], "trial_started", "{started:?}");
    let trial_event = &server.feed("event_type=trial_started").await[0];
    let properties = &trial_event["payload"]["event_properties"];
    assert!(properties["price_local"].is_null(), "{properties}");
    assert_eq!(properties["trial_duration"], "6 days");
    // Its access shows the free trial too, though the transaction named no offer.
    let level =
        &server.feed("event_type=access_level_updated").await[0]["payload"]["event_properties"];
    assert_eq!(
        level["active_introductory_offer_type"], "free_trial",
        "{level}"
    );
    let (_, profile) = send(server.profile(reqwest::Method::GET, "zero")).await;
    let trial_offer = json!({"category": "introductory", "type": "free_trial", "id": null});
    assert_eq!(
        profile["data"]["access_levels"][0]["offer"], trial_offer,
        "{profile}"
    );
    assert_eq!(
        profile["data"]["subscriptions"][0]["offer"], trial_offer,
        "one answer says the same of a transaction in both places"
    );
    let paid = with(
        subscription("z-2", "z-1", &days_from_now(-1), &days_from_now(29)),
        json!({"originally_purchased_at": days_from_now(-7)}),
    );
    server.set_transaction("zero", &paid).await;
    let converted = new_events(&server, "", &mut seen).await;
    assert_eq!(converted[0], "trial_converted", "{converted:?}");
    let level =
        &server.feed("event_type=access_level_updated").await[0]["payload"]["event_properties"];
    assert_eq!(
        level["active_introductory_offer_type"],
        Value::Null,
        "{level}"
    );
    let free_renewal = with(
        subscription("z-3", "z-1", &days_from_now(0), &days_from_now(30)),
        json!({"originally_purchased_at": days_from_now(-7)}),
    );
    server
        .set_transaction("zero", &with(free_renewal, free.clone()))
        .await;
    let renewed = new_events(&server, "", &mut seen).await;
    assert_eq!(renewed[0], "subscription_renewed", "{renewed:?}");

    server.create_profile("family").await;
    let shared = with(
        subscription("f-1", "f-1", &days_from_now(-1), &days_from_now(29)),
        json!({"price": {"country": "US", "currency": "USD", "value": 0}, "is_family_shared": true}),
    );
    server.set_transaction("family", &shared).await;
    let family = new_events(&server, "", &mut seen).await;
    assert_eq!(family[0], "subscription_started", "{family:?}");
}

/// A renewing subscription whose period lapses with no news is waiting for its next charge:
/// its access ends when the period does (`access_level_updated`), but it has not expired
/// (spec §9.7 ties `subscription_expired` to auto-renew off or a final billing failure) until
/// the store says the renewal will not come.
#[tokio::test]
async fn a_renewing_period_that_lapses_ends_the_access_but_expires_only_once_cancelled() {
    let server = TestServer::start().await;
    let _receiver = server.listen_to_every_event().await;
    server.create_profile("lapsed").await;
    let now = entitle_domain::datetime::Timestamp::now();
    let ends = now.plus_micros(1_000_000).to_rfc3339();
    let body = subscription("lapse-1", "lapse-1", &days_from_now(-1), &ends);
    server.set_transaction("lapsed", &body).await;
    let ended = |feed: &[Value]| {
        feed.iter()
            .any(|e| e["payload"]["event_properties"]["is_active"] == false)
    };
    feed_once(&server, "event_type=access_level_updated", ended).await;
    // A tick or two more: the worker writes nothing else for the lapse.
    tokio::time::sleep(std::time::Duration::from_millis(600)).await;
    assert!(
        server
            .feed("event_type=subscription_expired")
            .await
            .is_empty(),
        "a lapse is not an expiry"
    );
    let cancelled = with(body, json!({"renew_status": false}));
    server.set_transaction("lapsed", &cancelled).await;
    let types = server.event_types("customer_user_id=lapsed").await;
    assert_eq!(
        types,
        [
            "subscription_started",
            "access_level_updated",
            "access_level_updated",
            "subscription_renewal_cancelled",
            "subscription_expired",
            "access_level_updated",
        ],
        "the cancellation also changes the ended access level (will_renew)"
    );
}
