//! The person-describing fields of a profile (spec §4.1, §4.3). These are personal data: they are
//! never logged, and they leave the database with the profile.

use serde::{Deserialize, Serialize};

use super::custom::CustomAttribute;
use crate::datetime::CalendarDate;
use crate::wire_enum::wire_enum;

/// Everything a create/update request can set. Stored as one compact document per profile, so
/// a profile's personal data lives in one row and leaves with it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ProfileAttributes {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub first_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gender: Option<Gender>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<Email>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub phone_number: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub birthday: Option<CalendarDate>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ip_country: Option<CountryCode>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ip_v4_address: Option<Ipv4>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub store_country: Option<CountryCode>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub store: Option<ProfileStore>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub store_account_token: Option<uuid::Uuid>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub att_status: Option<AttStatus>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub analytics_disabled: Option<bool>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub custom_attributes: Vec<CustomAttribute>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub installations: Vec<Installation>,
}

wire_enum!(
    /// `gender`: female, male, other.
    Gender { Female = "f", Male = "m", Other = "o" }
);
wire_enum!(
    /// `store` on a profile: the store the person buys from.
    ProfileStore {
        AppStore = "app_store",
        PlayStore = "play_store",
        Stripe = "stripe",
        Adapty = "adapty",
        Paddle = "paddle",
    }
);
wire_enum!(
    /// `platform` of an installation and the `adapty-platform` header.
    Platform {
        Ios = "iOS",
        MacOs = "macOS",
        IpadOs = "iPadOS",
        VisionOs = "visionOS",
        Android = "Android",
        Web = "web",
    }
);

/// `att_status`: 0 not determined, 1 restricted, 2 denied, 3 authorized.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct AttStatus(u8);

impl AttStatus {
    pub const PERMITTED: &'static [&'static str] = &["0", "1", "2", "3"];

    pub fn new(value: i64) -> Option<Self> {
        (0..=3).contains(&value).then_some(Self(value as u8))
    }

    pub fn value(self) -> u8 {
        self.0
    }
}

/// An email address: one `@`, a non-empty local part, a dotted domain, no spaces.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Email(String);

impl Email {
    pub fn parse(text: &str) -> Option<Self> {
        if text.len() > 254 || text.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return None;
        }
        let (local, domain) = text.split_once('@')?;
        let domain_ok = !domain.contains('@')
            && domain.contains('.')
            && domain
                .split('.')
                .all(|label| !label.is_empty() && !label.starts_with('-') && !label.ends_with('-'));
        (!local.is_empty() && local.len() <= 64 && domain_ok).then(|| Self(text.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// ISO 3166-1 alpha-2 country code, kept upper-case.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct CountryCode(String);

impl CountryCode {
    pub fn parse(text: &str) -> Option<Self> {
        (text.len() == 2 && text.bytes().all(|b| b.is_ascii_alphabetic()))
            .then(|| Self(text.to_ascii_uppercase()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// An IPv4 address in dotted-quad form.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Ipv4(String);

impl Ipv4 {
    pub fn parse(text: &str) -> Option<Self> {
        text.parse::<std::net::Ipv4Addr>()
            .ok()
            .map(|ip| Self(ip.to_string()))
    }
}

/// One device/installation of the app (spec §4.3), keyed by `device_id`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Installation {
    pub device_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub platform: Option<Platform>,
    /// The optional free-text fields (`device`, `locale`, `os`, `timezone`, …) by wire name.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub details: Vec<(String, String)>,
}

impl Installation {
    /// The optional string fields an installation may carry, by wire name.
    pub const DETAIL_FIELDS: &'static [&'static str] = &[
        "device",
        "locale",
        "os",
        "timezone",
        "user_agent",
        "app_build",
        "app_version",
        "adapty_sdk_version",
        "idfa",
        "idfv",
        "advertising_id",
        "android_id",
        "android_app_set_id",
    ];
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails() {
        for ok in ["mara.l@example.org", "a+b@sub.example.co", "x@y.z"] {
            assert!(Email::parse(ok).is_some(), "{ok}");
        }
        for bad in [
            "",
            "plain",
            "@example.org",
            "a@",
            "a@b",
            "a b@c.d",
            "a@@b.c",
            "a@.b",
            "a@b..c",
        ] {
            assert!(Email::parse(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn countries_and_ips() {
        assert_eq!(CountryCode::parse("se").unwrap().as_str(), "SE");
        assert!(CountryCode::parse("SWE").is_none());
        assert!(CountryCode::parse("1A").is_none());
        assert!(Ipv4::parse("10.0.0.1").is_some());
        assert!(Ipv4::parse("10.0.0.256").is_none());
        assert!(Ipv4::parse("::1").is_none());
    }

    #[test]
    fn enums_round_trip() {
        for text in Platform::PERMITTED {
            assert_eq!(Platform::parse(text).unwrap().as_str(), *text);
        }
        assert!(Platform::parse("ios").is_none());
        assert_eq!(Gender::parse("f"), Some(Gender::Female));
        assert!(AttStatus::new(4).is_none());
        assert_eq!(AttStatus::new(3).unwrap().value(), 3);
    }

    #[test]
    fn attributes_document_round_trips() {
        let attributes = ProfileAttributes {
            email: Email::parse("a@b.co"),
            gender: Some(Gender::Other),
            ..Default::default()
        };
        let text = serde_json::to_string(&attributes).unwrap();
        let back: ProfileAttributes = serde_json::from_str(&text).unwrap();
        assert_eq!(back, attributes);
        assert_eq!(
            serde_json::to_string(&ProfileAttributes::default()).unwrap(),
            "{}"
        );
    }
}
