//! 401 `not_authenticated` for a missing, malformed, unknown or revoked key (spec §2.2).

use reqwest::Method;

use crate::helpers::*;

#[tokio::test]
async fn every_bad_key_is_401_not_authenticated() {
    let server = TestServer::start().await;
    let unknown = "secret_live_AAAAAAAA.BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB";
    let wrong_secret = format!("{}.{}", &server.key[..20], "C".repeat(32));
    let cases: Vec<(&str, Option<String>)> = vec![
        ("missing", None),
        ("empty", Some(String::new())),
        ("no scheme", Some(server.key.clone())),
        ("bearer scheme", Some(format!("Bearer {}", server.key))),
        ("malformed secret", Some("Api-Key secret_live_short".into())),
        (
            "public key",
            Some("Api-Key public_live_BEHrYLTr.ce5zuDEWz06lFRNiaJC8mrLtL8fUwswD".into()),
        ),
        ("unknown key", Some(format!("Api-Key {unknown}"))),
        (
            "right lookup, wrong secret",
            Some(format!("Api-Key {wrong_secret}")),
        ),
    ];
    for method in [Method::POST, Method::GET, Method::PATCH, Method::DELETE] {
        for (case, header) in &cases {
            let mut request = server
                .client
                .request(method.clone(), server.url(PROFILE))
                .header("adapty-customer-user-id", "someone");
            if let Some(header) = header {
                request = request.header("Authorization", header);
            }
            let response = request.send().await.unwrap();
            assert!(response.headers().contains_key("request-id"), "{case}");
            let status = response.status();
            let body: serde_json::Value = response.json().await.unwrap();
            assert_error(status, &body, 401, "not_authenticated");
            assert_eq!(error_source(&body), Some("non_field_errors"), "{case}");
        }
    }
    let (status, body) = send(
        server
            .client
            .get(server.url(PROFILE))
            .header("adapty-customer-user-id", "x"),
    )
    .await;
    assert_error(status, &body, 401, "not_authenticated");
    insta::assert_json_snapshot!("unauthenticated", body);
}

#[tokio::test]
async fn the_scheme_is_case_insensitive() {
    let server = TestServer::start().await;
    let (status, _) = send(
        server
            .client
            .post(server.url(PROFILE))
            .header("authorization", format!("api-key {}", server.key))
            .header("ADAPTY-CUSTOMER-USER-ID", "case"),
    )
    .await;
    assert_eq!(status, 200);
}

/// A GET reads the key and the profile in one trip to the store; it must still judge the key
/// first: a bad key is 401 whatever the profile headers say, a good key with bad headers is
/// 400, and a profile is never answered to a secret that does not match its key.
#[tokio::test]
async fn a_get_judges_the_key_before_the_profile() {
    let server = TestServer::start().await;
    let (status, created) = send(
        server
            .request(Method::POST, PROFILE)
            .header("adapty-customer-user-id", "judged"),
    )
    .await;
    assert_eq!(status, 200, "{created}");
    let profile_id = created["data"]["profile_id"].as_str().unwrap().to_owned();
    let wrong_secret = format!("{}.{}", &server.key[..20], "C".repeat(32));

    // The right lookup part, the wrong secret, an existing profile: 401 and nothing of it.
    let (status, body) = send(
        server
            .request_as(&wrong_secret, Method::GET, PROFILE)
            .header("adapty-customer-user-id", "judged"),
    )
    .await;
    assert_error(status, &body, 401, "not_authenticated");
    assert!(!body.to_string().contains(&profile_id), "{body}");

    // A bad key with bad profile headers: the key is reported.
    for headers in [vec![], vec![("adapty-profile-id", "not-a-uuid")]] {
        let mut request = server.request_as(&wrong_secret, Method::GET, PROFILE);
        for (name, value) in &headers {
            request = request.header(*name, *value);
        }
        let (status, body) = send(request).await;
        assert_error(status, &body, 401, "not_authenticated");
    }

    // A good key with bad profile headers: the headers are reported.
    let (status, body) = send(server.request(Method::GET, PROFILE)).await;
    assert_error(status, &body, 400, "validation_error");
    let (status, body) = send(
        server
            .request(Method::GET, PROFILE)
            .header("adapty-profile-id", "not-a-uuid"),
    )
    .await;
    assert_error(status, &body, 400, "validation_error");
    assert_eq!(error_source(&body), Some("adapty-profile-id"), "{body}");

    // And the good key reads the profile, by either header.
    for (name, value) in [
        ("adapty-customer-user-id", "judged"),
        ("adapty-profile-id", profile_id.as_str()),
    ] {
        let (status, body) = send(server.request(Method::GET, PROFILE).header(name, value)).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["data"]["profile_id"], profile_id.as_str());
    }
}
