//! Wire DTOs: request bodies read field by field into domain types, and response bodies.

pub mod access_request;
pub mod fields;
pub mod profile_json;
pub mod profile_request;
pub mod profile_response;
pub mod transaction_request;
