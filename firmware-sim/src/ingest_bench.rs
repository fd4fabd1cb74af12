//! The ingest benchmark behind `healthsync bench ingest`: the load test at rising rates
//! against a fresh platform until ack latency or loss breaks, the raw binary-COPY limit of
//! the same `readings` table in the same run (into the empty table before the load, and
//! again after it, since the indexes' growth slows every insert), and the same message shape pushed through
//! Debian's Mosquitto alone (no ingest) for the broker's share of the cost.
//!
//! Every step registers fresh devices, so its database check counts only its own rows.
//! It is a benchmark, not a test: it asserts no timing, it reports.

use std::fmt::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

use healthsync_core::api_keys::KeyHasher;
use healthsync_core::db::embedded::{self, EmbeddedCluster};
use healthsync_ingest::copy_limit::{self, CopyLimit};
use indicatif::ProgressBar;
use serde::Serialize;
use sqlx::PgPool;

use crate::broker_bench::load::{self as broker_load, LoadResult, LoadSettings};
use crate::broker_bench::procs::{self, MosquittoFiles, MosquittoUser, Platform};
use crate::broker_bench::provision::Login as MqttLogin;
use crate::broker_bench::report::{Machine, load_average};
use crate::broker_bench::{BenchError, bar};
use crate::firmware::FirmwareSettings;
use crate::load::{self, LoadOptions, LoadReport};
use crate::provision::{provision, smartwatches};

/// A step holds when the platform acks at least this share of what was offered...
const KEEPS_UP: f64 = 0.95;
/// ...with its p99 ack latency under this.
const P99_LIMIT_MS: f64 = 1000.0;
/// Steps at most, rising by [`STEP_FACTOR`] each.
const MAX_STEPS: usize = 8;
const STEP_FACTOR: f64 = 1.25;
const COPY_ROWS: usize = 500_000;
const COPY_BATCH: usize = 5_000;

#[derive(Clone, Debug)]
pub struct IngestBenchOptions {
    pub exe: PathBuf,
    pub devices: usize,
    pub start_rate: f64,
    pub step_duration: Duration,
    pub readings_per_message: usize,
    pub command: String,
}

#[derive(Clone, Debug, Serialize)]
pub struct Step {
    pub target_rate: f64,
    pub held: bool,
    pub report: LoadReport,
}

#[derive(Clone, Debug, Serialize)]
pub struct MosquittoFigures {
    pub version: String,
    pub messages_per_sec: f64,
    pub readings_per_sec: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub lost: u64,
}

#[derive(Clone, Debug, Serialize)]
pub struct IngestBenchReport {
    pub command: String,
    pub started_at: String,
    pub machine: Machine,
    pub devices: usize,
    pub readings_per_message: usize,
    pub step_seconds: f64,
    pub steps: Vec<Step>,
    /// The highest acked readings/s of a step that held.
    pub max_sustained: f64,
    /// The load test at half of that.
    pub half_max: Option<Step>,
    /// The raw COPY limit into the empty table, before the load...
    pub copy_before: CopyLimit,
    /// ...and into the table as the load left it (bigger indexes).
    pub copy_after: CopyLimit,
    /// Max sustained over the higher of the two.
    pub ratio_to_copy: f64,
    pub mosquitto: Option<MosquittoFigures>,
    pub lost_or_duplicated: bool,
}

fn say(message: impl std::fmt::Display) {
    eprintln!("bench: {message}");
}

pub async fn run(options: &IngestBenchOptions) -> Result<IngestBenchReport, BenchError> {
    tokio::select! {
        result = run_inner(options) => result,
        _ = tokio::signal::ctrl_c() => Err(BenchError::Interrupted),
    }
}

