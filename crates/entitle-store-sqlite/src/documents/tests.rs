use entitle_domain::datetime::Timestamp;
use entitle_domain::purchase::{
    AccessCandidate, AccessLevelId, AccessSource, CancellationReason, ChainKey, Environment, Offer,
    OfferCategory, OfferType, OwnedPurchase, Price, ProfileAccessView, PurchaseType, StoreId,
    Transaction,
};

use super::*;

fn at(seconds: i64) -> Timestamp {
    Timestamp::from_unix_micros(1_700_000_000_000_000 + seconds * 1_000_001)
}

/// A view with every field set somewhere and every optional field empty somewhere.
fn full_view() -> ProfileAccessView {
    let store = StoreId::parse("app_store").unwrap();
    let transaction = Transaction {
        purchase_type: PurchaseType::Subscription,
        store: store.clone(),
        environment: Environment::Production,
        store_product_id: "monthly".into(),
        store_transaction_id: "t-2".into(),
        store_original_transaction_id: "t-1".into(),
        is_family_shared: false,
        price: Price {
            country: "US".into(),
            currency: "USD".into(),
            value: 9.99,
        },
        purchased_at: at(2),
        originally_purchased_at: at(1),
        expires_at: Some(at(3)),
        renew_status: true,
        renew_status_changed_at: Some(at(4)),
        billing_issue_detected_at: Some(at(5)),
        grace_period_expires_at: Some(at(6)),
        variation_id: Some("paywall-a".into()),
        offer: Some(Offer {
            category: OfferCategory::Introductory,
            offer_type: OfferType::FreeTrial,
            id: Some("intro".into()),
        }),
        refunded_at: Some(at(7)),
        cancellation_reason: Some(CancellationReason::BillingError),
    };
    let one_time = Transaction {
        purchase_type: PurchaseType::OneTime,
        environment: Environment::Sandbox,
        expires_at: None,
        renew_status: false,
        renew_status_changed_at: None,
        billing_issue_detected_at: None,
        grace_period_expires_at: None,
        variation_id: None,
        offer: None,
        refunded_at: None,
        cancellation_reason: None,
        ..transaction.clone()
    };
    let chain = AccessCandidate {
        access_level_id: AccessLevelId::premium(),
        source: AccessSource::Chain(ChainKey {
            store,
            original_transaction_id: "t-1".into(),
        }),
        store: "app_store".into(),
        store_product_id: "monthly".into(),
        store_base_plan_id: Some("base".into()),
        store_transaction_id: "t-2".into(),
        store_original_transaction_id: "t-1".into(),
        offer: transaction.offer.clone(),
        starts_at: Some(at(8)),
        purchased_at: at(2),
        originally_purchased_at: at(1),
        expires_at: Some(at(3)),
        renewal_cancelled_at: Some(at(9)),
        billing_issue_detected_at: Some(at(5)),
        grace_period_expires_at: Some(at(6)),
        cancellation_reason: Some(CancellationReason::Refund),
        environment: Environment::Production,
        is_refund: true,
        will_renew: true,
        is_lifetime: false,
        store_country: Some("US".into()),
        variation_id: Some("paywall-a".into()),
        asserted_at: at(10),
    };
    let grant = AccessCandidate {
        access_level_id: AccessLevelId::parse("vip").unwrap(),
        source: AccessSource::Grant,
        store_base_plan_id: None,
        offer: None,
        starts_at: None,
        expires_at: None,
        renewal_cancelled_at: None,
        billing_issue_detected_at: None,
        grace_period_expires_at: None,
        cancellation_reason: None,
        environment: Environment::Sandbox,
        is_refund: false,
        will_renew: false,
        is_lifetime: true,
        store_country: None,
        variation_id: None,
        ..chain.clone()
    };
    ProfileAccessView {
        candidates: vec![chain, grant],
        subscriptions: vec![OwnedPurchase {
            transaction,
            originally_purchased_at: at(1),
            purchase_id: uuid::Uuid::from_u128(0x0123_4567_89ab_cdef_0123_4567_89ab_cdef),
        }],
        non_subscriptions: vec![OwnedPurchase {
            transaction: one_time,
            originally_purchased_at: at(2),
            purchase_id: uuid::Uuid::from_u128(7),
        }],
        total_revenue_usd: 19.98,
    }
}

