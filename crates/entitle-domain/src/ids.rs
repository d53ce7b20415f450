//! Identifiers. Uuids at the edge, newtypes inside so that one kind of id never stands in for
//! another.

use std::fmt;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

macro_rules! uuid_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(Uuid);

        impl $name {
            pub fn new_random() -> Self {
                Self(Uuid::new_v4())
            }

            pub fn from_uuid(id: Uuid) -> Self {
                Self(id)
            }

            pub fn as_uuid(&self) -> &Uuid {
                &self.0
            }

            pub fn as_bytes(&self) -> &[u8; 16] {
                self.0.as_bytes()
            }

            pub fn from_bytes(bytes: [u8; 16]) -> Self {
                Self(Uuid::from_bytes(bytes))
            }

            /// Parses the hyphenated (or simple) text form of a uuid.
            pub fn parse(text: &str) -> Option<Self> {
                Uuid::try_parse(text).ok().map(Self)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.hyphenated().fmt(f)
            }
        }
    };
}

uuid_id!(
    /// A tenant: every profile, key and setting belongs to exactly one app.
    AppId
);
uuid_id!(
    /// Adapty's profile id ("Adapty ID"); unique within an app.
    ProfileId
);
uuid_id!(
    /// The public id of an API key (never the secret).
    KeyId
);
uuid_id!(
    /// A webhook integration of an app.
    IntegrationId
);

/// The developer's own user id. Any non-empty string; matched exactly and case-sensitively.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct CustomerUserId(String);

impl CustomerUserId {
    /// Longest accepted id, in bytes. Adapty documents none; this keeps index entries small.
    pub const MAX_LEN: usize = 256;

    pub fn parse(text: &str) -> Result<Self, &'static str> {
        if text.is_empty() {
            return Err("must not be empty");
        }
        if text.len() > Self::MAX_LEN {
            return Err("must be at most 256 bytes long");
        }
        if text.chars().any(char::is_control) {
            return Err("must not contain control characters");
        }
        Ok(Self(text.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for CustomerUserId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn customer_user_id_rules() {
        assert!(CustomerUserId::parse("user-1").is_ok());
        assert!(CustomerUserId::parse("").is_err());
        assert!(CustomerUserId::parse("a\nb").is_err());
        assert!(CustomerUserId::parse(&"x".repeat(257)).is_err());
        assert_eq!(CustomerUserId::parse("Ab ").unwrap().as_str(), "Ab ");
    }

    #[test]
    fn ids_round_trip_through_text() {
        let id = ProfileId::new_random();
        assert_eq!(ProfileId::parse(&id.to_string()), Some(id));
        assert_eq!(ProfileId::parse("not-a-uuid"), None);
    }
}
