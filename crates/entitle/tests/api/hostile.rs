//! Hostile input, generated: wrong types, huge strings, deep nesting, invalid UTF-8, bad dates,
//! missing and duplicated headers, oversized bodies, unknown paths and methods. Every answer is
//! the documented envelope with the right status; never a 5xx; the server stays responsive.

use proptest::prelude::*;
use proptest::test_runner::{Config as ProptestConfig, TestRunner};
use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::*;

#[derive(Debug, Clone)]
struct Hostile {
    method: Method,
    path: String,
    auth: Option<String>,
    headers: Vec<(String, Vec<u8>)>,
    body: Option<Vec<u8>>,
}

const FIELDS: &[&str] = &[
    "first_name",
    "email",
    "gender",
    "birthday",
    "att_status",
    "custom_attributes",
    "installation_meta",
    "store",
    "ip_country",
    "analytics_disabled",
    "purchase_type",
    "store_product_id",
    "store_transaction_id",
    "store_original_transaction_id",
    "price",
    "purchased_at",
    "expires_at",
    "renew_status",
    "offer",
    "access_level_id",
    "starts_at",
    "revoke_at",
    "refunded_at",
    "cancellation_reason",
];

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(|f| json!(f)),
        ".{0,40}".prop_map(Value::String),
        (1usize..200_000).prop_map(|n| Value::String("x".repeat(n))),
        Just(json!("2024-13-45T99:99:99Z")),
        Just(json!("0000-00-00")),
        Just(json!("\u{0000}\u{ffff}")),
    ];
    leaf.prop_recursive(4, 64, 8, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::vec((prop::sample::select(FIELDS), inner), 0..6).prop_map(|pairs| {
                Value::Object(pairs.into_iter().map(|(k, v)| (k.to_owned(), v)).collect())
            }),
        ]
    })
}

fn body() -> impl Strategy<Value = Option<Vec<u8>>> {
    prop_oneof![
        Just(None),
        json_value().prop_map(|v| Some(v.to_string().into_bytes())),
        prop::collection::vec((prop::sample::select(FIELDS), json_value()), 0..8).prop_map(
            |pairs| {
                let object: serde_json::Map<String, Value> =
                    pairs.into_iter().map(|(k, v)| (k.to_owned(), v)).collect();
                Some(Value::Object(object).to_string().into_bytes())
            }
        ),
        prop::collection::vec(any::<u8>(), 0..512).prop_map(Some),
        (1usize..5000).prop_map(|depth| Some(
            format!("{}{}", "[".repeat(depth), "]".repeat(depth)).into_bytes()
        )),
        (1usize..3000).prop_map(|depth| Some(
            format!("{}1{}", "{\"a\":".repeat(depth), "}".repeat(depth)).into_bytes()
        )),
        Just(Some(vec![
            b'{', b'"', b'e', b'm', b'a', b'i', b'l', b'"', b':', b'"', 0xc3, 0x28, b'"', b'}'
        ])),
        Just(Some(vec![b'x'; 1024 * 1024 + 10])),
    ]
}

fn header_value() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        Just(b"user-1".to_vec()),
        Just(b"4f1e2d3c-b5a6-4978-8a9b-0c1d2e3f4a5b".to_vec()),
        Just(b"not-a-uuid".to_vec()),
        Just(vec![0xff, 0xfe, 0x80]),
        Just(Vec::new()),
        (1usize..4000).prop_map(|n| vec![b'a'; n]),
        "[ -~]{0,60}".prop_map(String::into_bytes),
    ]
}

