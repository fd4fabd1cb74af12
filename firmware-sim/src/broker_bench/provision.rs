//! Credentials for the run, written straight into the platform's database: one patient,
//! the devices, and the `bench` ingest service.

use std::path::Path;
use std::sync::Arc;

use healthsync_core::api_keys::KeyHasher;
use healthsync_core::db::embedded::{self, EmbeddedCluster};
use healthsync_core::devices::{self, DeviceKind, NewDevice};
use healthsync_core::services::{self, CLIENT_ID_PREFIX, ServiceRole};
use healthsync_core::users::{self, Email, NewUser, Role, UserStatus};
use indicatif::ProgressBar;
use sqlx::postgres::PgPoolOptions;
use tokio::task::JoinSet;

use super::BenchError;

/// How the benchmark's ingest service is named on healthsync (`service:bench`).
pub const SERVICE_NAME: &str = "bench";
/// Its username on Mosquitto, whose password file cannot hold a ':' in a username.
pub const MOSQUITTO_SERVICE_USERNAME: &str = "service-bench";

/// Devices registered at once.
const CONCURRENCY: usize = 8;

/// One MQTT login.
#[derive(Clone, Debug)]
pub struct Login {
    pub client_id: String,
    pub username: String,
    pub password: String,
}

impl Login {
    /// A device: client id = username = its id.
    fn device(id: String, key: String) -> Self {
        Self {
            client_id: id.clone(),
            username: id,
            password: key,
        }
    }
}

pub struct Credentials {
    pub devices: Vec<Login>,
    /// The ingest service as healthsync knows it: `service:bench`.
    pub service: Login,
}

impl Credentials {
    /// The same service key under the username Mosquitto can store.
    pub fn mosquitto_service(&self) -> Login {
        Login {
            client_id: self.service.client_id.clone(),
            username: MOSQUITTO_SERVICE_USERNAME.into(),
            password: self.service.password.clone(),
        }
    }
}

/// Registers `count` devices and the service in the embedded database of `data_dir`, with
/// the server secret the running platform uses.
pub async fn provision(
    data_dir: &Path,
    count: usize,
    progress: &ProgressBar,
) -> Result<Credentials, BenchError> {
    let failed = |what: &str, e: &dyn std::fmt::Display| {
        BenchError::Failed(format!("provisioning {what}: {e}"))
    };
    let url = EmbeddedCluster::new(data_dir, false)
        .map_err(|e| failed("(database)", &e))?
        .url(embedded::DATABASE);
    let pool = PgPoolOptions::new()
        .max_connections(CONCURRENCY as u32)
        .connect(&url)
        .await
        .map_err(|e| failed("(database)", &e))?;
    let hasher =
        Arc::new(KeyHasher::load(None, data_dir).map_err(|e| failed("(server secret)", &e))?);

    let patient = users::create(
        &pool,
        NewUser {
            email: Email::parse("bench-patient@example.org").map_err(|e| failed("patient", &e))?,
            first_name: "Bench".into(),
            last_name: "Patient".into(),
            phone: None,
            role: Role::Patient,
            status: UserStatus::Active,
            password: None,
        },
    )
    .await
    .map_err(|e| failed("patient", &e))?
    .id;

    let service = services::create(&pool, &hasher, SERVICE_NAME, ServiceRole::Ingest)
        .await
        .map_err(|e| failed("service", &e))?;

    // Each worker registers every CONCURRENCY-th device; order is kept by index.
    let mut workers = JoinSet::new();
    for worker in 0..CONCURRENCY.min(count.max(1)) {
        let pool = pool.clone();
        let hasher = hasher.clone();
        let progress = progress.clone();
        workers.spawn(async move {
            let mut registered = Vec::new();
            for index in (worker..count).step_by(CONCURRENCY) {
                let new = NewDevice {
                    patient_id: patient,
                    kind: DeviceKind::Smartwatch,
                    display_name: Some(format!("bench device {index}")),
                    manufacturer: None,
                    model: None,
                    firmware_version: None,
                };
                let device = devices::register(&pool, &hasher, new).await?;
                registered.push((
                    index,
                    Login::device(device.device.id.to_string(), device.api_key),
                ));
                progress.inc(1);
            }
            Ok::<_, devices::DeviceError>(registered)
        });
    }
    let mut all = Vec::with_capacity(count);
    while let Some(joined) = workers.join_next().await {
        let registered = joined
            .map_err(|e| failed("devices", &e))?
            .map_err(|e| failed("devices", &e))?;
        all.extend(registered);
    }
    all.sort_by_key(|(index, _)| *index);
    pool.close().await;
    Ok(Credentials {
        devices: all.into_iter().map(|(_, login)| login).collect(),
        service: Login {
            client_id: service.client_id.clone(),
            username: format!("{CLIENT_ID_PREFIX}{SERVICE_NAME}"),
            password: service.api_key,
        },
    })
}

/// What the platform's own ingest made of the load (it reads the same telemetry).
#[derive(Clone, Debug, serde::Serialize)]
pub struct IngestCounts {
    /// Rows in `readings`.
    pub readings_stored: i64,
    /// Rows in `rejected_readings`; `None` when the platform has no such table.
    pub rejected: Option<i64>,
    /// Whether stored + rejected reached the messages sent.
    pub complete: bool,
    /// Seconds after the load ended until the counts settled (all there, or the last
    /// change before 5 s without one).
    pub settled_after_seconds: f64,
}

/// Waits until ingest has stored (or rejected) `expected` readings, or its counts stop
/// moving for a few seconds, and returns them.
pub async fn ingest_counts(data_dir: &Path, expected: u64) -> Result<IngestCounts, BenchError> {
    const QUIET: std::time::Duration = std::time::Duration::from_secs(5);
    const LIMIT: std::time::Duration = std::time::Duration::from_secs(120);
    let failed = |e: &dyn std::fmt::Display| BenchError::Failed(format!("ingest counts: {e}"));
    let url = EmbeddedCluster::new(data_dir, false)
        .map_err(|e| failed(&e))?
        .url(embedded::DATABASE);
    let pool = PgPoolOptions::new()
        .max_connections(1)
        .connect(&url)
        .await
        .map_err(|e| failed(&e))?;
    let started = std::time::Instant::now();
    let mut last = (-1, None);
    let mut last_change = started;
    let counts = loop {
        let stored: i64 = sqlx::query_scalar("SELECT count(*) FROM readings")
            .fetch_one(&pool)
            .await
            .map_err(|e| failed(&e))?;
        let rejected: Option<i64> = sqlx::query_scalar("SELECT count(*) FROM rejected_readings")
            .fetch_one(&pool)
            .await
            .ok();
        let now = (stored, rejected);
        if now != last {
            last = now;
            last_change = std::time::Instant::now();
        }
        let done = (stored + rejected.unwrap_or(0)) as u64 >= expected;
        if done || last_change.elapsed() > QUIET || started.elapsed() > LIMIT {
            let settled_at = if done {
                std::time::Instant::now()
            } else {
                last_change
            };
            break IngestCounts {
                readings_stored: stored,
                rejected,
                complete: done,
                settled_after_seconds: settled_at.duration_since(started).as_secs_f64(),
            };
        }
        tokio::time::sleep(std::time::Duration::from_millis(250)).await;
    };
    pool.close().await;
    Ok(counts)
}
