//! What a message says beside its symptoms: how long they have gone on ("for 3 weeks", but
//! not a rate such as "twice a year"), how severe they are ("worst ever", "9/10"), whether pain
//! relief has failed ("paracetamol isn't touching it"), and whom the message is about (an
//! age, the relative it opens with).

use super::words::{NEGATION_CUES, sentence_words};
use crate::assistant::knowledge::Sex;
use crate::assistant::reasoning::Subject;

/// Words of severity: they count when they describe pain or the illness (see
/// [`severe`])…
const SEVERE: [&str; 6] = [
    "worst",
    "severe",
    "unbearable",
    "excruciating",
    "terrible",
    "extreme",
];

/// …which these words name, within [`SEVERITY_REACH`] words of one ("excruciating stabbing
/// pain", "the pain is unbearable", "worst ever")…
const SEVERE_OF: [&str; 16] = [
    "pain",
    "pains",
    "painful",
    "ache",
    "aches",
    "aching",
    "headache",
    "headaches",
    "cramp",
    "cramps",
    "hurts",
    "hurting",
    "sore",
    "ever",
    "life",
    "illness",
];

const SEVERITY_REACH: usize = 3;

/// …while these are severe pain by themselves.
const AGONY: [&str; 3] = ["agony", "agonising", "agonizing"];

/// Pain relief a patient takes without a prescription, or commonly has at home…
pub(super) const PAIN_RELIEF: [&str; 10] = [
    "painkiller",
    "painkillers",
    "killers",
    "paracetamol",
    "ibuprofen",
    "calpol",
    "nurofen",
    "codeine",
    "codamol",
    "naproxen",
];

/// …said not to work: a negation or "barely" followed by one of these, with at most
/// [`RELIEF_FILLERS`] between ("aren't touching it", "won't shift", "hasn't made any
/// difference", "doesn't do anything"); "haven't taken any" is not among them.
pub(super) const RELIEF_WORKS: [&str; 23] = [
    "help",
    "helps",
    "helped",
    "helping",
    "work",
    "works",
    "worked",
    "working",
    "touch",
    "touches",
    "touching",
    "touched",
    "shift",
    "shifts",
    "shifting",
    "ease",
    "eases",
    "eased",
    "easing",
    "difference",
    "anything",
    "relief",
    "better",
];

/// Words that may stand between the negation and what it says the relief does not do.
pub(super) const RELIEF_FILLERS: [&str; 14] = [
    "really", "even", "do", "doing", "done", "been", "seem", "seems", "seemed", "to", "much",
    "made", "make", "any",
];

/// Relatives a message may be about ([`subject`]), by sex…
#[rustfmt::skip]
const FEMALE_RELATIVES: [&str; 15] = [
    "daughter", "girl", "mum", "mom", "mother", "mummy", "wife", "sister", "grandma",
    "granny", "nan", "nana", "grandmother", "aunt", "niece",
];

#[rustfmt::skip]
const MALE_RELATIVES: [&str; 13] = [
    "son", "boy", "dad", "father", "daddy", "husband", "brother", "grandad", "granddad",
    "grandpa", "grandfather", "uncle", "nephew",
];

/// …named this near the "my" that opens it ("my 3 year old son").
const RELATIVE_REACH: usize = 4;

/// Words of a carer's worry that may come before the "my" a message opens with ("I think
/// my 2 month old has…", "I'm really worried that my baby…").
#[rustfmt::skip]
const CARERS_OPENING: [&str; 12] = [
    "i", "i'm", "im", "think", "worried", "concerned", "scared", "that", "am", "really",
    "so", "hi",
];

/// A baby a message opens with ("my baby", "our newborn"): under a year, as the NHS's
/// pages for babies mean…
const BABY_WORDS: [&str; 3] = ["baby", "newborn", "infant"];

/// …unless the writer speaks of themselves too ("my baby is 2 months old and I cry every
/// day", "my 5 week old feeds well but my breast is sore"): a mother's own symptoms are
/// not her baby's…
#[rustfmt::skip]
const FIRST_PERSON: [&str; 9] = ["i", "i'm", "im", "i've", "ive", "i'd", "me", "myself", "my"];

/// …though a carer's worry or care is no symptom of theirs ("I'm worried", "I've given
/// her Calpol"), named this near the word of themselves.
#[rustfmt::skip]
const CARING: [&str; 11] = [
    "worried", "concerned", "scared", "worrying", "think", "thought", "noticed", "gave",
    "given", "tried", "checked",
];

