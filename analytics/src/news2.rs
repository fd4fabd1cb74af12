//! The National Early Warning Score 2: the per-parameter bands, the aggregate score and the
//! clinical risk it implies, as pure functions for the streaming alert engine. Deciding
//! when a score becomes an alert, and how often, belongs to the alert engine, not here.
//!
//! The bands and risk thresholds are those of the Royal College of Physicians, *National
//! Early Warning Score (NEWS) 2: Standardising the assessment of acute-illness severity in
//! the NHS*, London: RCP, 2017 — Chart 1 (the NEWS2 scoring system) and Chart 2 (thresholds
//! and triggers).
//!
//! Every scoring function is total: a non-finite measurement (NaN or infinite) scores 3.
//! Ingest already rejects such values, so this is only defensive; an impossible value is
//! treated as the worst rather than the best so that a bug upstream can never hide a sick
//! patient behind a score of 0.

use serde::{Deserialize, Serialize};

/// Which SpO2 scale: 1 for most patients; 2 for patients with hypercapnic respiratory
/// failure (e.g. some COPD), only when a clinician prescribes it (target 88–92 %).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Spo2Scale {
    #[default]
    One,
    Two,
}

/// The ACVPU scale. New confusion is the "C": the RCP added it in NEWS2 because new-onset
/// confusion or delirium is often the first sign of deterioration.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Consciousness {
    #[default]
    Alert,
    NewConfusion,
    Voice,
    Pain,
    Unresponsive,
}

/// The rows of the NEWS2 chart, in chart order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Parameter {
    RespiratoryRate,
    Spo2,
    AirOrOxygen,
    SystolicBp,
    HeartRate,
    Consciousness,
    Temperature,
}

/// The latest vitals; `None` where not measured.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Vitals {
    /// Breaths per minute.
    pub respiratory_rate: Option<f64>,
    /// Percent.
    pub spo2: Option<f64>,
    /// Supplemental oxygen. Home wearables cannot know, so they report `false`.
    pub on_oxygen: bool,
    /// Systolic blood pressure, mm\[Hg\].
    pub systolic: Option<f64>,
    /// Beats per minute.
    pub heart_rate: Option<f64>,
    /// Assumed `Alert` unless someone reports otherwise: no device can observe it.
    pub consciousness: Consciousness,
    /// Core temperature, Cel.
    pub temperature: Option<f64>,
}

/// Rounds to the chart's precision (`steps_per_unit` = 1 for whole numbers, 10 for one
/// decimal) so a continuous measurement such as 90.6 cannot fall between two bands, and
/// bands on integers so that 36.1 °C is not at the mercy of binary floating point.
/// `None` for a non-finite value.
fn on_chart(value: f64, steps_per_unit: f64) -> Option<i64> {
    // `as` saturates, so absurdly large finite values land in the outermost band.
    value
        .is_finite()
        .then(|| (value * steps_per_unit).round() as i64)
}

pub fn respiratory_rate_score(per_min: f64) -> u8 {
    match on_chart(per_min, 1.0) {
        None => 3,
        Some(..=8) => 3,
        Some(9..=11) => 1,
        Some(12..=20) => 0,
        Some(21..=24) => 2,
        Some(25..) => 3,
    }
}

/// `on_oxygen` only matters on scale 2: for a hypercapnic patient, high saturation while on
/// oxygen means over-oxygenation, which risks worsening CO2 retention, so it scores.
pub fn spo2_score(percent: f64, scale: Spo2Scale, on_oxygen: bool) -> u8 {
    let Some(percent) = on_chart(percent, 1.0) else {
        return 3;
    };
    match scale {
        Spo2Scale::One => match percent {
            ..=91 => 3,
            92..=93 => 2,
            94..=95 => 1,
            96.. => 0,
        },
        Spo2Scale::Two => match (percent, on_oxygen) {
            (..=83, _) => 3,
            (84..=85, _) => 2,
            (86..=87, _) => 1,
            (88..=92, _) => 0,
            (93.., false) => 0,
            (93..=94, true) => 1,
            (95..=96, true) => 2,
            (97.., true) => 3,
        },
    }
}

pub fn systolic_score(mm_hg: f64) -> u8 {
    match on_chart(mm_hg, 1.0) {
        None => 3,
        Some(..=90) => 3,
        Some(91..=100) => 2,
        Some(101..=110) => 1,
        Some(111..=219) => 0,
        Some(220..) => 3,
    }
}

