//! The load test behind `healthsync sim load`: N store-and-forward devices (the same
//! firmware as the demo fleet) publish heart-rate batches at a fixed total rate for a
//! duration, then wait for their last acks; the report says what was offered, what the
//! platform acked and how fast, and whether anything was lost or stored twice.
//!
//! Readings are synthetic (a random walk per device), not physiology: the load test
//! measures the platform, and the device side must stay cheap enough not to be the limit.
//! Each reading's time is its device's wall clock at generation, unique per device.

pub mod report;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use chrono::{DateTime, SubsecRound, Utc};
use healthsync_core::catalog::Metric;
use indicatif::{ProgressBar, ProgressStyle};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use sqlx::PgPool;
use tokio::sync::mpsc;
use tokio::task::JoinSet;
use uuid::Uuid;

use crate::firmware::{
    self, Command, Counters, DeviceOutcome, FirmwareSettings, Login, WireReading,
};
use crate::roster::Roster;

pub use self::report::LoadReport;
use self::report::{Latency, Offered, Verification};

/// The shortest interval between one device's messages.
const MIN_INTERVAL: Duration = Duration::from_millis(1);
/// How long every device has to connect before the load starts.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(60);

#[derive(Clone, Debug)]
pub struct LoadOptions {
    /// Readings per second, all devices together.
    pub rate: f64,
    pub duration: Duration,
    pub readings_per_message: usize,
    pub firmware: FirmwareSettings,
    /// Show a progress bar (on stderr).
    pub progress: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("{0}")]
    Invalid(String),
    #[error("only {connected} of {devices} devices connected within {CONNECT_TIMEOUT:?}: {errors}")]
    Connect {
        connected: u64,
        devices: usize,
        errors: String,
    },
    #[error("counting stored readings: {0}")]
    Database(#[from] sqlx::Error),
}

impl LoadOptions {
    /// The interval between one device's messages, or why the options do not make sense.
    pub fn message_interval(&self, devices: usize) -> Result<Duration, LoadError> {
        let invalid = |m: &str| Err(LoadError::Invalid(m.into()));
        if devices == 0 {
            return invalid("the load needs at least one device");
        }
        if !(self.rate.is_finite() && self.rate > 0.0) {
            return invalid("--rate must be a positive number of readings per second");
        }
        if self.readings_per_message == 0
            || self.readings_per_message > healthsync_core::telemetry::MAX_READINGS
        {
            return invalid("--readings-per-message: 1 to 1000");
        }
        if self.duration.is_zero() {
            return invalid("--duration must be more than zero");
        }
        let per_device = self.rate / devices as f64;
        let interval = Duration::from_secs_f64(self.readings_per_message as f64 / per_device);
        if interval < MIN_INTERVAL {
            return invalid(
                "each device would send more than 1000 messages/s: \
                 use more devices or more readings per message",
            );
        }
        Ok(interval)
    }
}

/// Runs the load with every device of `roster` (smartwatches) and, when `pool` is given,
/// checks what reached the database.
pub async fn run(
    roster: &Roster,
    options: &LoadOptions,
    pool: Option<&PgPool>,
) -> Result<LoadReport, LoadError> {
    let logins: Vec<Login> = roster
        .devices()
        .map(|(_, d)| Login {
            device: d.id,
            api_key: d.api_key.clone(),
        })
        .collect();
    let interval = options.message_interval(logins.len())?;
    let counters = Arc::new(Counters::default());
    let bar = progress_bar(options);

    let mut devices = JoinSet::new();
    let mut inputs = Vec::with_capacity(logins.len());
    for login in &logins {
        let (tx, rx) = mpsc::channel(64);
        inputs.push((login.device.0, tx));
        devices.spawn(firmware::run(
            login.clone(),
            options.firmware.clone(),
            rx,
            counters.clone(),
        ));
    }
    wait_for_connections(&counters, logins.len(), &bar).await?;

    bar.set_length(options.duration.as_secs().max(1));
    bar.set_position(0);
    bar.set_style(running_style());
    let started = Instant::now();
    let mut generators = JoinSet::new();
    let phase_step = interval.div_f64(logins.len() as f64);
    for (i, (id, input)) in inputs.into_iter().enumerate() {
        generators.spawn(generate(
            id,
            input,
            interval,
            phase_step * i as u32,
            options.readings_per_message,
            started + options.duration,
        ));
    }
    let last_ack_us = Arc::new(AtomicU64::new(0));
    let sampler = tokio::spawn(sample(
        counters.clone(),
        bar.clone(),
        started,
        last_ack_us.clone(),
    ));
    while generators.join_next().await.is_some() {}
    let generated_for = started.elapsed();
    bar.set_message("draining: waiting for the last acks");

    let mut outcomes = Vec::with_capacity(logins.len());
    while let Some(outcome) = devices.join_next().await {
        if let Ok(outcome) = outcome {
            outcomes.push(outcome);
        }
    }
    sampler.abort();
    let last_ack = match last_ack_us.load(Ordering::Relaxed) {
        0 => generated_for,
        us => Duration::from_micros(us),
    };
    bar.finish_and_clear();

    let verification = match pool {
        Some(pool) => Some(verify(pool, &logins, &outcomes).await?),
        None => None,
    };
    Ok(report::build(
        Offered {
            devices: logins.len(),
            rate: options.rate,
            duration: options.duration,
            readings_per_message: options.readings_per_message,
            broker: format!("{}:{}", options.firmware.host, options.firmware.port),
        },
        generated_for,
        last_ack,
        &outcomes,
        Latency::of(
            outcomes
                .iter()
                .flat_map(|o| o.ack_latencies_us.iter().copied()),
        ),
        verification,
    ))
}