const CARING_REACH: usize = 2;

/// Reliever inhalers, whose not helping is an asthma attack to call 999 for.
#[rustfmt::skip]
pub(super) const RELIEVERS: [&str; 7] = [
    "inhaler", "inhalers", "reliever", "puffer", "ventolin", "salbutamol", "blue",
];

/// "does nothing", "is doing nothing"
const RELIEF_DOES: [&str; 4] = ["do", "does", "did", "doing"];

/// Negations of relief besides [`NEGATION_CUES`] ("barely helps", "won't shift it").
const RELIEF_NEGATIONS: [&str; 4] = ["barely", "hardly", "won't", "wont"];

/// Words that make "a week" after them how often ([`is_rate`])…
const FREQUENCIES: [&str; 4] = ["times", "once", "twice", "thrice"];

/// …as a plural does, which these words ending in "s" are not.
#[rustfmt::skip]
const NOT_PLURALS: [&str; 9] = [
    "this", "plus", "less", "unless", "across", "always", "towards", "perhaps", "thus",
];

/// Days in a unit of age ([`age_in_days`])…
const DAYS_IN: [(&str, f32); 5] = [
    ("day", 1.0),
    ("week", 7.0),
    ("month", 30.44),
    ("year", DAYS_IN_A_YEAR),
    ("yr", DAYS_IN_A_YEAR),
];

const DAYS_IN_A_YEAR: f32 = 365.25;

/// …and ages in days: under 3 months, and under 6 (NICE NG143's bands)…
pub(super) const THREE_MONTHS_DAYS: f32 = 91.0;

pub(super) const SIX_MONTHS_DAYS: f32 = 182.6;

/// …counted in figures or in words ("a week old", "ten days old").
#[rustfmt::skip]
const NUMBER_WORDS: [(&str, u32); 16] = [
    ("a", 1), ("an", 1), ("one", 1), ("two", 2), ("three", 3), ("four", 4), ("five", 5),
    ("six", 6), ("seven", 7), ("eight", 8), ("nine", 9), ("ten", 10), ("eleven", 11),
    ("twelve", 12), ("fourteen", 14), ("twenty", 20),
];

/// The lowest pain score out of 10 that is severe pain: 8-10 in the Manchester Triage
/// System's pain ladder.
const SEVERE_SCORE: u32 = 8;

/// Whether the text calls its pain or illness severe: not "a terrible mum", nor the heel
/// pain "worst for the first few steps"; or scores its pain 8 out of 10 or more ("the
/// pain is 9 out of 10", "pain 10/10").
pub(super) fn severe(text: &str) -> bool {
    let words: Vec<&str> = text
        .split([' ', ',', '.'])
        .filter(|w| !w.is_empty())
        .collect();
    let of_pain = |i: usize| {
        words[i.saturating_sub(SEVERITY_REACH)..(i + SEVERITY_REACH + 1).min(words.len())]
            .iter()
            .any(|near| SEVERE_OF.contains(near))
    };
    // Normalised, "9/10" is "9 10".
    let out_of_ten = |i: usize| {
        words.get(i + 1) == Some(&"10") || words.get(i + 1..i + 4) == Some(&["out", "of", "10"][..])
    };
    words.iter().enumerate().any(|(i, w)| {
        AGONY.contains(w)
            || SEVERE.contains(w) && of_pain(i)
            || w.parse::<u32>()
                .is_ok_and(|score| (SEVERE_SCORE..=10).contains(&score))
                && out_of_ten(i)
                && of_pain(i)
    })
}

/// Whether the text says, in one sentence, that one of `remedies` is not helping:
/// painkillers ([`PAIN_RELIEF`]: "painkillers aren't touching it", "paracetamol won't
/// shift it", "ibuprofen barely helps") or a reliever inhaler ([`RELIEVERS`]: "my inhaler
/// isn't helping", "the blue one is doing nothing").
pub(super) fn fails_to_help(text: &str, remedies: &[&str]) -> bool {
    sentence_words(text).any(|words| {
        let fails = words.iter().enumerate().any(|(i, w)| {
            if *w == "nothing" && i > 0 && RELIEF_DOES.contains(&words[i - 1]) {
                return true;
            }
            let negation =
                NEGATION_CUES.contains(w) || w.ends_with("n't") || RELIEF_NEGATIONS.contains(w);
            negation
                && words[i + 1..]
                    .iter()
                    .find(|next| !RELIEF_FILLERS.contains(next))
                    .is_some_and(|next| RELIEF_WORKS.contains(next))
        });
        fails && words.iter().any(|w| remedies.contains(w))
    })
}

