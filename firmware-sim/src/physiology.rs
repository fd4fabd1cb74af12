//! Patient physiology: the true, noise-free value of every vital sign of one patient at any
//! simulated instant. This module owns the per-patient baseline (drawn from the profile and
//! its conditions), the per-day life plan (sleep, activity bouts, meals), how clinical
//! events bend the signals, and the deterministic randomness the whole simulator derives
//! its streams from.
//!
//! Everything is a pure function of (seed, patient label, time): no state and no clock, so
//! any device task may evaluate any instant in any order and get the same answer. Time is
//! integer milliseconds since the Unix epoch; time of day is UTC.

use std::f64::consts::TAU;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::profiles::{Activity, Condition, Profile, Profiles, Range};
use crate::scenario::{EventKind, PlannedEvent};

pub(crate) const SECOND: i64 = 1000;
pub(crate) const MINUTE: i64 = 60 * SECOND;
pub(crate) const HOUR: i64 = 60 * MINUTE;
pub(crate) const DAY: i64 = 24 * HOUR;

/// What a random stream is for; part of every derived seed so that streams never coincide.
pub(crate) mod purpose {
    pub const BASELINE: u64 = 1;
    pub const NIGHT: u64 = 2;
    pub const LIFE: u64 = 3;
    pub const SLOW: u64 = 4;
    pub const STEPS: u64 = 5;
    pub const WEIGHT: u64 = 6;
    pub const CLINICAL: u64 = 10;
    pub const DEVICE_EVENTS: u64 = 11;
    pub const SESSIONS: u64 = 12;
    pub const NOISE: u64 = 13;
    pub const PHASE: u64 = 14;
    pub const UPLOAD: u64 = 15;
    pub const BATTERY: u64 = 16;
}

// --- deterministic randomness

/// SplitMix64's finaliser: a fixed, documented mixing function (unlike `DefaultHasher`,
/// whose output may change between Rust releases).
pub(crate) fn splitmix64(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Hashes a sequence of numbers into one (order matters).
pub(crate) fn mix(parts: &[u64]) -> u64 {
    parts
        .iter()
        .fold(0x6A09_E667_F3BC_C908, |h, &p| splitmix64(h ^ splitmix64(p)))
}

/// FNV-1a of a patient's label: the label, not the provisioned id, seeds the patient.
pub(crate) fn label_key(label: &str) -> u64 {
    label.bytes().fold(0xCBF2_9CE4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01B3)
    })
}

pub(crate) fn rng(parts: &[u64]) -> ChaCha8Rng {
    ChaCha8Rng::seed_from_u64(mix(parts))
}

/// Uniform in [0, 1) from a hash.
pub(crate) fn unit(h: u64) -> f64 {
    (h >> 11) as f64 / (1u64 << 53) as f64
}

/// Box–Muller: a standard normal from two uniforms.
fn box_muller(u1: f64, u2: f64) -> f64 {
    (-2.0 * (1.0 - u1).ln()).sqrt() * (TAU * u2).cos()
}

/// A standard normal from a hash (for noise keyed by time, with no stream to advance).
pub(crate) fn gaussian_from(h: u64) -> f64 {
    box_muller(unit(h), unit(splitmix64(h)))
}

