//! Request bodies and headers as the OpenAPI document describes them. Requests are read field
//! by field (see `wire/`), so these types exist for the contract only; the snapshot of the
//! document and the black-box tests keep the two in step.

#![allow(dead_code)]

use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

/// The headers that name a profile (one of them is required).
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Header)]
pub struct ProfileHeaders {
    /// The profile's id (Adapty ID). Wins when both headers are sent.
    #[serde(rename = "adapty-profile-id")]
    #[param(value_type = String, format = Uuid, required = false)]
    adapty_profile_id: Option<String>,
    /// Your own user id: at most 256 bytes (UTF-8; `maxLength` counts characters, which is the
    /// same for ASCII), no control characters.
    #[serde(rename = "adapty-customer-user-id")]
    #[param(value_type = String, min_length = 1, max_length = 256, pattern = "^[^\\x00-\\x1f\\x7f]+$", required = false)]
    adapty_customer_user_id: Option<String>,
}

/// The profile headers plus the device platform the call is about.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Header)]
pub struct ProfileWriteHeaders {
    #[serde(rename = "adapty-profile-id")]
    #[param(value_type = String, format = Uuid, required = false)]
    adapty_profile_id: Option<String>,
    /// Your own user id: at most 256 bytes (UTF-8; `maxLength` counts characters, which is the
    /// same for ASCII), no control characters.
    #[serde(rename = "adapty-customer-user-id")]
    #[param(value_type = String, min_length = 1, max_length = 256, pattern = "^[^\\x00-\\x1f\\x7f]+$", required = false)]
    adapty_customer_user_id: Option<String>,
    /// The platform of the installation the call is about.
    #[serde(rename = "adapty-platform")]
    #[param(value_type = Platform, required = false)]
    adapty_platform: Option<String>,
}

#[derive(Deserialize, ToSchema)]
pub enum Gender {
    #[serde(rename = "f")]
    F,
    #[serde(rename = "m")]
    M,
    #[serde(rename = "o")]
    O,
}
#[derive(Deserialize, ToSchema)]
pub enum ProfileStore {
    #[serde(rename = "app_store")]
    AppStore,
    #[serde(rename = "play_store")]
    PlayStore,
    #[serde(rename = "stripe")]
    Stripe,
    #[serde(rename = "adapty")]
    Adapty,
    #[serde(rename = "paddle")]
    Paddle,
}
#[derive(Deserialize, ToSchema)]
pub enum Platform {
    #[serde(rename = "iOS")]
    Ios,
    #[serde(rename = "macOS")]
    MacOs,
    #[serde(rename = "iPadOS")]
    IpadOs,
    #[serde(rename = "visionOS")]
    VisionOs,
    #[serde(rename = "Android")]
    Android,
    #[serde(rename = "web")]
    Web,
}
#[derive(Deserialize, ToSchema)]
pub enum PurchaseType {
    #[serde(rename = "one_time_purchase")]
    OneTime,
    #[serde(rename = "subscription")]
    Subscription,
}
#[derive(Deserialize, ToSchema)]
pub enum Environment {
    #[serde(rename = "Production")]
    Production,
    #[serde(rename = "Sandbox")]
    Sandbox,
}
#[derive(Deserialize, ToSchema)]
pub enum OfferCategory {
    #[serde(rename = "introductory")]
    Introductory,
    #[serde(rename = "promotional")]
    Promotional,
    #[serde(rename = "offer_code")]
    OfferCode,
    #[serde(rename = "win_back")]
    WinBack,
}
#[derive(Deserialize, ToSchema)]
pub enum OfferType {
    #[serde(rename = "free_trial")]
    FreeTrial,
    #[serde(rename = "pay_as_you_go")]
    PayAsYouGo,
    #[serde(rename = "pay_up_front")]
    PayUpFront,
}
#[derive(Deserialize, ToSchema)]
pub enum CancellationReason {
    #[serde(rename = "voluntarily_cancelled")]
    VoluntarilyCancelled,
    #[serde(rename = "billing_error")]
    BillingError,
    #[serde(rename = "price_increase")]
    PriceIncrease,
    #[serde(rename = "product_was_not_available")]
    ProductWasNotAvailable,
    #[serde(rename = "refund")]
    Refund,
    #[serde(rename = "upgraded")]
    Upgraded,
    #[serde(rename = "unknown")]
    Unknown,
    #[serde(rename = "cancelled_by_developer")]
    CancelledByDeveloper,
    #[serde(rename = "new_subscription_replace")]
    NewSubscriptionReplace,
    #[serde(rename = "adapty_revoked")]
    AdaptyRevoked,
}

