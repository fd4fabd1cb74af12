//! The benchmark's report: machine facts, settings, the figures per broker, and their text
//! and Markdown renderings. The JSON form is the same structure, serialised.

use std::fmt::Write;

use serde::Serialize;

use super::idle::IdleResult;
use super::load::LoadResult;
use super::provision::IngestCounts;

/// The issue's goals: at least Mosquitto's throughput with the ACL on, and at most this
/// much memory per idle connection.
pub const GOAL_BYTES_PER_IDLE_CONNECTION: f64 = 4096.0;

#[derive(Clone, Debug, Serialize)]
pub struct Report {
    /// UTC, RFC 3339.
    pub started_at: String,
    pub command: String,
    pub machine: Machine,
    pub settings: Settings,
    pub brokers: Vec<BrokerFigures>,
    pub goals: Goals,
}

#[derive(Clone, Debug, Serialize)]
pub struct Machine {
    pub nproc: usize,
    pub cpu_model: String,
    pub memory_total_kb: Option<u64>,
    pub kernel: String,
    /// /proc/loadavg's 1, 5 and 15 minute figures when the run started and ended: other
    /// work on the machine competes with the brokers for the same cores.
    pub load_average_at_start: String,
    pub load_average_at_end: String,
}

#[derive(Clone, Debug, Serialize)]
pub struct Settings {
    pub devices: usize,
    pub messages_per_device: u32,
    pub payload_bytes: usize,
    pub qos: u8,
    pub inflight_per_device: u32,
    pub idle_connections: usize,
    pub idle_warmup_connections: usize,
    pub acl: bool,
}

#[derive(Clone, Debug, Serialize)]
pub struct BrokerFigures {
    /// `healthsync` or `mosquitto`.
    pub broker: String,
    pub version: String,
    /// Non-default settings the broker ran with.
    pub notes: Vec<String>,
    pub load: LoadResult,
    /// healthsync only: what its in-process ingest, which reads the same telemetry, stored.
    pub ingest: Option<IngestCounts>,
    /// `None` when the run asked for no idle connections.
    pub idle: Option<IdleResult>,
}

#[derive(Clone, Debug, Serialize)]
pub struct Goals {
    /// healthsync's msgs/s over Mosquitto's.
    pub throughput_ratio: Option<f64>,
    pub at_least_as_fast_as_mosquitto: Option<bool>,
    pub healthsync_bytes_per_idle_connection: Option<f64>,
    pub at_most_4_kib_per_idle_connection: Option<bool>,
}

impl Goals {
    pub fn from_figures(brokers: &[BrokerFigures]) -> Self {
        let find = |name: &str| brokers.iter().find(|b| b.broker == name);
        let ratio = match (find("healthsync"), find("mosquitto")) {
            (Some(h), Some(m)) if m.load.messages_per_sec > 0.0 => {
                Some(h.load.messages_per_sec / m.load.messages_per_sec)
            }
            _ => None,
        };
        let per_connection = find("healthsync")
            .and_then(|h| h.idle.as_ref())
            .filter(|idle| idle.connected > 0)
            .map(|idle| idle.bytes_per_connection);
        Self {
            throughput_ratio: ratio,
            at_least_as_fast_as_mosquitto: ratio.map(|r| r >= 1.0),
            healthsync_bytes_per_idle_connection: per_connection,
            at_most_4_kib_per_idle_connection: per_connection
                .map(|b| b <= GOAL_BYTES_PER_IDLE_CONNECTION),
        }
    }
}

impl Machine {
    pub fn detect() -> Self {
        let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
        let cpu_model = cpuinfo
            .lines()
            .find(|l| l.starts_with("model name"))
            .and_then(|l| l.split_once(':'))
            .map(|(_, model)| model.trim().to_owned())
            .unwrap_or_else(|| "unknown".into());
        let memory_total_kb = std::fs::read_to_string("/proc/meminfo").ok().and_then(|m| {
            m.lines()
                .find(|l| l.starts_with("MemTotal:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse().ok())
        });
        let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease")
            .map(|k| k.trim().to_owned())
            .unwrap_or_else(|_| "unknown".into());
        Self {
            nproc: std::thread::available_parallelism().map_or(1, |n| n.get()),
            cpu_model,
            memory_total_kb,
            kernel,
            load_average_at_start: load_average(),
            load_average_at_end: String::new(),
        }
    }
}

/// The 1, 5 and 15 minute load averages.
pub fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "unknown".into())
}

fn ms(us: f64) -> String {
    format!("{:.2} ms", us / 1000.0)
}

fn bytes_per_conn(idle: &IdleResult) -> String {
    if idle.connected == 0 {
        return "n/a (no connection)".into();
    }
    format!(
        "{:.0} B ({:.2} KiB)",
        idle.bytes_per_connection,
        idle.bytes_per_connection / 1024.0
    )
}