pub(crate) fn gaussian(rng: &mut impl Rng) -> f64 {
    let (u1, u2): (f64, f64) = (rng.r#gen(), rng.r#gen());
    box_muller(u1, u2)
}

/// Slowly wandering standard-normal noise: values at knots `knot` apart, eased between.
fn slow_noise(b: &Baseline, channel: u64, t: i64, knot: i64) -> f64 {
    let k = t.div_euclid(knot);
    let x = (t - k * knot) as f64 / knot as f64;
    let at = |k: i64| gaussian_from(mix(&[b.seed, b.key, purpose::SLOW, channel, k as u64]));
    let w = x * x * (3.0 - 2.0 * x);
    at(k) * (1.0 - w) + at(k + 1) * w
}

pub(crate) fn day_of(t: i64) -> i64 {
    t.div_euclid(DAY)
}

/// -1 at 04:00 (the circadian minimum), +1 at 16:00.
fn circadian(t: i64) -> f64 {
    let hours = t.rem_euclid(DAY) as f64 / HOUR as f64;
    -((hours - 4.0) / 24.0 * TAU).cos()
}

fn whole_seconds(ms: f64) -> i64 {
    (ms / 1e3).round() as i64 * SECOND
}

// --- the patient

/// Who the patient is: drawn once from the profile, its conditions and the seed.
#[derive(Clone, Debug)]
pub(crate) struct Baseline {
    pub seed: u64,
    pub key: u64,
    /// Awake, at rest, at the circadian mean.
    pub resting_hr: f64,
    pub sleep_hr_drop: f64,
    pub spo2: f64,
    pub respiratory_rate: f64,
    pub core_temp: f64,
    pub skin_temp: f64,
    pub systolic: f64,
    pub diastolic: f64,
    pub bp_dip: f64,
    pub fasting_glucose: f64,
    meal_rise: Range,
    glucose_peak: f64,
    glucose_variability: f64,
    pub weight: f64,
    bedtime_h: Range,
    wake_h: Range,
    bouts: (u32, u32),
    workout_share: f64,
    walk: Activity,
    workout: Activity,
}

impl Baseline {
    pub(crate) fn draw(seed: u64, key: u64, profile: &Profile, profiles: &Profiles) -> Baseline {
        let pop = profiles.baseline();
        let conditions: Vec<&Condition> = profile
            .conditions
            .iter()
            .filter_map(|c| profiles.condition(c))
            .collect();
        let added = |f: fn(&Condition) -> f64| conditions.iter().map(|c| f(c)).sum::<f64>();
        let first = |f: fn(&Condition) -> Option<Range>, default: Range| {
            conditions.iter().find_map(|c| f(c)).unwrap_or(default)
        };
        // The order of draws is part of the format: append new ones at the end.
        let mut rng = rng(&[seed, key, purpose::BASELINE]);
        let age = profile.age.sample(&mut rng);
        let fitness = profile.fitness.sample(&mut rng);
        let weight = profile.weight_kg.sample(&mut rng);
        let spread = gaussian(&mut rng);
        let over_40 = (age - 40.0).max(0.0);
        let resting_hr = pop.resting_hr_unfit
            + (pop.resting_hr_fit - pop.resting_hr_unfit) * fitness
            + pop.resting_hr_sd * spread
            + added(|c| c.resting_hr);
        let systolic =
            pop.systolic.sample(&mut rng) + pop.bp_age_slope * over_40 + added(|c| c.systolic);
        let diastolic = pop.diastolic.sample(&mut rng)
            + 0.5 * pop.bp_age_slope * over_40
            + added(|c| c.diastolic);
        Baseline {
            seed,
            key,
            resting_hr: resting_hr.clamp(42.0, 105.0),
            sleep_hr_drop: pop.sleep_hr_drop.sample(&mut rng),
            spo2: (pop.spo2.sample(&mut rng) + added(|c| c.spo2)).clamp(82.0, 99.5),
            respiratory_rate: (pop.respiratory_rate.sample(&mut rng)
                + added(|c| c.respiratory_rate))
            .clamp(6.0, 35.0),
            core_temp: pop.core_temperature.sample(&mut rng),
            skin_temp: pop.skin_temperature.sample(&mut rng),
            systolic: systolic.clamp(80.0, 200.0),
            diastolic: diastolic.clamp(45.0, 125.0).min(systolic - 25.0),
            bp_dip: first(|c| c.bp_dip, pop.bp_dip).sample(&mut rng),
            fasting_glucose: first(|c| c.fasting_glucose, pop.fasting_glucose).sample(&mut rng),
            meal_rise: first(|c| c.meal_rise, pop.meal_rise),
            glucose_peak: conditions
                .iter()
                .find_map(|c| c.glucose_peak_ms)
                .unwrap_or(pop.glucose_peak_ms) as f64,
            glucose_variability: conditions
                .iter()
                .find_map(|c| c.glucose_variability)
                .unwrap_or(pop.glucose_variability),
            weight,
            bedtime_h: profile.bedtime_h,
            wake_h: profile.wake_h,
            bouts: profile.activity_bouts,
            workout_share: profile.workout_share,
            walk: profiles.activities().walk.clone(),
            workout: profiles.activities().workout.clone(),
        }
    }
}

// --- the day

/// The sleep that starts on the evening of a day and ends the next morning.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Night {
    pub start: i64,
    pub end: i64,
}

