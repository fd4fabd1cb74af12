//! Scenarios and their ground truth: which clinical events (tachycardia, fever, ...) and
//! non-events (motion artifacts, sensor off, ...) happen to which patient or device, when,
//! and how strongly; and [`Simulation`], the shared, immutable entry point that the fleet's
//! device tasks ask for their [`DeviceTimeline`]s.
//!
//! Events are planned per simulated UTC day from random streams derived from (seed, patient
//! label or device position, day, kind), so any day can be planned on its own, in any order,
//! by any task. Events of one kind that would change the same signal never overlap; an
//! event may run past midnight into the following days.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use chrono::{DateTime, Utc};
use healthsync_core::catalog::Metric;
use healthsync_core::ids::{DeviceId, UserId};
use rand::Rng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use crate::models::Model;
use crate::physiology::{self, Baseline, DAY, MINUTE, PatientDay, SECOND, label_key, mix, purpose};
use crate::profiles::{ModelMode, ModelSpec, Profiles, ScenarioSpec};
use crate::roster::Roster;
use crate::timeline::{self, DeviceDay, DeviceTimeline};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EventKind {
    Tachycardia,
    Bradycardia,
    Desaturation,
    HypertensiveCrisis,
    Hypotension,
    Fever,
    Hypoglycemia,
    Hyperglycemia,
    RestingHrRise,
    MotionArtifact,
    SensorOff,
    DeviceOffline,
    BatteryDrain,
    ClockSkew,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EventClass {
    /// Something happened to the patient.
    Event,
    /// Only the device's reporting changed; it may look like an event.
    NonEvent,
}

impl EventKind {
    pub const ALL: [EventKind; 14] = [
        EventKind::Tachycardia,
        EventKind::Bradycardia,
        EventKind::Desaturation,
        EventKind::HypertensiveCrisis,
        EventKind::Hypotension,
        EventKind::Fever,
        EventKind::Hypoglycemia,
        EventKind::Hyperglycemia,
        EventKind::RestingHrRise,
        EventKind::MotionArtifact,
        EventKind::SensorOff,
        EventKind::DeviceOffline,
        EventKind::BatteryDrain,
        EventKind::ClockSkew,
    ];
    const COUNT: usize = EventKind::ALL.len();

    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::Tachycardia => "tachycardia",
            EventKind::Bradycardia => "bradycardia",
            EventKind::Desaturation => "desaturation",
            EventKind::HypertensiveCrisis => "hypertensive_crisis",
            EventKind::Hypotension => "hypotension",
            EventKind::Fever => "fever",
            EventKind::Hypoglycemia => "hypoglycemia",
            EventKind::Hyperglycemia => "hyperglycemia",
            EventKind::RestingHrRise => "resting_hr_rise",
            EventKind::MotionArtifact => "motion_artifact",
            EventKind::SensorOff => "sensor_off",
            EventKind::DeviceOffline => "device_offline",
            EventKind::BatteryDrain => "battery_drain",
            EventKind::ClockSkew => "clock_skew",
        }
    }

    pub fn from_name(name: &str) -> Option<EventKind> {
        EventKind::ALL.into_iter().find(|k| k.as_str() == name)
    }

    pub fn class(self) -> EventClass {
        if self.metric().is_some() {
            EventClass::Event
        } else {
            EventClass::NonEvent
        }
    }

    /// The metric a clinical event changes; `None` for non-events.
    pub fn metric(self) -> Option<Metric> {
        match self {
            EventKind::Tachycardia | EventKind::Bradycardia | EventKind::RestingHrRise => {
                Some(Metric::HeartRate)
            }
            EventKind::Desaturation => Some(Metric::Spo2),
            EventKind::HypertensiveCrisis | EventKind::Hypotension => Some(Metric::BloodPressure),
            EventKind::Fever => Some(Metric::BodyTemperature),
            EventKind::Hypoglycemia | EventKind::Hyperglycemia => Some(Metric::BloodGlucose),
            _ => None,
        }
    }

    /// Kinds in the same group never overlap for one patient (or, for non-events, one
    /// device): a heart cannot race and crawl at once, and a sensor that is off shows no
    /// artifacts. A resting heart rate rise lasts days and only shifts the baseline, so it
    /// overlaps anything.
    fn exclusion_group(self) -> Option<u8> {
        match self {
            EventKind::RestingHrRise => None,
            EventKind::MotionArtifact | EventKind::SensorOff => Some(200),
            kind => Some(match kind.metric() {
                Some(metric) => metric as u8,
                None => 100 + kind as u8,
            }),
        }
    }
}

