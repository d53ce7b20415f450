//! A store transaction as the set-transaction endpoint describes it (spec §4.10), and its
//! validation rules with Adapty's error codes (spec §3.2).

use serde::{Deserialize, Serialize};

use crate::datetime::Timestamp;
use crate::error::{ErrorCode, ValidationError};
use crate::wire_enum::wire_enum;

/// A store: `app_store`, `play_store`, `stripe`, `paddle`, or a custom store id.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct StoreId(String);

impl StoreId {
    pub const MAX_LEN: usize = 100;

    pub fn parse(text: &str) -> Option<Self> {
        (!text.is_empty() && text.len() <= Self::MAX_LEN && !text.chars().any(char::is_control))
            .then(|| Self(text.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

const PLAY_STORE: &str = "play_store";

/// Google Play's `product_id:base_plan_id` (spec §4.10: "Google base plan, if any, goes here as
/// `product_id:base_plan_id`"): the product and its base plan, when `store` is Google Play and
/// both parts are there. Any other store's product id is taken whole.
pub fn split_base_plan<'a>(store: &str, store_product_id: &'a str) -> Option<(&'a str, &'a str)> {
    if store != PLAY_STORE {
        return None;
    }
    store_product_id
        .split_once(':')
        .filter(|(product, plan)| !product.is_empty() && !plan.is_empty())
}

/// The product a `store_product_id` names without its Google Play base plan
/// ([`split_base_plan`]): what a product mapping falls back to when the pair is not mapped.
pub fn product_without_base_plan<'a>(store: &str, store_product_id: &'a str) -> &'a str {
    split_base_plan(store, store_product_id).map_or(store_product_id, |(product, _)| product)
}

/// An access level slug such as `premium`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct AccessLevelId(String);

impl AccessLevelId {
    pub fn premium() -> Self {
        Self("premium".to_owned())
    }