fn ingest_line(ingest: &IngestCounts, messages: u64) -> String {
    let rejected = ingest
        .rejected
        .map_or_else(|| "n/a".to_string(), |r| r.to_string());
    format!(
        "in-process ingest (it also reads the telemetry): {} of {messages} readings stored, \
         {rejected} rejected; {} {:.1} s after the load",
        ingest.readings_stored,
        if ingest.complete {
            "all in"
        } else {
            "no change since"
        },
        ingest.settled_after_seconds
    )
}

fn mib(bytes: u64) -> String {
    format!("{:.1} MiB", bytes as f64 / (1024.0 * 1024.0))
}

fn yes_no(goal: Option<bool>) -> &'static str {
    match goal {
        Some(true) => "met",
        Some(false) => "NOT met",
        None => "not measured",
    }
}

impl Report {
    /// The human-readable report printed at the end of a run.
    pub fn to_text(&self) -> String {
        let mut out = String::new();
        let s = &self.settings;
        let _ = writeln!(out, "healthsync broker benchmark — {}", self.started_at);
        let _ = writeln!(
            out,
            "machine   {} CPUs, {}, kernel {}; load average {} at start, {} at end",
            self.machine.nproc,
            self.machine.cpu_model,
            self.machine.kernel,
            self.machine.load_average_at_start,
            self.machine.load_average_at_end
        );
        let _ = writeln!(
            out,
            "load      {} devices x {} QoS 1 messages of {} B ({} in flight per device), \
             1 subscriber on devices/+/telemetry, ACL on; publishers send as fast as \
             acknowledged, so latency is at saturation and includes queueing",
            s.devices, s.messages_per_device, s.payload_bytes, s.inflight_per_device
        );
        let _ = writeln!(
            out,
            "idle      {} connections (after {} warm-up connections)",
            s.idle_connections, s.idle_warmup_connections
        );
        let _ = writeln!(out, "command   {}", self.command);
        let _ = writeln!(out);
        let _ = writeln!(
            out,
            "{:<11} {:>11} {:>10} {:>10} {:>10} {:>6} {:>6}   idle memory per connection",
            "broker", "msgs/s", "p50", "p99", "max", "lost", "dup"
        );
        for b in &self.brokers {
            let idle = b
                .idle
                .as_ref()
                .map_or_else(|| "not measured".into(), bytes_per_conn);
            let _ = writeln!(
                out,
                "{:<11} {:>11.0} {:>10} {:>10} {:>10} {:>6} {:>6}   {}",
                b.broker,
                b.load.messages_per_sec,
                ms(b.load.latency_us.p50),
                ms(b.load.latency_us.p99),
                ms(b.load.latency_us.max),
                b.load.lost,
                b.load.duplicates,
                idle
            );
        }
        let _ = writeln!(out);
        for b in &self.brokers {
            let _ = writeln!(out, "{} {}", b.broker, b.version);
            let _ = writeln!(
                out,
                "  load: {} of {} delivered in {:.2} s",
                b.load.delivered, b.load.messages, b.load.seconds
            );
            if let Some(ingest) = &b.ingest {
                let _ = writeln!(out, "  {}", ingest_line(ingest, b.load.messages));
            }
            if let Some(idle) = &b.idle {
                let _ = writeln!(
                    out,
                    "  idle: {} of {} connected in {:.1} s; RSS {} -> {}",
                    idle.connected,
                    idle.requested,
                    idle.connect_seconds,
                    mib(idle.rss_before_bytes),
                    mib(idle.rss_after_bytes)
                );
                for (reason, count) in &idle.failures {
                    let _ = writeln!(out, "  idle failures: {count} x {reason}");
                }
                for (line, count) in &idle.broker_log {
                    let _ = writeln!(out, "  broker log: {count} x {line}");
                }
            }
            for note in &b.notes {
                let _ = writeln!(out, "  note: {note}");
            }
        }
        let _ = writeln!(out);
        let g = &self.goals;
        let _ = writeln!(
            out,
            "goal: at least as fast as Mosquitto with the ACL on: {}{}",
            yes_no(g.at_least_as_fast_as_mosquitto),
            g.throughput_ratio
                .map(|r| format!(" (healthsync/Mosquitto = {r:.2})"))
                .unwrap_or_default()
        );
        let _ = writeln!(
            out,
            "goal: at most 4 KiB per idle connection: {}{}",
            yes_no(g.at_most_4_kib_per_idle_connection),
            g.healthsync_bytes_per_idle_connection
                .map(|b| format!(" ({b:.0} B)"))
                .unwrap_or_default()
        );
        out
    }

