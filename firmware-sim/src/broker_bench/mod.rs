//! The broker benchmark behind `healthsync bench broker`: healthsync's embedded broker,
//! with its topic ACL, against Debian's Mosquitto 2 with an equivalent ACL, under the same
//! load in the same run.
//!
//! It owns the whole run: a fresh data directory under /tmp, `healthsync up` as a child
//! process, credentials written into its database, the QoS 1 throughput and latency load
//! ([`load`]), memory per idle connection ([`idle`]), a Mosquitto started with a generated
//! configuration ([`procs`]), and the report ([`report`]). Every figure it reports is
//! measured in that run; children are stopped and the directory removed at the end, also on
//! error or Ctrl-C. It is a benchmark, not a test: it asserts no timing.

pub mod idle;
pub mod load;
pub mod procs;
pub mod provision;
pub mod report;
pub mod wire;

use std::fmt::Display;
use std::path::PathBuf;

use healthsync_core::config::BrokerSettings;
use indicatif::{ProgressBar, ProgressStyle};
use nix::sys::resource::{Resource, getrlimit, setrlimit};

use self::load::LoadSettings;
use self::procs::{MosquittoFiles, MosquittoUser, Platform};
use self::provision::Login;
use self::report::{BrokerFigures, Goals, Machine, Report, Settings};

#[derive(Debug, thiserror::Error)]
pub enum BenchError {
    #[error("{what}: {source}")]
    Io {
        what: String,
        source: std::io::Error,
    },
    #[error("{0}")]
    Invalid(String),
    #[error("{0}")]
    Failed(String),
    #[error("interrupted")]
    Interrupted,
}

impl BenchError {
    pub(crate) fn io(what: impl Display, source: std::io::Error) -> Self {
        BenchError::Io {
            what: what.to_string(),
            source,
        }
    }
}

/// What to run.
#[derive(Clone, Debug)]
pub struct Options {
    /// The `healthsync` binary to start as the platform (normally the running one).
    pub exe: PathBuf,
    pub devices: usize,
    pub messages_per_device: u32,
    pub idle_connections: usize,
    pub payload_bytes: usize,
    /// The command line, for the report.
    pub command: String,
}

impl Options {
    fn validate(&self) -> Result<(), BenchError> {
        let invalid = |m: String| Err(BenchError::Invalid(m));
        if self.devices == 0 || self.devices > 100_000 {
            return invalid("--devices: 1 to 100000".into());
        }
        if self.messages_per_device == 0 {
            return invalid("--messages-per-device: at least 1".into());
        }
        let total = self.devices as u64 * u64::from(self.messages_per_device);
        if total > 50_000_000 {
            return invalid(format!(
                "--devices x --messages-per-device = {total}: at most 50,000,000 per run"
            ));
        }
        if !(wire::MIN_PAYLOAD..=64 * 1024).contains(&self.payload_bytes) {
            return invalid(format!(
                "--payload-bytes: {} to 65536 (the telemetry message before padding takes up \
                 to {} bytes)",
                wire::MIN_PAYLOAD,
                wire::MIN_PAYLOAD
            ));
        }
        if self.idle_connections > 1_000_000 {
            return invalid("--idle-connections: at most 1000000".into());
        }
        Ok(())
    }
}

/// Runs the benchmark; Ctrl-C stops it (and its children) cleanly.
pub async fn run(options: &Options) -> Result<Report, BenchError> {
    options.validate()?;
    tokio::select! {
        result = run_both(options) => result,
        _ = tokio::signal::ctrl_c() => Err(BenchError::Interrupted),
    }
}

fn say(message: impl Display) {
    eprintln!("bench: {message}");
}

pub(crate) fn bar(len: u64, prefix: &'static str) -> ProgressBar {
    let bar = ProgressBar::new(len);
    let style = ProgressStyle::with_template(
        "{prefix:>24} [{bar:36}] {human_pos}/{human_len} {per_sec:>12} eta {eta}",
    )
    .unwrap_or_else(|_| ProgressStyle::default_bar())
    .progress_chars("=> ");
    bar.set_style(style);
    bar.set_prefix(prefix);
    bar
}

