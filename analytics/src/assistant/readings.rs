//! Readings the patient types: a thermometer's figure ("temp of 38.5", "fever of 102"),
//! a pulse ("my heart is racing at 180"), an oxygen saturation ("my sats are 89%"), a
//! blood pressure ("195/115"), a blood sugar ("my meter says 3.1", in mmol/L, only in a
//! sentence about diabetes) and ketones ("ketones 3.4", "ketones 2+" on a urine strip). A
//! figure is a reading when its unit follows it ("39
//! degrees", "150 bpm", "/115", "mmol") or, failing that, the nearest word of a measure
//! stands a few words before it; a count ("a fever for 38 hours"), an age ("aged 39") or
//! the weather ("gardening in 33 degrees") is not one, nor a pulse on a run, nor a figure
//! outside what the measure can read on a living person. Read from the text as written,
//! whose decimal points the extractor's normalising would take for full stops.

use super::reasoning::RecentVitals;

/// A fever is 38 °C or more (NICE NG143, the NHS)…
pub const FEVER_CELSIUS: f32 = 38.0;
/// …and a temperature below this is normal; from it to a fever it is neither, and asked.
pub const NORMAL_BELOW_CELSIUS: f32 = 37.5;
/// At 3 to 6 months this much is an amber feature (NICE NG143).
pub const HIGH_AT_3_TO_6_MONTHS_CELSIUS: f32 = 39.0;
/// A blood sugar below this is a hypo (the NHS's "4 is the floor")…
pub const HYPO_BELOW_MMOL: f32 = 4.0;
/// …and from this a high one, for which the NHS asks people with diabetes to check their
/// ketones.
pub const HIGH_SUGAR_FROM_MMOL: f32 = 11.0;
/// Blood ketones from this are a risk of DKA, for the diabetes team or a GP as soon as
/// possible (the NHS's DKA page)…
pub const KETONES_RAISED_FROM_MMOL: f32 = 1.6;
/// …and from this a very high risk, for medical help immediately.
pub const KETONES_VERY_HIGH_FROM_MMOL: f32 = 3.0;
/// A urine strip's pluses in blood ketones: the NHS sends 2+ to A&E as it does 3 mmol/L.
const KETONES_MMOL_PER_PLUS: f32 = 1.5;

/// What a figure measures.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Measure {
    Temperature,
    Pulse,
    Oxygen,
    Pressure,
    Glucose,
    Ketones,
}

