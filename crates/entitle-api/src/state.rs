use std::sync::Arc;

use entitle_store::Store;

use crate::clock::MonotonicClock;
use crate::rate_limit::RateLimiter;

/// Adapty's documented ceiling: 40,000 requests per minute.
pub const DEFAULT_RATE_LIMIT_PER_MINUTE: u32 = 40_000;

/// Longest a request may take unless configured otherwise.
pub const DEFAULT_REQUEST_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);

/// What every handler can reach. axum clones the state for every request (and again for some
/// extractors): one shared pointer, so that a clone is one reference count, not one per field.
#[derive(Clone)]
pub struct ApiState(Arc<Shared>);

/// The state's contents (fields visible in this crate only).
#[derive(Clone)]
pub struct Shared {
    pub(crate) store: Arc<dyn Store>,
    pub(crate) clock: Arc<MonotonicClock>,
    /// The admin API's bearer token; `None` turns the admin API off.
    pub(crate) admin_token: Option<Arc<str>>,
    /// Per-key request limit; `None` when disabled.
    pub(crate) rate_limit: Option<Arc<RateLimiter>>,
    /// Longest a request may take.
    pub(crate) request_timeout: std::time::Duration,
}

impl std::ops::Deref for ApiState {
    type Target = Shared;

    fn deref(&self) -> &Shared {
        &self.0
    }
}

impl ApiState {
    pub fn new(store: Arc<dyn Store>) -> Self {
        Self(Arc::new(Shared {
            store,
            clock: Arc::new(MonotonicClock::default()),
            admin_token: None,
            rate_limit: RateLimiter::per_minute(DEFAULT_RATE_LIMIT_PER_MINUTE).map(Arc::new),
            request_timeout: DEFAULT_REQUEST_TIMEOUT,
        }))
    }

    /// The settings, to change before serving (copied if the state is already shared).
    fn settings(&mut self) -> &mut Shared {
        Arc::make_mut(&mut self.0)
    }

    pub fn with_request_timeout(mut self, timeout: std::time::Duration) -> Self {
        self.settings().request_timeout = timeout;
        self
    }

    /// Requests per minute per key; 0 disables the limit.
    pub fn with_rate_limit(mut self, per_minute: u32) -> Self {
        self.settings().rate_limit = RateLimiter::per_minute(per_minute).map(Arc::new);
        self
    }

    pub fn with_admin_token(mut self, token: Option<String>) -> Self {
        self.settings().admin_token = token.filter(|t| !t.is_empty()).map(Arc::from);
        self
    }
}
