//! The alert engine: per-patient streaming state (a bounded window per metric, the
//! conditions of every rule, the resting-heart-rate baseline, recent alerts) fed by committed
//! readings, device status reports and clock ticks, answering with the alerts to raise and
//! the conditions that cleared. Pure and synchronous: the service does the I/O.
//!
//! Where the alarm-fatigue controls live:
//! - persistence and hysteresis: [`crate::condition`], per rule and device;
//! - artifacts: a continuous wearable's reading that jumps implausibly far from that
//!   device's own median of the last minute(s) is kept out of every decision, and so is
//!   anything a device sends while it reports a sensor fault;
//! - no duplicates: one unresolved alert per patient and key; a condition that fires again
//!   while its alert is unresolved is a recurrence, not a new alert;
//! - rate limit: at most `max_alerts_per_hour` new medium and low alerts per patient; high
//!   alerts always pass.

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use healthsync_core::catalog::Metric;
use healthsync_core::devices::DeviceKind;
use healthsync_core::ids::{DeviceId, UserId};
use healthsync_core::status::{StatusKind, StatusReport};
use healthsync_core::telemetry::{MAX_FUTURE, Reading};
use serde_json::json;

use crate::alert::{AlertDraft, Severity};
use crate::baseline::{self, Change, DailyValue, RestingHeartRate};
use crate::condition::{Condition, Confirm, Evidence, Level, Transition};
use crate::news2::{self, Vitals};
use crate::rules::{RuleSet, ThresholdRule};
use crate::window::{Sample, Window};

/// Who sent a reading.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Source {
    pub device: DeviceId,
    pub kind: DeviceKind,
    pub patient: UserId,
}

impl Source {
    /// Smartwatches sample continuously; every other kind takes deliberate spot checks (a
    /// CGM, reported as a glucometer, sends one averaged value every few minutes).
    fn spot(&self) -> bool {
        self.kind != DeviceKind::Smartwatch
    }
}

#[derive(Clone, Debug, PartialEq)]
pub enum Signal {
    /// A condition fired and no unresolved alert with its key is known: a new alert.
    Raise(AlertDraft),
    /// A condition fired (or grew more severe) while its alert is unresolved.
    Recur(AlertDraft),
    /// A condition cleared. `resolve`: the alert resolves itself (device health); clinical
    /// alerts stay until a clinician resolves them.
    Clear {
        patient: UserId,
        key: String,
        resolve: bool,
    },
}

/// How far back the engine keeps each metric.
const WINDOW_SPAN: i64 = 2 * 60;
const WINDOW_CAPACITY: usize = 2048;
/// Steps in any minute of the last ten at this cadence or more mean the wearer is active.
const ACTIVE_STEPS_PER_MINUTE: f64 = 60.0;
const ACTIVE_WINDOW_MINUTES: i64 = 10;
/// NEWS2 takes the median of the last minutes of a parameter, so a stray value does not
/// swing the score.
const NEWS2_MEDIAN_MINUTES: i64 = 5;
/// A device sending at least this often counts as regular, so its silence means something.
const REGULAR_CADENCE_SECONDS: f64 = 6.0 * 60.0;
/// A battery at this level again ends a low-battery alert.
const BATTERY_RECOVERED: f32 = 0.5;

/// An implausible jump for a continuous wearable: how far from the device's own median over
/// how long, with how many samples at least.
fn jump_limit(metric: Metric) -> Option<(f64, i64, usize)> {
    match metric {
        Metric::HeartRate => Some((35.0, 60, 3)),
        Metric::Spo2 => Some((8.0, 180, 2)),
        Metric::RespiratoryRate => Some((10.0, 180, 2)),
        _ => None,
    }
}

pub struct Engine {
    defaults: Arc<RuleSet>,
    rules: HashMap<UserId, Arc<RuleSet>>,
    patients: HashMap<UserId, Patient>,
    devices: HashMap<DeviceId, Device>,
    finished_days: Vec<(UserId, DailyValue)>,
    /// The newest measurement time among fresh readings (never ahead of the clock): how far
    /// the data has come. Silence is judged against it, not against the clock alone, so a
    /// stall of the pipeline itself does not make every device look offline.
    watermark: Option<DateTime<Utc>>,
    artifacts: u64,
    rate_limited: u64,
    future: u64,
}

