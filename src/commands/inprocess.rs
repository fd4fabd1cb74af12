//! A fresh platform inside this process, on a scratch data directory: the embedded
//! database, the broker and ingest. The alert evaluation and the alert benchmark run on it,
//! so that they can read the alert engine's clock and streams directly.

use anyhow::Context;
use healthsync_broker::Broker;
use healthsync_core::api_keys::KeyHasher;
use healthsync_core::config::Settings;
use healthsync_core::db::Database;
use healthsync_ingest::{Ingest, Pipeline, Source};
use healthsync_sim::broker_bench::procs;
use healthsync_sim::firmware::FirmwareSettings;
use sqlx::PgPool;

pub struct Platform {
    pub settings: Settings,
    pub pool: PgPool,
    pub hasher: KeyHasher,
    ingest: Option<Pipeline>,
    db: Database,
    broker: Broker,
    /// Removed when the platform is dropped.
    pub scratch: tempfile::TempDir,
}

impl Platform {
    pub async fn start(prefix: &str) -> anyhow::Result<Platform> {
        let scratch = procs::scratch_dir(prefix)?;
        let settings = Settings {
            data_dir: scratch.path().join("data"),
            mqtt_addr: procs::free_addr()?,
            ..Settings::default()
        };
        eprintln!("starting the platform in {}", scratch.path().display());
        let db = Database::open(&settings).await?;
        let pool = db.pool.clone();
        let hasher = KeyHasher::load(None, &settings.data_dir)?;
        let broker = Broker::start(
            settings.mqtt_addr,
            &settings.broker,
            pool.clone(),
            hasher.clone(),
        )
        .await
        .context("cannot start the broker")?;
        let ingest =
            Pipeline::start(pool.clone(), &settings.ingest, Source::Broker(&broker)).await?;
        Ok(Platform {
            settings,
            pool,
            hasher,
            ingest: Some(ingest),
            db,
            broker,
            scratch,
        })
    }

    /// Firmware settings that reach this platform's broker.
    pub fn firmware(&self) -> FirmwareSettings {
        FirmwareSettings {
            host: self.broker.mqtt_addr().ip().to_string(),
            port: self.broker.mqtt_addr().port(),
            ..FirmwareSettings::default()
        }
    }

    /// The running ingest pipeline's handle.
    pub fn ingest(&self) -> &Ingest {
        &self
            .ingest
            .as_ref()
            .expect("ingest runs until stop_ingest")
            .handle
    }

    /// Drains and stops ingest: everything acked is committed and published.
    pub async fn stop_ingest(&mut self) {
        if let Some(ingest) = self.ingest.take() {
            ingest.shutdown().await;
        }
    }

    /// Stops ingest (if still running), the broker and the database.
    pub async fn stop(mut self) -> anyhow::Result<tempfile::TempDir> {
        self.stop_ingest().await;
        self.broker.shutdown().await;
        self.db.close().await?;
        Ok(self.scratch)
    }
}
