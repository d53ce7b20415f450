//! The profile answer written straight to bytes.
//!
//! serde_json escapes every string it writes, struct keys included, and a profile answer has
//! about sixty keys: that was the largest single cost of rendering a GET. Here the keys, plain
//! ASCII names, are copied as they are, and every value still goes through serde_json's own
//! formatting. The bytes are exactly those of serde_json's rendering of the body types, which
//! stay the reference (and the OpenAPI schema): the tests hold the two to each other.

use entitle_domain::datetime::{RFC3339_MAX, Timestamp};
use serde::Serialize;
use serde_json::Result;

use super::profile_response::{
    AccessLevelBody, AttributeValueBody, CustomAttributeBody, NonSubscriptionBody, OfferBody,
    ProfileEnvelope, SubscriptionBody,
};

/// Appends `envelope` as JSON to `out`.
pub fn write(envelope: &ProfileEnvelope<'_>, out: &mut Vec<u8>) -> Result<()> {
    let body = &envelope.data;
    out.extend_from_slice(b"{\"data\":");
    let mut data = Object::start(out);
    data.text("app_id", &body.app_id)?;
    data.text("profile_id", &body.profile_id)?;
    data.maybe_text("customer_user_id", body.customer_user_id)?;
    data.field("total_revenue_usd", &body.total_revenue_usd)?;
    data.text("segment_hash", &body.segment_hash)?;
    data.field("timestamp", &body.timestamp)?;
    data.array("custom_attributes", &body.custom_attributes, attribute)?;
    data.array("access_levels", &body.access_levels, access_level)?;
    data.array("subscriptions", &body.subscriptions, subscription)?;
    data.array(
        "non_subscriptions",
        &body.non_subscriptions,
        non_subscription,
    )?;
    data.end();
    out.push(b'}');
    Ok(())
}

/// What serde_json escapes in a string: quotes, backslashes and control characters.
fn escaped_in_json(byte: u8) -> bool {
    byte < 0x20 || byte == b'"' || byte == b'\\'
}

/// An object being written: `{`, then `"key":value` pairs with commas between, then `}`.
struct Object<'o> {
    out: &'o mut Vec<u8>,
    empty: bool,
}

impl<'o> Object<'o> {
    fn start(out: &'o mut Vec<u8>) -> Self {
        out.push(b'{');
        Self { out, empty: true }
    }

    fn key(&mut self, key: &str) {
        if !self.empty {
            self.out.push(b',');
        }
        self.empty = false;
        self.out.push(b'"');
        self.out.extend_from_slice(key.as_bytes());
        self.out.extend_from_slice(b"\":");
    }

    fn field<T: Serialize + ?Sized>(&mut self, key: &str, value: &T) -> Result<()> {
        self.key(key);
        serde_json::to_writer(&mut *self.out, value)
    }

    /// A string: copied between quotes when it holds nothing JSON escapes (ids, store names,
    /// almost every value), else written by serde_json.
    fn text(&mut self, key: &str, value: &str) -> Result<()> {
        // Every byte looked at (no early exit), which the compiler turns into vector code.
        if value
            .bytes()
            .fold(false, |found, byte| found | escaped_in_json(byte))
        {
            return self.field(key, value);
        }
        self.quoted(key, value);
        Ok(())
    }

    /// `"key":"text"`, for text known to need no escaping.
    fn quoted(&mut self, key: &str, text: &str) {
        self.key(key);
        self.out.push(b'"');
        self.out.extend_from_slice(text.as_bytes());
        self.out.push(b'"');
    }

    fn maybe_text(&mut self, key: &str, value: Option<&str>) -> Result<()> {
        match value {
            Some(value) => self.text(key, value),
            None => {
                self.key(key);
                self.out.extend_from_slice(b"null");
                Ok(())
            }
        }
    }

    /// A date-time: its rendering holds only digits and separators, so it is copied between
    /// quotes instead of being scanned for characters to escape.
    fn at(&mut self, key: &str, value: impl Into<Option<Timestamp>>) -> Result<()> {
        let value: Option<Timestamp> = value.into();
        let mut text = [0u8; RFC3339_MAX];
        match value.and_then(|at| at.write_rfc3339(&mut text)) {
            Some(text) => {
                self.quoted(key, text);
                Ok(())
            }
            None => self.field(key, &value),
        }
    }