#[derive(Clone, Copy, Debug)]
pub(crate) struct Bout {
    pub start: i64,
    pub end: i64,
    pub hr_rise: f64,
    /// Steps per minute.
    pub cadence: f64,
}

#[derive(Clone, Copy, Debug)]
pub(crate) struct Meal {
    pub at: i64,
    pub rise: f64,
}

pub(crate) fn night(b: &Baseline, day: i64) -> Night {
    let mut rng = rng(&[b.seed, b.key, purpose::NIGHT, day as u64]);
    let bed = b.bedtime_h.sample(&mut rng);
    let wake = b.wake_h.sample(&mut rng);
    Night {
        start: day * DAY + whole_seconds(bed * HOUR as f64),
        end: (day + 1) * DAY + whole_seconds(wake * HOUR as f64),
    }
}

/// The activity bouts and meals of one day, between waking and bedtime.
pub(crate) fn day_life(b: &Baseline, day: i64) -> (Vec<Bout>, Vec<Meal>) {
    let woke = night(b, day - 1).end;
    let bed = night(b, day).start;
    let mut rng = rng(&[b.seed, b.key, purpose::LIFE, day as u64]);
    let count = rng.gen_range(b.bouts.0..=b.bouts.1);
    let mut bouts: Vec<Bout> = Vec::with_capacity(count as usize);
    for _ in 0..count {
        let workout = rng.r#gen::<f64>() < b.workout_share;
        let kind = if workout { &b.workout } else { &b.walk };
        let duration = whole_seconds(kind.duration_ms.sample(&mut rng));
        let hr_rise = kind.hr_rise.sample(&mut rng);
        let cadence = kind.cadence.sample(&mut rng);
        let (earliest, latest) = (woke + 30 * MINUTE, bed - 30 * MINUTE - duration);
        // A few tries to find room; a crowded day simply gets fewer bouts.
        for _ in 0..8 {
            let u: f64 = rng.r#gen();
            if latest <= earliest {
                break;
            }
            let start = earliest + whole_seconds((latest - earliest) as f64 * u);
            let end = start + duration;
            let gap = 20 * MINUTE;
            if bouts
                .iter()
                .all(|o| end + gap <= o.start || start >= o.end + gap)
            {
                bouts.push(Bout {
                    start,
                    end,
                    hr_rise,
                    cadence,
                });
                break;
            }
        }
    }
    bouts.sort_by_key(|b| b.start);
    let mut meal = |earliest: i64, window_h: f64, scale: f64| Meal {
        at: earliest + whole_seconds(rng.r#gen::<f64>() * window_h * HOUR as f64),
        rise: b.meal_rise.sample(&mut rng) * scale,
    };
    let meals = vec![
        meal(woke + 20 * MINUTE, 0.7, 0.9),
        meal(day * DAY + 12 * HOUR, 1.5, 1.0),
        meal(day * DAY + 18 * HOUR, 2.0, 1.1),
    ];
    (bouts, meals)
}

/// What a device's metric reads of the body: a thermometer and a watch both send
/// `body_temperature`, but one measures the core and the other the wrist.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Signal {
    HeartRate,
    RespiratoryRate,
    Spo2,
    /// Oral or tympanic: what a thermometer reads.
    CoreTemperature,
    /// At the wrist: what a smartwatch reads.
    SkinTemperature,
    BloodPressure,
    BodyWeight,
    BloodGlucose,
    /// Steps in the sampling interval before the instant.
    Steps,
}

/// Everything needed to evaluate one patient at any instant of one day.
pub(crate) struct PatientDay {
    baseline: Baseline,
    nights: [Night; 2],
    bouts: Vec<Bout>,
    meals: Vec<Meal>,
    /// Clinical events under way at some point of the day.
    pub events: Vec<PlannedEvent>,
}

