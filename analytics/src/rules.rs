//! The alert rules: their defaults from clinical guidance, and the per-patient overrides a
//! patient's clinicians may set (stored as JSON in `alert_rules`, validated here).
//!
//! Threshold defaults:
//! - heart rate, respiratory rate, SpO2, temperature and systolic pressure: the NEWS2 chart's
//!   bands (Royal College of Physicians, 2017): a parameter scoring 3 raises a high alert, 2
//!   a medium one (only where a home reading scoring 2 is worth a clinician's attention on
//!   its own: heart rate at rest, SpO2, fever); scores of 1 only count in the NEWS2 total;
//! - hypertensive crisis: systolic > 180 or diastolic > 120 mm[Hg] (ACC/AHA 2017);
//! - glucose: level 1 < 70 and level 2 < 54 mg/dL, high > 250 (ADA Standards of Care);
//! - NEWS2 aggregate: 5–6 medium (urgent response), 7 or more high (emergency response).
//!
//! Values are rounded to the chart's precision (whole numbers; temperature to 0.1 °C) before
//! they are compared, so `≤ 53` means "< 54 mg/dL" as ADA writes it.

use std::collections::BTreeMap;

use healthsync_core::catalog::Metric;
use serde::{Deserialize, Deserializer, Serialize};

use crate::alert::Severity;
use crate::condition::{Confirm, Level, Persistence};
use crate::news2::Spo2Scale;

/// What a threshold rule looks at.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Vital {
    HeartRate,
    RespiratoryRate,
    Spo2,
    /// Core body temperature: wrist (skin) temperature from smartwatches is not one.
    CoreTemperature,
    /// Systolic pressure, and diastolic where the rule has `levels2`.
    BloodPressure,
    Glucose,
}

impl Vital {
    pub fn metric(self) -> Metric {
        match self {
            Vital::HeartRate => Metric::HeartRate,
            Vital::RespiratoryRate => Metric::RespiratoryRate,
            Vital::Spo2 => Metric::Spo2,
            Vital::CoreTemperature => Metric::BodyTemperature,
            Vital::BloodPressure => Metric::BloodPressure,
            Vital::Glucose => Metric::BloodGlucose,
        }
    }