    fn object(
        &mut self,
        key: &str,
        write: impl FnOnce(&mut Object<'_>) -> Result<()>,
    ) -> Result<()> {
        self.key(key);
        let mut inner = Object::start(self.out);
        write(&mut inner)?;
        inner.end();
        Ok(())
    }

    fn array<T>(
        &mut self,
        key: &str,
        items: &[T],
        write: impl Fn(&mut Object<'_>, &T) -> Result<()>,
    ) -> Result<()> {
        self.key(key);
        self.out.push(b'[');
        for (index, item) in items.iter().enumerate() {
            if index > 0 {
                self.out.push(b',');
            }
            let mut inner = Object::start(self.out);
            write(&mut inner, item)?;
            inner.end();
        }
        self.out.push(b']');
        Ok(())
    }

    fn end(self) {
        self.out.push(b'}');
    }
}

fn attribute(object: &mut Object<'_>, attribute: &CustomAttributeBody<'_>) -> Result<()> {
    object.text("key", attribute.key)?;
    match attribute.value {
        AttributeValueBody::Text(text) => object.text("value", text),
        AttributeValueBody::Number(_) => object.field("value", &attribute.value),
    }
}

fn offer(object: &mut Object<'_>, offer: &Option<OfferBody<'_>>) -> Result<()> {
    match offer {
        None => object.field("offer", &None::<()>),
        Some(offer) => object.object("offer", |inner| {
            inner.text("category", offer.category)?;
            inner.text("type", offer.offer_type)?;
            inner.maybe_text("id", offer.id)
        }),
    }
}

fn access_level(object: &mut Object<'_>, level: &AccessLevelBody<'_>) -> Result<()> {
    object.text("access_level_id", level.access_level_id)?;
    object.text("store", level.store)?;
    object.text("store_product_id", level.store_product_id)?;
    object.maybe_text("store_base_plan_id", level.store_base_plan_id)?;
    object.text("store_transaction_id", level.store_transaction_id)?;
    object.text(
        "store_original_transaction_id",
        level.store_original_transaction_id,
    )?;
    offer(object, &level.offer)?;
    object.at("starts_at", level.starts_at)?;
    object.at("purchased_at", level.purchased_at)?;
    object.at("originally_purchased_at", level.originally_purchased_at)?;
    object.at("expires_at", level.expires_at)?;
    object.at("renewal_cancelled_at", level.renewal_cancelled_at)?;
    object.at("billing_issue_detected_at", level.billing_issue_detected_at)?;
    object.field("is_in_grace_period", &level.is_in_grace_period)?;
    object.maybe_text("cancellation_reason", level.cancellation_reason)
}

fn subscription(object: &mut Object<'_>, subscription: &SubscriptionBody<'_>) -> Result<()> {
    object.text("store", subscription.store)?;
    object.text("store_product_id", subscription.store_product_id)?;
    object.maybe_text("store_base_plan_id", subscription.store_base_plan_id)?;
    object.text("store_transaction_id", subscription.store_transaction_id)?;
    object.text(
        "store_original_transaction_id",
        subscription.store_original_transaction_id,
    )?;
    offer(object, &subscription.offer)?;
    object.text("environment", subscription.environment)?;
    object.at("purchased_at", subscription.purchased_at)?;
    object.at(
        "originally_purchased_at",
        subscription.originally_purchased_at,
    )?;
    object.at("expires_at", subscription.expires_at)?;
    object.at("renewal_cancelled_at", subscription.renewal_cancelled_at)?;
    object.at(
        "billing_issue_detected_at",
        subscription.billing_issue_detected_at,
    )?;
    object.field("is_in_grace_period", &subscription.is_in_grace_period)?;
    object.maybe_text("cancellation_reason", subscription.cancellation_reason)
}

fn non_subscription(object: &mut Object<'_>, purchase: &NonSubscriptionBody<'_>) -> Result<()> {
    object.text("purchase_id", &purchase.purchase_id)?;
    object.text("store", purchase.store)?;
    object.text("store_product_id", purchase.store_product_id)?;
    object.maybe_text("store_base_plan_id", purchase.store_base_plan_id)?;
    object.text("store_transaction_id", purchase.store_transaction_id)?;
    object.text(
        "store_original_transaction_id",
        purchase.store_original_transaction_id,
    )?;
    object.at("purchased_at", purchase.purchased_at)?;
    object.text("environment", purchase.environment)?;
    object.field("is_refund", &purchase.is_refund)?;
    object.field("is_consumable", &purchase.is_consumable)
}

#[cfg(test)]
mod tests {
    use entitle_domain::datetime::Timestamp;
    use proptest::prelude::*;

    use super::*;
    use crate::wire::profile_response::ProfileBody;

    fn same_as_serde(envelope: &ProfileEnvelope<'_>) -> std::result::Result<(), TestCaseError> {
        let mut fast = Vec::new();
        write(envelope, &mut fast).unwrap();
        let reference = serde_json::to_vec(envelope).unwrap();
        prop_assert_eq!(
            String::from_utf8(fast).unwrap(),
            String::from_utf8(reference).unwrap()
        );
        Ok(())
    }

    fn offer(text: &str, with_id: bool) -> OfferBody<'_> {
        OfferBody {
            category: "introductory",
            offer_type: "free_trial",
            id: with_id.then_some(text),
        }
    }

    fn envelope<'a>(
        text: &'a str,
        number: f64,
        flag: bool,
        attributes: &'a [CustomAttributeBody<'a>],
        levels: Vec<AccessLevelBody<'a>>,
        subscriptions: Vec<SubscriptionBody<'a>>,
        purchases: Vec<NonSubscriptionBody<'a>>,
    ) -> ProfileEnvelope<'a> {
        ProfileEnvelope {
            data: ProfileBody {
                app_id: text.to_owned(),
                profile_id: "0f5b5d5e-8f0c-4f7e-9d47-0e0f5c2b9a11".into(),
                customer_user_id: flag.then_some(text),
                total_revenue_usd: number,
                segment_hash: "0123456789abcdef".into(),
                timestamp: -7,
                custom_attributes: attributes
                    .iter()
                    .map(|a| CustomAttributeBody {
                        key: a.key,
                        value: match a.value {
                            AttributeValueBody::Text(t) => AttributeValueBody::Text(t),
                            AttributeValueBody::Number(n) => AttributeValueBody::Number(n),
                        },
                    })
                    .collect(),
                access_levels: levels,
                subscriptions,
                non_subscriptions: purchases,
            },
        }
    }

    fn level(text: &str, at: Timestamp, flag: bool) -> AccessLevelBody<'_> {
        AccessLevelBody {
            access_level_id: text,
            store: text,
            store_product_id: text,
            store_base_plan_id: flag.then_some(text),
            store_transaction_id: text,
            store_original_transaction_id: text,
            offer: flag.then(|| offer(text, !flag)),
            starts_at: flag.then_some(at),
            purchased_at: at,
            originally_purchased_at: at,
            expires_at: (!flag).then_some(at),
            renewal_cancelled_at: flag.then_some(at),
            billing_issue_detected_at: None,
            is_in_grace_period: flag,
            cancellation_reason: flag.then_some("billing_error"),
        }
    }

    fn subscription(text: &str, at: Timestamp, flag: bool) -> SubscriptionBody<'_> {
        SubscriptionBody {
            store: text,
            store_product_id: text,
            store_base_plan_id: None,
            store_transaction_id: text,
            store_original_transaction_id: text,
            offer: (!flag).then(|| offer(text, flag)),
            environment: "Sandbox",
            purchased_at: at,
            originally_purchased_at: at,
            expires_at: flag.then_some(at),
            renewal_cancelled_at: None,
            billing_issue_detected_at: flag.then_some(at),
            is_in_grace_period: !flag,
            cancellation_reason: None,
        }
    }

    fn purchase(text: &str, at: Timestamp, flag: bool) -> NonSubscriptionBody<'_> {
        NonSubscriptionBody {
            purchase_id: text.to_owned(),
            store: text,
            store_product_id: text,
            store_base_plan_id: flag.then_some(text),
            store_transaction_id: text,
            store_original_transaction_id: text,
            purchased_at: at,
            environment: "Production",
            is_refund: flag,
            is_consumable: false,
        }
    }

    #[test]
    fn an_empty_profile_is_written_as_serde_writes_it() {
        let empty = envelope("", 0.0, false, &[], vec![], vec![], vec![]);
        same_as_serde(&empty).unwrap();
    }

    proptest! {
        #[test]
        fn any_profile_is_written_as_serde_writes_it(
            text in prop_oneof![any::<String>(), "[a-z\"\\\\\\x00-\\x1f\\x7fé]{0,12}"],
            number in prop_oneof![any::<f64>(), Just(f64::NAN), Just(f64::INFINITY), Just(1e300), Just(0.1)],
            micros in any::<i64>(),
            flags in proptest::collection::vec(any::<bool>(), 1..4),
        ) {
            let at = Timestamp::from_unix_micros(micros);
            let attributes = [
                CustomAttributeBody { key: &text, value: AttributeValueBody::Text(&text) },
                CustomAttributeBody { key: "n", value: AttributeValueBody::Number(number) },
            ];
            let levels = flags.iter().map(|&flag| level(&text, at, flag)).collect();
            let subscriptions = flags.iter().map(|&flag| subscription(&text, at, flag)).collect();
            let purchases = flags.iter().map(|&flag| purchase(&text, at, flag)).collect();
            let whole = envelope(&text, number, flags[0], &attributes, levels, subscriptions, purchases);
            same_as_serde(&whole)?;
        }
    }
}