/// Raises the soft open-file limit to the hard one (the brokers started from here inherit
/// it) and checks that it is enough.
fn raise_open_files(needed: u64) -> Result<u64, BenchError> {
    let (soft, hard) = getrlimit(Resource::RLIMIT_NOFILE)
        .map_err(|e| BenchError::io("getrlimit(RLIMIT_NOFILE)", e.into()))?;
    if soft < hard {
        setrlimit(Resource::RLIMIT_NOFILE, hard, hard)
            .map_err(|e| BenchError::io("setrlimit(RLIMIT_NOFILE)", e.into()))?;
    }
    if hard < needed {
        return Err(BenchError::Invalid(format!(
            "the open-file limit (hard {hard}) is below the {needed} this run needs; raise it \
             (ulimit -Hn, or LimitNOFILE) or lower --idle-connections"
        )));
    }
    Ok(hard)
}

async fn run_both(options: &Options) -> Result<Report, BenchError> {
    let started_at = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let needed = (options.idle_connections + idle::WARMUP + options.devices + 512) as u64;
    let nofile = raise_open_files(needed)?;
    tracing::debug!(nofile, "open-file limit");
    let mut machine = Machine::detect();

    // Declared first, so removed last: after the children are stopped.
    let tmp = procs::scratch_dir("healthsync-bench-")?;
    let data_dir = tmp.path().join("data");

    let load_settings = LoadSettings {
        devices: options.devices,
        messages_per_device: options.messages_per_device,
        payload_bytes: options.payload_bytes,
    };
    let total_messages = options.devices as u64 * u64::from(options.messages_per_device);
    let idle_end = options.idle_connections;
    let warmup_end = if options.idle_connections > 0 {
        idle_end + idle::WARMUP
    } else {
        0
    };
    let device_count = options.devices.max(warmup_end);
    let broker_defaults = BrokerSettings::default();

    // healthsync: one fresh process for the idle connections, another for the load, so
    // that neither phase inherits the other's memory or backlog.
    say(format!(
        "starting healthsync up in {} (embedded PostgreSQL and broker)",
        tmp.path().display()
    ));
    let mut platform = Platform::start(
        &options.exe,
        &data_dir,
        &tmp.path().join("platform-idle.log"),
    )
    .await?;
    say(format!(
        "healthsync is ready (pid {}, MQTT {})",
        platform.process.pid(),
        platform.mqtt_addr
    ));
    let progress = bar(device_count as u64, "provisioning devices");
    let credentials = provision::provision(&data_dir, device_count, &progress).await?;
    progress.finish();
    let devices = &credentials.devices;
    let idle = measure_idle(
        "healthsync: idle conns",
        platform.mqtt_addr,
        &platform.process,
        devices,
        idle_end,
        warmup_end,
    )
    .await?;
    stop("healthsync up", &mut platform.process)?;

    let mut platform = Platform::start(
        &options.exe,
        &data_dir,
        &tmp.path().join("platform-load.log"),
    )
    .await?;
    say(format!(
        "healthsync restarted for the load (pid {}, MQTT {})",
        platform.process.pid(),
        platform.mqtt_addr
    ));
    let progress = bar(total_messages, "healthsync: messages");
    let load = load::run(
        platform.mqtt_addr,
        &credentials.service,
        devices,
        &load_settings,
        &progress,
    )
    .await?;
    progress.finish();
    say("waiting for healthsync's ingest to store what it received");
    let ingest = provision::ingest_counts(&data_dir, total_messages).await?;
    stop("healthsync up", &mut platform.process)?;
    let healthsync = BrokerFigures {
        broker: "healthsync".into(),
        version: format!(
            "{} (rumqttd 0.20 with healthsync's authentication and topic ACL)",
            env!("CARGO_PKG_VERSION")
        ),
        notes: vec![
            format!(
                "default broker settings (max_inflight {})",
                broker_defaults.max_inflight
            ),
            "subscriber `service:bench`, an ingest service principal".into(),
            if ingest.readings_stored + ingest.rejected.unwrap_or(0) > 0 {
                "the platform's own ingest ran in the same process, as in production: the \
                 broker delivered every message to it as well, and it wrote the readings to \
                 TimescaleDB and acknowledged each message to its device"
                    .into()
            } else {
                "the platform stored no reading: its ingest did not take part".into()
            },
        ],
        load,
        ingest: Some(ingest),
        idle,
    };

    // Mosquitto
    let mosquitto_service = credentials.mosquitto_service();
    let mut users: Vec<MosquittoUser> = devices
        .iter()
        .map(|d| MosquittoUser {
            username: &d.username,
            password: &d.password,
        })
        .collect();
    users.push(MosquittoUser {
        username: &mosquitto_service.username,
        password: &mosquitto_service.password,
    });
    let max_queued = total_messages as usize;
    say(format!(
        "writing Mosquitto's password file for {} users (mosquitto_passwd) and its ACL",
        users.len()
    ));
    let files = MosquittoFiles::write(
        &tmp.path().join("mosquitto"),
        &users,
        provision::MOSQUITTO_SERVICE_USERNAME,
        broker_defaults.max_inflight,
        max_queued,
    )
    .await?;
    let mut mosquitto = files.start("mosquitto-idle").await?;
    say(format!(
        "{} is ready (pid {}, MQTT {})",
        procs::MOSQUITTO,
        mosquitto.process.pid(),
        mosquitto.addr
    ));
    let idle = measure_idle(
        "mosquitto: idle conns",
        mosquitto.addr,
        &mosquitto.process,
        devices,
        idle_end,
        warmup_end,
    )
    .await?;
    stop("mosquitto", &mut mosquitto.process)?;
    let mut mosquitto = files.start("mosquitto-load").await?;
    say(format!(
        "mosquitto restarted for the load (pid {}, MQTT {})",
        mosquitto.process.pid(),
        mosquitto.addr
    ));
    let progress = bar(total_messages, "mosquitto: messages");
    let load = load::run(
        mosquitto.addr,
        &mosquitto_service,
        devices,
        &load_settings,
        &progress,
    )
    .await?;
    progress.finish();
    stop("mosquitto", &mut mosquitto.process)?;
    let mosquitto = BrokerFigures {
        broker: "mosquitto".into(),
        version: procs::mosquitto_version(),
        notes: vec![
            "acl_file: `pattern write devices/%u/telemetry`, `pattern write devices/%u/status`, \
             `pattern read devices/%u/#`; user service-bench: `topic read devices/+/telemetry`, \
             `topic read devices/+/status`, `topic write devices/+/ack`"
                .into(),
            format!(
                "max_inflight_messages {} (as healthsync's max_inflight); max_queued_messages \
                 {max_queued}, room for the whole run (with the default, 1000, Mosquitto may \
                 drop QoS 1 messages for a subscriber that falls behind); persistence off",
                broker_defaults.max_inflight
            ),
            "subscriber client id `service:bench`, username `service-bench` (a Mosquitto \
             password file cannot hold ':' in a username), same key; passwords hashed by \
             mosquitto_passwd"
                .into(),
        ],
        load,
        ingest: None,
        idle,
    };

    machine.load_average_at_end = report::load_average();
    let brokers = vec![healthsync, mosquitto];
    let goals = Goals::from_figures(&brokers);
    Ok(Report {
        started_at,
        command: options.command.clone(),
        machine,
        settings: Settings {
            devices: options.devices,
            messages_per_device: options.messages_per_device,
            payload_bytes: options.payload_bytes,
            qos: 1,
            inflight_per_device: load::INFLIGHT_PER_DEVICE,
            idle_connections: options.idle_connections,
            idle_warmup_connections: if options.idle_connections > 0 {
                idle::WARMUP
            } else {
                0
            },
            acl: true,
        },
        brokers,
        goals,
    })
}

