//! Every validation rule of the profile body answers 400 with the envelope, an `error_code`
//! and the field as `source`; nothing is written by a rejected request.

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::*;

/// (body, error_code, source)
fn cases() -> Vec<(Value, &'static str, Option<&'static str>)> {
    let device = "0b7d7a53-8a2e-4d57-9a5a-2f1c4c1f9e10";
    vec![
        (json!({"gender": "x"}), "enum", Some("gender")),
        (json!({"gender": 1}), "enum", Some("gender")),
        (
            json!({"email": "not-an-email"}),
            "validation_error",
            Some("email"),
        ),
        (json!({"email": 5}), "validation_error", Some("email")),
        (
            json!({"birthday": "1991-02-30"}),
            "validation_error",
            Some("birthday"),
        ),
        (
            json!({"birthday": "17/04/1991"}),
            "validation_error",
            Some("birthday"),
        ),
        (
            json!({"first_name": 7}),
            "validation_error",
            Some("first_name"),
        ),
        (
            json!({"last_name": ["x"]}),
            "validation_error",
            Some("last_name"),
        ),
        (
            json!({"first_name": "x".repeat(1001)}),
            "validation_error",
            Some("first_name"),
        ),
        (
            json!({"phone_number": {}}),
            "validation_error",
            Some("phone_number"),
        ),
        (
            json!({"ip_country": "Sweden"}),
            "validation_error",
            Some("ip_country"),
        ),
        (
            json!({"store_country": "S1"}),
            "validation_error",
            Some("store_country"),
        ),
        (
            json!({"ip_v4_address": "300.1.1.1"}),
            "validation_error",
            Some("ip_v4_address"),
        ),
        (json!({"store": "amazon"}), "enum", Some("store")),
        (
            json!({"store_account_token": "nope"}),
            "validation_error",
            Some("store_account_token"),
        ),
        (json!({"att_status": 4}), "enum", Some("att_status")),
        (json!({"att_status": "3"}), "enum", Some("att_status")),
        (json!({"att_status": 1.5}), "enum", Some("att_status")),
        (
            json!({"analytics_disabled": "yes"}),
            "validation_error",
            Some("analytics_disabled"),
        ),
        (
            json!({"custom_attributes": []}),
            "validation_error",
            Some("custom_attributes"),
        ),
        (
            json!({"custom_attributes": null}),
            "validation_error",
            Some("custom_attributes"),
        ),
        (
            json!({"custom_attributes": {"key": "a", "value": 1}}),
            "validation_error",
            Some("custom_attributes"),
        ),
        (
            json!({"custom_attributes": [{"key": "has space", "value": 1}]}),
            "validation_error",
            Some("custom_attributes"),
        ),
        (
            json!({"custom_attributes": [{"key": "k".repeat(31), "value": 1}]}),
            "validation_error",
            Some("custom_attributes"),
        ),
        (
            json!({"custom_attributes": [{"key": "", "value": 1}]}),
            "validation_error",
            Some("custom_attributes"),
        ),
        (
            json!({"custom_attributes": [{"value": 1}]}),
            "validation_error",
            Some("custom_attributes"),
        ),
        (
            json!({"custom_attributes": [{"key": "a"}]}),
            "validation_error",
            Some("custom_attributes"),
        ),
        (
            json!({"custom_attributes": [{"key": "a", "value": "v".repeat(51)}]}),
            "validation_error",
            Some("custom_attributes"),
        ),
        (
            json!({"custom_attributes": [{"key": "a", "value": {"nested": 1}}]}),
            "validation_error",
            Some("custom_attributes"),
        ),
        (
            json!({"custom_attributes": [{"key": "a", "value": [1]}]}),
            "validation_error",
            Some("custom_attributes"),
        ),
        (
            json!({"custom_attributes": (0..31).map(|i| json!({"key": format!("k{i}"), "value": 1})).collect::<Vec<_>>()}),
            "validation_error",
            Some("custom_attributes"),
        ),
        (
            json!({"installation_meta": {}}),
            "parse_error",
            Some("installation_meta.device_id"),
        ),
        (
            json!({"installation_meta": {"device_id": "not-a-uuid"}}),
            "validation_error",
            Some("installation_meta.device_id"),
        ),
        (
            json!({"installation_meta": {"device_id": 12}}),
            "validation_error",
            Some("installation_meta.device_id"),
        ),
        (
            json!({"installation_meta": {"device_id": device, "platform": "ios"}}),
            "enum",
            Some("installation_meta.platform"),
        ),
        (
            json!({"installation_meta": {"device_id": device, "os": 17}}),
            "validation_error",
            Some("installation_meta.os"),
        ),
        (
            json!({"installation_meta": "device"}),
            "validation_error",
            Some("installation_meta"),
        ),
    ]
}

