//! The assistant measured against vignettes: age, sex, a lay complaint and sometimes a
//! second message, a gold condition and a gold triage level, written without looking at
//! the knowledge base; the findings the patient's words state, labelled apart from the gold
//! answers; and a second rater's blind level. The team's set
//! (`analytics/eval/vignettes.toml`), whose errors have been read to decide what to build,
//! and held-out sets (`analytics/eval/held_out*.toml`) whose errors are not: only the
//! emergencies one under-triaged are read, once the next set has been written and run,
//! so the newest is always blind.
//!
//! Each vignette is one conversation of its one or two messages; under
//! [`Protocol::Answering`] the patient then answers the assistant's questions from the
//! findings. Device readings a vignette states are given to every turn, as the API gives
//! the patient's own. A conversation is scored on its last reply: the gold condition first
//! (top-1) or among the first three (top-3), the triage level exact, and emergencies
//! triaged less urgently than their gold level. Latency is per free-text message (answers
//! need no model), after a warm-up.
//!
//! Extraction alone is measured on a development set of its own
//! (`analytics/eval/extraction_dev.toml`: lay messages labelled with the symptoms they
//! report present and absent, written apart from the vignettes): the extractor's
//! thresholds are chosen on it, never on the vignettes.

use std::collections::BTreeSet;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::conversation::{Answer, Assistant, Input, State, TurnError};
use super::knowledge::{KnowledgeBase, Sex, Triage};
use super::reasoning::{Profile, RecentVitals};

/// The set in the repository, compiled in: the team's, also read to find what the
/// assistant gets wrong.
pub const VIGNETTES: &str = include_str!("../../eval/vignettes.toml");
/// A second set, written by writers who saw only condition names, so that nothing learnt
/// from the first set's errors can flatter it, and never read to find errors itself
/// (`analytics/eval/held_out.toml`).
pub const HELD_OUT: &str = include_str!("../../eval/held_out.toml");
/// Written the same way before the first held-out set's under-triaged emergencies were
/// read (`analytics/eval/held_out_2.toml`)…
pub const HELD_OUT_2: &str = include_str!("../../eval/held_out_2.toml");
/// …before the second's were (`analytics/eval/held_out_3.toml`)…
pub const HELD_OUT_3: &str = include_str!("../../eval/held_out_3.toml");
/// …before the third's were (`analytics/eval/held_out_4.toml`)…
pub const HELD_OUT_4: &str = include_str!("../../eval/held_out_4.toml");
/// …before the fourth's would be (`analytics/eval/held_out_5.toml`)…
pub const HELD_OUT_5: &str = include_str!("../../eval/held_out_5.toml");
/// …before the fifth's would be (`analytics/eval/held_out_6.toml`)…
pub const HELD_OUT_6: &str = include_str!("../../eval/held_out_6.toml");
/// …before the sixth's were (`analytics/eval/held_out_7.toml`)…
pub const HELD_OUT_7: &str = include_str!("../../eval/held_out_7.toml");
/// …before the seventh's were (`analytics/eval/held_out_8.toml`)…
pub const HELD_OUT_8: &str = include_str!("../../eval/held_out_8.toml");
/// …before the eighth's were (`analytics/eval/held_out_9.toml`)…
pub const HELD_OUT_9: &str = include_str!("../../eval/held_out_9.toml");
/// …before the ninth's was (`analytics/eval/held_out_10.toml`)…
pub const HELD_OUT_10: &str = include_str!("../../eval/held_out_10.toml");
/// …before the tenth's was (`analytics/eval/held_out_11.toml`)…
pub const HELD_OUT_11: &str = include_str!("../../eval/held_out_11.toml");
/// …and once six sets' broken-bone cases had been read to relabel them
/// (`analytics/eval/held_out_12.toml`).
pub const HELD_OUT_12: &str = include_str!("../../eval/held_out_12.toml");
/// Messages sent before timing starts.
const WARM_UP: usize = 10;

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Vignette {
    pub id: String,
    pub age: u32,
    pub sex: Sex,
    pub complaint: String,
    pub details: Option<String>,
    pub gold_condition: String,
    pub gold_triage: Triage,
    /// Symptoms the patient's words state (ids): asked about one, they answer yes…
    #[serde(default)]
    pub present: Vec<String>,
    /// …and those they deny, no. A symptom the vignette does not mention is answered no
    /// too (a vignette states what the patient has), so these are the record of what was
    /// said rather than something the answers need.
    #[serde(default)]
    pub absent: Vec<String>,
    /// Readings of the patient's own devices the messages state ("my watch says 190"):
    /// the platform would have them from the devices, so each turn is given them, as the
    /// API gives the patient's recent readings.
    #[serde(default)]
    pub vitals: RecentVitals,
    /// The level a second rater gave, blind, from the messages alone: how far two
    /// careful people agree bounds what exact triage can mean.
    pub second_triage: Option<Triage>,
}

