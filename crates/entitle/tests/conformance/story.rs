//! The first half of the story: apps and keys, profiles, purchases, grants and revokes, and
//! delete → detach → reassign, with the feed that tells it.

use entitle_domain::datetime::Timestamp;
use entitle_domain::events::EventType;
use entitle_domain::profile::{
    CustomAttributeChange, CustomAttributeKey, CustomAttributeValue, Email, Patch, ProfilePatch,
};
use entitle_domain::purchase::{
    AccessLevelId, Environment, GrantRequest, Price, PurchaseType, RevokeRequest, StoreId,
    Transaction,
};
use entitle_domain::resolve::ProfileRef;
use entitle_domain::{AppId, CustomerUserId, IntegrationId, KeyId};
use entitle_store::{DeletionReport, EventQuery, Integration, Store, StoreError};

/// What the second half needs from the first.
pub struct Told {
    pub app_id: AppId,
    pub key_id: KeyId,
    pub deletion: DeletionReport,
    /// The time of the story's last write.
    pub later: Timestamp,
}

pub const DAY: i64 = 86_400_000_000;

pub fn user(cuid: &str) -> ProfileRef {
    ProfileRef::CustomerUserId(CustomerUserId::parse(cuid).unwrap())
}

pub fn monthly(id: &str, purchased_at: Timestamp) -> Transaction {
    Transaction {
        purchase_type: PurchaseType::Subscription,
        store: StoreId::parse("app_store").unwrap(),
        environment: Environment::Production,
        store_product_id: "pro.monthly".into(),
        store_transaction_id: id.into(),
        store_original_transaction_id: "chain-1".into(),
        is_family_shared: false,
        price: Price {
            country: "US".into(),
            currency: "USD".into(),
            value: 9.99,
        },
        purchased_at,
        originally_purchased_at: purchased_at,
        expires_at: Some(purchased_at.plus_micros(30 * DAY)),
        renew_status: true,
        renew_status_changed_at: None,
        billing_issue_detected_at: None,
        grace_period_expires_at: None,
        variation_id: None,
        offer: None,
        refunded_at: None,
        cancellation_reason: None,
    }
}

/// Event types of a profile's feed, oldest first, `*` marking reissued ones.
pub async fn feed_of(store: &dyn Store, app: entitle_domain::AppId, cuid: &str) -> Vec<String> {
    let query = EventQuery {
        customer_user_id: Some(CustomerUserId::parse(cuid).unwrap()),
        limit: 500,
        ..EventQuery::default()
    };
    let page = store.list_events(app, query).await.unwrap();
    let mut types: Vec<String> = page
        .events
        .iter()
        .map(|e| {
            format!(
                "{}{}",
                e.event_type.as_str(),
                if e.reissued { "*" } else { "" }
            )
        })
        .collect();
    types.reverse();
    types
}