impl PatientDay {
    pub(crate) fn new(b: &Baseline, day: i64, events: Vec<PlannedEvent>) -> PatientDay {
        // Yesterday's late bouts and dinner still show after midnight.
        let (mut bouts, mut meals) = day_life(b, day - 1);
        let (today_bouts, today_meals) = day_life(b, day);
        bouts.extend(today_bouts);
        meals.extend(today_meals);
        PatientDay {
            baseline: b.clone(),
            nights: [night(b, day - 1), night(b, day)],
            bouts,
            meals,
            events,
        }
    }

    /// 1 when asleep, 0 when awake, eased over falling asleep and waking.
    pub(crate) fn asleep(&self, t: i64) -> f64 {
        self.nights
            .iter()
            .filter(|n| n.start <= t && t < n.end)
            .map(|n| {
                ((t - n.start) as f64 / (20 * MINUTE) as f64)
                    .min((n.end - t) as f64 / (5 * MINUTE) as f64)
                    .min(1.0)
            })
            .fold(0.0, f64::max)
    }

    /// (exertion 0..1, heart rate rise) from activity, with a few minutes to warm up and an
    /// exponential recovery after.
    fn exertion(&self, t: i64) -> (f64, f64) {
        let mut rise: f64 = 0.0;
        for bout in &self.bouts {
            let level = if t < bout.start {
                0.0
            } else if t < bout.end {
                ((t - bout.start) as f64 / (3 * MINUTE) as f64).min(1.0)
            } else if t < bout.end + 30 * MINUTE {
                (-((t - bout.end) as f64) / (3 * MINUTE) as f64).exp()
            } else {
                0.0
            };
            rise = rise.max(level * bout.hr_rise);
        }
        ((rise / 60.0).min(1.0), rise)
    }

    fn in_bout(&self, t: i64) -> Option<&Bout> {
        self.bouts.iter().find(|b| b.start <= t && t < b.end)
    }

    fn active(&self, kind: EventKind, t: i64) -> impl Iterator<Item = (f64, &PlannedEvent)> {
        self.events
            .iter()
            .filter(move |e| e.kind == kind && e.active(t))
            .map(move |e| (e.factor(t), e))
    }

    /// How far a fever raises the core temperature at `t`.
    fn fever(&self, t: i64) -> f64 {
        self.active(EventKind::Fever, t)
            .map(|(f, e)| f * (e.magnitude - self.baseline.core_temp).max(0.0))
            .sum()
    }

    /// The true value(s) at `t`; for steps, the count over `window` before `t`.
    pub(crate) fn value(&self, signal: Signal, t: i64, window: i64) -> (f64, Option<f64>) {
        let v = match signal {
            Signal::HeartRate => self.heart_rate(t),
            Signal::RespiratoryRate => self.respiratory_rate(t),
            Signal::Spo2 => self.spo2(t),
            Signal::CoreTemperature => self.core_temperature(t),
            Signal::SkinTemperature => self.skin_temperature(t),
            Signal::BloodPressure => {
                let (systolic, diastolic) = self.blood_pressure(t);
                return (systolic, Some(diastolic));
            }
            Signal::BodyWeight => self.weight(t),
            Signal::BloodGlucose => self.glucose(t),
            Signal::Steps => self.steps(t, window),
        };
        (v, None)
    }

