//! healthsync-api: the HTTP face of the platform. Each resource has its own module with a
//! `router()`; [`router`] merges them at the root and [`serve`] runs them until shutdown.
//!
//! - [`auth`]: accounts, sessions (JWT access tokens, rotating refresh tokens), lockout.
//! - [`access`]: the one authorization decision every handler asks, with its audit row.
//! - `patients`, `devices`, `admin`: patient profiles; devices and their keys and health;
//!   users, care teams and the audit log; `vitals`, `dashboard`, `report`: a patient's
//!   readings over time, the dashboard and the weekly or monthly report that sum them up,
//!   from `aggregates` (the five-minute rollup with raw ends); `manual_entry`: readings
//!   recorded by hand;
//!   `alerts`: alerts, their lifecycle and rules, notifications; `live`: the WebSocket;
//!   `fhir`: FHIR R4 Observation search and Patient; `assistant`: the patient's symptom
//!   assistant conversations and the providers its replies recommend.
//! - `telemetry`: HTTP ingestion for devices; `health`, `metrics`: probes and Prometheus.
//! - [`openapi`]: the OpenAPI 3.1 document generated from the handlers, and its docs page.
//! - `web`: the web dashboard at `/`, a client of this API like any other.
//! - [`error`]: the one error type and the extractors that answer with it;
//!   `pagination` and `rate_limit`: what every list and every client share.

pub mod access;
mod admin;
mod aggregates;
mod alerts;
mod assistant;
pub mod auth;
mod dashboard;
mod devices;
pub mod error;
mod fhir;
mod health;
mod live;
mod manual_entry;
mod metrics;
pub mod openapi;
mod pagination;
mod patients;
mod rate_limit;
mod report;
mod telemetry;
mod vitals;
mod web;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::http::{HeaderName, HeaderValue, Method, Request, header};
use healthsync_analytics::assistant::conversation::Assistant;
use healthsync_analytics::service::Alerts;
use healthsync_core::api_keys::KeyHasher;
use healthsync_core::audit::AuditWriter;
use healthsync_core::config::ApiSettings;
use healthsync_ingest::Ingest;
use metrics_exporter_prometheus::PrometheusHandle;
use sqlx::PgPool;
use tokio::net::TcpListener;
use tower_http::cors::{AllowOrigin, CorsLayer};
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::TraceLayer;
use utoipa::openapi::OpenApi;
use utoipa_axum::router::OpenApiRouter;

use crate::auth::tokens::TokenSigner;
use crate::error::ApiError;
use crate::rate_limit::RateLimits;

/// Says whether a component of the running platform (e.g. the broker) is working.
pub type Probe = Arc<dyn Fn() -> bool + Send + Sync>;

/// Sessions and their settings.
pub struct AuthState {
    pub signer: TokenSigner,
    pub settings: ApiSettings,
}

impl AuthState {
    /// `secret` signs access tokens (see `secrets.jwt_hmac`).
    pub fn new(settings: &ApiSettings, secret: &[u8]) -> Self {
        Self {
            signer: TokenSigner::new(
                secret,
                chrono::Duration::minutes(i64::from(settings.access_token_minutes)),
            ),
            settings: settings.clone(),
        }
    }
}

