//! `Authorization: Api-Key <secret>`: the secret must be well-formed, known, and not revoked.
//! The store is asked on every request, so a revoked key stops working at once on every node.
//! A GET asks for the key and the profile in one trip ([`PresentedKey`]).

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use entitle_domain::keys::ApiSecret;
use entitle_domain::{AppId, KeyId};
use entitle_store::ApiKeyRecord;

use crate::error::ApiError;
use crate::state::ApiState;

/// The app (and key) a request is made with.
#[derive(Debug, Clone, Copy)]
pub struct Authenticated {
    pub app_id: AppId,
    pub key_id: KeyId,
}

const NOT_PROVIDED: &str = "Authentication credentials were not provided.";
const INVALID: &str = "Invalid API key.";

impl FromRequestParts<ApiState> for Authenticated {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &ApiState) -> Result<Self, ApiError> {
        PresentedKey::from_request_parts(parts, state)
            .await?
            .authenticate(state)
            .await
    }
}

/// The well-formed key a request presents, not yet looked up. A route that reads the store
/// anyway looks the key up in the same trip ([`PresentedKey::admit`]); every other route
/// takes [`Authenticated`].
pub struct PresentedKey {
    secret: ApiSecret,
}

impl FromRequestParts<ApiState> for PresentedKey {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &ApiState) -> Result<Self, ApiError> {
        let mut values = parts
            .headers
            .get_all(axum::http::header::AUTHORIZATION)
            .iter();
        let header = values
            .next()
            .ok_or(ApiError::NotAuthenticated(NOT_PROVIDED))?;
        if values.next().is_some() {
            return Err(ApiError::NotAuthenticated(INVALID));
        }
        let text = header
            .to_str()
            .map_err(|_| ApiError::NotAuthenticated(INVALID))?
            .trim();
        if text.is_empty() {
            return Err(ApiError::NotAuthenticated(NOT_PROVIDED));
        }
        let secret = parse_api_key_header(text).ok_or(ApiError::NotAuthenticated(INVALID))?;
        Ok(PresentedKey { secret })
    }
}

impl PresentedKey {
    /// The public part the store finds the key by.
    pub fn lookup(&self) -> &str {
        self.secret.lookup()
    }

    /// Looks the key up on its own.
    pub async fn authenticate(self, state: &ApiState) -> Result<Authenticated, ApiError> {
        let record = state.store.find_key(self.lookup()).await?;
        self.admit(state, record)
    }

    /// Admits the request when `record` (the store's key under [`Self::lookup`]) is live and
    /// the presented secret matches its hash; then counts it against the key's rate limit.
    pub fn admit(
        &self,
        state: &ApiState,
        record: Option<ApiKeyRecord>,
    ) -> Result<Authenticated, ApiError> {
        let record = record.ok_or(ApiError::NotAuthenticated(INVALID))?;
        if record.revoked || !record.secret_hash.matches(&self.secret.hash()) {
            return Err(ApiError::NotAuthenticated(INVALID));
        }
        crate::middleware::note_app(record.app_id);
        if let Some(limiter) = &state.rate_limit {
            limiter
                .check(record.key_id)
                .map_err(|wait| ApiError::RateLimited {
                    retry_after_secs: wait.as_secs() + u64::from(wait.subsec_nanos() > 0),
                })?;
        }
        Ok(Authenticated {
            app_id: record.app_id,
            key_id: record.key_id,
        })
    }
}

/// `Api-Key <secret>`, the scheme matched case-insensitively.
fn parse_api_key_header(text: &str) -> Option<ApiSecret> {
    let (scheme, secret) = text.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("Api-Key") {
        return None;
    }
    ApiSecret::parse(secret.trim())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_forms() {
        let key = "secret_live_BEHrYLTr.ce5zuDEWz06lFRNiaJC8mrLtL8fUwswD";
        assert!(parse_api_key_header(&format!("Api-Key {key}")).is_some());
        assert!(parse_api_key_header(&format!("api-key {key}")).is_some());
        assert!(parse_api_key_header(&format!("Bearer {key}")).is_none());
        assert!(parse_api_key_header(key).is_none());
        assert!(
            parse_api_key_header("Api-Key public_live_BEHrYLTr.ce5zuDEWz06lFRNiaJC8mrLtL8fUwswD")
                .is_none()
        );
    }
}
