//! Reading a JSON object field by field, so that every mistake names its field (`source`) and
//! says what was expected. Nested objects report dotted sources (`installation_meta.device_id`).

use entitle_domain::datetime::Timestamp;
use entitle_domain::profile::Patch;
use entitle_domain::{ErrorCode, ValidationError};
use serde_json::{Map, Value};

/// Longest free-text field we keep (names, phone numbers, device details).
pub const MAX_TEXT_LEN: usize = 1000;

pub struct Fields<'a> {
    object: &'a Map<String, Value>,
    prefix: Option<String>,
}

impl<'a> Fields<'a> {
    pub fn new(object: &'a Map<String, Value>) -> Self {
        Self {
            object,
            prefix: None,
        }
    }

    /// The fields of a nested object, reporting sources as `parent.field`.
    pub fn nested(object: &'a Map<String, Value>, parent: &str) -> Self {
        Self {
            object,
            prefix: Some(parent.to_owned()),
        }
    }

    pub fn source(&self, name: &str) -> String {
        match &self.prefix {
            Some(prefix) => format!("{prefix}.{name}"),
            None => name.to_owned(),
        }
    }

    pub fn raw(&self, name: &str) -> Option<&'a Value> {
        self.object.get(name)
    }

    pub fn invalid(&self, name: &str, message: impl Into<String>) -> ValidationError {
        ValidationError::field(self.source(name), message)
    }

    pub fn invalid_as(
        &self,
        code: ErrorCode,
        name: &str,
        message: impl Into<String>,
    ) -> ValidationError {
        ValidationError::new(code, self.source(name), message)
    }

    pub fn required_error(&self, name: &str) -> ValidationError {
        ValidationError::new(ErrorCode::ParseError, self.source(name), "field required")
    }

    /// A nullable field of any type, read with `parse` when present and not null.
    pub fn patch<T>(
        &self,
        name: &str,
        parse: impl FnOnce(&Value) -> Result<T, ValidationError>,
    ) -> Result<Patch<T>, ValidationError> {
        match self.object.get(name) {
            None => Ok(Patch::Keep),
            Some(Value::Null) => Ok(Patch::Clear),
            Some(value) => parse(value).map(Patch::Set),
        }
    }

    /// A nullable string field with a parser for its content.
    pub fn patch_str<T>(
        &self,
        name: &str,
        parse: impl FnOnce(&str) -> Result<T, ValidationError>,
    ) -> Result<Patch<T>, ValidationError> {
        self.patch(name, |value| parse(self.as_str(name, value)?))
    }

    /// A nullable free-text field.
    pub fn patch_text(&self, name: &str) -> Result<Patch<String>, ValidationError> {
        self.patch_str(name, |text| self.text(name, text))
    }

    pub fn as_str<'v>(&self, name: &str, value: &'v Value) -> Result<&'v str, ValidationError> {
        value
            .as_str()
            .ok_or_else(|| self.invalid(name, format!("{} must be a string", self.source(name))))
    }

    pub fn text(&self, name: &str, text: &str) -> Result<String, ValidationError> {
        if text.chars().count() > MAX_TEXT_LEN {
            return Err(self.invalid(
                name,
                format!(
                    "{} must be at most {MAX_TEXT_LEN} characters long",
                    self.source(name)
                ),
            ));
        }
        Ok(text.to_owned())
    }

    /// An optional (possibly null) string, `None` when absent or null.
    pub fn optional_text(&self, name: &str) -> Result<Option<String>, ValidationError> {
        match self.object.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(value) => self.text(name, self.as_str(name, value)?).map(Some),
        }
    }

    pub fn bool_value(&self, name: &str, value: &Value) -> Result<bool, ValidationError> {
        value
            .as_bool()
            .ok_or_else(|| self.invalid(name, format!("{} must be a boolean", self.source(name))))
    }

    /// A field that must be present and not null (`parse_error`, "field required", otherwise).
    pub fn required(&self, name: &str) -> Result<&'a Value, ValidationError> {
        match self.object.get(name) {
            None | Some(Value::Null) => Err(self.required_error(name)),
            Some(value) => Ok(value),
        }
    }

    pub fn required_str(&self, name: &str) -> Result<&'a str, ValidationError> {
        let text = self.as_str(name, self.required(name)?)?;
        if text.is_empty() {
            return Err(self.invalid(name, format!("{} must not be empty", self.source(name))));
        }
        // Ids and codes: control characters are never meant, and PostgreSQL cannot store U+0000.
        if text.chars().any(char::is_control) {
            return Err(self.invalid(
                name,
                format!("{} must not contain control characters", self.source(name)),
            ));
        }
        self.text(name, text)?;
        Ok(text)
    }

    /// A field that may be absent or null.
    pub fn optional(&self, name: &str) -> Option<&'a Value> {
        self.object.get(name).filter(|value| !value.is_null())
    }

    pub fn required_datetime(&self, name: &str) -> Result<Timestamp, ValidationError> {
        self.datetime_value(name, self.required(name)?)
    }

    pub fn optional_datetime(&self, name: &str) -> Result<Option<Timestamp>, ValidationError> {
        self.optional(name)
            .map(|value| self.datetime_value(name, value))
            .transpose()
    }

    pub fn optional_bool(&self, name: &str) -> Result<Option<bool>, ValidationError> {
        self.optional(name)
            .map(|value| self.bool_value(name, value))
            .transpose()
    }

    /// A date-time in any of the accepted renderings (`datetime` error otherwise).
    pub fn datetime_value(&self, name: &str, value: &Value) -> Result<Timestamp, ValidationError> {
        let text = self.as_str(name, value)?;
        Timestamp::parse(text)
            .ok_or_else(|| self.invalid_as(ErrorCode::Datetime, name, "invalid datetime format"))
    }

    /// A closed set of strings (`enum` error otherwise, listing what is permitted).
    pub fn enum_value<T>(
        &self,
        name: &str,
        value: &Value,
        parse: impl FnOnce(&str) -> Option<T>,
        permitted: &[&str],
    ) -> Result<T, ValidationError> {
        value.as_str().and_then(parse).ok_or_else(|| {
            self.invalid_as(
                ErrorCode::Enum,
                name,
                crate::extract::permitted_message(permitted),
            )
        })
    }
}
