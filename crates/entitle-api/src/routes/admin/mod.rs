//! entitle's admin API (`/admin/v1/`): beyond Adapty's API, authorised by the admin token.

pub mod deletions;
pub mod events;
pub mod records;
