//! `healthsync bench ...`: benchmarks, which measure and report (they are not tests). The
//! work lives in healthsync-sim; this is its command line.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Args, Subcommand};
use healthsync_sim::broker_bench::{self, Options};
use healthsync_sim::ingest_bench::{self, IngestBenchOptions};

#[derive(Subcommand)]
pub enum BenchTarget {
    /// The MQTT broker: QoS 1 throughput and publish-to-delivery latency with the topic ACL
    /// on, and memory per idle connection — healthsync's broker and Debian's Mosquitto 2,
    /// under the same load in the same run. Starts `healthsync up` and Mosquitto itself.
    Broker(BrokerArgs),
    /// Ingest end to end: the simulator's load test at rising rates against a fresh
    /// `healthsync up` until ack latency or loss breaks, the raw COPY limit of the same
    /// table, and the same messages through Mosquitto alone. Starts everything itself.
    Ingest(IngestArgs),
    /// The alert engine: latency from a committed reading to the alert event live views
    /// receive (p50/p95/p99), under a background load. Runs a fresh platform in-process.
    Alerts(super::alerts_bench::AlertsArgs),
    /// The HTTP API: the dashboard (7- and 30-day trends) and 5-minute buckets over a
    /// month of 1 Hz heart rate per patient (20 × 30 days: 52 million readings), measured
    /// with wrk. Seeds and serves a fresh database in-process.
    Api(super::api_bench::ApiArgs),
}

#[derive(Args)]
pub struct IngestArgs {
    /// Store-and-forward devices per step (fresh ones each step).
    #[arg(long, default_value_t = 100, value_name = "N")]
    devices: usize,
    /// The first step's readings per second; each next step is 25 % more.
    #[arg(long, default_value_t = 20_000.0, value_name = "R")]
    start_rate: f64,
    /// How long each step sends.
    #[arg(long, default_value = "20s", value_parser = super::sim::parse_duration, value_name = "D")]
    step: std::time::Duration,
    /// Readings in each message.
    #[arg(long, default_value_t = 50, value_name = "K")]
    readings_per_message: usize,
    /// Print the report as JSON instead of Markdown.
    #[arg(long)]
    json: bool,
    /// Also write the report as Markdown to this file.
    #[arg(long, value_name = "FILE.md")]
    report: Option<PathBuf>,
}

#[derive(Args)]
pub struct BrokerArgs {
    /// Publishing devices, all at once.
    #[arg(long, default_value_t = 100, value_name = "N")]
    devices: usize,
    /// QoS 1 messages each device publishes.
    #[arg(long, default_value_t = 1000, value_name = "M")]
    messages_per_device: u32,
    /// Idle connections for the memory figure (0 skips it).
    #[arg(long, default_value_t = 10_000, value_name = "C")]
    idle_connections: usize,
    /// Size of each message's payload.
    #[arg(long, default_value_t = 200, value_name = "B")]
    payload_bytes: usize,
    /// Print the report as JSON instead of text.
    #[arg(long)]
    json: bool,
    /// Also write the report as Markdown to this file.
    #[arg(long, value_name = "FILE.md")]
    report: Option<PathBuf>,
}

pub async fn run(target: BenchTarget) -> anyhow::Result<ExitCode> {
    match target {
        BenchTarget::Broker(args) => broker(args).await,
        BenchTarget::Ingest(args) => ingest(args).await,
        BenchTarget::Alerts(args) => super::alerts_bench::run(args).await,
        BenchTarget::Api(args) => super::api_bench::run(args).await,
    }
}

async fn ingest(args: IngestArgs) -> anyhow::Result<ExitCode> {
    let options = IngestBenchOptions {
        exe: std::env::current_exe().context("cannot find the healthsync binary")?,
        devices: args.devices,
        start_rate: args.start_rate,
        step_duration: args.step,
        readings_per_message: args.readings_per_message,
        command: command_line(),
    };
    let report = ingest_bench::run(&options).await?;
    let markdown = report.to_markdown();
    if let Some(path) = &args.report {
        write_report(path, &markdown)?;
    }
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print!("{markdown}");
    }
    Ok(if report.lost_or_duplicated {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

pub(super) fn write_report(path: &std::path::Path, markdown: &str) -> anyhow::Result<()> {
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent)
            .with_context(|| format!("cannot create {}", parent.display()))?;
    }
    std::fs::write(path, markdown).with_context(|| format!("cannot write {}", path.display()))?;
    eprintln!("bench: report written to {}", path.display());
    Ok(())
}

async fn broker(args: BrokerArgs) -> anyhow::Result<ExitCode> {
    let options = Options {
        exe: std::env::current_exe().context("cannot find the healthsync binary")?,
        devices: args.devices,
        messages_per_device: args.messages_per_device,
        idle_connections: args.idle_connections,
        payload_bytes: args.payload_bytes,
        command: command_line(),
    };
    let report = broker_bench::run(&options).await?;
    if let Some(path) = &args.report {
        write_report(path, &report.to_markdown())?;
    }
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print!("{}", report.to_text());
    }
    Ok(ExitCode::SUCCESS)
}

/// This process's command line, quoted for a POSIX shell where needed.
fn command_line() -> String {
    std::env::args()
        .map(|arg| {
            let plain = !arg.is_empty()
                && arg
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"-_./=:,+@".contains(&b));
            if plain {
                arg
            } else {
                format!("'{}'", arg.replace('\'', r"'\''"))
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}
