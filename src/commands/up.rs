//! `healthsync up`: the whole platform in one process, stopped cleanly by Ctrl-C/SIGTERM.

use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context;
use healthsync_api::{AppState, AuthState};

use super::alerts::AlertEngine;
use super::demo::Demo;
use healthsync_analytics::assistant::conversation::Assistant;
use healthsync_analytics::assistant::embedding::INSTALL_HINT;
use healthsync_analytics::service::Clock;
use healthsync_broker::Broker;
use healthsync_core::api_keys::KeyHasher;
use healthsync_core::config::Settings;
use healthsync_core::db::Database;
use healthsync_core::secrets;
use healthsync_ingest::{Pipeline, Source, retention};
use metrics_exporter_prometheus::PrometheusBuilder;
use tokio::net::TcpListener;
use tokio::signal::unix::{SignalKind, signal};

pub async fn run(settings: Settings, demo: bool) -> anyhow::Result<ExitCode> {
    let metrics = PrometheusBuilder::new()
        .install_recorder()
        .context("cannot install the metrics recorder")?;
    // Seconds of CPU (the model, and every phrasing embedded): loaded meanwhile.
    let assistant = tokio::task::spawn_blocking(load_assistant);
    let db = Database::open(&settings).await?;
    tracing::info!(storage = ?db.storage, "database ready");
    let hasher = KeyHasher::load(settings.secrets.api_key_hmac.as_deref(), &settings.data_dir)?;
    let jwt_secret = secrets::load(
        settings.secrets.jwt_hmac.as_deref(),
        "secrets.jwt_hmac",
        &settings.data_dir,
        "jwt-hmac",
    )?;
    let broker = Broker::start(
        settings.mqtt_addr,
        &settings.broker,
        db.pool.clone(),
        hasher.clone(),
    )
    .await
    .context("cannot start the MQTT broker")?;
    let ingest = Pipeline::start(db.pool.clone(), &settings.ingest, Source::Broker(&broker))
        .await
        .context("cannot start ingest")?;
    retention::spawn(db.pool.clone(), settings.ingest.retention_days);
    let alerts = AlertEngine::start(
        db.pool.clone(),
        &settings.analytics,
        &ingest.handle,
        Clock::wall(),
    )
    .await?;
    // Before listening: a client that connects is answered at once, and "up" means up.
    let assistant = match assistant.await {
        Ok(Ok(assistant)) => Some(Arc::new(assistant)),
        Ok(Err(e)) => {
            let mut error = format!("{e:#}");
            if !error.contains(INSTALL_HINT) {
                error = format!("{error}; {INSTALL_HINT}");
            }
            tracing::warn!(%error, "the symptom assistant is unavailable: its endpoints answer 503");
            None
        }
        Err(e) => {
            tracing::warn!(%e, "loading the symptom assistant failed: its endpoints answer 503");
            None
        }
    };
    let listener = TcpListener::bind(settings.http_addr)
        .await
        .with_context(|| format!("cannot listen on {}", settings.http_addr))?;
    let http_addr = listener.local_addr()?;
    println!("healthsync is up");
    println!("  dashboard  http://{http_addr}/");
    println!("  API docs   http://{http_addr}/api/docs");
    println!("  readiness  http://{http_addr}/readyz");
    println!("  MQTT       mqtt://{}  (3.1.1 and 5)", broker.mqtt_addr());
    if let Some(tls) = broker.tls_addr() {
        println!("  MQTT/TLS   mqtts://{tls}");
    }
    println!("  data       {}", settings.data_dir.display());
    let demo = if demo {
        let (demo, devices) = Demo::start(&settings, &db.pool, &hasher, broker.mqtt_addr()).await?;
        let dir = settings.data_dir.join("demo");
        println!(
            "  demo fleet {devices} simulated devices streaming (see {})",
            dir.display()
        );
        println!(
            "  sign in    as the demo clinician or patient: {}",
            dir.join("logins.txt").display()
        );
        Some(demo)
    } else {
        None
    };
    println!("press Ctrl-C to stop");

    let mut state = AppState::new(db.pool.clone(), AuthState::new(&settings.api, &jwt_secret));
    state.probes.push(("broker", Arc::new(broker.probe())));
    state.metrics = Some(metrics);
    state.ingest = Some(ingest.handle.clone());
    state.alerts = Some(alerts.analytics.alerts.clone());
    state.hasher = Some(hasher);
    state.assistant = assistant;
    let served = healthsync_api::serve(listener, state, shutdown_signal()).await;
    if let Some(demo) = demo {
        // Before ingest stops, so the devices' last messages are still acked.
        demo.stop().await;
    }
    tracing::info!("shutting down: draining ingest");
    ingest.shutdown().await;
    alerts.stop().await;
    broker.shutdown().await;
    db.close().await?;
    served.context("HTTP server failed")?;
    Ok(ExitCode::SUCCESS)
}

/// The symptom assistant, timed in the log.
fn load_assistant() -> anyhow::Result<Assistant> {
    let started = std::time::Instant::now();
    let assistant = Assistant::load()?;
    tracing::info!(
        seconds = started.elapsed().as_secs_f64(),
        "symptom assistant loaded"
    );
    Ok(assistant)
}

/// Resolves on the first SIGINT or SIGTERM.
pub async fn shutdown_signal() {
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
