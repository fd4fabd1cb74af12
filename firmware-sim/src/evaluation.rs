//! Scoring alerts against the simulator's ground truth: which alert detects which event and
//! how fast, which alerts are false and which non-event provoked them, the printed report,
//! and the goals the alert engine is judged by.
//!
//! Latency percentiles use the nearest-rank method (see [`percentile`]).

use std::collections::{BTreeMap, HashMap};
use std::fmt;

use chrono::{DateTime, Duration, Utc};
use healthsync_core::catalog::Metric;
use healthsync_core::ids::{DeviceId, UserId};
use serde::{Deserialize, Serialize};

use crate::broker_bench::wire::percentile;
use crate::scenario::{EventClass, EventKind, GroundTruthEvent};

/// Rules about the device, not the patient: no clinical event explains them.
const DEVICE_HEALTH_RULES: [&str; 3] = ["device_offline", "low_battery", "sensor_fault"];

const GOAL_CRITICAL_SENSITIVITY_PCT: f64 = 95.0;
const GOAL_FALSE_MEDIUM_HIGH_PER_PATIENT_DAY: f64 = 1.0;
const GOAL_MEDIAN_CRITICAL_LATENCY_MS: u64 = 60_000;

/// An alert as the evaluation sees it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RaisedAlert {
    pub patient: UserId,
    pub device: Option<DeviceId>,
    /// The alert engine's rule name, e.g. `spo2_low`, `news2`, `device_offline`.
    pub rule: String,
    /// `None` for `news2` and the device-health rules.
    pub metric: Option<Metric>,
    /// `high`, `medium` or `low`.
    pub severity: String,
    /// Simulated time of the measurement that fired it.
    pub fired_at: DateTime<Utc>,
}

/// The simulated span evaluated and how many patients it covers.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Period {
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    pub patients: usize,
}

impl Period {
    pub fn patient_days(&self) -> f64 {
        let days = (self.to - self.from).num_milliseconds() as f64 / 86_400_000.0;
        self.patients as f64 * days
    }

    fn contains(&self, at: DateTime<Utc>) -> bool {
        self.from <= at && at < self.to
    }
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct BySeverity {
    pub high: usize,
    pub medium: usize,
    pub low: usize,
}

impl BySeverity {
    /// Anything but `high` or `medium` counts as low.
    fn add(&mut self, severity: &str) {
        match severity {
            "high" => self.high += 1,
            "medium" => self.medium += 1,
            _ => self.low += 1,
        }
    }

    pub fn medium_high(&self) -> usize {
        self.high + self.medium
    }

    pub fn total(&self) -> usize {
        self.medium_high() + self.low
    }
}

/// The figures for one event kind.
#[derive(Clone, Debug, PartialEq)]
pub struct KindRow {
    pub kind: EventKind,
    pub events: usize,
    /// Events no device measured (see [`Observation::Unobserved`]).
    pub unobserved: usize,
    /// Observed critical events.
    pub critical: usize,
    pub detected: usize,
    pub critical_detected: usize,
    /// Detection latencies of the detected events, milliseconds, ascending.
    pub latencies_ms: Vec<u64>,
    /// The same, from the event's observable onset (see [`onset`]), ascending.
    pub onset_latencies_ms: Vec<u64>,
    /// False alerts raised during an event of this kind (non-events only).
    pub false_alerts: BySeverity,
}

impl KindRow {
    fn new(kind: EventKind) -> Self {
        Self {
            kind,
            events: 0,
            unobserved: 0,
            critical: 0,
            detected: 0,
            critical_detected: 0,
            latencies_ms: Vec::new(),
            onset_latencies_ms: Vec::new(),
            false_alerts: BySeverity::default(),
        }
    }

