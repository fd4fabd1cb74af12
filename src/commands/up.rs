//! `healthsync up`: the whole platform in one process, stopped cleanly by Ctrl-C/SIGTERM.

use std::process::ExitCode;

use anyhow::Context;
use healthsync_api::AppState;
use healthsync_core::config::Settings;
use healthsync_core::db::Database;
use tokio::net::TcpListener;
use tokio::signal::unix::{SignalKind, signal};

pub async fn run(settings: Settings) -> anyhow::Result<ExitCode> {
    let db = Database::open(&settings).await?;
    tracing::info!(storage = ?db.storage, "database ready");
    let listener = TcpListener::bind(settings.http_addr)
        .await
        .with_context(|| format!("cannot listen on {}", settings.http_addr))?;
    let http_addr = listener.local_addr()?;
    println!("healthsync is up");
    println!("  API        http://{http_addr}/");
    println!("  readiness  http://{http_addr}/readyz");
    println!("  data       {}", settings.data_dir.display());
    println!("press Ctrl-C to stop");

    let state = AppState {
        pool: db.pool.clone(),
    };
    let served = healthsync_api::serve(listener, state, shutdown_signal()).await;
    tracing::info!("shutting down");
    db.close().await?;
    served.context("HTTP server failed")?;
    Ok(ExitCode::SUCCESS)
}

/// Resolves on the first SIGINT or SIGTERM.
async fn shutdown_signal() {
    let mut term = match signal(SignalKind::terminate()) {
        Ok(s) => s,
        Err(e) => {
            tracing::error!(%e, "cannot listen for SIGTERM; only Ctrl-C stops healthsync");
            let _ = tokio::signal::ctrl_c().await;
            return;
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term.recv() => {}
    }
}
