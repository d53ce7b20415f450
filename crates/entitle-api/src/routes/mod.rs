//! The route table. Adapty's paths end with `/`; the slash-less spelling is served too.

mod fallback;
mod profile;

use axum::Router;
use axum::routing::MethodRouter;

use crate::state::ApiState;

pub const PROFILE_PATH: &str = "/api/v2/server-side-api/profile/";

pub fn routes() -> Router<ApiState> {
    let profile: MethodRouter<ApiState> = axum::routing::post(profile::create::handle)
        .get(profile::get::handle)
        .patch(profile::update::handle)
        .delete(profile::delete::handle);
    Router::new()
        .route(PROFILE_PATH, profile.clone())
        .route(PROFILE_PATH.trim_end_matches('/'), profile)
        .fallback(fallback::not_found)
        .method_not_allowed_fallback(fallback::method_not_allowed)
}