async fn wait_for_connections(
    counters: &Counters,
    devices: usize,
    bar: &ProgressBar,
) -> Result<(), LoadError> {
    let deadline = Instant::now() + CONNECT_TIMEOUT;
    loop {
        let connected = counters.connected.load(Ordering::Relaxed);
        bar.set_message(format!("connecting: {connected}/{devices} devices"));
        if connected as usize >= devices {
            return Ok(());
        }
        if Instant::now() >= deadline {
            return Err(LoadError::Connect {
                connected,
                devices,
                errors: format!(
                    "{} connection errors so far",
                    counters.errors.load(Ordering::Relaxed)
                ),
            });
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// One device's sensor: a message of `per_message` heart-rate readings every `interval`,
/// the first after `phase` so that devices do not all send at once.
async fn generate(
    device: Uuid,
    input: mpsc::Sender<Command>,
    interval: Duration,
    phase: Duration,
    per_message: usize,
    until: Instant,
) {
    let mut rng = ChaCha8Rng::seed_from_u64(device.as_u64_pair().1);
    let mut heart_rate: f64 = rng.gen_range(55.0..90.0);
    let mut last_t: Option<DateTime<Utc>> = None;
    // Whole microseconds: the database keeps times to the microsecond, so readings closer
    // than that would share a key and all but one would be taken for replays.
    let spacing = chrono::Duration::microseconds(
        ((interval.as_micros() / per_message as u128) as i64).max(1),
    );
    let mut ticks = tokio::time::interval_at(tokio::time::Instant::now() + phase, interval);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    loop {
        ticks.tick().await;
        if Instant::now() >= until {
            return;
        }
        let now = Utc::now().trunc_subsecs(6);
        let mut readings = Vec::with_capacity(per_message);
        for i in (0..per_message).rev() {
            let mut t = now - spacing * i as i32;
            // The key is (device, metric, time): never reuse a time, even if the clock
            // steps back.
            if let Some(last) = last_t
                && t <= last
            {
                t = last + chrono::Duration::microseconds(1);
            }
            last_t = Some(t);
            heart_rate = (heart_rate + rng.gen_range(-1.5..1.5)).clamp(45.0, 150.0);
            readings.push(WireReading {
                metric: Metric::HeartRate,
                t,
                v: heart_rate.round(),
                v2: None,
            });
        }
        let battery = Some(1.0);
        if input
            .send(Command::Telemetry { readings, battery })
            .await
            .is_err()
        {
            return;
        }
    }
}

/// Updates the progress bar, and `last_ack_us` with when acks last moved (microseconds
/// after `started`).
async fn sample(
    counters: Arc<Counters>,
    bar: ProgressBar,
    started: Instant,
    last_ack_us: Arc<AtomicU64>,
) {
    let mut last = (0, Instant::now());
    let mut ticks = tokio::time::interval(Duration::from_millis(250));
    loop {
        ticks.tick().await;
        let acked = counters.acked_readings.load(Ordering::Relaxed);
        let sent = counters.sent_readings.load(Ordering::Relaxed);
        let now = Instant::now();
        let rate = (acked - last.0) as f64 / now.duration_since(last.1).as_secs_f64();
        if acked != last.0 {
            last_ack_us.store(
                now.duration_since(started).as_micros() as u64,
                Ordering::Relaxed,
            );
        }
        last = (acked, now);
        bar.set_position(started.elapsed().as_secs());
        bar.set_message(format!(
            "acked {rate:>7.0} readings/s · sent {sent} · unacked {} · reconnects {}",
            sent.saturating_sub(acked),
            counters.reconnects.load(Ordering::Relaxed),
        ));
    }
}

/// Counts what the database holds for these devices against what was acked.
async fn verify(
    pool: &PgPool,
    logins: &[Login],
    outcomes: &[DeviceOutcome],
) -> Result<Verification, sqlx::Error> {
    let ids: Vec<Uuid> = logins.iter().map(|l| l.device.0).collect();
    let stored: i64 = sqlx::query_scalar("SELECT count(*) FROM readings WHERE device_id = ANY($1)")
        .bind(&ids)
        .fetch_one(pool)
        .await?;
    let stored = stored as u64;
    let accepted: u64 = outcomes.iter().map(|o| o.accepted_readings).sum();
    let generated: u64 = outcomes.iter().map(|o| o.readings).sum();
    Ok(Verification {
        stored_readings: stored,
        acked_but_missing: accepted.saturating_sub(stored),
        // Every generated reading has its own (device, metric, time): more rows than
        // readings can only be a reading stored twice.
        duplicates: stored.saturating_sub(generated),
    })
}

fn progress_bar(options: &LoadOptions) -> ProgressBar {
    let bar = if options.progress {
        ProgressBar::new_spinner()
    } else {
        ProgressBar::hidden()
    };
    bar.enable_steady_tick(Duration::from_millis(200));
    bar
}

fn running_style() -> ProgressStyle {
    ProgressStyle::with_template("{spinner} [{elapsed_precise}] {bar:24} {pos}/{len}s {msg}")
        .unwrap_or_else(|_| ProgressStyle::default_bar())
}