/// How a conversation goes on after the vignette's messages.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Protocol {
    /// Scored on the reply to the last message; questions go unanswered.
    AsTold,
    /// The patient answers every question from the vignette's findings until the
    /// assistant has no more.
    Answering,
}

#[derive(Deserialize)]
struct VignetteFile {
    vignette: Vec<Vignette>,
}

pub fn parse(text: &str) -> Result<Vec<Vignette>, toml::de::Error> {
    Ok(toml::from_str::<VignetteFile>(text)?.vignette)
}

/// One vignette's outcome.
#[derive(Clone, Debug, Serialize)]
pub struct Outcome {
    pub id: String,
    pub gold_condition: String,
    pub gold_triage: Triage,
    /// The reply's conditions, most likely first.
    pub ranked: Vec<String>,
    pub triage: Triage,
    /// What the assistant understood: symptoms present, and absent ones prefixed "no ".
    pub understood: Vec<String>,
    /// The questions answered: "symptom id: yes" or "…: no".
    pub answered: Vec<String>,
}

impl Outcome {
    pub fn top1(&self) -> bool {
        self.ranked.first() == Some(&self.gold_condition)
    }

    pub fn top3(&self) -> bool {
        self.ranked
            .iter()
            .take(3)
            .any(|c| c == &self.gold_condition)
    }

    /// An emergency (gold emergency or ambulance) triaged less urgently than it should.
    pub fn emergency_under_triaged(&self) -> bool {
        self.gold_triage >= Triage::Emergency && self.triage < self.gold_triage
    }
}

#[derive(Debug, Serialize)]
pub struct Report {
    pub outcomes: Vec<Outcome>,
    /// Per message, after the warm-up.
    pub latencies: Vec<Duration>,
}

impl Report {
    fn share(&self, f: impl Fn(&Outcome) -> bool) -> f64 {
        self.outcomes.iter().filter(|o| f(o)).count() as f64 / self.outcomes.len().max(1) as f64
    }

    pub fn top1(&self) -> f64 {
        self.share(Outcome::top1)
    }

    pub fn top3(&self) -> f64 {
        self.share(Outcome::top3)
    }

    pub fn triage_exact(&self) -> f64 {
        self.share(|o| o.triage == o.gold_triage)
    }

    /// Triaged in the gold's band of three, as Semigran et al. (BMJ 2015) scored the
    /// symptom checkers' 57 %: emergency care (an ambulance or an emergency department),
    /// a doctor (within 24 hours or routinely), or self-care.
    pub fn triage_three_bands(&self) -> f64 {
        let band = |t: Triage| match t {
            Triage::EmergencyAmbulance | Triage::Emergency => 2,
            Triage::Consultation24 | Triage::Consultation => 1,
            Triage::SelfCare => 0,
        };
        self.share(|o| band(o.triage) == band(o.gold_triage))
    }

    /// Triaged at the gold level or more urgently.
    pub fn triage_safe(&self) -> f64 {
        self.share(|o| o.triage >= o.gold_triage)
    }

    pub fn emergencies_under_triaged(&self) -> Vec<&Outcome> {
        self.outcomes
            .iter()
            .filter(|o| o.emergency_under_triaged())
            .collect()
    }

    /// The `p`-th percentile latency (nearest rank).
    pub fn latency(&self, p: f64) -> Duration {
        let mut sorted = self.latencies.clone();
        sorted.sort();
        if sorted.is_empty() {
            return Duration::ZERO;
        }
        let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
        sorted[rank.clamp(1, sorted.len()) - 1]
    }
}