#[derive(Default)]
struct Patient {
    windows: HashMap<Metric, Window>,
    conditions: HashMap<(&'static str, DeviceId), Condition>,
    news2: Condition,
    resting_hr: RestingHeartRate,
    /// Keys of this patient's unresolved alerts.
    open: HashSet<String>,
    /// When recent new medium and low alerts fired, for the rate limit.
    raised: VecDeque<DateTime<Utc>>,
}

struct Device {
    patient: UserId,
    last_t: Option<DateTime<Utc>>,
    /// Smoothed interval between its readings, in seconds.
    cadence: Option<f64>,
    sensor_fault: bool,
    offline: bool,
    /// Whether its latest reading arrived fresh. A backlog or a backfill arrives long
    /// after it was measured: its silence since says nothing about the device now.
    live: bool,
}

impl Engine {
    pub fn new(defaults: RuleSet) -> Engine {
        Engine {
            defaults: Arc::new(defaults),
            rules: HashMap::new(),
            patients: HashMap::new(),
            devices: HashMap::new(),
            finished_days: Vec::new(),
            watermark: None,
            artifacts: 0,
            rate_limited: 0,
            future: 0,
        }
    }

    pub fn set_rules(&mut self, patient: UserId, rules: RuleSet) {
        self.rules.insert(patient, Arc::new(rules));
    }

    pub fn rules(&self, patient: UserId) -> Arc<RuleSet> {
        self.rules.get(&patient).unwrap_or(&self.defaults).clone()
    }

    /// An unresolved alert from before a restart.
    pub fn restore_open(&mut self, patient: UserId, key: String) {
        self.patients.entry(patient).or_default().open.insert(key);
    }

    /// A day of the resting-heart-rate baseline from before a restart.
    pub fn restore_day(&mut self, patient: UserId, day: DailyValue) {
        let keep = self.rules(patient).baseline.days;
        self.patients
            .entry(patient)
            .or_default()
            .resting_hr
            .restore(day, keep);
    }

    /// A clinician resolved an alert: the next firing of its condition is a new alert.
    pub fn resolved(&mut self, patient: UserId, key: &str) {
        if let Some(p) = self.patients.get_mut(&patient) {
            p.open.remove(key);
        }
    }

    /// Days of the resting-heart-rate baseline completed since the last call, to be stored.
    pub fn take_finished_days(&mut self) -> Vec<(UserId, DailyValue)> {
        std::mem::take(&mut self.finished_days)
    }

    /// Readings suspected as artifacts and alerts held back by the rate limit, so far.
    pub fn suppressed(&self) -> (u64, u64) {
        (self.artifacts, self.rate_limited)
    }

    /// Readings measured in the future by the engine's clock, so far: not believed.
    pub fn from_the_future(&self) -> u64 {
        self.future
    }

    /// Feeds one committed batch, received at `now`: every reading through its rules, then
    /// one NEWS2 score per patient whose vitals changed.
    pub fn observe(&mut self, now: DateTime<Utc>, readings: &[(Source, Reading)]) -> Vec<Signal> {
        let mut signals = Vec::new();
        let mut news2_due: Vec<(UserId, DateTime<Utc>)> = Vec::new();
        for (source, reading) in readings {
            if self.observe_one(now, *source, reading, &mut signals)
                && is_news2_parameter(reading.metric)
            {
                match news2_due.iter_mut().find(|(p, _)| *p == source.patient) {
                    Some((_, t)) => *t = (*t).max(reading.measured_at),
                    None => news2_due.push((source.patient, reading.measured_at)),
                }
            }
        }
        for (patient, t) in news2_due {
            self.score_news2(patient, t, &mut signals);
        }
        signals
    }

    /// A device status report.
    pub fn status(&mut self, source: Source, report: &StatusReport) -> Vec<Signal> {
        let mut signals = Vec::new();
        let device = self.device(source);
        let key = |what: &str| format!("{what}:{}", source.device);
        match report.kind {
            StatusKind::SensorFault => {
                device.sensor_fault = true;
                let draft = device_draft(
                    source,
                    key("sensor_fault"),
                    "sensor_fault",
                    "Sensor fault",
                    report,
                );
                self.raise(draft, &mut signals);
            }
            StatusKind::SensorOk => {
                device.sensor_fault = false;
                self.clear(source.patient, key("sensor_fault"), true, &mut signals);
            }
            StatusKind::LowBattery => {
                let draft = device_draft(
                    source,
                    key("low_battery"),
                    "low_battery",
                    "Low battery",
                    report,
                );
                self.raise(draft, &mut signals);
            }
            StatusKind::Error => {
                let draft = device_draft(
                    source,
                    key("device_error"),
                    "device_error",
                    "Device error",
                    report,
                );
                self.raise(draft, &mut signals);
            }
        }
        if report.kind != StatusKind::LowBattery
            && report.battery.is_some_and(|b| b >= BATTERY_RECOVERED)
        {
            self.clear(source.patient, key("low_battery"), true, &mut signals);
        }
        signals
    }

