//! What the API's integration tests share: the real router on a fresh database, a
//! request helper, and a cast of users (two patients, a clinician on patient A's care
//! team, one who is not, a clinician awaiting approval, an admin).
#![allow(dead_code)] // each test crate uses its own subset

use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::http::{Method, Request};
use healthsync_analytics::assistant::conversation::Assistant;
use healthsync_analytics::service::{Analytics, Clock};
use healthsync_api::auth::caller::ClientMeta;
use healthsync_api::auth::sessions;
use healthsync_api::{AppState, AuthState, router};
use healthsync_core::api_keys::KeyHasher;
use healthsync_core::config::{AnalyticsSettings, ApiSettings, IngestSettings};
use healthsync_core::devices::{self, DeviceKind, NewDevice};
use healthsync_core::ids::{DeviceId, UserId};
use healthsync_core::test_support::{TestDb, test_db};
use healthsync_core::users::{self, Role, UserStatus};
use healthsync_ingest::{Pipeline, Source};
use http_body_util::BodyExt;
use serde_json::Value;
use tokio::sync::OnceCell;
use tower::ServiceExt;
use uuid::Uuid;

pub const PASSWORD: &str = "correct horse battery";

pub struct Api {
    pub db: TestDb,
    /// The alert engine, whose handle acknowledges and resolves.
    pub analytics: Analytics,
    pub state: AppState,
    pub app: Router,
    /// Ingest without a broker: manual entries and HTTP telemetry go through it.
    pub ingest: Pipeline,
}

pub fn settings() -> ApiSettings {
    ApiSettings {
        // One client address for every in-process request: no limit gets in the way.
        rate_limit_per_minute: 1_000_000,
        auth_rate_limit_per_minute: 1_000_000,
        ..ApiSettings::default()
    }
}

/// The symptom assistant, loaded once per test binary (it takes seconds): the bundled
/// knowledge base and the model that deploy/setup.sh installs.
pub async fn assistant() -> Arc<Assistant> {
    static ASSISTANT: OnceCell<Arc<Assistant>> = OnceCell::const_new();
    ASSISTANT
        .get_or_init(|| async {
            tokio::task::spawn_blocking(|| {
                Arc::new(Assistant::load().unwrap_or_else(|e| panic!("{e}")))
            })
            .await
            .unwrap()
        })
        .await
        .clone()
}

impl Api {
    pub async fn start() -> Self {
        Self::with_settings(settings()).await
    }

    pub async fn with_settings(settings: ApiSettings) -> Self {
        Self::build(settings, None).await
    }

    /// With the symptom assistant (see [`assistant`]); without it, its endpoints answer 503.
    pub async fn with_assistant(assistant: Arc<Assistant>) -> Self {
        Self::build(settings(), Some(assistant)).await
    }

    async fn build(settings: ApiSettings, assistant: Option<Arc<Assistant>>) -> Self {
        let db = test_db().await;
        let mut state = AppState::new(db.pool.clone(), AuthState::new(&settings, &[42; 32]));
        state.hasher = Some(KeyHasher::new(&[43; 32]));
        state.assistant = assistant;
        let analytics = Analytics::start(
            db.pool.clone(),
            &AnalyticsSettings::default(),
            Clock::wall(),
        )
        .await
        .unwrap();
        state.alerts = Some(analytics.alerts.clone());
        let ingest = Pipeline::start(db.pool.clone(), &IngestSettings::default(), Source::None)
            .await
            .unwrap();
        state.ingest = Some(ingest.handle.clone());
        let app = router(state.clone());
        Self {
            db,
            analytics,
            state,
            app,
            ingest,
        }
    }

    /// Recomputes the five-minute rollup, which ingest keeps, after a test wrote readings
    /// straight into the table.
    pub async fn roll_up(&self) {
        sqlx::query("SELECT rollup_readings('-infinity', 'infinity')")
            .execute(&self.db.pool)
            .await
            .unwrap();
    }

