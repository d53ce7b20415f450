//! `GET /docs`: a page that renders `/openapi.json`. Its script and styles are compiled into the
//! binary and served by entitle itself: no CDN, works offline.

use axum::http::{HeaderValue, header};
use axum::response::{Html, IntoResponse, Response};

const PAGE: &str = include_str!("assets/docs.html");
const SCRIPT: &str = include_str!("assets/docs.js");
const STYLE: &str = include_str!("assets/docs.css");

#[utoipa::path(
    get,
    path = "/docs",
    tag = "operations",
    operation_id = "docs",
    responses((status = 200, description = "A page rendering /openapi.json", content_type = "text/html"))
)]
pub async fn page() -> Html<&'static str> {
    Html(PAGE)
}

#[utoipa::path(
    get,
    path = "/docs/docs.js",
    tag = "operations",
    operation_id = "docsScript",
    responses((status = 200, description = "The docs page's script", content_type = "text/javascript"))
)]
pub async fn script() -> Response {
    with_type(SCRIPT, "text/javascript; charset=utf-8")
}

#[utoipa::path(
    get,
    path = "/docs/docs.css",
    tag = "operations",
    operation_id = "docsStyle",
    responses((status = 200, description = "The docs page's styles", content_type = "text/css"))
)]
pub async fn style() -> Response {
    with_type(STYLE, "text/css; charset=utf-8")
}

fn with_type(body: &'static str, content_type: &'static str) -> Response {
    let mut response = body.into_response();
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    response
}
