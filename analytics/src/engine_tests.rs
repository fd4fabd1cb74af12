//! The detectors on hand-made series: each fires when it should, stays quiet when it
//! should, and the alarm-fatigue controls (persistence, hysteresis, no duplicates, artifact
//! suppression, rate limit) hold.

use chrono::{DateTime, Utc};
use healthsync_core::catalog::Metric;
use healthsync_core::devices::DeviceKind;
use healthsync_core::ids::{DeviceId, UserId};
use healthsync_core::status::{StatusKind, StatusReport};
use healthsync_core::telemetry::Reading;

use super::*;
use crate::alert::Severity;
use crate::rules::{Overrides, RuleSet};

const WATCH: DeviceId = DeviceId(uuid::Uuid::from_u128(1));
const OXIMETER: DeviceId = DeviceId(uuid::Uuid::from_u128(2));
const CUFF: DeviceId = DeviceId(uuid::Uuid::from_u128(3));
const THERMOMETER: DeviceId = DeviceId(uuid::Uuid::from_u128(4));
const CGM: DeviceId = DeviceId(uuid::Uuid::from_u128(5));
const PATIENT: UserId = UserId(uuid::Uuid::from_u128(100));

fn source(device: DeviceId) -> Source {
    let kind = match device {
        WATCH => DeviceKind::Smartwatch,
        OXIMETER => DeviceKind::PulseOximeter,
        CUFF => DeviceKind::BpMonitor,
        THERMOMETER => DeviceKind::Thermometer,
        _ => DeviceKind::Glucometer,
    };
    Source {
        device,
        kind,
        patient: PATIENT,
    }
}

fn at(seconds: i64) -> DateTime<Utc> {
    DateTime::from_timestamp(1_800_000_000 + seconds, 0).unwrap()
}

fn reading(metric: Metric, seconds: i64, value: f64) -> Reading {
    Reading {
        metric,
        measured_at: at(seconds),
        value,
        value2: None,
    }
}

/// Feeds one reading at a time, as small batches arrive; returns every signal.
fn feed(engine: &mut Engine, device: DeviceId, readings: &[Reading]) -> Vec<Signal> {
    readings
        .iter()
        .flat_map(|r| engine.observe(r.measured_at, &[(source(device), *r)]))
        .collect()
}

/// `values` sampled every `step` seconds from `from`.
fn series(metric: Metric, from: i64, step: i64, values: &[f64]) -> Vec<Reading> {
    values
        .iter()
        .enumerate()
        .map(|(i, &v)| reading(metric, from + step * i as i64, v))
        .collect()
}

fn raised(signals: &[Signal]) -> Vec<&AlertDraft> {
    signals
        .iter()
        .filter_map(|s| match s {
            Signal::Raise(d) => Some(d),
            _ => None,
        })
        .collect()
}

fn keys(signals: &[Signal]) -> Vec<String> {
    signals
        .iter()
        .map(|s| match s {
            Signal::Raise(d) => format!("raise {} {}", d.key, d.severity.as_str()),
            Signal::Recur(d) => format!("recur {} {}", d.key, d.severity.as_str()),
            Signal::Clear { key, resolve, .. } => format!("clear {key} resolve={resolve}"),
        })
        .collect()
}

fn engine() -> Engine {
    Engine::new(RuleSet::default())
}

