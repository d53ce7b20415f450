//! Request extractors: who is calling, which profile they mean, and the body they sent.
//! Each rejects with the documented error envelope.

mod admin;
mod auth;
mod body;
mod profile_ref;

pub use admin::AdminAuth;
pub use auth::{Authenticated, PresentedKey};
pub use body::{JsonObject, body_limit};
pub use profile_ref::{PlatformHeader, ProfileTarget, permitted_message};