    fn heart_rate(&self, t: i64) -> f64 {
        let b = &self.baseline;
        let (_, rise) = self.exertion(t);
        // A slow heart swings less in absolute terms: an athlete sleeps near 40, not 30.
        let swing = (b.resting_hr / 65.0).min(1.2);
        let mut hr = b.resting_hr
            + swing
                * (2.5 * circadian(t) - b.sleep_hr_drop * self.asleep(t)
                    + 2.0 * slow_noise(b, 1, t, 10 * MINUTE))
            + rise
            + 10.0 * self.fever(t);
        // However fit and deeply asleep, a healthy heart does not drift far below 40.
        if hr < 40.0 {
            hr = 40.0 - 0.3 * (40.0 - hr);
        }
        for event in &self.events {
            let f = event.factor(t);
            hr += match event.kind {
                EventKind::RestingHrRise => f * event.magnitude,
                // Adrenaline in hypoglycaemia, compensation in hypoxia and hypotension.
                EventKind::Hypoglycemia => 12.0 * f,
                EventKind::Desaturation => 6.0 * f,
                EventKind::Hypotension => 10.0 * f,
                _ => 0.0,
            };
        }
        // Arrhythmias set the rate, whatever else is going on.
        for (f, e) in self.active(EventKind::Tachycardia, t) {
            hr += f * (e.magnitude - hr).max(0.0);
        }
        for (f, e) in self.active(EventKind::Bradycardia, t) {
            hr += f * (e.magnitude - hr).min(0.0);
        }
        hr.clamp(28.0, 230.0)
    }

    fn spo2(&self, t: i64) -> f64 {
        let b = &self.baseline;
        let (exertion, _) = self.exertion(t);
        let mut v =
            b.spo2 - 0.8 * self.asleep(t) - 0.6 * exertion + 0.4 * slow_noise(b, 2, t, 20 * MINUTE);
        for (f, e) in self.active(EventKind::Desaturation, t) {
            let target = e.magnitude.min(b.spo2 - 4.0);
            v += f * (target - v).min(0.0);
        }
        v.clamp(60.0, 100.0)
    }

    fn respiratory_rate(&self, t: i64) -> f64 {
        let b = &self.baseline;
        let (exertion, _) = self.exertion(t);
        let desaturated: f64 = self
            .active(EventKind::Desaturation, t)
            .map(|(f, _)| f)
            .sum();
        (b.respiratory_rate - 1.5 * self.asleep(t)
            + 10.0 * exertion
            + 0.8 * slow_noise(b, 3, t, 15 * MINUTE)
            + 2.5 * self.fever(t)
            + 5.0 * desaturated)
            .clamp(5.0, 45.0)
    }

    fn core_temperature(&self, t: i64) -> f64 {
        let b = &self.baseline;
        let (exertion, _) = self.exertion(t);
        (b.core_temp
            + 0.25 * circadian(t)
            + 0.3 * exertion
            + 0.08 * slow_noise(b, 4, t, HOUR)
            + self.fever(t))
        .clamp(35.0, 42.0)
    }

    /// The wrist warms in sleep (distal vasodilation) and cools in exercise.
    fn skin_temperature(&self, t: i64) -> f64 {
        let b = &self.baseline;
        let (exertion, _) = self.exertion(t);
        (b.skin_temp + 0.9 * self.asleep(t) - 0.8 * exertion
            + 0.3 * slow_noise(b, 5, t, 30 * MINUTE)
            + 0.4 * self.fever(t))
        .clamp(29.0, 38.0)
    }

    fn blood_pressure(&self, t: i64) -> (f64, f64) {
        let b = &self.baseline;
        let (exertion, _) = self.exertion(t);
        let dip = 1.0 - b.bp_dip * self.asleep(t);
        let mut systolic = b.systolic * dip + 25.0 * exertion + 4.0 * slow_noise(b, 6, t, HOUR);
        let mut diastolic = b.diastolic * dip + 6.0 * exertion + 3.0 * slow_noise(b, 7, t, HOUR);
        for (f, e) in self.active(EventKind::HypertensiveCrisis, t) {
            systolic += f * (e.magnitude - systolic).max(0.0);
            diastolic += f * (e.magnitude2 - diastolic).max(0.0);
        }
        for (f, e) in self.active(EventKind::Hypotension, t) {
            systolic += f * (e.magnitude - systolic).min(0.0);
            diastolic += f * (e.magnitude2 - diastolic).min(0.0);
        }
        let systolic = systolic.clamp(60.0, 260.0);
        (systolic, diastolic.clamp(35.0, 170.0).min(systolic - 15.0))
    }