    /// Rounds as the guidance's charts do.
    pub fn round(self, value: f64) -> f64 {
        match self {
            Vital::CoreTemperature => (value * 10.0).round() / 10.0,
            _ => value.round(),
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    /// Fires at or below the thresholds.
    Low,
    /// Fires at or above the thresholds.
    High,
}

/// Thresholds per severity; a missing one means that severity is not raised.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize)]
pub struct Levels {
    pub high: Option<f64>,
    pub medium: Option<f64>,
    pub low: Option<f64>,
}

impl Levels {
    fn by_severity(&self) -> [(Severity, Option<f64>); 3] {
        [
            (Severity::High, self.high),
            (Severity::Medium, self.medium),
            (Severity::Low, self.low),
        ]
    }

    fn level(&self, direction: Direction, value: f64, clear_margin: f64) -> Level {
        let reached = |threshold: f64| match direction {
            Direction::Low => value <= threshold,
            Direction::High => value >= threshold,
        };
        for (severity, threshold) in self.by_severity() {
            if threshold.is_some_and(reached) {
                return Level::Abnormal(severity);
            }
        }
        let mildest = self.by_severity().iter().rev().find_map(|(_, t)| *t);
        match mildest {
            Some(t) => {
                let clear_at = match direction {
                    Direction::Low => t + clear_margin,
                    Direction::High => t - clear_margin,
                };
                match direction {
                    Direction::Low if value < clear_at => Level::Borderline,
                    Direction::High if value > clear_at => Level::Borderline,
                    _ => Level::Normal,
                }
            }
            None => Level::Normal,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ThresholdRule {
    pub name: &'static str,
    pub vital: Vital,
    pub direction: Direction,
    pub levels: Levels,
    /// Diastolic thresholds, for blood-pressure rules.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub levels2: Option<Levels>,
    /// How far back past the mildest threshold a value must come to count as normal.
    pub clear_margin: f64,
    pub confirm: Confirm,
    pub enabled: bool,
    pub title: &'static str,
}

impl ThresholdRule {
    pub fn level(&self, value: f64, value2: Option<f64>) -> Level {
        let first = self
            .levels
            .level(self.direction, self.vital.round(value), self.clear_margin);
        let second = match (self.levels2, value2) {
            (Some(levels), Some(v2)) => {
                levels.level(self.direction, self.vital.round(v2), self.clear_margin)
            }
            _ => Level::Normal,
        };
        worse(first, second)
    }
}

fn worse(a: Level, b: Level) -> Level {
    let rank = |l: Level| match l {
        Level::Normal => 0,
        Level::Borderline => 1,
        Level::Abnormal(s) => 2 + s as u8,
    };
    if rank(b) > rank(a) { b } else { a }
}

/// The NEWS2 aggregate rule.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct News2Rule {
    pub enabled: bool,
    pub scale: Spo2Scale,
    /// The score is only computed with at least this many of the five measured parameters.
    pub min_parameters: usize,
    /// How old the latest value of a parameter may be.
    pub window_minutes: i64,
    pub medium: u8,
    pub high: u8,
}

/// Resting heart rate against the patient's own previous days (after Mishra et al., 2020).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct BaselineRule {
    pub enabled: bool,
    pub days: usize,
    pub min_days: usize,
    /// A day is above baseline by at least this many standard deviations and `min_rise`.
    pub z: f64,
    pub min_rise: f64,
}

/// A fast fall of glucose towards hypoglycaemia, from a least-squares slope.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct GlucoseTrendRule {
    pub enabled: bool,
    pub window_minutes: i64,
    pub min_samples: usize,
    /// mg/dL per minute, negative.
    pub falling_per_minute: f64,
    pub horizon_minutes: f64,
    /// Fires when the value projected `horizon_minutes` ahead is at or below this.
    pub projected_below: f64,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct DeviceRule {
    /// A regularly sending device is offline after `cadence_factor` times its usual interval,
    /// and never sooner than `offline_min_minutes`.
    pub offline_min_minutes: i64,
    pub cadence_factor: f64,
}

/// All rules as they apply to one patient.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RuleSet {
    pub thresholds: Vec<ThresholdRule>,
    /// While the wearer is active (steps in the last 10 minutes), a high heart rate is only
    /// a concern above this.
    pub exercise_heart_rate: f64,
    pub news2: News2Rule,
    pub baseline: BaselineRule,
    pub glucose_trend: GlucoseTrendRule,
    pub device: DeviceRule,
    /// New medium and low alerts per patient per hour; high alerts are never held back.
    pub max_alerts_per_hour: usize,
}

const fn persist(readings: u32, seconds: u32) -> Persistence {
    Persistence { readings, seconds }
}

const fn confirm(continuous: Persistence, spot: Persistence) -> Confirm {
    Confirm { continuous, spot }
}

fn threshold(
    name: &'static str,
    title: &'static str,
    vital: Vital,
    direction: Direction,
    levels: Levels,
    clear_margin: f64,
    confirm: Confirm,
) -> ThresholdRule {
    ThresholdRule {
        name,
        vital,
        direction,
        levels,
        levels2: None,
        clear_margin,
        confirm,
        enabled: true,
        title,
    }
}

fn high(t: f64) -> Levels {
    Levels {
        high: Some(t),
        ..Levels::default()
    }
}

impl Default for RuleSet {
    fn default() -> Self {
        use Direction::{High, Low};
        let spot = persist(1, 0);
        let thresholds = vec![
            threshold(
                "heart_rate_high",
                "High heart rate at rest",
                Vital::HeartRate,
                High,
                Levels {
                    high: Some(131.0),
                    medium: Some(111.0),
                    low: None,
                },
                10.0,
                confirm(persist(6, 30), spot),
            ),
            threshold(
                "heart_rate_low",
                "Low heart rate",
                Vital::HeartRate,
                Low,
                high(40.0),
                5.0,
                confirm(persist(6, 60), spot),
            ),
            threshold(
                "respiratory_rate_high",
                "High respiratory rate",
                Vital::RespiratoryRate,
                High,
                high(25.0),
                3.0,
                confirm(persist(3, 60), spot),
            ),
            threshold(
                "respiratory_rate_low",
                "Low respiratory rate",
                Vital::RespiratoryRate,
                Low,
                high(8.0),
                2.0,
                confirm(persist(3, 60), spot),
            ),
            threshold(
                "spo2_low",
                "Low oxygen saturation",
                Vital::Spo2,
                Low,
                Levels {
                    high: Some(91.0),
                    medium: Some(93.0),
                    low: None,
                },
                2.0,
                confirm(persist(3, 120), spot),
            ),
            threshold(
                "temperature_high",
                "Fever",
                Vital::CoreTemperature,
                High,
                Levels {
                    high: None,
                    medium: Some(39.1),
                    low: Some(38.1),
                },
                0.3,
                confirm(persist(3, 300), spot),
            ),
            threshold(
                "temperature_low",
                "Low body temperature",
                Vital::CoreTemperature,
                Low,
                high(35.0),
                0.5,
                confirm(persist(3, 300), spot),
            ),
            threshold(
                "systolic_low",
                "Low blood pressure",
                Vital::BloodPressure,
                Low,
                high(90.0),
                10.0,
                confirm(persist(2, 60), spot),
            ),
            ThresholdRule {
                levels2: Some(high(121.0)),
                ..threshold(
                    "hypertensive_crisis",
                    "Hypertensive crisis",
                    Vital::BloodPressure,
                    High,
                    high(181.0),
                    10.0,
                    confirm(persist(2, 60), spot),
                )
            },
            threshold(
                "glucose_low",
                "Low blood glucose",
                Vital::Glucose,
                Low,
                Levels {
                    high: Some(53.0),
                    medium: Some(69.0),
                    low: None,
                },
                10.0,
                confirm(persist(1, 0), spot),
            ),
            // A meal peak passes within the hour; hyperglycaemia worth a call lasts.
            threshold(
                "glucose_high",
                "High blood glucose",
                Vital::Glucose,
                High,
                Levels {
                    high: None,
                    medium: Some(251.0),
                    low: None,
                },
                20.0,
                confirm(persist(3, 7200), persist(2, 7200)),
            ),
        ];
        RuleSet {
            thresholds,
            exercise_heart_rate: 150.0,
            news2: News2Rule {
                enabled: true,
                scale: Spo2Scale::One,
                min_parameters: 3,
                window_minutes: 60,
                medium: 5,
                high: 7,
            },
            baseline: BaselineRule {
                enabled: true,
                days: 28,
                min_days: 7,
                z: 3.0,
                min_rise: 5.0,
            },
            glucose_trend: GlucoseTrendRule {
                enabled: true,
                window_minutes: 20,
                min_samples: 3,
                falling_per_minute: -2.0,
                horizon_minutes: 20.0,
                projected_below: 70.0,
            },
            device: DeviceRule {
                offline_min_minutes: 15,
                cadence_factor: 6.0,
            },
            max_alerts_per_hour: 6,
        }
    }
}

/// A patient's changes to the default rules, as their clinicians send and store them.
///
/// ```json
/// {"thresholds": {"spo2_low": {"high": 85, "medium": 87}, "respiratory_rate_high": {"enabled": false}},
///  "spo2_scale": "two"}
/// ```
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Overrides {
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub thresholds: BTreeMap<String, ThresholdOverride>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub spo2_scale: Option<Spo2Scale>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exercise_heart_rate: Option<f64>,
}

/// `null` for a level turns that severity off; a missing field keeps the default.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ThresholdOverride {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
    #[serde(
        default,
        deserialize_with = "present",
        skip_serializing_if = "Option::is_none"
    )]
    pub high: Option<Option<f64>>,
    #[serde(
        default,
        deserialize_with = "present",
        skip_serializing_if = "Option::is_none"
    )]
    pub medium: Option<Option<f64>>,
    #[serde(
        default,
        deserialize_with = "present",
        skip_serializing_if = "Option::is_none"
    )]
    pub low: Option<Option<f64>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub clear_margin: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub confirm: Option<Confirm>,
}

