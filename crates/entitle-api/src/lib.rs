//! entitle's HTTP surface: Adapty's server-side API v2 on axum.
//!
//! This is the only crate that knows axum. Handlers turn wire DTOs into domain types at the
//! edge, call one atomic store method, and render the answer; every failure becomes Adapty's
//! error envelope in exactly one place ([`error::ApiError`]).

mod clock;
pub mod error;
mod extract;
mod metrics;
mod middleware;
pub mod openapi;
mod rate_limit;
pub(crate) mod routes;
mod state;
pub(crate) mod wire;

pub use state::{ApiState, DEFAULT_RATE_LIMIT_PER_MINUTE, DEFAULT_REQUEST_TIMEOUT};

use axum::Router;

/// The complete router, with its middleware, ready to serve.
pub fn router(state: ApiState) -> Router {
    let timeout = state.request_timeout;
    routes::routes()
        .layer(axum::middleware::from_fn_with_state(
            timeout,
            middleware::around_request,
        ))
        .with_state(state)
}