    /// Motion artifacts and clock skews exist to provoke false alarms; nothing should
    /// detect them, so a sensitivity would mean nothing.
    fn detectable(&self) -> bool {
        !matches!(self.kind, EventKind::MotionArtifact | EventKind::ClockSkew)
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Evaluation {
    pub period: Period,
    /// Kinds with an event in the period or a false alert during one, in `EventKind` order.
    pub rows: Vec<KindRow>,
    /// False alerts during no non-event.
    pub unexplained: BySeverity,
    /// False alerts by the rule that raised them.
    pub false_by_rule: BTreeMap<String, BySeverity>,
    /// The critical events no alert detected.
    pub missed_critical: Vec<GroundTruthEvent>,
    /// Detection latencies of the detected critical events, milliseconds, ascending.
    pub critical_latencies_ms: Vec<u64>,
    /// The same, from the events' observable onsets, ascending.
    pub critical_onset_latencies_ms: Vec<u64>,
}

/// When an event became observable: the first reading of its observing device, within the
/// event, that guidance calls abnormal. Latency from event start also counts the
/// physiology building up and a spot-check device's wait for its next measurement; latency
/// from this onset is what the alerting itself adds (persistence, pipeline).
#[derive(Clone, Copy, Debug)]
pub struct Onset {
    pub metric: Metric,
    pub abnormal: Abnormal,
}

/// Whether a reading (value, second value) is abnormal.
pub type Abnormal = fn(f64, Option<f64>) -> bool;

/// The guideline level each clinical event kind is observable at: NEWS2 scoring 2 or more
/// for heart rate, SpO2 and systolic pressure (and its red band for a slow heart), ACC/AHA's
/// crisis, ADA's glucose levels, fever above 38.0 °C. `None` for kinds without one.
pub fn onset(kind: EventKind) -> Option<Onset> {
    let (metric, abnormal): (Metric, Abnormal) = match kind {
        EventKind::Tachycardia => (Metric::HeartRate, |v, _| v >= 110.5),
        EventKind::Bradycardia => (Metric::HeartRate, |v, _| v < 40.5),
        EventKind::Desaturation => (Metric::Spo2, |v, _| v < 93.5),
        EventKind::HypertensiveCrisis => (Metric::BloodPressure, |v, v2| {
            v > 180.0 || v2.is_some_and(|d| d > 120.0)
        }),
        EventKind::Hypotension => (Metric::BloodPressure, |v, _| v < 100.5),
        EventKind::Fever => (Metric::BodyTemperature, |v, _| v >= 38.05),
        EventKind::Hypoglycemia => (Metric::BloodGlucose, |v, _| v < 70.0),
        EventKind::Hyperglycemia => (Metric::BloodGlucose, |v, _| v > 250.0),
        _ => return None,
    };
    Some(Onset { metric, abnormal })
}

/// One goal of the evaluation, as printed.
#[derive(Clone, Debug, PartialEq)]
pub struct Goal {
    pub name: &'static str,
    pub target: &'static str,
    /// `—` when there was nothing to measure; such a goal is not met.
    pub achieved: String,
    pub met: bool,
}

/// Whether the event reaches a level clinical guidance treats as an emergency.
pub fn is_critical(event: &GroundTruthEvent) -> bool {
    let level = |key: &str| event.detail[key].as_f64();
    match event.kind {
        // SpO2 ≤ 88 % and > 180/120 mm[Hg] by construction.
        EventKind::Desaturation | EventKind::HypertensiveCrisis => true,
        EventKind::Hypotension => level("systolic").is_some_and(|s| s <= 90.0),
        // ADA level 2 hypoglycaemia.
        EventKind::Hypoglycemia => level("glucose").is_some_and(|g| g < 54.0),
        // NEWS2 scores these heart rates 3, its red band.
        EventKind::Tachycardia => level("heart_rate").is_some_and(|hr| hr >= 131.0),
        EventKind::Bradycardia => level("heart_rate").is_some_and(|hr| hr <= 40.0),
        _ => false,
    }
}

/// How long after an event's end an alert still counts as detecting it.
fn grace(kind: EventKind) -> Duration {
    match kind {
        // Silence is only recognised as offline after the engine's own timeout.
        EventKind::DeviceOffline => Duration::minutes(30),
        // The resting heart rate baseline is computed at the end of each day.
        EventKind::RestingHrRise => Duration::days(1),
        _ => Duration::minutes(10),
    }
}

fn within(at: DateTime<Utc>, event: &GroundTruthEvent, grace: Duration) -> bool {
    event.start <= at && at <= event.end + grace
}

fn detects(alert: &RaisedAlert, event: &GroundTruthEvent) -> bool {
    use EventKind::*;
    let rule = alert.rule.as_str();
    let same_device = alert.device.is_some() && alert.device == event.device;
    let matches = match event.kind {
        Tachycardia | Bradycardia => {
            rule == "news2"
                || (alert.metric == Some(Metric::HeartRate) && rule != "resting_hr_baseline")
        }
        Desaturation | HypertensiveCrisis | Hypotension | Fever => {
            rule == "news2" || alert.metric == event.kind.metric()
        }
        // NEWS2 has no glucose parameter.
        Hypoglycemia | Hyperglycemia => alert.metric == Some(Metric::BloodGlucose),
        RestingHrRise => rule == "resting_hr_baseline",
        SensorOff => rule == "sensor_fault" && same_device,
        DeviceOffline => rule == "device_offline" && same_device,
        BatteryDrain => rule == "low_battery" && same_device,
        MotionArtifact | ClockSkew => false,
    };
    alert.patient == event.patient && matches && within(alert.fired_at, event, grace(event.kind))
}

/// False: it detects nothing, and it is no knock-on effect of a clinical event of the
/// patient (hypoxia raises the heart rate, ...). `events` are the patient's. A resting
/// heart rate rise lasts days and only shifts the heart rate, so it explains heart-rate
/// alerts only.
fn is_false(alert: &RaisedAlert, events: &[&GroundTruthEvent]) -> bool {
    let device_health = DEVICE_HEALTH_RULES.contains(&alert.rule.as_str());
    !events.iter().any(|event| {
        let explains = event.class == EventClass::Event
            && (event.kind != EventKind::RestingHrRise || alert.metric == Some(Metric::HeartRate));
        detects(alert, event)
            || (!device_health && explains && within(alert.fired_at, event, Duration::minutes(10)))
    })
}

/// Scores `alerts` against `truth`. Only events starting in the period are counted, and only
/// alerts fired in it can be false; events from before the period still explain alerts, and
/// alerts after it may still detect an event that started inside.
pub fn evaluate(truth: &[GroundTruthEvent], alerts: &[RaisedAlert], period: Period) -> Evaluation {
    evaluate_with_onsets(truth, alerts, period, &[])
}

/// What the observing device saw of an event.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Observation {
    /// Not looked at: the event counts, its onset latency from its start.
    Unknown,
    /// The observing device delivered no reading of the metric during the event (its
    /// battery was empty, it was off the wrist): nothing could have detected it, so it is
    /// left out of the sensitivities and counted apart.
    Unobserved,
    /// Readings arrived; `onset` is the first that guidance calls abnormal, if one was.
    Observed { onset: Option<DateTime<Utc>> },
}

/// [`evaluate`], with what the observing device saw of `truth[i]` in `observations[i]`.
pub fn evaluate_with_onsets(
    truth: &[GroundTruthEvent],
    alerts: &[RaisedAlert],
    period: Period,
    observations: &[Observation],
) -> Evaluation {
    let mut alerts_of: HashMap<UserId, Vec<&RaisedAlert>> = HashMap::new();
    for alert in alerts {
        alerts_of.entry(alert.patient).or_default().push(alert);
    }
    let mut truth_of: HashMap<UserId, Vec<&GroundTruthEvent>> = HashMap::new();
    for event in truth {
        truth_of.entry(event.patient).or_default().push(event);
    }

    let mut rows: BTreeMap<EventKind, KindRow> = BTreeMap::new();
    let mut critical_latencies_ms = Vec::new();
    let mut critical_onset_latencies_ms = Vec::new();
    let mut missed_critical = Vec::new();
    for (i, event) in truth.iter().enumerate() {
        if !period.contains(event.start) {
            continue;
        }
        let row = rows
            .entry(event.kind)
            .or_insert_with(|| KindRow::new(event.kind));
        let critical = is_critical(event);
        row.events += 1;
        let observation = observations.get(i).copied().unwrap_or(Observation::Unknown);
        if observation == Observation::Unobserved {
            row.unobserved += 1;
            continue;
        }
        row.critical += usize::from(critical);
        let first = alerts_of
            .get(&event.patient)
            .into_iter()
            .flatten()
            .filter(|alert| detects(alert, event))
            .map(|alert| alert.fired_at)
            .min();
        if first.is_none() && critical {
            missed_critical.push(event.clone());
        }
        if let Some(fired_at) = first {
            // Never negative: detection requires fired_at ≥ start.
            let latency = (fired_at - event.start).num_milliseconds() as u64;
            let onset = match observation {
                Observation::Observed { onset: Some(onset) } => onset,
                _ => event.start,
            };
            // An alert may come before the onset reading: a NEWS2 total, another device.
            let from_onset = (fired_at - onset).num_milliseconds().max(0) as u64;
            row.detected += 1;
            row.latencies_ms.push(latency);
            row.onset_latencies_ms.push(from_onset);
            if critical {
                row.critical_detected += 1;
                critical_latencies_ms.push(latency);
                critical_onset_latencies_ms.push(from_onset);
            }
        }
    }

    let mut unexplained = BySeverity::default();
    let mut false_by_rule: BTreeMap<String, BySeverity> = BTreeMap::new();
    for alert in alerts.iter().filter(|a| period.contains(a.fired_at)) {
        let events = truth_of.get(&alert.patient).map_or(&[][..], Vec::as_slice);
        if !is_false(alert, events) {
            continue;
        }
        false_by_rule
            .entry(alert.rule.clone())
            .or_default()
            .add(&alert.severity);
        let provoker = events.iter().find(|event| {
            event.class == EventClass::NonEvent
                && within(alert.fired_at, event, Duration::minutes(2))
        });
        match provoker {
            Some(event) => rows
                .entry(event.kind)
                .or_insert_with(|| KindRow::new(event.kind))
                .false_alerts
                .add(&alert.severity),
            None => unexplained.add(&alert.severity),
        }
    }

    let mut rows: Vec<KindRow> = rows.into_values().collect();
    for row in &mut rows {
        row.latencies_ms.sort_unstable();
        row.onset_latencies_ms.sort_unstable();
    }
    critical_latencies_ms.sort_unstable();
    critical_onset_latencies_ms.sort_unstable();
    Evaluation {
        period,
        rows,
        unexplained,
        false_by_rule,
        missed_critical,
        critical_latencies_ms,
        critical_onset_latencies_ms,
    }
}

impl Evaluation {
    pub fn false_alerts(&self) -> BySeverity {
        let mut sum = self.unexplained;
        for row in &self.rows {
            sum.high += row.false_alerts.high;
            sum.medium += row.false_alerts.medium;
            sum.low += row.false_alerts.low;
        }
        sum
    }