async fn run_inner(options: &IngestBenchOptions) -> Result<IngestBenchReport, BenchError> {
    let started_at = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let mut machine = Machine::detect();
    let tmp = procs::scratch_dir("healthsync-bench-ingest-")?;
    let data_dir = tmp.path().join("data");
    say(format!(
        "starting healthsync up in {}",
        tmp.path().display()
    ));
    let mut platform = Platform::start(&options.exe, &data_dir, &tmp.path().join("up.log")).await?;
    let pool = connect(&data_dir).await?;
    let hasher = KeyHasher::load(None, &data_dir)
        .map_err(|e| BenchError::Failed(format!("server secret: {e}")))?;

    say(format!(
        "raw binary COPY of {COPY_ROWS} readings into the empty table, {COPY_BATCH} per transaction"
    ));
    let copy_before = raw_copy(&pool).await?;

    let mut steps = Vec::new();
    let mut rate = options.start_rate;
    for step in 1..=MAX_STEPS {
        say(format!(
            "step {step}: {rate:.0} readings/s for {:?}",
            options.step_duration
        ));
        let report = load_step(options, &platform, &pool, &hasher, rate, step).await?;
        let held = holds(&report);
        say(format!(
            "  acked {:.0}/s, p99 {:.0} ms, lost {}: {}",
            report.acked_readings_per_sec,
            report.ack_latency_ms.p99,
            report.lost_readings,
            if held { "held" } else { "broke" }
        ));
        steps.push(Step {
            target_rate: rate,
            held,
            report,
        });
        if !held {
            break;
        }
        rate *= STEP_FACTOR;
    }
    let max_sustained = steps
        .iter()
        .filter(|s| s.held)
        .map(|s| s.report.acked_readings_per_sec)
        .fold(0.0, f64::max);
    let half_max = if max_sustained > 0.0 {
        let rate = max_sustained / 2.0;
        say(format!("half of the maximum: {rate:.0} readings/s"));
        let report = load_step(options, &platform, &pool, &hasher, rate, 0).await?;
        Some(Step {
            target_rate: rate,
            held: holds(&report),
            report,
        })
    } else {
        None
    };

    say("raw binary COPY again, into the table as the load left it");
    let copy_after = raw_copy(&pool).await?;
    pool.close().await;
    platform.process.stop()?;

    let mosquitto = match mosquitto_alone(options, tmp.path(), max_sustained).await {
        Ok(figures) => Some(figures),
        Err(e) => {
            say(format!("Mosquitto comparison skipped: {e}"));
            None
        }
    };
    machine.load_average_at_end = load_average();
    let lost_or_duplicated = steps
        .iter()
        .chain(half_max.as_ref())
        .any(|s| !s.report.passed);
    Ok(IngestBenchReport {
        command: options.command.clone(),
        started_at,
        machine,
        devices: options.devices,
        readings_per_message: options.readings_per_message,
        step_seconds: options.step_duration.as_secs_f64(),
        ratio_to_copy: max_sustained
            / copy_before
                .rows_per_sec
                .max(copy_after.rows_per_sec)
                .max(1.0),
        steps,
        max_sustained,
        half_max,
        copy_before,
        copy_after,
        mosquitto,
        lost_or_duplicated,
    })
}

async fn raw_copy(pool: &PgPool) -> Result<CopyLimit, BenchError> {
    let limit = copy_limit::measure(pool, COPY_ROWS, COPY_BATCH)
        .await
        .map_err(|e| BenchError::Failed(format!("COPY limit: {e}")))?;
    say(format!("  {:.0} rows/s", limit.rows_per_sec));
    Ok(limit)
}

fn holds(report: &LoadReport) -> bool {
    report.passed
        && report.acked_readings_per_sec >= KEEPS_UP * report.offered_readings_per_sec
        && report.ack_latency_ms.p99 <= P99_LIMIT_MS
}

async fn connect(data_dir: &Path) -> Result<PgPool, BenchError> {
    let url = EmbeddedCluster::new(data_dir, false)
        .map_err(|e| BenchError::Failed(format!("database: {e}")))?
        .url(embedded::DATABASE);
    PgPool::connect(&url)
        .await
        .map_err(|e| BenchError::Failed(format!("database: {e}")))
}

