//! Header tolerance, `Request-Id`, routing and size limits (issue 2 point 4, DESIGN.md §3).

use reqwest::Method;
use serde_json::json;

use crate::helpers::*;

fn is_request_id(value: &str) -> bool {
    value.len() == 32
        && value
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

#[tokio::test]
async fn every_response_carries_a_request_id() {
    let server = TestServer::start().await;
    let requests = vec![
        server.profile(Method::POST, "rid"),
        server.profile(Method::GET, "rid"),
        server.profile(Method::GET, "nobody"),
        server.request(Method::GET, PROFILE),
        server.client.get(server.url(PROFILE)),
        server.request(Method::PUT, PROFILE),
        server.request(Method::GET, "/no/such/path"),
        server.profile(Method::PATCH, "rid").body("{"),
        server.profile(Method::DELETE, "rid"),
    ];
    let mut seen = std::collections::HashSet::new();
    for request in requests {
        let response = request.send().await.unwrap();
        let id = response.headers()["request-id"]
            .to_str()
            .unwrap()
            .to_owned();
        assert!(is_request_id(&id), "{id}");
        assert!(seen.insert(id), "request ids repeat");
    }
}

#[tokio::test]
async fn header_names_in_any_case_and_repeated_or_needless_content_types() {
    let server = TestServer::start().await;
    let (status, body) = send(
        server
            .client
            .post(server.url(PROFILE))
            .header("AUTHORIZATION", format!("Api-Key {}", server.key))
            .header("Adapty-Customer-User-Id", "MiXeD")
            .header("content-type", "application/json")
            .header("Content-Type", "application/json")
            .body(r#"{"first_name": "A"}"#),
    )
    .await;
    assert_eq!(status, 200, "{body}");

    // Content-Type (even twice) on bodiless GET and DELETE, and an empty body on DELETE.
    for method in [Method::GET, Method::DELETE] {
        let (status, body) = send(
            server
                .profile(method, "MiXeD")
                .header("Content-Type", "application/json")
                .header("Content-Type", "application/json")
                .body(""),
        )
        .await;
        assert!(status.is_success(), "{status} {body}");
    }
    // The customer user id is matched exactly: case matters.
    let (status, _) = send(server.profile(Method::POST, "mixed")).await;
    assert_eq!(status, 200);
    let (_, upper) = send(server.profile(Method::GET, "MIXED")).await;
    assert_eq!(upper["error_code"], "profile_does_not_exist");
}

#[tokio::test]
async fn missing_or_malformed_profile_headers() {
    let server = TestServer::start().await;
    for method in [Method::POST, Method::GET, Method::PATCH, Method::DELETE] {
        let (status, body) = send(server.request(method.clone(), PROFILE)).await;
        assert_error(status, &body, 400, "validation_error");
        assert_eq!(body["errors"][0]["source"], serde_json::Value::Null);
        let message = body["errors"][0]["errors"][0].as_str().unwrap();
        assert!(
            message.contains("adapty-profile-id") && message.contains("adapty-customer-user-id"),
            "{message}"
        );

        let (status, body) = send(
            server
                .request(method, PROFILE)
                .header("adapty-profile-id", "not-a-uuid"),
        )
        .await;
        assert_error(status, &body, 400, "validation_error");
        assert_eq!(error_source(&body), Some("adapty-profile-id"));
    }
    let (_, body) = send(server.request(Method::GET, PROFILE)).await;
    insta::assert_json_snapshot!("missing_profile_headers", body);

    let (status, body) = send(
        server
            .profile(Method::POST, "p")
            .header("adapty-platform", "Symbian"),
    )
    .await;
    assert_error(status, &body, 400, "enum");
    assert_eq!(error_source(&body), Some("adapty-platform"));
    let (status, _) = send(
        server
            .profile(Method::POST, "p")
            .header("adapty-platform", "iOS"),
    )
    .await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn a_customer_user_id_is_exact_but_for_the_spaces_http_strips() {
    let server = TestServer::start().await;
    server.create_profile("victim").await;
    let named = |id: &[u8]| {
        server.request(Method::DELETE, PROFILE).header(
            "adapty-customer-user-id",
            reqwest::header::HeaderValue::from_bytes(id).unwrap(),
        )
    };
    // A no-break space and an ideographic space are part of the id: another user, not found.
    for other in ["victim\u{a0}".as_bytes(), "\u{3000}victim".as_bytes()] {
        let (status, body) = send(named(other)).await;
        assert_error(status, &body, 404, "profile_does_not_exist");
    }
    let (status, _) = send(server.profile(Method::GET, "victim")).await;
    assert_eq!(status, 200, "the profile named exactly is untouched");
    // Spaces and tabs around a header's value are HTTP's, not the id's.
    let (status, _) = send(named(b"victim \t")).await;
    assert_eq!(status, 204);
}

#[tokio::test]
async fn paths_methods_and_sizes() {
    let server = TestServer::start().await;
    // The slash-less spelling is served too.
    let (status, _) = send(
        server
            .request(Method::POST, "/api/v2/server-side-api/profile")
            .header("adapty-customer-user-id", "slashless"),
    )
    .await;
    assert_eq!(status, 200);

    let (status, body) =
        send(server.request(Method::GET, "/api/v2/server-side-api/nothing/")).await;
    assert_error(status, &body, 404, "not_found");
    let (status, body) = send(server.request(Method::PUT, PROFILE)).await;
    assert_error(status, &body, 405, "method_not_allowed");

    // Just under the limit is fine; over it is 413 with the envelope.
    let padding = "x".repeat(1024 * 1024 - 100);
    let (status, body) = send(
        server
            .profile(Method::PATCH, "slashless")
            .json(&json!({"ignored": padding})),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let padding = "x".repeat(1024 * 1024 + 1);
    let (status, body) = send(
        server
            .profile(Method::PATCH, "slashless")
            .json(&json!({"ignored": padding})),
    )
    .await;
    assert_error(status, &body, 413, "payload_too_large");
}
