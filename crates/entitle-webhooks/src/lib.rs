//! Webhook delivery: at-least-once from the transactional outbox.
//!
//! A worker claims due deliveries under a lease (so two workers never send the same attempt),
//! POSTs each with the integration's static `Authorization` value and Standard Webhooks
//! signature headers, and records every attempt. A status outside 200–404, a timeout or a
//! connection failure is retried on the configured schedule; a worker that dies mid-delivery
//! loses nothing, because the lease expires and another worker takes the delivery over.

mod guard;
mod signature;
mod worker;

pub use guard::TargetPolicy;
pub use signature::{generate_signing_secret, sign, verify};
pub use worker::{Worker, WorkerConfig};
