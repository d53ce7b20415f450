//! `GrantAccessRequest` and `RevokeAccessRequest` (spec §4.11).

use entitle_domain::purchase::{AccessLevelId, GrantRequest, RevokeRequest};
use entitle_domain::{ErrorCode, ValidationError};
use serde_json::{Map, Value};

use super::fields::Fields;

/// An id that cannot name a level is reported as a level that does not exist.
fn access_level(f: &Fields<'_>) -> Result<AccessLevelId, ValidationError> {
    let text = f.required_str("access_level_id")?;
    AccessLevelId::parse(text).ok_or_else(|| {
        ValidationError::new(
            ErrorCode::Rule("paid_access_level_does_not_exist"),
            "non_field_errors",
            format!("Paid access level `{text}` does not exist"),
        )
    })
}

pub fn read_grant(body: &Map<String, Value>) -> Result<GrantRequest, ValidationError> {
    let f = Fields::new(body);
    let access_level_id = access_level(&f)?;
    let starts_at = f.optional_datetime("starts_at")?;
    let expires_at = f.optional_datetime("expires_at")?;
    if let (Some(starts), Some(expires)) = (starts_at, expires_at)
        && expires <= starts
    {
        return Err(f.invalid("expires_at", "expires_at must be later than starts_at."));
    }
    Ok(GrantRequest {
        access_level_id,
        starts_at,
        expires_at,
    })
}

pub fn read_revoke(body: &Map<String, Value>) -> Result<RevokeRequest, ValidationError> {
    let f = Fields::new(body);
    Ok(RevokeRequest {
        access_level_id: access_level(&f)?,
        revoke_at: f.optional_datetime("revoke_at")?,
    })
}
