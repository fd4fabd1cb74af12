//! One conversation with the assistant: its state (the evidence so far and the question
//! waiting for an answer, stored between messages) and one turn — a free-text message or
//! an answer in, a reply out with possible conditions, triage, the specialty to see, the
//! next question or a stop, the vitals that counted, and the disclaimer every reply carries.

use std::time::Instant;

use serde::{Deserialize, Serialize};

use super::body_sites::Sites;
use super::embedding::{self, Embedder, EmbeddingError};
use super::extract::Extractor;
use super::knowledge::{KnowledgeBase, KnowledgeError, Sex, Triage};
use super::reasoning::{self, Evidence, Profile, RecentVitals, TriageDecision};

/// On every reply.
pub const DISCLAIMER: &str = "This is not a diagnosis. It is general information from \
    an automated assistant and may be wrong; a clinician who examines you can tell. If you \
    feel worse or are worried, call your doctor or emergency services.";
/// How many conditions a reply lists.
const LISTED: usize = 5;
/// The findings a baby's age in the text reports (see `extract`).
const BABY_AGES: [&str; 2] = ["under_3_months", "high_temperature_3_to_6_months"];
/// Findings of the patient's history that their record's conditions can state: known
/// COPD lowers the saturation that escalates; known diabetes weighs on the ranking.
const RECORDED_HISTORY: [&str; 2] = ["known_copd", "known_diabetes"];

/// What persists between turns.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct State {
    pub evidence: Evidence,
    /// Symptoms asked about, in order.
    pub asked: Vec<usize>,
    /// The question waiting for an answer (a symptom index).
    pub pending: Option<usize>,
}

