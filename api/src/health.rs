//! Liveness and readiness probes: `/healthz` answers while the process runs; `/readyz`
//! answers 200 only when the database is reachable and fully migrated and every platform
//! component (the broker) is running.

use std::collections::BTreeMap;

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use healthsync_core::db::{self, Readiness};
use serde::Serialize;

use crate::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
}

async fn healthz() -> &'static str {
    "ok"
}

#[derive(Serialize)]
struct Ready {
    #[serde(flatten)]
    database: Readiness,
    components: BTreeMap<&'static str, bool>,
}

async fn readyz(State(state): State<AppState>) -> (StatusCode, Json<Ready>) {
    let database = db::readiness(&state.pool).await;
    let components: BTreeMap<_, _> = state
        .probes
        .iter()
        .map(|(name, probe)| (*name, probe()))
        .collect();
    let status = if database.is_ready() && components.values().all(|ok| *ok) {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (
        status,
        Json(Ready {
            database,
            components,
        }),
    )
}

#[cfg(test)]
mod tests {
    use axum::body::Body;
    use axum::http::Request;
    use healthsync_core::test_support::test_db;
    use http_body_util::BodyExt;
    use tower::ServiceExt;

    use crate::{AppState, router};

    async fn get(app: axum::Router, uri: &str) -> (u16, serde_json::Value) {
        let response = app
            .oneshot(Request::get(uri).body(Body::empty()).unwrap())
            .await
            .unwrap();
        let status = response.status().as_u16();
        let bytes = response.into_body().collect().await.unwrap().to_bytes();
        let json = serde_json::from_slice(&bytes).unwrap_or(serde_json::Value::Null);
        (status, json)
    }

    #[tokio::test]
    async fn ready_when_migrated_and_not_after_a_migration_is_lost() {
        let db = test_db().await;
        let app = router(AppState::new(db.pool.clone(), crate::test_auth()));
        let (status, body) = get(app.clone(), "/readyz").await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["storage"]["kind"], "timescaledb");
        assert_eq!(body["storage"]["license"], "apache");

        sqlx::query("DELETE FROM _sqlx_migrations")
            .execute(&db.pool)
            .await
            .unwrap();
        let (status, body) = get(app, "/readyz").await;
        assert_eq!(status, 503, "{body}");
        assert_eq!(body["migrations"], false);
        db.drop_database().await;
    }

    #[tokio::test]
    async fn not_ready_while_a_component_is_down() {
        let db = test_db().await;
        let mut state = AppState::new(db.pool.clone(), crate::test_auth());
        state.probes.push(("broker", std::sync::Arc::new(|| false)));
        let (status, body) = get(router(state), "/readyz").await;
        assert_eq!(status, 503, "{body}");
        assert_eq!(body["database"], true);
        assert_eq!(body["components"]["broker"], false);
        db.drop_database().await;
    }

    #[tokio::test]
    async fn not_ready_when_the_database_is_gone() {
        let db = test_db().await;
        let pool = db.pool.clone();
        let app = router(AppState::new(pool.clone(), crate::test_auth()));
        db.drop_database().await;
        let (status, body) = get(app, "/readyz").await;
        assert_eq!(status, 503);
        assert_eq!(body["database"], false);
    }
}
