//! API key secrets: `secret_live_` + 8 characters + `.` + 32 characters.
//!
//! The 8-character part is a public lookup handle (it finds the stored row); the whole secret is
//! stored only as SHA-256 and compared in constant time. A secret is shown once, when created.

use std::fmt;

use rand::Rng;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

const PREFIX: &str = "secret_live_";
const LOOKUP_LEN: usize = 8;
const SECRET_LEN: usize = 32;
const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

/// A full secret key. `Debug` never prints it.
#[derive(Clone, PartialEq, Eq)]
pub struct ApiSecret(String);

impl ApiSecret {
    pub fn generate(rng: &mut impl Rng) -> Self {
        let mut text = String::with_capacity(PREFIX.len() + LOOKUP_LEN + 1 + SECRET_LEN);
        text.push_str(PREFIX);
        push_random(&mut text, rng, LOOKUP_LEN);
        text.push('.');
        push_random(&mut text, rng, SECRET_LEN);
        Self(text)
    }

    /// Accepts exactly the documented shape; anything else is not a key.
    pub fn parse(text: &str) -> Option<Self> {
        let rest = text.strip_prefix(PREFIX)?;
        let (lookup, secret) = rest.split_once('.')?;
        let well_formed = lookup.len() == LOOKUP_LEN
            && secret.len() == SECRET_LEN
            && lookup
                .bytes()
                .chain(secret.bytes())
                .all(|b| b.is_ascii_alphanumeric());
        well_formed.then(|| Self(text.to_owned()))
    }

    /// The public part used to find the stored key.
    pub fn lookup(&self) -> &str {
        &self.0[PREFIX.len()..PREFIX.len() + LOOKUP_LEN]
    }

    pub fn hash(&self) -> SecretHash {
        SecretHash(Sha256::digest(self.0.as_bytes()).into())
    }

    /// The secret itself, for the one time it is shown to its owner.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for ApiSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ApiSecret({PREFIX}{}.<redacted>)", self.lookup())
    }
}

fn push_random(text: &mut String, rng: &mut impl Rng, len: usize) {
    for _ in 0..len {
        let index = rng.random_range(0..ALPHABET.len());
        text.push(char::from(ALPHABET[index]));
    }
}

/// SHA-256 of a secret: the only form in which a secret is stored.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct SecretHash(pub [u8; 32]);

impl SecretHash {
    /// Constant-time comparison, so response timing reveals nothing about a stored hash.
    pub fn matches(&self, other: &SecretHash) -> bool {
        self.0.ct_eq(&other.0).into()
    }
}

/// A keyed hash for storing an identifier that must stay matchable but not readable
/// (deletion records keep the deleted profile id only in this form).
pub fn keyed_hash(key: &[u8], message: &[u8]) -> [u8; 32] {
    // HMAC-SHA256 written out: inner and outer pads over a 64-byte block.
    let mut block = [0u8; 64];
    if key.len() > 64 {
        block[..32].copy_from_slice(&Sha256::digest(key));
    } else {
        block[..key.len()].copy_from_slice(key);
    }
    let mut inner = Sha256::new();
    inner.update(block.map(|b| b ^ 0x36));
    inner.update(message);
    let inner = inner.finalize();
    let mut outer = Sha256::new();
    outer.update(block.map(|b| b ^ 0x5c));
    outer.update(inner);
    outer.finalize().into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_secrets_have_the_documented_shape() {
        let mut rng = rand::rng();
        for _ in 0..100 {
            let secret = ApiSecret::generate(&mut rng);
            let text = secret.expose();
            assert_eq!(text.len(), 12 + 8 + 1 + 32);
            assert!(text.starts_with("secret_live_"));
            assert_eq!(ApiSecret::parse(text).as_ref(), Some(&secret));
            assert_eq!(secret.lookup(), &text[12..20]);
        }
    }

    #[test]
    fn malformed_secrets_are_rejected() {
        for text in [
            "",
            "secret_live_",
            "public_live_BEHrYLTr.ce5zuDEWz06lFRNiaJC8mrLtL8fUwswD",
            "secret_live_BEHrYLT.ce5zuDEWz06lFRNiaJC8mrLtL8fUwswDx",
            "secret_live_BEHrYLTr.ce5zuDEWz06lFRNiaJC8mrLtL8fUwsw",
            "secret_live_BEHrYLTr-ce5zuDEWz06lFRNiaJC8mrLtL8fUwswD",
            "secret_live_BEHrYLT!.ce5zuDEWz06lFRNiaJC8mrLtL8fUwswD",
        ] {
            assert!(ApiSecret::parse(text).is_none(), "{text}");
        }
        assert!(
            ApiSecret::parse("secret_live_BEHrYLTr.ce5zuDEWz06lFRNiaJC8mrLtL8fUwswD").is_some()
        );
    }

    #[test]
    fn debug_never_shows_the_secret() {
        let secret = ApiSecret::generate(&mut rand::rng());
        let shown = format!("{secret:?}");
        assert!(!shown.contains(&secret.expose()[21..]));
    }

    #[test]
    fn hashes_compare() {
        let a = ApiSecret::generate(&mut rand::rng());
        let b = ApiSecret::generate(&mut rand::rng());
        assert!(a.hash().matches(&a.hash()));
        assert!(!a.hash().matches(&b.hash()));
    }

    #[test]
    fn keyed_hash_matches_rfc4231_case_2() {
        let mac = keyed_hash(b"Jefe", b"what do ya want for nothing?");
        assert_eq!(
            hex::encode(mac),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }
}