async fn load_step(
    options: &IngestBenchOptions,
    platform: &Platform,
    pool: &PgPool,
    hasher: &KeyHasher,
    rate: f64,
    step: usize,
) -> Result<LoadReport, BenchError> {
    let plan = smartwatches(&format!("bench-{step}"), options.devices);
    let roster = provision(
        pool,
        hasher,
        plan,
        &format!("s{step}"),
        &ProgressBar::hidden(),
    )
    .await
    .map_err(|e| BenchError::Failed(format!("provisioning: {e}")))?;
    let load_options = LoadOptions {
        rate,
        duration: options.step_duration,
        readings_per_message: options.readings_per_message,
        firmware: FirmwareSettings {
            host: platform.mqtt_addr.ip().to_string(),
            port: platform.mqtt_addr.port(),
            drain_timeout: Duration::from_secs(60),
            ..FirmwareSettings::default()
        },
        progress: true,
    };
    load::run(&roster, &load_options, Some(pool))
        .await
        .map_err(|e| BenchError::Failed(format!("load: {e}")))
}

/// The same devices and message shape through Mosquitto to one subscriber, as fast as it
/// goes: what the broker alone costs, without storage or acks.
async fn mosquitto_alone(
    options: &IngestBenchOptions,
    dir: &Path,
    max_sustained: f64,
) -> Result<MosquittoFigures, BenchError> {
    let devices: Vec<MqttLogin> = (0..options.devices)
        .map(|_| {
            let id = uuid::Uuid::now_v7().to_string();
            MqttLogin {
                client_id: id.clone(),
                username: id,
                password: uuid::Uuid::new_v4().simple().to_string(),
            }
        })
        .collect();
    let service = MqttLogin {
        client_id: "service:bench".into(),
        username: "service-bench".into(),
        password: uuid::Uuid::new_v4().simple().to_string(),
    };
    let mut users: Vec<MosquittoUser> = devices
        .iter()
        .map(|d| MosquittoUser {
            username: &d.username,
            password: &d.password,
        })
        .collect();
    users.push(MosquittoUser {
        username: &service.username,
        password: &service.password,
    });
    // As many messages as the fastest step carried, at least 20,000.
    let messages = ((max_sustained * options.step_duration.as_secs_f64()
        / options.readings_per_message as f64) as u64)
        .max(20_000);
    let per_device = (messages / options.devices as u64).max(1) as u32;
    let total = per_device as u64 * options.devices as u64;
    let files = MosquittoFiles::write(
        &dir.join("mosquitto"),
        &users,
        &service.username,
        healthsync_core::config::BrokerSettings::default().max_inflight,
        total as usize,
    )
    .await?;
    let mut mosquitto = files.start("mosquitto").await?;
    say(format!(
        "{} alone: {total} messages of {} readings",
        procs::mosquitto_version(),
        options.readings_per_message
    ));
    let settings = LoadSettings {
        devices: options.devices,
        messages_per_device: per_device,
        payload_bytes: message_bytes(options.readings_per_message),
    };
    let progress = bar(total, "mosquitto: messages");
    let result: Result<LoadResult, BenchError> =
        broker_load::run(mosquitto.addr, &service, &devices, &settings, &progress).await;
    progress.finish_and_clear();
    mosquitto.process.stop()?;
    let result = result?;
    Ok(MosquittoFigures {
        version: procs::mosquitto_version(),
        messages_per_sec: result.messages_per_sec,
        readings_per_sec: result.messages_per_sec * options.readings_per_message as f64,
        p50_ms: result.latency_us.p50 / 1000.0,
        p99_ms: result.latency_us.p99 / 1000.0,
        lost: result.lost,
    })
}

/// The size of a telemetry message with `readings` heart rates, as the load test sends.
fn message_bytes(readings: usize) -> usize {
    let reading = crate::firmware::payload::telemetry(
        1_000_000,
        &vec![
            crate::firmware::WireReading {
                metric: healthsync_core::catalog::Metric::HeartRate,
                t: chrono::Utc::now(),
                v: 72.0,
                v2: None,
            };
            readings
        ],
        Some(1.0),
    );
    reading
        .len()
        .clamp(crate::broker_bench::wire::MIN_PAYLOAD, 64 * 1024)
}