#[derive(Deserialize, ToSchema)]
pub struct CustomAttribute {
    #[schema(pattern = "^[A-Za-z0-9._-]{1,30}$")]
    key: String,
    /// A string of at most 50 characters or a number; `null` or `""` deletes the key.
    #[schema(schema_with = attribute_value_sent, required = true)]
    value: Option<serde_json::Value>,
}

/// A custom attribute's value: a string or a number, and `null` too when sent.
fn attribute_value(nullable: bool, description: &str) -> utoipa::openapi::schema::Object {
    use utoipa::openapi::schema::{ObjectBuilder, SchemaType, Type};
    let mut types = vec![Type::String, Type::Number];
    if nullable {
        types.push(Type::Null);
    }
    ObjectBuilder::new()
        .schema_type(SchemaType::Array(types))
        .description(Some(description))
        .build()
}

/// A custom attribute's value in a request; `null` deletes the key.
fn attribute_value_sent() -> utoipa::openapi::schema::Object {
    attribute_value(
        true,
        "A string of at most 50 characters or a number; `null` or `\"\"` deletes the key.",
    )
}

/// A custom attribute's value in a response.
pub fn attribute_value_stored() -> utoipa::openapi::schema::Object {
    attribute_value(false, "A string or a number.")
}

#[derive(Deserialize, ToSchema)]
pub struct InstallationMeta {
    #[schema(format = Uuid)]
    device_id: String,
    #[schema(max_length = 1000)]
    device: Option<String>,
    #[schema(max_length = 1000)]
    locale: Option<String>,
    #[schema(max_length = 1000)]
    os: Option<String>,
    platform: Option<Platform>,
    #[schema(max_length = 1000)]
    timezone: Option<String>,
    #[schema(max_length = 1000)]
    user_agent: Option<String>,
    #[schema(max_length = 1000)]
    app_build: Option<String>,
    #[schema(max_length = 1000)]
    app_version: Option<String>,
    #[schema(max_length = 1000)]
    adapty_sdk_version: Option<String>,
    #[schema(max_length = 1000)]
    idfa: Option<String>,
    #[schema(max_length = 1000)]
    idfv: Option<String>,
    #[schema(max_length = 1000)]
    advertising_id: Option<String>,
    #[schema(max_length = 1000)]
    android_id: Option<String>,
    #[schema(max_length = 1000)]
    android_app_set_id: Option<String>,
}

/// Create and update profile. Only the fields sent change; `null` clears a field.
#[derive(Deserialize, ToSchema)]
pub struct ProfileRequest {
    #[schema(max_length = 1000)]
    first_name: Option<String>,
    #[schema(max_length = 1000)]
    last_name: Option<String>,
    gender: Option<Gender>,
    #[schema(format = Email, pattern = "^[^@\\s]+@[^@\\s.]+(\\.[^@\\s.]+)+$")]
    email: Option<String>,
    #[schema(max_length = 1000)]
    phone_number: Option<String>,
    #[schema(format = Date, pattern = "^[0-9]{4}-[0-9]{2}-[0-9]{2}$")]
    birthday: Option<String>,
    /// ISO 3166-1 alpha-2.
    #[schema(pattern = "^[A-Za-z]{2}$")]
    ip_country: Option<String>,
    #[schema(format = Ipv4, pattern = "^[0-9]{1,3}(\\.[0-9]{1,3}){3}$")]
    ip_v4_address: Option<String>,
    #[schema(pattern = "^[A-Za-z]{2}$")]
    store_country: Option<String>,
    store: Option<ProfileStore>,
    #[schema(format = Uuid)]
    store_account_token: Option<String>,
    /// 0 not determined, 1 restricted, 2 denied, 3 authorized.
    #[schema(minimum = 0, maximum = 3)]
    att_status: Option<u8>,
    analytics_disabled: Option<bool>,
    /// Merged by key; at most 30 per profile.
    #[serde(default)]
    #[schema(min_items = 1, max_items = 30)]
    custom_attributes: Vec<CustomAttribute>,
    installation_meta: Option<InstallationMeta>,
}

