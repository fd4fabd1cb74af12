//! The simulation's data: physiology profiles and conditions (`data/profiles.toml`), device
//! models (`data/models.toml`) and scenario event kinds (`data/scenarios.toml`). This module
//! owns parsing and validating them; the builtin files are embedded at build time, and a
//! replacement set can be loaded from TOML text with errors that name the file, the key and
//! what is wrong with it.
//!
//! Validated values use milliseconds for durations and hours for times of day: the
//! simulator computes in integer milliseconds since the Unix epoch.

use std::collections::BTreeMap;

use healthsync_core::catalog::Metric;
use rand::Rng;
use serde::Deserialize;

use crate::models::Model;
use crate::scenario::EventKind;

const PROFILES_TOML: &str = include_str!("../data/profiles.toml");
const MODELS_TOML: &str = include_str!("../data/models.toml");
const SCENARIOS_TOML: &str = include_str!("../data/scenarios.toml");

const MS_PER_DAY: i64 = 86_400_000;
/// Spot-check uploads later than this could reorder measurements across midnight.
const MAX_UPLOAD_DELAY_MS: i64 = 60_000;

#[derive(Debug, thiserror::Error)]
pub enum ProfileError {
    #[error("{file}: {source}")]
    Parse {
        file: &'static str,
        #[source]
        source: toml::de::Error,
    },
    #[error("{file}: {at}: {message}")]
    Invalid {
        file: &'static str,
        at: String,
        message: String,
    },
}

/// A closed interval `[min, max]`, drawn from uniformly.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Range {
    pub min: f64,
    pub max: f64,
}

impl Range {
    /// Always consumes exactly one draw, so adding a degenerate range to the data does not
    /// shift the random streams of whatever is drawn after it.
    pub(crate) fn sample(&self, rng: &mut impl Rng) -> f64 {
        let u: f64 = rng.r#gen();
        self.min + (self.max - self.min) * u
    }
}

/// What every patient starts from before profile and conditions.
#[derive(Clone, Debug)]
pub struct PopulationBaseline {
    pub resting_hr_unfit: f64,
    pub resting_hr_fit: f64,
    pub resting_hr_sd: f64,
    pub sleep_hr_drop: Range,
    pub spo2: Range,
    pub respiratory_rate: Range,
    pub core_temperature: Range,
    pub skin_temperature: Range,
    pub systolic: Range,
    pub diastolic: Range,
    pub bp_age_slope: f64,
    pub bp_dip: Range,
    pub fasting_glucose: Range,
    pub meal_rise: Range,
    pub glucose_peak_ms: i64,
    pub glucose_variability: f64,
}

#[derive(Clone, Debug)]
pub struct Activity {
    pub duration_ms: Range,
    pub hr_rise: Range,
    /// Steps per minute.
    pub cadence: Range,
}

#[derive(Clone, Debug)]
pub struct Activities {
    pub walk: Activity,
    pub workout: Activity,
}

#[derive(Clone, Debug)]
pub struct Condition {
    pub name: String,
    pub description: String,
    pub resting_hr: f64,
    pub systolic: f64,
    pub diastolic: f64,
    pub spo2: f64,
    pub respiratory_rate: f64,
    pub bp_dip: Option<Range>,
    pub fasting_glucose: Option<Range>,
    pub meal_rise: Option<Range>,
    pub glucose_peak_ms: Option<i64>,
    pub glucose_variability: Option<f64>,
    /// Multipliers of the scenario kinds' daily rates.
    pub event_rates: BTreeMap<EventKind, f64>,
}