/// A turn's input.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Input {
    Text(String),
    Answer(Answer),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Answer {
    Yes,
    No,
    Unsure,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PossibleCondition {
    pub id: String,
    pub name: String,
    pub icd10: String,
    /// Given what was said, never a certainty.
    pub probability: f64,
    /// The level the condition usually needs at the patient's age.
    pub triage: Triage,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Question {
    pub symptom: String,
    pub text: String,
    pub choices: [Answer; 3],
}

#[derive(Clone, Debug, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Reply {
    pub conditions: Vec<PossibleCondition>,
    pub triage: TriageDecision,
    /// Whom to see: the leading condition's specialty (emergency medicine for emergencies).
    pub specialty: String,
    /// Self-care advice of the leading condition, until a doctor is seen; none when the
    /// advice is emergency care.
    pub self_care: Vec<String>,
    /// The next question, absent when the assistant has no more.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub question: Option<Question>,
    /// True when no question follows.
    pub done: bool,
    /// Symptoms understood so far: present and absent (labels).
    pub understood_present: Vec<String>,
    pub understood_absent: Vec<String>,
    /// The patient's recent vitals that were taken into account: their devices' and the
    /// readings they gave in words, the worse of each.
    pub vitals: RecentVitals,
    pub disclaimer: &'static str,
}

#[derive(Debug, thiserror::Error)]
pub enum TurnError {
    #[error("there is no question waiting for an answer")]
    NoPendingQuestion,
    #[error("the message is empty")]
    Empty,
    #[error(transparent)]
    Embedding(#[from] EmbeddingError),
}

/// The knowledge base, the model and the phrasings embedded with it.
pub struct Assistant {
    pub kb: KnowledgeBase,
    embedder: Embedder,
    extractor: Extractor,
}

/// Why the assistant could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error(transparent)]
    Knowledge(#[from] KnowledgeError),
    #[error(transparent)]
    Embedding(#[from] EmbeddingError),
}

impl Assistant {
    /// The bundled knowledge base with the model installed at [`embedding::model_dir`]
    /// (seconds of CPU: every phrasing is embedded).
    pub fn load() -> Result<Assistant, LoadError> {
        let kb = KnowledgeBase::bundled()?;
        let embedder = Embedder::load(&embedding::model_dir())?;
        Ok(Assistant::new(kb, embedder)?)
    }

    pub fn new(kb: KnowledgeBase, embedder: Embedder) -> Result<Assistant, EmbeddingError> {
        let extractor = Extractor::new(&kb, &embedder)?;
        Ok(Assistant {
            kb,
            embedder,
            extractor,
        })
    }

    /// A conversation's first state from the conditions on the patient's record ("COPD",
    /// "type 2 diabetes"): the history findings they clearly name, as if the patient had
    /// said them. Nothing else of the record counts: a recorded "asthma" is not a wheeze
    /// now.
    pub fn recorded_history(&self, conditions: &[String]) -> Result<State, EmbeddingError> {
        let mut state = State::default();
        for condition in conditions {
            let found = self.evidence(condition)?;
            for id in RECORDED_HISTORY {
                if let Some(s) = self.kb.symptom(id)
                    && found.present.contains(&s)
                    && !found.loose.contains(&s)
                {
                    state.evidence.present.insert(s);
                }
            }
        }
        Ok(state)
    }

    /// The symptom evidence in a free-text message, as the first turn of a conversation
    /// would read it.
    pub fn evidence(&self, text: &str) -> Result<Evidence, EmbeddingError> {
        let mut found = self
            .extractor
            .evidence(&self.embedder, text, Sites::default())?;
        found.add_broader(&self.kb);
        Ok(found)
    }

    /// The symptoms only the sex other than the patient's has, when nothing said so far is
    /// one of them; none when the sex is unknown.
    fn of_the_other_sex(&self, evidence: &Evidence, profile: Profile) -> Vec<usize> {
        let sex = match profile.sex {
            Some(sex @ (Sex::Female | Sex::Male)) => sex,
            _ => return Vec::new(),
        };
        let others = |&s: &usize| self.kb.symptoms[s].sex.is_some_and(|only| only != sex);
        if evidence.present.iter().any(others) {
            return Vec::new();
        }
        (0..self.kb.symptoms.len()).filter(others).collect()
    }

    /// One turn: updates `state` and answers. Also returns how long it took.
    pub fn turn(
        &self,
        state: &mut State,
        input: &Input,
        profile: Profile,
        vitals: RecentVitals,
    ) -> Result<(Reply, std::time::Duration), TurnError> {
        let started = Instant::now();
        let mut found = match input {
            Input::Text(text) if text.trim().is_empty() => return Err(TurnError::Empty),
            Input::Text(text) => {
                let mut found =
                    self.extractor
                        .evidence(&self.embedder, text, state.evidence.sites)?;
                // A baby's age in the message of someone older is their child's, and the
                // fever they speak of may be their own (a breastfeeding mother's): whom
                // it is about is asked before it counts clearly, unless the words were
                // only of the baby (the subject is then the baby).
                let about = state.evidence.subject.or(found.subject.or(profile));
                if about.age.is_some_and(|age| age > 0) {
                    let babies = BABY_AGES.iter().filter_map(|id| self.kb.symptom(id));
                    found
                        .loose
                        .extend(babies.filter(|baby| found.present.contains(baby)));
                }
                // Only resembled, a sign the other sex alone has is the wording's, not
                // theirs: a man's "goes off standing still" is no pregnancy. Said clearly
                // it stands, as a mother may speak of her son's testicle.
                if let Some(sex @ (Sex::Female | Sex::Male)) = about.sex {
                    let kb = &self.kb;
                    let others: Vec<usize> = found
                        .loose
                        .iter()
                        .copied()
                        .filter(|&s| kb.symptoms[s].sex.is_some_and(|only| only != sex))
                        .collect();
                    for s in others {
                        found.present.remove(&s);
                        found.loose.remove(&s);
                    }
                }
                // A question the patient passed over for a message of their own was not
                // answered: it may be asked again.
                if let Some(skipped) = state.pending {
                    state.asked.retain(|&s| s != skipped);
                }
                found
            }
            Input::Answer(answer) => {
                let symptom = state.pending.ok_or(TurnError::NoPendingQuestion)?;
                let mut found = Evidence::default();
                match answer {
                    Answer::Yes => {
                        found.present.insert(symptom);
                    }
                    Answer::No => {
                        found.absent.insert(symptom);
                    }
                    Answer::Unsure => {}
                }
                found
            }
        };
        found.add_broader(&self.kb);
        state.evidence.merge(&found);
        state.pending = None;
        let kb = &self.kb;
        // The account's own age and sex, unless the words say whom it is about.
        let profile = state.evidence.subject.or(profile);
        let priors = reasoning::priors(kb, profile);
        let posterior = reasoning::posterior(kb, &priors, &state.evidence);
        let vitals = vitals.worst(state.evidence.vitals);
        let triage = reasoning::triage(kb, &posterior, &state.evidence, &vitals, profile.age);
        // A sign only the other sex has is not asked, as if it had been, unless the
        // conversation has spoken of one (a mother of her son's testicle). One the text
        // resembled is still confirmed (below): a pattern may stand on it until then.
        let not_to_ask: Vec<usize> = state
            .asked
            .iter()
            .copied()
            .chain(self.of_the_other_sex(&state.evidence, profile))
            .collect();
        let telling_apart = || {
            if triage.level >= Triage::Emergency && !triage.tentative {
                return None;
            }
            let mut evidence = state.evidence.clone();
            // Asked and answered "unsure" counts as known: not asked again, nor is a
            // loosely understood symptom once asked.
            for &s in &not_to_ask {
                if !evidence.present.contains(&s) {
                    evidence.absent.insert(s);
                }
                evidence.loose.remove(&s);
            }
            // Questions about emergency signs are for safety: they do not use up the
            // questions that tell conditions apart.
            let signs = reasoning::emergency_signs(kb);
            let asked = state.asked.iter().filter(|s| !signs.contains(s)).count();
            reasoning::next_question(kb, &posterior, &evidence, asked)
        };
        // A loosely matched emergency sign or red flag is confirmed before anything else,
        // then a sign that would complete a more urgent emergency pattern is asked;
        // otherwise an emergency needs action, not more questions — unless only a less
        // likely condition needs it ("it could be appendicitis"), when the conditions are
        // told apart as at any level, its advice standing meanwhile. Once they are, the
        // leading one's red flags that could raise the level are checked.
        let age = profile.age;
        let question =
            reasoning::unconfirmed_sign(kb, &posterior, &state.evidence, &state.asked, age)
                .or_else(|| {
                    reasoning::completing_sign(kb, &state.evidence, triage.level, &not_to_ask, age)
                })
                .or_else(telling_apart)
                .or_else(|| {
                    reasoning::unchecked_red_flag(
                        kb,
                        &posterior,
                        &state.evidence,
                        triage.level,
                        &not_to_ask,
                        age,
                    )
                });
        if let Some(s) = question {
            state.asked.push(s);
            state.pending = Some(s);
        }
        let order = reasoning::ranked(&posterior);
        let conditions: Vec<PossibleCondition> = order
            .iter()
            .take(LISTED)
            .filter(|&&c| posterior[c] > 0.0)
            .map(|&c| {
                let condition = &kb.conditions[c];
                PossibleCondition {
                    id: condition.id.clone(),
                    name: condition.name.clone(),
                    icd10: condition.icd10.clone(),
                    // Rounded, and short of certain: the ranking is an estimate.
                    probability: (posterior[c] * 100.0).round().min(95.0) / 100.0,
                    triage: condition.triage_at(profile.age),
                }
            })
            .collect();
        let leading = order.first().map(|&c| &kb.conditions[c]);
        let specialty = match (triage.level, leading) {
            (level, _) if level >= Triage::Emergency => "emergency_medicine".to_owned(),
            (_, Some(c)) => c.specialty.clone(),
            (_, None) => "general_practice".to_owned(),
        };
        // Someone told to book a doctor looks after themselves until they are seen; someone
        // told to go to A&E or call 999 should do that and nothing else first.
        let self_care = match leading {
            Some(c) if triage.level < Triage::Emergency => c.self_care.clone(),
            _ => Vec::new(),
        };
        let labels = |set: &std::collections::BTreeSet<usize>| {
            set.iter().map(|&s| kb.symptoms[s].label.clone()).collect()
        };
        let reply = Reply {
            conditions,
            specialty,
            self_care,
            question: question.map(|s| Question {
                symptom: kb.symptoms[s].id.clone(),
                text: kb.symptoms[s].question.clone(),
                choices: [Answer::Yes, Answer::No, Answer::Unsure],
            }),
            done: question.is_none(),
            understood_present: labels(&state.evidence.present),
            understood_absent: labels(&state.evidence.absent),
            triage,
            vitals,
            disclaimer: DISCLAIMER,
        };
        Ok((reply, started.elapsed()))
    }
}
