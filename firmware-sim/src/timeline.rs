//! Device timelines: what one simulated device measures and publishes, emission by
//! emission. This module owns the devices' side of the simulation — sampling grids and
//! spot-check schedules, measurement noise and rounding, battery, clock, connectivity and
//! the non-events that distort them (motion artifacts, sensor off, offline, battery drain,
//! clock skew). The patient's true values come from `physiology`, the events from
//! `scenario`.
//!
//! Emission times are absolute grids (continuous models) or the device's own schedule
//! (spot-check models), and an emission carries what was measured since the previous one,
//! so a timeline started at any `from` gives the same emissions as one started earlier.

use std::collections::VecDeque;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use healthsync_core::catalog::Metric;
use healthsync_core::ids::DeviceId;
use healthsync_core::status::{StatusKind, StatusReport};
use rand::Rng;

use crate::models::Model;
use crate::physiology::{
    self, DAY, HOUR, MINUTE, PatientDay, SECOND, Signal, day_of, mix, purpose, unit,
};
use crate::profiles::ModelMode;
use crate::scenario::{DeviceSim, EventKind, PlannedEvent, SimInner};

/// One measurement, as the device reports it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SimReading {
    pub metric: Metric,
    /// The device's clock: the true measurement time plus any clock skew. Whole
    /// milliseconds, unique per (device, metric).
    pub t: DateTime<Utc>,
    /// Rounded as the device displays it; systolic for blood pressure.
    pub v: f64,
    /// Diastolic, for blood pressure.
    pub v2: Option<f64>,
}

/// One publish opportunity of a device.
#[derive(Clone, Debug, PartialEq)]
pub struct Emission {
    /// True simulated time of the publish.
    pub at: DateTime<Utc>,
    /// Measured since the previous emission; may be empty (a check-in).
    pub readings: Vec<SimReading>,
    /// 0 to 1, in hundredths, as the device reports it.
    pub battery: f32,
    /// Status reports that fell due since the previous emission.
    pub status: Vec<StatusReport>,
    /// False while the device cannot reach the network (offline window, empty battery):
    /// the firmware keeps this emission's readings and status and sends them later.
    pub online: bool,
}

/// The emissions of one device from a start time on, in order, without end.
pub struct DeviceTimeline {
    inner: Arc<SimInner>,
    p: usize,
    d: usize,
    patient_days: DayCache<PatientDay>,
    device_days: DayCache<DeviceDay>,
    sensors: Vec<Sensor>,
    schedule: Schedule,
    /// The previous emission: statuses due after it go into the next one.
    prev_at: i64,
}

/// The device's own plan for one day.
pub(crate) struct DeviceDay {
    /// Its non-events under way during the day.
    pub events: Vec<PlannedEvent>,
    /// Spot-check models: when it measures, in order.
    pub sessions: Vec<i64>,
}

#[derive(Clone, Copy)]
struct Sensor {
    metric: Metric,
    signal: Signal,
    interval: i64,
    noise_sd: f64,
    noise_sd2: f64,
    /// Continuous models: the next sample time.
    next: i64,
}

enum Schedule {
    Continuous {
        interval: i64,
        next_at: i64,
    },
    Spot {
        heartbeat: i64,
        next_heartbeat: i64,
        /// (publish, measured), in order.
        queue: VecDeque<(i64, i64)>,
        next_day: i64,
        from: i64,
    },
}

/// Later than this the timeline ends (chrono's range is far beyond it).
const END_OF_TIME: i64 = 200_000 * DAY;

pub(crate) fn to_datetime(ms: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(ms).unwrap_or_default()
}

/// Where a device's grid for `metric` sits within its interval: devices do not all
/// sample on the same second. Whole seconds, like every true measurement time.
pub(crate) fn sample_phase(seed: u64, device_key: u64, metric: Metric, interval: i64) -> i64 {
    let seconds = (interval / SECOND).max(1) as u64;
    (mix(&[seed, device_key, purpose::PHASE, metric as u64]) % seconds) as i64 * SECOND
}

fn publish_phase(seed: u64, device_key: u64, interval: i64) -> i64 {
    let seconds = (interval / SECOND).max(1) as u64;
    (mix(&[seed, device_key, purpose::PHASE, 1_000]) % seconds) as i64 * SECOND
}

pub(crate) fn grid_at_or_after(t: i64, phase: i64, interval: i64) -> i64 {
    phase + (t - phase + interval - 1).div_euclid(interval) * interval
}

fn whole_seconds(ms: f64) -> i64 {
    (ms / 1e3).round() as i64 * SECOND
}