#[derive(Clone, Debug)]
pub struct Profile {
    pub name: String,
    pub description: String,
    pub age: Range,
    pub fitness: Range,
    pub weight_kg: Range,
    /// Names of [`Condition`]s, in order of precedence.
    pub conditions: Vec<String>,
    /// Hours after the midnight that starts the day; past 24 means after the next midnight.
    pub bedtime_h: Range,
    /// Hours after midnight.
    pub wake_h: Range,
    /// Activity bouts per day (whole numbers).
    pub activity_bouts: (u32, u32),
    /// Share of the bouts that are workouts rather than walks.
    pub workout_share: f64,
    /// The device models a patient of this profile wears (provisioning gives one of each).
    pub devices: Vec<Model>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ModelMode {
    /// Samples every metric on its own grid and publishes batches on a fixed cadence.
    Continuous,
    /// Measures at scheduled times of day and publishes each measurement.
    Spot,
}

/// One metric a model measures.
#[derive(Clone, Debug)]
pub struct SensorSpec {
    pub metric: Metric,
    /// Zero for spot-check models, which measure on their schedule.
    pub sample_interval_ms: i64,
    pub noise_sd: f64,
    /// For the second value (diastolic pressure).
    pub noise_sd2: f64,
}

#[derive(Clone, Debug)]
pub struct ModelSpec {
    pub model: Model,
    pub mode: ModelMode,
    /// Continuous: the batch cadence. Spot: the idle check-in cadence.
    pub publish_interval_ms: i64,
    pub battery_life_ms: i64,
    pub recharge_at: f64,
    pub low_battery: f64,
    /// Spot only: scheduled measurements, hours after midnight.
    pub schedule_h: Vec<f64>,
    pub jitter_ms: i64,
    pub skip_probability: f64,
    pub recheck_interval_ms: i64,
    pub upload_delay_ms: Range,
    pub sensors: Vec<SensorSpec>,
}

impl ModelSpec {
    pub fn sensor(&self, metric: Metric) -> Option<&SensorSpec> {
        self.sensors.iter().find(|s| s.metric == metric)
    }
}

#[derive(Clone, Debug)]
pub struct ScenarioSpec {
    pub kind: EventKind,
    pub daily_rate: f64,
    pub duration_ms: Range,
    /// `[0, 0]` for kinds without a magnitude.
    pub magnitude: Range,
    pub magnitude2: Range,
    pub models: Vec<Model>,
}

/// Everything the simulation reads from data.
#[derive(Clone, Debug)]
pub struct Profiles {
    baseline: PopulationBaseline,
    activities: Activities,
    conditions: BTreeMap<String, Condition>,
    profiles: BTreeMap<String, Profile>,
    models: BTreeMap<Model, ModelSpec>,
    scenarios: BTreeMap<EventKind, ScenarioSpec>,
}

impl Profiles {
    /// The data shipped in `firmware-sim/data/`.
    pub fn builtin() -> Profiles {
        Profiles::from_toml_strs(PROFILES_TOML, MODELS_TOML, SCENARIOS_TOML)
            .expect("the builtin simulation data (firmware-sim/data/*.toml) is valid")
    }

    /// Parses and validates the three files' contents.
    pub fn from_toml_strs(
        profiles: &str,
        models: &str,
        scenarios: &str,
    ) -> Result<Profiles, ProfileError> {
        let models = parse_models(models)?;
        let scenarios = parse_scenarios(scenarios, &models)?;
        let raw: RawProfilesFile =
            toml::from_str(profiles).map_err(|source| ProfileError::Parse {
                file: PROFILES_FILE,
                source,
            })?;
        let baseline = raw.baseline.validate()?;
        let activities = Activities {
            walk: raw.activities.walk.validate("activities.walk")?,
            workout: raw.activities.workout.validate("activities.workout")?,
        };
        let mut conditions = BTreeMap::new();
        for (name, raw) in raw.conditions {
            let condition = raw.validate(&name)?;
            conditions.insert(name, condition);
        }
        let mut parsed = BTreeMap::new();
        for (name, raw) in raw.profiles {
            let profile = raw.validate(&name, &conditions, &models)?;
            parsed.insert(name, profile);
        }
        if parsed.is_empty() {
            return Err(invalid(PROFILES_FILE, "profiles", "no profiles defined"));
        }
        Ok(Profiles {
            baseline,
            activities,
            conditions,
            profiles: parsed,
            models,
            scenarios,
        })
    }

    pub fn profile(&self, name: &str) -> Option<&Profile> {
        self.profiles.get(name)
    }

    /// Every profile, by name.
    pub fn profiles(&self) -> impl Iterator<Item = &Profile> {
        self.profiles.values()
    }

    pub fn condition(&self, name: &str) -> Option<&Condition> {
        self.conditions.get(name)
    }

    pub fn model(&self, model: Model) -> Option<&ModelSpec> {
        self.models.get(&model)
    }

    pub fn scenario(&self, kind: EventKind) -> Option<&ScenarioSpec> {
        self.scenarios.get(&kind)
    }

    pub fn baseline(&self) -> &PopulationBaseline {
        &self.baseline
    }