/// Words that make a figure a few words after them a reading of their measure; a watch's
/// figure is a pulse, what the smartwatches of this platform show first.
#[rustfmt::skip]
const MEASURE_WORDS: [(&str, Measure); 35] = [
    ("temp", Measure::Temperature), ("temps", Measure::Temperature),
    ("temp's", Measure::Temperature), ("temperature", Measure::Temperature),
    ("temperatures", Measure::Temperature), ("temperature's", Measure::Temperature),
    ("fever", Measure::Temperature), ("thermometer", Measure::Temperature),
    ("pulse", Measure::Pulse), ("hr", Measure::Pulse), ("heartrate", Measure::Pulse),
    ("heartbeat", Measure::Pulse), ("watch", Measure::Pulse),
    ("oxygen", Measure::Oxygen), ("o2", Measure::Oxygen), ("sats", Measure::Oxygen),
    ("saturation", Measure::Oxygen), ("saturations", Measure::Oxygen),
    ("spo2", Measure::Oxygen), ("oximeter", Measure::Oxygen), ("sat", Measure::Oxygen),
    ("ox", Measure::Oxygen), ("oximetry", Measure::Oxygen),
    ("bp", Measure::Pressure), ("pressure", Measure::Pressure),
    ("sugar", Measure::Glucose), ("sugars", Measure::Glucose), ("glucose", Measure::Glucose),
    ("bm", Measure::Glucose), ("bms", Measure::Glucose), ("glucometer", Measure::Glucose),
    ("meter", Measure::Glucose), ("ketones", Measure::Ketones), ("ketone", Measure::Ketones),
    ("ketostix", Measure::Ketones),
];
/// Words that make a figure a pulse when the heart is named before them ("heart rate of
/// 140", "my heart is racing at 180"); without it a rate may be the breathing's.
#[rustfmt::skip]
const HEART_DOING: [&str; 10] = [
    "rate", "racing", "pounding", "beating", "thumping", "going", "is", "was", "at", "'s",
];
const HEART: [&str; 2] = ["heart", "heart's"];
/// …unless what is named is an illness of the heart ("a heart attack at 55").
#[rustfmt::skip]
const HEART_ILLNESS: [&str; 7] = [
    "attack", "attacks", "surgery", "failure", "disease", "problems", "condition",
];
/// Units after a figure.
const CELSIUS: [&str; 6] = ["°", "°c", "c", "degrees", "celsius", "centigrade"];
const FAHRENHEIT: [&str; 3] = ["°f", "f", "fahrenheit"];
const BEATS: [&str; 3] = ["bpm", "beats", "beat"];
/// Units of a blood sugar: mmol/L, the UK's, and mg/dL.
const MMOL: [&str; 3] = ["mmol", "mmol/l", "mmols"];
const MG_DL: [&str; 2] = ["mg/dl", "mgdl"];
/// A blood sugar's figure without a unit or a decimal point counts only just after these
/// ("my sugar is 3", "bm 3", "sugar is high, 18"; not "sugar in my tea, 2 spoons")…
#[rustfmt::skip]
const SUGAR_SAYS: [&str; 11] = [
    "is", "was", "of", "at", "to", "says", "said", "reads", "reading", "high", "low",
];
/// …and only in a sentence about diabetes ("meter" is a peak-flow meter's too).
#[rustfmt::skip]
const DIABETES: [&str; 10] = [
    "sugar", "sugars", "glucose", "insulin", "diabetic", "diabetes", "hypo", "bm", "bms",
    "glucometer",
];
/// "beating 140 times a minute"
const PER_MINUTE: [&str; 3] = ["minute", "min", "mins"];
/// How far before a figure its measure may be named ("my oxygen on the home monitor is
/// 91").
const WINDOW: usize = 6;
/// A figure after these is an age, not a reading ("aged 39", "I'm 40")…
const AN_AGE_BEFORE: [&str; 5] = ["aged", "age", "i'm", "im", "am"];
/// …and before these a count ("for 38 hours", "95 kg").
#[rustfmt::skip]
const COUNTED: [&str; 9] = [
    "minute", "min", "hour", "day", "week", "month", "year", "time", "kg",
];
/// A temperature known by its unit alone is the weather's in a sentence with these
/// ("it's 38 degrees outside"), or after "in" ("gardening in 33 degrees").
#[rustfmt::skip]
const WEATHER: [&str; 8] = [
    "outside", "heat", "heatwave", "weather", "sun", "sunshine", "shade", "room",
];
/// A pulse in a sentence with these is exercise's, which raises it on purpose ("my watch
/// said 165 on my run").
#[rustfmt::skip]
const EXERCISE: [&str; 12] = [
    "run", "running", "jog", "jogging", "workout", "gym", "exercise", "exercising",
    "cycling", "training", "spin", "sprint",
];
/// What each measure can read on a living person; figures outside are something else.
const BODY_CELSIUS: std::ops::RangeInclusive<f32> = 34.0..=43.0;
const PULSE: std::ops::RangeInclusive<f32> = 20.0..=250.0;
const SATURATION: std::ops::RangeInclusive<f32> = 50.0..=100.0;
const SYSTOLIC: std::ops::RangeInclusive<f32> = 60.0..=300.0;
const GLUCOSE_MMOL: std::ops::RangeInclusive<f32> = 1.0..=40.0;
const KETONES_MMOL: std::ops::RangeInclusive<f32> = 0.0..=12.0;
/// mg/dL in a mmol/L; a blood sugar's figure above the range in mmol/L is mg/dL.
const MG_DL_PER_MMOL: f32 = 18.0;
/// Figures of a temperature from this up, without "°c", are Fahrenheit ("fever of 102").
const FAHRENHEIT_FROM: f32 = 90.0;

