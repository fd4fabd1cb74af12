//! `healthsync sim ...`: the firmware simulator's command line — provisioning a fleet,
//! running it, and the load test. The work lives in healthsync-sim.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;
use clap::{Args, Subcommand};
use healthsync_core::api_keys::KeyHasher;
use healthsync_core::config::Settings;
use healthsync_core::db::Database;
use healthsync_ingest::remote::RemoteSettings;
use healthsync_sim::firmware::FirmwareSettings;
use healthsync_sim::fleet::{self, FleetOptions};
use healthsync_sim::load::{self, LoadOptions};
use healthsync_sim::profiles::Profiles;
use healthsync_sim::provision::{self, PlannedPatient};
use healthsync_sim::roster::Roster;
use healthsync_sim::scenario::SimOptions;
use indicatif::ProgressBar;

#[derive(Subcommand)]
pub enum SimAction {
    /// Create simulated patients and their devices in the platform's database and write
    /// the roster (with the devices' API keys) the fleet reads.
    Provision(ProvisionArgs),
    /// Run a fleet: every device of a roster streams its patient's simulated vitals with
    /// store-and-forward firmware, until Ctrl-C (or --duration). Without --roster it
    /// provisions --patients new ones first.
    Run(RunArgs),
    /// Load test: N store-and-forward devices send heart-rate batches at a total rate for a
    /// duration; then a report of offered vs acked readings/s, ack latency, losses and
    /// duplicates. Exits 1 if any reading was lost or stored wrongly.
    Load(LoadArgs),
}

#[derive(Args)]
pub struct LoadArgs {
    /// Devices (each a smartwatch of its own patient), all connected at once.
    #[arg(long, default_value_t = 100, value_name = "N")]
    devices: usize,
    /// Readings per second, all devices together.
    #[arg(long, default_value_t = 10_000.0, value_name = "R")]
    rate: f64,
    /// How long to send, e.g. 30s, 5m.
    #[arg(long, default_value = "30s", value_parser = parse_duration, value_name = "D")]
    duration: Duration,
    /// Readings in each message.
    #[arg(long, default_value_t = 10, value_name = "K")]
    readings_per_message: usize,
    /// Messages a device may have unacked on the wire.
    #[arg(long, default_value_t = 32, value_name = "W")]
    window: usize,
    /// The broker (default: this configuration's MQTT address).
    #[arg(long, value_name = "URL")]
    mqtt_url: Option<String>,
    /// Use these devices (a roster from `sim provision`) instead of registering new ones.
    #[arg(long, value_name = "FILE")]
    roster: Option<PathBuf>,
    /// Print the report as JSON.
    #[arg(long)]
    json: bool,
}

#[derive(Args)]
pub struct ProvisionArgs {
    #[arg(long, default_value_t = 10, value_name = "N")]
    patients: usize,
    /// Only this physiology profile (default: every profile in turn).
    #[arg(long, value_name = "NAME")]
    profile: Option<String>,
    /// Where profiles are dealt from.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// The roster file to write (mode 0600: it holds API keys).
    #[arg(long, default_value = "roster.json", value_name = "FILE")]
    out: PathBuf,
}

#[derive(Args)]
pub struct RunArgs {
    /// The roster to run (from `sim provision`).
    #[arg(long, value_name = "FILE", conflicts_with = "patients")]
    roster: Option<PathBuf>,
    /// Without --roster: provision this many patients first (roster written to
    /// <data-dir>/sim/roster-<run>.json).
    #[arg(long, default_value_t = 10, value_name = "N")]
    patients: usize,
    /// The same seed, roster and start give the same vitals, events and ground truth.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Start this long before now (e.g. 1d) and play that history at --speed.
    #[arg(long, default_value = "0s", value_parser = parse_duration, value_name = "D")]
    backfill: Duration,
    /// How much faster than real time the backfill plays (1440: a day per minute).
    #[arg(long, default_value_t = 1440.0, value_name = "X")]
    speed: f64,
    /// Multiplies every scenario event's daily rate (demos want events soon).
    #[arg(long, default_value_t = 1.0, value_name = "F")]
    event_rate: f64,
    /// Stop after this much real time (default: run until Ctrl-C).
    #[arg(long, value_parser = parse_duration, value_name = "D")]
    duration: Option<Duration>,
    /// Append the ground truth of injected events here (JSON Lines).
    #[arg(long, value_name = "FILE")]
    ground_truth: Option<PathBuf>,
    /// The broker (default: this configuration's MQTT address).
    #[arg(long, value_name = "URL")]
    mqtt_url: Option<String>,
    /// Print the final summary as JSON.
    #[arg(long)]
    json: bool,
}

pub async fn run(settings: Settings, action: SimAction) -> anyhow::Result<ExitCode> {
    match action {
        SimAction::Provision(args) => provision_command(settings, args).await,
        SimAction::Run(args) => run_fleet(settings, args).await,
        SimAction::Load(args) => load(settings, args).await,
    }
}

