//! Per-key rate limit (spec §10): a sustained rate with a small burst (GCRA, the token bucket
//! written as one timestamp per key). Buckets live in each node's memory; with several nodes
//! each enforces the limit on what it receives.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use entitle_domain::KeyId;

pub struct RateLimiter {
    /// Time one request "costs".
    interval: Duration,
    /// How far ahead of the sustained rate a key may run.
    burst_window: Duration,
    /// Theoretical arrival time per key: the bucket is empty when it is `burst_window` ahead.
    buckets: Mutex<HashMap<KeyId, Instant>>,
}

impl RateLimiter {
    /// `per_minute` requests per minute per key, with a burst of a second's worth (at least 10).
    pub fn per_minute(per_minute: u32) -> Option<Self> {
        if per_minute == 0 {
            return None;
        }
        let interval = Duration::from_secs(60) / per_minute;
        let burst = (per_minute / 60).max(10);
        Some(Self {
            interval,
            burst_window: interval * burst,
            buckets: Mutex::new(HashMap::new()),
        })
    }

    /// `Ok` to go ahead, or how long to wait before the next request would be allowed.
    pub fn check(&self, key: KeyId) -> Result<(), Duration> {
        let now = Instant::now();
        let mut buckets = self
            .buckets
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if buckets.len() > 100_000 {
            // Forget keys that are idle (their bucket is full again) so memory stays bounded.
            buckets.retain(|_, tat| *tat > now);
        }
        let tat = buckets.get(&key).copied().unwrap_or(now).max(now);
        let next = tat + self.interval;
        if next > now + self.burst_window + self.interval {
            return Err(next - (self.burst_window + self.interval) - now);
        }
        buckets.insert(key, next);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_then_the_sustained_rate() {
        let limiter = RateLimiter::per_minute(600).unwrap(); // 10/s, burst 10
        let key = KeyId::new_random();
        let allowed = (0..30).filter(|_| limiter.check(key).is_ok()).count();
        assert!((10..=12).contains(&allowed), "{allowed}");
        let wait = limiter.check(key).unwrap_err();
        assert!(wait <= Duration::from_millis(200), "{wait:?}");
        // Other keys have their own bucket.
        assert!(limiter.check(KeyId::new_random()).is_ok());
    }

    #[test]
    fn zero_turns_it_off() {
        assert!(RateLimiter::per_minute(0).is_none());
    }
}
