//! `TransactionDTORequest` (spec §4.10): a one-time purchase or a subscription, read into a
//! domain [`Transaction`] and checked against Adapty's cross-field rules.

use entitle_domain::ValidationError;
use entitle_domain::profile::CountryCode;
use entitle_domain::purchase::{
    CancellationReason, CurrencyCode, Environment, Offer, OfferCategory, OfferType, Price,
    PurchaseType, StoreId, Transaction,
};
use serde_json::{Map, Value};

use super::fields::Fields;

pub fn read_transaction(body: &Map<String, Value>) -> Result<Transaction, ValidationError> {
    let f = Fields::new(body);
    let purchase_type = f.enum_value(
        "purchase_type",
        f.required("purchase_type")?,
        PurchaseType::parse,
        PurchaseType::PERMITTED,
    )?;
    let store = StoreId::parse(f.required_str("store")?).ok_or_else(|| {
        f.invalid(
            "store",
            "store must be a store name of at most 100 characters",
        )
    })?;
    let environment = f
        .optional("environment")
        .map(|v| f.enum_value("environment", v, Environment::parse, Environment::PERMITTED))
        .transpose()?
        .unwrap_or(Environment::Production);
    let store_product_id = f.required_str("store_product_id")?.to_owned();
    let store_transaction_id = f.required_str("store_transaction_id")?.to_owned();
    let store_original_transaction_id = f.required_str("store_original_transaction_id")?.to_owned();
    let is_family_shared = f.optional_bool("is_family_shared")?.unwrap_or(false);
    let price = price(&f)?;
    let purchased_at = f.required_datetime("purchased_at")?;
    let variation_id = f.optional_text("variation_id")?;
    let offer = offer(&f)?;
    let refunded_at = f.optional_datetime("refunded_at")?;
    let cancellation_reason = f
        .optional("cancellation_reason")
        .map(|v| {
            f.enum_value(
                "cancellation_reason",
                v,
                CancellationReason::parse,
                CancellationReason::PERMITTED,
            )
        })
        .transpose()?;

    let transaction = match purchase_type {
        PurchaseType::OneTime => Transaction {
            purchase_type,
            store,
            environment,
            store_product_id,
            store_transaction_id,
            store_original_transaction_id,
            is_family_shared,
            price,
            purchased_at,
            originally_purchased_at: purchased_at,
            expires_at: None,
            renew_status: false,
            renew_status_changed_at: None,
            billing_issue_detected_at: None,
            grace_period_expires_at: None,
            variation_id,
            offer,
            refunded_at,
            cancellation_reason,
        },
        PurchaseType::Subscription => Transaction {
            purchase_type,
            store,
            environment,
            store_product_id,
            store_transaction_id,
            store_original_transaction_id,
            is_family_shared,
            price,
            purchased_at,
            originally_purchased_at: f.required_datetime("originally_purchased_at")?,
            expires_at: Some(f.required_datetime("expires_at")?),
            renew_status: f.bool_value("renew_status", f.required("renew_status")?)?,
            renew_status_changed_at: f.optional_datetime("renew_status_changed_at")?,
            billing_issue_detected_at: f.optional_datetime("billing_issue_detected_at")?,
            grace_period_expires_at: f.optional_datetime("grace_period_expires_at")?,
            variation_id,
            offer,
            refunded_at,
            cancellation_reason,
        },
    };
    transaction.validate()?;
    Ok(transaction)
}

fn price(f: &Fields<'_>) -> Result<Price, ValidationError> {
    let object = match f.required("price")? {
        Value::Object(object) => object,
        _ => {
            return Err(f.invalid(
                "price",
                "price must be an object with country, currency and value",
            ));
        }
    };
    let p = Fields::nested(object, "price");
    let country = CountryCode::parse(p.required_str("country")?).ok_or_else(|| {
        p.invalid(
            "country",
            "country must be an ISO 3166-1 alpha-2 country code",
        )
    })?;
    let currency = CurrencyCode::parse(p.required_str("currency")?)
        .ok_or_else(|| p.invalid("currency", "currency must be an ISO 4217 currency code"))?;
    let value = p
        .required("value")?
        .as_f64()
        .filter(|value| value.is_finite())
        .ok_or_else(|| p.invalid("value", "price.value must be a number"))?;
    Ok(Price {
        country: country.as_str().to_owned(),
        currency: currency.as_str().to_owned(),
        value,
    })
}

fn offer(f: &Fields<'_>) -> Result<Option<Offer>, ValidationError> {
    let object = match f.optional("offer") {
        None => return Ok(None),
        Some(Value::Object(object)) => object,
        Some(_) => {
            return Err(f.invalid(
                "offer",
                "offer must be an object with category, type and id",
            ));
        }
    };
    let o = Fields::nested(object, "offer");
    Ok(Some(Offer {
        category: o.enum_value(
            "category",
            o.required("category")?,
            OfferCategory::parse,
            OfferCategory::PERMITTED,
        )?,
        offer_type: o.enum_value(
            "type",
            o.required("type")?,
            OfferType::parse,
            OfferType::PERMITTED,
        )?,
        id: o.optional_text("id")?,
    }))
}
