//! The load test's report: human-readable text or JSON, and whether the run passed (nothing
//! lost, nothing acked but missing, nothing stored twice).

use std::fmt::Write;
use std::time::Duration;

use serde::Serialize;

use crate::firmware::DeviceOutcome;

/// What was asked for.
#[derive(Clone, Debug, Serialize)]
pub struct Offered {
    pub devices: usize,
    /// Readings per second, all devices together.
    pub rate: f64,
    #[serde(serialize_with = "seconds")]
    pub duration: Duration,
    pub readings_per_message: usize,
    pub broker: String,
}

fn seconds<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_f64(d.as_secs_f64())
}

/// Ack latency (first send to ack), in milliseconds.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Latency {
    pub p50: f64,
    pub p95: f64,
    pub p99: f64,
    pub max: f64,
    pub samples: usize,
}

impl Latency {
    pub fn of(samples_us: impl Iterator<Item = u32>) -> Self {
        let mut all: Vec<u32> = samples_us.collect();
        if all.is_empty() {
            return Latency::default();
        }
        all.sort_unstable();
        let at = |q: f64| {
            let rank = ((q * all.len() as f64).ceil() as usize).clamp(1, all.len());
            f64::from(all[rank - 1]) / 1000.0
        };
        Latency {
            p50: at(0.50),
            p95: at(0.95),
            p99: at(0.99),
            max: at(1.0),
            samples: all.len(),
        }
    }
}

/// What the database holds for the load's devices.
#[derive(Clone, Debug, Serialize)]
pub struct Verification {
    pub stored_readings: u64,
    /// Readings the platform acked as stored that are not in the database.
    pub acked_but_missing: u64,
    /// Rows beyond the readings generated: a reading stored twice.
    pub duplicates: u64,
}

#[derive(Clone, Debug, Serialize)]
pub struct LoadReport {
    pub offered: Offered,
    pub generated_readings: u64,
    pub generated_messages: u64,
    pub offered_readings_per_sec: f64,
    pub acked_messages: u64,
    pub acked_readings: u64,
    /// Acked readings over the time from the start to the last ack.
    pub acked_readings_per_sec: f64,
    pub rejected_readings: u64,
    pub ack_latency_ms: Latency,
    /// Generated but never acked, after the final drain (including dropped ones).
    pub lost_readings: u64,
    pub lost_messages: u64,
    pub dropped_messages: u64,
    pub resent_messages: u64,
    pub duplicate_acks: u64,
    pub reconnects: u64,
    pub errors: u64,
    pub error_samples: Vec<String>,
    pub database: Option<Verification>,
    pub passed: bool,
}

pub(crate) fn build(
    offered: Offered,
    generated_for: Duration,
    last_ack: Duration,
    outcomes: &[DeviceOutcome],
    latency: Latency,
    database: Option<Verification>,
) -> LoadReport {
    let sum = |f: fn(&DeviceOutcome) -> u64| outcomes.iter().map(f).sum::<u64>();
    let generated_readings = sum(|o| o.readings);
    let acked_readings = sum(|o| o.accepted_readings + o.rejected_readings);
    let lost_messages = sum(|o| o.unacked_messages + o.dropped_messages);
    let mut error_samples: Vec<String> = outcomes.iter().flat_map(|o| o.errors.clone()).collect();
    error_samples.sort();
    error_samples.dedup();
    error_samples.truncate(5);
    let lost_readings = generated_readings.saturating_sub(acked_readings);
    let passed = lost_readings == 0
        && database
            .as_ref()
            .is_none_or(|d| d.acked_but_missing == 0 && d.duplicates == 0);
    LoadReport {
        offered_readings_per_sec: generated_readings as f64 / generated_for.as_secs_f64(),
        acked_readings_per_sec: acked_readings as f64 / last_ack.as_secs_f64().max(1e-3),
        offered,
        generated_readings,
        generated_messages: sum(|o| o.messages),
        acked_messages: sum(|o| o.acked_messages),
        acked_readings,
        rejected_readings: sum(|o| o.rejected_readings),
        ack_latency_ms: latency,
        lost_readings,
        lost_messages,
        dropped_messages: sum(|o| o.dropped_messages),
        resent_messages: sum(|o| o.resent_messages),
        duplicate_acks: sum(|o| o.duplicate_acks),
        reconnects: sum(|o| o.reconnects),
        errors: sum(|o| o.error_count),
        error_samples,
        database,
        passed,
    }
}

