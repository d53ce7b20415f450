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
    #[param(value_type = Option<String>, format = Uuid)]
    adapty_profile_id: Option<String>,
    /// Your own user id.
    #[serde(rename = "adapty-customer-user-id")]
    adapty_customer_user_id: Option<String>,
}

/// The profile headers plus the device platform the call is about.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Header)]
pub struct ProfileWriteHeaders {
    #[serde(rename = "adapty-profile-id")]
    #[param(value_type = Option<String>, format = Uuid)]
    adapty_profile_id: Option<String>,
    #[serde(rename = "adapty-customer-user-id")]
    adapty_customer_user_id: Option<String>,
    /// `iOS`, `macOS`, `iPadOS`, `visionOS`, `Android` or `web`.
    #[serde(rename = "adapty-platform")]
    adapty_platform: Option<String>,
}

#[derive(ToSchema)]
pub struct CustomAttribute {
    /// At most 30 characters: letters, digits, `-`, `.`, `_`.
    key: String,
    /// A string of at most 50 characters or a number; `null` or `""` deletes the key.
    #[schema(value_type = Object)]
    value: Option<serde_json::Value>,
}

#[derive(ToSchema)]
pub struct InstallationMeta {
    #[schema(format = Uuid)]
    device_id: String,
    device: Option<String>,
    locale: Option<String>,
    os: Option<String>,
    /// `iOS`, `macOS`, `iPadOS`, `visionOS`, `Android` or `web`.
    platform: Option<String>,
    timezone: Option<String>,
    user_agent: Option<String>,
    app_build: Option<String>,
    app_version: Option<String>,
    adapty_sdk_version: Option<String>,
    idfa: Option<String>,
    idfv: Option<String>,
    advertising_id: Option<String>,
    android_id: Option<String>,
    android_app_set_id: Option<String>,
}

/// Create and update profile. Only the fields sent change; `null` clears a field.
#[derive(ToSchema)]
pub struct ProfileRequest {
    first_name: Option<String>,
    last_name: Option<String>,
    /// `f`, `m` or `o`.
    gender: Option<String>,
    #[schema(format = Email)]
    email: Option<String>,
    phone_number: Option<String>,
    #[schema(format = Date)]
    birthday: Option<String>,
    /// ISO 3166-1 alpha-2.
    ip_country: Option<String>,
    ip_v4_address: Option<String>,
    store_country: Option<String>,
    /// `app_store`, `play_store`, `stripe`, `adapty` or `paddle`.
    store: Option<String>,
    #[schema(format = Uuid)]
    store_account_token: Option<String>,
    /// 0 not determined, 1 restricted, 2 denied, 3 authorized.
    att_status: Option<u8>,
    analytics_disabled: Option<bool>,
    /// Merged by key; at most 30 per profile.
    custom_attributes: Option<Vec<CustomAttribute>>,
    installation_meta: Option<InstallationMeta>,
}

#[derive(ToSchema)]
pub struct Price {
    /// ISO 3166-1 alpha-2.
    country: String,
    /// ISO 4217.
    currency: String,
    value: f64,
}

#[derive(ToSchema)]
pub struct Offer {
    /// `introductory`, `promotional`, `offer_code` or `win_back`.
    category: String,
    /// `free_trial`, `pay_as_you_go` or `pay_up_front`.
    #[schema(rename = "type")]
    offer_type: String,
    /// Required unless the category is `introductory`.
    id: Option<String>,
}

/// Set transaction: a one-time purchase or a subscription (`purchase_type`).
#[derive(ToSchema)]
pub struct TransactionRequest {
    /// `one_time_purchase` or `subscription`.
    purchase_type: String,
    /// `app_store`, `play_store`, `stripe`, `paddle` or a custom store id.
    store: String,
    /// `Production` (default) or `Sandbox`.
    environment: Option<String>,
    store_product_id: String,
    /// At most 50 characters; equal to the original id for one-time purchases.
    store_transaction_id: String,
    store_original_transaction_id: String,
    is_family_shared: Option<bool>,
    price: Price,
    #[schema(format = DateTime)]
    purchased_at: String,
    variation_id: Option<String>,
    offer: Option<Offer>,
    #[schema(format = DateTime)]
    refunded_at: Option<String>,
    cancellation_reason: Option<String>,
    /// Subscriptions only (required there).
    #[schema(format = DateTime)]
    originally_purchased_at: Option<String>,
    /// Subscriptions only (required there).
    #[schema(format = DateTime)]
    expires_at: Option<String>,
    /// Subscriptions only (required there).
    renew_status: Option<bool>,
    #[schema(format = DateTime)]
    renew_status_changed_at: Option<String>,
    #[schema(format = DateTime)]
    billing_issue_detected_at: Option<String>,
    #[schema(format = DateTime)]
    grace_period_expires_at: Option<String>,
}