#[tokio::test]
async fn every_rule_names_its_field() {
    let server = TestServer::start().await;
    send(
        server
            .profile(Method::POST, "valid")
            .json(&json!({"first_name": "Kept"})),
    )
    .await;
    for (body, code, source) in cases() {
        for method in [Method::POST, Method::PATCH] {
            let (status, answer) = send(server.profile(method.clone(), "valid").json(&body)).await;
            assert_error(status, &answer, 400, code);
            assert_eq!(error_source(&answer), source, "{method} {body} → {answer}");
        }
        // A rejected create of a new user creates nothing.
        let (status, _) = send(server.profile(Method::POST, "never-created").json(&body)).await;
        assert_eq!(status, 400);
    }
    let (status, _) = send(server.profile(Method::GET, "never-created")).await;
    assert_eq!(status, 404, "a rejected create must not write");

    let (_, gender) = send(
        server
            .profile(Method::PATCH, "valid")
            .json(&json!({"gender": "x"})),
    )
    .await;
    insta::assert_json_snapshot!("invalid_gender", gender);
    let (_, email) = send(
        server
            .profile(Method::PATCH, "valid")
            .json(&json!({"email": "nope"})),
    )
    .await;
    insta::assert_json_snapshot!("invalid_email", email);
}

#[tokio::test]
async fn malformed_json_is_parse_error() {
    let server = TestServer::start().await;
    for raw in [
        "{",
        "{\"a\": }",
        "nul",
        "{\"a\": 1,}",
        "\u{feff}{}",
        "[1, 2",
    ] {
        let (status, body) = send(server.profile(Method::POST, "p").body(raw.to_owned())).await;
        assert_error(status, &body, 400, "parse_error");
        assert_eq!(body["errors"][0]["source"], Value::Null);
    }
    let invalid_utf8 = vec![b'{', b'"', 0xff, 0xfe, b'"', b':', b'1', b'}'];
    let (status, body) = send(server.profile(Method::POST, "p").body(invalid_utf8)).await;
    assert_error(status, &body, 400, "parse_error");
    let deep = "[".repeat(10_000) + &"]".repeat(10_000);
    let (status, body) = send(server.profile(Method::POST, "p").body(deep)).await;
    assert_error(status, &body, 400, "parse_error");
    // Valid JSON that is not an object.
    let (status, body) = send(server.profile(Method::POST, "p").body("[]")).await;
    assert_error(status, &body, 400, "validation_error");
    let (_, body) = send(server.profile(Method::POST, "p").body("{")).await;
    insta::assert_json_snapshot!("parse_error", body);
}

#[tokio::test]
async fn accepted_forms() {
    let server = TestServer::start().await;
    let body = json!({
        "first_name": null,
        "gender": "o",
        "email": null,
        "birthday": null,
        "att_status": 0,
        "store": "adapty",
        "ip_country": "fr",
        "custom_attributes": [
            {"key": "Ab-c.d_9", "value": "v".repeat(50)},
            {"key": "flag", "value": false},
            {"key": "n", "value": -3}
        ],
        "installation_meta": {"device_id": "0b7d7a53-8a2e-4d57-9a5a-2f1c4c1f9e10", "platform": "iOS", "idfa": null}
    });
    let (status, answer) = send(server.profile(Method::POST, "forms").json(&body)).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(
        answer["data"]["custom_attributes"],
        json!([{"key": "Ab-c.d_9", "value": "v".repeat(50)}, {"key": "flag", "value": 0.0}, {"key": "n", "value": -3.0}])
    );
}
