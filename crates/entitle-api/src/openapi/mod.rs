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
    modifiers(&SecuritySchemes, &OptionalProfileBodies, &DeadlineResponses),
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

/// Create and update take their body as optional (spec §4.1: the docs' "sign up from web"
/// recipe creates a profile with no body at all; an update without one changes nothing), which
/// the annotations cannot say of a `$ref` body.
struct OptionalProfileBodies;

impl Modify for OptionalProfileBodies {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let Some(path) = openapi
            .paths
            .paths
            .get_mut("/api/v2/server-side-api/profile/")
        else {
            return;
        };
        for operation in [path.post.as_mut(), path.patch.as_mut()]
            .into_iter()
            .flatten()
        {
            if let Some(body) = operation.request_body.as_mut() {
                body.required = Some(utoipa::openapi::Required::False);
            }
        }
    }
}

/// Every request of the Adapty API and of the admin API runs under one deadline
/// (`--request-timeout`): a body not in by then answers 408, a request still being handled 503
/// (as does storage that is shutting down). The annotations list what each route decides; these
/// two come from the layer around them all.
struct DeadlineResponses;

impl Modify for DeadlineResponses {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::{ContentBuilder, Ref, ResponseBuilder};
        let envelope = |description: &str| {
            ResponseBuilder::new()
                .description(description)
                .content(
                    "application/json",
                    ContentBuilder::new()
                        .schema(Some(Ref::from_schema_name("Envelope")))
                        .build(),
                )
                .build()
        };
        for (route, path) in openapi.paths.paths.iter_mut() {
            if !(route.starts_with("/api/") || route.starts_with("/admin/")) {
                continue;
            }
            let operations = [
                path.get.as_mut(),
                path.post.as_mut(),
                path.patch.as_mut(),
                path.delete.as_mut(),
            ];
            for operation in operations.into_iter().flatten() {
                let responses = &mut operation.responses.responses;
                responses.entry("408".to_owned()).or_insert_with(|| {
                    envelope(
                        "`request_timeout`: the body did not arrive in full before the deadline",
                    )
                    .into()
                });
                responses.entry("503".to_owned()).or_insert_with(|| {
                    envelope("`request_timeout` past the deadline, or `service_unavailable` while storage is unavailable").into()
                });
            }
        }
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
