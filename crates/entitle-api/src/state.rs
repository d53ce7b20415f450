use std::sync::Arc;

use entitle_store::Store;

use crate::clock::MonotonicClock;

/// What every handler can reach.
#[derive(Clone)]
pub struct ApiState {
    pub(crate) store: Arc<dyn Store>,
    pub(crate) clock: Arc<MonotonicClock>,
}

impl ApiState {
    pub fn new(store: Arc<dyn Store>) -> Self {
        Self {
            store,
            clock: Arc::new(MonotonicClock::default()),
        }
    }
}