#[test]
fn a_desaturation_fires_one_high_alert_with_its_evidence_and_clears_with_hysteresis() {
    let mut e = engine();
    let mut values = vec![97.0, 97.0, 96.0, 93.0, 90.0, 88.0, 87.0, 87.0, 88.0, 87.0];
    // Still low for a while: no second alert.
    values.extend([86.0; 10]);
    // Back to 94 (borderline: within the clear margin of 93): holds.
    values.extend([94.0; 5]);
    // Back to normal: clears after three readings and two minutes.
    values.extend([97.0; 4]);
    let signals = feed(&mut e, WATCH, &series(Metric::Spo2, 0, 60, &values));
    // One alert: medium as the saturation passed 93, upgraded to high once below 91 for
    // long enough; then the condition cleared (the alert stays for a clinician to resolve).
    assert_eq!(
        keys(&signals),
        [
            "raise spo2_low medium",
            "recur spo2_low high",
            "clear spo2_low resolve=false"
        ],
    );
    let alert = raised(&signals)[0];
    // At or below 93 from 3 min; held for 2 min and 3 readings.
    assert_eq!(alert.started_at, at(3 * 60));
    assert_eq!(alert.triggered_at, at(5 * 60));
    assert_eq!(alert.metric, Some(Metric::Spo2));
    let readings = alert.evidence["readings"].as_array().unwrap();
    let values: Vec<f64> = readings
        .iter()
        .map(|r| r["value"].as_f64().unwrap())
        .collect();
    assert_eq!(values, [93.0, 90.0, 88.0]);
    let Signal::Recur(upgrade) = &signals[1] else {
        panic!("expected the upgrade");
    };
    assert_eq!(upgrade.severity, Severity::High);
    assert_eq!(upgrade.triggered_at, at(8 * 60));
    assert_eq!(alert.evidence["rule"]["name"], "spo2_low");
}

#[test]
fn a_dip_shorter_than_the_persistence_does_not_fire() {
    let mut e = engine();
    let values = [97.0, 89.0, 88.0, 97.0, 96.0, 89.0, 97.0];
    assert!(feed(&mut e, WATCH, &series(Metric::Spo2, 0, 60, &values)).is_empty());
}

#[test]
fn a_spot_check_fires_at_once() {
    let mut e = engine();
    let signals = feed(&mut e, OXIMETER, &[reading(Metric::Spo2, 0, 86.0)]);
    assert_eq!(keys(&signals), ["raise spo2_low high"]);
}

#[test]
fn motion_artifacts_are_suppressed() {
    let mut e = engine();
    let mut values = vec![72.0; 20];
    // A wrist flick: two samples far off, then back.
    values.extend([221.0, 236.0]);
    values.extend([73.0; 20]);
    values.extend([228.0]);
    values.extend([72.0; 5]);
    assert!(feed(&mut e, WATCH, &series(Metric::HeartRate, 0, 5, &values)).is_empty());
    assert_eq!(e.suppressed().0, 3);
    // The SpO2 the same flick shows, once: neither an alert nor a NEWS2 input.
    let spo2 = series(Metric::Spo2, 0, 60, &[97.0, 97.0, 97.0, 71.0, 97.0, 97.0]);
    assert!(feed(&mut e, WATCH, &spo2).is_empty());
    assert_eq!(e.suppressed().0, 4);
}

#[test]
fn a_fast_heart_at_rest_fires_but_exercise_does_not() {
    // At rest: 70 rising to 140 over a minute, then holding.
    let mut e = engine();
    let mut values: Vec<f64> = (0..12).map(|i| 70.0 + 70.0 * f64::from(i) / 12.0).collect();
    values.extend([140.0; 12]);
    let signals = feed(&mut e, WATCH, &series(Metric::HeartRate, 0, 5, &values));
    assert_eq!(
        keys(&signals),
        ["raise heart_rate_high medium", "recur heart_rate_high high"]
    );

    // Walking briskly: steps every minute, heart rate 138 for ten minutes.
    let mut e = engine();
    let steps = series(Metric::Steps, 0, 60, &[110.0; 11]);
    let mut signals = Vec::new();
    for minute in 0..10 {
        signals.extend(feed(&mut e, WATCH, &steps[minute..=minute]));
        let hr = series(Metric::HeartRate, minute as i64 * 60 + 1, 5, &[138.0; 12]);
        signals.extend(feed(&mut e, WATCH, &hr));
    }
    assert!(signals.is_empty(), "{:?}", keys(&signals));
    // Even exercising, 165 for a minute is too fast.
    let hr = series(Metric::HeartRate, 601, 5, &[165.0; 12]);
    signals.extend(feed(&mut e, WATCH, &steps[10..]));
    signals.extend(feed(&mut e, WATCH, &hr));
    assert_eq!(keys(&signals), ["raise heart_rate_high high"]);
}

