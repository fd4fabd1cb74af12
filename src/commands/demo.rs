//! `healthsync up --demo`: a small simulated fleet inside the platform's process, so a
//! fresh install shows live vitals (and, once analytics runs, alerts) at once.
//!
//! The fleet is provisioned once per data directory (`<data-dir>/demo/roster.json`); that
//! first start also plays a day of history in about a minute. Later starts resume the same
//! patients in real time. Events are injected more often than in life, so that something
//! happens during a demo; their ground truth goes to `<data-dir>/demo/ground-truth.jsonl`.
//!
//! So that the web dashboard can be tried at once, the demo also has two sign-ins, written
//! to `<data-dir>/demo/logins.txt` (readable by its owner only): a clinician whose care
//! team is the whole fleet, and the first patient (who can also try the symptom
//! assistant). Their passwords are random per data directory.

use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

use anyhow::Context;
use healthsync_analytics::store;
use healthsync_core::api_keys::KeyHasher;
use healthsync_core::config::Settings;
use healthsync_core::users::{self, Email, NewUser, Role, UserStatus};
use healthsync_sim::firmware::FirmwareSettings;
use healthsync_sim::fleet::{self, FleetOptions};
use healthsync_sim::profiles::Profiles;
use healthsync_sim::provision;
use healthsync_sim::roster::Roster;
use healthsync_sim::scenario::SimOptions;
use indicatif::ProgressBar;
use sqlx::PgPool;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

const PATIENTS: usize = 7;
const SEED: u64 = 1;
const EVENT_RATE: f64 = 12.0;

/// The running demo fleet; [`Demo::stop`] lets its devices deliver what they hold.
pub struct Demo {
    stop: oneshot::Sender<()>,
    task: JoinHandle<()>,
}

impl Demo {
    pub async fn start(
        settings: &Settings,
        pool: &PgPool,
        hasher: &KeyHasher,
        mqtt: SocketAddr,
    ) -> anyhow::Result<(Demo, usize)> {
        let dir = settings.data_dir.join("demo");
        std::fs::create_dir_all(&dir)
            .with_context(|| format!("cannot create {}", dir.display()))?;
        let roster_path = dir.join("roster.json");
        let profiles = Profiles::builtin();
        let (roster, backfill) = if roster_path.exists() {
            (Roster::load(&roster_path)?, Duration::ZERO)
        } else {
            let plan = provision::plan(&profiles, PATIENTS, SEED, None)?;
            // A fresh suffix: a data directory whose roster file was deleted keeps the
            // patients of the earlier one, and e-mail addresses are unique.
            let run = format!("demo-{}", &uuid::Uuid::new_v4().simple().to_string()[..8]);
            let roster =
                provision::provision(pool, hasher, plan, &run, &ProgressBar::hidden()).await?;
            roster.save(&roster_path)?;
            (roster, Duration::from_secs(86_400))
        };
        let logins = dir.join("logins.txt");
        if !logins.exists() {
            write_logins(pool, &roster, &logins).await?;
        }
        let devices = roster.devices().count();
        let options = FleetOptions {
            sim: SimOptions {
                seed: SEED,
                rate_scale: EVENT_RATE,
            },
            speed: 1440.0,
            backfill,
            duration: None,
            firmware: FirmwareSettings {
                host: mqtt.ip().to_string(),
                port: mqtt.port(),
                drain_timeout: Duration::from_secs(5),
                ..FirmwareSettings::default()
            },
            ground_truth: Some(dir.join("ground-truth.jsonl")),
            progress: false,
        };
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            let stopped = async {
                let _ = stopped.await;
            };
            match fleet::run(&roster, &profiles, &options, stopped).await {
                Ok(report) => tracing::info!(
                    readings = report.readings,
                    unacked = report.unacked_readings,
                    "demo fleet stopped"
                ),
                Err(e) => tracing::error!(%e, "demo fleet failed"),
            }
        });
        Ok((Demo { stop, task }, devices))
    }

    pub async fn stop(self) {
        let _ = self.stop.send(());
        let _ = self.task.await;
    }
}

/// Creates the demo's clinician (care team of every demo patient), gives the first patient
/// a password, and writes both sign-ins to `path`.
async fn write_logins(pool: &PgPool, roster: &Roster, path: &Path) -> anyhow::Result<()> {
    let first = roster
        .patients
        .first()
        .context("the demo roster has no patient")?;
    let password = || uuid::Uuid::new_v4().simple().to_string();
    // A fresh suffix, as for the patients: an earlier file's clinician may still exist.
    let run = &uuid::Uuid::new_v4().simple().to_string()[..8];
    let clinician_password = password();
    let clinician = users::create(
        pool,
        NewUser {
            email: Email::parse(&format!("clinician.{run}@sim.healthsync.test"))?,
            first_name: "Demo".into(),
            last_name: "Clinician".into(),
            phone: None,
            role: Role::Clinician,
            status: UserStatus::Active,
            password: Some(clinician_password.clone()),
        },
    )
    .await?;
    for patient in &roster.patients {
        store::assign_care_team(pool, patient.id, clinician.id).await?;
    }
    let patient_password = password();
    let hash = users::hash_password(patient_password.clone()).await?;
    let patient_email: String = sqlx::query_scalar(
        "UPDATE users SET password_hash = $2, updated_at = now() WHERE id = $1 RETURNING email",
    )
    .bind(first.id)
    .bind(hash)
    .fetch_one(pool)
    .await?;
    let text = format!(
        "# Sign-ins of the demo, for the web dashboard (the address `healthsync up` prints).\n\
         clinician  {}  {clinician_password}\n\
         patient    {patient_email}  {patient_password}\n",
        clinician.email.as_str()
    );
    write_private(path, &text).with_context(|| format!("cannot write {}", path.display()))
}

/// Writes a file only its owner can read: it holds passwords.
fn write_private(path: &Path, text: &str) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)?;
    file.write_all(text.as_bytes())
}