    /// `None` for an empty period.
    pub fn per_patient_day(&self, count: usize) -> Option<f64> {
        let days = self.period.patient_days();
        (days > 0.0).then(|| count as f64 / days)
    }

    /// Critical events detected, and critical events.
    pub fn critical_detected(&self) -> (usize, usize) {
        let detected = self.rows.iter().map(|r| r.critical_detected).sum();
        (detected, self.rows.iter().map(|r| r.critical).sum())
    }

    /// Percent of the critical events detected; `None` without critical events.
    pub fn critical_sensitivity(&self) -> Option<f64> {
        let (detected, critical) = self.critical_detected();
        ratio(detected, critical)
    }

    pub fn goals(&self) -> Vec<Goal> {
        let sensitivity = self.critical_sensitivity();
        let false_rate = self.per_patient_day(self.false_alerts().medium_high());
        let median = percentile(&self.critical_onset_latencies_ms, 50.0);
        vec![
            Goal {
                name: "sensitivity over critical events",
                target: "≥ 95 %",
                achieved: sensitivity.map_or("—".into(), |s| format!("{s:.1} %")),
                met: sensitivity.is_some_and(|s| s >= GOAL_CRITICAL_SENSITIVITY_PCT),
            },
            Goal {
                name: "false medium/high alerts per patient-day",
                target: "≤ 1",
                achieved: false_rate.map_or("—".into(), |r| format!("{r:.3}")),
                met: false_rate.is_some_and(|r| r <= GOAL_FALSE_MEDIUM_HIGH_PER_PATIENT_DAY),
            },
            Goal {
                name: "median detection latency over critical events, from onset",
                target: "≤ 60 s",
                achieved: median.map_or("—".into(), human),
                met: median.is_some_and(|ms| ms <= GOAL_MEDIAN_CRITICAL_LATENCY_MS),
            },
        ]
    }
}

fn ratio(part: usize, whole: usize) -> Option<f64> {
    (whole > 0).then(|| 100.0 * part as f64 / whole as f64)
}

fn pct(value: Option<f64>) -> String {
    value.map_or("—".into(), |v| format!("{v:.1} %"))
}

fn human(ms: u64) -> String {
    let s = ms as f64 / 1000.0;
    if s < 60.0 {
        format!("{s:.0} s")
    } else if s < 3600.0 {
        format!("{:.1} min", s / 60.0)
    } else {
        format!("{:.1} h", s / 3600.0)
    }
}

fn latency(sorted_ms: &[u64], p: f64) -> String {
    percentile(sorted_ms, p).map_or("—".into(), human)
}

fn hml(counts: BySeverity) -> String {
    format!("{}/{}/{}", counts.high, counts.medium, counts.low)
}

/// One line of the table: kind, class, events, critical events, detected, sensitivity,
/// critical sensitivity, median and p95 latency from the start and from the onset; then
/// the false alerts during the kind.
fn table_line(f: &mut fmt::Formatter<'_>, cells: [&str; 11], false_alerts: &str) -> fmt::Result {
    let [
        kind,
        class,
        events,
        critical,
        detected,
        sens,
        crit_sens,
        median,
        p95,
        onset_median,
        onset_p95,
    ] = cells;
    writeln!(
        f,
        "{kind:<20} {class:<9} {events:>16} {critical:>8} {detected:>8} {sens:>11} \
         {crit_sens:>11} {median:>9} {p95:>9} {onset_median:>9} {onset_p95:>9}  {false_alerts}"
    )
}

impl fmt::Display for Evaluation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let header = [
            "kind",
            "class",
            "events",
            "critical",
            "detected",
            "sensitivity",
            "crit. sens.",
            "start p50",
            "start p95",
            "onset p50",
            "onset p95",
        ];
        table_line(f, header, "false alerts during (high/medium/low)")?;
        for row in &self.rows {
            let class = match row.kind.class() {
                EventClass::Event => "event",
                EventClass::NonEvent => "non-event",
            };
            let sensitivity = if row.detectable() {
                pct(ratio(row.detected, row.events - row.unobserved))
            } else {
                "—".into()
            };
            let cells = [
                row.kind.as_str(),
                class,
                &if row.unobserved > 0 {
                    format!("{} ({} unobs.)", row.events, row.unobserved)
                } else {
                    row.events.to_string()
                },
                &row.critical.to_string(),
                &row.detected.to_string(),
                &sensitivity,
                &pct(ratio(row.critical_detected, row.critical)),
                &latency(&row.latencies_ms, 50.0),
                &latency(&row.latencies_ms, 95.0),
                &latency(&row.onset_latencies_ms, 50.0),
                &latency(&row.onset_latencies_ms, 95.0),
            ];
            table_line(f, cells, &hml(row.false_alerts))?;
        }
        let mut unexplained = [""; 11];
        unexplained[0] = "unexplained";
        table_line(f, unexplained, &hml(self.unexplained))?;

