//! Purchases: transactions grouped into chains ("one store-account purchase"), who owns and
//! shares each chain, server-side grants and revokes, and the access levels all of that gives a
//! profile. Everything here is a pure function over plain data.

mod access;
mod chain;
mod currency;
mod overrides;
mod sharing;
mod transaction;
mod view;

pub use access::{AccessCandidate, AccessSource, best_per_level, candidates_for};
pub use chain::{Chain, ChainKey, ChainTransaction, Upsert};
pub use currency::{CurrencyCode, USD, UsdRate, in_usd};
pub use overrides::{
    AccessOverride, GRANT_PRODUCT_ID, GRANT_STORE, Grant, GrantRequest, OverrideError, Revoke,
    RevokeRequest, apply_grant, apply_revoke,
};
pub use sharing::{ChainOwnership, Claimant, SharingOutcome, SharingPolicy, apply_store_event};
pub use transaction::{
    AccessLevelId, CancellationReason, Environment, Offer, OfferCategory, OfferType, Price,
    PurchaseType, StoreId, Transaction, product_without_base_plan,
};
pub use view::{ChainForProfile, OwnedPurchase, ProfileAccessView, derive_view};

#[cfg(test)]
mod tests;