    pub fn activities(&self) -> &Activities {
        &self.activities
    }
}

const PROFILES_FILE: &str = "profiles.toml";
const MODELS_FILE: &str = "models.toml";
const SCENARIOS_FILE: &str = "scenarios.toml";

fn invalid(file: &'static str, at: impl Into<String>, message: impl Into<String>) -> ProfileError {
    ProfileError::Invalid {
        file,
        at: at.into(),
        message: message.into(),
    }
}

fn number(file: &'static str, at: &str, v: f64, lo: f64, hi: f64) -> Result<f64, ProfileError> {
    if v.is_finite() && (lo..=hi).contains(&v) {
        Ok(v)
    } else {
        Err(invalid(file, at, format!("{v} is not within {lo}..={hi}")))
    }
}

fn range(
    file: &'static str,
    at: &str,
    raw: [f64; 2],
    lo: f64,
    hi: f64,
) -> Result<Range, ProfileError> {
    let [min, max] = raw;
    number(file, at, min, lo, hi)?;
    number(file, at, max, lo, hi)?;
    if min > max {
        return Err(invalid(
            file,
            at,
            format!("min {min} is greater than max {max}"),
        ));
    }
    Ok(Range { min, max })
}

/// `"15s"`, `"1.5h"`, `"250ms"`: milliseconds, greater than zero.
pub(crate) fn parse_duration(text: &str) -> Result<i64, String> {
    let text = text.trim();
    let split = text
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .ok_or_else(|| format!("{text:?} has no unit (ms, s, m, h or d)"))?;
    let (value, unit) = text.split_at(split);
    let value: f64 = value
        .parse()
        .map_err(|_| format!("{text:?} does not start with a number"))?;
    let scale = match unit {
        "ms" => 1.0,
        "s" => 1e3,
        "m" => 60e3,
        "h" => 3_600e3,
        "d" => 86_400e3,
        _ => {
            return Err(format!(
                "{text:?}: unknown unit {unit:?} (ms, s, m, h or d)"
            ));
        }
    };
    let ms = (value * scale).round();
    if !(ms > 0.0 && ms < 1e15) {
        return Err(format!("{text:?} must be greater than zero"));
    }
    Ok(ms as i64)
}

/// `"07:30"`: hours after midnight.
pub(crate) fn parse_time_of_day(text: &str) -> Result<f64, String> {
    let bad = || format!("{text:?} is not a time of day \"HH:MM\"");
    let (h, m) = text.split_once(':').ok_or_else(bad)?;
    let (h, m): (u32, u32) = (h.parse().map_err(|_| bad())?, m.parse().map_err(|_| bad())?);
    if h > 23 || m > 59 {
        return Err(bad());
    }
    Ok(f64::from(h) + f64::from(m) / 60.0)
}

fn duration(file: &'static str, at: &str, text: &str) -> Result<i64, ProfileError> {
    parse_duration(text).map_err(|message| invalid(file, at, message))
}

fn whole_seconds(file: &'static str, at: &str, text: &str) -> Result<i64, ProfileError> {
    let ms = duration(file, at, text)?;
    if ms % 1000 != 0 {
        return Err(invalid(
            file,
            at,
            format!("{text:?} is not a whole number of seconds"),
        ));
    }
    Ok(ms)
}

fn duration_range(file: &'static str, at: &str, raw: &[String; 2]) -> Result<Range, ProfileError> {
    let min = duration(file, at, &raw[0])? as f64;
    let max = duration(file, at, &raw[1])? as f64;
    if min > max {
        return Err(invalid(
            file,
            at,
            format!("min {:?} is longer than max {:?}", raw[0], raw[1]),
        ));
    }
    Ok(Range { min, max })
}

fn model_name(file: &'static str, at: &str, name: &str) -> Result<Model, ProfileError> {
    name.parse()
        .map_err(|e: crate::models::UnknownModel| invalid(file, at, e.to_string()))
}

fn event_kind(file: &'static str, at: &str, name: &str) -> Result<EventKind, ProfileError> {
    EventKind::from_name(name).ok_or_else(|| {
        let known: Vec<_> = EventKind::ALL.iter().map(|k| k.as_str()).collect();
        invalid(
            file,
            at,
            format!("unknown event kind {name:?}; known: {}", known.join(", ")),
        )
    })
}

// --- profiles.toml

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawProfilesFile {
    baseline: RawBaseline,
    activities: RawActivities,
    #[serde(default)]
    conditions: BTreeMap<String, RawCondition>,
    #[serde(default)]
    profiles: BTreeMap<String, RawProfile>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawBaseline {
    resting_hr_unfit: f64,
    resting_hr_fit: f64,
    resting_hr_sd: f64,
    sleep_hr_drop: [f64; 2],
    spo2: [f64; 2],
    respiratory_rate: [f64; 2],
    core_temperature: [f64; 2],
    skin_temperature: [f64; 2],
    systolic: [f64; 2],
    diastolic: [f64; 2],
    bp_age_slope: f64,
    bp_dip: [f64; 2],
    fasting_glucose: [f64; 2],
    meal_rise: [f64; 2],
    glucose_peak: String,
    glucose_variability: f64,
}

impl RawBaseline {
    fn validate(self) -> Result<PopulationBaseline, ProfileError> {
        let f = PROFILES_FILE;
        Ok(PopulationBaseline {
            resting_hr_unfit: number(
                f,
                "baseline.resting_hr_unfit",
                self.resting_hr_unfit,
                30.0,
                120.0,
            )?,
            resting_hr_fit: number(
                f,
                "baseline.resting_hr_fit",
                self.resting_hr_fit,
                30.0,
                120.0,
            )?,
            resting_hr_sd: number(f, "baseline.resting_hr_sd", self.resting_hr_sd, 0.0, 20.0)?,
            sleep_hr_drop: range(f, "baseline.sleep_hr_drop", self.sleep_hr_drop, 0.0, 30.0)?,
            spo2: range(f, "baseline.spo2", self.spo2, 80.0, 100.0)?,
            respiratory_rate: range(
                f,
                "baseline.respiratory_rate",
                self.respiratory_rate,
                4.0,
                40.0,
            )?,
            core_temperature: range(
                f,
                "baseline.core_temperature",
                self.core_temperature,
                35.0,
                38.0,
            )?,
            skin_temperature: range(
                f,
                "baseline.skin_temperature",
                self.skin_temperature,
                28.0,
                37.0,
            )?,
            systolic: range(f, "baseline.systolic", self.systolic, 70.0, 200.0)?,
            diastolic: range(f, "baseline.diastolic", self.diastolic, 40.0, 120.0)?,
            bp_age_slope: number(f, "baseline.bp_age_slope", self.bp_age_slope, 0.0, 3.0)?,
            bp_dip: range(f, "baseline.bp_dip", self.bp_dip, 0.0, 0.4)?,
            fasting_glucose: range(
                f,
                "baseline.fasting_glucose",
                self.fasting_glucose,
                60.0,
                300.0,
            )?,
            meal_rise: range(f, "baseline.meal_rise", self.meal_rise, 0.0, 300.0)?,
            glucose_peak_ms: duration(f, "baseline.glucose_peak", &self.glucose_peak)?,
            glucose_variability: number(
                f,
                "baseline.glucose_variability",
                self.glucose_variability,
                0.0,
                100.0,
            )?,
        })
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawActivities {
    walk: RawActivity,
    workout: RawActivity,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawActivity {
    duration: [String; 2],
    hr_rise: [f64; 2],
    cadence: [f64; 2],
}

impl RawActivity {
    fn validate(self, at: &str) -> Result<Activity, ProfileError> {
        let f = PROFILES_FILE;
        let duration_ms = duration_range(f, &format!("{at}.duration"), &self.duration)?;
        if duration_ms.max > 6.0 * 3_600e3 {
            return Err(invalid(f, format!("{at}.duration"), "at most 6h"));
        }
        Ok(Activity {
            duration_ms,
            hr_rise: range(f, &format!("{at}.hr_rise"), self.hr_rise, 0.0, 120.0)?,
            cadence: range(f, &format!("{at}.cadence"), self.cadence, 0.0, 250.0)?,
        })
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCondition {
    #[serde(default)]
    description: String,
    #[serde(default)]
    resting_hr: f64,
    #[serde(default)]
    systolic: f64,
    #[serde(default)]
    diastolic: f64,
    #[serde(default)]
    spo2: f64,
    #[serde(default)]
    respiratory_rate: f64,
    bp_dip: Option<[f64; 2]>,
    fasting_glucose: Option<[f64; 2]>,
    meal_rise: Option<[f64; 2]>,
    glucose_peak: Option<String>,
    glucose_variability: Option<f64>,
    #[serde(default)]
    event_rates: BTreeMap<String, f64>,
}

impl RawCondition {
    fn validate(self, name: &str) -> Result<Condition, ProfileError> {
        let f = PROFILES_FILE;
        let at = |key: &str| format!("conditions.{name}.{key}");
        let mut event_rates = BTreeMap::new();
        for (kind, multiplier) in self.event_rates {
            let key = at(&format!("event_rates.{kind}"));
            let kind = event_kind(f, &key, &kind)?;
            event_rates.insert(kind, number(f, &key, multiplier, 0.0, 1e6)?);
        }
        Ok(Condition {
            name: name.to_owned(),
            description: self.description,
            resting_hr: number(f, &at("resting_hr"), self.resting_hr, -40.0, 40.0)?,
            systolic: number(f, &at("systolic"), self.systolic, -60.0, 80.0)?,
            diastolic: number(f, &at("diastolic"), self.diastolic, -40.0, 60.0)?,
            spo2: number(f, &at("spo2"), self.spo2, -15.0, 5.0)?,
            respiratory_rate: number(
                f,
                &at("respiratory_rate"),
                self.respiratory_rate,
                -10.0,
                20.0,
            )?,
            bp_dip: self
                .bp_dip
                .map(|r| range(f, &at("bp_dip"), r, -0.2, 0.4))
                .transpose()?,
            fasting_glucose: self
                .fasting_glucose
                .map(|r| range(f, &at("fasting_glucose"), r, 60.0, 300.0))
                .transpose()?,
            meal_rise: self
                .meal_rise
                .map(|r| range(f, &at("meal_rise"), r, 0.0, 300.0))
                .transpose()?,
            glucose_peak_ms: self
                .glucose_peak
                .map(|d| duration(f, &at("glucose_peak"), &d))
                .transpose()?,
            glucose_variability: self
                .glucose_variability
                .map(|v| number(f, &at("glucose_variability"), v, 0.0, 100.0))
                .transpose()?,
            event_rates,
        })
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawProfile {
    #[serde(default)]
    description: String,
    age: [f64; 2],
    fitness: [f64; 2],
    weight_kg: [f64; 2],
    #[serde(default)]
    conditions: Vec<String>,
    bedtime: [String; 2],
    wake: [String; 2],
    activity_bouts: [u32; 2],
    workout_share: f64,
    devices: Vec<String>,
}

impl RawProfile {
    fn validate(
        self,
        name: &str,
        conditions: &BTreeMap<String, Condition>,
        models: &BTreeMap<Model, ModelSpec>,
    ) -> Result<Profile, ProfileError> {
        let f = PROFILES_FILE;
        let at = |key: &str| format!("profiles.{name}.{key}");
        for condition in &self.conditions {
            if !conditions.contains_key(condition) {
                let known: Vec<_> = conditions.keys().map(String::as_str).collect();
                return Err(invalid(
                    f,
                    at("conditions"),
                    format!(
                        "unknown condition {condition:?}; known: {}",
                        known.join(", ")
                    ),
                ));
            }
        }
        let times = |key: &str, raw: &[String; 2], after_midnight: bool| {
            let mut hours = [0.0; 2];
            for (h, text) in hours.iter_mut().zip(raw) {
                *h = parse_time_of_day(text).map_err(|m| invalid(f, at(key), m))?;
                // A bedtime in the small hours belongs to the night that started the day before.
                if after_midnight && *h < 12.0 {
                    *h += 24.0;
                }
            }
            range(f, &at(key), hours, 0.0, 48.0)
        };
        let bedtime_h = times("bedtime", &self.bedtime, true)?;
        let wake_h = times("wake", &self.wake, false)?;
        if wake_h.max + 24.0 - bedtime_h.max < 3.0 {
            return Err(invalid(f, at("wake"), "leaves less than 3 hours of sleep"));
        }
        if bedtime_h.min - wake_h.max < 6.0 {
            return Err(invalid(f, at("bedtime"), "leaves less than 6 hours awake"));
        }
        let [lo, hi] = self.activity_bouts;
        if lo > hi || hi > 20 {
            return Err(invalid(
                f,
                at("activity_bouts"),
                format!("[{lo}, {hi}]: need min <= max <= 20"),
            ));
        }
        let mut devices = Vec::new();
        for device in &self.devices {
            let model = model_name(f, &at("devices"), device)?;
            if !models.contains_key(&model) {
                return Err(invalid(
                    f,
                    at("devices"),
                    format!("{model} is not in {MODELS_FILE}"),
                ));
            }
            if devices.contains(&model) {
                return Err(invalid(f, at("devices"), format!("{model} listed twice")));
            }
            devices.push(model);
        }
        if devices.is_empty() {
            return Err(invalid(
                f,
                at("devices"),
                "a patient needs at least one device",
            ));
        }
        Ok(Profile {
            name: name.to_owned(),
            description: self.description,
            age: range(f, &at("age"), self.age, 0.0, 120.0)?,
            fitness: range(f, &at("fitness"), self.fitness, 0.0, 1.0)?,
            weight_kg: range(f, &at("weight_kg"), self.weight_kg, 2.0, 300.0)?,
            conditions: self.conditions,
            bedtime_h,
            wake_h,
            activity_bouts: (lo, hi),
            workout_share: number(f, &at("workout_share"), self.workout_share, 0.0, 1.0)?,
            devices,
        })
    }
}

// --- models.toml

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawModel {
    mode: ModelMode,
    publish_interval: String,
    battery_life: String,
    recharge_at: f64,
    low_battery: f64,
    #[serde(default)]
    schedule: Vec<String>,
    jitter: Option<String>,
    skip_probability: Option<f64>,
    recheck_interval: Option<String>,
    upload_delay: Option<[String; 2]>,
    metrics: BTreeMap<String, RawSensor>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSensor {
    sample_interval: Option<String>,
    noise_sd: f64,
    #[serde(default)]
    noise_sd2: f64,
}

fn parse_models(text: &str) -> Result<BTreeMap<Model, ModelSpec>, ProfileError> {
    let f = MODELS_FILE;
    let raw: BTreeMap<String, RawModel> =
        toml::from_str(text).map_err(|source| ProfileError::Parse { file: f, source })?;
    let mut models = BTreeMap::new();
    for (name, raw) in raw {
        let model = model_name(f, &name, &name)?;
        let at = |key: &str| format!("{name}.{key}");
        let publish_interval_ms = whole_seconds(f, &at("publish_interval"), &raw.publish_interval)?;
        if publish_interval_ms > MS_PER_DAY {
            return Err(invalid(f, at("publish_interval"), "at most 1d"));
        }
        let recharge_at = number(f, &at("recharge_at"), raw.recharge_at, 0.0, 0.95)?;
        let low_battery = number(f, &at("low_battery"), raw.low_battery, 0.01, 0.9)?;
        if low_battery >= recharge_at {
            return Err(invalid(
                f,
                at("low_battery"),
                "must be below recharge_at: in normal use the wearer recharges first",
            ));
        }
        let spot = raw.mode == ModelMode::Spot;
        let mut schedule_h = Vec::new();
        for time in &raw.schedule {
            schedule_h.push(parse_time_of_day(time).map_err(|m| invalid(f, at("schedule"), m))?);
        }
        if spot && schedule_h.is_empty() {
            return Err(invalid(
                f,
                at("schedule"),
                "a spot-check model needs a schedule",
            ));
        }
        if !spot && !schedule_h.is_empty() {
            return Err(invalid(
                f,
                at("schedule"),
                "only spot-check models have a schedule",
            ));
        }
        let jitter_ms = match &raw.jitter {
            Some(j) => duration(f, &at("jitter"), j)?.min(6 * 3_600_000),
            None => 0,
        };
        let upload_delay_ms = match &raw.upload_delay {
            Some(d) => duration_range(f, &at("upload_delay"), d)?,
            None => Range { min: 0.0, max: 0.0 },
        };
        if upload_delay_ms.max > MAX_UPLOAD_DELAY_MS as f64 {
            return Err(invalid(f, at("upload_delay"), "at most 60s"));
        }
        let mut sensors = Vec::new();
        for (metric_name, sensor) in &raw.metrics {
            let key = at(&format!("metrics.{metric_name}"));
            let metric: Metric = metric_name
                .parse()
                .map_err(|_| invalid(f, &key, format!("unknown metric {metric_name:?}")))?;
            if !metric.may_come_from(model.kind()) {
                return Err(invalid(
                    f,
                    &key,
                    format!(
                        "a {} ({}) may not send {metric}",
                        model,
                        model.kind().as_str()
                    ),
                ));
            }
            let sample_interval_ms = match (&sensor.sample_interval, spot) {
                (Some(i), false) => whole_seconds(f, &format!("{key}.sample_interval"), i)?,
                (None, true) => 0,
                (None, false) => {
                    return Err(invalid(
                        f,
                        &key,
                        "a continuous model needs a sample_interval",
                    ));
                }
                (Some(_), true) => {
                    return Err(invalid(
                        f,
                        &key,
                        "a spot-check model measures on its schedule: no sample_interval",
                    ));
                }
            };
            sensors.push(SensorSpec {
                metric,
                sample_interval_ms,
                noise_sd: number(f, &format!("{key}.noise_sd"), sensor.noise_sd, 0.0, 100.0)?,
                noise_sd2: number(f, &format!("{key}.noise_sd2"), sensor.noise_sd2, 0.0, 100.0)?,
            });
        }
        if sensors.is_empty() {
            return Err(invalid(
                f,
                at("metrics"),
                "a model measures at least one metric",
            ));
        }
        models.insert(
            model,
            ModelSpec {
                model,
                mode: raw.mode,
                publish_interval_ms,
                battery_life_ms: duration(f, &at("battery_life"), &raw.battery_life)?,
                recharge_at,
                low_battery,
                schedule_h,
                jitter_ms,
                skip_probability: number(
                    f,
                    &at("skip_probability"),
                    raw.skip_probability.unwrap_or(0.0),
                    0.0,
                    1.0,
                )?,
                recheck_interval_ms: match &raw.recheck_interval {
                    Some(r) => duration(f, &at("recheck_interval"), r)?.max(60_000),
                    None => 30 * 60_000,
                },
                upload_delay_ms,
                sensors,
            },
        );
    }
    Ok(models)
}

// --- scenarios.toml

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawScenario {
    daily_rate: f64,
    duration: [String; 2],
    magnitude: Option<[f64; 2]>,
    magnitude2: Option<[f64; 2]>,
    models: Vec<String>,
}

/// Bounds a magnitude must lie within; `None` where the kind has no such magnitude.
type Bounds = Option<(f64, f64)>;

/// The sensible bounds of each kind's magnitudes (see `data/scenarios.toml`).
fn magnitude_bounds(kind: EventKind) -> (Bounds, Bounds) {
    use EventKind::*;
    match kind {
        Tachycardia => (Some((101.0, 250.0)), None),
        Bradycardia => (Some((25.0, 59.0)), None),
        Desaturation => (Some((60.0, 93.0)), None),
        HypertensiveCrisis => (Some((181.0, 280.0)), Some((121.0, 180.0))),
        Hypotension => (Some((50.0, 95.0)), Some((25.0, 65.0))),
        Fever => (Some((37.8, 42.0)), None),
        Hypoglycemia => (Some((20.0, 69.0)), None),
        Hyperglycemia => (Some((251.0, 600.0)), None),
        RestingHrRise => (Some((1.0, 50.0)), None),
        MotionArtifact => (Some((20.0, 300.0)), Some((40.0, 100.0))),
        BatteryDrain => (Some((0.05, 0.95)), None),
        ClockSkew => (Some((0.1, 24.0 * 60.0)), None),
        SensorOff | DeviceOffline => (None, None),
    }
}

fn parse_scenarios(
    text: &str,
    models: &BTreeMap<Model, ModelSpec>,
) -> Result<BTreeMap<EventKind, ScenarioSpec>, ProfileError> {
    let f = SCENARIOS_FILE;
    let raw: BTreeMap<String, RawScenario> =
        toml::from_str(text).map_err(|source| ProfileError::Parse { file: f, source })?;
    let mut scenarios = BTreeMap::new();
    for (name, raw) in raw {
        let kind = event_kind(f, &name, &name)?;
        let at = |key: &str| format!("{name}.{key}");
        let duration_ms = duration_range(f, &at("duration"), &raw.duration)?;
        if duration_ms.max > 30.0 * MS_PER_DAY as f64 {
            return Err(invalid(f, at("duration"), "at most 30d"));
        }
        let (bounds, bounds2) = magnitude_bounds(kind);
        let magnitude =
            |key: &str, raw: Option<[f64; 2]>, bounds: Option<(f64, f64)>| match (raw, bounds) {
                (Some(r), Some((lo, hi))) => range(f, &at(key), r, lo, hi),
                (None, None) => Ok(Range { min: 0.0, max: 0.0 }),
                (None, Some(_)) => Err(invalid(f, at(key), format!("{name} needs a {key}"))),
                (Some(_), None) => Err(invalid(f, at(key), format!("{name} has no {key}"))),
            };
        let mut listed = Vec::new();
        for model in &raw.models {
            let model = model_name(f, &at("models"), model)?;
            let spec = models.get(&model).ok_or_else(|| {
                invalid(f, at("models"), format!("{model} is not in {MODELS_FILE}"))
            })?;
            if let Some(metric) = kind.metric()
                && spec.sensor(metric).is_none()
            {
                return Err(invalid(
                    f,
                    at("models"),
                    format!("{model} does not measure {metric}, which {name} affects"),
                ));
            }
            if kind == EventKind::MotionArtifact
                && (spec.mode != ModelMode::Continuous
                    || (spec.sensor(Metric::HeartRate).is_none()
                        && spec.sensor(Metric::Spo2).is_none()))
            {
                return Err(invalid(
                    f,
                    at("models"),
                    format!(
                        "{model}: motion artifacts need a continuous heart rate or SpO2 sensor"
                    ),
                ));
            }
            if listed.contains(&model) {
                return Err(invalid(f, at("models"), format!("{model} listed twice")));
            }
            listed.push(model);
        }
        scenarios.insert(
            kind,
            ScenarioSpec {
                kind,
                daily_rate: number(f, &at("daily_rate"), raw.daily_rate, 0.0, 1000.0)?,
                duration_ms,
                magnitude: magnitude("magnitude", raw.magnitude, bounds)?,
                magnitude2: magnitude("magnitude2", raw.magnitude2, bounds2)?,
                models: listed,
            },
        );
    }
    Ok(scenarios)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(profiles: &str, models: &str, scenarios: &str) -> Result<Profiles, String> {
        Profiles::from_toml_strs(profiles, models, scenarios).map_err(|e| e.to_string())
    }

    /// The builtin files with one textual change; the change must apply.
    fn variant(file: &str, from: &str, to: &str) -> Result<Profiles, String> {
        let patch = |text: &str, name: &str| {
            if name == file {
                assert!(text.contains(from), "{file} does not contain {from:?}");
                text.replacen(from, to, 1)
            } else {
                text.to_owned()
            }
        };
        load(
            &patch(PROFILES_TOML, "profiles"),
            &patch(MODELS_TOML, "models"),
            &patch(SCENARIOS_TOML, "scenarios"),
        )
    }

    #[test]
    fn the_builtin_data_parses_and_is_complete() {
        let data = Profiles::builtin();
        for name in crate::scenario::tests::ALL_PROFILES {
            let profile = data.profile(name).unwrap_or_else(|| panic!("{name}"));
            assert!(!profile.devices.is_empty());
        }
        for model in Model::ALL {
            assert!(data.model(model).is_some(), "{model}");
        }
        for kind in EventKind::ALL {
            let spec = data.scenario(kind).unwrap_or_else(|| panic!("{kind:?}"));
            assert!(spec.daily_rate > 0.0 && !spec.models.is_empty(), "{kind:?}");
        }
        assert_eq!(data.profile("copd").unwrap().conditions, ["copd"]);
        assert!(
            data.condition("type1_diabetes").unwrap().event_rates[&EventKind::Hypoglycemia] > 1.0
        );
        assert_eq!(data.profile("type1_diabetic").unwrap().bedtime_h.max, 24.5);
    }

    #[test]
    fn every_model_sends_only_metrics_its_kind_may_send() {
        let data = Profiles::builtin();
        for model in Model::ALL {
            let spec = data.model(model).unwrap();
            for sensor in &spec.sensors {
                assert!(
                    sensor.metric.may_come_from(model.kind()),
                    "{model} sends {}",
                    sensor.metric
                );
            }
        }
        let watch = data.model(Model::Smartwatch).unwrap();
        assert_eq!(
            watch.sensor(Metric::HeartRate).unwrap().sample_interval_ms,
            5_000
        );
        assert_eq!(
            data.model(Model::Cgm).unwrap().sensors[0].sample_interval_ms,
            300_000
        );
        let bp = data.model(Model::BpMonitor).unwrap();
        assert_eq!(bp.mode, ModelMode::Spot);
        assert!(
            bp.sensor(Metric::BloodPressure).is_some() && bp.sensor(Metric::HeartRate).is_some()
        );
    }

    #[test]
    fn bad_data_is_refused_with_a_clear_error() {
        let cases = [
            (
                variant(
                    "profiles",
                    r#"conditions = ["copd"]"#,
                    r#"conditions = ["asthma"]"#,
                ),
                "profiles.toml: profiles.copd.conditions: unknown condition \"asthma\"",
            ),
            (
                variant("profiles", "age = [25.0, 60.0]", "age = [60.0, 25.0]"),
                "profiles.healthy_adult.age: min 60 is greater than max 25",
            ),
            (
                variant(
                    "profiles",
                    r#"devices = ["smartwatch", "scale"]"#,
                    r#"devices = ["fitbit"]"#,
                ),
                "profiles.athlete.devices: unknown device model \"fitbit\"",
            ),
            (
                variant("profiles", "hypoglycemia = 80.0", "hypoglycaemia = 80.0"),
                "conditions.type1_diabetes.event_rates.hypoglycaemia: unknown event kind",
            ),
            (
                variant("profiles", "workout_share = 0.6", "workout_share = 1.6"),
                "profiles.athlete.workout_share: 1.6 is not within 0..=1",
            ),
            (
                variant("profiles", "[baseline]", "[baseline]\ncolour = 1"),
                "unknown field `colour`",
            ),
            (
                variant(
                    "models",
                    r#"publish_interval = "15s""#,
                    r#"publish_interval = "0s""#,
                ),
                "models.toml: smartwatch.publish_interval: \"0s\" must be greater than zero",
            ),
            (
                variant(
                    "models",
                    r#"sample_interval = "5s""#,
                    r#"sample_interval = "5 parsecs""#,
                ),
                "smartwatch.metrics.heart_rate.sample_interval",
            ),
            (
                variant("models", "body_weight = {", "blood_glucose = {"),
                "scale.metrics.blood_glucose: a scale (scale) may not send blood_glucose",
            ),
            (
                variant(
                    "models",
                    "[cgm.metrics]\nblood_glucose = { sample_interval = \"5m\", ",
                    "[cgm.metrics]\nblood_glucose = { ",
                ),
                "cgm.metrics.blood_glucose: a continuous model needs a sample_interval",
            ),
            (
                variant("scenarios", "[fever]", "[fevre]"),
                "scenarios.toml: fevre: unknown event kind \"fevre\"",
            ),
            (
                variant(
                    "scenarios",
                    r#"models = ["thermometer"]"#,
                    r#"models = ["scale"]"#,
                ),
                "fever.models: scale does not measure body_temperature",
            ),
            (
                variant(
                    "scenarios",
                    "magnitude = [38.4, 39.8]",
                    "magnitude = [36.0, 39.8]",
                ),
                "fever.magnitude: 36 is not within",
            ),
            (
                variant("scenarios", "daily_rate = 0.01", "daily_rate = \"often\""),
                "scenarios.toml: ",
            ),
        ];
        for (result, expected) in cases {
            let err = result
                .err()
                .unwrap_or_else(|| panic!("accepted; expected {expected:?}"));
            assert!(
                err.contains(expected),
                "{err:?} does not contain {expected:?}"
            );
        }
    }

    #[test]
    fn durations_and_times_of_day_parse() {
        assert_eq!(parse_duration("15s"), Ok(15_000));
        assert_eq!(parse_duration("1.5h"), Ok(5_400_000));
        assert_eq!(parse_duration("250ms"), Ok(250));
        assert_eq!(parse_duration("2d"), Ok(172_800_000));
        for bad in ["", "5", "s", "-5s", "0m", "5 min", "NaNs"] {
            assert!(parse_duration(bad).is_err(), "{bad:?}");
        }
        assert_eq!(parse_time_of_day("07:30"), Ok(7.5));
        for bad in ["24:00", "7", "07:60", "ab:cd"] {
            assert!(parse_time_of_day(bad).is_err(), "{bad:?}");
        }
    }
}
