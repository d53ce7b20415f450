//! Tenancy as a property: random operations by random apps. No key of one app can read,
//! change, delete or learn the existence of another app's profiles, events or deliveries.

use std::collections::HashMap;

use proptest::prelude::*;
use proptest::test_runner::{Config as ProptestConfig, TestRunner};
use reqwest::Method;
use serde_json::json;

use crate::helpers::*;

#[derive(Debug, Clone)]
enum Op {
    Create {
        app: usize,
        user: usize,
    },
    Update {
        app: usize,
        user: usize,
    },
    Delete {
        app: usize,
        user: usize,
    },
    Purchase {
        app: usize,
        user: usize,
    },
    /// App `app` names a profile of app `owner` by its profile id.
    Probe {
        app: usize,
        owner: usize,
        user: usize,
        method: usize,
    },
}

fn op() -> impl Strategy<Value = Op> {
    let (apps, users) = (0usize..3, 0usize..4);
    prop_oneof![
        (apps.clone(), users.clone()).prop_map(|(app, user)| Op::Create { app, user }),
        (apps.clone(), users.clone()).prop_map(|(app, user)| Op::Update { app, user }),
        (apps.clone(), users.clone()).prop_map(|(app, user)| Op::Delete { app, user }),
        (apps.clone(), users.clone()).prop_map(|(app, user)| Op::Purchase { app, user }),
        (apps.clone(), apps, users, 0usize..5).prop_map(|(app, owner, user, method)| Op::Probe {
            app,
            owner,
            user,
            method
        }),
    ]
}