/// The story; returns what it observed, for comparing backends.
pub async fn profiles_and_purchases(store: &dyn Store, seen: &mut Vec<String>) -> Told {
    let now = Timestamp::now();

    // Apps and keys.
    let (key, _secret) = entitle::cli::keys::new_key();
    let lookup = key.lookup.clone();
    let app = store.create_app("conformance", key, now).await.unwrap();
    let found = store.find_key(&lookup).await.unwrap().expect("the key");
    assert_eq!((found.app_id, found.revoked), (app.app_id, false));
    let (second, _) = entitle::cli::keys::new_key();
    let second_lookup = second.lookup.clone();
    let second = store.create_key(app.app_id, second, now).await.unwrap();
    let revoked = store.revoke_key(second.key_id, now).await.unwrap();
    assert!(revoked.revoked_at.is_some());
    assert!(
        store
            .find_key(&second_lookup)
            .await
            .unwrap()
            .unwrap()
            .revoked
    );
    assert_eq!(store.list_apps().await.unwrap(), vec![app.clone()]);
    let app_id = app.app_id;

    // An integration that wants every event.
    store
        .add_integration(Integration {
            integration_id: IntegrationId::new_random(),
            app_id,
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

    // Profiles: get-or-create, update, read.
    let patch = ProfilePatch {
        email: Patch::Set(Email::parse("alice@example.org").unwrap()),
        custom_attributes: vec![CustomAttributeChange {
            key: CustomAttributeKey::parse("plan").unwrap(),
            value: Some(CustomAttributeValue::String("free".into())),
        }],
        ..ProfilePatch::default()
    };
    let alice = store
        .create_profile(app_id, user("alice"), patch, now)
        .await
        .unwrap();
    let again = store
        .create_profile(app_id, user("alice"), ProfilePatch::default(), now)
        .await
        .unwrap();
    assert_eq!(again.profile_id, alice.profile_id, "get-or-create");
    let updated = store
        .update_profile(
            app_id,
            user("alice"),
            ProfilePatch {
                first_name: Patch::Set("Alice".into()),
                ..ProfilePatch::default()
            },
            now,
        )
        .await
        .unwrap();
    assert_eq!(updated.attributes.first_name.as_deref(), Some("Alice"));
    let read = store.get_profile(app_id, user("alice")).await.unwrap();
    assert_eq!(read.attributes, updated.attributes);
    assert_eq!(read.attributes.custom_attributes.len(), 1);

    // A GET's single trip: the key, and the profile only for a live key.
    let keyed = store
        .get_profile_by_key(&lookup, user("alice"))
        .await
        .unwrap();
    assert_eq!(
        keyed.key.map(|k| (k.app_id, k.revoked)),
        Some((app_id, false))
    );
    let through_key = keyed.profile.expect("read for a live key").unwrap();
    assert_eq!(
        (through_key.profile_id, through_key.attributes),
        (read.profile_id, read.attributes.clone())
    );
    let keyed = store
        .get_profile_by_key(&lookup, user("nobody"))
        .await
        .unwrap();
    assert!(matches!(
        keyed.profile,
        Some(Err(StoreError::ProfileNotFound))
    ));
    let keyed = store
        .get_profile_by_key(&second_lookup, user("alice"))
        .await
        .unwrap();
    assert!(keyed.key.unwrap().revoked);
    assert!(keyed.profile.is_none(), "nothing is read for a revoked key");
    let keyed = store
        .get_profile_by_key("AAAAAAAA", user("alice"))
        .await
        .unwrap();
    assert!(keyed.key.is_none() && keyed.profile.is_none());

    // A purchase, and a grant and a revoke on another profile.
    let bought = store
        .set_transaction(app_id, user("alice"), monthly("t-1", now), now)
        .await
        .unwrap();
    seen.push(format!(
        "alice levels {:?}",
        bought.purchases.active_levels(now)
    ));
    store
        .create_profile(app_id, user("bob"), ProfilePatch::default(), now)
        .await
        .unwrap();
    let granted = store
        .grant_access_level(
            app_id,
            user("bob"),
            GrantRequest {
                access_level_id: AccessLevelId::premium(),
                starts_at: None,
                expires_at: None,
            },
            now,
        )
        .await
        .unwrap();
    seen.push(format!(
        "bob granted {:?}",
        granted.purchases.active_levels(now)
    ));
    let gold = AccessLevelId::parse("gold").unwrap();
    let refused = store
        .grant_access_level(
            app_id,
            user("bob"),
            GrantRequest {
                access_level_id: gold,
                starts_at: None,
                expires_at: None,
            },
            now,
        )
        .await;
    assert!(matches!(refused, Err(StoreError::AccessLevelNotFound(_))));
    let revoked = store
        .revoke_access_level(
            app_id,
            user("bob"),
            RevokeRequest {
                access_level_id: AccessLevelId::premium(),
                revoke_at: None,
            },
            now,
        )
        .await
        .unwrap();
    seen.push(format!(
        "bob revoked {:?}",
        revoked.purchases.active_levels(now)
    ));

    // Delete: the chain detaches, the events leave, a record is written.
    let report = store
        .delete_profile(app_id, user("alice"), found.key_id, now)
        .await
        .unwrap();
    assert_eq!(report.profile_id, alice.profile_id);
    assert_eq!(report.counts.chains_detached, 1);
    assert!(report.counts.events_removed > 0);
    seen.push(format!("deletion {:?}", report.counts));
    let gone = store.get_profile(app_id, user("alice")).await;
    assert!(matches!(gone, Err(StoreError::ProfileNotFound)));
    let twice = store
        .delete_profile(app_id, user("alice"), found.key_id, now)
        .await;
    assert!(matches!(twice, Err(StoreError::ProfileNotFound)));

    // Reassignment: the chain's next transaction from carol attaches the whole history to her.
    store
        .create_profile(app_id, user("carol"), ProfilePatch::default(), now)
        .await
        .unwrap();
    let later = now.plus_micros(DAY);
    let carol = store
        .set_transaction(app_id, user("carol"), monthly("t-2", later), later)
        .await
        .unwrap();
    assert_eq!(carol.purchases.subscriptions.len(), 1);
    seen.push(format!(
        "carol revenue {:.2}",
        carol.purchases.total_revenue_usd
    ));
    seen.push(format!(
        "carol feed {:?}",
        feed_of(store, app_id, "carol").await
    ));
    seen.push(format!(
        "bob feed {:?}",
        feed_of(store, app_id, "bob").await
    ));
    let whole = store
        .list_events(
            app_id,
            EventQuery {
                limit: 500,
                ..EventQuery::default()
            },
        )
        .await
        .unwrap();
    let deleted: Vec<_> = whole
        .events
        .iter()
        .filter(|e| e.profile_id == alice.profile_id)
        .map(|e| e.event_type)
        .collect();
    assert_eq!(
        deleted,
        [EventType::ProfileDeleted],
        "only the deletion notice"
    );
    assert!(
        !serde_json::to_string(&whole.events.iter().map(|e| &e.payload).collect::<Vec<_>>())
            .unwrap()
            .contains("alice@example.org")
    );

    Told {
        app_id,
        key_id: found.key_id,
        deletion: report,
        later,
    }
}
