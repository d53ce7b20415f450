//! Work shared through leases on one PostgreSQL database: two bulk-deletion runners claiming
//! from the same job delete every item exactly once and finish the job once. And how the
//! store's connections plan their statements on the server at hand, and how it reads events
//! an older version stored.
//!
//! Needs PostgreSQL (`ENTITLE_TEST_POSTGRES_URL`, default the local server); `scripts/test`
//! starts it.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use entitle_domain::datetime::Timestamp;
use entitle_domain::events::{RetryPolicy, restore_unknown};
use entitle_domain::keys::ApiSecret;
use entitle_domain::profile::ProfilePatch;
use entitle_domain::resolve::ProfileRef;
use entitle_domain::{CustomerUserId, IntegrationId, KeyId};
use entitle_store::{
    AdminStore, ClaimLimits, DeletionJobStore, DeletionRecordStore, DeliveryStore, EventFeedStore,
    EventQuery, Integration, IntegrationStore, ItemOutcome, JobTarget, NewKey, ProfileStore,
};
use entitle_store_postgres::{PgConfig, PgStore, admin};
use serde_json::{Value, json};
use sqlx::Connection;

struct Database {
    admin: String,
    name: String,
}

impl Database {
    async fn create() -> (Self, String) {
        let admin = std::env::var("ENTITLE_TEST_POSTGRES_URL")
            .ok()
            .filter(|url| !url.is_empty())
            .unwrap_or_else(|| "postgres://postgres@127.0.0.1:5432/postgres".into());
        let name = format!("entitle_test_{}", uuid::Uuid::new_v4().simple());
        admin::create_database(&admin, &name)
            .await
            .unwrap_or_else(|e| panic!("PostgreSQL is needed ({admin}): {e}"));
        let (scheme, rest) = admin.split_once("://").unwrap();
        let authority = rest.split(['/', '?']).next().unwrap();
        let url = format!("{scheme}://{authority}/{name}");
        (Self { admin, name }, url)
    }

    async fn drop(self) {
        admin::drop_database(&self.admin, &self.name).await.unwrap();
    }
}