/// Stops a broker, saying how it ended.
fn stop(name: &str, process: &mut procs::Guarded) -> Result<(), BenchError> {
    let status = process.stop()?;
    if status.success() {
        say(format!("{name} stopped"));
    } else {
        say(format!("{name} did not exit cleanly: {status}"));
    }
    Ok(())
}

/// Idle connections of devices `[0, idle_end)` after warm-up devices
/// `[idle_end, warmup_end)`; `None` when none were asked for. Failed connections are
/// explained with the broker's own warnings, if it logged any.
async fn measure_idle(
    label: &'static str,
    addr: std::net::SocketAddr,
    broker: &procs::Guarded,
    devices: &[Login],
    idle_end: usize,
    warmup_end: usize,
) -> Result<Option<idle::IdleResult>, BenchError> {
    if idle_end == 0 {
        return Ok(None);
    }
    let progress = bar(idle_end as u64, label);
    let mut result = idle::run(
        addr,
        broker.pid(),
        &devices[idle_end..warmup_end],
        &devices[..idle_end],
        &progress,
    )
    .await?;
    progress.finish();
    if !result.failures.is_empty() {
        say(format!(
            "{label}: {} connection(s) failed: {:?}",
            result.requested - result.connected,
            result.failures
        ));
        result.broker_log = procs::log_problems(&broker.log, 20);
        for (line, count) in &result.broker_log {
            say(format!("  broker log ({count}x): {line}"));
        }
    }
    Ok(Some(result))
}
