//! Deviation from the patient's own baseline: the resting heart rate of each day (the median
//! of a smartwatch's heart rate while the wearer is not active) against the previous days'
//! (28 by default), in the spirit of Mishra et al., "Pre-symptomatic detection of COVID-19
//! from smartwatch data" (Nature Biomedical Engineering, 2020). A day is judged when it ends.

use std::collections::VecDeque;

use chrono::{DateTime, Duration, NaiveDate, Utc};
use healthsync_core::catalog::Metric;
use healthsync_core::ids::UserId;
use ndarray::Array1;
use serde::Serialize;
use serde_json::json;

use crate::alert::{AlertDraft, Severity};
use crate::rules::BaselineRule;

/// A day needs an hour of resting readings (at a smartwatch's 5 s) to have a value.
const MIN_SAMPLES: usize = 720;
/// However steady a baseline, a day is not unusual for less than this (/min).
const MIN_SD: f64 = 1.0;
pub const KEY: &str = "resting_hr_baseline";

#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct DailyValue {
    pub day: NaiveDate,
    pub value: f64,
    pub samples: u32,
}

#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Baseline {
    pub mean: f64,
    pub sd: f64,
    pub days: usize,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Change {
    /// The day was above the baseline.
    Rise(Baseline),
    /// An elevated resting heart rate came back towards the baseline.
    Normal,
}

#[derive(Clone, Debug, PartialEq)]
pub struct DayOutcome {
    pub day: DailyValue,
    pub change: Option<Change>,
}

#[derive(Clone, Debug, Default)]
pub struct RestingHeartRate {
    current: Option<(NaiveDate, Vec<f64>)>,
    history: VecDeque<DailyValue>,
    elevated: bool,
}

impl RestingHeartRate {
    pub fn restore(&mut self, day: DailyValue, keep: usize) {
        let at = self.history.partition_point(|d| d.day < day.day);
        if self.history.get(at).is_some_and(|d| d.day == day.day) {
            return;
        }
        self.history.insert(at, day);
        while self.history.len() > keep {
            self.history.pop_front();
        }
    }

    /// Adds a continuous heart-rate reading; returns the outcome of a day that ended.
    pub fn add(
        &mut self,
        t: DateTime<Utc>,
        value: f64,
        active: bool,
        rule: &BaselineRule,
    ) -> Option<DayOutcome> {
        let day = t.date_naive();
        let mut outcome = None;
        match &mut self.current {
            Some((current, _)) if *current > day => return None,
            Some((current, values)) if *current < day => {
                let (ended, values) = (*current, std::mem::take(values));
                outcome = self.close(ended, values, rule);
                self.current = Some((day, Vec::new()));
            }
            Some(_) => {}
            None => self.current = Some((day, Vec::new())),
        }
        if !active && let Some((_, values)) = &mut self.current {
            values.push(value);
        }
        outcome
    }

    fn close(
        &mut self,
        day: NaiveDate,
        mut values: Vec<f64>,
        rule: &BaselineRule,
    ) -> Option<DayOutcome> {
        if values.len() < MIN_SAMPLES {
            return None;
        }
        values.sort_by(f64::total_cmp);
        let daily = DailyValue {
            day,
            value: values[values.len() / 2],
            samples: values.len() as u32,
        };
        let change = if rule.enabled {
            self.judge(&daily, rule)
        } else {
            None
        };
        self.restore(daily, rule.days);
        Some(DayOutcome { day: daily, change })
    }

    fn judge(&mut self, day: &DailyValue, rule: &BaselineRule) -> Option<Change> {
        let previous: Array1<f64> = self
            .history
            .iter()
            .filter(|d| d.day < day.day && (day.day - d.day).num_days() <= rule.days as i64)
            .map(|d| d.value)
            .collect();
        if previous.len() < rule.min_days {
            return None;
        }
        let mean = previous.mean()?;
        let sd = previous.std(1.0).max(MIN_SD);
        let rise = day.value - mean;
        let baseline = Baseline {
            mean,
            sd,
            days: previous.len(),
        };
        if rise >= (rule.z * sd).max(rule.min_rise) {
            self.elevated = true;
            Some(Change::Rise(baseline))
        } else if self.elevated && rise < ((rule.z - 1.0) * sd).max(rule.min_rise / 2.0) {
            self.elevated = false;
            Some(Change::Normal)
        } else {
            None
        }
    }
}