#[test]
fn an_unresolved_alert_is_not_duplicated_and_a_resolved_one_can_fire_again() {
    let mut e = engine();
    e.restore_open(PATIENT, "spo2_low".into());
    let low = series(Metric::Spo2, 0, 60, &[89.0; 3]);
    assert_eq!(keys(&feed(&mut e, WATCH, &low)), ["recur spo2_low high"]);
    let normal = series(Metric::Spo2, 180, 60, &[97.0; 3]);
    assert_eq!(
        keys(&feed(&mut e, WATCH, &normal)),
        ["clear spo2_low resolve=false"]
    );
    e.resolved(PATIENT, "spo2_low");
    let low = series(Metric::Spo2, 360, 60, &[89.0; 3]);
    assert_eq!(keys(&feed(&mut e, WATCH, &low)), ["raise spo2_low high"]);
}

#[test]
fn a_worsening_condition_upgrades_its_alert() {
    let mut e = engine();
    let values = [93.0, 93.0, 93.0, 91.0, 90.0, 90.0];
    let signals = feed(&mut e, WATCH, &series(Metric::Spo2, 0, 60, &values));
    assert_eq!(
        keys(&signals),
        ["raise spo2_low medium", "recur spo2_low high"]
    );
}

#[test]
fn the_rate_limit_holds_back_medium_and_low_alerts_but_never_high_ones() {
    let mut e = engine();
    let mut signals = Vec::new();
    // Seven different devices each reporting a fault within the hour: low alerts.
    for i in 0..7 {
        let device = DeviceId(uuid::Uuid::from_u128(1000 + i));
        let report = StatusReport {
            t: at(i as i64 * 60),
            kind: StatusKind::SensorFault,
            message: None,
            battery: None,
        };
        signals.extend(e.status(source(device), &report));
    }
    assert_eq!(raised(&signals).len(), 6);
    assert_eq!(e.suppressed().1, 1);
    let high = feed(&mut e, OXIMETER, &[reading(Metric::Spo2, 600, 85.0)]);
    assert_eq!(keys(&high), ["raise spo2_low high"]);
    // An hour later there is room again.
    let report = StatusReport {
        t: at(2 * 3600),
        kind: StatusKind::LowBattery,
        message: None,
        battery: Some(0.1),
    };
    assert_eq!(raised(&e.status(source(WATCH), &report)).len(), 1);
}

#[test]
fn news2_scores_the_latest_vitals_and_fires_at_five() {
    let mut e = engine();
    // The RCP chart: RR 22 (2), SpO2 95 (1), systolic 105 (1), HR 105 (1), 38.5 °C (1).
    let oximeter = [
        reading(Metric::RespiratoryRate, 0, 22.0),
        reading(Metric::Spo2, 0, 95.0),
        reading(Metric::HeartRate, 0, 105.0),
    ];
    let batch: Vec<_> = oximeter.iter().map(|r| (source(OXIMETER), *r)).collect();
    assert!(e.observe(at(0), &batch).is_empty(), "3 parameters, total 4");
    let cuff = Reading {
        value2: Some(70.0),
        ..reading(Metric::BloodPressure, 60, 105.0)
    };
    let signals = e.observe(
        at(90),
        &[
            (source(CUFF), cuff),
            (
                source(THERMOMETER),
                reading(Metric::BodyTemperature, 90, 38.5),
            ),
        ],
    );
    assert_eq!(
        keys(&signals),
        ["raise temperature_high low", "raise news2 medium"]
    );
    let alert = raised(&signals)[1];
    assert_eq!(alert.evidence["score"]["total"], 6);
    assert_eq!(alert.metric, None);
}

#[test]
fn news2_needs_three_parameters() {
    let mut e = engine();
    // HR 135 (3) and SpO2 91 (3) from a spot check, nothing else: the parameter rules fire,
    // NEWS2 does not.
    let batch = [
        (source(OXIMETER), reading(Metric::HeartRate, 0, 135.0)),
        (source(OXIMETER), reading(Metric::Spo2, 0, 91.0)),
    ];
    let signals = e.observe(at(0), &batch);
    assert_eq!(
        keys(&signals),
        ["raise heart_rate_high high", "raise spo2_low high"]
    );
}

#[test]
fn a_wrist_temperature_is_not_a_fever() {
    let mut e = engine();
    let hot = series(Metric::BodyTemperature, 0, 60, &[39.5; 10]);
    assert!(feed(&mut e, WATCH, &hot).is_empty());
    let signals = feed(
        &mut e,
        THERMOMETER,
        &[reading(Metric::BodyTemperature, 700, 39.5)],
    );
    assert_eq!(keys(&signals), ["raise temperature_high medium"]);
}

