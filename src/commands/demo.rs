//! `healthsync up --demo`: a small simulated fleet inside the platform's process, so a
//! fresh install shows live vitals (and, once analytics runs, alerts) at once.
//!
//! The fleet is provisioned once per data directory (`<data-dir>/demo/roster.json`); that
//! first start also plays a day of history in about a minute. Later starts resume the same
//! patients in real time. Events are injected more often than in life, so that something
//! happens during a demo; their ground truth goes to `<data-dir>/demo/ground-truth.jsonl`.

use std::net::SocketAddr;
use std::time::Duration;

use anyhow::Context;
use healthsync_core::api_keys::KeyHasher;
use healthsync_core::config::Settings;
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