async fn provision_command(settings: Settings, args: ProvisionArgs) -> anyhow::Result<ExitCode> {
    let plan = provision::plan(
        &Profiles::builtin(),
        args.patients,
        args.seed,
        args.profile.as_deref(),
    )?;
    let db = Database::open(&settings).await?;
    let roster = provision_plan(&settings, &db, plan).await;
    db.close().await?;
    let roster = roster?;
    roster.save(&args.out)?;
    println!(
        "provisioned {} patients with {} devices; roster written to {}",
        roster.patients.len(),
        roster.devices().count(),
        args.out.display()
    );
    Ok(ExitCode::SUCCESS)
}

async fn provision_plan(
    settings: &Settings,
    db: &Database,
    plan: Vec<PlannedPatient>,
) -> anyhow::Result<Roster> {
    let hasher = KeyHasher::load(settings.secrets.api_key_hmac.as_deref(), &settings.data_dir)?;
    let bar = ProgressBar::new(plan.len() as u64).with_message("registering patients");
    let roster = provision::provision(&db.pool, &hasher, plan, &run_id(), &bar).await?;
    bar.finish_and_clear();
    Ok(roster)
}

async fn run_fleet(settings: Settings, args: RunArgs) -> anyhow::Result<ExitCode> {
    let profiles = Profiles::builtin();
    let roster = match &args.roster {
        Some(path) => Roster::load(path)?,
        None => {
            let plan = provision::plan(&profiles, args.patients, args.seed, None)?;
            let db = Database::open(&settings).await?;
            let roster = provision_plan(&settings, &db, plan).await;
            db.close().await?;
            let roster = roster?;
            let dir = settings.data_dir.join("sim");
            std::fs::create_dir_all(&dir)
                .with_context(|| format!("cannot create {}", dir.display()))?;
            let path = dir.join(format!("roster-{}.json", run_id()));
            roster.save(&path)?;
            eprintln!("sim: roster written to {}", path.display());
            roster
        }
    };
    let options = FleetOptions {
        sim: SimOptions {
            seed: args.seed,
            rate_scale: args.event_rate,
        },
        speed: args.speed,
        backfill: args.backfill,
        duration: args.duration,
        firmware: firmware_for(&settings, args.mqtt_url.as_deref())?,
        ground_truth: args.ground_truth,
        progress: true,
    };
    eprintln!(
        "sim: {} devices of {} patients streaming; Ctrl-C to stop",
        roster.devices().count(),
        roster.patients.len()
    );
    let report = fleet::run(&roster, &profiles, &options, super::up::shutdown_signal()).await?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        println!(
            "sim: {} devices sent {} readings in {} messages; {} accepted, {} rejected, \
             {} unacked; {} ground-truth events",
            report.devices,
            report.readings,
            report.messages,
            report.accepted_readings,
            report.rejected_readings,
            report.unacked_readings,
            report.ground_truth_events
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// Firmware defaults, pointed at `--mqtt-url` or the configured broker.
fn firmware_for(settings: &Settings, mqtt_url: Option<&str>) -> anyhow::Result<FirmwareSettings> {
    let (host, port) = match mqtt_url {
        Some(url) => RemoteSettings::parse_url(url).map_err(anyhow::Error::msg)?,
        None => (
            settings.mqtt_addr.ip().to_string(),
            settings.mqtt_addr.port(),
        ),
    };
    Ok(FirmwareSettings {
        host,
        port,
        ..FirmwareSettings::default()
    })
}

async fn load(settings: Settings, args: LoadArgs) -> anyhow::Result<ExitCode> {
    let options = LoadOptions {
        rate: args.rate,
        duration: args.duration,
        readings_per_message: args.readings_per_message,
        firmware: FirmwareSettings {
            window: args.window,
            ..firmware_for(&settings, args.mqtt_url.as_deref())?
        },
        progress: true,
    };
    // Refuse impossible options before registering anything.
    options.message_interval(args.devices)?;
    let db = Database::open(&settings).await?;
    let roster = match &args.roster {
        Some(path) => Roster::load(path)?,
        None => {
            let plan = provision::smartwatches("load", args.devices);
            match provision_plan(&settings, &db, plan).await {
                Ok(roster) => roster,
                Err(e) => {
                    db.close().await?;
                    return Err(e);
                }
            }
        }
    };
    let report = load::run(&roster, &options, Some(&db.pool)).await;
    db.close().await?;
    let report = report?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print!("{}", report.to_text());
    }
    Ok(if report.passed {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// Tells one provisioning's e-mail addresses from another's.
fn run_id() -> String {
    uuid::Uuid::new_v4().simple().to_string()[..8].to_owned()
}

/// `90s`, `5m`, `2h`, `1d`, or plain seconds.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let split = text
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let number: f64 = number
        .parse()
        .map_err(|_| format!("{text:?} is not a duration like 30s, 5m, 2h or 1d"))?;
    let unit_secs = match unit {
        "" | "s" => 1.0,
        "m" => 60.0,
        "h" => 3600.0,
        "d" => 86_400.0,
        other => return Err(format!("unknown unit {other:?}: use s, m, h or d")),
    };
    Duration::try_from_secs_f64(number * unit_secs).map_err(|e| format!("{text:?}: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_parse_with_units() {
        assert_eq!(parse_duration("90"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_duration("1.5m"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_duration("2h"), Ok(Duration::from_secs(7200)));
        assert_eq!(parse_duration("1d"), Ok(Duration::from_secs(86_400)));
        assert!(parse_duration("soon").is_err());
        assert!(parse_duration("5w").is_err());
    }
}
