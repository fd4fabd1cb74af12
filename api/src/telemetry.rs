//! `POST /api/telemetry`: ingestion for devices that cannot speak MQTT. The device names
//! itself in `X-Device-Id` and proves it with its API key in `X-Api-Key`; the body is a wire
//! format v1 message; the answer, sent after commit, is the same ack MQTT devices receive.

use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::HeaderMap;
use healthsync_core::devices::{self, DeviceStatus};
use healthsync_core::ids::DeviceId;
use healthsync_core::telemetry::Ack;
use healthsync_ingest::{IngestError, Outcome};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::error::{ApiError, Json};

/// The same limit as the broker's default payload limit.
const MAX_BODY: usize = 64 * 1024;
const BAD_CREDENTIALS: &str = "missing or invalid X-Device-Id / X-Api-Key";

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(ingest))
        .layer(DefaultBodyLimit::max(MAX_BODY))
}

/// Store a wire format v1 message (`{"seq", "readings": [...], "battery"?}`) from a
/// device; the answer comes after the accepted readings are committed.
#[utoipa::path(post, path = "/api/telemetry", tag = "telemetry",
    params(
        ("x-device-id" = String, Header, description = "The device's id"),
        ("x-api-key" = String, Header, description = "The device's API key"),
    ),
    request_body(content = Object, content_type = "application/json",
        description = "A telemetry message in wire format v1"),
    responses(
        (status = 200, description = "Stored; rejected readings are listed by index", body = Ack),
        (status = 400, description = "Not a wire format v1 message", body = crate::error::ErrorBody),
        (status = 401, description = "Unknown device, wrong key or revoked device", body = crate::error::ErrorBody),
        (status = 413, description = "Body over 64 KiB"),
        (status = 503, description = "Ingest overloaded or not running here; see Retry-After", body = crate::error::ErrorBody),
    ))]
async fn ingest(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<Ack>, ApiError> {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let device: DeviceId = header("x-device-id")
        .and_then(|id| id.parse().ok())
        .ok_or(ApiError::Unauthorized(BAD_CREDENTIALS))?;
    let key = header("x-api-key").ok_or(ApiError::Unauthorized(BAD_CREDENTIALS))?;
    let (Some(ingest), Some(hasher)) = (&state.ingest, &state.hasher) else {
        return Err(ingest_not_running());
    };
    let credential = devices::credential(&state.pool, device)
        .await
        .map_err(ApiError::internal)?
        .filter(|c| c.status == DeviceStatus::Active)
        .ok_or(ApiError::Unauthorized(BAD_CREDENTIALS))?;
    if !hasher.verify(key, &credential.api_key_hash) {
        return Err(ApiError::Unauthorized(BAD_CREDENTIALS));
    }
    match ingest.submit(device, body).await {
        Ok(Outcome::Stored(ack)) => Ok(Json(ack)),
        Ok(Outcome::Refused { code, message }) => Err(ApiError::BadRequest {
            code,
            message,
            field: None,
        }),
        Ok(Outcome::UnknownDevice) => Err(ApiError::Unauthorized(BAD_CREDENTIALS)),
        Err(e) => Err(ingest_unavailable(e)),
    }
}

/// For a process that runs the API without ingest.
pub fn ingest_not_running() -> ApiError {
    ApiError::Unavailable {
        message: "ingest is not running in this process".into(),
        retry_after: 30,
    }
}

/// When ingest cannot take a submission.
pub fn ingest_unavailable(e: IngestError) -> ApiError {
    match e {
        IngestError::Overloaded => ApiError::Unavailable {
            message: "ingest is overloaded".into(),
            retry_after: 1,
        },
        e => ApiError::Unavailable {
            message: e.to_string(),
            retry_after: 5,
        },
    }
}

#[cfg(test)]
mod tests {
    use axum::body::Body;
    use axum::http::Request;
    use healthsync_core::api_keys::KeyHasher;
    use healthsync_core::config::IngestSettings;
    use healthsync_core::devices::{self, DeviceKind};
    use healthsync_core::test_support::{test_db, test_device, test_patient};
    use healthsync_ingest::{Pipeline, Source};
    use http_body_util::BodyExt;
    use tower::ServiceExt;

    use crate::{AppState, router};

    async fn post(
        app: axum::Router,
        id: &str,
        key: &str,
        body: String,
    ) -> (u16, serde_json::Value) {
        let request = Request::post("/api/telemetry")
            .header("x-device-id", id)
            .header("x-api-key", key)
            .header("content-type", "application/json")
            .body(Body::from(body))
            .unwrap();
        let response = app.oneshot(request).await.unwrap();
        let status = response.status().as_u16();
        let bytes = response.into_body().collect().await.unwrap().to_bytes();
        (
            status,
            serde_json::from_slice(&bytes).unwrap_or(serde_json::Value::Null),
        )
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn devices_post_telemetry_with_their_key_and_get_the_ack_after_commit() {
        let db = test_db().await;
        let hasher = KeyHasher::new(&[3; 32]);
        let patient = test_patient(&db.pool).await;
        let device = test_device(&db.pool, &hasher, patient, DeviceKind::Glucometer).await;
        let id = device.device.id.to_string();
        let key = device.api_key;
        let pipeline = Pipeline::start(db.pool.clone(), &IngestSettings::default(), Source::None)
            .await
            .unwrap();

        let mut state = AppState::new(db.pool.clone(), crate::test_auth());
        let app_without_ingest = router(state.clone());
        state.ingest = Some(pipeline.handle.clone());
        state.hasher = Some(hasher);
        let app = router(state);
        let t = chrono::Utc::now().to_rfc3339();
        let body = format!(
            r#"{{"seq": 3, "readings": [{{"metric": "blood_glucose", "t": "{t}", "v": 54}},
                                        {{"metric": "blood_glucose", "t": "{t}", "v": 5000}}]}}"#
        );
        let count = || async {
            sqlx::query_scalar::<_, i64>("SELECT count(*) FROM readings")
                .fetch_one(&db.pool)
                .await
                .unwrap()
        };

        let (status, ack) = post(app.clone(), &id, &key, body.clone()).await;
        assert_eq!(status, 200, "{ack}");
        assert_eq!(
            ack,
            serde_json::json!({"seq": 3, "accepted": 1, "rejected": [{"index": 1, "reason": "out_of_range"}]})
        );
        assert_eq!(count().await, 1);

        for (id, key) in [(id.as_str(), "hsk_wrong"), ("not-a-uuid", key.as_str())] {
            let (status, error) = post(app.clone(), id, key, body.clone()).await;
            assert_eq!(status, 401);
            assert_eq!(error["error"]["code"], "unauthorized");
        }
        let (status, error) = post(app.clone(), &id, &key, "{\"seq\": 1".into()).await;
        assert_eq!(status, 400);
        assert_eq!(error["error"]["code"], "malformed_json");
        let (status, _) = post(app_without_ingest, &id, &key, body).await;
        assert_eq!(status, 503);
        assert_eq!(count().await, 1, "refused requests stored nothing");

        devices::revoke(&db.pool, device.device.id).await.unwrap();
        let (status, _) = post(app, &id, &key, "{}".into()).await;
        assert_eq!(status, 401, "a revoked device's key is refused");
        pipeline.shutdown().await;
        db.drop_database().await;
    }
}