    /// Time passes: regularly sending devices that fell silent while others went on sending
    /// are offline.
    pub fn tick(&mut self, now: DateTime<Utc>) -> Vec<Signal> {
        let mut signals = Vec::new();
        let Some(watermark) = self.watermark else {
            return signals;
        };
        let now = now.min(watermark);
        let mut silent = Vec::new();
        for (&id, device) in &mut self.devices {
            let (Some(last), Some(cadence)) = (device.last_t, device.cadence) else {
                continue;
            };
            if !device.live
                || device.offline
                || device.sensor_fault
                || cadence > REGULAR_CADENCE_SECONDS
            {
                continue;
            }
            let rule = &self
                .rules
                .get(&device.patient)
                .unwrap_or(&self.defaults)
                .device;
            let after = (cadence * rule.cadence_factor).max(rule.offline_min_minutes as f64 * 60.0);
            if (now - last).num_milliseconds() as f64 > after * 1000.0 {
                device.offline = true;
                silent.push((id, device.patient, last, after));
            }
        }
        for (device, patient, last, after) in silent {
            let minutes = (now - last).num_minutes();
            let draft = AlertDraft {
                patient,
                device: Some(device),
                key: format!("device_offline:{device}"),
                rule: "device_offline",
                metric: None,
                severity: Severity::Low,
                title: "Device offline".into(),
                message: format!(
                    "No readings for {minutes} min (expected within {:.0} min)",
                    after / 60.0
                ),
                started_at: last,
                triggered_at: now,
                evidence: json!({"last_reading": last, "expected_within_seconds": after}),
            };
            self.raise(draft, &mut signals);
        }
        signals
    }

    fn device(&mut self, source: Source) -> &mut Device {
        self.devices.entry(source.device).or_insert_with(|| Device {
            patient: source.patient,
            last_t: None,
            cadence: None,
            sensor_fault: false,
            offline: false,
            live: false,
        })
    }

    /// Returns whether the reading was usable (not an artifact, not skin temperature).
    fn observe_one(
        &mut self,
        now: DateTime<Utc>,
        source: Source,
        reading: &Reading,
        signals: &mut Vec<Signal>,
    ) -> bool {
        let t = reading.measured_at;
        // A device whose clock runs ahead would time its alerts in the future and, once its
        // clock is right again, have its true readings taken for replays. Ingest refuses
        // such readings against the wall clock; this is the same rule on the engine's clock
        // (which, in an accelerated simulation, ingest does not know).
        if t > now + MAX_FUTURE {
            self.future += 1;
            return false;
        }
        let rules = self.rules(source.patient);
        let sensor_fault = self.track_device(now, source, t, &rules, signals);
        // A wrist's skin temperature is not a body temperature any rule is written for.
        if reading.metric == Metric::BodyTemperature && source.kind == DeviceKind::Smartwatch {
            return false;
        }
        let patient = self.patients.entry(source.patient).or_default();
        let window = patient
            .windows
            .entry(reading.metric)
            .or_insert_with(|| Window::new(Duration::minutes(WINDOW_SPAN), WINDOW_CAPACITY));
        let artifact = sensor_fault || (!source.spot() && is_jump(window, source.device, reading));
        window.push(Sample {
            t,
            device: source.device,
            value: reading.value,
            value2: reading.value2,
            artifact,
        });
        if artifact {
            self.artifacts += 1;
            return false;
        }
        let evidence = Evidence {
            t,
            device: source.device,
            value: reading.value,
            value2: reading.value2,
        };
        match reading.metric {
            Metric::Steps | Metric::BodyWeight => return true,
            Metric::HeartRate if !source.spot() => {
                self.resting_heart_rate(source.patient, t, reading.value, &rules, signals);
            }
            Metric::BloodGlucose if rules.glucose_trend.enabled => {
                self.glucose_trend(source, evidence, &rules, signals);
            }
            _ => {}
        }
        self.thresholds(source, reading, evidence, &rules, signals);
        true
    }

