//! The `healthsync` command: parses the command line, loads the configuration and hands
//! over to the command modules. No platform logic lives here.

mod commands;

use commands::registry;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};
use healthsync_core::config::{CONFIG_FILE_ENV, Overrides, Settings};
use healthsync_core::ids::DeviceId;

/// healthsync: a health-telemetry platform. Wearables and home monitors stream vitals over
/// MQTT; healthsync stores them in TimescaleDB, raises clinical alerts and serves patients
/// and clinicians over an HTTP API.
///
/// Start everything on this machine with `healthsync up`. State (the embedded PostgreSQL
/// cluster) lives in the data directory, `./data` unless configured.
#[derive(Parser)]
#[command(name = "healthsync", version, propagate_version = true)]
struct Cli {
    #[command(flatten)]
    global: GlobalArgs,
    #[command(subcommand)]
    command: Command,
}

#[derive(Args)]
struct GlobalArgs {
    /// TOML configuration file (optional; every key can also be set as HEALTHSYNC_<KEY>,
    /// sections joined with `__`, e.g. HEALTHSYNC_DATABASE__URL).
    #[arg(long, global = true, env = CONFIG_FILE_ENV, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Data directory: holds the embedded PostgreSQL cluster and secrets.
    #[arg(long, global = true, value_name = "DIR")]
    data_dir: Option<PathBuf>,
}

#[derive(Subcommand)]
enum Command {
    /// Run the whole platform in this process: database, broker, ingest, the alert engine
    /// and the API. Ctrl-C or SIGTERM stops it cleanly.
    Up {
        /// Address of the HTTP API and dashboard.
        #[arg(long, value_name = "ADDR")]
        http_addr: Option<SocketAddr>,
        /// Address devices connect to over MQTT.
        #[arg(long, value_name = "ADDR")]
        mqtt_addr: Option<SocketAddr>,
        /// Also run a small simulated fleet (7 patients and their devices), provisioned on
        /// first use; the first start plays a day of history in about a minute.
        #[arg(long)]
        demo: bool,
    },
    /// Run an ingest worker against an external MQTT broker (EMQX, VerneMQ, Mosquitto):
    /// it reads devices' telemetry through an MQTT 5 shared subscription, so several workers
    /// split the load, stores it and acks it. Ctrl-C or SIGTERM drains and stops it.
    Ingest(commands::ingest::Worker),
    /// Apply pending database migrations and exit.
    Migrate,
    /// Manage the embedded PostgreSQL cluster (used when no database.url is configured).
    Db {
        #[command(subcommand)]
        action: DbAction,
    },
    /// Print the effective configuration (secrets redacted).
    Config,
    /// Print the API's OpenAPI 3.1 document (as served at /api/openapi.json).
    Openapi,
    /// Manage user accounts.
    User {
        #[command(subcommand)]
        action: UserAction,
    },
    /// Manage devices and their API keys.
    Device {
        #[command(subcommand)]
        action: DeviceAction,
    },
    /// Manage internal service principals (e.g. external ingest workers).
    Service {
        #[command(subcommand)]
        action: ServiceAction,
    },
    /// Clinical alerts: list, acknowledge, resolve, per-patient rule overrides.
    Alert {
        #[command(subcommand)]
        action: commands::alerts::AlertAction,
    },
    /// The alert engine's evaluation against simulated ground truth.
    Analytics {
        #[command(subcommand)]
        action: AnalyticsAction,
    },
    /// Care teams: which clinicians receive a patient's alerts.
    CareTeam {
        #[command(subcommand)]
        action: commands::alerts::CareTeamAction,
    },
    /// The firmware simulator: simulated patients and devices for demos and load tests.
    Sim {
        #[command(subcommand)]
        action: commands::sim::SimAction,
    },
    /// Benchmarks (not tests): measure and report. They run on a fresh temporary data
    /// directory with built-in defaults; --config is not used, and the global --data-dir
    /// is not either (`bench api --data-dir` keeps its own seeded database).
    Bench {
        #[command(subcommand)]
        target: commands::bench::BenchTarget,
    },
}

#[derive(Subcommand)]
enum UserAction {
    /// Create a user (a patient also gets a patient record).
    Add(registry::UserAdd),
}

