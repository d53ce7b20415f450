//! Products and the access levels they map to (`entitle products set`), Google Play base plans
//! among them (spec §4.10).

use serde_json::{Value, json};

use crate::feed::with;
use crate::helpers::*;

#[tokio::test]
async fn products_map_to_access_levels_without_a_restart() {
    let server = TestServer::start().await;
    server.create_profile("mapped").await;
    server.add_access_level("pro").await;
    server
        .cli(&[
            "products",
            "set",
            "--app",
            &server.app_id,
            "--store",
            "app_store",
            "--product-id",
            "pro.monthly",
            "--access-level",
            "pro",
        ])
        .await;
    let (_, answer) = server
        .set_transaction(
            "mapped",
            &subscription("m-1", "m-1", &days_from_now(-1), &days_from_now(30)),
        )
        .await;
    assert_eq!(active_levels(&answer), vec!["pro"]);
    // An unmapped product grants premium.
    let other = with(
        subscription("m-2", "m-2", &days_from_now(-1), &days_from_now(30)),
        json!({"store_product_id": "other"}),
    );
    let (_, answer) = server.set_transaction("mapped", &other).await;
    assert_eq!(active_levels(&answer), vec!["premium", "pro"]);
}

/// Spec §4.10: a Google Play base plan comes as `product_id:base_plan_id`. It shows as
/// `store_base_plan_id`, and the product's mapping applies unless the pair is mapped itself.
#[tokio::test]
async fn a_google_base_plan_maps_by_its_product_and_shows_as_the_base_plan() {
    let server = TestServer::start().await;
    server.create_profile("planned").await;
    for level in ["pro", "max"] {
        server.add_access_level(level).await;
    }
    for (product, level) in [("pro.sub", "pro"), ("pro.sub:yearly", "max")] {
        let app = server.app_id.clone();
        server
            .cli(&[
                "products",
                "set",
                "--app",
                &app,
                "--store",
                "play_store",
                "--product-id",
                product,
                "--access-level",
                level,
            ])
            .await;
    }
    let on_plan = |id: &str, product: &str| {
        with(
            subscription(id, id, &days_from_now(-1), &days_from_now(30)),
            json!({"store": "play_store", "store_product_id": product}),
        )
    };
    let (status, answer) = server
        .set_transaction("planned", &on_plan("g-1", "pro.sub:monthly"))
        .await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(active_levels(&answer), vec!["pro"], "mapped by its product");
    let level = &answer["data"]["access_levels"][0];
    assert_eq!(level["store_product_id"], "pro.sub:monthly");
    assert_eq!(level["store_base_plan_id"], "monthly");
    let bought = &answer["data"]["subscriptions"][0];
    assert_eq!(bought["store_base_plan_id"], "monthly");

    let (_, answer) = server
        .set_transaction("planned", &on_plan("g-2", "pro.sub:yearly"))
        .await;
    assert_eq!(
        active_levels(&answer),
        vec!["max", "pro"],
        "a mapped pair wins over its product"
    );

    // Elsewhere a colon is part of the product id.
    let (_, answer) = server
        .set_transaction(
            "planned",
            &with(
                subscription("a-1", "a-1", &days_from_now(-1), &days_from_now(30)),
                json!({"store_product_id": "pro.sub:monthly"}),
            ),
        )
        .await;
    let apple = answer["data"]["subscriptions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["store"] == "app_store")
        .unwrap();
    assert_eq!(apple["store_base_plan_id"], Value::Null, "{apple}");
}