#[test]
fn apps_never_see_each_other() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let server = runtime.block_on(TestServer::start_with(|config| {
        config.rate_limit_per_minute = 0
    }));
    let mut keys = vec![server.key.clone()];
    let mut app_ids = vec![server.app_id.clone()];
    for name in ["b", "c"] {
        let (app, key) = runtime.block_on(server.another_app(name));
        app_ids.push(app);
        keys.push(key);
    }
    let mut runner = TestRunner::new(ProptestConfig {
        cases: 12,
        failure_persistence: None,
        ..ProptestConfig::default()
    });
    let outcome = runner.run(&prop::collection::vec(op(), 10..40), |ops| {
        runtime.block_on(async {
            // The model: which (app, user) profiles exist, with their ids and a marker attribute.
            let mut model: HashMap<(usize, usize), (String, u32)> = HashMap::new();
            let run = uuid::Uuid::new_v4().simple().to_string();
            let cuid = |user: usize| format!("user-{user}-{run}");
            let as_app = |app: usize, method: Method, path: &str| {
                server.request_as(&keys[app], method, path)
            };
            for op in &ops {
                match op.clone() {
                    Op::Create { app, user } => {
                        let (status, body) = send(
                            as_app(app, Method::POST, PROFILE)
                                .header("adapty-customer-user-id", cuid(user)),
                        )
                        .await;
                        prop_assert_eq!(status.as_u16(), 200);
                        let id = body["data"]["profile_id"].as_str().unwrap().to_owned();
                        let marker = model.get(&(app, user)).map_or(0, |(_, m)| *m);
                        model.insert((app, user), (id, marker));
                    }
                    Op::Update { app, user } => {
                        let marker = rand::random::<u32>() % 1000;
                        let body =
                            json!({"custom_attributes": [{"key": "marker", "value": marker}]});
                        let (status, _) = send(
                            as_app(app, Method::PATCH, PROFILE)
                                .header("adapty-customer-user-id", cuid(user))
                                .json(&body),
                        )
                        .await;
                        match model.get_mut(&(app, user)) {
                            Some(entry) => {
                                prop_assert_eq!(status.as_u16(), 200);
                                entry.1 = marker;
                            }
                            None => prop_assert_eq!(status.as_u16(), 404),
                        }
                    }
                    Op::Delete { app, user } => {
                        let (status, _) = send(
                            as_app(app, Method::DELETE, PROFILE)
                                .header("adapty-customer-user-id", cuid(user)),
                        )
                        .await;
                        let expected = if model.remove(&(app, user)).is_some() {
                            204
                        } else {
                            404
                        };
                        prop_assert_eq!(status.as_u16(), expected);
                    }
                    Op::Purchase { app, user } => {
                        let id = format!("{run}-{app}-{user}-{}", rand::random::<u32>());
                        let body = subscription(&id, &id, &days_from_now(-1), &days_from_now(30));
                        let (status, _) = send(
                            as_app(app, Method::POST, SET_TRANSACTION)
                                .header("adapty-customer-user-id", cuid(user))
                                .json(&body),
                        )
                        .await;
                        let expected = if model.contains_key(&(app, user)) {
                            200
                        } else {
                            404
                        };
                        prop_assert_eq!(status.as_u16(), expected);
                    }
                    Op::Probe {
                        app,
                        owner,
                        user,
                        method,
                    } => {
                        let Some((profile_id, _)) = model.get(&(owner, user)).cloned() else {
                            continue;
                        };
                        if app == owner {
                            continue;
                        }
                        let (method, path, body) = [
                            (Method::GET, PROFILE, json!({})),
                            (
                                Method::PATCH,
                                PROFILE,
                                json!({"custom_attributes": [{"key": "marker", "value": 999_999}]}),
                            ),
                            (Method::DELETE, PROFILE, json!({})),
                            (Method::POST, GRANT, json!({"access_level_id": "premium"})),
                            (Method::POST, REVOKE, json!({"access_level_id": "premium"})),
                        ][method]
                            .clone();
                        let (status, answer) = send(
                            as_app(app, method, path)
                                .header("adapty-profile-id", &profile_id)
                                .json(&body),
                        )
                        .await;
                        // Exactly what an id that exists nowhere gets: nothing is revealed.
                        prop_assert_eq!(status.as_u16(), 404, "{}", answer);
                        prop_assert_eq!(&answer["error_code"], "profile_does_not_exist");
                    }
                }
            }
            // Every app sees exactly its own profiles, unchanged by the others.
            for ((app, user), (profile_id, marker)) in &model {
                let (status, body) = send(
                    as_app(*app, Method::GET, PROFILE)
                        .header("adapty-customer-user-id", cuid(*user)),
                )
                .await;
                prop_assert_eq!(status.as_u16(), 200);
                prop_assert_eq!(
                    body["data"]["profile_id"].as_str().unwrap(),
                    profile_id.as_str()
                );
                if *marker != 0 {
                    prop_assert_eq!(
                        &body["data"]["custom_attributes"][0]["value"],
                        &json!(f64::from(*marker))
                    );
                }
                for other in 0..keys.len() {
                    if other != *app && !model.contains_key(&(other, *user)) {
                        let (status, _) = send(
                            as_app(other, Method::GET, PROFILE)
                                .header("adapty-customer-user-id", cuid(*user)),
                        )
                        .await;
                        prop_assert_eq!(status.as_u16(), 404);
                    }
                }
            }
            // Each app's feed holds only its own profiles' events.
            for (app, app_id) in app_ids.iter().enumerate() {
                let feed = send(server.admin(
                    Method::GET,
                    &format!("/admin/v1/apps/{app_id}/events?limit=500"),
                ))
                .await
                .1;
                let others: Vec<&String> = model
                    .iter()
                    .filter(|((a, _), _)| *a != app)
                    .map(|(_, (id, _))| id)
                    .collect();
                for event in feed["data"].as_array().unwrap() {
                    let id = event["profile_id"].as_str().unwrap().to_owned();
                    prop_assert!(
                        !others.contains(&&id),
                        "app {} sees another app's event",
                        app
                    );
                }
            }
            Ok(())
        })
    });
    if let Err(failure) = outcome {
        panic!("{failure}");
    }
    // App keys never open the admin API.
    for key in &keys {
        let (status, _) = runtime.block_on(send(server.request_as(
            key,
            Method::GET,
            &format!("/admin/v1/apps/{}/events", app_ids[0]),
        )));
        assert_eq!(status, 401);
    }
}