/// The share of vignettes whose gold triage is the knowledge base's level for their gold
/// condition at their age: what exact triage would be if every condition were ranked
/// first with certainty and nothing else counted. The vignettes grade presentations, the
/// knowledge base conditions, so this bounds triage by condition alone.
pub fn level_agreement(kb: &KnowledgeBase, vignettes: &[Vignette]) -> f64 {
    let agreeing = vignettes
        .iter()
        .filter(|v| {
            kb.condition(&v.gold_condition)
                .is_some_and(|c| c.triage_at(Some(v.age)) == v.gold_triage)
        })
        .count();
    agreeing as f64 / vignettes.len().max(1) as f64
}

/// How often a second rater's blind level is the gold one, exactly and at it or more
/// urgently, over the vignettes that have one (their number); `None` when none has.
pub fn rater_agreement(vignettes: &[Vignette]) -> Option<(usize, f64, f64)> {
    let rated: Vec<(Triage, Triage)> = vignettes
        .iter()
        .filter_map(|v| Some((v.gold_triage, v.second_triage?)))
        .collect();
    if rated.is_empty() {
        return None;
    }
    let share = |f: fn(&(Triage, Triage)) -> bool| {
        rated.iter().filter(|r| f(r)).count() as f64 / rated.len() as f64
    };
    Some((
        rated.len(),
        share(|(gold, second)| gold == second),
        share(|(gold, second)| second >= gold),
    ))
}

/// The extraction development set in the repository, compiled in.
pub const EXTRACTION_DEV: &str = include_str!("../../eval/extraction_dev.toml");

/// One labelled message of the extraction development set.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LabelledMessage {
    pub text: String,
    pub present: Vec<String>,
    pub absent: Vec<String>,
}

#[derive(Deserialize)]
struct MessageFile {
    message: Vec<LabelledMessage>,
}

pub fn parse_messages(text: &str) -> Result<Vec<LabelledMessage>, toml::de::Error> {
    Ok(toml::from_str::<MessageFile>(text)?.message)
}

/// Symptom findings (a symptom present, or a symptom absent) found and missed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize)]
pub struct Extraction {
    pub true_positives: usize,
    pub false_positives: usize,
    pub false_negatives: usize,
}

impl Extraction {
    pub fn precision(&self) -> f64 {
        self.true_positives as f64 / (self.true_positives + self.false_positives).max(1) as f64
    }

    pub fn recall(&self) -> f64 {
        self.true_positives as f64 / (self.true_positives + self.false_negatives).max(1) as f64
    }

    pub fn f1(&self) -> f64 {
        let (p, r) = (self.precision(), self.recall());
        if p + r == 0.0 {
            0.0
        } else {
            2.0 * p * r / (p + r)
        }
    }
}

/// The extractor's findings in each message against its labels. A label naming no known
/// symptom is an error in the set: it counts as missed.
pub fn extraction(
    assistant: &Assistant,
    messages: &[LabelledMessage],
) -> Result<Extraction, TurnError> {
    let mut score = Extraction::default();
    for message in messages {
        let found = assistant.evidence(&message.text)?;
        let labelled = |ids: &[String]| -> BTreeSet<Option<usize>> {
            ids.iter().map(|id| assistant.kb.symptom(id)).collect()
        };
        for (found, gold) in [
            (&found.present, labelled(&message.present)),
            (&found.absent, labelled(&message.absent)),
        ] {
            let hits = found.iter().filter(|&&s| gold.contains(&Some(s))).count();
            score.true_positives += hits;
            score.false_positives += found.len() - hits;
            score.false_negatives += gold.len() - hits;
        }
    }
    Ok(score)
}

