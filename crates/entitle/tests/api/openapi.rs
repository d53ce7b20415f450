//! `/openapi.json` is pinned by a snapshot and lists every endpoint served; `/docs` renders it
//! with entitle's own assets.

use reqwest::Method;
use serde_json::Value;

use crate::helpers::*;

#[tokio::test]
async fn the_openapi_document_lists_every_endpoint() {
    let server = TestServer::start().await;
    let (status, document) = send(server.client.get(server.url("/openapi.json"))).await;
    assert_eq!(status, 200);
    assert_eq!(document["openapi"], "3.1.0");
    let paths = document["paths"].as_object().unwrap();
    let expected = [
        (
            "/api/v2/server-side-api/profile/",
            vec!["post", "get", "patch", "delete"],
        ),
        (
            "/api/v2/server-side-api/purchase/set/transaction/",
            vec!["post"],
        ),
        (
            "/api/v2/server-side-api/purchase/profile/grant/access-level/",
            vec!["post"],
        ),
        (
            "/api/v2/server-side-api/purchase/profile/revoke/access-level/",
            vec!["post"],
        ),
        ("/admin/v1/apps/{app_id}/events", vec!["get"]),
        ("/metrics", vec!["get"]),
        ("/healthz", vec!["get"]),
        ("/readyz", vec!["get"]),
        ("/openapi.json", vec!["get"]),
        ("/docs", vec!["get"]),
        ("/docs/docs.js", vec!["get"]),
        ("/docs/docs.css", vec!["get"]),
    ];
    for (path, methods) in expected {
        let item = paths
            .get(path)
            .unwrap_or_else(|| panic!("{path} is missing"));
        for method in methods {
            assert!(item.get(method).is_some(), "{method} {path} is missing");
        }
    }
    // Every documented operation is really served (no 404 for a documented path).
    for path in paths.keys() {
        let concrete = path.replace("{app_id}", &server.app_id);
        let response = server.admin(Method::GET, &concrete).send().await.unwrap();
        assert_ne!(
            response.status(),
            404,
            "{path} is documented but not served"
        );
    }
    let operation_ids: Vec<&str> = paths
        .values()
        .flat_map(|item| item.as_object().unwrap().values())
        .filter_map(|op| op["operationId"].as_str())
        .collect();
    for id in [
        "createProfile",
        "getProfile",
        "updateProfile",
        "deleteProfile",
        "setTransaction",
        "grantAccessLevel",
        "revokeAccessLevel",
    ] {
        assert!(operation_ids.contains(&id), "{id}");
    }
    // A custom attribute's value is a string or a number (and `null` to delete it, when sent).
    let schemas = &document["components"]["schemas"];
    for (schema, expected) in [
        ("CustomAttribute", vec!["string", "number", "null"]),
        ("CustomAttributeBody", vec!["string", "number"]),
    ] {
        let types: Vec<&str> = schemas[schema]["properties"]["value"]["type"]
            .as_array()
            .unwrap_or_else(|| panic!("{schema}.value has no list of types"))
            .iter()
            .filter_map(Value::as_str)
            .collect();
        assert_eq!(types, expected, "{schema}.value");
    }
    let mut pinned = document.clone();
    pinned["info"]["version"] = Value::String("[version]".into());
    insta::assert_json_snapshot!("openapi", pinned);
}

#[tokio::test]
async fn the_docs_page_uses_only_its_own_assets() {
    let server = TestServer::start().await;
    let page = server.client.get(server.url("/docs")).send().await.unwrap();
    assert_eq!(page.status(), 200);
    assert!(
        page.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    let html = page.text().await.unwrap();
    assert!(html.contains("/docs/docs.js") && html.contains("/docs/docs.css"));
    assert!(
        !html.contains("http://") && !html.contains("https://"),
        "no external assets"
    );
    for (path, kind) in [("/docs/docs.js", "javascript"), ("/docs/docs.css", "css")] {
        let asset = server.client.get(server.url(path)).send().await.unwrap();
        assert_eq!(asset.status(), 200);
        assert!(
            asset.headers()["content-type"]
                .to_str()
                .unwrap()
                .contains(kind)
        );
        let text = asset.text().await.unwrap();
        assert!(
            !text.contains("https://"),
            "{path} loads nothing from elsewhere"
        );
    }
}

#[tokio::test]
async fn metrics_and_health() {
    let server = TestServer::start().await;
    server.create_profile("measured").await;
    send(server.profile(Method::DELETE, "measured")).await;
    let (status, health) = send(server.client.get(server.url("/healthz"))).await;
    assert_eq!(status, 200);
    assert_eq!(health["status"], "ok");
    let metrics = server
        .client
        .get(server.url("/metrics"))
        .send()
        .await
        .unwrap();
    assert_eq!(metrics.status(), 200);
    assert!(
        metrics.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain")
    );
    let text = metrics.text().await.unwrap();
    for name in [
        "entitle_http_requests_total{",
        "entitle_http_request_duration_seconds_bucket{",
        "entitle_profiles_deleted_total",
    ] {
        assert!(text.contains(name), "{name} missing from /metrics");
    }
    assert!(text.contains("route=\"/api/v2/server-side-api/profile/\""));
    assert!(text.contains("status=\"204\""));
}
