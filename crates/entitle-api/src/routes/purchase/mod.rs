//! `/api/v2/server-side-api/purchase/…`: set transaction, grant and revoke access levels
//! (spec §5.5–5.7). Each answers `{"data": Profile}`.

pub mod grant;
pub mod revoke;
pub mod set_transaction;