#[test]
fn hypertensive_crisis_from_either_pressure() {
    let mut e = engine();
    let cuff = |s, sys, dia| Reading {
        value2: Some(dia),
        ..reading(Metric::BloodPressure, s, sys)
    };
    assert!(feed(&mut e, CUFF, &[cuff(0, 178.0, 118.0)]).is_empty());
    let signals = feed(&mut e, CUFF, &[cuff(900, 172.0, 124.0)]);
    assert_eq!(keys(&signals), ["raise hypertensive_crisis high"]);
}

#[test]
fn glucose_falling_fast_warns_before_the_low() {
    let mut e = engine();
    // A CGM every 5 minutes: 160 falling 3 mg/dL a minute.
    let values = [160.0, 145.0, 130.0, 115.0, 100.0, 85.0, 70.0, 62.0];
    let signals = feed(&mut e, CGM, &series(Metric::BloodGlucose, 0, 300, &values));
    assert_eq!(
        keys(&signals),
        ["raise glucose_falling medium", "raise glucose_low medium"]
    );
    // Raised at 130, the third reading: -3 mg/dL/min, 70 projected 20 minutes ahead.
    assert_eq!(raised(&signals)[0].triggered_at, at(600));
}

#[test]
fn sensor_faults_raise_a_low_alert_and_mute_the_device_until_it_recovers() {
    let mut e = engine();
    let report = |s, kind| StatusReport {
        t: at(s),
        kind,
        message: Some("off the wrist".into()),
        battery: None,
    };
    let fault = e.status(source(WATCH), &report(0, StatusKind::SensorFault));
    assert_eq!(keys(&fault), [format!("raise sensor_fault:{WATCH} low")]);
    // What it sends meanwhile is not believed.
    let junk = series(Metric::HeartRate, 10, 5, &[32.0; 30]);
    assert!(feed(&mut e, WATCH, &junk).is_empty());
    let ok = e.status(source(WATCH), &report(400, StatusKind::SensorOk));
    assert_eq!(
        keys(&ok),
        [format!("clear sensor_fault:{WATCH} resolve=true")]
    );
}

#[test]
fn a_regular_device_that_falls_silent_is_offline_until_it_sends_again() {
    let mut e = engine();
    feed(
        &mut e,
        WATCH,
        &series(Metric::HeartRate, 0, 5, &[70.0; 120]),
    );
    let last = 595;
    // The cuff keeps sending: the data goes on while the watch is silent.
    let cuff_until = |seconds: i64| {
        (0..=seconds / 60)
            .map(|i| reading(Metric::HeartRate, last + i * 60, 70.0))
            .collect::<Vec<_>>()
    };
    feed(&mut e, CUFF, &cuff_until(14 * 60));
    assert!(e.tick(at(last + 14 * 60)).is_empty(), "not yet: 15 minutes");
    assert!(
        e.tick(at(last + 16 * 60)).is_empty(),
        "nothing newer arrived from anyone: the pipeline may be stalled"
    );
    feed(&mut e, CUFF, &cuff_until(16 * 60)[15..]);
    let offline = e.tick(at(last + 16 * 60));
    assert_eq!(
        keys(&offline),
        [format!("raise device_offline:{WATCH} low")]
    );
    feed(&mut e, CUFF, &cuff_until(30 * 60)[17..]);
    assert!(e.tick(at(last + 30 * 60)).is_empty(), "raised once");
    // Its backlog arrives: online again.
    let back = feed(&mut e, WATCH, &[reading(Metric::HeartRate, last + 5, 70.0)]);
    assert_eq!(
        keys(&back),
        [format!("clear device_offline:{WATCH} resolve=true")]
    );
    // A backfill (readings arriving hours after they were measured) says nothing about now.
    let mut e = engine();
    let old: Vec<_> = series(Metric::HeartRate, 0, 5, &[70.0; 120])
        .into_iter()
        .map(|r| e.observe(at(6 * 3600), &[(source(WATCH), r)]))
        .collect();
    assert!(old.iter().all(Vec::is_empty));
    assert!(e.tick(at(6 * 3600 + 60)).is_empty());
    // A spot-check device is silent by design.
    feed(&mut e, CUFF, &[reading(Metric::HeartRate, 0, 70.0)]);
    feed(&mut e, CUFF, &[reading(Metric::HeartRate, 12 * 3600, 70.0)]);
    assert!(
        e.tick(at(20 * 3600))
            .iter()
            .all(|s| !matches!(s, Signal::Raise(d) if d.device == Some(CUFF)))
    );
}