    /// The Markdown report written by `--report FILE`.
    pub fn to_markdown(&self) -> String {
        let mut out = String::new();
        let s = &self.settings;
        let m = &self.machine;
        let _ = writeln!(out, "# Broker benchmark\n");
        let _ = writeln!(
            out,
            "Measured by `healthsync bench broker` on {}. Every figure below was measured in \
             this run.\n",
            self.started_at
        );
        let _ = writeln!(out, "```\n{}\n```\n", self.command);
        let _ = writeln!(out, "## Machine\n");
        let _ = writeln!(out, "- CPUs (nproc): {}", m.nproc);
        let _ = writeln!(out, "- CPU model: {}", m.cpu_model);
        if let Some(kb) = m.memory_total_kb {
            let _ = writeln!(out, "- memory: {:.1} GiB", kb as f64 / (1024.0 * 1024.0));
        }
        let _ = writeln!(out, "- kernel: {}", m.kernel);
        let _ = writeln!(
            out,
            "- load average (1, 5, 15 min): {} at start, {} at end",
            m.load_average_at_start, m.load_average_at_end
        );
        let _ = writeln!(
            out,
            "- brokers and load generator share this machine; the load generator is one \
             process of the same binary. Each broker runs twice, as a fresh process for the \
             idle connections and another for the load, one broker at a time.\n"
        );
        let _ = writeln!(out, "## Load\n");
        let _ = writeln!(
            out,
            "{} devices publish {} QoS 1 messages each ({} B payload, at most {} unacknowledged \
             per device) to `devices/{{id}}/telemetry`, all at once; one ingest-service \
             subscriber reads `devices/+/telemetry` at QoS 1. The topic ACL is on in both \
             brokers. Throughput is unique deliveries from the first send to the last delivery; \
             latency is from just before the publish to the subscriber's receipt. Lost = \
             acknowledged by the broker but not delivered within 10 s after the last \
             acknowledgement. The publishers send as fast as the broker acknowledges, so this \
             is the broker at saturation: latency includes the time a message waits in the \
             broker for the subscriber.\n",
            s.devices, s.messages_per_device, s.payload_bytes, s.inflight_per_device
        );
        let _ = writeln!(out, "| broker | msgs/s | p50 | p99 | max | lost |");
        let _ = writeln!(out, "| --- | ---: | ---: | ---: | ---: | ---: |");
        for b in &self.brokers {
            let _ = writeln!(
                out,
                "| {} | {:.0} | {} | {} | {} | {} |",
                b.broker,
                b.load.messages_per_sec,
                ms(b.load.latency_us.p50),
                ms(b.load.latency_us.p99),
                ms(b.load.latency_us.max),
                b.load.lost
            );
        }
        let _ = writeln!(out);
        let _ = writeln!(out, "## Memory per idle connection\n");
        let _ = writeln!(
            out,
            "{} MQTT 3.1.1 connections with valid device credentials, each accepted (CONNACK \
             0) and then silent, opened after {} warm-up connections that stay open. Figure: \
             growth of the broker process's VmRSS divided by the connections, read 3 s after \
             the last one connected. For healthsync only the `healthsync up` process counts, \
             not its PostgreSQL children.\n",
            s.idle_connections, s.idle_warmup_connections
        );
        let _ = writeln!(
            out,
            "| broker | connected | connect time | RSS before | RSS after | per connection |"
        );
        let _ = writeln!(out, "| --- | ---: | ---: | ---: | ---: | ---: |");
        for b in &self.brokers {
            if let Some(idle) = &b.idle {
                let _ = writeln!(
                    out,
                    "| {} | {} of {} | {:.1} s | {} | {} | {} |",
                    b.broker,
                    idle.connected,
                    idle.requested,
                    idle.connect_seconds,
                    mib(idle.rss_before_bytes),
                    mib(idle.rss_after_bytes),
                    bytes_per_conn(idle)
                );
            }
        }
        let failures: Vec<_> = self
            .brokers
            .iter()
            .filter_map(|b| b.idle.as_ref().map(|i| (b, i)))
            .flat_map(|(b, i)| i.failures.iter().map(move |(r, c)| (b, r, c)))
            .collect();
        if !failures.is_empty() {
            let _ = writeln!(out, "\nFailed connections:\n");
            for (b, reason, count) in failures {
                let _ = writeln!(out, "- {}: {count} x {reason}", b.broker);
            }
            for b in &self.brokers {
                for (line, count) in b.idle.iter().flat_map(|i| &i.broker_log) {
                    let _ = writeln!(out, "- {}'s log: {count} x `{line}`", b.broker);
                }
            }
        }
        let _ = writeln!(out);
        let _ = writeln!(out, "## Goals\n");
        let g = &self.goals;
        let _ = writeln!(
            out,
            "- at least as fast as Mosquitto with the ACL on: **{}**{}",
            yes_no(g.at_least_as_fast_as_mosquitto),
            g.throughput_ratio
                .map(|r| format!(" (healthsync / Mosquitto = {r:.2})"))
                .unwrap_or_default()
        );
        let _ = writeln!(
            out,
            "- at most 4 KiB per idle connection: **{}**{}",
            yes_no(g.at_most_4_kib_per_idle_connection),
            g.healthsync_bytes_per_idle_connection
                .map(|b| format!(" ({b:.0} B)"))
                .unwrap_or_default()
        );
        let _ = writeln!(out);
        let _ = writeln!(out, "## Brokers\n");
        for b in &self.brokers {
            let _ = writeln!(out, "- **{}** {}", b.broker, b.version);
            if let Some(ingest) = &b.ingest {
                let _ = writeln!(out, "  - {}", ingest_line(ingest, b.load.messages));
            }
            for note in &b.notes {
                let _ = writeln!(out, "  - {note}");
            }
        }
        out
    }
}