fn new_key() -> NewKey {
    let secret = ApiSecret::generate(&mut rand::rng());
    NewKey {
        key_id: KeyId::new_random(),
        lookup: secret.lookup().to_owned(),
        secret_hash: secret.hash(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_runners_share_a_job_and_delete_each_item_once() {
    let (database, url) = Database::create().await;
    let store = Arc::new(
        PgStore::open(PgConfig::from_url(&url).unwrap())
            .await
            .unwrap(),
    );
    let now = Timestamp::now();
    let app = store.create_app("runners", new_key(), now).await.unwrap();
    let mut targets = Vec::new();
    for i in 0..40 {
        let cuid = CustomerUserId::parse(&format!("bulk-{i}")).unwrap();
        store
            .create_profile(
                app.app_id,
                ProfileRef::CustomerUserId(cuid.clone()),
                ProfilePatch::default(),
                now,
            )
            .await
            .unwrap();
        targets.push(JobTarget::CustomerUserId(cuid));
    }
    targets.push(JobTarget::CustomerUserId(
        CustomerUserId::parse("nobody").unwrap(),
    ));
    let (job, created) = store
        .create_deletion_job(app.app_id, targets.clone(), now)
        .await
        .unwrap();
    assert!(created);
    let (again, created) = store
        .create_deletion_job(app.app_id, targets, now)
        .await
        .unwrap();
    assert!(!created, "the same list finds the same job");
    assert_eq!(again.job_id, job.job_id);

    let runners = ["runner-a", "runner-b"].map(|name| {
        let store = store.clone();
        tokio::spawn(async move {
            let mut done = Vec::new();
            loop {
                let claimed = store
                    .claim_deletion_items(name, Timestamp::now(), Duration::from_secs(60), 3)
                    .await
                    .unwrap();
                if claimed.is_empty() {
                    return done;
                }
                for item in claimed {
                    let outcome = store
                        .run_deletion_item(&item, Timestamp::now())
                        .await
                        .unwrap()
                        .expect("the claim holds");
                    done.push((item.index, outcome));
                }
            }
        })
    });
    let mut seen = HashSet::new();
    for runner in runners {
        for (index, outcome) in runner.await.unwrap() {
            assert!(seen.insert(index), "item {index} ran twice");
            let expected = if index == 40 {
                ItemOutcome::NotFound
            } else {
                ItemOutcome::Deleted
            };
            assert_eq!(outcome, expected, "item {index}");
        }
    }
    assert_eq!(seen.len(), 41);

    let (job, items) = store
        .get_deletion_job(app.app_id, job.job_id)
        .await
        .unwrap()
        .unwrap();
    assert!(job.finished_at.is_some(), "the last item finishes the job");
    assert_eq!((job.counts.deleted, job.counts.not_found), (40, 1));
    assert_eq!(items.len(), 41);
    let records = store
        .list_deletion_records(app.app_id, None, None, 1000)
        .await
        .unwrap();
    assert_eq!(records.records.len(), 40, "one record per deleted profile");

    store.close().await;
    database.drop().await;
}

/// On a server without autovacuum the store's connections plan each statement afresh: a
/// generic plan made while the tables were small would scan them whole for good. With
/// autovacuum, PostgreSQL's default stands.
#[tokio::test]
async fn connections_plan_afresh_where_autovacuum_is_off() {
    let (database, url) = Database::create().await;
    let store = PgStore::open(PgConfig::from_url(&url).unwrap())
        .await
        .unwrap();
    let planning = store.planning().await.unwrap();
    let expected = if planning.autovacuum {
        "auto"
    } else {
        "force_custom_plan"
    };
    assert_eq!(planning.plan_cache_mode, expected, "{planning:?}");
    store.close().await;
    database.drop().await;
}

/// An event stored before events carried the always-null purchase-context properties (spec
/// §9.4) reads back with them, in the feed and in the body a worker sends; what it did carry is
/// kept as it was.
#[tokio::test]
async fn events_stored_before_the_null_properties_read_back_with_them() {
    let (database, url) = Database::create().await;
    let store = PgStore::open(PgConfig::from_url(&url).unwrap())
        .await
        .unwrap();
    let now = Timestamp::now();
    let app = store.create_app("older", new_key(), now).await.unwrap();
    store
        .add_integration(Integration {
            integration_id: IntegrationId::new_random(),
            app_id: app.app_id,
            url: "http://127.0.0.1:9/hook".into(),
            authorization: None,
            environment: None,
            events: None,
            signing_secret: "whsec_dGVzdA==".into(),
            created_at: now,
            failing_since: None,
        })
        .await
        .unwrap();

    // The row an older version wrote: its payload without the null properties, and its delivery.
    let older = json!({
        "event_type": "subscription_renewed",
        "event_properties": {"store": "app_store", "price_usd": 9.99},
    });
    let mut conn = sqlx::PgConnection::connect(&url).await.unwrap();
    sqlx::query(
        "WITH app AS (SELECT app_pk FROM apps WHERE app_id = $1),
              event AS (
                  INSERT INTO events (app_pk, profile_id, event_seq, event_id, event_type,
                                      created_at, reissued, payload)
                  SELECT app_pk, $2, nextval('event_positions'), $3, 'subscription_renewed',
                         $4, false, $5 FROM app
                  RETURNING app_pk, profile_id, event_seq)
         INSERT INTO deliveries (webhook_id, app_pk, profile_id, event_seq, integration_pk,
                                 status, created_at, next_attempt_at)
         SELECT 'msg_older', e.app_pk, e.profile_id, e.event_seq, i.integration_pk,
                'pending', $4, $4
           FROM event e JOIN integrations i ON i.app_pk = e.app_pk",
    )
    .bind(app.app_id.as_uuid())
    .bind(uuid::Uuid::new_v4())
    .bind(uuid::Uuid::new_v4())
    .bind(now.unix_micros())
    .bind(older.to_string())
    .execute(&mut conn)
    .await
    .unwrap();
    conn.close().await.unwrap();

    let mut expected = older.clone();
    assert!(restore_unknown(&mut expected));
    assert_eq!(expected["event_properties"]["ab_test_name"], Value::Null);
    let page = store
        .list_events(app.app_id, EventQuery::default())
        .await
        .unwrap();
    assert_eq!(page.events.len(), 1);
    assert_eq!(page.events[0].payload, expected);

    let limits = ClaimLimits {
        total: 10,
        per_endpoint: 10,
    };
    let claimed = store
        .claim_deliveries(
            "worker",
            now,
            Duration::from_secs(60),
            limits,
            RetryPolicy::default().cut_offs(now),
        )
        .await
        .unwrap();
    assert_eq!(claimed.len(), 1);
    let sent: Value = serde_json::from_str(&claimed[0].body).unwrap();
    assert_eq!(sent, expected);
    store.close().await;
    database.drop().await;
}