    /// Keeps the device's cadence, liveness and the data's watermark; a device that was
    /// offline is back. Returns whether it reports a sensor fault.
    fn track_device(
        &mut self,
        now: DateTime<Utc>,
        source: Source,
        t: DateTime<Utc>,
        rules: &RuleSet,
        signals: &mut Vec<Signal>,
    ) -> bool {
        let offline_min = Duration::minutes(rules.device.offline_min_minutes);
        let fresh = now - t < offline_min;
        let device = self.device(source);
        if device.last_t.is_none_or(|last| t > last) {
            if let Some(last) = device.last_t {
                let gap = (t - last).num_milliseconds() as f64 / 1000.0;
                if gap < 3600.0 {
                    device.cadence = Some(device.cadence.map_or(gap, |c| 0.9 * c + 0.1 * gap));
                }
            }
            device.last_t = Some(t);
            device.live = fresh;
        }
        let sensor_fault = device.sensor_fault;
        let was_offline = std::mem::take(&mut device.offline);
        if fresh {
            let newest = t.min(now);
            self.watermark = Some(self.watermark.map_or(newest, |w| w.max(newest)));
        }
        if was_offline {
            let key = format!("device_offline:{}", source.device);
            self.clear(source.patient, key, true, signals);
        }
        sensor_fault
    }

    fn resting_heart_rate(
        &mut self,
        patient_id: UserId,
        t: DateTime<Utc>,
        value: f64,
        rules: &RuleSet,
        signals: &mut Vec<Signal>,
    ) {
        let patient = self.patients.entry(patient_id).or_default();
        let active = patient.active(t);
        let Some(outcome) = patient.resting_hr.add(t, value, active, &rules.baseline) else {
            return;
        };
        self.finished_days.push((patient_id, outcome.day));
        match outcome.change {
            Some(Change::Rise(baseline)) => {
                let draft = baseline::draft(patient_id, &outcome.day, &baseline, &rules.baseline);
                self.raise(draft, signals);
            }
            Some(Change::Normal) => self.clear(patient_id, baseline::KEY.into(), false, signals),
            None => {}
        }
    }

    fn thresholds(
        &mut self,
        source: Source,
        reading: &Reading,
        evidence: Evidence,
        rules: &RuleSet,
        signals: &mut Vec<Signal>,
    ) {
        let patient = self.patients.entry(source.patient).or_default();
        let active = patient.active(reading.measured_at);
        let mut transitions = Vec::new();
        for rule in rules.thresholds.iter().filter(|r| r.enabled) {
            if rule.vital.metric() != reading.metric {
                continue;
            }
            let level = if rule.name == "heart_rate_high" && active {
                exercise_level(rule, reading.value, rules.exercise_heart_rate)
            } else {
                rule.level(reading.value, reading.value2)
            };
            let condition = patient
                .conditions
                .entry((rule.name, source.device))
                .or_default();
            if let Some(transition) =
                condition.update(level, source.spot(), evidence, &rule.confirm)
            {
                transitions.push((rule, transition));
            }
        }
        for (rule, transition) in transitions {
            let found = Finding {
                rule: rule.name,
                title: rule.title,
                metric: Some(rule.vital.metric()),
                message: threshold_message(rule, &transition, active),
                detail: json!({"rule": rule, "wearer_active": active}),
            };
            self.transition(
                source.patient,
                Some(source.device),
                found,
                transition,
                signals,
            );
        }
    }

    fn glucose_trend(
        &mut self,
        source: Source,
        evidence: Evidence,
        rules: &RuleSet,
        signals: &mut Vec<Signal>,
    ) {
        let rule = &rules.glucose_trend;
        let patient = self.patients.entry(source.patient).or_default();
        let Some(window) = patient.windows.get(&Metric::BloodGlucose) else {
            return;
        };
        let within = Duration::minutes(rule.window_minutes);
        let trend = window.trend(evidence.t, within, rule.min_samples);
        let level = match trend {
            Some(trend)
                if trend.per_minute <= rule.falling_per_minute
                    && trend.projected(rule.horizon_minutes) <= rule.projected_below =>
            {
                Level::Abnormal(Severity::Medium)
            }
            Some(trend) if trend.per_minute <= rule.falling_per_minute / 2.0 => Level::Borderline,
            _ => Level::Normal,
        };
        let condition = patient
            .conditions
            .entry(("glucose_falling", source.device))
            .or_default();
        let Some(transition) = condition.update(level, false, evidence, &Confirm::IMMEDIATE) else {
            return;
        };
        let found = Finding {
            rule: "glucose_falling",
            title: "Glucose falling fast",
            metric: Some(Metric::BloodGlucose),
            message: trend.map_or_else(String::new, |trend| {
                format!(
                    "Glucose {:.0} mg/dL falling {:.1} mg/dL/min; {:.0} mg/dL expected in {:.0} min",
                    trend.now,
                    -trend.per_minute,
                    trend.projected(rule.horizon_minutes),
                    rule.horizon_minutes
                )
            }),
            detail: json!({"rule": rule, "trend": trend.map(|t| json!({
                "per_minute": t.per_minute, "now": t.now, "samples": t.samples}))}),
        };
        self.transition(
            source.patient,
            Some(source.device),
            found,
            transition,
            signals,
        );
    }

