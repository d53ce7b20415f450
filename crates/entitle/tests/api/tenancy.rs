//! A key of app A never sees or touches app B's profiles (issue 2, point 5).

use reqwest::Method;
use serde_json::json;

use crate::helpers::*;

#[tokio::test]
async fn apps_are_isolated() {
    let server = TestServer::start().await;
    let (b_app, b_key) = server.another_app("b").await;

    let (_, a_profile) = send(
        server
            .profile(Method::POST, "shared-cuid")
            .json(&json!({"custom_attributes": [{"key": "owner", "value": "a"}]})),
    )
    .await;
    let (status, b_profile) = send(
        server
            .request_as(&b_key, Method::POST, PROFILE)
            .header("adapty-customer-user-id", "shared-cuid"),
    )
    .await;
    assert_eq!(status, 200);
    // The same customer user id in two apps is two profiles.
    assert_ne!(
        a_profile["data"]["profile_id"],
        b_profile["data"]["profile_id"]
    );
    assert_eq!(b_profile["data"]["app_id"], b_app.as_str());
    assert_eq!(b_profile["data"]["custom_attributes"], json!([]));

    // B cannot read, change or delete A's profile by its id.
    let a_id = a_profile["data"]["profile_id"].as_str().unwrap();
    for method in [Method::GET, Method::PATCH, Method::DELETE] {
        let (status, body) = send(
            server
                .request_as(&b_key, method, PROFILE)
                .header("adapty-profile-id", a_id)
                .json(&json!({"custom_attributes": [{"key": "owner", "value": "b"}]})),
        )
        .await;
        assert_error(status, &body, 404, "profile_does_not_exist");
    }
    // Deleting B's profile leaves A's untouched.
    let (status, _) = send(
        server
            .request_as(&b_key, Method::DELETE, PROFILE)
            .header("adapty-customer-user-id", "shared-cuid"),
    )
    .await;
    assert_eq!(status, 204);
    let (status, a_again) = send(server.profile(Method::GET, "shared-cuid")).await;
    assert_eq!(status, 200);
    assert_eq!(
        a_again["data"]["custom_attributes"],
        json!([{"key": "owner", "value": "a"}])
    );
}
