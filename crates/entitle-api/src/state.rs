use std::sync::Arc;

use entitle_store::Store;

use crate::clock::MonotonicClock;

/// What every handler can reach.
#[derive(Clone)]
pub struct ApiState {
    pub(crate) store: Arc<dyn Store>,
    pub(crate) clock: Arc<MonotonicClock>,
    /// The admin API's bearer token; `None` turns the admin API off.
    pub(crate) admin_token: Option<Arc<str>>,
}

impl ApiState {
    pub fn new(store: Arc<dyn Store>) -> Self {
        Self {
            store,
            clock: Arc::new(MonotonicClock::default()),
            admin_token: None,
        }
    }

    pub fn with_admin_token(mut self, token: Option<String>) -> Self {
        self.admin_token = token.filter(|t| !t.is_empty()).map(Arc::from);
        self
    }
}