    fn score_news2(&mut self, patient_id: UserId, t: DateTime<Utc>, signals: &mut Vec<Signal>) {
        let rules = self.rules(patient_id);
        let rule = &rules.news2;
        if !rule.enabled {
            return;
        }
        let Some(patient) = self.patients.get_mut(&patient_id) else {
            return;
        };
        let within = Duration::minutes(rule.window_minutes);
        let value = |metric: Metric| -> Option<(f64, Option<f64>)> {
            let window = patient.windows.get(&metric)?;
            let recent = Duration::minutes(NEWS2_MEDIAN_MINUTES);
            match window.median(t, recent, None, 1) {
                // Blood pressure is a spot measurement: its latest pair, not a median.
                Some(median) if metric != Metric::BloodPressure => Some((median, None)),
                _ => window.latest(t, within).map(|s| (s.value, s.value2)),
            }
        };
        let vitals = Vitals {
            respiratory_rate: value(Metric::RespiratoryRate).map(|v| v.0),
            spo2: value(Metric::Spo2).map(|v| v.0),
            systolic: value(Metric::BloodPressure).map(|v| v.0),
            heart_rate: value(Metric::HeartRate).map(|v| v.0),
            temperature: value(Metric::BodyTemperature).map(|v| v.0),
            ..Vitals::default()
        };
        let score = news2::score(&vitals, rule.scale);
        if score.measured() < rule.min_parameters {
            return;
        }
        let level = if score.total >= rule.high {
            Level::Abnormal(Severity::High)
        } else if score.total >= rule.medium {
            Level::Abnormal(Severity::Medium)
        } else if score.total + 1 >= rule.medium {
            Level::Borderline
        } else {
            Level::Normal
        };
        let evidence = Evidence {
            t,
            device: DeviceId(uuid::Uuid::nil()),
            value: f64::from(score.total),
            value2: None,
        };
        if let Some(transition) = patient
            .news2
            .update(level, true, evidence, &Confirm::IMMEDIATE)
        {
            let found = Finding {
                rule: "news2",
                title: "NEWS2 score",
                metric: None,
                message: format!(
                    "NEWS2 {} ({:?} clinical risk) from {} of 5 measured parameters",
                    score.total,
                    score.risk,
                    score.measured()
                ),
                detail: json!({"rule": rule, "score": score}),
            };
            self.transition(patient_id, None, found, transition, signals);
        }
    }

    fn transition(
        &mut self,
        patient: UserId,
        device: Option<DeviceId>,
        found: Finding,
        transition: Transition,
        signals: &mut Vec<Signal>,
    ) {
        let (severity, started_at, readings) = match transition {
            Transition::Clear => {
                self.clear(patient, found.rule.to_string(), false, signals);
                return;
            }
            Transition::Fire {
                severity,
                started_at,
                evidence,
            }
            | Transition::Upgrade {
                severity,
                started_at,
                evidence,
            } => (severity, started_at, evidence),
        };
        let triggered_at = readings.last().map_or(started_at, |r| r.t);
        let mut evidence = found.detail;
        // NEWS2's "readings" are its scores, already in the detail.
        if found.rule != "news2" {
            evidence["readings"] = json!(readings);
        }
        let draft = AlertDraft {
            patient,
            device,
            key: found.rule.to_string(),
            rule: found.rule,
            metric: found.metric,
            severity,
            title: found.title.to_string(),
            message: found.message,
            started_at,
            triggered_at,
            evidence,
        };
        self.raise(draft, signals);
    }