    /// Letters, digits, `_`, `-`, `.`; 1 to 100 characters.
    pub fn parse(text: &str) -> Option<Self> {
        (!text.is_empty()
            && text.len() <= 100
            && text
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.')))
        .then(|| Self(text.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

wire_enum!(PurchaseType { OneTime = "one_time_purchase", Subscription = "subscription" });
wire_enum!(
    /// Capitalised on the wire.
    Environment { Production = "Production", Sandbox = "Sandbox" }
);
wire_enum!(OfferCategory {
    Introductory = "introductory",
    Promotional = "promotional",
    OfferCode = "offer_code",
    WinBack = "win_back",
});
wire_enum!(OfferType {
    FreeTrial = "free_trial",
    PayAsYouGo = "pay_as_you_go",
    PayUpFront = "pay_up_front",
});
wire_enum!(CancellationReason {
    VoluntarilyCancelled = "voluntarily_cancelled",
    BillingError = "billing_error",
    PriceIncrease = "price_increase",
    ProductWasNotAvailable = "product_was_not_available",
    Refund = "refund",
    Upgraded = "upgraded",
    Unknown = "unknown",
    CancelledByDeveloper = "cancelled_by_developer",
    NewSubscriptionReplace = "new_subscription_replace",
    AdaptyRevoked = "adapty_revoked",
});

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Offer {
    pub category: OfferCategory,
    #[serde(rename = "type")]
    pub offer_type: OfferType,
    pub id: Option<String>,
}

impl Offer {
    /// What a zero-price first transaction without an offer amounts to (spec §4.8: it is a free
    /// trial): the introductory free trial, which has no id.
    pub fn implied_free_trial() -> Self {
        Self {
            category: OfferCategory::Introductory,
            offer_type: OfferType::FreeTrial,
            id: None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Price {
    pub country: String,
    pub currency: String,
    pub value: f64,
}

/// One transaction. Store facts only: nothing about the person who made it, so a transaction
/// can outlive the profile that sent it (DESIGN.md §4.2).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Transaction {
    pub purchase_type: PurchaseType,
    pub store: StoreId,
    pub environment: Environment,
    pub store_product_id: String,
    pub store_transaction_id: String,
    pub store_original_transaction_id: String,
    pub is_family_shared: bool,
    pub price: Price,
    pub purchased_at: Timestamp,
    /// Equals `purchased_at` for one-time purchases.
    pub originally_purchased_at: Timestamp,
    /// `None` for one-time purchases (lifetime).
    pub expires_at: Option<Timestamp>,
    pub renew_status: bool,
    pub renew_status_changed_at: Option<Timestamp>,
    pub billing_issue_detected_at: Option<Timestamp>,
    pub grace_period_expires_at: Option<Timestamp>,
    pub variation_id: Option<String>,
    pub offer: Option<Offer>,
    pub refunded_at: Option<Timestamp>,
    pub cancellation_reason: Option<CancellationReason>,
}

/// Longest accepted `store_transaction_id` (spec §4.10).
pub const MAX_TRANSACTION_ID_LEN: usize = 50;

/// The largest `price.value` taken, in any currency: beyond it a profile's total loses its
/// cents, and enough such prices would add up to infinity.
pub const MAX_PRICE: f64 = 1e15;

impl Transaction {
    /// The cross-field rules of spec §4.10, in the order Adapty lists them.
    pub fn validate(&self) -> Result<(), ValidationError> {
        let rule = |code: &'static str, source: &str, message: &str| {
            Err(ValidationError::new(ErrorCode::Rule(code), source, message))
        };
        if self.store_transaction_id.chars().count() > MAX_TRANSACTION_ID_LEN {
            return Err(ValidationError::field(
                "store_transaction_id",
                format!(
                    "store_transaction_id must be at most {MAX_TRANSACTION_ID_LEN} characters long."
                ),
            ));
        }
        if !(0.0..=MAX_PRICE).contains(&self.price.value) {
            return Err(ValidationError::field(
                "price.value",
                "price.value must be a number from 0 to 1000000000000000.",
            ));
        }
        let paid_zero = self.price.value == 0.0;
        if let Some(offer) = &self.offer {
            if self.purchase_type == PurchaseType::OneTime
                && offer.offer_type == OfferType::FreeTrial
            {
                return rule(
                    "one_time_purchase_trial_error",
                    "offer.type",
                    "One-time purchase cannot have a trial.",
                );
            }
            if offer.offer_type == OfferType::FreeTrial && !paid_zero {
                return rule(
                    "free_trial_price_error",
                    "offer.type",
                    "If offer_type is 'free_trial', price.value must be 0.",
                );
            }
            if offer.category != OfferCategory::Introductory && offer.id.is_none() {
                return rule(
                    "missing_offer_id",
                    "offer.category",
                    "offer_id must be specified for all offer types except 'introductory'.",
                );
            }
        }
        if self.is_family_shared && !paid_zero {
            return rule(
                "family_share_price_error",
                "is_family_shared",
                "If is_family_shared is true, price.value must be 0.",
            );
        }
        if self.purchase_type == PurchaseType::OneTime
            && self.store_transaction_id != self.store_original_transaction_id
        {
            return rule(
                "store_transaction_id_error",
                "store_transaction_id",
                "store_transaction_id must be equal to store_original_transaction_id for purchase.",
            );
        }
        if self.originally_purchased_at > self.purchased_at {
            return rule(
                "originally_purchased_date_error",
                "originally_purchased_at",
                "originally_purchased_at must be earlier than or equal to purchased_at.",
            );
        }
        if self
            .expires_at
            .is_some_and(|expires| expires <= self.purchased_at)
        {
            return rule(
                "expires_date_error",
                "expires_at",
                "expires_at must be later than purchased_at.",
            );
        }
        if self
            .renew_status_changed_at
            .is_some_and(|at| at <= self.purchased_at)
        {
            return rule(
                "renew_status_changed_date_error",
                "renew_status_changed_at",
                "renew_status_changed_at must be later than purchased_at.",
            );
        }
        if self
            .billing_issue_detected_at
            .is_some_and(|at| at <= self.purchased_at)
        {
            return rule(
                "billing_issue_detected_at_date_comparison_error",
                "billing_issue_detected_at",
                "billing_issue_detected_at must be later than purchased_at.",
            );
        }
        if let Some(grace) = self.grace_period_expires_at {
            if self.billing_issue_detected_at.is_none() {
                return rule(
                    "grace_period_billing_error",
                    "grace_period_billing_error",
                    "If grace_period_expires_at is specified, billing_issue_detected_at must also be specified.",
                );
            }
            if self.expires_at.is_some_and(|expires| grace < expires) {
                return rule(
                    "grace_period_expires_date_error",
                    "grace_period_expires_at",
                    "grace_period_expires_at must be later or equal to expires_at.",
                );
            }
        }
        if self
            .refunded_at
            .is_some_and(|refunded| refunded <= self.purchased_at)
        {
            return rule(
                "refund_date_error",
                "refunded_at",
                "refunded_at must be later than purchased_at.",
            );
        }
        if self.refunded_at.is_some()
            != (self.cancellation_reason == Some(CancellationReason::Refund))
        {
            return rule(
                "refund_fields_error",
                "refunded_at",
                "refunded_at and cancellation_reason=refund must be specified together.",
            );
        }
        Ok(())
    }

    pub fn is_refunded(&self) -> bool {
        self.refunded_at.is_some()
    }

    /// The Google Play base plan named in `store_product_id` ([`split_base_plan`]), shown as
    /// `store_base_plan_id`.
    pub fn base_plan_id(&self) -> Option<&str> {
        split_base_plan(self.store.as_str(), &self.store_product_id).map(|(_, plan)| plan)
    }

    /// Sent with a `free_trial` offer. Whether a transaction is a trial also depends on its
    /// place in its chain: [`super::Chain::is_trial`].
    pub fn has_free_trial_offer(&self) -> bool {
        self.offer
            .as_ref()
            .is_some_and(|offer| offer.offer_type == OfferType::FreeTrial)
    }

    /// Whether the end of this subscription period is final: auto-renew off, a billing issue
    /// (unresolved once the period and its grace period are over: spec §9.7's final failure),
    /// or a cancellation reason. A renewing period that lapses with none of these is waiting
    /// for its next charge: its access ends, the subscription has not expired.
    pub fn period_end_is_final(&self) -> bool {
        !self.renew_status
            || self.billing_issue_detected_at.is_some()
            || self.cancellation_reason.is_some()
    }

    /// `renewal_cancelled_at` of the responses: when auto-renew was switched off.
    pub fn renewal_cancelled_at(&self) -> Option<Timestamp> {
        if self.purchase_type == PurchaseType::Subscription && !self.renew_status {
            self.renew_status_changed_at
        } else {
            None
        }
    }
}
