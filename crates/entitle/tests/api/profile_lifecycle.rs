//! Create → get → update → delete, with the documented bodies (spec §5.1–5.4, DESIGN.md §3–4).

use reqwest::Method;
use serde_json::json;

use crate::helpers::*;

fn full_body() -> serde_json::Value {
    json!({
        "first_name": "Mara",
        "last_name": "Lindqvist",
        "gender": "f",
        "email": "mara.l@example.org",
        "phone_number": "+46700000001",
        "birthday": "1991-04-17",
        "ip_country": "SE",
        "ip_v4_address": "192.0.2.7",
        "store_country": "SE",
        "store": "play_store",
        "store_account_token": "6b3f0a9e-5f7d-4b8a-9d3c-2e1f0a9b8c7d",
        "att_status": 3,
        "analytics_disabled": false,
        "custom_attributes": [ { "key": "plan_tier", "value": "free" }, { "key": "lessons_done", "value": 12 } ],
        "installation_meta": {
            "device_id": "0b7d7a53-8a2e-4d57-9a5a-2f1c4c1f9e10",
            "device": "Pixel 8",
            "locale": "sv",
            "os": "Android 15",
            "platform": "Android",
            "timezone": "Europe/Stockholm",
            "app_version": "4.2.0",
            "app_build": "420",
            "advertising_id": "",
            "android_id": "",
            "android_app_set_id": ""
        },
        "an_unknown_field": { "is": "ignored" }
    })
}

#[tokio::test]
async fn create_get_update_delete() {
    let server = TestServer::start().await;

    let (status, created) = send(
        server
            .profile(Method::POST, "user-84213")
            .json(&full_body()),
    )
    .await;
    assert_eq!(status, 200, "{created}");
    let data = &created["data"];
    assert_eq!(data["customer_user_id"], "user-84213");
    assert_eq!(data["app_id"], server.app_id.as_str());
    assert_eq!(data["total_revenue_usd"], 0.0);
    assert!(data["timestamp"].as_i64().unwrap() > 1_700_000_000_000);
    let hash = data["segment_hash"].as_str().unwrap();
    assert!(
        hash.len() == 16
            && hash
                .bytes()
                .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
    );
    assert_eq!(
        data["custom_attributes"],
        json!([{ "key": "plan_tier", "value": "free" }, { "key": "lessons_done", "value": 12.0 }])
    );
    // Personal fields are request-only: never echoed.
    for field in [
        "email",
        "first_name",
        "phone_number",
        "birthday",
        "gender",
        "installation_meta",
    ] {
        assert!(
            data.get(field).is_none(),
            "{field} must not be in the response"
        );
    }
    insta::assert_json_snapshot!("create_profile", redacted(&created));
    let profile_id = data["profile_id"].as_str().unwrap().to_owned();

    let (status, got) = send(server.profile(Method::GET, "user-84213")).await;
    assert_eq!(status, 200);
    assert_eq!(got["data"]["profile_id"], profile_id.as_str());
    insta::assert_json_snapshot!("get_profile", redacted(&got));

    let (status, by_id) = send(
        server
            .request(Method::GET, PROFILE)
            .header("adapty-profile-id", &profile_id),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(by_id["data"]["customer_user_id"], "user-84213");

    let update = json!({
        "custom_attributes": [ { "key": "lessons_done", "value": 13 }, { "key": "plan_tier", "value": null } ],
        "email": "mara@example.org"
    });
    let (status, updated) = send(server.profile(Method::PATCH, "user-84213").json(&update)).await;
    assert_eq!(status, 200, "{updated}");
    assert_eq!(
        updated["data"]["custom_attributes"],
        json!([{ "key": "lessons_done", "value": 13.0 }])
    );
    insta::assert_json_snapshot!("update_profile", redacted(&updated));

    let response = server
        .profile(Method::DELETE, "user-84213")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 204);
    assert!(response.headers().contains_key("request-id"));
    assert!(
        response.bytes().await.unwrap().is_empty(),
        "204 has an empty body"
    );

    for method in [Method::GET, Method::PATCH, Method::DELETE] {
        let (status, body) = send(
            server
                .profile(method.clone(), "user-84213")
                .json(&json!({})),
        )
        .await;
        assert_error(status, &body, 404, "profile_does_not_exist");
        assert_eq!(body["errors"][0]["source"], serde_json::Value::Null);
        if method == Method::GET {
            insta::assert_json_snapshot!("profile_not_found", body);
        }
    }
    let (status, body) = send(
        server
            .request(Method::GET, PROFILE)
            .header("adapty-profile-id", &profile_id),
    )
    .await;
    assert_error(status, &body, 404, "profile_does_not_exist");

    // The customer user id is free again: a fresh profile with a new id.
    let (status, again) = send(server.profile(Method::POST, "user-84213")).await;
    assert_eq!(status, 200);
    assert_ne!(again["data"]["profile_id"], profile_id.as_str());
    assert_eq!(again["data"]["custom_attributes"], json!([]));
    server.stop().await;
}

