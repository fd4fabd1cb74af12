//! healthsync-api: the HTTP face of the platform. Each resource has its own module with a
//! `router()`; [`router`] merges them at the root and [`serve`] runs them until shutdown.
//!
//! Today it serves the health and metrics endpoints and HTTP ingestion; accounts,
//! patients, devices, metrics, alerts and the assistant arrive with their issues.

pub mod error;
mod health;
mod metrics;
mod telemetry;

use std::future::Future;
use std::sync::Arc;

use axum::Router;
use healthsync_core::api_keys::KeyHasher;
use healthsync_ingest::Ingest;
use metrics_exporter_prometheus::PrometheusHandle;
use sqlx::PgPool;
use tokio::net::TcpListener;
use tower_http::trace::TraceLayer;

/// Says whether a component of the running platform (e.g. the broker) is working.
pub type Probe = Arc<dyn Fn() -> bool + Send + Sync>;

/// What handlers share.
#[derive(Clone)]
pub struct AppState {
    pub pool: PgPool,
    /// Components whose health `/readyz` reports besides the database.
    pub probes: Vec<(&'static str, Probe)>,
    /// The process's Prometheus recorder, rendered at `/metrics`.
    pub metrics: Option<PrometheusHandle>,
    /// The ingest pipeline and the key hasher, for HTTP ingestion.
    pub ingest: Option<Ingest>,
    pub hasher: Option<KeyHasher>,
}

impl AppState {
    pub fn new(pool: PgPool) -> Self {
        Self {
            pool,
            probes: Vec::new(),
            metrics: None,
            ingest: None,
            hasher: None,
        }
    }
}

/// The whole API.
pub fn router(state: AppState) -> Router {
    Router::new()
        .merge(health::router())
        .merge(metrics::router())
        .merge(telemetry::router())
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}

/// Serves the API on `listener` until `shutdown` completes, then lets in-flight requests
/// finish.
pub async fn serve(
    listener: TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, router(state))
        .with_graceful_shutdown(shutdown)
        .await
}
