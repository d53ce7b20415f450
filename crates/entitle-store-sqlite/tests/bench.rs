//! The bench helpers: seeding writes profiles the store reads back as it would have written
//! them, and the ceilings run the store's own delete and get on a copy.

use entitle_domain::datetime::Timestamp;
use entitle_domain::keys::SecretHash;
use entitle_domain::profile::ProfilePatch;
use entitle_domain::purchase::{Environment, Price, PurchaseType, StoreId, Transaction};
use entitle_domain::resolve::ProfileRef;
use entitle_domain::{CustomerUserId, KeyId};
use entitle_store::{AdminStore, NewKey, ProfileStore, StoreError};
use entitle_store_sqlite::bench::{SeedProfile, copy_database, delete_ceiling, get_ceiling, seed};
use entitle_store_sqlite::{SqliteConfig, SqliteStore};

const DAY: i64 = 86_400_000_000;

fn renewal(index: usize, number: i64, at: Timestamp) -> Transaction {
    let purchased_at = at.plus_micros((number - 2) * 30 * DAY);
    Transaction {
        purchase_type: PurchaseType::Subscription,
        store: StoreId::parse("app_store").unwrap(),
        environment: Environment::Production,
        store_product_id: "pro.monthly".into(),
        store_transaction_id: format!("t-{index}-{number}"),
        store_original_transaction_id: format!("t-{index}-0"),
        is_family_shared: false,
        price: Price {
            country: "US".into(),
            currency: "USD".into(),
            value: 9.99,
        },
        purchased_at,
        originally_purchased_at: at.plus_micros(-60 * DAY),
        expires_at: Some(purchased_at.plus_micros(31 * DAY)),
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

fn cuid(index: usize) -> CustomerUserId {
    CustomerUserId::parse(&format!("seeded-{index}")).unwrap()
}

fn by_cuid(index: usize) -> ProfileRef {
    ProfileRef::CustomerUserId(cuid(index))
}

#[tokio::test]
async fn seeded_profiles_read_back_and_the_ceilings_run_the_stores_own_sql() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("seeded.db");
    let at = Timestamp::now();
    let key = NewKey {
        key_id: KeyId::new_random(),
        lookup: "lookup".into(),
        secret_hash: SecretHash([7; 32]),
    };
    let key_id = key.key_id;
    let store = SqliteStore::open(SqliteConfig::new(&path)).unwrap();
    let app = store.create_app("bench", key, at).await.unwrap().app_id;
    store.close().await;

    let plan = (0..5).map(|index| SeedProfile {
        customer_user_id: cuid(index),
        patch: ProfilePatch::default(),
        transactions: (0..3).map(|number| renewal(index, number, at)).collect(),
    });
    let mut reported = Vec::new();
    let counts = seed(&path, app, plan, at, 2, &mut |n| reported.push(n)).unwrap();
    assert_eq!(counts.profiles, 5);
    assert!(counts.events >= 5 * 3, "each transaction has its event");
    assert_eq!(reported, vec![2, 4, 5], "progress after each commit");

    let store = SqliteStore::open(SqliteConfig::new(&path)).unwrap();
    let profile = store.get_profile(app, by_cuid(3)).await.unwrap();
    let subscriptions = &profile.purchases.subscriptions;
    assert_eq!(subscriptions.len(), 1, "three transactions, one chain");
    assert_eq!(subscriptions[0].transaction.store_transaction_id, "t-3-2");
    assert_eq!(profile.purchases.active_levels(at), vec!["premium"]);
    store.close().await;

    let copy = dir.path().join("copy.db");
    copy_database(&path, &copy).unwrap();
    let targets: Vec<CustomerUserId> = (0..5).map(cuid).collect();
    let gets = get_ceiling(&copy, app, &targets, 2, 2).unwrap();
    assert_eq!((gets.gets, gets.threads), (5, 2));
    let deletes = delete_ceiling(&copy, app, key_id, &targets, 2).unwrap();
    assert_eq!(deletes.deletes, 5);
    assert!(deletes.wal_frames > 0, "durable deletes write pages");
    assert!(deletes.per_second() > 0.0);

    let copied = SqliteStore::open(SqliteConfig::new(&copy)).unwrap();
    assert!(matches!(
        copied.get_profile(app, by_cuid(3)).await,
        Err(StoreError::ProfileNotFound)
    ));
    copied.close().await;
    let original = SqliteStore::open(SqliteConfig::new(&path)).unwrap();
    assert!(
        original.get_profile(app, by_cuid(3)).await.is_ok(),
        "the original is untouched"
    );
    original.close().await;
    let again = delete_ceiling(&copy, app, key_id, &targets[..1], 1);
    assert!(
        matches!(again, Err(StoreError::ProfileNotFound)),
        "a missing profile fails the ceiling as it would fail a request"
    );
}