#[derive(Deserialize, ToSchema)]
pub struct Price {
    /// ISO 3166-1 alpha-2.
    #[schema(pattern = "^[A-Za-z]{2}$")]
    country: String,
    /// ISO 4217.
    #[schema(pattern = "^[A-Za-z]{3}$")]
    currency: String,
    #[schema(minimum = 0)]
    value: f64,
}

#[derive(Deserialize, ToSchema)]
pub struct Offer {
    category: OfferCategory,
    #[schema(rename = "type")]
    offer_type: OfferType,
    /// Required unless the category is `introductory`.
    #[schema(max_length = 1000)]
    id: Option<String>,
}

#[derive(Deserialize, ToSchema)]
pub enum OneTimePurchase {
    #[serde(rename = "one_time_purchase")]
    OneTimePurchase,
}
#[derive(Deserialize, ToSchema)]
pub enum Subscription {
    #[serde(rename = "subscription")]
    Subscription,
}

/// Set transaction: a one-time purchase or a subscription, told apart by `purchase_type`. The
/// cross-field rules (dates in order, trial and family-shared prices, refunds) are answered
/// with the documented `error_code`s.
#[derive(Deserialize, ToSchema)]
#[serde(untagged)]
pub enum TransactionRequest {
    OneTime(OneTimePurchaseRequest),
    Subscription(SubscriptionRequest),
}

#[derive(Deserialize, ToSchema)]
pub struct OneTimePurchaseRequest {
    purchase_type: OneTimePurchase,
    /// `app_store`, `play_store`, `stripe`, `paddle` or a custom store id.
    #[schema(min_length = 1, max_length = 100)]
    store: String,
    environment: Option<Environment>,
    #[schema(min_length = 1, max_length = 1000)]
    store_product_id: String,
    #[schema(min_length = 1, max_length = 50)]
    store_transaction_id: String,
    /// Equal to `store_transaction_id`.
    #[schema(min_length = 1, max_length = 50)]
    store_original_transaction_id: String,
    is_family_shared: Option<bool>,
    price: Price,
    #[schema(format = DateTime, pattern = "^[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt ][0-9]{2}:[0-9]{2}:[0-9]{2}(\\.[0-9]+)?([Zz]|[+-][0-9]{2}:?[0-9]{2})?$")]
    purchased_at: String,
    #[schema(max_length = 1000)]
    variation_id: Option<String>,
    offer: Option<Offer>,
    #[schema(format = DateTime, pattern = "^[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt ][0-9]{2}:[0-9]{2}:[0-9]{2}(\\.[0-9]+)?([Zz]|[+-][0-9]{2}:?[0-9]{2})?$")]
    refunded_at: Option<String>,
    cancellation_reason: Option<CancellationReason>,
}

