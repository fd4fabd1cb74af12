//! `healthsync db ...`: the embedded PostgreSQL cluster by hand.

use std::process::ExitCode;

use anyhow::{Context, bail};
use healthsync_core::config::Settings;
use healthsync_core::db::embedded::{self, ClusterStatus, EmbeddedCluster};
use healthsync_core::db::{self as database, StartMode};

fn cluster(settings: &Settings) -> anyhow::Result<EmbeddedCluster> {
    if settings.database.url.is_some() {
        bail!("database.url is configured: healthsync does not manage that database");
    }
    // Inspecting or stopping a cluster must work even where TimescaleDB is missing.
    Ok(EmbeddedCluster::new(&settings.data_dir, false)?)
}

pub async fn start(settings: &Settings) -> anyhow::Result<ExitCode> {
    cluster(settings)?;
    let running = database::start_embedded(settings, StartMode::Detached).await?;
    let url = running.cluster().url(embedded::DATABASE);
    let options = url.parse().context("embedded cluster URL")?;
    database::create_database_if_missing(&options, embedded::DATABASE).await?;
    println!("PostgreSQL is running: {url}");
    Ok(ExitCode::SUCCESS)
}

pub fn stop(settings: &Settings) -> anyhow::Result<ExitCode> {
    if cluster(settings)?.stop()? {
        println!("PostgreSQL stopped");
    } else {
        println!("PostgreSQL was not running");
    }
    Ok(ExitCode::SUCCESS)
}

pub fn status(settings: &Settings) -> anyhow::Result<ExitCode> {
    let cluster = cluster(settings)?;
    Ok(match cluster.status() {
        ClusterStatus::Running { pid } => {
            println!("running (pid {pid}) in {}", cluster.root().display());
            ExitCode::SUCCESS
        }
        ClusterStatus::Stopped => {
            println!("stopped ({})", cluster.root().display());
            ExitCode::from(3)
        }
        ClusterStatus::NotInitialized => {
            println!("not initialised ({})", cluster.root().display());
            ExitCode::from(3)
        }
    })
}

pub fn url(settings: &Settings) -> anyhow::Result<ExitCode> {
    println!("{}", cluster(settings)?.url(embedded::DATABASE));
    Ok(ExitCode::SUCCESS)
}