/// Runs every vignette under `protocol`; `progress` is told after each.
pub fn evaluate(
    assistant: &Assistant,
    vignettes: &[Vignette],
    protocol: Protocol,
    mut progress: impl FnMut(),
) -> Result<Report, TurnError> {
    let mut outcomes = Vec::with_capacity(vignettes.len());
    let mut latencies = Vec::new();
    let mut messages = 0;
    for vignette in vignettes {
        let profile = Profile {
            age: Some(vignette.age),
            sex: Some(vignette.sex),
        };
        let mut state = State::default();
        let mut turn = |input: &Input| assistant.turn(&mut state, input, profile, vignette.vitals);
        let mut last = None;
        for text in std::iter::once(&vignette.complaint).chain(vignette.details.as_ref()) {
            let (reply, took) = turn(&Input::Text(text.clone()))?;
            messages += 1;
            if messages > WARM_UP {
                latencies.push(took);
            }
            last = Some(reply);
        }
        let mut reply = last.expect("every vignette has a complaint");
        let mut answered = Vec::new();
        while let (Protocol::Answering, Some(question)) = (protocol, &reply.question) {
            let yes = vignette.present.contains(&question.symptom);
            answered.push(format!(
                "{}: {}",
                question.symptom,
                if yes { "yes" } else { "no" }
            ));
            let answer = if yes { Answer::Yes } else { Answer::No };
            reply = turn(&Input::Answer(answer))?.0;
        }
        outcomes.push(Outcome {
            id: vignette.id.clone(),
            gold_condition: vignette.gold_condition.clone(),
            gold_triage: vignette.gold_triage,
            ranked: reply.conditions.iter().map(|c| c.id.clone()).collect(),
            triage: reply.triage.level,
            understood: reply
                .understood_present
                .iter()
                .cloned()
                .chain(reply.understood_absent.iter().map(|s| format!("no {s}")))
                .collect(),
            answered,
        });
        progress();
    }
    Ok(Report {
        outcomes,
        latencies,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_extraction_set_parses_and_names_known_symptoms() {
        let messages = parse_messages(EXTRACTION_DEV).unwrap();
        let kb = KnowledgeBase::bundled().unwrap();
        assert!(messages.len() >= 100);
        for m in &messages {
            for id in m.present.iter().chain(&m.absent) {
                assert!(kb.symptom(id).is_some(), "{}: {id}", m.text);
            }
        }
    }

    #[test]
    fn every_vignette_set_parses_and_names_known_conditions_at_every_level() {
        let kb = KnowledgeBase::bundled().unwrap();
        let sets = [
            VIGNETTES,
            HELD_OUT,
            HELD_OUT_2,
            HELD_OUT_3,
            HELD_OUT_4,
            HELD_OUT_5,
            HELD_OUT_6,
            HELD_OUT_7,
            HELD_OUT_8,
            HELD_OUT_9,
            HELD_OUT_10,
            HELD_OUT_11,
            HELD_OUT_12,
        ]
        .map(|text| parse(text).unwrap());
        for vignettes in &sets {
            assert!(vignettes.len() >= 60);
            check_vignettes(&kb, vignettes);
        }
        let ids: BTreeSet<&str> = sets.iter().flatten().map(|v| v.id.as_str()).collect();
        assert_eq!(
            ids.len(),
            sets.iter().map(Vec::len).sum::<usize>(),
            "ids are unique"
        );
    }

    #[test]
    fn rater_agreement_counts_only_the_vignettes_a_second_rater_rated() {
        let mut vignettes = parse(HELD_OUT).unwrap();
        vignettes.truncate(3);
        for v in &mut vignettes {
            v.second_triage = None;
        }
        assert_eq!(rater_agreement(&vignettes), None);
        vignettes[0].second_triage = Some(vignettes[0].gold_triage);
        vignettes[1].second_triage = Some(Triage::EmergencyAmbulance);
        vignettes[1].gold_triage = Triage::SelfCare;
        assert_eq!(rater_agreement(&vignettes), Some((2, 0.5, 1.0)));
    }

    fn check_vignettes(kb: &KnowledgeBase, vignettes: &[Vignette]) {
        for v in vignettes {
            assert!(kb.condition(&v.gold_condition).is_some(), "{}", v.id);
            for id in v.present.iter().chain(&v.absent) {
                assert!(kb.symptom(id).is_some(), "{}: {id}", v.id);
            }
        }
        for level in Triage::ALL {
            assert!(
                vignettes.iter().any(|v| v.gold_triage == level),
                "{level:?}"
            );
        }
    }
}