pub fn heart_rate_score(per_min: f64) -> u8 {
    match on_chart(per_min, 1.0) {
        None => 3,
        Some(..=40) => 3,
        Some(41..=50) => 1,
        Some(51..=90) => 0,
        Some(91..=110) => 1,
        Some(111..=130) => 2,
        Some(131..) => 3,
    }
}

pub fn temperature_score(celsius: f64) -> u8 {
    match on_chart(celsius, 10.0) {
        None => 3,
        Some(..=350) => 3,
        Some(351..=360) => 1,
        Some(361..=380) => 0,
        Some(381..=390) => 1,
        Some(391..) => 2,
    }
}

pub fn consciousness_score(c: Consciousness) -> u8 {
    match c {
        Consciousness::Alert => 0,
        Consciousness::NewConfusion
        | Consciousness::Voice
        | Consciousness::Pain
        | Consciousness::Unresponsive => 3,
    }
}

pub fn air_or_oxygen_score(on_oxygen: bool) -> u8 {
    if on_oxygen { 2 } else { 0 }
}

/// The RCP's clinical risk, which sets the urgency of the clinical response.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ClinicalRisk {
    Low,
    /// A single parameter scoring 3 with a total below 5: an extreme value in one vital
    /// sign warrants an urgent ward-based response even when the rest are normal.
    LowMedium,
    Medium,
    High,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ParameterScore {
    pub parameter: Parameter,
    /// The measurement as given, before rounding. For [`Parameter::AirOrOxygen`], 1 on
    /// oxygen and 0 on air; for [`Parameter::Consciousness`], the ACVPU index: 0 alert,
    /// 1 new confusion, 2 voice, 3 pain, 4 unresponsive.
    pub value: f64,
    pub score: u8,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct News2 {
    /// A lower bound when anything is `missing`: an unmeasured parameter contributes
    /// nothing rather than being guessed.
    pub total: u8,
    /// The measured parameters plus air/oxygen and consciousness, in chart order.
    pub scores: Vec<ParameterScore>,
    /// The physiological parameters with no value.
    pub missing: Vec<Parameter>,
    pub risk: ClinicalRisk,
}

impl News2 {
    /// How many of the five measured physiological parameters (respiratory rate, SpO2,
    /// systolic BP, heart rate, temperature) have a value, so callers can judge how far to
    /// trust a total computed from, say, a wearable's heart rate and SpO2 alone.
    pub fn measured(&self) -> usize {
        self.scores
            .iter()
            .filter(|s| {
                !matches!(
                    s.parameter,
                    Parameter::AirOrOxygen | Parameter::Consciousness
                )
            })
            .count()
    }
}

pub fn score(vitals: &Vitals, scale: Spo2Scale) -> News2 {
    let rows = [
        (
            Parameter::RespiratoryRate,
            vitals
                .respiratory_rate
                .map(|v| (v, respiratory_rate_score(v))),
        ),
        (
            Parameter::Spo2,
            vitals
                .spo2
                .map(|v| (v, spo2_score(v, scale, vitals.on_oxygen))),
        ),
        (
            Parameter::AirOrOxygen,
            Some((
                f64::from(u8::from(vitals.on_oxygen)),
                air_or_oxygen_score(vitals.on_oxygen),
            )),
        ),
        (
            Parameter::SystolicBp,
            vitals.systolic.map(|v| (v, systolic_score(v))),
        ),
        (
            Parameter::HeartRate,
            vitals.heart_rate.map(|v| (v, heart_rate_score(v))),
        ),
        (
            Parameter::Consciousness,
            Some((
                f64::from(vitals.consciousness as u8),
                consciousness_score(vitals.consciousness),
            )),
        ),
        (
            Parameter::Temperature,
            vitals.temperature.map(|v| (v, temperature_score(v))),
        ),
    ];
    let mut scores = Vec::with_capacity(rows.len());
    let mut missing = Vec::new();
    for (parameter, reading) in rows {
        match reading {
            Some((value, score)) => scores.push(ParameterScore {
                parameter,
                value,
                score,
            }),
            None => missing.push(parameter),
        }
    }
    // At most 3 × 5 + 2 + 3 = 20, so the sum cannot overflow a u8.
    let total = scores.iter().map(|s| s.score).sum();
    let any_3 = scores.iter().any(|s| s.score == 3);
    News2 {
        total,
        scores,
        missing,
        risk: risk(total, any_3),
    }
}

pub fn risk(total: u8, any_parameter_scored_3: bool) -> ClinicalRisk {
    match total {
        7.. => ClinicalRisk::High,
        5..=6 => ClinicalRisk::Medium,
        _ if any_parameter_scored_3 => ClinicalRisk::LowMedium,
        _ => ClinicalRisk::Low,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(name: &str, f: impl Fn(f64) -> u8, table: &[(f64, u8)]) {
        for &(value, expected) in table {
            assert_eq!(f(value), expected, "{name}({value})");
        }
    }

    #[test]
    fn respiratory_rate_band_edges() {
        check(
            "respiratory_rate_score",
            respiratory_rate_score,
            &[
                (0.0, 3),
                (8.0, 3),
                (9.0, 1),
                (11.0, 1),
                (12.0, 0),
                (20.0, 0),
                (21.0, 2),
                (24.0, 2),
                (25.0, 3),
                (60.0, 3),
            ],
        );
    }

    #[test]
    fn spo2_scale_1_band_edges_ignore_oxygen() {
        let table = [
            (50.0, 3),
            (91.0, 3),
            (92.0, 2),
            (93.0, 2),
            (94.0, 1),
            (95.0, 1),
            (96.0, 0),
            (100.0, 0),
        ];
        check(
            "spo2 scale 1 air",
            |v| spo2_score(v, Spo2Scale::One, false),
            &table,
        );
        check(
            "spo2 scale 1 oxygen",
            |v| spo2_score(v, Spo2Scale::One, true),
            &table,
        );
    }

    #[test]
    fn spo2_scale_2_band_edges_on_air() {
        check(
            "spo2 scale 2 air",
            |v| spo2_score(v, Spo2Scale::Two, false),
            &[
                (50.0, 3),
                (83.0, 3),
                (84.0, 2),
                (85.0, 2),
                (86.0, 1),
                (87.0, 1),
                (88.0, 0),
                (92.0, 0),
                (93.0, 0),
                (97.0, 0),
                (100.0, 0),
            ],
        );
    }

    #[test]
    fn spo2_scale_2_band_edges_on_oxygen() {
        check(
            "spo2 scale 2 oxygen",
            |v| spo2_score(v, Spo2Scale::Two, true),
            &[
                (50.0, 3),
                (83.0, 3),
                (84.0, 2),
                (85.0, 2),
                (86.0, 1),
                (87.0, 1),
                (88.0, 0),
                (92.0, 0),
                (93.0, 1),
                (94.0, 1),
                (95.0, 2),
                (96.0, 2),
                (97.0, 3),
                (100.0, 3),
            ],
        );
    }

    #[test]
    fn air_or_oxygen() {
        assert_eq!(air_or_oxygen_score(true), 2);
        assert_eq!(air_or_oxygen_score(false), 0);
    }

    #[test]
    fn systolic_band_edges() {
        check(
            "systolic_score",
            systolic_score,
            &[
                (40.0, 3),
                (90.0, 3),
                (91.0, 2),
                (100.0, 2),
                (101.0, 1),
                (110.0, 1),
                (111.0, 0),
                (219.0, 0),
                (220.0, 3),
                (300.0, 3),
            ],
        );
    }

    #[test]
    fn heart_rate_band_edges() {
        check(
            "heart_rate_score",
            heart_rate_score,
            &[
                (0.0, 3),
                (40.0, 3),
                (41.0, 1),
                (50.0, 1),
                (51.0, 0),
                (90.0, 0),
                (91.0, 1),
                (110.0, 1),
                (111.0, 2),
                (130.0, 2),
                (131.0, 3),
                (250.0, 3),
            ],
        );
    }

    #[test]
    fn consciousness_bands() {
        assert_eq!(consciousness_score(Consciousness::Alert), 0);
        for c in [
            Consciousness::NewConfusion,
            Consciousness::Voice,
            Consciousness::Pain,
            Consciousness::Unresponsive,
        ] {
            assert_eq!(consciousness_score(c), 3, "{c:?}");
        }
    }

    #[test]
    fn temperature_band_edges() {
        check(
            "temperature_score",
            temperature_score,
            &[
                (30.0, 3),
                (35.0, 3),
                (35.1, 1),
                (36.0, 1),
                (36.1, 0),
                (38.0, 0),
                (38.1, 1),
                (39.0, 1),
                (39.1, 2),
                (42.0, 2),
            ],
        );
    }

    #[test]
    fn rounds_to_chart_precision_before_banding() {
        check(
            "heart_rate_score",
            heart_rate_score,
            &[(90.4, 0), (90.6, 1), (40.4, 3), (40.6, 1)],
        );
        check(
            "respiratory_rate_score",
            respiratory_rate_score,
            &[(20.4, 0), (20.6, 2)],
        );
        check(
            "systolic_score",
            systolic_score,
            &[(90.4, 3), (90.6, 2), (219.4, 0), (219.6, 3)],
        );
        check(
            "spo2 scale 1",
            |v| spo2_score(v, Spo2Scale::One, false),
            &[(95.4, 1), (95.6, 0)],
        );
        check(
            "temperature_score",
            temperature_score,
            &[
                (38.04, 0),
                (38.06, 1),
                (35.04, 3),
                (35.06, 1),
                (39.04, 1),
                (39.06, 2),
            ],
        );
    }

    #[test]
    fn non_finite_input_scores_3_without_panicking() {
        for v in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
            assert_eq!(respiratory_rate_score(v), 3, "{v}");
            assert_eq!(spo2_score(v, Spo2Scale::One, false), 3, "{v}");
            assert_eq!(spo2_score(v, Spo2Scale::Two, false), 3, "{v}");
            assert_eq!(spo2_score(v, Spo2Scale::Two, true), 3, "{v}");
            assert_eq!(systolic_score(v), 3, "{v}");
            assert_eq!(heart_rate_score(v), 3, "{v}");
            assert_eq!(temperature_score(v), 3, "{v}");
        }
        let news = score(
            &Vitals {
                heart_rate: Some(f64::NAN),
                ..Vitals::default()
            },
            Spo2Scale::One,
        );
        assert_eq!(news.total, 3);
        assert_eq!(news.risk, ClinicalRisk::LowMedium);
    }

    #[test]
    fn extreme_finite_input_lands_in_outer_bands() {
        assert_eq!(heart_rate_score(1e300), 3);
        assert_eq!(heart_rate_score(-1e300), 3);
        assert_eq!(temperature_score(f64::MAX), 2);
        assert_eq!(temperature_score(f64::MIN), 3);
    }

    fn normal() -> Vitals {
        Vitals {
            respiratory_rate: Some(16.0),
            spo2: Some(98.0),
            on_oxygen: false,
            systolic: Some(120.0),
            heart_rate: Some(70.0),
            consciousness: Consciousness::Alert,
            temperature: Some(37.0),
        }
    }

    #[test]
    fn all_normal_is_0_low() {
        let news = score(&normal(), Spo2Scale::One);
        assert_eq!(news.total, 0);
        assert_eq!(news.risk, ClinicalRisk::Low);
        assert!(news.missing.is_empty());
        assert_eq!(news.measured(), 5);
        assert_eq!(news.scores.len(), 7);
    }

    #[test]
    fn worked_example_total_6_is_medium() {
        let vitals = Vitals {
            respiratory_rate: Some(22.0),
            spo2: Some(95.0),
            on_oxygen: false,
            systolic: Some(105.0),
            heart_rate: Some(105.0),
            consciousness: Consciousness::Alert,
            temperature: Some(38.5),
        };
        let news = score(&vitals, Spo2Scale::One);
        let per_parameter: Vec<(Parameter, f64, u8)> = news
            .scores
            .iter()
            .map(|s| (s.parameter, s.value, s.score))
            .collect();
        assert_eq!(
            per_parameter,
            [
                (Parameter::RespiratoryRate, 22.0, 2),
                (Parameter::Spo2, 95.0, 1),
                (Parameter::AirOrOxygen, 0.0, 0),
                (Parameter::SystolicBp, 105.0, 1),
                (Parameter::HeartRate, 105.0, 1),
                (Parameter::Consciousness, 0.0, 0),
                (Parameter::Temperature, 38.5, 1),
            ]
        );
        assert_eq!(news.total, 6);
        assert_eq!(news.risk, ClinicalRisk::Medium);
    }

    #[test]
    fn single_3_with_total_3_is_low_medium() {
        let vitals = Vitals {
            heart_rate: Some(135.0),
            ..normal()
        };
        let news = score(&vitals, Spo2Scale::One);
        assert_eq!(news.total, 3);
        assert_eq!(news.risk, ClinicalRisk::LowMedium);
    }

    #[test]
    fn new_confusion_alone_is_low_medium() {
        let vitals = Vitals {
            consciousness: Consciousness::NewConfusion,
            ..normal()
        };
        let news = score(&vitals, Spo2Scale::One);
        assert_eq!(news.total, 3);
        assert_eq!(news.risk, ClinicalRisk::LowMedium);
        let c = news
            .scores
            .iter()
            .find(|s| s.parameter == Parameter::Consciousness)
            .unwrap();
        assert_eq!((c.value, c.score), (1.0, 3));
    }

    #[test]
    fn total_7_is_high() {
        // SpO2 93 (2) + oxygen (2) + HR 115 (2) + temp 38.5 (1).
        let vitals = Vitals {
            spo2: Some(93.0),
            on_oxygen: true,
            heart_rate: Some(115.0),
            temperature: Some(38.5),
            ..normal()
        };
        let news = score(&vitals, Spo2Scale::One);
        assert_eq!(news.total, 7);
        assert_eq!(news.risk, ClinicalRisk::High);
    }

    #[test]
    fn scale_2_on_oxygen_scores_high_saturation() {
        let vitals = Vitals {
            spo2: Some(97.0),
            on_oxygen: true,
            ..normal()
        };
        // SpO2 97 on oxygen: 3 on scale 2, 0 on scale 1; oxygen itself 2 on both.
        let two = score(&vitals, Spo2Scale::Two);
        assert_eq!(two.total, 5);
        assert_eq!(two.risk, ClinicalRisk::Medium);
        let one = score(&vitals, Spo2Scale::One);
        assert_eq!(one.total, 2);
        assert_eq!(one.risk, ClinicalRisk::Low);
        let air = score(
            &Vitals {
                on_oxygen: false,
                ..vitals
            },
            Spo2Scale::Two,
        );
        assert_eq!(air.total, 0);
    }

    #[test]
    fn missing_parameters_contribute_nothing_and_are_listed() {
        let wearable = Vitals {
            spo2: Some(93.0),
            heart_rate: Some(112.0),
            ..Vitals::default()
        };
        let news = score(&wearable, Spo2Scale::One);
        assert_eq!(news.total, 4);
        assert_eq!(news.risk, ClinicalRisk::Low);
        assert_eq!(news.measured(), 2);
        assert_eq!(
            news.missing,
            [
                Parameter::RespiratoryRate,
                Parameter::SystolicBp,
                Parameter::Temperature,
            ]
        );
        let scored: Vec<Parameter> = news.scores.iter().map(|s| s.parameter).collect();
        assert_eq!(
            scored,
            [
                Parameter::Spo2,
                Parameter::AirOrOxygen,
                Parameter::HeartRate,
                Parameter::Consciousness,
            ]
        );

        let nothing = score(&Vitals::default(), Spo2Scale::One);
        assert_eq!(nothing.total, 0);
        assert_eq!(nothing.measured(), 0);
        assert_eq!(nothing.missing.len(), 5);
        assert_eq!(nothing.scores.len(), 2);
    }

    #[test]
    fn risk_bands() {
        let table = [
            (0, false, ClinicalRisk::Low),
            (4, false, ClinicalRisk::Low),
            (3, true, ClinicalRisk::LowMedium),
            (4, true, ClinicalRisk::LowMedium),
            (5, false, ClinicalRisk::Medium),
            (5, true, ClinicalRisk::Medium),
            (6, false, ClinicalRisk::Medium),
            (6, true, ClinicalRisk::Medium),
            (7, false, ClinicalRisk::High),
            (7, true, ClinicalRisk::High),
            (20, true, ClinicalRisk::High),
        ];
        for (total, any_3, expected) in table {
            assert_eq!(risk(total, any_3), expected, "risk({total}, {any_3})");
        }
    }

    #[test]
    fn serde_names() {
        assert_eq!(serde_json::to_string(&Spo2Scale::One).unwrap(), r#""one""#);
        assert_eq!(serde_json::to_string(&Spo2Scale::Two).unwrap(), r#""two""#);
        assert_eq!(
            serde_json::to_string(&Consciousness::NewConfusion).unwrap(),
            r#""new_confusion""#
        );
        assert_eq!(
            serde_json::to_string(&Parameter::SystolicBp).unwrap(),
            r#""systolic_bp""#
        );
        assert_eq!(
            serde_json::to_string(&ClinicalRisk::LowMedium).unwrap(),
            r#""low_medium""#
        );
    }
}