/// [`full_view`] as the first binary layout held it (format byte 2, `layout_v1.rs`): without
/// the candidates' store country and variation. Rows written before them hold these bytes.
const FULL_VIEW_LAYOUT_V1: &str = concat!(
    "0202077072656d69756d00096170705f73746f726503742d31096170705f73746f7265076d6f6e74",
    "686c7901046261736503742d3203742d310100000105696e74726f0190c8c289838985068492e683",
    "838985068289ec828389850601869be084838985060192d1bc8a83898506018aadd4868389850601",
    "8cb6ce878389850601040001010094dab68b838985060376697001096170705f73746f7265076d6f",
    "6e74686c790003742d3203742d3100008492e683838985068289ec82838985060000000000010000",
    "0194dab68b838985060101096170705f73746f726500076d6f6e74686c7903742d3203742d310002",
    "5553035553447b14ae47e1fa23408492e683838985068289ec828389850601869be0848389850601",
    "0188a4da8583898506018aadd48683898506018cb6ce8783898506010970617977616c6c2d610100",
    "000105696e74726f018ebfc8888389850601018289ec8283898506100123456789abcdef01234567",
    "89abcdef0100096170705f73746f726501076d6f6e74686c7903742d3203742d3100025553035553",
    "447b14ae47e1fa23408492e683838985068289ec82838985060000000000000000008492e6838389",
    "850610000000000000000000000000000000077b14ae47e1fa3340",
);

/// The bytes of [`full_view`] in the binary form written now. Rows on disk hold this layout:
/// if this test fails, a type inside the view changed, and the change needs a new format byte
/// (the old layout kept for reading), not new bytes here.
const FULL_VIEW_LAYOUT_V2: &str = concat!(
    "0302077072656d69756d00096170705f73746f726503742d31096170705f73746f7265076d6f6e74",
    "686c7901046261736503742d3203742d310100000105696e74726f0190c8c289838985068492e683",
    "838985068289ec828389850601869be084838985060192d1bc8a83898506018aadd4868389850601",
    "8cb6ce878389850601040001010001025553010970617977616c6c2d6194dab68b83898506037669",
    "7001096170705f73746f7265076d6f6e74686c790003742d3203742d3100008492e6838389850682",
    "89ec8283898506000000000001000001000094dab68b838985060101096170705f73746f72650007",
    "6d6f6e74686c7903742d3203742d3100025553035553447b14ae47e1fa23408492e6838389850682",
    "89ec828389850601869be08483898506010188a4da8583898506018aadd48683898506018cb6ce87",
    "83898506010970617977616c6c2d610100000105696e74726f018ebfc8888389850601018289ec82",
    "83898506100123456789abcdef0123456789abcdef0100096170705f73746f726501076d6f6e7468",
    "6c7903742d3203742d3100025553035553447b14ae47e1fa23408492e683838985068289ec828389",
    "85060000000000000000008492e6838389850610000000000000000000000000000000077b14ae47",
    "e1fa3340",
);

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}