pub fn draft(
    patient: UserId,
    day: &DailyValue,
    baseline: &Baseline,
    rule: &BaselineRule,
) -> AlertDraft {
    let start = day
        .day
        .and_hms_opt(0, 0, 0)
        .expect("midnight exists")
        .and_utc();
    AlertDraft {
        patient,
        device: None,
        key: KEY.to_string(),
        rule: KEY,
        metric: Some(Metric::HeartRate),
        severity: Severity::Low,
        title: "Resting heart rate above baseline".into(),
        message: format!(
            "Resting heart rate {:.0} /min on {}, {:.0} above the {}-day baseline of {:.0} /min",
            day.value,
            day.day,
            day.value - baseline.mean,
            baseline.days,
            baseline.mean
        ),
        started_at: start,
        triggered_at: start + Duration::days(1),
        evidence: json!({"day": day, "baseline": baseline, "rule": rule}),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::RuleSet;

    fn rule() -> BaselineRule {
        RuleSet::default().baseline
    }

    /// Feeds a whole day of resting readings at `value` (+-0.5 alternating).
    fn day(hr: &mut RestingHeartRate, day: i64, value: f64) -> Option<DayOutcome> {
        let start = DateTime::from_timestamp(1_800_000_000 - 1_800_000_000 % 86_400, 0).unwrap()
            + Duration::days(day);
        let mut outcome = None;
        for i in 0..800 {
            let v = value + if i % 2 == 0 { 0.5 } else { -0.5 };
            let t = start + Duration::seconds(i * 60);
            outcome = outcome.or(hr.add(t, v, false, &rule()));
        }
        outcome
    }

    fn days(values: &[f64]) -> (RestingHeartRate, Vec<Option<Change>>) {
        let mut hr = RestingHeartRate::default();
        let mut changes = Vec::new();
        for (i, &v) in values.iter().enumerate() {
            if let Some(outcome) = day(&mut hr, i as i64, v) {
                changes.push(outcome.change);
            }
        }
        (hr, changes)
    }

    #[test]
    fn a_day_well_above_the_previous_weeks_fires_and_an_ordinary_one_does_not() {
        let mut values = vec![60.0, 61.0, 59.0, 60.0, 62.0, 60.0, 61.0, 60.0, 59.0, 61.0];
        values.push(62.0); // ordinary
        values.push(70.0); // +9.5
        values.push(73.0); // still up
        values.push(61.0); // back
        values.push(0.0); // closes the day before
        let (_, changes) = days(&values);
        // Day 0 closes when day 1 starts: one outcome per day but the last.
        assert_eq!(changes.len(), values.len() - 1);
        assert!(changes[..11].iter().all(Option::is_none), "{changes:?}");
        assert!(matches!(changes[11], Some(Change::Rise(b)) if (b.mean - 61.0).abs() < 0.1));
        assert!(matches!(changes[12], Some(Change::Rise(_))));
        assert_eq!(changes[13], Some(Change::Normal));
    }

    #[test]
    fn no_judgement_without_enough_days_of_baseline() {
        let (_, changes) = days(&[60.0, 60.0, 60.0, 80.0, 80.0, 0.0]);
        assert!(changes.iter().all(Option::is_none), "{changes:?}");
    }

    #[test]
    fn active_readings_and_short_days_do_not_count() {
        let mut hr = RestingHeartRate::default();
        let start = DateTime::from_timestamp(1_800_000_000, 0).unwrap();
        for i in 0..2_000 {
            // Active all day: no resting readings.
            assert_eq!(
                hr.add(start + Duration::seconds(i * 30), 120.0, true, &rule()),
                None
            );
        }
        let next_day = start + Duration::days(1);
        assert_eq!(
            hr.add(next_day, 60.0, false, &rule()),
            None,
            "the active day has no value"
        );
    }

    #[test]
    fn restored_days_form_the_baseline_after_a_restart() {
        let mut hr = RestingHeartRate::default();
        let first = DateTime::from_timestamp(1_800_000_000 - 1_800_000_000 % 86_400, 0).unwrap();
        for d in 0..10 {
            let value = DailyValue {
                day: (first + Duration::days(d)).date_naive(),
                value: 60.0,
                samples: 1000,
            };
            hr.restore(value, 28);
            hr.restore(value, 28);
        }
        assert_eq!(
            hr.history.len(),
            10,
            "restoring twice keeps one value a day"
        );
        day(&mut hr, 10, 75.0);
        let outcome = day(&mut hr, 11, 60.0).unwrap();
        assert_eq!(outcome.day.value, 75.5);
        assert!(matches!(outcome.change, Some(Change::Rise(b)) if b.days == 10));
    }
}
