//! The bodies of the `healthsync` subcommands.

pub mod alerts;
pub mod alerts_bench;
pub mod alerts_eval;
pub mod api_bench;
pub mod assistant_eval;
pub mod bench;
pub mod db;
pub mod demo;
pub mod ingest;
pub mod inprocess;
pub mod registry;
pub mod sim;
pub mod up;

use std::process::ExitCode;

use healthsync_core::config::{LogFormat, LogSettings, Settings};
use healthsync_core::db::Database;
use tracing_subscriber::EnvFilter;

/// Logs go to stderr; `RUST_LOG` overrides the configured level. Short commands log only
/// warnings unless a level was configured.
pub fn init_logging(log: &LogSettings, long_running: bool) {
    let level = if long_running || log.level != LogSettings::default().level {
        log.level.as_str()
    } else {
        // rumqttd logs its clients' disconnects as errors; healthsync records those itself.
        "warn,rumqttd=off"
    };
    let filter = EnvFilter::try_from_default_env()
        .or_else(|_| EnvFilter::try_new(level))
        .unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match log.format {
        LogFormat::Text => builder.init(),
        LogFormat::Json => builder.json().init(),
    }
}

/// `healthsync migrate`: opening the database applies pending migrations.
pub async fn migrate(settings: Settings) -> anyhow::Result<ExitCode> {
    let db = Database::open(&settings).await?;
    match db.applied_migrations {
        0 => println!("database is up to date"),
        n => println!("applied {n} migration(s)"),
    }
    db.close().await?;
    Ok(ExitCode::SUCCESS)
}
