//! The route table. Adapty's paths end with `/`; the slash-less spelling is served too.

pub mod admin;
mod fallback;
pub mod profile;
pub mod purchase;

use axum::Router;
use axum::routing::MethodRouter;

use crate::state::ApiState;

pub const PROFILE_PATH: &str = "/api/v2/server-side-api/profile/";
pub const SET_TRANSACTION_PATH: &str = "/api/v2/server-side-api/purchase/set/transaction/";
pub const GRANT_PATH: &str = "/api/v2/server-side-api/purchase/profile/grant/access-level/";
pub const REVOKE_PATH: &str = "/api/v2/server-side-api/purchase/profile/revoke/access-level/";

pub fn routes() -> Router<ApiState> {
    let profile: MethodRouter<ApiState> = axum::routing::post(profile::create::handle)
        .get(profile::get::handle)
        .patch(profile::update::handle)
        .delete(profile::delete::handle);
    let posts = [
        (
            SET_TRANSACTION_PATH,
            axum::routing::post(purchase::set_transaction::handle),
        ),
        (GRANT_PATH, axum::routing::post(purchase::grant::handle)),
        (REVOKE_PATH, axum::routing::post(purchase::revoke::handle)),
    ];
    let mut router = Router::new()
        .route(PROFILE_PATH, profile.clone())
        .route(PROFILE_PATH.trim_end_matches('/'), profile);
    for (path, handler) in posts {
        router = router
            .route(path, handler.clone())
            .route(path.trim_end_matches('/'), handler);
    }
    router
        .route(
            "/admin/v1/apps/{app_id}/events",
            axum::routing::get(admin::events::list),
        )
        .route(
            "/admin/v1/apps/{app_id}/deletions",
            axum::routing::post(admin::deletions::create),
        )
        .route(
            "/admin/v1/apps/{app_id}/deletions/{job_id}",
            axum::routing::get(admin::deletions::get),
        )
        .route(
            "/admin/v1/apps/{app_id}/deletion-records",
            axum::routing::get(admin::records::list),
        )
        .route("/readyz", axum::routing::get(crate::metrics::readyz))
        .route("/metrics", axum::routing::get(crate::metrics::render))
        .route("/openapi.json", axum::routing::get(crate::openapi::serve))
        .route("/docs", axum::routing::get(crate::openapi::docs::page))
        .route(
            "/docs/docs.js",
            axum::routing::get(crate::openapi::docs::script),
        )
        .route(
            "/docs/docs.css",
            axum::routing::get(crate::openapi::docs::style),
        )
        .route("/healthz", axum::routing::get(crate::metrics::healthz))
        .fallback(fallback::not_found)
        .method_not_allowed_fallback(fallback::method_not_allowed)
}
