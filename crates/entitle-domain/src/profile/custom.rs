//! Custom attributes (spec §4.2): up to 30 per profile, keys of at most 30 characters from
//! `[A-Za-z0-9._-]`, values that are strings of at most 50 characters or numbers.

use serde::{Deserialize, Serialize};

/// Largest number of custom attributes one profile may hold.
pub const MAX_CUSTOM_ATTRIBUTES: usize = 30;
/// Longest key, in characters.
pub const MAX_KEY_LEN: usize = 30;
/// Longest string value, in characters (the current spec; older docs said 30).
pub const MAX_VALUE_LEN: usize = 50;

#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct CustomAttributeKey(String);

impl CustomAttributeKey {
    pub fn parse(text: &str) -> Result<Self, String> {
        if text.is_empty() {
            return Err("key must not be empty".into());
        }
        if text.chars().count() > MAX_KEY_LEN {
            return Err(format!("key must be at most {MAX_KEY_LEN} characters long"));
        }
        if !text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_'))
        {
            return Err("key may contain only letters, digits, '-', '.' and '_'".into());
        }
        Ok(Self(text.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A stored value. Booleans and integers arrive as numbers and are kept as floats, as Adapty does.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum CustomAttributeValue {
    Number(f64),
    String(String),
}

/// A number or a string, read in one pass (an untagged enum would first try a number and
/// build an error message for every string).
impl<'de> Deserialize<'de> for CustomAttributeValue {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct ValueVisitor;

        impl serde::de::Visitor<'_> for ValueVisitor {
            type Value = CustomAttributeValue;

            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a number or a string")
            }

            fn visit_f64<E: serde::de::Error>(self, value: f64) -> Result<Self::Value, E> {
                Ok(CustomAttributeValue::Number(value))
            }

            fn visit_i64<E: serde::de::Error>(self, value: i64) -> Result<Self::Value, E> {
                Ok(CustomAttributeValue::Number(value as f64))
            }

            fn visit_u64<E: serde::de::Error>(self, value: u64) -> Result<Self::Value, E> {
                Ok(CustomAttributeValue::Number(value as f64))
            }

            fn visit_str<E: serde::de::Error>(self, value: &str) -> Result<Self::Value, E> {
                Ok(CustomAttributeValue::String(value.to_owned()))
            }

            fn visit_string<E: serde::de::Error>(self, value: String) -> Result<Self::Value, E> {
                Ok(CustomAttributeValue::String(value))
            }
        }

        deserializer.deserialize_any(ValueVisitor)
    }
}

impl CustomAttributeValue {
    /// A string value; `None` for the empty string, which means "delete this key".
    pub fn string(text: &str) -> Result<Option<Self>, String> {
        if text.is_empty() {
            return Ok(None);
        }
        if text.chars().count() > MAX_VALUE_LEN {
            return Err(format!(
                "value must be at most {MAX_VALUE_LEN} characters long"
            ));
        }
        Ok(Some(Self::String(text.to_owned())))
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CustomAttribute {
    pub key: CustomAttributeKey,
    pub value: CustomAttributeValue,
}

/// One item of a request's `custom_attributes`: set the key, or delete it (`value` null or "").
#[derive(Debug, Clone, PartialEq)]
pub struct CustomAttributeChange {
    pub key: CustomAttributeKey,
    pub value: Option<CustomAttributeValue>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys() {
        assert!(CustomAttributeKey::parse("plan_tier-2.x").is_ok());
        assert!(CustomAttributeKey::parse(&"k".repeat(30)).is_ok());
        assert!(CustomAttributeKey::parse(&"k".repeat(31)).is_err());
        assert!(CustomAttributeKey::parse("").is_err());
        assert!(CustomAttributeKey::parse("has space").is_err());
        assert!(CustomAttributeKey::parse("ключ").is_err());
    }

    #[test]
    fn values() {
        assert_eq!(CustomAttributeValue::string("").unwrap(), None);
        assert!(
            CustomAttributeValue::string(&"v".repeat(50))
                .unwrap()
                .is_some()
        );
        assert!(CustomAttributeValue::string(&"v".repeat(51)).is_err());
        let stored = serde_json::to_string(&CustomAttributeValue::Number(12.0)).unwrap();
        assert_eq!(stored, "12.0");
    }

    #[test]
    fn stored_values_read_back_as_numbers_or_strings() {
        let read = |json: &str| serde_json::from_str::<CustomAttributeValue>(json);
        assert_eq!(read("12.0").unwrap(), CustomAttributeValue::Number(12.0));
        assert_eq!(read("12").unwrap(), CustomAttributeValue::Number(12.0));
        assert_eq!(read("-3").unwrap(), CustomAttributeValue::Number(-3.0));
        assert_eq!(
            read(r#""pro""#).unwrap(),
            CustomAttributeValue::String("pro".into())
        );
        assert_eq!(
            read(r#""a\"b""#).unwrap(),
            CustomAttributeValue::String("a\"b".into())
        );
        for other in ["true", "null", "[]", "{}"] {
            assert!(read(other).is_err(), "{other}");
        }
    }
}