/// What the text reads: the highest temperature in °C, the worst of the vitals, the
/// lowest and highest blood sugar and the highest ketones in mmol/L.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Readings {
    pub celsius: Option<f32>,
    pub vitals: RecentVitals,
    pub lowest_glucose_mmol: Option<f32>,
    pub highest_glucose_mmol: Option<f32>,
    pub ketones_mmol: Option<f32>,
}

/// The readings `text` gives.
pub fn read(text: &str) -> Readings {
    let lower = text.to_lowercase().replace('’', "'");
    let mut readings = Readings::default();
    for sentence in lower
        .split(['!', '?', ';', '\n'])
        .flat_map(|s| s.split(". "))
    {
        let words: Vec<&str> = sentence
            .split(|c: char| c.is_whitespace() || matches!(c, ',' | ':' | '(' | ')' | '='))
            .map(|w| w.trim_end_matches('.'))
            .filter(|w| !w.is_empty())
            .collect();
        for i in 0..words.len() {
            if let Some((measure, value)) = reading(&words, i) {
                readings.add(measure, value);
            }
        }
    }
    readings
}

impl Readings {
    fn add(&mut self, measure: Measure, value: f32) {
        let value64 = Some(f64::from(value));
        let more = RecentVitals {
            spo2_min: value64.filter(|_| measure == Measure::Oxygen),
            heart_rate_max: value64.filter(|_| measure == Measure::Pulse),
            systolic_max: value64.filter(|_| measure == Measure::Pressure),
        };
        self.vitals = self.vitals.worst(more);
        let keep = |kept: &mut Option<f32>, pick: fn(f32, f32) -> f32| {
            *kept = Some(kept.map_or(value, |k| pick(k, value)));
        };
        match measure {
            Measure::Temperature => keep(&mut self.celsius, f32::max),
            Measure::Glucose => {
                keep(&mut self.lowest_glucose_mmol, f32::min);
                keep(&mut self.highest_glucose_mmol, f32::max);
            }
            Measure::Ketones => keep(&mut self.ketones_mmol, f32::max),
            _ => {}
        }
    }
}

/// The reading the `i`th word of a sentence gives, if it is a figure of one (a
/// temperature in °C).
fn reading(words: &[&str], i: usize) -> Option<(Measure, f32)> {
    let word = words[i];
    let figure_ends = word
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(word.len());
    let figure: f32 = word[..figure_ends].parse().ok()?;
    let next = words.get(i + 1).copied().unwrap_or("");
    let unit = match &word[figure_ends..] {
        "" => next,
        attached => attached,
    };
    let before = &words[i.saturating_sub(WINDOW)..i];
    let per_minute = unit == "times"
        && words[i + 1..]
            .iter()
            .take(3)
            .any(|w| PER_MINUTE.contains(w));
    if before.last().is_some_and(|w| AN_AGE_BEFORE.contains(w))
        || (COUNTED.contains(&unit.trim_end_matches('s')) && !per_minute)
    {
        return None;
    }
    let (celsius_unit, fahrenheit_unit) = (CELSIUS.contains(&unit), FAHRENHEIT.contains(&unit));
    let weather = words.iter().any(|w| WEATHER.contains(w)) || before.last() == Some(&"in");
    let by_unit = if (celsius_unit || fahrenheit_unit) && !weather {
        Some(Measure::Temperature)
    } else if BEATS.contains(&unit) || per_minute {
        Some(Measure::Pulse)
    } else if unit.starts_with('/') || unit == "over" {
        Some(Measure::Pressure)
    } else if MMOL.contains(&unit) || MG_DL.contains(&unit) {
        // Ketones are in mmol/L too; a urine strip's mg/dL is not converted, and is no
        // blood sugar.
        match named_before(before) {
            Some(Measure::Ketones) if MMOL.contains(&unit) => Some(Measure::Ketones),
            Some(Measure::Ketones) => return None,
            _ => Some(Measure::Glucose),
        }
    } else {
        None
    };
    let thermometer_after = words[i + 1..].iter().take(3).any(|w| *w == "thermometer");
    let measure = by_unit
        .or_else(|| named_before(before))
        .or_else(|| thermometer_after.then_some(Measure::Temperature))?;
    if measure == Measure::Pulse && words.iter().any(|w| EXERCISE.contains(w)) {
        return None;
    }
    if measure == Measure::Ketones && !said_as_ketones(word, figure_ends, unit, before) {
        return None;
    }
    if measure == Measure::Glucose {
        let plain = by_unit.is_none() && !word[..figure_ends].contains('.');
        let said = before
            .last()
            .is_some_and(|w| SUGAR_SAYS.contains(w) || DIABETES.contains(w));
        if (plain && !said) || !words.iter().any(|w| DIABETES.contains(w)) {
            return None;
        }
    }
    let value = match measure {
        Measure::Temperature if fahrenheit_unit || (figure >= FAHRENHEIT_FROM && !celsius_unit) => {
            (figure - 32.0) * 5.0 / 9.0
        }
        Measure::Glucose if MG_DL.contains(&unit) || figure > *GLUCOSE_MMOL.end() => {
            figure / MG_DL_PER_MMOL
        }
        Measure::Ketones if unit.starts_with('+') => figure * KETONES_MMOL_PER_PLUS,
        _ => figure,
    };
    let range = match measure {
        Measure::Temperature => BODY_CELSIUS,
        Measure::Pulse => PULSE,
        Measure::Oxygen => SATURATION,
        Measure::Pressure => SYSTOLIC,
        Measure::Glucose => GLUCOSE_MMOL,
        Measure::Ketones => KETONES_MMOL,
    };
    range.contains(&value).then_some((measure, value))
}