        let (detected, critical) = self.critical_detected();
        let false_alerts = self.false_alerts();
        let rate = |count| {
            self.per_patient_day(count)
                .map_or("—".into(), |r| format!("{r:.3}"))
        };
        writeln!(f)?;
        writeln!(f, "patient-days: {:.1}", self.period.patient_days())?;
        writeln!(
            f,
            "false alerts per patient-day: high {}, medium {}, low {}; medium+high {}",
            rate(false_alerts.high),
            rate(false_alerts.medium),
            rate(false_alerts.low),
            rate(false_alerts.medium_high()),
        )?;
        write!(f, "false alerts by rule (high/medium/low):")?;
        for (rule, counts) in &self.false_by_rule {
            write!(f, " {rule} {};", hml(*counts))?;
        }
        writeln!(f)?;
        writeln!(
            f,
            "sensitivity over critical events: {} ({detected} of {critical}); latency \
             percentiles by nearest rank",
            pct(self.critical_sensitivity())
        )?;
        writeln!(
            f,
            "critical events' detection latency: from the start p50 {} p95 {}; from the \
             onset p50 {} p95 {}",
            latency(&self.critical_latencies_ms, 50.0),
            latency(&self.critical_latencies_ms, 95.0),
            latency(&self.critical_onset_latencies_ms, 50.0),
            latency(&self.critical_onset_latencies_ms, 95.0),
        )?;
        for event in &self.missed_critical {
            writeln!(
                f,
                "missed: {} of {} from {} for {}, {}",
                event.kind.as_str(),
                event.patient_label,
                event.start.format("%Y-%m-%d %H:%M:%S"),
                human((event.end - event.start).num_milliseconds().max(0) as u64),
                event.detail
            )?;
        }
        writeln!(f)?;
        for goal in self.goals() {
            let verdict = if goal.met { "met" } else { "NOT met" };
            writeln!(
                f,
                "{verdict:<8} {}: {} (target {})",
                goal.name, goal.achieved, goal.target
            )?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use uuid::Uuid;

    fn at(minutes: i64) -> DateTime<Utc> {
        "2026-03-01T00:00:00Z".parse::<DateTime<Utc>>().unwrap() + Duration::minutes(minutes)
    }

    fn user(n: u128) -> UserId {
        UserId(Uuid::from_u128(n))
    }

    fn device(n: u128) -> DeviceId {
        DeviceId(Uuid::from_u128(1000 + n))
    }

    /// An event of patient `p` on device `p`, from minute `start` to minute `end`.
    fn event(
        p: u128,
        kind: EventKind,
        start: i64,
        end: i64,
        detail: serde_json::Value,
    ) -> GroundTruthEvent {
        GroundTruthEvent {
            patient: user(p),
            patient_label: format!("patient-{p:04}"),
            device: Some(device(p)),
            kind,
            class: kind.class(),
            start: at(start),
            end: at(end),
            detail,
        }
    }

    /// A high alert of patient `p` from device `p` at minute `fired`.
    fn alert(p: u128, rule: &str, metric: Option<Metric>, fired: i64) -> RaisedAlert {
        RaisedAlert {
            patient: user(p),
            device: Some(device(p)),
            rule: rule.into(),
            metric,
            severity: "high".into(),
            fired_at: at(fired),
        }
    }

    fn day(patients: usize) -> Period {
        Period {
            from: at(0),
            to: at(24 * 60),
            patients,
        }
    }

    fn row(evaluation: &Evaluation, kind: EventKind) -> &KindRow {
        evaluation.rows.iter().find(|r| r.kind == kind).unwrap()
    }

    fn desaturation(p: u128, start: i64, end: i64) -> GroundTruthEvent {
        event(p, EventKind::Desaturation, start, end, json!({"spo2": 85}))
    }

    #[test]
    fn an_alert_in_the_window_detects_the_event_with_its_latency() {
        let truth = [desaturation(1, 60, 80)];
        let mut late = alert(1, "spo2_low", Some(Metric::Spo2), 61);
        late.fired_at += Duration::seconds(30);
        // The earliest detecting alert sets the latency; one within the grace still detects.
        let alerts = [late, alert(1, "news2", None, 89)];
        let e = evaluate(&truth, &alerts, day(1));
        let desat = row(&e, EventKind::Desaturation);
        assert_eq!((desat.events, desat.critical, desat.detected), (1, 1, 1));
        assert_eq!(desat.latencies_ms, [90_000]);
        assert_eq!(e.critical_latencies_ms, [90_000]);
        assert_eq!(e.false_alerts().total(), 0);
        // Past the grace, nothing detects it.
        let e = evaluate(&truth, &[alert(1, "news2", None, 91)], day(1));
        assert_eq!(row(&e, EventKind::Desaturation).detected, 0);
    }

    #[test]
    fn an_alert_from_before_the_event_does_not_detect_it() {
        let truth = [desaturation(1, 60, 80)];
        let e = evaluate(
            &truth,
            &[alert(1, "spo2_low", Some(Metric::Spo2), 59)],
            day(1),
        );
        assert_eq!(row(&e, EventKind::Desaturation).detected, 0);
        assert_eq!(e.unexplained.high, 1);
    }

    #[test]
    fn the_wrong_patient_metric_or_rule_does_not_detect() {
        let truth = [
            desaturation(1, 60, 80),
            event(
                1,
                EventKind::Tachycardia,
                100,
                110,
                json!({"heart_rate": 140}),
            ),
            event(1, EventKind::Hypoglycemia, 200, 230, json!({"glucose": 50})),
        ];
        let alerts = [
            alert(2, "spo2_low", Some(Metric::Spo2), 65),
            alert(1, "temperature_high", Some(Metric::BodyTemperature), 65),
            alert(1, "resting_hr_baseline", Some(Metric::HeartRate), 105),
            alert(1, "news2", None, 210),
        ];
        let e = evaluate(&truth, &alerts, day(2));
        assert!(e.rows.iter().all(|r| r.detected == 0), "{e:#?}");
        // Patient 2 had no event; patient 1's alerts are explained by its events.
        assert_eq!(e.unexplained.high, 1);
    }

    #[test]
    fn device_health_alerts_need_the_same_device() {
        let truth = [
            event(1, EventKind::SensorOff, 60, 80, json!({})),
            event(1, EventKind::DeviceOffline, 300, 400, json!({})),
        ];
        let mut other_device = alert(1, "sensor_fault", None, 62);
        other_device.device = Some(device(9));
        let alerts = [
            other_device,
            alert(1, "sensor_fault", None, 63),
            // Late, but within device_offline's 30 minutes of grace.
            alert(1, "device_offline", None, 425),
        ];
        let e = evaluate(&truth, &alerts, day(1));
        assert_eq!(row(&e, EventKind::SensorOff).detected, 1);
        assert_eq!(row(&e, EventKind::SensorOff).latencies_ms, [180_000]);
        assert_eq!(row(&e, EventKind::DeviceOffline).detected, 1);
        // The other device's fault is false, provoked by the patient's sensor being off.
        assert_eq!(row(&e, EventKind::SensorOff).false_alerts.high, 1);
    }

    #[test]
    fn a_false_alert_during_a_motion_artifact_is_attributed_to_it() {
        let truth = [event(
            1,
            EventKind::MotionArtifact,
            60,
            60,
            json!({"metric": "heart_rate", "value": 210}),
        )];
        let mut medium = alert(1, "heart_rate_high", Some(Metric::HeartRate), 61);
        medium.severity = "medium".into();
        let alerts = [
            medium,
            alert(1, "heart_rate_high", Some(Metric::HeartRate), 63),
        ];
        let e = evaluate(&truth, &alerts, day(1));
        let artifact = row(&e, EventKind::MotionArtifact);
        assert_eq!((artifact.events, artifact.detected), (1, 0));
        assert_eq!(
            artifact.false_alerts,
            BySeverity {
                high: 0,
                medium: 1,
                low: 0
            }
        );
        assert_eq!(e.unexplained.high, 1);
        assert_eq!(e.false_alerts().medium_high(), 2);
    }

    #[test]
    fn a_heart_rate_alert_during_a_desaturation_is_explained() {
        let truth = [desaturation(1, 60, 80)];
        let alerts = [
            alert(1, "heart_rate_high", Some(Metric::HeartRate), 85),
            // Device health is never explained by the patient's condition.
            alert(1, "low_battery", None, 70),
        ];
        let e = evaluate(&truth, &alerts, day(1));
        assert_eq!(
            e.false_alerts(),
            BySeverity {
                high: 1,
                medium: 0,
                low: 0
            }
        );
    }

    #[test]
    fn only_events_starting_in_the_period_count() {
        let truth = [
            desaturation(1, -30, 10),
            desaturation(1, 24 * 60, 24 * 60 + 5),
        ];
        // The first event, though outside, still explains the alert.
        let e = evaluate(
            &truth,
            &[alert(1, "heart_rate_high", Some(Metric::HeartRate), 5)],
            day(1),
        );
        assert!(e.rows.is_empty());
        assert_eq!(e.false_alerts().total(), 0);
    }

    #[test]
    fn critical_levels_per_kind() {
        let critical = |kind, detail| is_critical(&event(1, kind, 0, 1, detail));
        assert!(critical(EventKind::Desaturation, json!({"spo2": 88})));
        assert!(critical(
            EventKind::HypertensiveCrisis,
            json!({"systolic": 185, "diastolic": 121})
        ));
        assert!(critical(
            EventKind::Hypotension,
            json!({"systolic": 90, "diastolic": 50})
        ));
        assert!(!critical(
            EventKind::Hypotension,
            json!({"systolic": 91, "diastolic": 50})
        ));
        assert!(critical(EventKind::Hypoglycemia, json!({"glucose": 53})));
        assert!(!critical(EventKind::Hypoglycemia, json!({"glucose": 54})));
        assert!(critical(EventKind::Tachycardia, json!({"heart_rate": 131})));
        assert!(!critical(
            EventKind::Tachycardia,
            json!({"heart_rate": 130})
        ));
        assert!(critical(EventKind::Bradycardia, json!({"heart_rate": 40})));
        assert!(!critical(EventKind::Bradycardia, json!({"heart_rate": 41})));
        assert!(!critical(EventKind::Fever, json!({"temperature": 39.8})));
        assert!(!critical(EventKind::Hyperglycemia, json!({"glucose": 420})));
        assert!(!critical(
            EventKind::MotionArtifact,
            json!({"metric": "spo2", "value": 62})
        ));
    }

    #[test]
    fn latency_percentiles_use_the_nearest_rank_and_human_units() {
        // Twenty fevers, the i-th detected i minutes after it started.
        let truth: Vec<_> = (1..=20)
            .map(|i| event(i, EventKind::Fever, 0, 600, json!({"temperature": 38.5})))
            .collect();
        let alerts: Vec<_> = (1..=20)
            .map(|i| {
                alert(
                    i,
                    "temperature_high",
                    Some(Metric::BodyTemperature),
                    i as i64,
                )
            })
            .collect();
        let e = evaluate(&truth, &alerts, day(20));
        let fever = row(&e, EventKind::Fever);
        assert_eq!(percentile(&fever.latencies_ms, 50.0), Some(10 * 60_000));
        assert_eq!(percentile(&fever.latencies_ms, 95.0), Some(19 * 60_000));
        assert_eq!(
            [human(42_000), human(390_000), human(4_320_000)],
            ["42 s", "6.5 min", "1.2 h"]
        );
        let text = e.to_string();
        assert!(
            text.contains("10.0 min") && text.contains("19.0 min"),
            "{text}"
        );
    }

    #[test]
    fn goals_are_met_or_not() {
        let truth = [
            desaturation(1, 60, 80),
            event(
                1,
                EventKind::Hypotension,
                300,
                400,
                json!({"systolic": 80, "diastolic": 45}),
            ),
        ];
        let fast = [
            alert(1, "spo2_low", Some(Metric::Spo2), 60),
            alert(1, "systolic_low", Some(Metric::BloodPressure), 301),
        ];
        let e = evaluate(&truth, &fast, day(1));
        assert!(e.goals().iter().all(|g| g.met), "{e}");
        assert_eq!(e.goals()[0].achieved, "100.0 %");

        // One critical event missed, the other late, and two false high alerts in a
        // patient-day.
        let slow = [
            alert(1, "spo2_low", Some(Metric::Spo2), 62),
            alert(1, "spo2_low", Some(Metric::Spo2), 600),
            alert(1, "spo2_low", Some(Metric::Spo2), 700),
        ];
        let e = evaluate(&truth, &slow, day(1));
        let met: Vec<bool> = e.goals().iter().map(|g| g.met).collect();
        assert_eq!(met, [false, false, false]);
        let text = e.to_string();
        assert!(
            text.contains("NOT met") && text.contains("50.0 %"),
            "{text}"
        );

        // Nothing to measure is not a success.
        let e = evaluate(&[], &[], day(1));
        let goals = e.goals();
        assert!(!goals[0].met && goals[0].achieved == "—" && goals[1].met);
    }

    #[test]
    fn latency_from_the_onset_counts_from_the_first_abnormal_reading() {
        let truth = vec![desaturation(1, 100, 140), desaturation(2, 100, 140)];
        let alerts = vec![
            alert(1, "spo2_low", Some(Metric::Spo2), 110),
            alert(2, "spo2_low", Some(Metric::Spo2), 104),
        ];
        // Patient 1 first read abnormal at minute 108; patient 2's alert (a NEWS2 total,
        // say) came before any single abnormal reading: 0, not negative.
        let onsets = [
            Observation::Observed {
                onset: Some(at(108)),
            },
            Observation::Observed {
                onset: Some(at(106)),
            },
        ];
        let e = evaluate_with_onsets(&truth, &alerts, day(2), &onsets);
        assert_eq!(
            row(&e, EventKind::Desaturation).latencies_ms,
            [4 * 60_000, 10 * 60_000]
        );
        assert_eq!(
            row(&e, EventKind::Desaturation).onset_latencies_ms,
            [0, 2 * 60_000]
        );
        assert_eq!(e.critical_onset_latencies_ms, [0, 2 * 60_000]);
        let median = e
            .goals()
            .into_iter()
            .find(|g| g.name.contains("latency"))
            .unwrap();
        assert!(median.met, "{median:?}");
        // Without onsets, latency counts from the start.
        let e = evaluate(&truth, &alerts, day(2));
        assert_eq!(e.critical_onset_latencies_ms, e.critical_latencies_ms);
        let median = e
            .goals()
            .into_iter()
            .find(|g| g.name.contains("latency"))
            .unwrap();
        assert!(!median.met, "{median:?}");
    }

    #[test]
    fn onsets_follow_the_guideline_levels() {
        let abnormal = |kind, v, v2| (onset(kind).unwrap().abnormal)(v, v2);
        assert!(abnormal(EventKind::Desaturation, 93.4, None));
        assert!(!abnormal(EventKind::Desaturation, 93.6, None));
        assert!(abnormal(EventKind::HypertensiveCrisis, 150.0, Some(121.0)));
        assert!(!abnormal(EventKind::HypertensiveCrisis, 180.0, Some(120.0)));
        assert!(abnormal(EventKind::Hypoglycemia, 69.9, None));
        assert!(onset(EventKind::MotionArtifact).is_none());
        assert_eq!(
            onset(EventKind::Fever).unwrap().metric,
            Metric::BodyTemperature
        );
    }

    #[test]
    fn an_unobserved_event_is_left_out_of_the_sensitivity() {
        let truth = vec![desaturation(1, 100, 140), desaturation(2, 100, 140)];
        let alerts = vec![alert(1, "spo2_low", Some(Metric::Spo2), 110)];
        let observations = [
            Observation::Observed { onset: None },
            Observation::Unobserved,
        ];
        let e = evaluate_with_onsets(&truth, &alerts, day(2), &observations);
        let row = row(&e, EventKind::Desaturation);
        assert_eq!((row.events, row.unobserved, row.critical), (2, 1, 1));
        assert_eq!(e.critical_sensitivity(), Some(100.0));
        assert!(e.to_string().contains("2 (1 unobs.)"), "{e}");
    }
}