    /// Fasting level, meal excursions, a slow drift, a dip in exercise. Outside events it
    /// stays within 72–235 mg/dL, so that every hypo- and hyperglycaemia is in the ground
    /// truth.
    fn glucose(&self, t: i64) -> f64 {
        let b = &self.baseline;
        let (exertion, _) = self.exertion(t);
        let meals: f64 = self
            .meals
            .iter()
            .filter(|m| m.at <= t && ((t - m.at) as f64) < 6.0 * b.glucose_peak)
            .map(|m| {
                let x = (t - m.at) as f64 / b.glucose_peak;
                m.rise * x * x * (2.0 * (1.0 - x)).exp()
            })
            .sum();
        let mut g = (b.fasting_glucose + meals - 12.0 * exertion
            + b.glucose_variability * slow_noise(b, 8, t, 2 * HOUR))
        .clamp(72.0, 235.0);
        for (f, e) in self.active(EventKind::Hypoglycemia, t) {
            g += f * (e.magnitude - g).min(0.0);
        }
        for (f, e) in self.active(EventKind::Hyperglycemia, t) {
            g += f * (e.magnitude - g).max(0.0);
        }
        g
    }

    /// Stable within about half a kilogram: a weekly wave, day-to-day scatter, heavier in
    /// the evening.
    fn weight(&self, t: i64) -> f64 {
        let b = &self.baseline;
        let day = day_of(t);
        let weekly = 0.2 * (TAU * day as f64 / 7.0 + unit(b.key) * TAU).sin();
        let daily = 0.12 * gaussian_from(mix(&[b.seed, b.key, purpose::WEIGHT, day as u64]));
        let hours = (t.rem_euclid(DAY) as f64 / HOUR as f64 - 6.0).clamp(0.0, 16.0);
        b.weight + weekly + daily.clamp(-0.2, 0.2) + 0.01 * hours
    }

