//! Delivery outcomes and the retry schedule (spec §9.6, DESIGN.md §6): a status outside 200–404
//! (or no answer) is retried with exponential backoff from one minute, at most 9 retries within
//! 24 hours of the event, and none at all to an endpoint that has been failing for 24 hours (its
//! circuit is open) until a delivery to it succeeds again.

use std::time::Duration;

use crate::datetime::Timestamp;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttemptOutcome {
    /// 2xx or 3xx: delivered.
    Delivered,
    /// 400–404: the receiver refused it; not retried.
    Refused,
    /// Anything else, a timeout or a connection failure: retried.
    Failed,
}

/// What an HTTP status means for a delivery.
pub fn classify_status(status: u16) -> AttemptOutcome {
    match status {
        200..=399 => AttemptOutcome::Delivered,
        400..=404 => AttemptOutcome::Refused,
        _ => AttemptOutcome::Failed,
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Wait before the first retry; each next retry waits twice as long.
    pub first_retry: Duration,
    pub max_retries: u32,
    /// No retry is scheduled, or made, later than this after the event was created.
    pub give_up_after: Duration,
    /// An endpoint that has answered no attempt successfully for this long gets no retries
    /// (each event still gets its first attempt) until one of its deliveries succeeds again.
    pub open_circuit_after: Duration,
}

/// The lines a worker's claim draws between due retries it hands out and ones it gives up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryCutOffs {
    /// A retry of a delivery created at or before this is given up: its event is too old.
    pub created_by: Timestamp,
    /// A retry to an endpoint failing since this or earlier is given up: its circuit is open.
    pub failing_since_by: Timestamp,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            first_retry: Duration::from_secs(60),
            max_retries: 9,
            give_up_after: Duration::from_secs(24 * 60 * 60),
            open_circuit_after: Duration::from_secs(24 * 60 * 60),
        }
    }
}

impl RetryPolicy {
    /// Where the retries due at `now` are cut off.
    pub fn cut_offs(&self, now: Timestamp) -> RetryCutOffs {
        RetryCutOffs {
            created_by: now.plus_micros(-micros(self.give_up_after)),
            failing_since_by: now.plus_micros(-micros(self.open_circuit_after)),
        }
    }

    /// When to try again after `attempts_made` failed attempts, or `None` to give up.
    pub fn next_attempt(
        &self,
        attempts_made: u32,
        created_at: Timestamp,
        now: Timestamp,
    ) -> Option<Timestamp> {
        let retries_made = attempts_made.saturating_sub(1);
        if retries_made >= self.max_retries {
            return None;
        }
        let factor = 1u128 << retries_made.min(40);
        let wait =
            (self.first_retry.as_micros().saturating_mul(factor)).min(i64::MAX as u128) as i64;
        let next = now.plus_micros(wait);
        let deadline = created_at.plus_micros(micros(self.give_up_after));
        (next <= deadline).then_some(next)
    }
}

fn micros(duration: Duration) -> i64 {
    duration.as_micros().min(i64::MAX as u128) as i64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses() {
        assert_eq!(classify_status(200), AttemptOutcome::Delivered);
        assert_eq!(classify_status(302), AttemptOutcome::Delivered);
        assert_eq!(classify_status(404), AttemptOutcome::Refused);
        assert_eq!(classify_status(400), AttemptOutcome::Refused);
        assert_eq!(classify_status(405), AttemptOutcome::Failed);
        assert_eq!(classify_status(500), AttemptOutcome::Failed);
        assert_eq!(classify_status(429), AttemptOutcome::Failed);
    }

    #[test]
    fn the_default_schedule_doubles_from_a_minute_nine_times_within_a_day() {
        let policy = RetryPolicy::default();
        let created = Timestamp::from_unix_micros(0);
        let mut now = created;
        let mut waits = Vec::new();
        for attempts in 1.. {
            match policy.next_attempt(attempts, created, now) {
                Some(next) => {
                    waits.push((next.unix_micros() - now.unix_micros()) / 60_000_000);
                    now = next;
                }
                None => break,
            }
        }
        assert_eq!(waits, vec![1, 2, 4, 8, 16, 32, 64, 128, 256]);
        assert!(now.unix_micros() < 24 * 3600 * 1_000_000);
    }

    #[test]
    fn nothing_is_scheduled_past_the_deadline() {
        let policy = RetryPolicy {
            first_retry: Duration::from_secs(3600),
            ..RetryPolicy::default()
        };
        let created = Timestamp::from_unix_micros(0);
        let late = Timestamp::from_unix_micros(23 * 3600 * 1_000_000);
        assert_eq!(policy.next_attempt(3, created, late), None);
    }

    #[test]
    fn the_cut_offs_lie_a_day_before_now_by_default() {
        let now = Timestamp::from_unix_micros(100 * 3600 * 1_000_000);
        let day_before = Timestamp::from_unix_micros(76 * 3600 * 1_000_000);
        let cut_offs = RetryPolicy::default().cut_offs(now);
        assert_eq!(cut_offs.created_by, day_before);
        assert_eq!(cut_offs.failing_since_by, day_before);
    }
}
