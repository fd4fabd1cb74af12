//! What every request shares: rate limits and CORS from configuration, request ids,
//! and JSON errors even for routes that do not exist.

mod common;

use axum::body::Body;
use axum::http::{Request, header};
use common::{Api, settings};
use healthsync_core::config::ApiSettings;
use serde_json::json;
use tower::ServiceExt;

#[tokio::test(flavor = "multi_thread")]
async fn the_account_endpoints_have_their_own_stricter_limit() {
    let api = Api::with_settings(ApiSettings {
        auth_rate_limit_per_minute: 3,
        ..settings()
    })
    .await;
    let body = json!({"identifier": "nobody@example.org", "password": "whatever123"});
    for _ in 0..3 {
        assert_eq!(api.post("/api/auth/login", None, body.clone()).await.0, 401);
    }
    let request = Request::post("/api/auth/login")
        .header("content-type", "application/json")
        .body(Body::from(body.to_string()))
        .unwrap();
    let response = api.app.clone().oneshot(request).await.unwrap();
    assert_eq!(response.status(), 429);
    let retry_after: u32 = response.headers()[header::RETRY_AFTER]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=20).contains(&retry_after), "{retry_after}");
    let attempts: i64 = sqlx::query_scalar("SELECT count(*) FROM login_attempts")
        .fetch_one(&api.db.pool)
        .await
        .unwrap();
    assert_eq!(attempts, 3, "a limited request goes no further");
    // Other endpoints still answer.
    assert_eq!(api.get("/api/auth/profile", None).await.0, 401);
    api.db.drop_database().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn cors_allows_only_the_configured_origins() {
    let preflight = |origin: &'static str| {
        Request::options("/api/patients")
            .header(header::ORIGIN, origin)
            .header(header::ACCESS_CONTROL_REQUEST_METHOD, "GET")
            .header(header::ACCESS_CONTROL_REQUEST_HEADERS, "authorization")
            .body(Body::empty())
            .unwrap()
    };
    let api = Api::with_settings(ApiSettings {
        cors_origins: vec!["https://clinic.example".into()],
        ..settings()
    })
    .await;
    let response = api
        .app
        .clone()
        .oneshot(preflight("https://clinic.example"))
        .await
        .unwrap();
    assert_eq!(
        response.headers()[header::ACCESS_CONTROL_ALLOW_ORIGIN],
        "https://clinic.example"
    );
    let response = api
        .app
        .clone()
        .oneshot(preflight("https://evil.example"))
        .await
        .unwrap();
    assert!(
        !response
            .headers()
            .contains_key(header::ACCESS_CONTROL_ALLOW_ORIGIN)
    );
    api.db.drop_database().await;

    let same_origin_only = Api::start().await;
    let response = same_origin_only
        .app
        .clone()
        .oneshot(preflight("https://clinic.example"))
        .await
        .unwrap();
    assert!(
        !response
            .headers()
            .contains_key(header::ACCESS_CONTROL_ALLOW_ORIGIN)
    );
    same_origin_only.db.drop_database().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn responses_carry_a_request_id_and_unknown_routes_a_json_error() {
    let api = Api::start().await;
    let response = api
        .app
        .clone()
        .oneshot(
            Request::get("/api/nothing-here")
                .body(Body::empty())
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(response.status(), 404);
    assert!(response.headers().contains_key("x-request-id"));
    let (status, body) = api.get("/api/nothing-here", None).await;
    assert_eq!((status, &body["error"]["code"]), (404, &json!("not_found")));
    // A caller's own request id is kept.
    let response = api
        .app
        .clone()
        .oneshot(
            Request::get("/healthz")
                .header("x-request-id", "trace-me-42")
                .body(Body::empty())
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(response.headers()["x-request-id"], "trace-me-42");
    api.db.drop_database().await;
}
