//! The profile `timestamp` field: server time in milliseconds that never goes backwards, so
//! clients can keep the newest of several racing responses (spec §10).

use std::sync::atomic::{AtomicI64, Ordering};

use entitle_domain::datetime::Timestamp;

#[derive(Default)]
pub struct MonotonicClock {
    last_millis: AtomicI64,
}

impl MonotonicClock {
    pub fn now_millis(&self) -> i64 {
        let now = Timestamp::now().unix_millis();
        let previous = self.last_millis.fetch_max(now, Ordering::Relaxed);
        previous.max(now)
    }
}