/// One line of the ground truth.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct GroundTruthEvent {
    pub patient: UserId,
    pub patient_label: String,
    /// For an event, the patient's device that observes the affected metric; for a
    /// non-event, the device it happens to.
    pub device: Option<DeviceId>,
    pub kind: EventKind,
    pub class: EventClass,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    /// Kind-specific: the level reached, the clock offset, when the battery ran out, ...
    pub detail: serde_json::Value,
}

/// Writes one JSON object per line.
pub fn write_ground_truth(
    events: &[GroundTruthEvent],
    out: &mut impl std::io::Write,
) -> std::io::Result<()> {
    for event in events {
        serde_json::to_writer(&mut *out, event)?;
        out.write_all(b"\n")?;
    }
    Ok(())
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SimOptions {
    pub seed: u64,
    /// Multiplies every event kind's daily rate: demos want events within minutes.
    pub rate_scale: f64,
}

impl Default for SimOptions {
    fn default() -> Self {
        SimOptions {
            seed: 1,
            rate_scale: 1.0,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SimError {
    #[error("patient {patient}: unknown profile {profile:?}; known: {known}")]
    UnknownProfile {
        patient: String,
        profile: String,
        known: String,
    },
    #[error("device {device}: the simulation data has no model {model}")]
    UnknownModel { device: DeviceId, model: Model },
    #[error("patient label {0:?} appears more than once in the roster")]
    DuplicateLabel(String),
    #[error("device {0} appears more than once in the roster")]
    DuplicateDevice(DeviceId),
    #[error("rate_scale must be a finite number >= 0, not {0}")]
    RateScale(f64),
}

/// The whole simulated fleet: cheap to clone, shared by every device task.
#[derive(Clone)]
pub struct Simulation {
    inner: Arc<SimInner>,
}

impl Simulation {
    pub fn new(
        roster: &Roster,
        profiles: &Profiles,
        options: SimOptions,
    ) -> Result<Simulation, SimError> {
        if !options.rate_scale.is_finite() || options.rate_scale < 0.0 {
            return Err(SimError::RateScale(options.rate_scale));
        }
        let scenarios: Vec<Option<ScenarioSpec>> = EventKind::ALL
            .iter()
            .map(|&kind| profiles.scenario(kind).cloned())
            .collect();
        let mut labels = HashSet::new();
        let mut index = HashMap::new();
        let mut patients = Vec::with_capacity(roster.patients.len());
        for (p, entry) in roster.patients.iter().enumerate() {
            if !labels.insert(entry.label.as_str()) {
                return Err(SimError::DuplicateLabel(entry.label.clone()));
            }
            let profile = profiles.profile(&entry.profile).ok_or_else(|| {
                let known: Vec<_> = profiles.profiles().map(|p| p.name.as_str()).collect();
                SimError::UnknownProfile {
                    patient: entry.label.clone(),
                    profile: entry.profile.clone(),
                    known: known.join(", "),
                }
            })?;
            let key = label_key(&entry.label);
            let mut devices = Vec::with_capacity(entry.devices.len());
            for (d, device) in entry.devices.iter().enumerate() {
                let spec = profiles
                    .model(device.model)
                    .ok_or(SimError::UnknownModel {
                        device: device.id,
                        model: device.model,
                    })?
                    .clone();
                if index.insert(device.id, (p, d)).is_some() {
                    return Err(SimError::DuplicateDevice(device.id));
                }
                devices.push(DeviceSim {
                    id: device.id,
                    model: device.model,
                    key: mix(&[key, d as u64]),
                    spec,
                });
            }
            let mut rates = [0.0; EventKind::COUNT];
            let mut observers = [None; EventKind::COUNT];
            for kind in EventKind::ALL {
                let Some(spec) = &scenarios[kind as usize] else {
                    continue;
                };
                rates[kind as usize] = profile
                    .conditions
                    .iter()
                    .filter_map(|c| profiles.condition(c))
                    .filter_map(|c| c.event_rates.get(&kind))
                    .product::<f64>()
                    * spec.daily_rate
                    * options.rate_scale;
                observers[kind as usize] = spec
                    .models
                    .iter()
                    .find_map(|m| devices.iter().position(|d| d.model == *m));
            }
            patients.push(PatientSim {
                id: entry.id,
                label: entry.label.clone(),
                key,
                baseline: Baseline::draw(options.seed, key, profile, profiles),
                devices,
                rates,
                observers,
            });
        }
        let lookback = |clinical: bool, exclusive_only: bool| {
            let longest = scenarios
                .iter()
                .flatten()
                .filter(|s| (s.kind.class() == EventClass::Event) == clinical)
                .filter(|s| !exclusive_only || s.kind.exclusion_group().is_some())
                .map(|s| s.duration_ms.max)
                .fold(0.0, f64::max);
            (longest / DAY as f64).ceil() as i64
        };
        let (clinical_lookback, clinical_exclusion_lookback, device_lookback) = (
            lookback(true, false),
            lookback(true, true),
            lookback(false, false),
        );
        Ok(Simulation {
            inner: Arc::new(SimInner {
                seed: options.seed,
                scenarios,
                clinical_lookback,
                clinical_exclusion_lookback,
                device_lookback,
                patients,
                index,
            }),
        })
    }

    /// Ground truth of every event that starts in `[from, to)`, sorted by (start, patient
    /// label, kind), then device and end.
    pub fn ground_truth(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> Vec<GroundTruthEvent> {
        let (from, to) = (from.timestamp_millis(), to.timestamp_millis());
        let mut out = Vec::new();
        if from >= to {
            return out;
        }
        let inner = &self.inner;
        for day in physiology::day_of(from)..=physiology::day_of(to - 1) {
            for (p, patient) in inner.patients.iter().enumerate() {
                let mut planned = inner.patient_events(p, day);
                for d in 0..patient.devices.len() {
                    planned.extend(inner.device_events(p, d, day));
                }
                out.extend(
                    planned
                        .iter()
                        .filter(|e| (from..to).contains(&e.start))
                        .map(|e| inner.ground_truth(patient, e)),
                );
            }
        }
        out.sort_by(|a, b| {
            (a.start, &a.patient_label, a.kind, a.device, a.end).cmp(&(
                b.start,
                &b.patient_label,
                b.kind,
                b.device,
                b.end,
            ))
        });
        out
    }

    /// The emissions of one device from `from` on, in order; `None` if the device is not in
    /// the roster.
    pub fn timeline(&self, device: DeviceId, from: DateTime<Utc>) -> Option<DeviceTimeline> {
        let &(p, d) = self.inner.index.get(&device)?;
        Some(DeviceTimeline::new(
            Arc::clone(&self.inner),
            p,
            d,
            from.timestamp_millis(),
        ))
    }
}

pub(crate) struct SimInner {
    pub seed: u64,
    /// By `EventKind as usize`.
    scenarios: Vec<Option<ScenarioSpec>>,
    /// Days back an event may start and still be under way.
    clinical_lookback: i64,
    clinical_exclusion_lookback: i64,
    device_lookback: i64,
    pub patients: Vec<PatientSim>,
    index: HashMap<DeviceId, (usize, usize)>,
}

pub(crate) struct PatientSim {
    pub id: UserId,
    pub label: String,
    pub key: u64,
    pub baseline: Baseline,
    pub devices: Vec<DeviceSim>,
    /// Expected events per day, by `EventKind as usize`: rate x conditions x rate_scale.
    rates: [f64; EventKind::COUNT],
    /// The device that observes each clinical kind, if the patient has one.
    observers: [Option<usize>; EventKind::COUNT],
}

pub(crate) struct DeviceSim {
    pub id: DeviceId,
    pub model: Model,
    /// Derived from the patient's label and the device's position, not its id.
    pub key: u64,
    pub spec: ModelSpec,
}

/// An event as the simulator uses it, in milliseconds since the epoch.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct PlannedEvent {
    pub kind: EventKind,
    pub start: i64,
    pub end: i64,
    /// See `data/scenarios.toml`; for a clock skew, the signed offset in milliseconds.
    pub magnitude: f64,
    pub magnitude2: f64,
    /// Sensor off: zeros until then, nothing after. Battery drain: empty from then on.
    pub at: i64,
    /// The metric a motion artifact corrupts.
    pub metric: Option<Metric>,
    /// Position of the device in the patient's roster entry.
    pub device: Option<usize>,
}

impl PlannedEvent {
    pub fn active(&self, t: i64) -> bool {
        self.start <= t && t < self.end
    }

    /// How long the event takes to build up and to fade.
    pub fn ramps(&self) -> (i64, i64) {
        let duration = (self.end - self.start) as f64;
        let (up, down) = match self.kind {
            EventKind::Fever => (
                (duration * 0.2).min(4.0 * 3_600e3),
                (duration * 0.2).min(4.0 * 3_600e3),
            ),
            EventKind::RestingHrRise => (duration * 0.6, duration * 0.1),
            _ => {
                let ramp = (duration * 0.15).clamp(10e3, 10.0 * 60e3);
                (ramp, ramp)
            }
        };
        (up as i64, down as i64)
    }

    /// How much of the event's effect applies at `t`, 0 to 1, eased in and out.
    pub fn factor(&self, t: i64) -> f64 {
        if !self.active(t) {
            return 0.0;
        }
        let (up, down) = self.ramps();
        let x = ((t - self.start) as f64 / up.max(1) as f64)
            .min((self.end - t) as f64 / down.max(1) as f64)
            .min(1.0);
        x * x * (3.0 - 2.0 * x)
    }
}

fn overlaps(a: &PlannedEvent, b: &PlannedEvent) -> bool {
    a.start < b.end && b.start < a.end
}

/// Poisson-distributed count (Knuth below 30, normal approximation above), capped.
fn poisson(rng: &mut ChaCha8Rng, lambda: f64) -> u32 {
    const CAP: f64 = 500.0;
    if lambda.is_nan() || lambda <= 0.0 {
        return 0;
    }
    if lambda < 30.0 {
        let limit = (-lambda).exp();
        let mut product: f64 = rng.r#gen();
        let mut count = 0;
        while product > limit && count < CAP as u32 {
            product *= rng.r#gen::<f64>();
            count += 1;
        }
        return count;
    }
    (lambda + lambda.sqrt() * physiology::gaussian(rng))
        .round()
        .clamp(0.0, CAP) as u32
}

fn whole_seconds(ms: f64) -> i64 {
    (ms / 1e3).round() as i64 * SECOND
}

impl SimInner {
    fn spec(&self, kind: EventKind) -> Option<&ScenarioSpec> {
        self.scenarios[kind as usize].as_ref()
    }

    /// The events each kind's stream proposes for one day, before overlaps are removed.
    fn candidates(&self, p: usize, device: Option<usize>, day: i64) -> Vec<PlannedEvent> {
        let patient = &self.patients[p];
        let mut out = Vec::new();
        for kind in EventKind::ALL {
            let clinical = kind.class() == EventClass::Event;
            if clinical != device.is_none() {
                continue;
            }
            let Some(spec) = self.spec(kind) else {
                continue;
            };
            let (stream, owner) = match device {
                None => match patient.observers[kind as usize] {
                    Some(observer) => ((purpose::CLINICAL, patient.key), observer),
                    None => continue,
                },
                Some(d) => {
                    let dev = &patient.devices[d];
                    if !spec.models.contains(&dev.model) {
                        continue;
                    }
                    ((purpose::DEVICE_EVENTS, dev.key), d)
                }
            };
            let mut rng =
                physiology::rng(&[self.seed, stream.1, stream.0, day as u64, kind as u64]);
            let count = poisson(&mut rng, patient.rates[kind as usize]);
            for index in 0..count {
                let start = day * DAY + rng.gen_range(0..86_400) * SECOND;
                let duration = whole_seconds(spec.duration_ms.sample(&mut rng)).max(SECOND);
                let mut event = PlannedEvent {
                    kind,
                    start,
                    end: start + duration,
                    magnitude: spec.magnitude.sample(&mut rng),
                    magnitude2: spec.magnitude2.sample(&mut rng),
                    at: start,
                    metric: None,
                    device: Some(owner),
                };
                let keep = match kind {
                    EventKind::SensorOff => {
                        event.at = start + whole_seconds(duration as f64 / 3.0);
                        true
                    }
                    EventKind::BatteryDrain => {
                        event.at = start + whole_seconds(duration as f64 * event.magnitude);
                        true
                    }
                    EventKind::ClockSkew => {
                        event.magnitude = clock_offset(&mut rng, event.magnitude, day, index);
                        true
                    }
                    EventKind::MotionArtifact => {
                        self.place_artifact(p, owner, day, &mut rng, &mut event)
                    }
                    _ => true,
                };
                if keep {
                    out.push(event);
                }
            }
        }
        out.sort_by_key(|e| (e.start, e.kind));
        out
    }

    /// Moves a motion artifact onto a heart rate or SpO2 sample inside one of the day's
    /// activity bouts (artifacts come from movement). False if the day has no bout.
    fn place_artifact(
        &self,
        p: usize,
        d: usize,
        day: i64,
        rng: &mut ChaCha8Rng,
        event: &mut PlannedEvent,
    ) -> bool {
        let patient = &self.patients[p];
        let device = &patient.devices[d];
        let (pick, where_, which) = (rng.r#gen::<f64>(), rng.r#gen::<f64>(), rng.r#gen::<f64>());
        let (bouts, _) = physiology::day_life(&patient.baseline, day);
        if bouts.is_empty() || device.spec.mode != ModelMode::Continuous {
            return false;
        }
        let bout = &bouts[((pick * bouts.len() as f64) as usize).min(bouts.len() - 1)];
        let instant = bout.start + ((bout.end - bout.start) as f64 * where_) as i64;
        let heart = device.spec.sensor(Metric::HeartRate);
        let spo2 = device.spec.sensor(Metric::Spo2);
        let sensor = match (heart, spo2) {
            (Some(h), Some(s)) => {
                if which < 0.7 {
                    h
                } else {
                    s
                }
            }
            (Some(h), None) => h,
            (None, Some(s)) => s,
            (None, None) => return false,
        };
        let interval = sensor.sample_interval_ms;
        let phase = timeline::sample_phase(self.seed, device.key, sensor.metric, interval);
        let first = timeline::grid_at_or_after(instant, phase, interval);
        let duration = event.end - event.start;
        event.metric = Some(sensor.metric);
        event.start = first;
        event.end = first + duration;
        true
    }

    /// Clinical events of one patient that start on `day`, overlaps removed.
    pub fn patient_events(&self, p: usize, day: i64) -> Vec<PlannedEvent> {
        self.accepted(p, None, day, self.clinical_exclusion_lookback)
    }

    /// Non-events of one device that start on `day`, overlaps removed.
    pub fn device_events(&self, p: usize, d: usize, day: i64) -> Vec<PlannedEvent> {
        self.accepted(p, Some(d), day, self.device_lookback)
    }

    /// A candidate survives unless it overlaps an event of its group accepted earlier that
    /// day, or any candidate of earlier days still under way. Checking against earlier
    /// days' *candidates* keeps each day plannable on its own (at the price of dropping a
    /// few events that a rejected candidate shadows).
    fn accepted(
        &self,
        p: usize,
        device: Option<usize>,
        day: i64,
        lookback: i64,
    ) -> Vec<PlannedEvent> {
        let day_start = day * DAY;
        let earlier: Vec<PlannedEvent> = (1..=lookback)
            .flat_map(|back| self.candidates(p, device, day - back))
            .filter(|e| e.end > day_start && e.kind.exclusion_group().is_some())
            .collect();
        let mut accepted: Vec<PlannedEvent> = Vec::new();
        for candidate in self.candidates(p, device, day) {
            let group = candidate.kind.exclusion_group();
            let clash = group.is_some()
                && earlier
                    .iter()
                    .chain(&accepted)
                    .any(|o| o.kind.exclusion_group() == group && overlaps(o, &candidate));
            if !clash {
                accepted.push(candidate);
            }
        }
        accepted
    }

    /// Everything needed to evaluate the patient's physiology during `day`.
    pub fn patient_day(&self, p: usize, day: i64) -> PatientDay {
        let (from, to) = (day * DAY, (day + 1) * DAY);
        let events = (day - self.clinical_lookback..=day)
            .flat_map(|d| self.patient_events(p, d))
            .filter(|e| e.start < to && e.end > from)
            .collect();
        PatientDay::new(&self.patients[p].baseline, day, events)
    }

    /// The device's non-events touching `day` (inclusive of an end at midnight, so that
    /// the status sent at the end is found) and, for spot-check models, its measurements.
    pub fn device_day(&self, p: usize, d: usize, day: i64) -> DeviceDay {
        let (from, to) = (day * DAY, (day + 1) * DAY);
        let events: Vec<PlannedEvent> = (day - self.device_lookback..=day)
            .flat_map(|back| self.device_events(p, d, back))
            .filter(|e| e.start < to && e.end >= from)
            .collect();
        let device = &self.patients[p].devices[d];
        let sessions = match device.spec.mode {
            ModelMode::Continuous => Vec::new(),
            ModelMode::Spot => {
                let observed: Vec<PlannedEvent> = (day - self.clinical_lookback..=day)
                    .flat_map(|back| self.patient_events(p, back))
                    .filter(|e| e.device == Some(d) && e.start < to && e.end > from)
                    .collect();
                timeline::spot_sessions(self.seed, device, day, &observed)
            }
        };
        DeviceDay { events, sessions }
    }

    fn ground_truth(&self, patient: &PatientSim, event: &PlannedEvent) -> GroundTruthEvent {
        use serde_json::json;
        let rfc3339 = |ms: i64| {
            timeline::to_datetime(ms).to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true)
        };
        let rounded = |x: f64| x.round() as i64;
        let detail = match event.kind {
            EventKind::Tachycardia | EventKind::Bradycardia => {
                json!({"heart_rate": rounded(event.magnitude)})
            }
            EventKind::Desaturation => json!({"spo2": rounded(event.magnitude)}),
            EventKind::HypertensiveCrisis | EventKind::Hypotension => json!({
                "systolic": rounded(event.magnitude),
                "diastolic": rounded(event.magnitude2),
            }),
            EventKind::Fever => json!({"temperature": (event.magnitude * 10.0).round() / 10.0}),
            EventKind::Hypoglycemia | EventKind::Hyperglycemia => {
                json!({"glucose": rounded(event.magnitude)})
            }
            EventKind::RestingHrRise => json!({"rise": rounded(event.magnitude)}),
            EventKind::MotionArtifact => {
                let metric = event.metric.unwrap_or(Metric::HeartRate);
                let value = if metric == Metric::Spo2 {
                    event.magnitude2
                } else {
                    event.magnitude
                };
                json!({"metric": metric.as_str(), "value": rounded(value)})
            }
            EventKind::SensorOff => json!({"zeros_until": rfc3339(event.at)}),
            EventKind::BatteryDrain => json!({"empty_at": rfc3339(event.at)}),
            EventKind::ClockSkew => json!({"offset_ms": event.magnitude as i64}),
            EventKind::DeviceOffline => json!({}),
        };
        GroundTruthEvent {
            patient: patient.id,
            patient_label: patient.label.clone(),
            device: event.device.map(|d| patient.devices[d].id),
            kind: event.kind,
            class: event.kind.class(),
            start: timeline::to_datetime(event.start),
            end: timeline::to_datetime(event.end),
            detail,
        }
    }
}

/// A signed clock offset of `minutes`, plus a sub-second part. Every true measurement time
/// is a whole second, so a shifted reading can never take the key (device, metric, time) of
/// an unshifted one; the sub-second part differs between the skews of nearby days and of
/// one day, so two skew windows cannot collide either.
fn clock_offset(rng: &mut ChaCha8Rng, minutes: f64, day: i64, index: u32) -> f64 {
    let sign = if rng.r#gen::<bool>() { 1 } else { -1 };
    let millis = 1 + day.rem_euclid(9) * 111 + i64::from(index % 111);
    (sign * (whole_seconds(minutes * MINUTE as f64) + millis)) as f64
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::roster::{RosterDevice, RosterPatient};
    use uuid::Uuid;

    /// One patient per profile name given, wearing the profile's devices.
    pub(crate) fn roster(profiles: &Profiles, names: &[&str]) -> Roster {
        let mut next = 0u128;
        let mut id = || {
            next += 1;
            Uuid::from_u128(0x5eed_0000_0000_0000_0000_0000_0000_0000 + next)
        };
        Roster {
            patients: names
                .iter()
                .enumerate()
                .map(|(i, name)| RosterPatient {
                    id: UserId(id()),
                    label: format!("patient-{:04}", i + 1),
                    profile: (*name).to_owned(),
                    devices: profiles
                        .profile(name)
                        .expect("a builtin profile")
                        .devices
                        .iter()
                        .map(|&model| RosterDevice {
                            id: DeviceId(id()),
                            model,
                            api_key: "hs_test_key".into(),
                        })
                        .collect(),
                })
                .collect(),
        }
    }

    pub(crate) fn at(text: &str) -> DateTime<Utc> {
        text.parse().expect("a test timestamp")
    }

    pub(crate) const ALL_PROFILES: [&str; 7] = [
        "healthy_adult",
        "athlete",
        "older_adult",
        "hypertensive",
        "type2_diabetic",
        "type1_diabetic",
        "copd",
    ];

    fn jsonl(sim: &Simulation, from: DateTime<Utc>, to: DateTime<Utc>) -> Vec<u8> {
        let mut out = Vec::new();
        write_ground_truth(&sim.ground_truth(from, to), &mut out).unwrap();
        out
    }

    #[test]
    fn the_same_seed_gives_the_same_ground_truth_and_another_seed_does_not() {
        let profiles = Profiles::builtin();
        let roster = roster(&profiles, &ALL_PROFILES);
        let options = SimOptions {
            seed: 42,
            rate_scale: 20.0,
        };
        let (from, to) = (at("2026-03-01T00:00:00Z"), at("2026-03-03T00:00:00Z"));
        let a = jsonl(
            &Simulation::new(&roster, &profiles, options).unwrap(),
            from,
            to,
        );
        let b = jsonl(
            &Simulation::new(&roster, &profiles, options).unwrap(),
            from,
            to,
        );
        assert!(!a.is_empty());
        assert_eq!(a, b);
        let other = SimOptions {
            seed: 43,
            ..options
        };
        assert_ne!(
            a,
            jsonl(
                &Simulation::new(&roster, &profiles, other).unwrap(),
                from,
                to
            )
        );
    }

    #[test]
    fn ground_truth_covers_every_kind_and_is_well_formed() {
        let profiles = Profiles::builtin();
        let roster = roster(&profiles, &ALL_PROFILES);
        let sim = Simulation::new(
            &roster,
            &profiles,
            SimOptions {
                seed: 7,
                rate_scale: 30.0,
            },
        )
        .unwrap();
        let (from, to) = (at("2026-03-01T00:00:00Z"), at("2026-03-15T00:00:00Z"));
        let truth = sim.ground_truth(from, to);
        for kind in EventKind::ALL {
            assert!(
                truth.iter().any(|e| e.kind == kind),
                "no {kind:?} in two weeks"
            );
        }
        let key = |e: &GroundTruthEvent| (e.start, e.patient_label.clone(), e.kind);
        assert!(truth.windows(2).all(|w| key(&w[0]) <= key(&w[1])), "sorted");
        for event in &truth {
            assert!(event.start >= from && event.start < to && event.end > event.start);
            assert_eq!(event.class, event.kind.class());
            let patient = roster
                .patients
                .iter()
                .find(|p| p.id == event.patient)
                .unwrap();
            assert_eq!(patient.label, event.patient_label);
            let device = event.device.expect("every event names a device");
            let device = patient
                .devices
                .iter()
                .find(|d| d.id == device)
                .expect("the patient's device");
            let spec = profiles.scenario(event.kind).unwrap();
            assert!(spec.models.contains(&device.model), "{event:?}");
            if let Some(metric) = event.kind.metric() {
                assert!(
                    profiles
                        .model(device.model)
                        .unwrap()
                        .sensor(metric)
                        .is_some()
                );
            }
        }
        let glucose = |label: &str| {
            truth
                .iter()
                .filter(|e| e.patient_label == label && e.kind == EventKind::Hypoglycemia)
                .count()
        };
        // Only the diabetics wear a glucose device.
        assert_eq!(glucose("patient-0001"), 0);
        assert!(glucose("patient-0006") > 0);
        let lows: Vec<i64> = truth
            .iter()
            .filter(|e| e.kind == EventKind::Hypoglycemia)
            .map(|e| e.detail["glucose"].as_i64().unwrap())
            .collect();
        assert!(lows.iter().all(|&g| g < 70) && lows.iter().any(|&g| g < 54));
        // Events of one signal never overlap for one patient.
        for a in &truth {
            for b in &truth {
                if a != b
                    && a.patient == b.patient
                    && a.kind.class() == EventClass::Event
                    && a.kind.exclusion_group().is_some()
                    && a.kind.exclusion_group() == b.kind.exclusion_group()
                {
                    assert!(a.end <= b.start || b.end <= a.start, "{a:?} overlaps {b:?}");
                }
            }
        }
        let line = String::from_utf8(jsonl(&sim, from, to)).unwrap();
        let first: serde_json::Value = serde_json::from_str(line.lines().next().unwrap()).unwrap();
        for field in [
            "patient",
            "patient_label",
            "device",
            "kind",
            "class",
            "start",
            "end",
            "detail",
        ] {
            assert!(first.get(field).is_some(), "{field}");
        }
        let back: GroundTruthEvent = serde_json::from_str(line.lines().next().unwrap()).unwrap();
        assert_eq!(back, truth[0]);
    }

    #[test]
    fn a_ground_truth_window_is_the_union_of_its_parts() {
        let profiles = Profiles::builtin();
        let roster = roster(&profiles, &ALL_PROFILES);
        let sim = Simulation::new(
            &roster,
            &profiles,
            SimOptions {
                seed: 3,
                rate_scale: 10.0,
            },
        )
        .unwrap();
        let (a, b, c) = (
            at("2026-03-01T00:00:00Z"),
            at("2026-03-02T13:17:00Z"),
            at("2026-03-04T00:00:00Z"),
        );
        let mut parts = sim.ground_truth(a, b);
        parts.extend(sim.ground_truth(b, c));
        assert_eq!(parts, sim.ground_truth(a, c));
        assert!(sim.ground_truth(c, a).is_empty());
    }

    #[test]
    fn bad_rosters_and_options_are_refused() {
        let profiles = Profiles::builtin();
        let mut bad = roster(&profiles, &["healthy_adult", "athlete"]);
        bad.patients[1].profile = "astronaut".into();
        let err = Simulation::new(&bad, &profiles, SimOptions::default())
            .err()
            .unwrap();
        assert!(
            err.to_string()
                .contains("patient-0002: unknown profile \"astronaut\""),
            "{err}"
        );
        let mut twice = roster(&profiles, &["healthy_adult", "athlete"]);
        twice.patients[1].label = "patient-0001".into();
        assert!(matches!(
            Simulation::new(&twice, &profiles, SimOptions::default()),
            Err(SimError::DuplicateLabel(_))
        ));
        let mut shared = roster(&profiles, &["healthy_adult", "athlete"]);
        shared.patients[1].devices[0].id = shared.patients[0].devices[0].id;
        assert!(matches!(
            Simulation::new(&shared, &profiles, SimOptions::default()),
            Err(SimError::DuplicateDevice(_))
        ));
        let fine = roster(&profiles, &["healthy_adult"]);
        let nan = SimOptions {
            rate_scale: f64::NAN,
            ..SimOptions::default()
        };
        assert!(matches!(
            Simulation::new(&fine, &profiles, nan),
            Err(SimError::RateScale(_))
        ));
        let sim = Simulation::new(&fine, &profiles, SimOptions::default()).unwrap();
        assert!(
            sim.timeline(DeviceId(Uuid::nil()), at("2026-03-01T00:00:00Z"))
                .is_none()
        );
    }

    #[test]
    fn physiology_does_not_depend_on_provisioned_ids() {
        let profiles = Profiles::builtin();
        let a = roster(&profiles, &["copd"]);
        let mut b = a.clone();
        b.patients[0].id = UserId(Uuid::from_u128(99));
        b.patients[0].devices[0].id = DeviceId(Uuid::from_u128(98));
        let options = SimOptions {
            seed: 5,
            rate_scale: 50.0,
        };
        let (from, to) = (at("2026-03-01T00:00:00Z"), at("2026-03-03T00:00:00Z"));
        let strip = |sim: Simulation| -> Vec<(EventKind, DateTime<Utc>, DateTime<Utc>)> {
            sim.ground_truth(from, to)
                .into_iter()
                .map(|e| (e.kind, e.start, e.end))
                .collect()
        };
        let ta = strip(Simulation::new(&a, &profiles, options).unwrap());
        assert!(!ta.is_empty());
        assert_eq!(ta, strip(Simulation::new(&b, &profiles, options).unwrap()));
    }
}