#[derive(Deserialize, ToSchema)]
pub struct SubscriptionRequest {
    purchase_type: Subscription,
    #[schema(min_length = 1, max_length = 100)]
    store: String,
    environment: Option<Environment>,
    #[schema(min_length = 1, max_length = 1000)]
    store_product_id: String,
    #[schema(min_length = 1, max_length = 50)]
    store_transaction_id: String,
    #[schema(min_length = 1, max_length = 1000)]
    store_original_transaction_id: String,
    is_family_shared: Option<bool>,
    price: Price,
    #[schema(format = DateTime, pattern = "^[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt ][0-9]{2}:[0-9]{2}:[0-9]{2}(\\.[0-9]+)?([Zz]|[+-][0-9]{2}:?[0-9]{2})?$")]
    purchased_at: String,
    /// Not after `purchased_at`.
    #[schema(format = DateTime, pattern = "^[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt ][0-9]{2}:[0-9]{2}:[0-9]{2}(\\.[0-9]+)?([Zz]|[+-][0-9]{2}:?[0-9]{2})?$")]
    originally_purchased_at: String,
    /// After `purchased_at`.
    #[schema(format = DateTime, pattern = "^[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt ][0-9]{2}:[0-9]{2}:[0-9]{2}(\\.[0-9]+)?([Zz]|[+-][0-9]{2}:?[0-9]{2})?$")]
    expires_at: String,
    renew_status: bool,
    #[schema(format = DateTime, pattern = "^[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt ][0-9]{2}:[0-9]{2}:[0-9]{2}(\\.[0-9]+)?([Zz]|[+-][0-9]{2}:?[0-9]{2})?$")]
    renew_status_changed_at: Option<String>,
    #[schema(format = DateTime, pattern = "^[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt ][0-9]{2}:[0-9]{2}:[0-9]{2}(\\.[0-9]+)?([Zz]|[+-][0-9]{2}:?[0-9]{2})?$")]
    billing_issue_detected_at: Option<String>,
    #[schema(format = DateTime, pattern = "^[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt ][0-9]{2}:[0-9]{2}:[0-9]{2}(\\.[0-9]+)?([Zz]|[+-][0-9]{2}:?[0-9]{2})?$")]
    grace_period_expires_at: Option<String>,
    #[schema(max_length = 1000)]
    variation_id: Option<String>,
    offer: Option<Offer>,
    #[schema(format = DateTime, pattern = "^[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt ][0-9]{2}:[0-9]{2}:[0-9]{2}(\\.[0-9]+)?([Zz]|[+-][0-9]{2}:?[0-9]{2})?$")]
    refunded_at: Option<String>,
    cancellation_reason: Option<CancellationReason>,
}

#[derive(Deserialize, ToSchema)]
pub struct GrantAccessRequest {
    #[schema(pattern = "^[A-Za-z0-9._-]{1,100}$")]
    access_level_id: String,
    /// Default: now.
    #[schema(format = DateTime, pattern = "^[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt ][0-9]{2}:[0-9]{2}:[0-9]{2}(\\.[0-9]+)?([Zz]|[+-][0-9]{2}:?[0-9]{2})?$")]
    starts_at: Option<String>,
    /// Default: lifetime.
    #[schema(format = DateTime, pattern = "^[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt ][0-9]{2}:[0-9]{2}:[0-9]{2}(\\.[0-9]+)?([Zz]|[+-][0-9]{2}:?[0-9]{2})?$")]
    expires_at: Option<String>,
}

#[derive(Deserialize, ToSchema)]
pub struct RevokeAccessRequest {
    #[schema(pattern = "^[A-Za-z0-9._-]{1,100}$")]
    access_level_id: String,
    /// Default: now. Must be in the future and not after the current expiry.
    #[schema(format = DateTime, pattern = "^[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt ][0-9]{2}:[0-9]{2}:[0-9]{2}(\\.[0-9]+)?([Zz]|[+-][0-9]{2}:?[0-9]{2})?$")]
    revoke_at: Option<String>,
}

/// One page of the event feed, newest first.
#[derive(Deserialize, ToSchema)]
pub struct EventPage {
    data: Vec<FeedEvent>,
    /// Pass as `cursor` for the next page; `null` at the end.
    next_cursor: Option<String>,
}

#[derive(Deserialize, ToSchema)]
pub struct FeedEvent {
    #[schema(format = Uuid)]
    profile_event_id: String,
    event_type: String,
    #[schema(format = Uuid)]
    profile_id: String,
    #[schema(format = DateTime, pattern = "^[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt ][0-9]{2}:[0-9]{2}:[0-9]{2}(\\.[0-9]+)?([Zz]|[+-][0-9]{2}:?[0-9]{2})?$")]
    created_at: String,
    /// Derived again for a new parent after a deleted profile's history was reassigned.
    reissued: bool,
    /// The webhook payload.
    #[schema(value_type = Object)]
    payload: serde_json::Value,
    deliveries: Vec<DeliveryStatus>,
}