fn present<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Option<f64>>, D::Error> {
    Option::<f64>::deserialize(d).map(Some)
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct RuleError {
    /// Where in the overrides, e.g. `thresholds.spo2_low.high`.
    pub field: String,
    pub message: String,
}

fn invalid(field: impl Into<String>, message: impl Into<String>) -> RuleError {
    RuleError {
        field: field.into(),
        message: message.into(),
    }
}

impl Overrides {
    pub fn from_json(json: &serde_json::Value) -> Result<Overrides, RuleError> {
        serde_json::from_value(json.clone()).map_err(|e| invalid("rules", e.to_string()))
    }

    /// The defaults with these changes, or what is wrong with them. Nothing is applied
    /// unless everything is valid.
    pub fn apply(&self, defaults: &RuleSet) -> Result<RuleSet, RuleError> {
        let mut rules = defaults.clone();
        for (name, change) in &self.thresholds {
            let rule = rules
                .thresholds
                .iter_mut()
                .find(|r| r.name == name)
                .ok_or_else(|| {
                    let known: Vec<_> = defaults.thresholds.iter().map(|r| r.name).collect();
                    invalid(
                        format!("thresholds.{name}"),
                        format!("no such rule; known: {}", known.join(", ")),
                    )
                })?;
            change.apply(name, rule)?;
        }
        if let Some(scale) = self.spo2_scale {
            rules.news2.scale = scale;
        }
        if let Some(hr) = self.exercise_heart_rate {
            within_bounds("exercise_heart_rate", Metric::HeartRate, hr)?;
            rules.exercise_heart_rate = hr;
        }
        Ok(rules)
    }
}

impl ThresholdOverride {
    fn apply(&self, name: &str, rule: &mut ThresholdRule) -> Result<(), RuleError> {
        let field = |f: &str| format!("thresholds.{name}.{f}");
        if let Some(enabled) = self.enabled {
            rule.enabled = enabled;
        }
        for (f, change, slot) in [
            ("high", self.high, &mut rule.levels.high),
            ("medium", self.medium, &mut rule.levels.medium),
            ("low", self.low, &mut rule.levels.low),
        ] {
            if let Some(value) = change {
                if let Some(v) = value {
                    within_bounds(&field(f), rule.vital.metric(), v)?;
                }
                *slot = value;
            }
        }
        let order: Vec<f64> = [rule.levels.high, rule.levels.medium, rule.levels.low]
            .into_iter()
            .flatten()
            .collect();
        let ordered = order.windows(2).all(|w| match rule.direction {
            Direction::Low => w[0] <= w[1],
            Direction::High => w[0] >= w[1],
        });
        if !ordered {
            let way = match rule.direction {
                Direction::Low => "high <= medium <= low",
                Direction::High => "high >= medium >= low",
            };
            return Err(invalid(field("levels"), format!("must be ordered {way}")));
        }
        if let Some(margin) = self.clear_margin {
            if !(margin.is_finite() && margin >= 0.0) {
                return Err(invalid(field("clear_margin"), "must be a number >= 0"));
            }
            rule.clear_margin = margin;
        }
        if let Some(confirm) = self.confirm {
            for (f, p) in [("continuous", confirm.continuous), ("spot", confirm.spot)] {
                if p.readings == 0 || p.readings > 1000 || p.seconds > 86_400 {
                    return Err(invalid(
                        field(&format!("confirm.{f}")),
                        "readings must be 1 to 1000 and seconds at most 86400",
                    ));
                }
            }
            rule.confirm = confirm;
        }
        Ok(())
    }
}

fn within_bounds(field: &str, metric: Metric, value: f64) -> Result<(), RuleError> {
    let bounds = metric.spec().value;
    if value.is_finite() && (bounds.min..=bounds.max).contains(&value) {
        Ok(())
    } else {
        Err(invalid(
            field,
            format!(
                "must be a number from {} to {} {}",
                bounds.min, bounds.max, bounds.unit
            ),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn rule<'a>(rules: &'a RuleSet, name: &str) -> &'a ThresholdRule {
        rules.thresholds.iter().find(|r| r.name == name).unwrap()
    }

    #[test]
    fn default_bands_follow_the_guidance() {
        let rules = RuleSet::default();
        let hr = rule(&rules, "heart_rate_high");
        assert_eq!(hr.level(130.4, None), Level::Abnormal(Severity::Medium));
        assert_eq!(hr.level(130.6, None), Level::Abnormal(Severity::High));
        assert_eq!(hr.level(110.4, None), Level::Borderline);
        assert_eq!(hr.level(100.0, None), Level::Normal);
        let spo2 = rule(&rules, "spo2_low");
        assert_eq!(spo2.level(91.0, None), Level::Abnormal(Severity::High));
        assert_eq!(spo2.level(93.0, None), Level::Abnormal(Severity::Medium));
        assert_eq!(spo2.level(94.0, None), Level::Borderline);
        assert_eq!(spo2.level(95.0, None), Level::Normal);
        let crisis = rule(&rules, "hypertensive_crisis");
        assert_eq!(
            crisis.level(181.0, Some(90.0)),
            Level::Abnormal(Severity::High)
        );
        assert_eq!(
            crisis.level(150.0, Some(121.0)),
            Level::Abnormal(Severity::High)
        );
        assert_eq!(crisis.level(180.0, Some(120.0)), Level::Borderline);
        assert_eq!(crisis.level(140.0, Some(90.0)), Level::Normal);
        let glucose = rule(&rules, "glucose_low");
        assert_eq!(glucose.level(53.4, None), Level::Abnormal(Severity::High));
        assert_eq!(glucose.level(54.0, None), Level::Abnormal(Severity::Medium));
        assert_eq!(glucose.level(69.0, None), Level::Abnormal(Severity::Medium));
        assert_eq!(glucose.level(70.0, None), Level::Borderline);
        let fever = rule(&rules, "temperature_high");
        assert_eq!(fever.level(38.04, None), Level::Borderline);
        assert_eq!(fever.level(38.06, None), Level::Abnormal(Severity::Low));
        assert_eq!(fever.level(39.1, None), Level::Abnormal(Severity::Medium));
        assert_eq!(fever.level(37.7, None), Level::Normal);
    }

    #[test]
    fn overrides_change_only_what_they_name() {
        let defaults = RuleSet::default();
        let overrides = Overrides::from_json(&json!({
            "thresholds": {
                "spo2_low": {"high": 85, "medium": 87},
                "glucose_high": {"medium": null},
                "respiratory_rate_high": {"enabled": false}
            },
            "spo2_scale": "two"
        }))
        .unwrap();
        let rules = overrides.apply(&defaults).unwrap();
        let spo2 = rule(&rules, "spo2_low");
        assert_eq!(
            (spo2.levels.high, spo2.levels.medium),
            (Some(85.0), Some(87.0))
        );
        assert_eq!(rule(&rules, "glucose_high").levels.medium, None);
        assert_eq!(
            rule(&rules, "glucose_high").level(400.0, None),
            Level::Normal
        );
        assert!(!rule(&rules, "respiratory_rate_high").enabled);
        assert_eq!(rules.news2.scale, Spo2Scale::Two);
        assert_eq!(
            rule(&rules, "heart_rate_high"),
            rule(&defaults, "heart_rate_high")
        );
    }

    #[test]
    fn invalid_overrides_say_what_is_wrong() {
        let defaults = RuleSet::default();
        let error = |v: serde_json::Value| {
            Overrides::from_json(&v)
                .and_then(|o| o.apply(&defaults))
                .unwrap_err()
        };
        assert_eq!(
            error(json!({"thresholds": {"spo2_low": {"high": 140}}})).field,
            "thresholds.spo2_low.high"
        );
        assert_eq!(
            error(json!({"thresholds": {"spo2_low": {"high": 93, "medium": 90}}})).field,
            "thresholds.spo2_low.levels"
        );
        assert!(
            error(json!({"thresholds": {"pulse": {"high": 100}}}))
                .message
                .contains("heart_rate_high")
        );
        assert_eq!(error(json!({"colour": "red"})).field, "rules");
        assert_eq!(
            error(json!({"thresholds": {"spo2_low": {"confirm": {
                "continuous": {"readings": 0, "seconds": 0},
                "spot": {"readings": 1, "seconds": 0}}}}}))
            .field,
            "thresholds.spo2_low.confirm.continuous"
        );
    }
}