    /// Sends one request; the answer's status and JSON body (`Null` when empty).
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> (u16, Value) {
        let mut request = Request::builder().method(method).uri(path);
        if let Some(token) = token {
            request = request.header("authorization", format!("Bearer {token}"));
        }
        let request = match body {
            Some(body) => request
                .header("content-type", "application/json")
                .body(Body::from(body.to_string())),
            None => request.body(Body::empty()),
        }
        .unwrap();
        let response = self.app.clone().oneshot(request).await.unwrap();
        let status = response.status().as_u16();
        let bytes = response.into_body().collect().await.unwrap().to_bytes();
        (
            status,
            serde_json::from_slice(&bytes).unwrap_or(Value::Null),
        )
    }

    /// A GET whose answer is not JSON: its status, content type and body text.
    pub async fn get_text(&self, path: &str, token: &str) -> (u16, String, String) {
        let request = Request::get(path)
            .header("authorization", format!("Bearer {token}"))
            .body(Body::empty())
            .unwrap();
        let response = self.app.clone().oneshot(request).await.unwrap();
        let status = response.status().as_u16();
        let content_type = response
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        let bytes = response.into_body().collect().await.unwrap().to_bytes();
        (
            status,
            content_type,
            String::from_utf8(bytes.to_vec()).unwrap(),
        )
    }

    pub async fn get(&self, path: &str, token: Option<&str>) -> (u16, Value) {
        self.call(Method::GET, path, token, None).await
    }

    pub async fn post(&self, path: &str, token: Option<&str>, body: Value) -> (u16, Value) {
        self.call(Method::POST, path, token, Some(body)).await
    }

    pub async fn put(&self, path: &str, token: Option<&str>, body: Value) -> (u16, Value) {
        self.call(Method::PUT, path, token, Some(body)).await
    }

    /// A user with [`PASSWORD`], inserted directly (one shared argon2 hash keeps the
    /// tests quick).
    pub async fn user(&self, role: Role, status: UserStatus) -> Person {
        static HASH: OnceCell<String> = OnceCell::const_new();
        let hash = HASH
            .get_or_init(|| async { users::hash_password(PASSWORD.into()).await.unwrap() })
            .await;
        let id = UserId::new();
        let email = format!("{role:?}-{}@example.org", Uuid::new_v4().simple()).to_lowercase();
        sqlx::query(
            "INSERT INTO users (id, email, first_name, last_name, role, status, password_hash)
             VALUES ($1, $2, 'Test', $3, $4, $5, $6)",
        )
        .bind(id)
        .bind(&email)
        .bind(format!("{role:?}"))
        .bind(role)
        .bind(status)
        .bind(hash)
        .execute(&self.db.pool)
        .await
        .unwrap();
        if role == Role::Patient {
            sqlx::query("INSERT INTO patients (user_id) VALUES ($1)")
                .bind(id)
                .execute(&self.db.pool)
                .await
                .unwrap();
        }
        Person { id, email }
    }

    /// A logged-in session for `person`, as a login would start it.
    pub async fn session(&self, person: &Person) -> sessions::TokenPair {
        sessions::start(&self.state, person.id, &ClientMeta::default())
            .await
            .unwrap()
    }

    pub async fn care_team(&self, patient: &Person, clinician: &Person) {
        sqlx::query("INSERT INTO care_team (patient_id, clinician_id) VALUES ($1, $2)")
            .bind(patient.id)
            .bind(clinician.id)
            .execute(&self.db.pool)
            .await
            .unwrap();
    }