/// The first age the text gives in days, weeks, months or years ("my 6 week old", "a
/// 4-month-old", "aged 5 months", "ten days old", "my 80 year old mum"), in days.
pub(super) fn age_in_days(text: &str) -> Option<f32> {
    let days = |count: &str, unit: &str| Some(number(count)? as f32 * days_in(unit)?);
    sentence_words(text).find_map(|words| {
        words.windows(3).find_map(|w| match (w[0], w[2]) {
            ("aged", _) => days(w[1], w[2]),
            (_, "old") => days(w[0], w[1]),
            _ => None,
        })
    })
}

/// The days in a unit of age or duration ("week", "months"), if it is one.
pub(super) fn days_in(unit: &str) -> Option<f32> {
    DAYS_IN
        .iter()
        .find(|(name, _)| *name == unit.trim_end_matches('s'))
        .map(|(_, days)| *days)
}

/// Whom the text is about, when it says: the age it gives ([`age_in_days`], in whole
/// years) and the sex of the relative it opens with or names after that age ("my son
/// has…", "my 3 year old daughter"), after a carer's worry or not ("I think my…"). A
/// relative named later is not the subject ("I caught it from my son"). A baby under a
/// year is the subject only when the text opens with them ("my 8 month old has…", "I'm
/// worried my baby has…") and speaks of no one else: an age said
/// elsewhere may be the child of a mother speaking of her own breast or mood (whose fever
/// it is, is then asked: see `conversation`).
pub(super) fn subject(text: &str) -> Subject {
    let words: Vec<&str> = text
        .split([' ', ',', '.'])
        .filter(|w| !w.is_empty())
        .collect();
    // The "my" that opens it, after a carer's worry ("I think my…", "I'm worried my…").
    let my = words
        .iter()
        .position(|w| !CARERS_OPENING.contains(w))
        .filter(|&i| ["my", "our"].contains(&words[i]));
    let opens_with_my = my.is_some();
    let after_my = my.map_or(1, |i| i + 1);
    let mut age = age_in_days(text).map(|days| (days / DAYS_IN_A_YEAR) as u32);
    if age.is_none_or(|age| age == 0) {
        let opening = words.iter().skip(after_my).take(RELATIVE_REACH);
        let a_baby = opening.clone().any(|w| BABY_WORDS.contains(w))
            || (age == Some(0) && opening.clone().any(|w| *w == "old"));
        let only_of_the_baby = !words.iter().enumerate().skip(after_my).any(|(i, w)| {
            let after = &words[i + 1..(i + 1 + CARING_REACH).min(words.len())];
            FIRST_PERSON.contains(w) && !after.iter().any(|w| CARING.contains(w))
        });
        let of_the_baby = opens_with_my && a_baby && only_of_the_baby;
        if age == Some(0) && !of_the_baby {
            return Subject::default();
        }
        age = of_the_baby.then_some(0);
    }
    let relative = |w: &&str| {
        let w = w.trim_end_matches("'s");
        FEMALE_RELATIVES
            .contains(&w)
            .then_some(Sex::Female)
            .or_else(|| MALE_RELATIVES.contains(&w).then_some(Sex::Male))
    };
    let opening = opens_with_my
        .then(|| {
            words
                .iter()
                .skip(after_my)
                .take(RELATIVE_REACH)
                .find_map(relative)
        })
        .flatten();
    let after_age = words
        .windows(2)
        .find(|w| w[0] == "old")
        .and_then(|w| relative(&w[1]));
    Subject {
        age,
        sex: opening.or(after_age),
    }
}

/// The longest duration the text mentions, in days ("for 3 weeks", "two days", "a month",
/// "a couple of weeks", "a week and a half", "for the past fortnight", "6 wks"), sentence
/// by sentence; "… ago" counts only as an onset (see [`ONSET`]).
pub(super) fn duration_days(text: &str) -> Option<u32> {
    text.split(['.', '!', '?', ';'])
        .filter_map(sentence_duration_days)
        .max()
}

/// Words that make "… ago" the start of what is felt now ("it started 3 weeks ago", "since
/// a fall 5 months ago") rather than a past event ("I had a heart attack 5 years ago", "had
/// my baby 6 weeks ago").
const ONSET: [&str; 9] = [
    "since", "started", "start", "starting", "began", "begun", "came", "first", "noticed",
];

