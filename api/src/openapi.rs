//! The OpenAPI 3.1 document, generated from the handlers' annotations, served at
//! `/api/openapi.json`, and the documentation page at `/api/docs` that renders it with
//! no resource from outside the server (it works offline).

use std::sync::Arc;

use axum::Router;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;
use utoipa::openapi::path::Operation;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{Content, OpenApi, Ref, RefOr, Response, ResponseBuilder};
use utoipa::{Modify, OpenApi as _, PartialSchema, ToSchema};

use crate::AppState;
use crate::error::ErrorBody;

const DOCS_PAGE: &str = include_str!("docs.html");

#[derive(utoipa::OpenApi)]
#[openapi(
    info(
        title = "healthsync API",
        description = "Patients, clinicians and admins of the healthsync telemetry platform. \
            Log in at `POST /api/auth/login` and send the access token as \
            `Authorization: Bearer <token>`. Errors are `{\"error\": {\"code\", \"message\", \"field\"?}}`; \
            lists are paged with `limit` and `offset` and answer `{items, next_offset?}`."
    ),
    tags(
        (name = "auth", description = "Accounts, sessions and the caller's own profile"),
        (name = "patients", description = "Patient profiles, visible to the patient, their care team and admins"),
        (name = "vitals", description = "A patient's readings: raw, bucketed, latest"),
        (name = "alerts", description = "Alerts, their lifecycle and rules; notifications"),
        (name = "devices", description = "Devices, their API keys and their health"),
        (name = "fhir", description = "FHIR R4: vital-sign Observations and Patient"),
        (name = "assistant", description = "The symptom assistant: a patient's conversations, triage and the providers to see (the patient only)"),
        (name = "admin", description = "Users, care teams, specialties and the audit log (admins only)"),
        (name = "telemetry", description = "HTTP ingestion for devices that cannot speak MQTT"),
    ),
    modifiers(&BearerScheme)
)]
pub struct ApiDoc;

struct BearerScheme;

impl Modify for BearerScheme {
    fn modify(&self, openapi: &mut OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .build(),
            ),
        );
    }
}

fn error_response(description: &str) -> RefOr<Response> {
    RefOr::T(
        ResponseBuilder::new()
            .description(description)
            .content(
                "application/json",
                Content::new(Some(Ref::from_schema_name("ErrorBody"))),
            )
            .build(),
    )
}

/// Adds the answers any operation can give besides its own: 429 (rate limit) and 500
/// everywhere, 401 and 403 where a token is needed, 404 where the path names something.
pub fn complete(mut doc: OpenApi) -> OpenApi {
    let components = doc.components.get_or_insert_with(Default::default);
    let mut schemas = Vec::new();
    ErrorBody::schemas(&mut schemas);
    schemas.push((ErrorBody::name().into_owned(), ErrorBody::schema()));
    for (name, schema) in schemas {
        components.schemas.entry(name).or_insert(schema);
    }
    for (path, item) in doc.paths.paths.iter_mut() {
        let operations: [&mut Option<Operation>; 5] = [
            &mut item.get,
            &mut item.post,
            &mut item.put,
            &mut item.patch,
            &mut item.delete,
        ];
        for operation in operations.into_iter().flatten() {
            let secured = operation.security.as_ref().is_some_and(|s| !s.is_empty());
            let mut add = |status: &str, description: &str| {
                operation
                    .responses
                    .responses
                    .entry(status.to_owned())
                    .or_insert_with(|| error_response(description));
            };
            add("429", "Too many requests from this client; see Retry-After");
            add("500", "Internal error (details are logged, not sent)");
            if secured {
                add(
                    "401",
                    "Missing, invalid or expired access token, or the session ended",
                );
                add("403", "Not allowed for this account");
            }
            if path.contains('{') {
                add("404", "Not found");
            }
        }
    }
    doc
}

/// `/api/openapi.json` and `/api/docs`.
pub fn router(doc: &OpenApi) -> Router<AppState> {
    let json: Arc<str> = doc
        .to_pretty_json()
        .expect("the OpenAPI document serialises")
        .into();
    Router::new()
        .route(
            "/api/openapi.json",
            get(move || {
                let json = json.clone();
                async move {
                    (
                        [(header::CONTENT_TYPE, "application/json")],
                        json.to_string(),
                    )
                }
            }),
        )
        .route("/api/docs", get(docs))
}

async fn docs() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            // The page loads nothing from elsewhere; say so to the browser too.
            (
                header::CONTENT_SECURITY_POLICY,
                "default-src 'self'; script-src 'unsafe-inline'; style-src 'unsafe-inline'",
            ),
        ],
        DOCS_PAGE,
    )
}

/// The document's frame (info, tags, the bearer scheme) that the routers' operations are
/// merged into.
pub fn generated() -> OpenApi {
    ApiDoc::openapi()
}