    pub async fn cast(&self) -> Cast {
        let mut cast = Cast {
            patient_a: self.user(Role::Patient, UserStatus::Active).await,
            patient_b: self.user(Role::Patient, UserStatus::Active).await,
            clinician_of_a: self.user(Role::Clinician, UserStatus::Active).await,
            other_clinician: self.user(Role::Clinician, UserStatus::Active).await,
            pending_clinician: self
                .user(Role::Clinician, UserStatus::PendingApproval)
                .await,
            admin: self.user(Role::Admin, UserStatus::Active).await,
            device_a: DeviceId::new(),
            alert_a: Uuid::nil(),
            notification_of_a: 0,
            conversation_a: Uuid::nil(),
        };
        self.care_team(&cast.patient_a, &cast.clinician_of_a).await;
        cast.device_a = self.device(&cast.patient_a).await;
        cast.alert_a = self.alert(&cast.patient_a).await;
        cast.notification_of_a = self.notification(&cast.clinician_of_a, cast.alert_a).await;
        cast.conversation_a = self.conversation(&cast.patient_a).await;
        cast
    }

    /// An empty symptom-assistant conversation of `patient`.
    pub async fn conversation(&self, patient: &Person) -> Uuid {
        let id = Uuid::now_v7();
        let state =
            serde_json::to_value(healthsync_analytics::assistant::conversation::State::default())
                .unwrap();
        let knowledge = healthsync_analytics::assistant::knowledge::KnowledgeBase::bundled()
            .unwrap()
            .fingerprint()
            .to_owned();
        sqlx::query(
            "INSERT INTO assistant_conversations (id, patient_id, state, knowledge)
             VALUES ($1, $2, $3, $4)",
        )
        .bind(id)
        .bind(patient.id)
        .bind(state)
        .bind(knowledge)
        .execute(&self.db.pool)
        .await
        .unwrap();
        id
    }

    /// A smartwatch registered for `patient`.
    pub async fn device(&self, patient: &Person) -> DeviceId {
        let new = NewDevice {
            patient_id: patient.id,
            kind: DeviceKind::Smartwatch,
            display_name: None,
            manufacturer: None,
            model: None,
            firmware_version: None,
        };
        devices::register(&self.db.pool, self.state.hasher.as_ref().unwrap(), new)
            .await
            .unwrap()
            .device
            .id
    }

    /// An open high alert for `patient`, as the engine would store it.
    pub async fn alert(&self, patient: &Person) -> Uuid {
        let id = Uuid::now_v7();
        sqlx::query(
            "INSERT INTO alerts (id, patient_id, key, rule, metric, severity, title, message,
                                 started_at, triggered_at, evidence)
             VALUES ($1, $2, $3, 'spo2_low', 'spo2', 'high', 'SpO2 low', 'SpO2 86 %',
                     now() - interval '2 minutes', now(), '{\"readings\": []}')",
        )
        .bind(id)
        .bind(patient.id)
        .bind(format!("spo2_low:{id}"))
        .execute(&self.db.pool)
        .await
        .unwrap();
        id
    }

    /// A notification about `alert` for `user`.
    pub async fn notification(&self, user: &Person, alert: Uuid) -> i64 {
        sqlx::query_scalar(
            "INSERT INTO notifications (user_id, alert_id, kind, title, body)
             VALUES ($1, $2, 'alert', 'SpO2 low', 'SpO2 86 %') RETURNING id",
        )
        .bind(user.id)
        .bind(alert)
        .fetch_one(&self.db.pool)
        .await
        .unwrap()
    }

    pub async fn audit_rows(&self) -> i64 {
        sqlx::query_scalar("SELECT count(*) FROM audit_log")
            .fetch_one(&self.db.pool)
            .await
            .unwrap()
    }
}

#[derive(Clone, Debug)]
pub struct Person {
    pub id: UserId,
    pub email: String,
}

pub struct Cast {
    pub patient_a: Person,
    pub patient_b: Person,
    pub clinician_of_a: Person,
    pub other_clinician: Person,
    pub pending_clinician: Person,
    pub admin: Person,
    /// Patient A's smartwatch.
    pub device_a: DeviceId,
    /// An open high alert of patient A.
    pub alert_a: Uuid,
    /// The notification of that alert for A's clinician.
    pub notification_of_a: i64,
    /// An empty symptom-assistant conversation of patient A.
    pub conversation_a: Uuid,
}
