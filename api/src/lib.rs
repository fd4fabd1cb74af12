//! healthsync-api: the HTTP face of the platform. Each resource has its own module with a
//! `router()`; [`router`] merges them at the root and [`serve`] runs them until shutdown.
//!
//! Today it serves the health endpoints; accounts, patients, devices, metrics, alerts and
//! the assistant arrive with their issues.

mod health;

use std::future::Future;

use axum::Router;
use sqlx::PgPool;
use tokio::net::TcpListener;
use tower_http::trace::TraceLayer;

/// What handlers share.
#[derive(Clone)]
pub struct AppState {
    pub pool: PgPool,
}

/// The whole API.
pub fn router(state: AppState) -> Router {
    Router::new()
        .merge(health::router())
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