/// When a spot-check device measures on `day`: its schedule with jitter and the odd
/// skipped measurement, plus rechecks while an event it observes lasts. At least two
/// minutes apart, and a minute clear of midnight so uploads never cross into the next
/// day's measurements.
pub(crate) fn spot_sessions(
    seed: u64,
    device: &DeviceSim,
    day: i64,
    observed: &[PlannedEvent],
) -> Vec<i64> {
    let spec = &device.spec;
    let (first, last) = (day * DAY + MINUTE, (day + 1) * DAY - MINUTE);
    let mut rng = physiology::rng(&[seed, device.key, purpose::SESSIONS, day as u64]);
    let mut times = Vec::with_capacity(spec.schedule_h.len() + 4);
    for &hours in &spec.schedule_h {
        let skipped = rng.r#gen::<f64>() < spec.skip_probability;
        let jitter = (rng.r#gen::<f64>() * 2.0 - 1.0) * spec.jitter_ms as f64;
        if !skipped {
            times
                .push((day * DAY + whole_seconds(hours * HOUR as f64 + jitter)).clamp(first, last));
        }
    }
    for event in observed {
        // The wearer feels unwell once the event has built up, and keeps checking.
        let (up, _) = event.ramps();
        let mut t = event.start + whole_seconds((up + MINUTE) as f64);
        if t >= event.end {
            t = event.start + whole_seconds((event.end - event.start) as f64 / 2.0);
        }
        while t < event.end {
            if (first..=last).contains(&t) {
                times.push(t);
            }
            t += spec.recheck_interval_ms;
        }
    }
    times.sort_unstable();
    let mut kept: Vec<i64> = Vec::with_capacity(times.len());
    for t in times {
        if kept.last().is_none_or(|&k| t - k >= 2 * MINUTE) {
            kept.push(t);
        }
    }
    kept
}

struct DayCache<T> {
    slots: Vec<(i64, Arc<T>)>,
}

impl<T> DayCache<T> {
    const SLOTS: usize = 3;

    fn new() -> Self {
        DayCache {
            slots: Vec::with_capacity(Self::SLOTS),
        }
    }

    fn get(&mut self, day: i64, build: impl FnOnce() -> T) -> Arc<T> {
        if let Some((_, value)) = self.slots.iter().find(|(d, _)| *d == day) {
            return Arc::clone(value);
        }
        if self.slots.len() >= Self::SLOTS {
            // Time runs forward: the oldest day is the one not needed again.
            let oldest = (0..self.slots.len())
                .min_by_key(|&i| self.slots[i].0)
                .unwrap_or(0);
            self.slots.swap_remove(oldest);
        }
        let value = Arc::new(build());
        self.slots.push((day, Arc::clone(&value)));
        value
    }
}

impl DeviceTimeline {
    pub(crate) fn new(inner: Arc<SimInner>, p: usize, d: usize, from: i64) -> DeviceTimeline {
        let device = &inner.patients[p].devices[d];
        let spec = &device.spec;
        let seed = inner.seed;
        let (schedule, prev_at) = match spec.mode {
            ModelMode::Continuous => {
                let interval = spec.publish_interval_ms;
                let next_at =
                    grid_at_or_after(from, publish_phase(seed, device.key, interval), interval);
                (
                    Schedule::Continuous { interval, next_at },
                    next_at - interval,
                )
            }
            ModelMode::Spot => {
                let heartbeat = spec.publish_interval_ms;
                let next_heartbeat =
                    grid_at_or_after(from, publish_phase(seed, device.key, heartbeat), heartbeat);
                let schedule = Schedule::Spot {
                    heartbeat,
                    next_heartbeat,
                    queue: VecDeque::new(),
                    next_day: day_of(from) - 1,
                    from,
                };
                (schedule, next_heartbeat - heartbeat)
            }
        };
        let sensors = spec
            .sensors
            .iter()
            .map(|s| Sensor {
                metric: s.metric,
                signal: signal(device.model, s.metric),
                interval: s.sample_interval_ms,
                noise_sd: s.noise_sd,
                noise_sd2: s.noise_sd2,
                next: match spec.mode {
                    ModelMode::Continuous => grid_at_or_after(
                        prev_at + 1,
                        sample_phase(seed, device.key, s.metric, s.sample_interval_ms),
                        s.sample_interval_ms,
                    ),
                    ModelMode::Spot => 0,
                },
            })
            .collect();
        let mut timeline = DeviceTimeline {
            inner,
            p,
            d,
            patient_days: DayCache::new(),
            device_days: DayCache::new(),
            sensors,
            schedule,
            prev_at,
        };
        if let Schedule::Spot { .. } = timeline.schedule {
            // The previous emission may have been a measurement after the last check-in.
            for day in [day_of(from) - 1, day_of(from)] {
                for measured in timeline.device_day(day).sessions.clone() {
                    let publish = timeline.upload_time(measured);
                    if publish < from && publish > timeline.prev_at && !timeline.dead(measured) {
                        timeline.prev_at = publish;
                    }
                }
            }
        }
        timeline
    }

    pub fn device(&self) -> DeviceId {
        self.device_sim().id
    }

    pub fn model(&self) -> Model {
        self.device_sim().model
    }

    fn device_sim(&self) -> &DeviceSim {
        &self.inner.patients[self.p].devices[self.d]
    }

    fn device_day(&mut self, day: i64) -> Arc<DeviceDay> {
        let (inner, p, d) = (&self.inner, self.p, self.d);
        self.device_days.get(day, || inner.device_day(p, d, day))
    }

    fn patient_day(&mut self, day: i64) -> Arc<PatientDay> {
        let (inner, p) = (&self.inner, self.p);
        self.patient_days.get(day, || inner.patient_day(p, day))
    }

    fn upload_time(&self, measured: i64) -> i64 {
        let delay = &self.device_sim().spec.upload_delay_ms;
        let u = unit(mix(&[
            self.inner.seed,
            self.device_sim().key,
            purpose::UPLOAD,
            measured as u64,
        ]));
        measured + whole_seconds(delay.min + (delay.max - delay.min) * u)
    }

    /// The battery in normal use: a sawtooth from full down to where the wearer recharges.
    fn normal_battery(&self, t: i64) -> f64 {
        let device = self.device_sim();
        let span = 1.0 - device.spec.recharge_at;
        let cycle = (device.spec.battery_life_ms as f64 * span).max(1.0);
        let phase = unit(mix(&[self.inner.seed, device.key, purpose::BATTERY])) * cycle;
        1.0 - span * ((t as f64 + phase).rem_euclid(cycle) / cycle)
    }

    fn battery(&mut self, t: i64) -> f64 {
        let day = self.device_day(day_of(t));
        let mut level = self.normal_battery(t);
        for e in day
            .events
            .iter()
            .filter(|e| e.kind == EventKind::BatteryDrain && e.active(t))
        {
            let drained = if t >= e.at {
                0.0
            } else {
                let full = self.normal_battery(e.start);
                full * (1.0 - (t - e.start) as f64 / (e.at - e.start).max(1) as f64)
            };
            level = level.min(drained);
        }
        level
    }

    fn dead(&mut self, t: i64) -> bool {
        self.battery(t) <= 0.0
    }

    fn skew(&mut self, t: i64) -> i64 {
        let day = self.device_day(day_of(t));
        day.events
            .iter()
            .find(|e| e.kind == EventKind::ClockSkew && e.active(t))
            .map_or(0, |e| e.magnitude as i64)
    }

    /// What the device reports for sensor `i` measuring at true time `s`, if anything.
    fn measure(&mut self, i: usize, s: i64) -> Option<SimReading> {
        let sensor = self.sensors[i];
        let device_day = self.device_day(day_of(s));
        if self.dead(s) {
            return None;
        }
        let t = to_datetime(s + self.skew(s));
        let mut artifact = None;
        for e in device_day.events.iter().filter(|e| e.active(s)) {
            match e.kind {
                EventKind::SensorOff => {
                    // Zeros while the firmware still trusts the sensor, then silence. A
                    // metric for which zero is a valid value (steps) just stops.
                    let zero_is_invalid = sensor.metric.spec().value.min > 0.0;
                    if s >= e.at || !zero_is_invalid {
                        return None;
                    }
                    let v2 = sensor.metric.spec().value2.map(|_| 0.0);
                    return Some(SimReading {
                        metric: sensor.metric,
                        t,
                        v: 0.0,
                        v2,
                    });
                }
                EventKind::MotionArtifact if e.metric == Some(sensor.metric) => {
                    artifact = Some(if sensor.metric == Metric::Spo2 {
                        e.magnitude2
                    } else {
                        e.magnitude
                    });
                }
                _ => {}
            }
        }
        let patient_day = self.patient_day(day_of(s));
        let (v, v2) = patient_day.value(sensor.signal, s, sensor.interval);
        let key = self.device_sim().key;
        // Firmware filters reject wild outliers: noise beyond 2.5 sd does not get through.
        let noise = |channel: u64| {
            physiology::gaussian_from(mix(&[
                self.inner.seed,
                key,
                purpose::NOISE,
                sensor.metric as u64,
                channel,
                s as u64,
            ]))
            .clamp(-2.5, 2.5)
        };
        let v = artifact.unwrap_or(v + sensor.noise_sd * noise(0));
        let v2 = v2.map(|v2| v2 + sensor.noise_sd2 * noise(1));
        let (v, v2) = displayed(sensor.metric, v, v2);
        Some(SimReading {
            metric: sensor.metric,
            t,
            v,
            v2,
        })
    }

    /// Status reports due in `(lo, at]`, in time order.
    fn statuses(&mut self, lo: i64, at: i64) -> Vec<StatusReport> {
        let mut due: Vec<(i64, StatusKind, &'static str)> = Vec::new();
        let low = self.device_sim().spec.low_battery;
        for day in day_of(lo + 1)..=day_of(at) {
            let device_day = self.device_day(day);
            for e in &device_day.events {
                let mut push = |s: i64, kind: StatusKind, message: &'static str| {
                    if lo < s && s <= at && day_of(s) == day {
                        due.push((s, kind, message));
                    }
                };
                match e.kind {
                    EventKind::SensorOff => {
                        push(e.start, StatusKind::SensorFault, "sensor gives no signal");
                        push(e.end, StatusKind::SensorOk, "sensor signal restored");
                    }
                    EventKind::BatteryDrain => {
                        let full = self.normal_battery(e.start);
                        if full > low {
                            let s = e.start + ((1.0 - low / full) * (e.at - e.start) as f64) as i64;
                            push(s, StatusKind::LowBattery, "battery low");
                        }
                    }
                    _ => {}
                }
            }
        }
        if due.is_empty() {
            return Vec::new();
        }
        due.sort_by_key(|&(s, kind, _)| (s, kind.as_str()));
        due.into_iter()
            .map(|(s, kind, message)| StatusReport {
                t: to_datetime(s + self.skew(s)),
                kind,
                message: Some(message.to_owned()),
                battery: Some(reported_battery(self.battery(s))),
            })
            .collect()
    }

    fn emission(&mut self, at: i64, readings: Vec<SimReading>) -> Emission {
        let lo = std::mem::replace(&mut self.prev_at, at);
        let status = self.statuses(lo, at);
        let level = self.battery(at);
        let device_day = self.device_day(day_of(at));
        let offline = device_day
            .events
            .iter()
            .any(|e| e.kind == EventKind::DeviceOffline && e.active(at));
        Emission {
            at: to_datetime(at),
            readings,
            battery: reported_battery(level),
            status,
            online: level > 0.0 && !offline,
        }
    }

    fn next_continuous(&mut self, at: i64) -> Emission {
        let mut readings = Vec::with_capacity(self.expected_readings());
        for i in 0..self.sensors.len() {
            while self.sensors[i].next <= at {
                let s = self.sensors[i].next;
                self.sensors[i].next += self.sensors[i].interval;
                if let Some(reading) = self.measure(i, s) {
                    readings.push(reading);
                }
            }
        }
        readings.sort_unstable_by_key(|r| (r.t, r.metric));
        self.emission(at, readings)
    }

    fn expected_readings(&self) -> usize {
        match self.schedule {
            Schedule::Continuous { interval, .. } => self
                .sensors
                .iter()
                .map(|s| (interval / s.interval.max(1)) as usize + 1)
                .sum(),
            Schedule::Spot { .. } => self.sensors.len(),
        }
    }

    /// The next spot-check emission: a measurement's upload, or an empty check-in.
    fn next_spot(&mut self) -> Emission {
        loop {
            let Schedule::Spot {
                heartbeat,
                next_heartbeat,
                next_day,
                ..
            } = self.schedule
            else {
                unreachable!("next_spot runs for spot-check models only");
            };
            if next_day * DAY <= next_heartbeat {
                // Measurements of days not loaded yet all upload after the next check-in.
                let sessions = self.device_day(next_day).sessions.clone();
                let uploads: Vec<(i64, i64)> = sessions
                    .into_iter()
                    .map(|m| (self.upload_time(m), m))
                    .collect();
                if let Schedule::Spot {
                    queue,
                    next_day,
                    from,
                    ..
                } = &mut self.schedule
                {
                    queue.extend(uploads.into_iter().filter(|&(publish, _)| publish >= *from));
                    *next_day += 1;
                }
                continue;
            }
            let Schedule::Spot {
                queue,
                next_heartbeat: hb,
                ..
            } = &mut self.schedule
            else {
                unreachable!("next_spot runs for spot-check models only");
            };
            match queue.front().copied() {
                Some((publish, measured)) if publish <= next_heartbeat => {
                    queue.pop_front();
                    if publish == next_heartbeat {
                        *hb += heartbeat;
                    }
                    // An empty device measures nothing and uploads nothing.
                    if self.dead(measured) {
                        continue;
                    }
                    let mut readings = Vec::with_capacity(self.sensors.len());
                    for i in 0..self.sensors.len() {
                        if let Some(reading) = self.measure(i, measured) {
                            readings.push(reading);
                        }
                    }
                    return self.emission(publish, readings);
                }
                _ => {
                    *hb += heartbeat;
                    return self.emission(next_heartbeat, Vec::new());
                }
            }
        }
    }
}

impl Iterator for DeviceTimeline {
    type Item = Emission;

    fn next(&mut self) -> Option<Emission> {
        match &mut self.schedule {
            Schedule::Continuous { interval, next_at } => {
                let at = *next_at;
                if at > END_OF_TIME {
                    return None;
                }
                *next_at += *interval;
                Some(self.next_continuous(at))
            }
            Schedule::Spot { next_heartbeat, .. } => {
                if *next_heartbeat > END_OF_TIME {
                    return None;
                }
                Some(self.next_spot())
            }
        }
    }
}

fn signal(model: Model, metric: Metric) -> Signal {
    match metric {
        Metric::HeartRate => Signal::HeartRate,
        Metric::RespiratoryRate => Signal::RespiratoryRate,
        Metric::Spo2 => Signal::Spo2,
        Metric::BodyTemperature if model == Model::Smartwatch => Signal::SkinTemperature,
        Metric::BodyTemperature => Signal::CoreTemperature,
        Metric::BloodPressure => Signal::BloodPressure,
        Metric::BodyWeight => Signal::BodyWeight,
        Metric::BloodGlucose => Signal::BloodGlucose,
        Metric::Steps => Signal::Steps,
    }
}

/// Rounded and bounded as a device shows it: temperatures and weights to 0.1, the rest
/// whole; within the catalog's bounds; a meter reads 20–600 mg/dL; systolic above diastolic.
fn displayed(metric: Metric, v: f64, v2: Option<f64>) -> (f64, Option<f64>) {
    let spec = metric.spec();
    let round = |x: f64| match metric {
        Metric::BodyTemperature | Metric::BodyWeight => (x * 10.0).round() / 10.0,
        _ => x.round(),
    };
    let (lo, hi) = match metric {
        Metric::BloodGlucose => (20.0, 600.0),
        _ => (spec.value.min, spec.value.max),
    };
    let v = round(v).clamp(lo, hi);
    let v2 = v2
        .zip(spec.value2)
        .map(|(x, q)| round(x).clamp(q.min, q.max).min(v - 10.0));
    (v, v2)
}

fn reported_battery(level: f64) -> f32 {
    ((level.clamp(0.0, 1.0) * 100.0).round() / 100.0) as f32
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;
    use crate::profiles::Profiles;
    use crate::roster::Roster;
    use crate::scenario::tests::{ALL_PROFILES, at, roster};
    use crate::scenario::{EventClass, GroundTruthEvent, SimOptions, Simulation};

    fn sim(roster: &Roster, seed: u64, rate_scale: f64) -> Simulation {
        Simulation::new(
            roster,
            &Profiles::builtin(),
            SimOptions { seed, rate_scale },
        )
        .unwrap()
    }

    fn run(sim: &Simulation, device: DeviceId, from: &str, to: &str) -> Vec<Emission> {
        let to = at(to);
        sim.timeline(device, at(from))
            .unwrap()
            .take_while(|e| e.at < to)
            .collect()
    }

    fn model_of(roster: &Roster, device: DeviceId) -> Model {
        roster
            .devices()
            .find(|(_, d)| d.id == device)
            .unwrap()
            .1
            .model
    }

    #[test]
    fn the_same_seed_gives_the_same_emissions_and_another_seed_does_not() {
        let profiles = Profiles::builtin();
        let roster = roster(&profiles, &ALL_PROFILES);
        let (a, b, c) = (
            sim(&roster, 9, 20.0),
            sim(&roster, 9, 20.0),
            sim(&roster, 10, 20.0),
        );
        let mut differs = 0;
        for (_, device) in roster.devices() {
            let one = run(
                &a,
                device.id,
                "2026-04-01T00:00:00Z",
                "2026-04-03T00:00:00Z",
            );
            assert!(!one.is_empty());
            assert_eq!(
                one,
                run(
                    &b,
                    device.id,
                    "2026-04-01T00:00:00Z",
                    "2026-04-03T00:00:00Z"
                ),
                "{}",
                device.model
            );
            if one
                != run(
                    &c,
                    device.id,
                    "2026-04-01T00:00:00Z",
                    "2026-04-03T00:00:00Z",
                )
            {
                differs += 1;
            }
        }
        assert_eq!(differs, roster.devices().count());
    }

    #[test]
    fn a_later_start_gives_the_same_emissions() {
        let profiles = Profiles::builtin();
        let roster = roster(&profiles, &ALL_PROFILES);
        let sim = sim(&roster, 4, 40.0);
        for (_, device) in roster.devices() {
            let early = run(
                &sim,
                device.id,
                "2026-04-01T00:00:00Z",
                "2026-04-02T12:00:00Z",
            );
            let late = run(
                &sim,
                device.id,
                "2026-04-01T17:23:41Z",
                "2026-04-02T12:00:00Z",
            );
            assert!(!late.is_empty());
            let overlap = &early[early.len() - late.len()..];
            assert_eq!(overlap, &late[..], "{}", device.model);
        }
    }

    #[test]
    fn readings_are_well_formed_for_every_model() {
        let profiles = Profiles::builtin();
        let roster = roster(&profiles, &ALL_PROFILES);
        let sim = sim(&roster, 21, 30.0);
        for (_, device) in roster.devices() {
            let emissions = run(
                &sim,
                device.id,
                "2026-04-01T00:00:00Z",
                "2026-04-03T00:00:00Z",
            );
            let mut seen = HashSet::new();
            let mut count = 0;
            for window in emissions.windows(2) {
                assert!(window[0].at < window[1].at, "emissions in order");
            }
            for e in &emissions {
                assert!((0.0..=1.0).contains(&e.battery));
                for r in &e.readings {
                    count += 1;
                    assert!(
                        r.metric.may_come_from(device.model.kind()),
                        "{} sent {}",
                        device.model,
                        r.metric
                    );
                    assert!(
                        seen.insert((r.metric, r.t)),
                        "{} repeats {} at {}",
                        device.model,
                        r.metric,
                        r.t
                    );
                    assert_eq!(
                        r.t.timestamp_subsec_nanos() % 1_000_000,
                        0,
                        "millisecond precision"
                    );
                    // Never later than the publish, plus at most the largest skew (4 h).
                    assert!(
                        r.t <= e.at + chrono::Duration::hours(4) + chrono::Duration::seconds(1)
                    );
                    let spec = r.metric.spec();
                    assert_eq!(r.v2.is_some(), spec.value2.is_some());
                    if r.v != 0.0 {
                        assert!((spec.value.min..=spec.value.max).contains(&r.v), "{r:?}");
                    }
                    if let Some(d) = r.v2.filter(|&d| d != 0.0) {
                        assert!(r.v > d, "{r:?}");
                    }
                    assert_eq!(
                        r.v,
                        match r.metric {
                            Metric::BodyTemperature | Metric::BodyWeight =>
                                (r.v * 10.0).round() / 10.0,
                            _ => r.v.round(),
                        }
                    );
                }
            }
            assert!(count > 0, "{} measured nothing in two days", device.model);
        }
    }

    /// Events whose window no non-event of the observing device touches, except offline
    /// (which only delays delivery).
    fn clean_events(
        sim: &Simulation,
        kind: EventKind,
        from: &str,
        to: &str,
    ) -> Vec<GroundTruthEvent> {
        let truth = sim.ground_truth(at(from) - chrono::Duration::days(1), at(to));
        truth
            .iter()
            .filter(|e| e.kind == kind && e.start >= at(from))
            .filter(|e| {
                !truth.iter().any(|o| {
                    o.device == e.device
                        && o.class == EventClass::NonEvent
                        && o.kind != EventKind::DeviceOffline
                        && o.start < e.end + chrono::Duration::minutes(10)
                        && e.start < o.end
                })
            })
            .cloned()
            .collect()
    }

    /// Readings of `metric` measured during `[start, end)` on the event's device.
    fn observed(sim: &Simulation, event: &GroundTruthEvent, metric: Metric) -> Vec<SimReading> {
        let device = event.device.unwrap();
        sim.timeline(device, event.start - chrono::Duration::hours(1))
            .unwrap()
            .take_while(|e| e.at < event.end + chrono::Duration::hours(1))
            .flat_map(|e| e.readings)
            .filter(|r| r.metric == metric && r.t >= event.start && r.t < event.end)
            .collect()
    }

    #[test]
    fn clinical_events_show_in_the_readings() {
        let profiles = Profiles::builtin();
        let roster = roster(&profiles, &ALL_PROFILES);
        let sim = sim(&roster, 77, 25.0);
        let (from, to) = ("2026-05-01T00:00:00Z", "2026-05-08T00:00:00Z");
        type Shows = fn(&[SimReading]) -> bool;
        let checks: [(EventKind, Metric, Shows); 7] = [
            (EventKind::Tachycardia, Metric::HeartRate, |r| {
                r.iter().any(|r| r.v > 120.0)
            }),
            (EventKind::Bradycardia, Metric::HeartRate, |r| {
                r.iter().any(|r| r.v < 48.0)
            }),
            (EventKind::Desaturation, Metric::Spo2, |r| {
                r.iter().any(|r| r.v <= 90.0)
            }),
            (EventKind::HypertensiveCrisis, Metric::BloodPressure, |r| {
                r.iter().any(|r| r.v > 180.0 || r.v2.unwrap() > 120.0)
            }),
            (EventKind::Fever, Metric::BodyTemperature, |r| {
                r.iter().any(|r| r.v >= 38.0)
            }),
            (EventKind::Hypoglycemia, Metric::BloodGlucose, |r| {
                r.iter().any(|r| r.v < 70.0)
            }),
            (EventKind::Hyperglycemia, Metric::BloodGlucose, |r| {
                r.iter().any(|r| r.v > 250.0)
            }),
        ];
        for (kind, metric, shows) in checks {
            let events = clean_events(&sim, kind, from, to);
            assert!(!events.is_empty(), "no clean {kind:?}");
            for event in events.iter().take(4) {
                let readings = observed(&sim, event, metric);
                assert!(!readings.is_empty(), "{kind:?} unobserved: {event:?}");
                assert!(
                    shows(&readings),
                    "{kind:?} does not show: {event:?} {readings:?}"
                );
            }
        }
    }

    #[test]
    fn non_events_show_as_intended() {
        let profiles = Profiles::builtin();
        let roster = roster(&profiles, &ALL_PROFILES);
        let sim = sim(&roster, 31, 40.0);
        let (from, to) = ("2026-06-01T00:00:00Z", "2026-06-06T00:00:00Z");
        let truth = sim.ground_truth(at(from) - chrono::Duration::days(2), at(to));
        // The first non-event of a kind on a model with none of `conflicts` on its device
        // nearby (at rate_scale 40, something else is nearly always going on).
        let first = |kind: EventKind, model: Model, conflicts: &[EventKind]| {
            let margin = chrono::Duration::minutes(30);
            truth
                .iter()
                .find(|e| {
                    e.kind == kind
                        && model_of(&roster, e.device.unwrap()) == model
                        && !truth.iter().any(|o| {
                            o != *e
                                && o.device == e.device
                                && conflicts.contains(&o.kind)
                                && o.start < e.end + margin
                                && e.start < o.end + margin
                        })
                })
                .unwrap_or_else(|| panic!("no {kind:?} on a {model} clear of {conflicts:?}"))
                .clone()
        };
        let around = |e: &GroundTruthEvent| {
            sim.timeline(e.device.unwrap(), e.start - chrono::Duration::minutes(30))
                .unwrap()
                .take_while(|x| x.at < e.end + chrono::Duration::minutes(30))
                .collect::<Vec<_>>()
        };
        let inside = |e: &GroundTruthEvent, x: &Emission| x.at >= e.start && x.at < e.end;

        let offline = first(
            EventKind::DeviceOffline,
            Model::Smartwatch,
            &[EventKind::BatteryDrain, EventKind::DeviceOffline],
        );
        let emissions = around(&offline);
        assert!(
            emissions
                .iter()
                .filter(|x| inside(&offline, x))
                .all(|x| !x.online)
        );
        assert!(
            emissions
                .iter()
                .filter(|x| inside(&offline, x))
                .any(|x| !x.readings.is_empty()),
            "still measuring"
        );
        assert!(emissions.iter().any(|x| x.online));

        let off = first(
            EventKind::SensorOff,
            Model::Smartwatch,
            &[EventKind::BatteryDrain],
        );
        let emissions = around(&off);
        let zeros = emissions
            .iter()
            .flat_map(|x| &x.readings)
            .filter(|r| r.metric == Metric::HeartRate && r.v == 0.0)
            .count();
        assert!(zeros > 0);
        let statuses: Vec<StatusKind> = emissions
            .iter()
            .flat_map(|x| &x.status)
            .map(|s| s.kind)
            .collect();
        assert!(
            statuses.contains(&StatusKind::SensorFault) && statuses.contains(&StatusKind::SensorOk)
        );

        // Whatever else happens meanwhile, a skew shifts every time stamp.
        let skew = truth
            .iter()
            .find(|e| {
                e.kind == EventKind::ClockSkew
                    && model_of(&roster, e.device.unwrap()) == Model::Smartwatch
            })
            .expect("a clock skew on a smartwatch")
            .clone();
        let offset = chrono::Duration::milliseconds(skew.detail["offset_ms"].as_i64().unwrap());
        let publish = chrono::Duration::seconds(15);
        for x in around(&skew) {
            for r in &x.readings {
                // A watch reading is measured within the 15 s before its publish.
                let shift = if x.at - publish >= skew.start && x.at < skew.end {
                    offset
                } else if x.at < skew.start || x.at - publish >= skew.end {
                    chrono::Duration::zero()
                } else {
                    continue;
                };
                let measured = r.t - shift;
                assert!(
                    measured <= x.at && measured > x.at - publish,
                    "{r:?} in {:?} ({offset})",
                    x.at
                );
            }
        }

        let drain = first(
            EventKind::BatteryDrain,
            Model::Smartwatch,
            &[EventKind::BatteryDrain],
        );
        let emissions = around(&drain);
        assert!(
            emissions
                .iter()
                .flat_map(|x| &x.status)
                .any(|s| s.kind == StatusKind::LowBattery)
        );
        let empty = at(drain.detail["empty_at"].as_str().unwrap());
        let dead: Vec<&Emission> = emissions
            .iter()
            .filter(|x| x.at > empty + chrono::Duration::minutes(1) && x.at < drain.end)
            .collect();
        assert!(!dead.is_empty());
        assert!(
            dead.iter()
                .all(|x| !x.online && x.readings.is_empty() && x.battery == 0.0)
        );
        assert!(
            emissions.last().unwrap().battery >= 0.3,
            "recharged after the window"
        );

        let artifact = first(
            EventKind::MotionArtifact,
            Model::Smartwatch,
            &[
                EventKind::SensorOff,
                EventKind::BatteryDrain,
                EventKind::ClockSkew,
            ],
        );
        let metric: Metric = artifact.detail["metric"].as_str().unwrap().parse().unwrap();
        let value = artifact.detail["value"].as_f64().unwrap();
        let hits: Vec<SimReading> = around(&artifact)
            .iter()
            .flat_map(|x| x.readings.clone())
            .filter(|r| r.metric == metric && r.t >= artifact.start && r.t < artifact.end)
            .collect();
        assert!(!hits.is_empty() && hits.len() <= 3, "{artifact:?} {hits:?}");
        assert!(hits.iter().all(|r| r.v == value));
    }

    #[test]
    fn a_healthy_day_stays_plausible() {
        let profiles = Profiles::builtin();
        let roster = roster(&profiles, &["healthy_adult", "athlete", "healthy_adult"]);
        let sim = sim(&roster, 5, 1.0);
        let (from, to) = ("2026-07-01T00:00:00Z", "2026-07-04T00:00:00Z");
        let truth = sim.ground_truth(at(from) - chrono::Duration::days(8), at(to));
        for (patient, device) in roster.devices() {
            // Clinical events echo for hours (a fever's tail); device non-events do not.
            let disturbed = |t: DateTime<Utc>| {
                truth.iter().any(|e| {
                    let margin = if e.device == Some(device.id) && e.class == EventClass::NonEvent {
                        chrono::Duration::minutes(10)
                    } else if e.patient == patient.id && e.class == EventClass::Event {
                        chrono::Duration::hours(5)
                    } else {
                        return false;
                    };
                    e.start - margin <= t && t < e.end + margin
                })
            };
            let emissions = run(&sim, device.id, from, to);
            let readings = || emissions.iter().flat_map(|x| &x.readings);
            let steps: f64 = readings()
                .filter(|r| r.metric == Metric::Steps)
                .map(|r| r.v)
                .sum();
            for r in readings().filter(|r| !disturbed(r.t)) {
                let (lo, hi) = match (r.metric, device.model) {
                    (Metric::HeartRate, _) => (30.0, 160.0),
                    (Metric::Spo2, _) => (90.0, 100.0),
                    (Metric::BodyTemperature, Model::Smartwatch) => (30.0, 37.5),
                    (Metric::BodyTemperature, _) => (35.8, 37.7),
                    (Metric::BodyWeight, _) => (50.0, 100.0),
                    (Metric::Steps, _) => (0.0, 200.0),
                    (other, _) => panic!("a healthy profile's device sent {other}"),
                };
                assert!((lo..=hi).contains(&r.v), "{} {r:?}", device.model);
            }
            if device.model == Model::Smartwatch {
                assert!(steps > 9_000.0, "{steps} steps in three days");
            }
        }
    }

    #[test]
    fn emission_rates_match_the_models() {
        let profiles = Profiles::builtin();
        let roster = roster(&profiles, &["type1_diabetic", "older_adult"]);
        let sim = sim(&roster, 8, 0.0);
        for (_, device) in roster.devices() {
            let emissions = run(
                &sim,
                device.id,
                "2026-08-01T00:00:00Z",
                "2026-08-02T00:00:00Z",
            );
            let readings: usize = emissions.iter().map(|e| e.readings.len()).sum();
            let (lo, hi) = match device.model {
                Model::Smartwatch => (5_760, 5_760),
                Model::Cgm => (288, 288),
                _ => (24, 30),
            };
            assert!(
                (lo..=hi).contains(&emissions.len()),
                "{}: {} emissions",
                device.model,
                emissions.len()
            );
            if device.model == Model::Smartwatch {
                assert_eq!(readings, 17_280 + 3 * 1_440);
            }
            assert!(emissions.iter().all(|e| e.online && e.status.is_empty()));
        }
    }
}