/// Whether `word`, before "a day" or "a year", makes it a rate: a count ("40 a day"), how
/// many times ("twice a week"), or what is counted ("3 pints a night").
fn is_rate(word: &str) -> bool {
    word.parse::<u32>().is_ok()
        || FREQUENCIES.contains(&word)
        || (word.len() > 3
            && word.ends_with('s')
            && !word.contains('\'')
            && !NOT_PLURALS.contains(&word))
}

/// The number a word is, in figures or in words ([`NUMBER_WORDS`]).
fn number(word: &str) -> Option<u32> {
    word.parse().ok().or_else(|| {
        NUMBER_WORDS
            .iter()
            .find(|(w, _)| *w == word)
            .map(|&(_, n)| n)
    })
}

/// How many a word counts before a unit of time: a [`number`] or a vague count ("a
/// couple", "a few", "several").
fn count(word: &str) -> Option<u32> {
    const VAGUE: [(&str, u32); 3] = [("couple", 2), ("few", 3), ("several", 4)];
    number(word).or_else(|| VAGUE.iter().find(|(w, _)| *w == word).map(|&(_, n)| n))
}

/// The days a unit of time is ("weeks", "wk", "fortnight").
fn unit_days(word: &str) -> Option<u32> {
    match word.trim_end_matches('s') {
        "day" => Some(1),
        "week" | "wk" => Some(7),
        "fortnight" => Some(14),
        "month" | "mth" | "mnth" => Some(30),
        "year" | "yr" => Some(365),
        _ => None,
    }
}