#[derive(Deserialize, ToSchema)]
pub struct DeliveryStatus {
    #[schema(format = Uuid)]
    integration_id: String,
    webhook_id: String,
    /// `pending`, `delivered`, `refused`, `failed` or `cancelled`.
    status: String,
    #[schema(format = DateTime, pattern = "^[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt ][0-9]{2}:[0-9]{2}:[0-9]{2}(\\.[0-9]+)?([Zz]|[+-][0-9]{2}:?[0-9]{2})?$")]
    next_attempt_at: Option<String>,
    attempts: Vec<Attempt>,
}

#[derive(Deserialize, ToSchema)]
pub struct Attempt {
    #[schema(format = DateTime, pattern = "^[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt ][0-9]{2}:[0-9]{2}:[0-9]{2}(\\.[0-9]+)?([Zz]|[+-][0-9]{2}:?[0-9]{2})?$")]
    attempted_at: String,
    status_code: Option<u16>,
    error: Option<String>,
    duration_ms: u64,
}

/// A bulk deletion: profile ids and/or customer user ids, 10,000 at most.
#[derive(Deserialize, ToSchema)]
pub struct DeletionJobRequest {
    customer_user_ids: Option<Vec<String>>,
    #[schema(value_type = Option<Vec<String>>)]
    profile_ids: Option<Vec<String>>,
}

#[derive(Deserialize, ToSchema)]
pub struct JobCounts {
    pending: u32,
    deleted: u32,
    not_found: u32,
    failed: u32,
}

#[derive(Deserialize, ToSchema)]
pub struct DeletionJobSummary {
    #[schema(format = Uuid)]
    job_id: String,
    /// `queued`, `running` or `completed`.
    status: String,
    total: u32,
    counts: JobCounts,
    #[schema(format = DateTime, pattern = "^[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt ][0-9]{2}:[0-9]{2}:[0-9]{2}(\\.[0-9]+)?([Zz]|[+-][0-9]{2}:?[0-9]{2})?$")]
    created_at: String,
    #[schema(format = DateTime, pattern = "^[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt ][0-9]{2}:[0-9]{2}:[0-9]{2}(\\.[0-9]+)?([Zz]|[+-][0-9]{2}:?[0-9]{2})?$")]
    finished_at: Option<String>,
}

#[derive(Deserialize, ToSchema)]
pub struct JobItemResult {
    /// Position in the submitted list (customer user ids first, then profile ids).
    index: u32,
    /// `customer_user_id` or `profile_id`.
    kind: String,
    /// `pending`, `deleted`, `not_found` or `failed`.
    status: String,
    error: Option<String>,
}

#[derive(Deserialize, ToSchema)]
pub struct DeletionJobResult {
    #[schema(format = Uuid)]
    job_id: String,
    status: String,
    total: u32,
    counts: JobCounts,
    #[schema(format = DateTime, pattern = "^[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt ][0-9]{2}:[0-9]{2}:[0-9]{2}(\\.[0-9]+)?([Zz]|[+-][0-9]{2}:?[0-9]{2})?$")]
    created_at: String,
    #[schema(format = DateTime, pattern = "^[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt ][0-9]{2}:[0-9]{2}:[0-9]{2}(\\.[0-9]+)?([Zz]|[+-][0-9]{2}:?[0-9]{2})?$")]
    finished_at: Option<String>,
    items: Vec<JobItemResult>,
}

#[derive(Deserialize, ToSchema)]
pub struct DeletionRecord {
    #[schema(format = Uuid)]
    deletion_id: String,
    #[schema(format = DateTime, pattern = "^[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt ][0-9]{2}:[0-9]{2}:[0-9]{2}(\\.[0-9]+)?([Zz]|[+-][0-9]{2}:?[0-9]{2})?$")]
    deleted_at: String,
    /// `{"key_id": …}` or `{"job_id": …}`.
    #[schema(value_type = Object)]
    deleted_by: serde_json::Value,
    /// Keyed hash of the deleted profile's id (hex).
    profile_hash: String,
    #[schema(value_type = Object)]
    counts: serde_json::Value,
}

#[derive(Deserialize, ToSchema)]
pub struct DeletionRecordPage {
    data: Vec<DeletionRecord>,
    next_cursor: Option<String>,
}