#[test]
fn a_low_battery_ends_when_the_device_reports_it_charged() {
    let mut e = engine();
    let report = |s, kind, battery| StatusReport {
        t: at(s),
        kind,
        message: None,
        battery: Some(battery),
    };
    let low = e.status(source(WATCH), &report(0, StatusKind::LowBattery, 0.1));
    assert_eq!(keys(&low), [format!("raise low_battery:{WATCH} low")]);
    let still = e.status(source(WATCH), &report(60, StatusKind::SensorOk, 0.2));
    assert!(keys(&still).iter().all(|k| !k.contains("low_battery")));
    let charged = e.status(source(WATCH), &report(7200, StatusKind::SensorOk, 0.9));
    assert_eq!(
        keys(&charged),
        [format!("clear low_battery:{WATCH} resolve=true")]
    );
}

#[test]
fn a_clinicians_override_changes_what_fires_for_that_patient_only() {
    let mut e = engine();
    let copd: Overrides = serde_json::from_value(serde_json::json!({
        "thresholds": {"spo2_low": {"high": 85, "medium": 87}},
        "spo2_scale": "two"
    }))
    .unwrap();
    e.set_rules(PATIENT, copd.apply(&RuleSet::default()).unwrap());
    assert!(feed(&mut e, OXIMETER, &[reading(Metric::Spo2, 0, 89.0)]).is_empty());
    let signals = feed(&mut e, OXIMETER, &[reading(Metric::Spo2, 900, 86.0)]);
    assert_eq!(keys(&signals), ["raise spo2_low medium"]);
    let other = Source {
        patient: UserId(uuid::Uuid::from_u128(101)),
        ..source(OXIMETER)
    };
    let signals = e.observe(at(0), &[(other, reading(Metric::Spo2, 0, 89.0))]);
    assert_eq!(keys(&signals), ["raise spo2_low high"]);
}

#[test]
fn resting_heart_rate_above_the_patients_own_baseline() {
    let mut e = engine();
    let day = |d: i64| 86_400 * d - 1_800_000_000 % 86_400;
    let mut signals = Vec::new();
    for d in 0..9 {
        let hr = if d < 8 { 60.0 } else { 72.0 };
        // 70 minutes of resting readings a day.
        signals.extend(feed(
            &mut e,
            WATCH,
            &series(Metric::HeartRate, day(d), 5, &[hr; 840]),
        ));
    }
    signals.extend(feed(
        &mut e,
        WATCH,
        &[reading(Metric::HeartRate, day(9), 60.0)],
    ));
    assert_eq!(keys(&signals), ["raise resting_hr_baseline low"]);
    assert_eq!(e.take_finished_days().len(), 9);
}

#[test]
fn a_reading_from_the_future_is_not_believed() {
    let mut e = engine();
    // A watch whose clock runs three hours ahead reports a desaturation "at" 03:00 when the
    // engine's clock says midnight.
    let ahead: Vec<_> = series(Metric::Spo2, 3 * 3600, 60, &[85.0; 5])
        .into_iter()
        .flat_map(|r| {
            e.observe(
                at(r.measured_at.timestamp() - 1_800_000_000 - 3 * 3600),
                &[(source(WATCH), r)],
            )
        })
        .collect();
    assert!(ahead.is_empty());
    assert_eq!(e.from_the_future(), 5);
    // Its clock set right, its true readings count from their own time.
    let signals = feed(&mut e, WATCH, &series(Metric::Spo2, 600, 60, &[85.0; 3]));
    assert_eq!(keys(&signals), ["raise spo2_low high"]);
    assert_eq!(raised(&signals)[0].triggered_at, at(720));
}