impl IngestBenchReport {
    pub fn to_markdown(&self) -> String {
        let mut md = String::new();
        let m = &self.machine;
        let _ = writeln!(md, "# Ingest benchmark\n");
        let _ = writeln!(md, "Command: `{}`  ", self.command);
        let _ = writeln!(md, "Run: {}  ", self.started_at);
        let _ = writeln!(
            md,
            "Machine: {} × {}, {} MiB, Linux {}; load average {} at start, {} at end.\n",
            m.nproc,
            m.cpu_model,
            m.memory_total_kb.unwrap_or(0) / 1024,
            m.kernel,
            m.load_average_at_start,
            m.load_average_at_end
        );
        let _ = writeln!(
            md,
            "Everything on one machine: `healthsync up` (embedded broker, ingest, PostgreSQL + \
             TimescaleDB) and the simulator's {} store-and-forward devices, {} heart-rate \
             readings per message, QoS 1, a step of {:.0} s per rate. Ack latency is first \
             send to ack (stored) as the device sees it.\n",
            self.devices, self.readings_per_message, self.step_seconds
        );
        let _ = writeln!(
            md,
            "| target/s | offered/s | acked/s | p50 ms | p95 ms | p99 ms | max ms | lost | acked but missing | duplicates | held |"
        );
        let _ = writeln!(
            md,
            "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|:---:|"
        );
        for step in self.steps.iter().chain(self.half_max.as_ref()) {
            let r = &step.report;
            let l = &r.ack_latency_ms;
            let (missing, dups) = r
                .database
                .as_ref()
                .map_or((0, 0), |d| (d.acked_but_missing, d.duplicates));
            let _ = writeln!(
                md,
                "| {:.0} | {:.0} | {:.0} | {:.1} | {:.1} | {:.1} | {:.1} | {} | {} | {} | {} |",
                step.target_rate,
                r.offered_readings_per_sec,
                r.acked_readings_per_sec,
                l.p50,
                l.p95,
                l.p99,
                l.max,
                r.lost_readings,
                missing,
                dups,
                if step.held { "yes" } else { "no" }
            );
        }
        let _ = writeln!(md, "\nThe last row is the run at half the maximum.\n");
        let half_p99 = self.half_max.as_ref().map(|s| s.report.ack_latency_ms.p99);
        let _ = writeln!(md, "| figure | value | goal |");
        let _ = writeln!(md, "|---|---:|---:|");
        let _ = writeln!(
            md,
            "| max sustained (acked ≥ {:.0} % of offered, p99 ≤ {P99_LIMIT_MS:.0} ms, nothing lost) | {:.0} readings/s | ≥ 100,000 |",
            KEEPS_UP * 100.0,
            self.max_sustained
        );
        let _ = writeln!(
            md,
            "| raw binary COPY into `readings`, empty table ({} rows, {} per transaction) | {:.0} rows/s | |",
            self.copy_before.rows, COPY_BATCH, self.copy_before.rows_per_sec
        );
        let _ = writeln!(
            md,
            "| raw binary COPY into `readings` after the load | {:.0} rows/s | |",
            self.copy_after.rows_per_sec
        );
        let _ = writeln!(
            md,
            "| max sustained / raw COPY after the load (the table as ingest met it) | {:.2} | ≥ 0.8 |",
            self.max_sustained / self.copy_after.rows_per_sec.max(1.0)
        );
        let _ = writeln!(
            md,
            "| max sustained / the higher raw COPY figure | {:.2} | ≥ 0.8 |",
            self.ratio_to_copy
        );
        let _ = writeln!(
            md,
            "| p99 ack at half the maximum | {} | ≤ 200 ms |",
            half_p99.map_or("—".into(), |p| format!("{p:.1} ms"))
        );
        let _ = writeln!(
            md,
            "| lost or duplicated readings, any step | {} | none |",
            if self.lost_or_duplicated {
                "SOME"
            } else {
                "none"
            }
        );
        if let Some(mq) = &self.mosquitto {
            let _ = writeln!(
                md,
                "\nThe broker alone, same devices and message size, {}: {:.0} messages/s = \
                 {:.0} readings/s to one subscriber (p50 {:.1} ms, p99 {:.1} ms at saturation, \
                 lost {}), with no storage and no acks.",
                mq.version, mq.messages_per_sec, mq.readings_per_sec, mq.p50_ms, mq.p99_ms, mq.lost
            );
        }
        md
    }
}