    /// Raises a new alert, or a recurrence of an unresolved one, within the rate limit.
    fn raise(&mut self, draft: AlertDraft, signals: &mut Vec<Signal>) {
        let limit = self.rules(draft.patient).max_alerts_per_hour;
        let patient = self.patients.entry(draft.patient).or_default();
        if patient.open.contains(&draft.key) {
            signals.push(Signal::Recur(draft));
            return;
        }
        if draft.severity != Severity::High {
            let hour_ago = draft.triggered_at - Duration::hours(1);
            while patient.raised.front().is_some_and(|&t| t <= hour_ago) {
                patient.raised.pop_front();
            }
            if patient.raised.len() >= limit {
                self.rate_limited += 1;
                tracing::debug!(patient = %draft.patient, key = %draft.key, "alert held back by the rate limit");
                return;
            }
            patient.raised.push_back(draft.triggered_at);
        }
        patient.open.insert(draft.key.clone());
        signals.push(Signal::Raise(draft));
    }

    fn clear(&mut self, patient: UserId, key: String, resolve: bool, signals: &mut Vec<Signal>) {
        let Some(p) = self.patients.get_mut(&patient) else {
            return;
        };
        let open = if resolve {
            p.open.remove(&key)
        } else {
            p.open.contains(&key)
        };
        if open {
            signals.push(Signal::Clear {
                patient,
                key,
                resolve,
            });
        }
    }
}

/// What a detector found, before the condition's transition makes it an alert.
struct Finding {
    rule: &'static str,
    title: &'static str,
    metric: Option<Metric>,
    message: String,
    detail: serde_json::Value,
}

impl Patient {
    /// Whether the wearer walked or exercised in the last minutes before `t`.
    fn active(&self, t: DateTime<Utc>) -> bool {
        self.windows.get(&Metric::Steps).is_some_and(|steps| {
            steps
                .recent(t, Duration::minutes(ACTIVE_WINDOW_MINUTES))
                .any(|s| s.value >= ACTIVE_STEPS_PER_MINUTE)
        })
    }
}

fn is_news2_parameter(metric: Metric) -> bool {
    matches!(
        metric,
        Metric::HeartRate
            | Metric::RespiratoryRate
            | Metric::Spo2
            | Metric::BodyTemperature
            | Metric::BloodPressure
    )
}

/// During exercise a fast heart is expected: only a rate above the exercise ceiling counts,
/// and the exercise itself never clears a condition that started at rest.
fn exercise_level(rule: &ThresholdRule, value: f64, ceiling: f64) -> Level {
    if rule.vital.round(value) >= ceiling {
        Level::Abnormal(Severity::High)
    } else {
        Level::Borderline
    }
}

/// Whether a continuous wearable's reading is an implausible jump from that device's own
/// recent median: motion and a loose fit throw single samples far off, while real changes
/// build over tens of seconds.
fn is_jump(window: &Window, device: DeviceId, reading: &Reading) -> bool {
    let Some((limit, seconds, min_samples)) = jump_limit(reading.metric) else {
        return false;
    };
    window
        .median(
            reading.measured_at,
            Duration::seconds(seconds),
            Some(device),
            min_samples,
        )
        .is_some_and(|median| (reading.value - median).abs() > limit)
}

fn threshold_message(rule: &ThresholdRule, transition: &Transition, active: bool) -> String {
    let (Transition::Fire {
        evidence,
        started_at,
        ..
    }
    | Transition::Upgrade {
        evidence,
        started_at,
        ..
    }) = transition
    else {
        return String::new();
    };
    let Some(last) = evidence.last() else {
        return String::new();
    };
    let spec = rule.vital.metric().spec();
    let value = match last.value2 {
        Some(v2) => format!("{:.0}/{:.0}", last.value, v2),
        None => format!("{}", rule.vital.round(last.value)),
    };
    let minutes = (last.t - *started_at).num_seconds() as f64 / 60.0;
    let context = if active { " during activity" } else { "" };
    format!(
        "{} {} {}{} over {:.1} min ({} readings)",
        spec.display,
        value,
        spec.value.unit,
        context,
        minutes,
        evidence.len()
    )
}

fn device_draft(
    source: Source,
    key: String,
    rule: &'static str,
    title: &str,
    report: &StatusReport,
) -> AlertDraft {
    AlertDraft {
        patient: source.patient,
        device: Some(source.device),
        key,
        rule,
        metric: None,
        severity: Severity::Low,
        title: title.to_string(),
        message: report
            .message
            .clone()
            .unwrap_or_else(|| format!("The device reported {}", report.kind.as_str())),
        started_at: report.t,
        triggered_at: report.t,
        evidence: json!({"report": report}),
    }
}

#[cfg(test)]
#[path = "engine_tests.rs"]
mod tests;
