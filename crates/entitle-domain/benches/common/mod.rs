//! Purchases shaped like the bench's seeded profiles (`entitle bench`): monthly subscriptions
//! renewed in one chain per store purchase.

#![allow(dead_code)] // Each bench target uses part of it.

use entitle_domain::ProfileId;
use entitle_domain::datetime::Timestamp;
use entitle_domain::profile::{Profile, ProfileAttributes};
use entitle_domain::purchase::{
    AccessLevelId, AccessOverride, Chain, ChainForProfile, ChainKey, ChainTransaction, Environment,
    GrantRequest, Price, ProfileAccessView, PurchaseType, StoreId, Transaction, apply_grant,
    derive_view,
};

const DAY: i64 = 86_400_000_000;

pub fn now() -> Timestamp {
    Timestamp::from_unix_micros(1_780_000_000_000_000)
}

/// Transaction `number` of chain `chain`: 30-day periods, the last one running now.
pub fn transaction(chain: usize, number: usize, of: usize) -> ChainTransaction {
    let purchased_at = now().plus_micros((number as i64 - of as i64) * 30 * DAY + 15 * DAY);
    ChainTransaction {
        transaction: Transaction {
            purchase_type: PurchaseType::Subscription,
            store: StoreId::parse("app_store").unwrap(),
            environment: Environment::Production,
            store_product_id: format!("pro.monthly.{chain}"),
            store_transaction_id: format!("t-{chain}-{number}"),
            store_original_transaction_id: format!("t-{chain}-0"),
            is_family_shared: false,
            price: Price {
                country: "US".into(),
                currency: "USD".into(),
                value: 9.99,
            },
            purchased_at,
            originally_purchased_at: now().plus_micros(-(of as i64) * 30 * DAY),
            expires_at: Some(purchased_at.plus_micros(30 * DAY)),
            renew_status: true,
            renew_status_changed_at: None,
            billing_issue_detected_at: None,
            grace_period_expires_at: None,
            variation_id: None,
            offer: None,
            refunded_at: None,
            cancellation_reason: None,
        },
        access_level_id: AccessLevelId::parse(if chain.is_multiple_of(2) {
            "premium"
        } else {
            "pro"
        })
        .unwrap(),
        received_at: purchased_at,
        purchase_id: uuid::Uuid::from_u128(chain as u128 * 1000 + number as u128),
        usd_per_unit: None,
    }
}

/// `chains` chains of `each` transactions.
pub fn chains(chains: usize, each: usize) -> Vec<(ChainKey, Chain)> {
    (0..chains)
        .map(|chain| {
            let key = ChainKey {
                store: StoreId::parse("app_store").unwrap(),
                original_transaction_id: format!("t-{chain}-0"),
            };
            let transactions = (0..each).map(|n| transaction(chain, n, each)).collect();
            (key, Chain { transactions })
        })
        .collect()
}

/// Server-side grants of `levels` access levels.
pub fn grants(levels: usize) -> Vec<AccessOverride> {
    (0..levels)
        .map(|level| {
            let request = GrantRequest {
                access_level_id: AccessLevelId::parse(&format!("gift-{level}")).unwrap(),
                starts_at: None,
                expires_at: Some(now().plus_micros(10 * DAY)),
            };
            apply_grant(None, &request, || format!("grant-{level}"), now())
        })
        .collect()
}

/// The purchases view of a profile owning `chains`.
pub fn view(chains: &[(ChainKey, Chain)], overrides: &[AccessOverride]) -> ProfileAccessView {
    let entries: Vec<ChainForProfile<'_>> = chains
        .iter()
        .map(|(key, chain)| ChainForProfile {
            key,
            chain,
            owned: true,
            has_access: true,
        })
        .collect();
    derive_view(&entries, overrides)
}

/// An identified profile with a few attributes and the given view.
pub fn profile(purchases: ProfileAccessView) -> Profile {
    Profile {
        app_id: entitle_domain::AppId::from_uuid(uuid::Uuid::from_u128(1)),
        profile_id: ProfileId::from_uuid(uuid::Uuid::from_u128(2)),
        customer_user_id: entitle_domain::CustomerUserId::parse("bench-1").ok(),
        attributes: ProfileAttributes {
            first_name: Some("Bench".into()),
            ..ProfileAttributes::default()
        },
        created_at: now(),
        updated_at: now(),
        purchases,
    }
}
