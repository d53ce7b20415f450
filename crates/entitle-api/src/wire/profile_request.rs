//! `ProfileRequest` (spec §4.1): the body of create and update, read into a [`ProfilePatch`].

use entitle_domain::datetime::CalendarDate;
use entitle_domain::profile::{
    AttStatus, CountryCode, CustomAttributeChange, CustomAttributeKey, CustomAttributeValue, Email,
    Gender, Installation, Ipv4, Platform, ProfilePatch, ProfileStore,
};
use entitle_domain::{ErrorCode, ValidationError};
use serde_json::{Map, Value};

use super::fields::Fields;

pub fn read_profile_request(
    body: &Map<String, Value>,
    platform: Option<Platform>,
) -> Result<ProfilePatch, ValidationError> {
    let f = Fields::new(body);
    Ok(ProfilePatch {
        first_name: f.patch_text("first_name")?,
        last_name: f.patch_text("last_name")?,
        gender: f.patch("gender", |v| {
            f.enum_value("gender", v, Gender::parse, Gender::PERMITTED)
        })?,
        email: f.patch_str("email", |text| {
            Email::parse(text)
                .ok_or_else(|| f.invalid("email", "value is not a valid email address"))
        })?,
        phone_number: f.patch_text("phone_number")?,
        birthday: f.patch_str("birthday", |text| {
            CalendarDate::parse(text).ok_or_else(|| {
                f.invalid("birthday", "birthday must be a date in the form YYYY-MM-DD")
            })
        })?,
        ip_country: country(&f, "ip_country")?,
        ip_v4_address: f.patch_str("ip_v4_address", |text| {
            Ipv4::parse(text)
                .ok_or_else(|| f.invalid("ip_v4_address", "value is not a valid IPv4 address"))
        })?,
        store_country: country(&f, "store_country")?,
        store: f.patch("store", |v| {
            f.enum_value("store", v, ProfileStore::parse, ProfileStore::PERMITTED)
        })?,
        store_account_token: f.patch_str("store_account_token", |text| {
            uuid::Uuid::try_parse(text)
                .map_err(|_| f.invalid("store_account_token", "value is not a valid UUID"))
        })?,
        att_status: f.patch("att_status", |v| {
            v.as_i64()
                .filter(|_| v.is_i64() || v.is_u64())
                .and_then(AttStatus::new)
                .ok_or_else(|| {
                    f.invalid_as(
                        ErrorCode::Enum,
                        "att_status",
                        "value is not a valid enumeration member; permitted: 0, 1, 2, 3",
                    )
                })
        })?,
        analytics_disabled: f.patch("analytics_disabled", |v| {
            f.bool_value("analytics_disabled", v)
        })?,
        custom_attributes: custom_attributes(&f)?,
        installation: installation(&f, platform)?,
        platform,
    })
}

fn country(
    f: &Fields<'_>,
    name: &str,
) -> Result<entitle_domain::profile::Patch<CountryCode>, ValidationError> {
    f.patch_str(name, |text| {
        CountryCode::parse(text).ok_or_else(|| {
            f.invalid(
                name,
                format!("{name} must be an ISO 3166-1 alpha-2 country code"),
            )
        })
    })
}

fn custom_attributes(f: &Fields<'_>) -> Result<Vec<CustomAttributeChange>, ValidationError> {
    const NAME: &str = "custom_attributes";
    let items = match f.raw(NAME) {
        None => return Ok(Vec::new()),
        Some(Value::Array(items)) => items,
        Some(_) => {
            return Err(f.invalid(
                NAME,
                "custom_attributes must be an array of {key, value} objects",
            ));
        }
    };
    if items.is_empty() {
        return Err(f.invalid(NAME, "custom_attributes must contain at least one item"));
    }
    items
        .iter()
        .enumerate()
        .map(|(index, item)| {
            let problem =
                |message: String| f.invalid(NAME, format!("custom_attributes[{index}]: {message}"));
            let item = item
                .as_object()
                .ok_or_else(|| problem("must be an object with key and value".into()))?;
            let key = match item.get("key") {
                Some(Value::String(key)) => CustomAttributeKey::parse(key).map_err(problem)?,
                Some(_) => return Err(problem("key must be a string".into())),
                None => return Err(problem("key is required".into())),
            };
            let value = match item.get("value") {
                None => return Err(problem("value is required".into())),
                Some(Value::Null) => None,
                Some(Value::String(text)) => CustomAttributeValue::string(text).map_err(problem)?,
                Some(Value::Number(number)) => {
                    Some(CustomAttributeValue::Number(number.as_f64().ok_or_else(
                        || problem("value is not a finite number".into()),
                    )?))
                }
                Some(Value::Bool(flag)) => {
                    Some(CustomAttributeValue::Number(if *flag { 1.0 } else { 0.0 }))
                }
                Some(_) => return Err(problem("value must be a string, a number or null".into())),
            };
            Ok(CustomAttributeChange { key, value })
        })
        .collect()
}

fn installation(
    f: &Fields<'_>,
    header_platform: Option<Platform>,
) -> Result<Option<Installation>, ValidationError> {
    const NAME: &str = "installation_meta";
    let object = match f.raw(NAME) {
        None | Some(Value::Null) => return Ok(None),
        Some(Value::Object(object)) => object,
        Some(_) => return Err(f.invalid(NAME, "installation_meta must be an object")),
    };
    let meta = Fields::nested(object, NAME);
    let device_id = match meta.raw("device_id") {
        None | Some(Value::Null) => return Err(meta.required_error("device_id")),
        Some(value) => {
            let text = meta.as_str("device_id", value)?;
            uuid::Uuid::try_parse(text)
                .map_err(|_| meta.invalid("device_id", "device_id must be a UUID"))?;
            text.to_owned()
        }
    };
    let platform = match meta.raw("platform") {
        None | Some(Value::Null) => header_platform,
        Some(value) => {
            Some(meta.enum_value("platform", value, Platform::parse, Platform::PERMITTED)?)
        }
    };
    let mut details = Vec::new();
    for name in Installation::DETAIL_FIELDS {
        if let Some(text) = meta.optional_text(name)?.filter(|text| !text.is_empty()) {
            details.push(((*name).to_owned(), text));
        }
    }
    Ok(Some(Installation {
        device_id,
        platform,
        details,
    }))
}
