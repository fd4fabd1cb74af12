//! `healthsync bench alerts`: how long the alert engine takes from a committed reading to
//! the alert event live views receive, while the platform carries a background load.
//!
//! A fresh in-process platform; a background load of smartwatches through the simulator's
//! load test; meanwhile, one at a time and spread over the load, pulse oximeters each
//! report one SpO2 of 85 % (a spot check: it raises a high alert at once). For each, the
//! time from ingest publishing the committed batch holding that reading to the alert
//! engine publishing the stored alert, both seen from inside the process.

use std::collections::HashMap;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::Context;
use chrono::Utc;
use clap::Args;
use healthsync_analytics::alert::AlertChange;
use healthsync_analytics::service::Clock;
use healthsync_core::catalog::Metric;
use healthsync_core::ids::{DeviceId, UserId};
use healthsync_sim::broker_bench::wire::percentile;
use healthsync_sim::firmware::{self, Command, Counters, Login, WireReading};
use healthsync_sim::load::{self, LoadOptions};
use healthsync_sim::models::Model;
use healthsync_sim::provision::{self, PlannedPatient};
use indicatif::{ProgressBar, ProgressStyle};
use tokio::sync::mpsc;

use super::alerts::AlertEngine;
use super::bench::write_report;
use super::inprocess::Platform;

#[derive(Args)]
pub struct AlertsArgs {
    /// Readings per second of the background load.
    #[arg(long, default_value_t = 20_000.0, value_name = "R")]
    background_rate: f64,
    /// Smartwatches carrying the background load.
    #[arg(long, default_value_t = 100, value_name = "N")]
    devices: usize,
    /// Alerts to raise, each from its own patient's pulse oximeter.
    #[arg(long, default_value_t = 300, value_name = "A")]
    alerts: usize,
    /// How long the background load runs; the alerts are spread over it.
    #[arg(long, default_value = "40s", value_parser = super::sim::parse_duration, value_name = "D")]
    duration: Duration,
    /// Also write the report as Markdown to this file.
    #[arg(long, value_name = "FILE.md")]
    report: Option<PathBuf>,
}