#[tokio::test]
async fn create_is_get_or_create_by_customer_user_id() {
    let server = TestServer::start().await;
    let (_, first) = send(
        server
            .profile(Method::POST, "u1")
            .json(&json!({"custom_attributes": [{"key": "a", "value": 1}]})),
    )
    .await;
    let (status, second) = send(
        server
            .profile(Method::POST, "u1")
            .json(&json!({"custom_attributes": [{"key": "b", "value": "x"}]})),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(first["data"]["profile_id"], second["data"]["profile_id"]);
    // The second body was applied as an update.
    assert_eq!(
        second["data"]["custom_attributes"],
        json!([{"key": "a", "value": 1.0}, {"key": "b", "value": "x"}])
    );
}

#[tokio::test]
async fn create_by_profile_id_and_identify_with_both_headers() {
    let server = TestServer::start().await;
    let id = "4f1e2d3c-b5a6-4978-8a9b-0c1d2e3f4a5b";
    let anonymous = || {
        server
            .request(Method::POST, PROFILE)
            .header("adapty-profile-id", id)
    };
    let (status, created) = send(anonymous()).await;
    assert_eq!(status, 200);
    assert_eq!(created["data"]["profile_id"], id);
    assert_eq!(created["data"]["customer_user_id"], serde_json::Value::Null);
    let (status, again) = send(anonymous()).await;
    assert_eq!(status, 200);
    assert_eq!(again["data"]["profile_id"], id);

    // Both headers attach the customer user id to the anonymous profile.
    let (status, identified) = send(anonymous().header("adapty-customer-user-id", "u-7")).await;
    assert_eq!(status, 200);
    assert_eq!(identified["data"]["profile_id"], id);
    assert_eq!(identified["data"]["customer_user_id"], "u-7");
    let (_, by_cuid) = send(server.profile(Method::GET, "u-7")).await;
    assert_eq!(by_cuid["data"]["profile_id"], id);

    // A customer user id that belongs to another profile is never merged in.
    let other = "9a8b7c6d-5e4f-4a3b-9c2d-1e0f9a8b7c6d";
    send(
        server
            .request(Method::POST, PROFILE)
            .header("adapty-profile-id", other),
    )
    .await;
    let (status, body) = send(
        server
            .request(Method::POST, PROFILE)
            .header("adapty-profile-id", other)
            .header("adapty-customer-user-id", "u-7"),
    )
    .await;
    assert_error(status, &body, 400, "validation_error");

    // Both headers naming an unknown profile: not found.
    let (status, body) = send(
        server
            .request(Method::POST, PROFILE)
            .header("adapty-profile-id", "00000000-0000-4000-8000-000000000000")
            .header("adapty-customer-user-id", "u-8"),
    )
    .await;
    assert_error(status, &body, 404, "profile_does_not_exist");
}

/// DESIGN.md §4: after a delete the profile is gone for every endpoint, so create's
/// get-or-create by profile id answers 404 for a deleted id instead of bringing it back empty
/// (on another app the id is simply new).
#[tokio::test]
async fn a_deleted_profile_id_is_never_created_again() {
    let server = TestServer::start().await;
    let id = "5b0c1d2e-3f4a-4b5c-8d6e-7f8091a2b3c4";
    let by_id = |method: Method| {
        server
            .request(method, PROFILE)
            .header("adapty-profile-id", id)
    };
    let (status, _) = send(by_id(Method::POST)).await;
    assert_eq!(status, 200);
    let (status, _) = send(by_id(Method::DELETE)).await;
    assert_eq!(status, 204);
    for method in [Method::POST, Method::GET, Method::PATCH, Method::DELETE] {
        let (status, body) = send(by_id(method.clone()).json(&serde_json::json!({}))).await;
        assert_error(status, &body, 404, "profile_does_not_exist");
    }
    let (_, other_key) = server.another_app("other").await;
    let (status, created) = send(
        server
            .request_as(&other_key, Method::POST, PROFILE)
            .header("adapty-profile-id", id),
    )
    .await;
    assert_eq!(status, 200, "{created}");
    assert_eq!(created["data"]["profile_id"], id);
}

#[tokio::test]
async fn profile_id_wins_and_a_contradicting_customer_user_id_is_not_found() {
    let server = TestServer::start().await;
    let (_, a) = send(server.profile(Method::POST, "a")).await;
    let a_id = a["data"]["profile_id"].as_str().unwrap().to_owned();
    send(server.profile(Method::POST, "b")).await;

    let (status, body) = send(
        server
            .request(Method::GET, PROFILE)
            .header("adapty-profile-id", &a_id)
            .header("adapty-customer-user-id", "a"),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(body["data"]["profile_id"], a_id.as_str());

    for method in [Method::GET, Method::PATCH, Method::DELETE] {
        let (status, body) = send(
            server
                .request(method, PROFILE)
                .header("adapty-profile-id", &a_id)
                .header("adapty-customer-user-id", "b"),
        )
        .await;
        assert_error(status, &body, 404, "profile_does_not_exist");
    }
    // Nothing was deleted by the contradicting request.
    let (status, _) = send(server.profile(Method::GET, "a")).await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn patch_never_changes_a_customer_user_id_and_merges_attributes() {
    let server = TestServer::start().await;
    send(server.profile(Method::POST, "keep-me").json(
        &json!({"custom_attributes": [{"key": "x", "value": "1"}, {"key": "y", "value": 2.5}]}),
    ))
    .await;
    let (status, body) = send(
        server
            .profile(Method::PATCH, "keep-me")
            .json(&json!({"customer_user_id": "changed", "custom_attributes": [{"key": "x", "value": ""}, {"key": "z", "value": true}]})),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"]["customer_user_id"], "keep-me");
    assert_eq!(
        body["data"]["custom_attributes"],
        json!([{"key": "y", "value": 2.5}, {"key": "z", "value": 1.0}])
    );
    let (status, _) = send(server.profile(Method::GET, "changed")).await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn thirty_custom_attributes_fit_and_the_thirty_first_does_not() {
    let server = TestServer::start().await;
    let thirty: Vec<_> = (0..30)
        .map(|i| json!({"key": format!("k{i}"), "value": i}))
        .collect();
    let (status, body) = send(
        server
            .profile(Method::POST, "full")
            .json(&json!({"custom_attributes": thirty})),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = send(
        server
            .profile(Method::PATCH, "full")
            .json(&json!({"custom_attributes": [{"key": "one_more", "value": 1}]})),
    )
    .await;
    assert_error(status, &body, 400, "validation_error");
    assert_eq!(error_source(&body), Some("custom_attributes"));
    // Replacing and deleting within the limit still works; nothing was half-applied.
    let (status, body) = send(server.profile(Method::PATCH, "full").json(&json!({"custom_attributes": [{"key": "k0", "value": null}, {"key": "one_more", "value": 1}]}))).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body["data"]["custom_attributes"].as_array().unwrap().len(),
        30
    );
}

#[tokio::test]
async fn graceful_shutdown_keeps_every_acknowledged_write() {
    let server = TestServer::start().await;
    let url = server.database_url.clone();
    let mut acknowledged = Vec::new();
    for i in 0..20 {
        let cuid = format!("durable-{i}");
        let (status, _) = send(server.profile(Method::POST, &cuid)).await;
        assert_eq!(status, 200);
        acknowledged.push(cuid);
    }
    let key = server.key.clone();
    let _data = server.stop().await;

    // A new server over the same file sees all of them.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let (stop, signal) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(entitle::run(
        entitle::Config::for_database(url),
        listener,
        async {
            let _ = signal.await;
        },
    ));
    let client = reqwest::Client::new();
    for cuid in acknowledged {
        let response = client
            .get(format!("http://{address}{PROFILE}"))
            .header("Authorization", format!("Api-Key {key}"))
            .header("adapty-customer-user-id", &cuid)
            .send()
            .await
            .unwrap();
        let status = response.status();
        assert_eq!(
            status,
            200,
            "{cuid} was lost: {}",
            response.text().await.unwrap()
        );
    }
    stop.send(()).unwrap();
    task.await.unwrap().unwrap();
}