/// What handlers share.
#[derive(Clone)]
pub struct AppState {
    pub pool: PgPool,
    pub auth: Arc<AuthState>,
    /// Components whose health `/readyz` reports besides the database.
    pub probes: Vec<(&'static str, Probe)>,
    /// The process's Prometheus recorder, rendered at `/metrics`.
    pub metrics: Option<PrometheusHandle>,
    /// The ingest pipeline and the key hasher, for HTTP ingestion.
    pub ingest: Option<Ingest>,
    /// The alert engine's handle: acknowledging and resolving go through it, so live
    /// views hear of every change.
    pub alerts: Option<Alerts>,
    pub hasher: Option<KeyHasher>,
    /// The symptom assistant (knowledge base and embedding model); `None` when the model
    /// is not installed, and the assistant's endpoints answer 503.
    pub assistant: Option<Arc<Assistant>>,
    /// Every audit row goes through it (group commit).
    pub audit: AuditWriter,
}

impl AppState {
    /// Starts the state's audit writer task, so it must run inside a Tokio runtime.
    pub fn new(pool: PgPool, auth: AuthState) -> Self {
        Self {
            audit: AuditWriter::start(pool.clone()),
            pool,
            auth: Arc::new(auth),
            probes: Vec::new(),
            metrics: None,
            ingest: None,
            alerts: None,
            hasher: None,
            assistant: None,
        }
    }
}

/// Sessions signed with a fixed key and limits no unit test reaches.
#[cfg(test)]
fn test_auth() -> AuthState {
    AuthState::new(
        &ApiSettings {
            rate_limit_per_minute: 1_000_000,
            auth_rate_limit_per_minute: 1_000_000,
            ..ApiSettings::default()
        },
        &[7; 32],
    )
}

/// Every documented route, and the document describing them.
fn documented() -> (Router<AppState>, OpenApi) {
    let (routes, doc) = OpenApiRouter::with_openapi(openapi::generated())
        .merge(auth::router())
        .merge(patients::router())
        .merge(devices::router())
        .merge(vitals::router())
        .merge(alerts::router())
        .merge(fhir::router())
        .merge(admin::router())
        .merge(assistant::router())
        .merge(telemetry::router())
        .split_for_parts();
    (routes, openapi::complete(doc))
}

/// The OpenAPI document of the API, as served at `/api/openapi.json`.
pub fn openapi_document() -> OpenApi {
    documented().1
}

fn cors(origins: &[String]) -> Option<CorsLayer> {
    if origins.is_empty() {
        return None;
    }
    let allow_origin = if origins.iter().any(|o| o == "*") {
        AllowOrigin::any()
    } else {
        AllowOrigin::list(origins.iter().filter_map(|o| HeaderValue::from_str(o).ok()))
    };
    Some(
        CorsLayer::new()
            .allow_origin(allow_origin)
            .allow_methods([Method::GET, Method::POST, Method::PUT, Method::DELETE])
            .allow_headers([header::AUTHORIZATION, header::CONTENT_TYPE]),
    )
}

async fn no_such_route() -> ApiError {
    ApiError::NotFound("route")
}

/// The whole API.
pub fn router(state: AppState) -> Router {
    let settings = &state.auth.settings;
    let limits = RateLimits::new(
        settings.rate_limit_per_minute,
        settings.auth_rate_limit_per_minute,
    );
    let (documented, doc) = documented();
    let mut api = documented
        .merge(openapi::router(&doc))
        .merge(live::router())
        .fallback(no_such_route)
        .layer(axum::middleware::from_fn_with_state(
            limits,
            rate_limit::limit,
        ));
    if let Some(cors) = cors(&settings.cors_origins) {
        api = api.layer(cors);
    }
    let request_id = HeaderName::from_static("x-request-id");
    Router::new()
        .merge(health::router())
        .merge(metrics::router())
        .merge(web::router())
        .merge(api)
        .layer(
            TraceLayer::new_for_http().make_span_with(|request: &Request<_>| {
                let id = request
                    .headers()
                    .get("x-request-id")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("-");
                tracing::info_span!("http", method = %request.method(), path = %request.uri().path(), request_id = %id)
            }),
        )
        .layer(PropagateRequestIdLayer::new(request_id.clone()))
        .layer(SetRequestIdLayer::new(request_id, MakeRequestUuid))
        .with_state(state)
}

/// Serves the API on `listener` until `shutdown` completes, then lets in-flight requests
/// finish.
pub async fn serve(
    listener: TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(
        listener,
        router(state).into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown)
    .await
}