pub(super) fn sentence_duration_days(sentence: &str) -> Option<u32> {
    let words: Vec<&str> = sentence
        .split([' ', ','])
        .filter(|w| !w.is_empty())
        .collect();
    let mut longest = None;
    for i in 0..words.len() {
        // "for the past fortnight", "over the last month": one of the unit.
        let the_last = i >= 2
            && ["past", "last"].contains(&words[i])
            && words[i - 1] == "the"
            && ["for", "over"].contains(&words[i - 2]);
        // "for weeks": a plural is two at least.
        let plural = words[i] == "for"
            && words
                .get(i + 1)
                .is_some_and(|w| w.ends_with('s') && unit_days(w).is_some());
        let Some(count) = count(words[i])
            .or(the_last.then_some(1))
            .or(plural.then_some(2))
        else {
            continue;
        };
        // "a couple of weeks": the unit after "of".
        let at = if words.get(i + 1) == Some(&"of") {
            i + 2
        } else {
            i + 1
        };
        let Some(unit) = words.get(at).and_then(|w| unit_days(w)) else {
            continue;
        };
        let next = words.get(at + 1);
        // "a 3 month old", "6 weeks pregnant": an age, not how long it has lasted.
        if next.is_some_and(|next| ["old", "pregnant", "along"].contains(next)) {
            continue;
        }
        if next == Some(&"ago") && !words[..i].iter().any(|w| ONSET.contains(w)) {
            continue;
        }
        // "a few times a year", "40 a day", "3 pints a night": how often, not how long.
        if matches!(words[i], "a" | "an") && i > 0 && is_rate(words[i - 1]) {
            continue;
        }
        // "a week and a half"
        let half = if words.get(at + 1..at + 4) == Some(&["and", "a", "half"][..]) {
            unit / 2
        } else {
            0
        };
        let days = count.saturating_mul(unit).saturating_add(half);
        longest = longest.max(Some(days));
    }
    longest
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::assistant::extract::words::normalise;

    #[test]
    fn whom_a_message_is_about_is_read_from_an_age_and_the_relative_it_opens_with() {
        let about = |said: &str| subject(&normalise(said));
        assert_eq!(
            about("My 3 year old son has a barking cough"),
            Subject {
                age: Some(3),
                sex: Some(Sex::Male)
            }
        );
        assert_eq!(
            about("my 6 week old son is off his feeds"),
            Subject {
                age: Some(0),
                sex: Some(Sex::Male)
            }
        );
        assert_eq!(about("My baby has diarrhoea and I'm worried").age, Some(0));
        // A carer's worry may come before the "my".
        assert_eq!(about("I think my 2 month old has thrush").age, Some(0));
        assert_eq!(about("I'm really worried my baby has a fever").age, Some(0));
        assert_eq!(
            about("I think my 3 week old gave me thrush"),
            Subject::default()
        );
        // A mother may speak of her own mood or breast beside her baby's age.
        for said in [
            "My baby is 2 months old and I cry every day",
            "my 5 week old son feeds well but my breast is red",
            "I'm breastfeeding my 6 week old and have a fever",
        ] {
            assert_eq!(about(said), Subject::default(), "{said}");
        }
        assert_eq!(about("My mum has had a fall").sex, Some(Sex::Female));
        assert_eq!(about("I'm worried about my 80 year old dad").age, Some(80));
        assert_eq!(
            about("I'm worried about my 80 year old dad").sex,
            Some(Sex::Male)
        );
        assert_eq!(
            about("I have a sore throat, I caught it from my son"),
            Subject::default()
        );
    }

    #[test]
    fn severity_counts_when_it_describes_pain_or_illness() {
        for text in [
            "excruciating stabbing pain behind my eye",
            "the pain is unbearable",
            "worst headache of my life",
            "i'm in agony",
            "the worst i've ever felt",
            "the pain is 9 out of 10",
            "i'd score the headache 8/10",
            "pain 10/10",
        ] {
            assert!(severe(&normalise(text)), "{text}");
        }
        for text in [
            "i feel like a terrible mum",
            "pain under my heel that's worst for the first few steps in the morning",
            "terrible sleep",
            "a sore throat",
            "the pain is about 5 out of 10",
            "8 out of 10 nights i can't sleep",
        ] {
            assert!(!severe(&normalise(text)), "{text}");
        }
    }

    #[test]
    fn painkillers_not_working_is_read_but_not_having_taken_any() {
        for text in [
            "Painkillers at home aren't touching it.",
            "a headache that paracetamol won't shift",
            "ibuprofen barely helps",
            "I took paracetamol but it's not helping",
            "Calpol hasn't made any difference",
            "co-codamol hardly touches it",
            "pain killers don't seem to do anything",
            "painkillers aren't doing anything",
            "paracetamol does nothing for it",
        ] {
            assert!(fails_to_help(&normalise(text), &PAIN_RELIEF), "{text}");
        }
        for text in [
            "I haven't taken any painkillers yet",
            "ibuprofen helps a bit",
            "still drinking and playing when the calpol kicks in",
            "not helping. I took paracetamol this morning",
            "nothing helps the itch",
        ] {
            assert!(!fails_to_help(&normalise(text), &PAIN_RELIEF), "{text}");
        }
    }

    #[test]
    fn durations_take_the_longest_mentioned() {
        assert_eq!(duration_days("for 3 weeks now"), Some(21));
        assert_eq!(duration_days("sore for a fortnight"), Some(14));
        assert_eq!(duration_days("since a couple days"), Some(2));
        assert_eq!(
            duration_days("it started two months ago then a week of fever"),
            Some(60)
        );
        // A past event is not how long the complaint has lasted; an onset is.
        assert_eq!(
            duration_days("i had a heart attack 5 years ago. chest pain today"),
            None
        );
        assert_eq!(
            duration_days("had my son three weeks ago and now my breast is red"),
            None
        );
        assert_eq!(
            duration_days("nightmares since a car crash 5 months ago"),
            Some(150)
        );
        assert_eq!(duration_days("this morning"), None);
        for rate in [
            "i get these a few times a year",
            "smoked 40 a day",
            "3 pints a night, twice a week",
        ] {
            assert_eq!(duration_days(rate), None, "{rate}");
        }
        assert_eq!(duration_days("for nearly a week"), Some(7));
        assert_eq!(duration_days("had it for over a month"), Some(30));
        assert_eq!(duration_days("it's a week now"), Some(7));
        assert_eq!(
            duration_days("my 3 month old has been wheezy for 2 days"),
            Some(2)
        );
        assert_eq!(duration_days("i'm 6 weeks pregnant"), None);
    }

    #[test]
    fn durations_are_read_as_people_say_them() {
        for (said, days) in [
            ("it's been sore for a couple of weeks", 14),
            ("a cough for eight days", 8),
            ("twelve days of this", 12),
            ("it's been twenty days", 20),
            ("on and off for a week and a half", 10),
            ("for the past fortnight", 14),
            ("getting worse over the last month", 30),
            ("for 6 wks", 42),
            ("a rash for a couple of days", 2),
            ("2 yrs", 730),
            ("i've had this cough for weeks", 14),
            ("my knee has hurt for months", 60),
        ] {
            assert_eq!(duration_days(said), Some(days), "{said}");
        }
        // What happened in a while, or when, is not how long it has lasted.
        for said in [
            "i had flu last week",
            "i've been to a&e twice in the last year",
            "the last week of my holiday",
            "my 2 week old son",
        ] {
            assert_eq!(duration_days(said), None, "{said}");
        }
    }
}
