//! Validation failures, expressed in the vocabulary of Adapty's error envelope.

use std::fmt;

/// The machine-readable `error_code` values entitle emits for client mistakes.
///
/// Names follow Adapty's catalogue (spec §3.2): where Adapty documents a code for a case it is
/// used; everything else is `validation_error`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorCode {
    ParseError,
    ValidationError,
    Enum,
    Datetime,
    ValueError,
    /// A documented rule-specific code, such as `expires_date_error` (spec §3.2).
    Rule(&'static str),
}

impl ErrorCode {
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::ParseError => "parse_error",
            ErrorCode::ValidationError => "validation_error",
            ErrorCode::Enum => "enum",
            ErrorCode::Datetime => "datetime",
            ErrorCode::ValueError => "value_error",
            ErrorCode::Rule(code) => code,
        }
    }
}

/// A client mistake in one field (or in the request as a whole when `source` is `None`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidationError {
    pub code: ErrorCode,
    /// The offending field, dotted for nested objects (`installation_meta.device_id`);
    /// `None` for request-level problems.
    pub source: Option<String>,
    pub message: String,
}

impl ValidationError {
    pub fn new(code: ErrorCode, source: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            code,
            source: Some(source.into()),
            message: message.into(),
        }
    }

    pub fn field(source: impl Into<String>, message: impl Into<String>) -> Self {
        Self::new(ErrorCode::ValidationError, source, message)
    }

    pub fn request(code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            code,
            source: None,
            message: message.into(),
        }
    }

    /// The same error reported against a field nested inside `parent`.
    pub fn nested_in(mut self, parent: &str) -> Self {
        self.source = Some(match self.source {
            Some(inner) => format!("{parent}.{inner}"),
            None => parent.to_owned(),
        });
        self
    }
}

impl fmt::Display for ValidationError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.source {
            Some(source) => write!(f, "{source}: {}", self.message),
            None => f.write_str(&self.message),
        }
    }
}

impl std::error::Error for ValidationError {}
