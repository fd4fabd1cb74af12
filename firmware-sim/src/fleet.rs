//! The demo fleet behind `healthsync sim run` and `healthsync up --demo`: every device of a
//! roster runs the store-and-forward firmware, fed by its simulated timeline.
//!
//! Simulated time may run faster than real time, but never ahead of it: a run with
//! `speed` S and `backfill` B starts the simulation B before now, plays it S times faster
//! until it catches up with the present, then goes on in real time. So a demo gets a day
//! of history in minutes, and no device ever reports a reading from the future (the
//! platform would reject it). The ground truth of every event the simulation injects is
//! appended to a JSON Lines file as simulated time reaches it.

use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use chrono::{DateTime, Utc};
use indicatif::{ProgressBar, ProgressStyle};
use serde::Serialize;
use tokio::sync::{mpsc, watch};
use tokio::task::JoinSet;
use tokio::time::Instant;

use crate::firmware::{
    self, Command, Counters, DeviceOutcome, FirmwareSettings, Login, WireReading,
};
use crate::profiles::Profiles;
use crate::roster::Roster;
use crate::scenario::{SimError, SimOptions, Simulation, write_ground_truth};
use crate::timeline::Emission;

#[derive(Clone, Debug)]
pub struct FleetOptions {
    pub sim: SimOptions,
    /// How many times faster than real time the simulation runs until it reaches now.
    pub speed: f64,
    /// How far before now the simulation starts.
    pub backfill: Duration,
    /// Real time to run for; `None` runs until stopped.
    pub duration: Option<Duration>,
    pub firmware: FirmwareSettings,
    /// Where the ground truth goes (appended), if anywhere.
    pub ground_truth: Option<PathBuf>,
    pub progress: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum FleetError {
    #[error(transparent)]
    Sim(#[from] SimError),
    #[error("--speed must be at least 1 (got {0})")]
    Speed(f64),
    #[error("ground truth file {path}: {source}")]
    GroundTruth {
        path: String,
        source: std::io::Error,
    },
}

/// What the fleet did.
#[derive(Clone, Debug, Serialize)]
pub struct FleetReport {
    pub devices: usize,
    pub simulated_from: DateTime<Utc>,
    pub simulated_to: DateTime<Utc>,
    pub messages: u64,
    pub readings: u64,
    pub acked_messages: u64,
    pub accepted_readings: u64,
    pub rejected_readings: u64,
    /// Generated but not acked when the fleet stopped (after its drain).
    pub unacked_readings: u64,
    pub dropped_messages: u64,
    pub reconnects: u64,
    pub ground_truth_events: usize,
}

/// Maps simulated time to the real instant it is played at.
#[derive(Clone, Copy, Debug)]
pub struct Clock {
    real_start: Instant,
    sim_start: DateTime<Utc>,
    /// Where the simulation catches up with real time.
    sim_present: DateTime<Utc>,
    speed: f64,
}

impl Clock {
    pub fn new(now: DateTime<Utc>, backfill: Duration, speed: f64) -> Clock {
        let backfill = chrono::Duration::from_std(backfill).unwrap_or(chrono::Duration::MAX);
        Clock {
            real_start: Instant::now(),
            sim_start: now - backfill,
            sim_present: now,
            speed,
        }
    }

    fn real(&self, t: DateTime<Utc>) -> Instant {
        let secs = |d: chrono::Duration| d.to_std().unwrap_or_default().as_secs_f64();
        let fast = secs(t.min(self.sim_present) - self.sim_start) / self.speed;
        let live = secs(t - self.sim_present);
        self.real_start + Duration::from_secs_f64(fast + live)
    }

    /// The simulated time now.
    pub fn now(&self) -> DateTime<Utc> {
        self.sim(Instant::now())
    }

    fn sim(&self, real: Instant) -> DateTime<Utc> {
        let elapsed = real.duration_since(self.real_start).as_secs_f64();
        let catch_up = (self.sim_present - self.sim_start)
            .to_std()
            .unwrap_or_default()
            .as_secs_f64()
            / self.speed;
        let sim_secs = if elapsed <= catch_up {
            elapsed * self.speed
        } else {
            catch_up * self.speed + (elapsed - catch_up)
        };
        self.sim_start + chrono::Duration::microseconds((sim_secs * 1e6) as i64)
    }
}

/// Runs the fleet until `duration` passes or `stop` resolves, then lets every device drain.
pub async fn run(
    roster: &Roster,
    profiles: &Profiles,
    options: &FleetOptions,
    stop: impl Future<Output = ()>,
) -> Result<FleetReport, FleetError> {
    let clock = Clock::new(Utc::now(), options.backfill, options.speed);
    run_with_clock(roster, profiles, options, clock, stop).await
}

/// [`run`] on a clock made beforehand (with `options.backfill` and `options.speed`), which
/// others may read too: the alert evaluation gives it to the alert engine.
pub async fn run_with_clock(
    roster: &Roster,
    profiles: &Profiles,
    options: &FleetOptions,
    clock: Clock,
    stop: impl Future<Output = ()>,
) -> Result<FleetReport, FleetError> {
    if !(options.speed >= 1.0 && options.speed.is_finite()) {
        return Err(FleetError::Speed(options.speed));
    }
    let simulation = Simulation::new(roster, profiles, options.sim)?;
    let mut truth = match &options.ground_truth {
        Some(path) => Some(GroundTruth::open(path)?),
        None => None,
    };
    let counters = Arc::new(Counters::default());
    let (halt, halted) = watch::channel(false);
    let mut devices = JoinSet::new();
    for (_, device) in roster.devices() {
        let Some(timeline) = simulation.timeline(device.id, clock.sim_start) else {
            continue;
        };
        let (input, commands) = mpsc::channel(256);
        let login = Login {
            device: device.id,
            api_key: device.api_key.clone(),
        };
        devices.spawn(firmware::run(
            login,
            options.firmware.clone(),
            commands,
            counters.clone(),
        ));
        tokio::spawn(play(timeline, clock, input, halted.clone()));
    }

    let bar = progress_bar(options.progress);
    let until = options.duration.map(|d| Instant::now() + d);
    let mut written_to = clock.sim_start;
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    tokio::pin!(stop);
    loop {
        tokio::select! {
            _ = &mut stop => break,
            _ = tick.tick() => {}
        }
        let now = clock.sim(Instant::now());
        if let Some(truth) = truth.as_mut() {
            truth.append(&simulation.ground_truth(written_to, now))?;
        }
        written_to = now;
        show(&bar, &counters, now, clock.speed);
        if until.is_some_and(|until| Instant::now() >= until) {
            break;
        }
    }
    let _ = halt.send(true);
    bar.set_message("draining: waiting for the last acks");
    let mut outcomes = Vec::new();
    while let Some(outcome) = devices.join_next().await {
        if let Ok(outcome) = outcome {
            outcomes.push(outcome);
        }
    }
    bar.finish_and_clear();
    let sum = |f: fn(&DeviceOutcome) -> u64| outcomes.iter().map(f).sum::<u64>();
    Ok(FleetReport {
        devices: outcomes.len(),
        simulated_from: clock.sim_start,
        simulated_to: written_to,
        messages: sum(|o| o.messages),
        readings: sum(|o| o.readings),
        acked_messages: sum(|o| o.acked_messages),
        accepted_readings: sum(|o| o.accepted_readings),
        rejected_readings: sum(|o| o.rejected_readings),
        unacked_readings: sum(|o| o.unacked_readings),
        dropped_messages: sum(|o| o.dropped_messages),
        reconnects: sum(|o| o.reconnects),
        ground_truth_events: truth.map_or(0, |t| t.events),
    })
}

/// Feeds one device's firmware with its timeline, each emission at its real instant.
async fn play(
    timeline: crate::timeline::DeviceTimeline,
    clock: Clock,
    input: mpsc::Sender<Command>,
    mut halted: watch::Receiver<bool>,
) {
    let mut online = true;
    for emission in timeline {
        tokio::select! {
            _ = tokio::time::sleep_until(clock.real(emission.at)) => {}
            _ = halted.wait_for(|halted| *halted) => return,
        }
        for command in commands_for(emission, &mut online) {
            if input.send(command).await.is_err() {
                return;
            }
        }
    }
}

fn commands_for(emission: Emission, online: &mut bool) -> Vec<Command> {
    let mut commands = Vec::with_capacity(emission.status.len() + 2);
    // A device going offline keeps measuring; one coming back online sends its backlog.
    if emission.online != *online {
        *online = emission.online;
        commands.push(Command::Online(emission.online));
    }
    commands.extend(emission.status.into_iter().map(Command::Status));
    if !emission.readings.is_empty() {
        let readings = emission
            .readings
            .iter()
            .map(|r| WireReading {
                metric: r.metric,
                t: r.t,
                v: r.v,
                v2: r.v2,
            })
            .collect();
        commands.push(Command::Telemetry {
            readings,
            battery: Some(emission.battery),
        });
    }
    commands
}

struct GroundTruth {
    path: String,
    file: std::fs::File,
    events: usize,
}

impl GroundTruth {
    fn open(path: &std::path::Path) -> Result<GroundTruth, FleetError> {
        let shown = path.display().to_string();
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .map_err(|source| FleetError::GroundTruth {
                path: shown.clone(),
                source,
            })?;
        Ok(GroundTruth {
            path: shown,
            file,
            events: 0,
        })
    }

    fn append(&mut self, events: &[crate::scenario::GroundTruthEvent]) -> Result<(), FleetError> {
        if events.is_empty() {
            return Ok(());
        }
        let mut buffer = Vec::new();
        let written = write_ground_truth(events, &mut buffer)
            .and_then(|()| self.file.write_all(&buffer))
            .and_then(|()| self.file.flush());
        written.map_err(|source| FleetError::GroundTruth {
            path: self.path.clone(),
            source,
        })?;
        self.events += events.len();
        Ok(())
    }
}

fn progress_bar(visible: bool) -> ProgressBar {
    let bar = if visible {
        ProgressBar::new_spinner()
    } else {
        ProgressBar::hidden()
    };
    bar.set_style(
        ProgressStyle::with_template("{spinner} [{elapsed_precise}] {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_spinner()),
    );
    bar.enable_steady_tick(Duration::from_millis(200));
    bar
}

fn show(bar: &ProgressBar, counters: &Counters, now: DateTime<Utc>, speed: f64) {
    let get = |c: &std::sync::atomic::AtomicU64| c.load(Ordering::Relaxed);
    let live = (Utc::now() - now).num_seconds() < 5;
    bar.set_message(format!(
        "simulated {} ({}) · {} devices online · {} readings sent · {} acked · {} reconnects",
        now.format("%Y-%m-%d %H:%M"),
        if live {
            "live".to_owned()
        } else {
            format!("{speed}× catching up")
        },
        get(&counters.connected),
        get(&counters.sent_readings),
        get(&counters.acked_readings),
        get(&counters.reconnects),
    ));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_clock_plays_the_backfill_fast_then_keeps_real_time() {
        let now: DateTime<Utc> = "2026-11-21T12:00:00Z".parse().unwrap();
        let clock = Clock::new(now, Duration::from_secs(86_400), 1440.0);
        let start = clock.real_start;
        assert_eq!(clock.real(clock.sim_start), start);
        // A simulated day in a real minute, then one to one.
        assert_eq!(clock.real(now), start + Duration::from_secs(60));
        let later = now + chrono::Duration::seconds(10);
        assert_eq!(clock.real(later), start + Duration::from_secs(70));
        assert_eq!(
            clock.sim(start + Duration::from_secs(30)),
            now - chrono::Duration::hours(12)
        );
        assert_eq!(clock.sim(start + Duration::from_secs(70)), later);
    }

    #[test]
    fn going_offline_is_told_once_and_readings_keep_their_times() {
        let t: DateTime<Utc> = "2026-11-21T12:00:00Z".parse().unwrap();
        let emission = |online| Emission {
            at: t,
            readings: vec![crate::timeline::SimReading {
                metric: healthsync_core::catalog::Metric::HeartRate,
                t,
                v: 61.0,
                v2: None,
            }],
            battery: 0.5,
            status: vec![],
            online,
        };
        let mut online = true;
        let first = commands_for(emission(false), &mut online);
        assert!(matches!(first[0], Command::Online(false)));
        assert!(matches!(&first[1], Command::Telemetry { readings, .. } if readings[0].t == t));
        let second = commands_for(emission(false), &mut online);
        assert_eq!(second.len(), 1);
        let back = commands_for(emission(true), &mut online);
        assert!(matches!(back[0], Command::Online(true)));
    }
}
