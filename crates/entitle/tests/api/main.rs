//! Black-box tests: a real server on 127.0.0.1:0 over a fresh database, called over real HTTP.
//! One test binary for the crate (modules below), so the suite links once.

mod database;
mod helpers;

mod abuse;
mod auth;
mod bench;
mod bulk_deletion;
mod circuit_breaker;
mod cli;
mod concurrency;
mod crash;
mod delete_users;
mod erasure;
mod events;
mod feed;
mod headers;
mod hostile;
mod isolation;
mod logs;
mod openapi;
mod payloads;
mod process;
mod products;
mod profile_lifecycle;
mod purchases;
mod receiver;
mod revenue;
mod scale;
mod sharing;
mod slow_receivers;
mod tenancy;
mod trials_and_lapses;
mod validation;
mod webhooks;