fn unhex(hex: &str) -> Vec<u8> {
    (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
        .collect()
}

/// [`full_view`] as a view stored before the candidates kept their store country and
/// variation reads back.
fn full_view_of_the_first_layout() -> ProfileAccessView {
    let mut view = full_view();
    for candidate in &mut view.candidates {
        candidate.store_country = None;
        candidate.variation_id = None;
    }
    view
}

#[test]
fn a_binary_view_keeps_its_layout() {
    let view = full_view();
    let packed = pack_binary(&view).unwrap();
    assert_eq!(hex(&packed), FULL_VIEW_LAYOUT_V2);
    assert_eq!(Document::Packed(packed).decode_view().unwrap(), view);
}

#[test]
fn a_view_in_the_first_binary_layout_still_reads() {
    let stored = Document::Packed(unhex(FULL_VIEW_LAYOUT_V1));
    assert_eq!(
        stored.decode_view().unwrap(),
        full_view_of_the_first_layout()
    );
}

#[test]
fn a_view_in_any_earlier_form_still_reads() {
    let view = full_view();
    let packed_json = Document::Packed(pack(&view).unwrap());
    assert_eq!(
        packed_json.decode::<ProfileAccessView>("view").unwrap(),
        view
    );
    let plain = Document::Plain(serde_json::to_string(&view).unwrap());
    assert_eq!(plain.decode::<ProfileAccessView>("view").unwrap(), view);
    // JSON written before the candidates kept their store country and variation.
    let mut older = serde_json::to_value(&view).unwrap();
    for candidate in older["candidates"].as_array_mut().unwrap() {
        let candidate = candidate.as_object_mut().unwrap();
        candidate.remove("store_country").unwrap();
        candidate.remove("variation_id").unwrap();
    }
    assert_eq!(
        Document::Plain(older.to_string()).decode_view().unwrap(),
        full_view_of_the_first_layout()
    );
}

#[test]
fn a_damaged_binary_document_is_an_error_not_a_panic() {
    for packed in [
        pack_binary(&full_view()).unwrap(),
        unhex(FULL_VIEW_LAYOUT_V1),
    ] {
        for cut in 1..packed.len() {
            let damaged = Document::Packed(packed[..cut].to_vec());
            assert!(damaged.decode_view().is_err(), "{cut}");
        }
        let mut longer = packed;
        longer.push(0);
        assert!(Document::Packed(longer).decode_view().is_err());
    }
}

#[test]
fn a_packed_document_reads_back_as_the_same_value_and_is_smaller() {
    let value = serde_json::json!({
        "event_type": "subscription_renewed",
        "event_properties": {"store": "app_store", "environment": "Production",
            "vendor_product_id": "monthly", "price_usd": 9.99, "currency": "USD"},
        "event_api_version": 1,
    });
    let packed = pack(&value).unwrap();
    assert!(
        packed.len() < value.to_string().len() / 2,
        "{} bytes",
        packed.len()
    );
    let read: serde_json::Value = Document::Packed(packed).decode("test").unwrap();
    assert_eq!(read, value);
}

#[test]
fn a_stored_payload_keeps_personal_data_plain_and_reads_back_whole() {
    let payload = serde_json::json!({
        "profile_id": "p", "email": "someone@example.org", "customer_user_id": "cuid-1",
        "user_attributes": {"favourite": "tea"}, "event_type": "subscription_started",
        "event_properties": {"store": "app_store", "ab_test_name": null, "ab_test_revision": null,
            "cohort_name": null, "developer_id": null, "paywall_name": null,
            "paywall_revision": null, "store_offer_number_of_periods": null},
    });
    let (facts, personal) = store_payload(payload.clone()).unwrap();
    let personal = personal.unwrap();
    for secret in ["someone@example.org", "cuid-1", "tea"] {
        assert!(personal.contains(secret));
    }
    let kept: serde_json::Value = Document::Packed(facts.clone()).decode("facts").unwrap();
    assert_eq!(
        kept["event_properties"],
        serde_json::json!({"store": "app_store"}),
        "the properties null in every event are not kept"
    );
    let read = read_payload(&Document::Packed(facts), Some(&personal)).unwrap();
    assert_eq!(read, payload);
    // A row stored whole, before the split and before events named the unknown properties.
    let mut older = payload.clone();
    older["event_properties"] = serde_json::json!({"store": "app_store"});
    let older = Document::Plain(older.to_string());
    assert_eq!(read_payload(&older, None).unwrap(), payload);
}

#[test]
fn plain_json_of_older_rows_is_still_read() {
    let read: serde_json::Value = Document::Plain(r#"{"a":1}"#.into()).decode("test").unwrap();
    assert_eq!(read, serde_json::json!({"a": 1}));
}

#[test]
fn corrupt_bytes_are_an_error_not_a_panic() {
    for bytes in [
        vec![],
        vec![9, 1, 2],
        vec![FORMAT_V1, 0xff, 0xff, 0xff, 0xff, 0],
    ] {
        let result: StoreResult<serde_json::Value> = Document::Packed(bytes).decode("test");
        assert!(result.is_err());
    }
}
