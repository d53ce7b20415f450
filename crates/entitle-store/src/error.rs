use entitle_domain::purchase::{AccessLevelId, OverrideError};
use entitle_domain::{ProfileId, ValidationError};

pub type StoreResult<T> = Result<T, StoreError>;

/// What can go wrong below the API. Client-caused cases are distinct variants so the API can
/// answer them precisely; everything else is a backend failure whose detail is logged, never
/// shown to a client.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("profile not found")]
    ProfileNotFound,
    #[error("the customer user id belongs to another profile")]
    CustomerUserIdTaken,
    #[error(transparent)]
    Invalid(#[from] ValidationError),
    /// The app defines no such access level: `paid_access_level_does_not_exist`.
    #[error("access level `{}` does not exist", .0.as_str())]
    AccessLevelNotFound(AccessLevelId),
    /// A revoke the profile's access does not allow.
    #[error("revoke refused: {error:?}")]
    Revoke {
        error: OverrideError,
        level: AccessLevelId,
        profile_id: ProfileId,
    },
    #[error("app not found")]
    AppNotFound,
    #[error("key not found")]
    KeyNotFound,
    #[error("integration not found")]
    IntegrationNotFound,
    /// The backend is shutting down or cannot be reached.
    #[error("storage unavailable: {0}")]
    Unavailable(String),
    #[error("storage failure: {0}")]
    Backend(String),
}