#[derive(Subcommand)]
enum DeviceAction {
    /// Register a device for a patient and print its API key (shown only this once).
    Add(registry::DeviceAdd),
    /// Issue a new API key; the old one stops working and its live session is dropped.
    RotateKey {
        id: DeviceId,
        #[arg(long)]
        json: bool,
    },
    /// Revoke a device: its key is refused and its live session dropped.
    Revoke { id: DeviceId },
    /// List devices with their status, online state and key prefix.
    List {
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand)]
enum ServiceAction {
    /// Create an ingest service principal (MQTT client id and username `service:NAME`).
    Add {
        /// 1 to 40 characters from a-z, 0-9 and '-'.
        name: String,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand)]
enum AnalyticsAction {
    /// Replay simulated days through the real pipeline (fresh temporary platform, accelerated
    /// clock) and score the alerts against the ground truth: sensitivity, false alerts per
    /// patient-day and detection latency per event kind.
    Eval(commands::alerts_eval::EvalArgs),
    /// The symptom assistant against the team's and the held-out vignettes: top-1 and top-3
    /// accuracy, exact triage, emergencies under-triaged, latency per message.
    AssistantEval(commands::assistant_eval::AssistantEvalArgs),
}

#[derive(Subcommand)]
enum DbAction {
    /// Start the cluster in the background (it keeps running after this command).
    Start,
    /// Stop the cluster.
    Stop,
    /// Say whether the cluster is running; exits with 3 when it is not.
    Status,
    /// Print a connection URL for the cluster that psql and healthsync accept.
    Url,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let (http_addr, mqtt_addr) = match &cli.command {
        Command::Up {
            http_addr,
            mqtt_addr,
            ..
        } => (*http_addr, *mqtt_addr),
        _ => (None, None),
    };
    let overrides = Overrides {
        data_dir: cli.global.data_dir,
        http_addr,
        mqtt_addr,
    };
    let settings = match Settings::load(cli.global.config.as_deref(), &overrides) {
        Ok(settings) => settings,
        Err(e) => {
            eprintln!("healthsync: {e}");
            return ExitCode::from(2);
        }
    };
    // One-shot commands print results, not the platform's progress.
    let long_running = matches!(
        cli.command,
        Command::Up { .. } | Command::Ingest(_) | Command::Bench { .. } | Command::Sim { .. }
    );
    commands::init_logging(&settings.log, long_running);
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("healthsync: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async {
        match cli.command {
            Command::Up { demo, .. } => commands::up::run(settings, demo).await,
            Command::Migrate => commands::migrate(settings).await,
            Command::Ingest(worker) => commands::ingest::run(settings, worker).await,
            Command::Db { action } => match action {
                DbAction::Start => commands::db::start(&settings).await,
                DbAction::Stop => commands::db::stop(&settings),
                DbAction::Status => commands::db::status(&settings),
                DbAction::Url => commands::db::url(&settings),
            },
            Command::Config => {
                print!("{}", settings.to_redacted_toml());
                Ok(ExitCode::SUCCESS)
            }
            Command::Openapi => {
                println!("{}", healthsync_api::openapi_document().to_pretty_json()?);
                Ok(ExitCode::SUCCESS)
            }
            Command::User {
                action: UserAction::Add(args),
            } => registry::user_add(&settings, args).await,
            Command::Device { action } => match action {
                DeviceAction::Add(args) => registry::device_add(&settings, args).await,
                DeviceAction::RotateKey { id, json } => {
                    registry::device_rotate_key(&settings, id, json).await
                }
                DeviceAction::Revoke { id } => registry::device_revoke(&settings, id).await,
                DeviceAction::List { json } => registry::device_list(&settings, json).await,
            },
            Command::Service {
                action: ServiceAction::Add { name, json },
            } => registry::service_add(&settings, &name, json).await,
            Command::Alert { action } => commands::alerts::alert(&settings, action).await,
            Command::Analytics {
                action: AnalyticsAction::Eval(args),
            } => commands::alerts_eval::eval(args).await,
            Command::Analytics {
                action: AnalyticsAction::AssistantEval(args),
            } => commands::assistant_eval::run(args).await,
            Command::CareTeam { action } => commands::alerts::care_team(&settings, action).await,
            Command::Sim { action } => commands::sim::run(settings, action).await,
            Command::Bench { target } => commands::bench::run(target).await,
        }
    });
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("healthsync: {e:#}");
            ExitCode::FAILURE
        }
    }
}