fn hostile(key: String, app_id: String) -> impl Strategy<Value = Hostile> {
    let methods = prop::sample::select(vec![
        Method::GET,
        Method::POST,
        Method::PATCH,
        Method::DELETE,
        Method::PUT,
        Method::OPTIONS,
    ]);
    let paths = prop_oneof![
        Just(PROFILE.to_owned()),
        Just(SET_TRANSACTION.to_owned()),
        Just(GRANT.to_owned()),
        Just(REVOKE.to_owned()),
        Just("/api/v2/server-side-api/profile".to_owned()),
        Just(format!(
            "/admin/v1/apps/{app_id}/events?limit=abc&cursor=%FF"
        )),
        Just("/admin/v1/apps/not-a-uuid/events".to_owned()),
        Just("/api/v2/server-side-api/unknown/".to_owned()),
        "/[a-z0-9/]{0,30}".prop_map(|p| p),
    ];
    let auth = prop_oneof![
        Just(Some(format!("Api-Key {key}"))),
        Just(None),
        Just(Some(format!("Bearer {ADMIN_TOKEN}"))),
        "[ -~]{0,80}".prop_map(Some),
    ];
    let header_names = prop::sample::select(vec![
        "adapty-profile-id",
        "adapty-customer-user-id",
        "adapty-platform",
        "content-type",
    ]);
    let headers =
        prop::collection::vec((header_names.prop_map(str::to_owned), header_value()), 0..5);
    (methods, paths, auth, headers, body()).prop_map(|(method, path, auth, headers, body)| {
        Hostile {
            method,
            path,
            auth,
            headers,
            body,
        }
    })
}

#[test]
fn hostile_requests_get_the_envelope_and_never_a_5xx() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let server = runtime.block_on(TestServer::start_with(|config| {
        config.rate_limit_per_minute = 0
    }));
    runtime.block_on(server.create_profile("user-1"));
    let mut runner = TestRunner::new(ProptestConfig {
        cases: 400,
        failure_persistence: None,
        ..ProptestConfig::default()
    });
    let strategy = hostile(server.key.clone(), server.app_id.clone());
    let outcome = runner.run(&strategy, |request| {
        let (status, body) = runtime
            .block_on(async {
                let mut builder = server
                    .client
                    .request(request.method.clone(), server.url(&request.path));
                if let Some(auth) = &request.auth
                    && let Ok(value) = reqwest::header::HeaderValue::from_str(auth)
                {
                    builder = builder.header("Authorization", value);
                }
                for (name, value) in &request.headers {
                    if let Ok(value) = reqwest::header::HeaderValue::from_bytes(value) {
                        builder = builder.header(name.as_str(), value);
                    }
                }
                if let Some(body) = &request.body {
                    builder = builder.body(body.clone());
                }
                match builder.send().await {
                    Ok(response) => {
                        let status = response.status().as_u16();
                        Ok((status, response.bytes().await.unwrap_or_default()))
                    }
                    Err(error) => Err(format!("{error:?}")),
                }
            })
            .map_err(|error| {
                TestCaseError::fail(format!(
                    "no answer ({error}) to {} {} with a {}-byte body",
                    request.method,
                    request.path,
                    request.body.as_ref().map_or(0, Vec::len)
                ))
            })?;
        prop_assert!(
            status < 500,
            "{status} for {:?} {}",
            request.method,
            request.path
        );
        if status == 204 {
            prop_assert!(body.is_empty());
            return Ok(());
        }
        let parsed: Value = serde_json::from_slice(&body).map_err(|_| {
            TestCaseError::fail(format!(
                "{status}: not JSON: {}",
                String::from_utf8_lossy(&body)
            ))
        })?;
        if status >= 400 {
            prop_assert_eq!(&parsed["status_code"], &json!(status));
            prop_assert!(parsed["error_code"].is_string());
            prop_assert!(parsed["errors"][0]["errors"][0].is_string());
        }
        Ok(())
    });
    if let Err(failure) = outcome {
        panic!("{failure}");
    }
    // Still responsive, and still correct (the run may well have deleted `user-1`).
    runtime.block_on(server.create_profile("after-the-storm"));
    let (status, body) = runtime.block_on(send(server.profile(Method::GET, "after-the-storm")));
    assert_eq!(status, 200, "{body}");
}
