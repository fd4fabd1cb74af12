//! `healthsync ingest`: an ingest worker fed by an external broker's shared subscription.

use std::process::ExitCode;

use anyhow::Context;
use clap::Args;
use healthsync_core::config::Settings;
use healthsync_core::db::Database;
use healthsync_ingest::remote::RemoteSettings;
use healthsync_ingest::{Pipeline, Source};

#[derive(Args)]
pub struct Worker {
    /// The broker, e.g. mqtt://broker.internal:1883.
    #[arg(long, value_name = "URL")]
    mqtt_url: String,
    /// Workers with the same group share the messages, each message to one of them.
    #[arg(long, default_value = "ingest", value_name = "GROUP")]
    shared_group: String,
    /// This worker's MQTT client id (default: `ingest-`, the host name and the process id).
    #[arg(long, value_name = "ID")]
    client_id: Option<String>,
    /// Credentials on the broker (for healthsync's own broker: `service:NAME` and the
    /// service's API key).
    #[arg(long)]
    username: Option<String>,
    #[arg(long)]
    password: Option<String>,
}

pub async fn run(settings: Settings, worker: Worker) -> anyhow::Result<ExitCode> {
    let (host, port) = RemoteSettings::parse_url(&worker.mqtt_url).map_err(anyhow::Error::msg)?;
    let client_id = worker.client_id.unwrap_or_else(|| {
        let host = std::fs::read_to_string("/etc/hostname").unwrap_or_default();
        format!("ingest-{}-{}", host.trim(), std::process::id())
    });
    let remote = RemoteSettings {
        host,
        port,
        client_id,
        username: worker.username,
        password: worker.password,
        shared_group: worker.shared_group,
    };
    let db = Database::open(&settings).await?;
    let pipeline = Pipeline::start(
        db.pool.clone(),
        &settings.ingest,
        Source::Remote(remote.clone()),
    )
    .await
    .context("cannot start ingest")?;
    println!(
        "ingest worker {} reading $share/{}/devices/+/telemetry from {}; Ctrl-C to stop",
        remote.client_id, remote.shared_group, worker.mqtt_url
    );
    super::up::shutdown_signal().await;
    tracing::info!("shutting down: draining ingest");
    pipeline.shutdown().await;
    db.close().await?;
    Ok(ExitCode::SUCCESS)
}