pub async fn run(args: AlertsArgs) -> anyhow::Result<ExitCode> {
    anyhow::ensure!(args.alerts > 0, "--alerts must be at least 1");
    let mut platform = Platform::start("healthsync-bench-alerts-").await?;
    let pool = platform.pool.clone();
    let background = provision::smartwatches("background", args.devices);
    let background = provision::provision(
        &pool,
        &platform.hasher,
        background,
        "bench",
        &ProgressBar::hidden(),
    )
    .await?;
    let triggers: Vec<PlannedPatient> = (1..=args.alerts)
        .map(|i| PlannedPatient {
            label: format!("trigger-{i:05}"),
            profile: "older_adult".into(),
            models: vec![Model::PulseOximeter],
        })
        .collect();
    let triggers = provision::provision(
        &pool,
        &platform.hasher,
        triggers,
        "bench",
        &ProgressBar::hidden(),
    )
    .await?;
    let engine = AlertEngine::start(
        pool.clone(),
        &platform.settings.analytics,
        platform.ingest(),
        Clock::wall(),
    )
    .await?;

    let trigger_devices: HashMap<DeviceId, UserId> =
        triggers.devices().map(|(p, d)| (d.id, p.id)).collect();
    let committed_at = Arc::new(Mutex::new(HashMap::<UserId, Instant>::new()));
    let raised_at = Arc::new(Mutex::new(HashMap::<UserId, Instant>::new()));
    let watch_commits = {
        let mut stream = platform.ingest().committed();
        let seen = committed_at.clone();
        tokio::spawn(async move {
            while let Ok(batch) = stream.recv().await {
                let now = Instant::now();
                let mut seen = seen.lock().expect("commit times");
                for reading in batch.iter() {
                    if let Some(patient) = trigger_devices.get(&reading.device) {
                        seen.entry(*patient).or_insert(now);
                    }
                }
            }
        })
    };
    let watch_alerts = {
        let mut stream = engine.analytics.alerts.subscribe();
        let seen = raised_at.clone();
        tokio::spawn(async move {
            while let Ok(event) = stream.recv().await {
                if event.change == AlertChange::Raised {
                    let now = Instant::now();
                    seen.lock()
                        .expect("alert times")
                        .entry(event.alert.patient_id)
                        .or_insert(now);
                }
            }
        })
    };

    eprintln!(
        "background: {} smartwatches, {:.0} readings/s for {:?}; {} alerts spread over it",
        args.devices, args.background_rate, args.duration, args.alerts
    );
    let options = LoadOptions {
        rate: args.background_rate,
        duration: args.duration,
        readings_per_message: 50,
        firmware: platform.firmware(),
        progress: false,
    };
    let load = tokio::spawn(async move { load::run(&background, &options, None).await });
    // Let the background devices connect and the load settle first.
    tokio::time::sleep(Duration::from_secs(5)).await;

    let bar = ProgressBar::new(args.alerts as u64).with_style(
        ProgressStyle::with_template("{bar:40} {pos}/{len} alerts triggered {elapsed}")
            .expect("valid template"),
    );
    let spacing = args.duration.saturating_sub(Duration::from_secs(10)) / args.alerts as u32;
    let counters = Arc::new(Counters::default());
    let mut oximeters = Vec::new();
    for (_, device) in triggers.devices() {
        let (tx, rx) = mpsc::channel(4);
        let login = Login {
            device: device.id,
            api_key: device.api_key.clone(),
        };
        oximeters.push(tokio::spawn(firmware::run(
            login,
            platform.firmware(),
            rx,
            counters.clone(),
        )));
        let spo2 = WireReading {
            metric: Metric::Spo2,
            t: Utc::now(),
            v: 85.0,
            v2: None,
        };
        tx.send(Command::Telemetry {
            readings: vec![spo2],
            battery: None,
        })
        .await
        .context("a pulse oximeter stopped")?;
        bar.inc(1);
        tokio::time::sleep(spacing).await;
        // Dropping the sender lets the device deliver and disconnect.
        drop(tx);
    }
    bar.finish_and_clear();
    for oximeter in oximeters {
        oximeter.await?;
    }
    let background = load.await?.context("background load")?;
    platform.stop_ingest().await;
    engine.stop().await;
    watch_commits.abort();
    watch_alerts.abort();
    let _scratch = platform.stop().await?;

    let committed_at = committed_at.lock().expect("commit times").clone();
    let raised_at = raised_at.lock().expect("alert times").clone();
    let mut latencies_us: Vec<u64> = committed_at
        .iter()
        .filter_map(|(patient, committed)| {
            let raised = raised_at.get(patient)?;
            Some(raised.saturating_duration_since(*committed).as_micros() as u64)
        })
        .collect();
    latencies_us.sort_unstable();
    let missing = args.alerts - latencies_us.len();
    let pick = |p: f64| percentile(&latencies_us, p).map_or(f64::NAN, |us| us as f64 / 1000.0);
    let report = format!(
        "healthsync bench alerts --background-rate {:.0} --devices {} --alerts {} --duration {}s\n\
         background load: {:.0} readings/s acked, ack p99 {:.0} ms\n\
         trigger readings committed: {} of {}; alerts raised: {} (missing {missing})\n\
         commit -> alert event latency: p50 {:.1} ms, p95 {:.1} ms, p99 {:.1} ms, max {:.1} ms \
         (nearest rank)\n\
         goal p99 <= 500 ms: {}\n",
        args.background_rate,
        args.devices,
        args.alerts,
        args.duration.as_secs(),
        background.acked_readings_per_sec,
        background.ack_latency_ms.p99,
        committed_at.len(),
        args.alerts,
        latencies_us.len(),
        pick(50.0),
        pick(95.0),
        pick(99.0),
        pick(100.0),
        if missing == 0 && pick(99.0) <= 500.0 {
            "met"
        } else {
            "NOT met"
        }
    );
    print!("{report}");
    if let Some(path) = &args.report {
        write_report(path, &format!("```\n{report}```\n"))?;
    }
    Ok(if missing == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}