impl LoadReport {
    pub fn to_text(&self) -> String {
        let o = &self.offered;
        let l = &self.ack_latency_ms;
        let mut t = String::new();
        let _ = writeln!(
            t,
            "load: {} devices, {:.0} readings/s target, {} readings/message, {:.0} s, broker {}",
            o.devices,
            o.rate,
            o.readings_per_message,
            o.duration.as_secs_f64(),
            o.broker
        );
        let _ = writeln!(
            t,
            "  offered   {:>10.0} readings/s  ({} readings in {} messages)",
            self.offered_readings_per_sec, self.generated_readings, self.generated_messages
        );
        let _ = writeln!(
            t,
            "  acked     {:>10.0} readings/s  ({} readings in {} messages, {} rejected)",
            self.acked_readings_per_sec,
            self.acked_readings,
            self.acked_messages,
            self.rejected_readings
        );
        let _ = writeln!(
            t,
            "  ack latency  p50 {:.1} ms  p95 {:.1} ms  p99 {:.1} ms  max {:.1} ms",
            l.p50, l.p95, l.p99, l.max
        );
        let _ = writeln!(
            t,
            "  lost      {} readings ({} messages, {} dropped from full buffers)",
            self.lost_readings, self.lost_messages, self.dropped_messages
        );
        match &self.database {
            Some(d) => {
                let _ = writeln!(
                    t,
                    "  database  {} readings stored; acked but missing {}; duplicates {}",
                    d.stored_readings, d.acked_but_missing, d.duplicates
                );
            }
            None => {
                let _ = writeln!(t, "  database  not checked (no database access)");
            }
        }
        let _ = writeln!(
            t,
            "  resent {} · duplicate acks {} · reconnects {} · errors {}",
            self.resent_messages, self.duplicate_acks, self.reconnects, self.errors
        );
        for error in &self.error_samples {
            let _ = writeln!(t, "    error: {error}");
        }
        let _ = writeln!(
            t,
            "  result    {}",
            if self.passed {
                "PASS: every reading acked and stored once"
            } else {
                "FAIL: readings were lost or stored wrongly"
            }
        );
        t
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_use_the_nearest_rank() {
        let l = Latency::of((1..=100).map(|ms| ms * 1000));
        assert_eq!((l.p50, l.p95, l.p99, l.max), (50.0, 95.0, 99.0, 100.0));
        assert_eq!(Latency::of(std::iter::empty()).samples, 0);
    }

    #[test]
    fn a_run_with_unacked_readings_fails() {
        let offered = Offered {
            devices: 1,
            rate: 10.0,
            duration: Duration::from_secs(1),
            readings_per_message: 1,
            broker: "x".into(),
        };
        let mut device = DeviceOutcome {
            readings: 10,
            messages: 10,
            accepted_readings: 10,
            acked_messages: 10,
            ..DeviceOutcome::default()
        };
        let ok = build(
            offered.clone(),
            Duration::from_secs(1),
            Duration::from_secs(1),
            std::slice::from_ref(&device),
            Latency::default(),
            None,
        );
        assert!(ok.passed && ok.lost_readings == 0, "{}", ok.to_text());
        device.accepted_readings = 8;
        device.unacked_messages = 2;
        let lost = build(
            offered,
            Duration::from_secs(1),
            Duration::from_secs(1),
            &[device],
            Latency::default(),
            None,
        );
        assert!(!lost.passed);
        assert_eq!((lost.lost_readings, lost.lost_messages), (2, 2));
    }
}