/// Whether a figure after a word of ketones is their reading: with a decimal point
/// ("ketones 0.4"), a unit ("2 mmol", a strip's "2+"), or just after a word that says it
/// ("ketones are 3"), but not a count ("ketones twice in 3 days").
fn said_as_ketones(word: &str, figure_ends: usize, unit: &str, before: &[&str]) -> bool {
    word[..figure_ends].contains('.')
        || unit.starts_with('+')
        || MMOL.contains(&unit)
        || before
            .last()
            .is_some_and(|w| SUGAR_SAYS.contains(w) || matches!(*w, "are" | "ketones" | "ketone"))
}

/// The measure the word nearest before a figure names.
fn named_before(before: &[&str]) -> Option<Measure> {
    before.iter().enumerate().rev().find_map(|(j, w)| {
        MEASURE_WORDS
            .iter()
            .find(|(name, _)| name == w)
            .map(|&(_, measure)| measure)
            .or_else(|| {
                let heart = before[..j].iter().rposition(|w| HEART.contains(w))?;
                let between = &before[heart + 1..=j];
                (HEART_DOING.contains(w) && !between.iter().any(|w| HEART_ILLNESS.contains(w)))
                    .then_some(Measure::Pulse)
            })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_thermometers_figure_is_read_in_celsius_and_other_figures_are_not() {
        for (said, celsius) in [
            ("temp of 38.5 since last night", 38.5),
            ("My temperature is 36.8.", 36.8),
            ("fever of 102 and my throat hurts", 38.89),
            ("shivering and 39 degrees", 39.0),
            ("she's hot, 38.2C", 38.2),
            ("the thermometer says 39.1°C", 39.1),
            ("38.5 on the thermometer", 38.5),
            ("temp went from 37.5 to 39.4 overnight", 39.4),
            ("temperature 38. Pregnancy test negative", 38.0),
            ("it was 101.3°F this morning", 38.5),
        ] {
            let read = read(said).celsius.unwrap_or_else(|| panic!("{said}"));
            assert!((read - celsius).abs() < 0.01, "{said}: {read}");
        }
        for said in [
            "doing the garden in 33 degrees with no hat",
            "it's 38 degrees outside and I feel faint",
            "I'm 38 weeks pregnant with a fever",
            "had a fever for 38 hours",
            "a temperature for 3 days",
            "I weigh 95 kg and have a fever",
            "aged 39, fever and cough",
            "took 2 paracetamol for the fever",
        ] {
            assert_eq!(read(said).celsius, None, "{said}");
        }
    }

    #[test]
    fn a_blood_sugar_is_read_in_mmol_per_litre_in_a_sentence_about_diabetes() {
        for (said, mmol) in [
            ("I'm on insulin and feel shaky, meter says 3.1", 3.1),
            ("my blood sugar is 3", 3.0),
            ("bm 2.8 and I feel sweaty", 2.8),
            ("my sugar dropped to 54 mg/dl", 3.0),
            ("glucose 6.5 mmol this morning", 6.5),
        ] {
            let read = read(said)
                .lowest_glucose_mmol
                .unwrap_or_else(|| panic!("{said}"));
            assert!((read - mmol).abs() < 0.01, "{said}: {read}");
        }
        for said in [
            "I take sugar in my tea, 2 spoons",
            "my peak flow meter says 300",
            "I cut down on sugar 3 weeks ago",
        ] {
            assert_eq!(read(said).lowest_glucose_mmol, None, "{said}");
        }
    }

    #[test]
    fn ketones_are_read_from_a_meter_or_a_urine_strip_and_apart_from_the_sugar() {
        for (said, mmol) in [
            ("ketones 3.4 on the meter", 3.4),
            ("my ketones are 1", 1.0),
            ("ketones 2+ on the stick", 3.0),
            ("blood ketone 0.6 mmol", 0.6),
        ] {
            let read = read(said).ketones_mmol.unwrap_or_else(|| panic!("{said}"));
            assert!((read - mmol).abs() < 0.01, "{said}: {read}");
        }
        let both = read("my blood sugar is high, 18, ketones are 3.2");
        assert_eq!(both.highest_glucose_mmol, Some(18.0));
        assert_eq!(both.lowest_glucose_mmol, Some(18.0));
        assert_eq!(both.ketones_mmol, Some(3.2));
        assert_eq!(read("tested my ketones 3 times today").ketones_mmol, None);
        // A urine strip's mg/dL is neither ketones in mmol/L nor a blood sugar.
        let strip = read("my sugar is high and ketones 5 mg/dl");
        assert_eq!(
            (strip.ketones_mmol, strip.lowest_glucose_mmol),
            (None, None)
        );
    }

    #[test]
    fn a_pulse_a_saturation_and_a_blood_pressure_are_read_by_their_words_or_units() {
        let vitals = |said: &str| read(said).vitals;
        assert_eq!(
            vitals("my heart is racing at 180").heart_rate_max,
            Some(180.0)
        );
        assert_eq!(vitals("pulse 150, feel shaky").heart_rate_max, Some(150.0));
        assert_eq!(vitals("watch says 142 bpm").heart_rate_max, Some(142.0));
        assert_eq!(vitals("my watch says 190").heart_rate_max, Some(190.0));
        assert_eq!(vitals("my heart is at 140").heart_rate_max, Some(140.0));
        let per_minute = vitals("it's beating 160 times a minute");
        assert_eq!(per_minute.heart_rate_max, Some(160.0));
        // The nearest word decides: a pulse oximeter's figure is a saturation.
        assert_eq!(vitals("the pulse ox says 88").spo2_min, Some(88.0));
        assert_eq!(
            vitals("my oxygen on the home monitor is 91").spo2_min,
            Some(91.0)
        );
        assert_eq!(vitals("my oxygen is 89%").spo2_min, Some(89.0));
        assert_eq!(vitals("sats 91 on the oximeter").spo2_min, Some(91.0));
        assert_eq!(
            vitals("my blood pressure is 195/115").systolic_max,
            Some(195.0)
        );
        assert_eq!(vitals("bp 182 over 100").systolic_max, Some(182.0));
        // Each figure takes the measure named nearest before it, the worst of each kept.
        let both = vitals("oxygen 95, pulse 98, then oxygen 90");
        assert_eq!(
            (both.spo2_min, both.heart_rate_max),
            (Some(90.0), Some(98.0))
        );
        for said in [
            "I had a heart attack 5 years ago",
            "I had a heart attack at 55",
            "I cough 30 times a day",
            "heart problems since 2019",
            "my breathing rate is 30",
            "pressure in my chest for 20 minutes",
            "I'm 45 and my heart races",
            "my watch said my heart rate hit 165 on my run",
            "scored 95% in my exam",
            "it's 38 degrees outside",
        ] {
            let read = vitals(said);
            assert_eq!(read, RecentVitals::default(), "{said}");
        }
    }
}
