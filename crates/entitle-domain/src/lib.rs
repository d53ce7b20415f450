//! entitle's domain: plain types and pure rules.
//!
//! Nothing here performs I/O, knows SQL or knows HTTP. Wire DTOs are turned into these types at
//! the edge (the api crate); storage backends persist them; the rules that decide what a request
//! does (which profile a request names, how a patch merges) are plain functions over plain data.

pub mod datetime;
pub mod error;
pub mod events;
pub mod ids;
pub mod keys;
pub mod profile;
pub mod purchase;
pub mod resolve;
mod wire_enum;

pub use error::{ErrorCode, ValidationError};
pub use ids::{AppId, CustomerUserId, IntegrationId, KeyId, ProfileId};
