//! `/openapi.json`: the OpenAPI 3.1 document of everything entitle serves, generated from the
//! handlers' annotations, and `/docs`, a page that renders it with entitle's own assets.

pub mod docs;
pub mod schemas;

use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use crate::error::{Envelope, EnvelopeItem};
use crate::routes::{admin, profile, purchase};
use crate::wire::profile_response::{
    AccessLevelBody, CustomAttributeBody, NonSubscriptionBody, OfferBody, ProfileBody,
    ProfileEnvelope, SubscriptionBody,
};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "entitle",
        description = "A self-hostable subscription-profile server speaking Adapty's server-side API v2, plus entitle's admin API.",
        license(name = "Apache-2.0")
    ),
    paths(
        profile::create::handle,
        profile::get::handle,
        profile::update::handle,
        profile::delete::handle,
        purchase::set_transaction::handle,
        purchase::grant::handle,
        purchase::revoke::handle,
        admin::events::list,
        admin::deletions::create,
        admin::deletions::get,
        admin::records::list,
        crate::metrics::readyz,
        crate::metrics::render,
        crate::metrics::healthz,
        serve,
        docs::page,
        docs::script,
        docs::style,
    ),
    components(schemas(
        ProfileEnvelope, ProfileBody, CustomAttributeBody, AccessLevelBody, SubscriptionBody,
        NonSubscriptionBody, OfferBody, Envelope, EnvelopeItem,
        schemas::ProfileRequest, schemas::CustomAttribute, schemas::InstallationMeta,
        schemas::Gender, schemas::ProfileStore, schemas::Platform, schemas::PurchaseType,
        schemas::Environment, schemas::OfferCategory, schemas::OfferType, schemas::CancellationReason,
        schemas::TransactionRequest, schemas::OneTimePurchaseRequest, schemas::SubscriptionRequest,
        schemas::OneTimePurchase, schemas::Subscription, schemas::Price, schemas::Offer,
        schemas::GrantAccessRequest, schemas::RevokeAccessRequest,
        schemas::EventPage, schemas::FeedEvent, schemas::DeliveryStatus, schemas::Attempt,
        schemas::DeletionJobRequest, schemas::JobCounts, schemas::DeletionJobSummary,
        schemas::JobItemResult, schemas::DeletionJobResult, schemas::DeletionRecord,
        schemas::DeletionRecordPage,
    )),
    modifiers(&SecuritySchemes),
    tags(
        (name = "profile", description = "Adapty-compatible profile lifecycle"),
        (name = "purchase", description = "Adapty-compatible transactions and access levels"),
        (name = "admin", description = "entitle's admin API (admin token)"),
        (name = "operations", description = "Health and metrics"),
    )
)]
pub struct ApiDoc;

struct SecuritySchemes;

impl Modify for SecuritySchemes {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "apikeyAuth",
            SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::with_description(
                "Authorization",
                "`Api-Key secret_live_…`",
            ))),
        );
        components.add_security_scheme(
            "adminToken",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

/// The document, as served.
pub fn document() -> utoipa::openapi::OpenApi {
    ApiDoc::openapi()
}

/// `GET /openapi.json`.
#[utoipa::path(
    get,
    path = "/openapi.json",
    tag = "operations",
    operation_id = "openapi",
    responses((status = 200, description = "This document (OpenAPI 3.1)", content_type = "application/json"))
)]
#[allow(clippy::unused_async)]
pub async fn serve() -> axum::Json<utoipa::openapi::OpenApi> {
    axum::Json(document())
}