#[derive(ToSchema)]
pub struct GrantAccessRequest {
    access_level_id: String,
    /// Default: now.
    #[schema(format = DateTime)]
    starts_at: Option<String>,
    /// Default: lifetime.
    #[schema(format = DateTime)]
    expires_at: Option<String>,
}

#[derive(ToSchema)]
pub struct RevokeAccessRequest {
    access_level_id: String,
    /// Default: now. Must be in the future and not after the current expiry.
    #[schema(format = DateTime)]
    revoke_at: Option<String>,
}

/// One page of the event feed, newest first.
#[derive(ToSchema)]
pub struct EventPage {
    data: Vec<FeedEvent>,
    /// Pass as `cursor` for the next page; `null` at the end.
    next_cursor: Option<String>,
}

#[derive(ToSchema)]
pub struct FeedEvent {
    #[schema(format = Uuid)]
    profile_event_id: String,
    event_type: String,
    #[schema(format = Uuid)]
    profile_id: String,
    #[schema(format = DateTime)]
    created_at: String,
    /// Derived again for a new parent after a deleted profile's history was reassigned.
    reissued: bool,
    /// The webhook payload.
    #[schema(value_type = Object)]
    payload: serde_json::Value,
    deliveries: Vec<DeliveryStatus>,
}

#[derive(ToSchema)]
pub struct DeliveryStatus {
    #[schema(format = Uuid)]
    integration_id: String,
    webhook_id: String,
    /// `pending`, `delivered`, `refused`, `failed` or `cancelled`.
    status: String,
    #[schema(format = DateTime)]
    next_attempt_at: Option<String>,
    attempts: Vec<Attempt>,
}

#[derive(ToSchema)]
pub struct Attempt {
    #[schema(format = DateTime)]
    attempted_at: String,
    status_code: Option<u16>,
    error: Option<String>,
    duration_ms: u64,
}

/// A bulk deletion: profile ids and/or customer user ids, 10,000 at most.
#[derive(ToSchema)]
pub struct DeletionJobRequest {
    customer_user_ids: Option<Vec<String>>,
    #[schema(value_type = Option<Vec<String>>)]
    profile_ids: Option<Vec<String>>,
}

#[derive(ToSchema)]
pub struct JobCounts {
    pending: u32,
    deleted: u32,
    not_found: u32,
    failed: u32,
}

#[derive(ToSchema)]
pub struct DeletionJobSummary {
    #[schema(format = Uuid)]
    job_id: String,
    /// `queued`, `running` or `completed`.
    status: String,
    total: u32,
    counts: JobCounts,
    #[schema(format = DateTime)]
    created_at: String,
    #[schema(format = DateTime)]
    finished_at: Option<String>,
}

#[derive(ToSchema)]
pub struct JobItemResult {
    /// Position in the submitted list (customer user ids first, then profile ids).
    index: u32,
    /// `customer_user_id` or `profile_id`.
    kind: String,
    /// `pending`, `deleted`, `not_found` or `failed`.
    status: String,
    error: Option<String>,
}

#[derive(ToSchema)]
pub struct DeletionJobResult {
    #[schema(format = Uuid)]
    job_id: String,
    status: String,
    total: u32,
    counts: JobCounts,
    #[schema(format = DateTime)]
    created_at: String,
    #[schema(format = DateTime)]
    finished_at: Option<String>,
    items: Vec<JobItemResult>,
}

#[derive(ToSchema)]
pub struct DeletionRecord {
    #[schema(format = Uuid)]
    deletion_id: String,
    #[schema(format = DateTime)]
    deleted_at: String,
    /// `{"key_id": …}` or `{"job_id": …}`.
    #[schema(value_type = Object)]
    deleted_by: serde_json::Value,
    /// Keyed hash of the deleted profile's id (hex).
    profile_hash: String,
    #[schema(value_type = Object)]
    counts: serde_json::Value,
}

#[derive(ToSchema)]
pub struct DeletionRecordPage {
    data: Vec<DeletionRecord>,
    next_cursor: Option<String>,
}