    /// Steps in `[t - window, t)`, minute by minute: a bout's cadence, or the odd few steps
    /// of moving about the house while awake.
    fn steps(&self, t: i64, window: i64) -> f64 {
        let b = &self.baseline;
        let mut total = 0.0;
        let mut from = t - window.max(SECOND);
        while from < t {
            let minute = from.div_euclid(MINUTE);
            let to = ((minute + 1) * MINUTE).min(t);
            let share = (to - from) as f64 / MINUTE as f64;
            let middle = from + (to - from) / 2;
            let h = mix(&[b.seed, b.key, purpose::STEPS, minute as u64]);
            let per_minute = if let Some(bout) = self.in_bout(middle) {
                bout.cadence * (0.95 + 0.1 * unit(h))
            } else if self.asleep(middle) < 0.5 && unit(h) < 0.2 {
                unit(splitmix64(h)) * 40.0
            } else {
                0.0
            };
            total += per_minute * share;
            from = to;
        }
        total
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn patients(profile: &str, n: u64) -> Vec<Baseline> {
        let profiles = Profiles::builtin();
        let p = profiles.profile(profile).unwrap();
        (0..n)
            .map(|i| Baseline::draw(11, label_key(&format!("patient-{i:04}")), p, &profiles))
            .collect()
    }

    fn mean(xs: impl Iterator<Item = f64>) -> f64 {
        let v: Vec<f64> = xs.collect();
        v.iter().sum::<f64>() / v.len() as f64
    }

    #[test]
    fn mixing_is_stable_across_releases() {
        // Fixed values: a change here silently changes every simulation.
        assert_eq!(splitmix64(0), 0xE220_A839_7B1D_CDAF);
        assert_eq!(label_key(""), 0xCBF2_9CE4_8422_2325);
        assert_ne!(mix(&[1, 2]), mix(&[2, 1]));
        let normals: Vec<f64> = (0..20_000u64).map(|i| gaussian_from(mix(&[i]))).collect();
        let m = normals.iter().sum::<f64>() / normals.len() as f64;
        let sd =
            (normals.iter().map(|x| (x - m).powi(2)).sum::<f64>() / normals.len() as f64).sqrt();
        assert!(m.abs() < 0.03 && (sd - 1.0).abs() < 0.03, "{m} {sd}");
    }

    #[test]
    fn baselines_match_the_realism_targets() {
        let healthy = patients("healthy_adult", 200);
        assert!(
            healthy
                .iter()
                .all(|b| (50.0..=80.0).contains(&b.resting_hr))
        );
        let athletes = mean(patients("athlete", 200).iter().map(|b| b.resting_hr));
        assert!(athletes < mean(healthy.iter().map(|b| b.resting_hr)) - 8.0);
        assert!(healthy.iter().all(|b| (95.5..=99.5).contains(&b.spo2)));
        assert!(
            patients("copd", 200)
                .iter()
                .all(|b| (88.0..=94.0).contains(&b.spo2))
        );
        let hypertensive = patients("hypertensive", 200);
        let (s, d) = (
            mean(hypertensive.iter().map(|b| b.systolic)),
            mean(hypertensive.iter().map(|b| b.diastolic)),
        );
        assert!(
            (140.0..=155.0).contains(&s) && (90.0..=100.0).contains(&d),
            "{s}/{d}"
        );
        let healthy_bp = mean(healthy.iter().map(|b| b.systolic));
        assert!((110.0..=125.0).contains(&healthy_bp), "{healthy_bp}");
        assert!(
            patients("type2_diabetic", 100)
                .iter()
                .all(|b| (120.0..=180.0).contains(&b.fasting_glucose))
        );
        assert!(
            healthy
                .iter()
                .all(|b| (85.0..=100.0).contains(&b.fasting_glucose))
        );
    }

    #[test]
    fn a_day_has_a_rhythm() {
        let b = &patients("healthy_adult", 1)[0];
        let day = 20_000;
        let pd = PatientDay::new(b, day, Vec::new());
        let at = |h: f64| day * DAY + (h * HOUR as f64) as i64;
        // Sleep and the circadian trough: the lowest heart rate comes at about 4 am.
        let night = mean((0..60).map(|m| pd.heart_rate(at(4.0) + m * MINUTE)));
        let bouts: Vec<Bout> = pd
            .bouts
            .iter()
            .filter(|x| day_of(x.start) == day)
            .copied()
            .collect();
        assert!(!bouts.is_empty());
        let resting: Vec<f64> = (0..24 * 60)
            .map(|m| at(0.0) + m * MINUTE)
            .filter(|&t| pd.asleep(t) == 0.0 && pd.exertion(t).1 < 1.0)
            .map(|t| pd.heart_rate(t))
            .collect();
        let awake = resting.iter().sum::<f64>() / resting.len() as f64;
        assert!(
            (6.0..=16.0).contains(&(awake - night)),
            "awake {awake} night {night}"
        );
        let bout = bouts[0];
        let moving = pd.heart_rate((bout.start + bout.end) / 2);
        assert!(moving - awake > 12.0, "bout {moving} rest {awake}");
        let steps = pd.steps((bout.start + bout.end) / 2, MINUTE);
        assert!((85.0..=175.0).contains(&steps), "{steps}");
        assert_eq!(pd.steps(at(3.0), MINUTE), 0.0);
        let total: f64 = (1..=1440)
            .map(|m| pd.steps(at(0.0) + m * MINUTE, MINUTE))
            .sum();
        assert!((2_000.0..=25_000.0).contains(&total), "{total} steps a day");
        // Core temperature swings about half a degree, lowest early in the morning.
        let (low, high) = (pd.core_temperature(at(4.0)), pd.core_temperature(at(16.0)));
        assert!(
            high - low > 0.3 && (36.0..=37.6).contains(&low),
            "{low} {high}"
        );
        // Blood pressure dips at night.
        let (day_bp, night_bp) = (pd.blood_pressure(at(11.0)).0, pd.blood_pressure(at(3.0)).0);
        assert!(night_bp < day_bp * 0.95, "{night_bp} vs {day_bp}");
        // Glucose rises after lunch and returns.
        let lunch = pd
            .meals
            .iter()
            .find(|m| day_of(m.at) == day && m.at > at(11.0))
            .unwrap();
        let before = pd.glucose(lunch.at - 5 * MINUTE);
        let after = pd.glucose(lunch.at + 45 * MINUTE);
        assert!(after - before > 15.0, "{before} -> {after}");
    }
}
