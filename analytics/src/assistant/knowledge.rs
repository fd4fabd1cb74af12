//! The assistant's knowledge base: symptoms (with the lay phrasings patients use and a
//! yes/no question), conditions (ICD-10, prevalence, age and sex, symptom likelihoods,
//! triage level, specialty, red flags, self-care advice) and the emergency patterns that
//! override everything. The data lives in `analytics/data/assistant/` (its `SOURCES.md`
//! says where the facts come from) and is compiled into the binary; loading checks every
//! cross-reference, so a broken file fails at start, not in a conversation.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use super::body_sites::Sites;

/// The five triage levels, least urgent first (so `max` is the most urgent).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Triage {
    SelfCare,
    Consultation,
    #[serde(rename = "consultation_24")]
    Consultation24,
    Emergency,
    EmergencyAmbulance,
}

impl Triage {
    pub const ALL: [Triage; 5] = [
        Triage::SelfCare,
        Triage::Consultation,
        Triage::Consultation24,
        Triage::Emergency,
        Triage::EmergencyAmbulance,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Triage::SelfCare => "self_care",
            Triage::Consultation => "consultation",
            Triage::Consultation24 => "consultation_24",
            Triage::Emergency => "emergency",
            Triage::EmergencyAmbulance => "emergency_ambulance",
        }
    }

    /// One level more urgent, up to going to an emergency department: calling an
    /// ambulance is for the emergency patterns and for conditions that need one anyway.
    pub fn raised(self) -> Triage {
        match self {
            Triage::SelfCare => Triage::Consultation,
            Triage::Consultation => Triage::Consultation24,
            Triage::Consultation24 | Triage::Emergency => Triage::Emergency,
            Triage::EmergencyAmbulance => Triage::EmergencyAmbulance,
        }
    }

    /// What the level means for the patient.
    pub fn advice(self) -> &'static str {
        match self {
            Triage::EmergencyAmbulance => {
                "Call an ambulance now (999 in the UK, 911 in the US, 112 in Europe)."
            }
            Triage::Emergency => "Go to an emergency department now.",
            Triage::Consultation24 => "See a doctor within 24 hours.",
            Triage::Consultation => "Book an appointment with a doctor in the next few days.",
            Triage::SelfCare => {
                "This can usually be looked after at home; see a doctor if it gets worse or does not improve."
            }
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Sex {
    Any,
    Female,
    Male,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    Mild,
    Moderate,
    Severe,
    LifeThreatening,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Symptom {
    pub id: String,
    pub label: String,
    pub question: String,
    pub phrasings: Vec<String>,
    /// The symptom this one is a kind of (a heavy chest is chest pain): said clearly, it
    /// reports that one too, so that what is known of the broader one counts.
    #[serde(default)]
    pub kind_of: Option<String>,
    /// The least urgent advice this symptom gets whatever its cause, when said clearly
    /// (the NHS's "ask for an urgent GP appointment if you're coughing up blood").
    #[serde(default)]
    pub needs: Option<Triage>,
    /// The one sex that can have it (testicle pain a man, a missed period a woman): not
    /// asked of the other.
    #[serde(default)]
    pub sex: Option<Sex>,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SymptomLink {
    pub id: String,
    /// P(symptom present | condition).
    pub p: f64,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Condition {
    pub id: String,
    pub name: String,
    pub icd10: String,
    pub group: String,
    pub specialty: String,
    pub triage: Triage,
    pub severity: Severity,
    /// Approximate new episodes a year per 1,000 people in primary and urgent care.
    pub prevalence: f64,
    pub sex: Sex,
    /// Probability 0 outside.
    pub ages: [u32; 2],
    /// Down-weighted outside.
    pub typical_ages: [u32; 2],
    pub self_care: Vec<String>,
    pub red_flags: Vec<String>,
    pub summary: String,
    pub sources: Vec<String>,
    pub symptoms: Vec<SymptomLink>,
    /// Words naming the parts of the body it is of, for a condition of some parts and
    /// not others (a broken arm): see [`KnowledgeBase::sites`].
    #[serde(default)]
    pub sites: Vec<String>,
    /// The longest a bout of it usually lasts, in days, for a condition that clears on
    /// its own within weeks (a cold): one said to have lasted longer is unlikely, and is
    /// seen by a doctor if it leads still. No shorter than the NHS's "see a GP if it has
    /// not improved after" for it.
    #[serde(default)]
    pub lasts_days: Option<u32>,
    /// A more urgent level for young children, where the NHS has them seen sooner than
    /// an adult: a baby with diarrhoea and vomiting gets an urgent GP appointment, and oral
    /// thrush under one a GP's, since the pharmacist's gel is not for babies.
    #[serde(default)]
    pub younger: Option<Younger>,
}

/// [`Condition::younger`]: the level for patients younger than `than` years.
#[derive(Clone, Copy, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Younger {
    pub than: u32,
    pub triage: Triage,
}

impl Condition {
    /// The level the condition usually needs at `age`; an unknown age gets the adult's.
    pub fn triage_at(&self, age: Option<u32>) -> Triage {
        match (self.younger, age) {
            (Some(younger), Some(age)) if age < younger.than => younger.triage,
            _ => self.triage,
        }
    }
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Pattern {
    pub id: String,
    pub name: String,
    pub triage: Triage,
    /// Every one present…
    pub all: Vec<String>,
    /// …and at least one of these, when given.
    #[serde(default)]
    pub any: Vec<String>,
    pub advice: String,
    /// Suicidal thoughts: the advice gives crisis lines.
    pub crisis: bool,
    /// Only for patients at least this old (a fall in an older person)…
    #[serde(default)]
    pub min_age: Option<u32>,
    /// …or at most this old (a baby's or young child's signs).
    #[serde(default)]
    pub max_age: Option<u32>,
    /// Not when one of these is present: what makes the signs another, less urgent
    /// thing (chest pain that goes with rest is angina's).
    #[serde(default)]
    pub unless: Vec<String>,
    /// Whether a sign of `all` is asked of a patient with one of `any` (NHS 111 asks
    /// anyone vomiting whether they hit their head): not when it is an event the patient
    /// would have told first (a swallowed coin is not asked of everyone who coughs).
    #[serde(default = "asked_by_default")]
    pub ask_all: bool,
}

fn asked_by_default() -> bool {
    true
}

impl Pattern {
    /// Whether the pattern is for a patient of this age; an unknown age may be any, so
    /// the pattern counts.
    fn applies_to(&self, age: Option<u32>) -> bool {
        age.is_none_or(|age| {
            self.min_age.is_none_or(|min| age >= min) && self.max_age.is_none_or(|max| age <= max)
        })
    }

    pub fn fires(&self, present: impl Fn(&str) -> bool) -> bool {
        let all = self.all.iter().all(|s| present(s));
        let any = self.any.is_empty() || self.any.iter().any(|s| present(s));
        all && any && !(self.all.is_empty() && self.any.is_empty()) && !self.ruled_out(present)
    }

    /// Whether something present keeps the pattern from firing, whatever else is said.
    pub fn ruled_out(&self, present: impl Fn(&str) -> bool) -> bool {
        self.unless.iter().any(|s| present(s))
    }

    /// Every symptom id the pattern names, required or alternative.
    pub fn signs(&self) -> impl Iterator<Item = &String> {
        self.all.iter().chain(&self.any)
    }
}

#[derive(Deserialize)]
struct SymptomsFile {
    symptom: Vec<Symptom>,
}

#[derive(Deserialize)]
struct ConditionsFile {
    condition: Vec<Condition>,
}

#[derive(Deserialize)]
struct PatternsFile {
    pattern: Vec<Pattern>,
}

/// The files, compiled in.
const SYMPTOMS: &str = include_str!("../../data/assistant/symptoms.toml");
const PATTERNS: &str = include_str!("../../data/assistant/emergency_patterns.toml");
pub const CONDITION_FILES: [(&str, &str); 14] = [
    (
        "cardiovascular",
        include_str!("../../data/assistant/conditions/cardiovascular.toml"),
    ),
    (
        "endocrine_metabolic",
        include_str!("../../data/assistant/conditions/endocrine_metabolic.toml"),
    ),
    (
        "ent_eye",
        include_str!("../../data/assistant/conditions/ent_eye.toml"),
    ),
    (
        "gastrointestinal",
        include_str!("../../data/assistant/conditions/gastrointestinal.toml"),
    ),
    (
        "genitourinary",
        include_str!("../../data/assistant/conditions/genitourinary.toml"),
    ),
    (
        "infectious",
        include_str!("../../data/assistant/conditions/infectious.toml"),
    ),
    (
        "injury_allergy",
        include_str!("../../data/assistant/conditions/injury_allergy.toml"),
    ),
    (
        "mental_health",
        include_str!("../../data/assistant/conditions/mental_health.toml"),
    ),
    (
        "musculoskeletal",
        include_str!("../../data/assistant/conditions/musculoskeletal.toml"),
    ),
    (
        "neurological",
        include_str!("../../data/assistant/conditions/neurological.toml"),
    ),
    (
        "paediatric",
        include_str!("../../data/assistant/conditions/paediatric.toml"),
    ),
    (
        "respiratory",
        include_str!("../../data/assistant/conditions/respiratory.toml"),
    ),
    (
        "skin",
        include_str!("../../data/assistant/conditions/skin.toml"),
    ),
    (
        "womens_health",
        include_str!("../../data/assistant/conditions/womens_health.toml"),
    ),
];

#[derive(Debug, thiserror::Error)]
pub enum KnowledgeError {
    #[error("{file}: {message}")]
    Parse { file: String, message: String },
    #[error("the knowledge base is inconsistent: {0}")]
    Inconsistent(String),
}

/// The loaded, cross-checked knowledge base. Symptoms and conditions are addressed by
/// their index in these vectors.
#[derive(Debug)]
pub struct KnowledgeBase {
    pub symptoms: Vec<Symptom>,
    pub conditions: Vec<Condition>,
    pub patterns: Vec<Pattern>,
    symptom_index: HashMap<String, usize>,
    /// P(symptom | condition), row per condition: the listed p, or the symptom's leak.
    likelihoods: Vec<f64>,
    /// The parts each condition is of, by condition index (empty: any).
    sites: Vec<Sites>,
    /// See [`KnowledgeBase::fingerprint`].
    fingerprint: String,
}

/// A symptom a condition does not list can still turn up with it, for reasons of its own:
/// about as often as it turns up in anyone consulting, i.e. its prevalence-weighted rate
/// over all conditions (a rare, specific symptom is strong evidence against conditions
/// that do not explain it; a common one is weak), kept within these bounds.
const LEAK_MIN: f64 = 0.001;
const LEAK_MAX: f64 = 0.02;

/// See [`KnowledgeBase::fingerprint`].
fn fingerprint(symptoms: &[Symptom], conditions: &[Condition]) -> String {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    let ids = symptoms.iter().map(|s| &s.id);
    for id in ids.chain(conditions.iter().map(|c| &c.id)) {
        for byte in id.bytes().chain([0]) {
            hash ^= u64::from(byte);
            hash = hash.wrapping_mul(0x0100_0000_01b3);
        }
    }
    format!("{hash:016x}")
}

/// The leak of every symptom (see [`LEAK_MIN`]).
fn leaks(
    symptoms: &[Symptom],
    conditions: &[Condition],
    index: &HashMap<String, usize>,
) -> Vec<f64> {
    let total: f64 = conditions.iter().map(|c| c.prevalence).sum();
    let mut rate = vec![0.0; symptoms.len()];
    for c in conditions {
        for link in &c.symptoms {
            if let Some(&s) = index.get(&link.id) {
                rate[s] += c.prevalence * link.p / total;
            }
        }
    }
    rate.into_iter()
        .map(|r| r.clamp(LEAK_MIN, LEAK_MAX))
        .collect()
}

impl KnowledgeBase {
    /// The emergency patterns for a patient of this age (all of them when it is unknown).
    pub fn patterns_for(&self, age: Option<u32>) -> impl Iterator<Item = &Pattern> {
        self.patterns.iter().filter(move |p| p.applies_to(age))
    }

    /// The knowledge base compiled into this binary.
    pub fn bundled() -> Result<KnowledgeBase, KnowledgeError> {
        let parse_err = |file: &str| {
            let file = file.to_owned();
            move |e: toml::de::Error| KnowledgeError::Parse {
                file: file.clone(),
                message: e.to_string(),
            }
        };
        let symptoms: SymptomsFile = toml::from_str(SYMPTOMS).map_err(parse_err("symptoms"))?;
        let patterns: PatternsFile =
            toml::from_str(PATTERNS).map_err(parse_err("emergency_patterns"))?;
        let mut conditions = Vec::new();
        for (name, text) in CONDITION_FILES {
            let file: ConditionsFile = toml::from_str(text).map_err(parse_err(name))?;
            conditions.extend(file.condition);
        }
        Self::checked(symptoms.symptom, conditions, patterns.pattern)
    }

    /// A knowledge base from parts, checked like the bundled one (tests build small ones).
    pub fn checked(
        symptoms: Vec<Symptom>,
        conditions: Vec<Condition>,
        patterns: Vec<Pattern>,
    ) -> Result<KnowledgeBase, KnowledgeError> {
        let mut problems = Vec::new();
        let mut symptom_index = HashMap::new();
        for (i, s) in symptoms.iter().enumerate() {
            if symptom_index.insert(s.id.clone(), i).is_some() {
                problems.push(format!("symptom {} twice", s.id));
            }
            if s.phrasings.is_empty() {
                problems.push(format!("symptom {} has no phrasings", s.id));
            }
        }
        let known = |id: &str| symptom_index.contains_key(id);
        for s in &symptoms {
            if let Some(broader) = &s.kind_of
                && !known(broader)
            {
                problems.push(format!("symptom {}: kind of unknown {broader}", s.id));
            }
        }
        let mut condition_ids = std::collections::HashSet::new();
        for c in &conditions {
            if !condition_ids.insert(c.id.as_str()) {
                problems.push(format!("condition {} twice", c.id));
            }
            for link in &c.symptoms {
                if !known(&link.id) {
                    problems.push(format!("{}: unknown symptom {}", c.id, link.id));
                }
                if !(0.0..1.0).contains(&link.p) || link.p <= 0.0 {
                    problems.push(format!("{}: p of {} out of (0, 1)", c.id, link.id));
                }
            }
            for flag in &c.red_flags {
                if !known(flag) {
                    problems.push(format!("{}: unknown red flag {flag}", c.id));
                }
            }
            for word in &c.sites {
                if Sites::of_parts(&[word]).is_empty() {
                    problems.push(format!("{}: {word} names no part of the body", c.id));
                }
            }
            if c.prevalence <= 0.0 || c.ages[0] > c.ages[1] {
                problems.push(format!("{}: prevalence or ages invalid", c.id));
            }
            if c.younger.is_some_and(|y| y.triage <= c.triage) {
                problems.push(format!("{}: the younger level is not more urgent", c.id));
            }
        }
        for p in &patterns {
            for s in p.signs().chain(&p.unless) {
                if !known(s) {
                    problems.push(format!("pattern {}: unknown symptom {s}", p.id));
                }
            }
        }
        if problems.is_empty() {
            let leaks = leaks(&symptoms, &conditions, &symptom_index);
            let mut likelihoods = Vec::with_capacity(conditions.len() * symptoms.len());
            for c in &conditions {
                let row = likelihoods.len();
                likelihoods.extend_from_slice(&leaks);
                for link in &c.symptoms {
                    likelihoods[row + symptom_index[&link.id]] = link.p;
                }
            }
            let fingerprint = fingerprint(&symptoms, &conditions);
            let sites = conditions
                .iter()
                .map(|c| Sites::of_parts(&c.sites))
                .collect();
            Ok(KnowledgeBase {
                sites,
                fingerprint,
                symptoms,
                conditions,
                patterns,
                symptom_index,
                likelihoods,
            })
        } else {
            Err(KnowledgeError::Inconsistent(problems.join("; ")))
        }
    }

    /// Names what symptom and condition indexes mean (FNV-1a of their ids in order): state
    /// kept between turns holds indexes, and is only valid with the same fingerprint.
    pub fn fingerprint(&self) -> &str {
        &self.fingerprint
    }

    /// P(`symptom` | `condition`), both indexes.
    pub fn likelihood(&self, condition: usize, symptom: usize) -> f64 {
        self.likelihoods[condition * self.symptoms.len() + symptom]
    }

    /// The parts of the body the condition with this index is of; none for one that may
    /// be anywhere or is of no part.
    pub fn sites(&self, condition: usize) -> Sites {
        self.sites[condition]
    }

    pub fn symptom(&self, id: &str) -> Option<usize> {
        self.symptom_index.get(id).copied()
    }

    pub fn condition(&self, id: &str) -> Option<&Condition> {
        self.conditions.iter().find(|c| c.id == id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bundled_knowledge_base_loads_and_is_consistent() {
        let kb = KnowledgeBase::bundled().unwrap();
        assert!(kb.conditions.len() >= 120, "{}", kb.conditions.len());
        for level in Triage::ALL {
            let n = kb.conditions.iter().filter(|c| c.triage == level).count();
            assert!(n >= 5, "{level:?}: {n}");
        }
        assert!(kb.patterns.iter().any(|p| p.crisis));
    }

    #[test]
    fn every_condition_file_in_the_directory_is_compiled_in() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/data/assistant/conditions");
        let mut on_disk: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| {
                e.unwrap()
                    .path()
                    .file_stem()
                    .unwrap()
                    .to_string_lossy()
                    .into_owned()
            })
            .collect();
        on_disk.sort();
        let compiled: Vec<String> = CONDITION_FILES.iter().map(|f| f.0.to_owned()).collect();
        assert_eq!(on_disk, compiled);
    }

    #[test]
    fn an_unlisted_symptom_has_its_background_rate_within_bounds() {
        let kb = KnowledgeBase::bundled().unwrap();
        let index = |id: &str| kb.conditions.iter().position(|c| c.id == id).unwrap();
        let cold = index("common_cold");
        let detachment = index("retinal_detachment");
        let floaters = kb.symptom("floaters_flashes").unwrap();
        let cough = kb.symptom("cough").unwrap();
        // Listed: the condition's own p.
        assert_eq!(kb.likelihood(detachment, floaters), 0.95);
        // A rare, specific symptom the cold does not explain: the floor.
        assert_eq!(kb.likelihood(cold, floaters), LEAK_MIN);
        // Cough is common in consulting patients: retinal detachment, which does not list
        // it, still allows it at the cap.
        assert_eq!(kb.likelihood(detachment, cough), LEAK_MAX);
    }

    #[test]
    fn the_fingerprint_changes_when_indexes_change_meaning() {
        let kb = KnowledgeBase::bundled().unwrap();
        let mut symptoms = kb.symptoms.clone();
        symptoms.swap(0, 1);
        let swapped =
            KnowledgeBase::checked(symptoms, kb.conditions.clone(), kb.patterns.clone()).unwrap();
        assert_eq!(
            kb.fingerprint(),
            KnowledgeBase::bundled().unwrap().fingerprint()
        );
        assert_ne!(kb.fingerprint(), swapped.fingerprint());
    }

    #[test]
    fn raising_a_level_stops_at_the_emergency_department() {
        assert_eq!(Triage::SelfCare.raised(), Triage::Consultation);
        assert_eq!(Triage::Consultation24.raised(), Triage::Emergency);
        assert_eq!(Triage::Emergency.raised(), Triage::Emergency);
        assert_eq!(
            Triage::EmergencyAmbulance.raised(),
            Triage::EmergencyAmbulance
        );
    }

    #[test]
    fn a_young_childs_level_applies_below_its_age_and_must_be_more_urgent() {
        let kb = KnowledgeBase::bundled().unwrap();
        let nosebleed = kb.condition("epistaxis").unwrap();
        assert_eq!(nosebleed.triage_at(Some(1)), Triage::Consultation);
        assert_eq!(nosebleed.triage_at(Some(2)), Triage::SelfCare);
        assert_eq!(nosebleed.triage_at(None), Triage::SelfCare);
        let mut conditions = kb.conditions.clone();
        let i = conditions.iter().position(|c| c.id == "epistaxis").unwrap();
        conditions[i].younger = Some(Younger {
            than: 2,
            triage: Triage::SelfCare,
        });
        let err = KnowledgeBase::checked(kb.symptoms.clone(), conditions, kb.patterns.clone())
            .unwrap_err();
        assert!(err.to_string().contains("epistaxis"), "{err}");
    }

    #[test]
    fn a_dangling_reference_is_refused() {
        let kb = KnowledgeBase::bundled().unwrap();
        let mut conditions = kb.conditions.clone();
        conditions[0].symptoms[0].id = "no_such_symptom".into();
        let err = KnowledgeBase::checked(kb.symptoms.clone(), conditions, kb.patterns.clone())
            .unwrap_err();
        assert!(err.to_string().contains("no_such_symptom"), "{err}");
    }

    #[test]
    fn a_pattern_for_older_patients_applies_from_its_age_or_when_age_is_unknown() {
        let kb = KnowledgeBase::bundled().unwrap();
        let fallen = kb
            .patterns
            .iter()
            .find(|p| p.id == "older_person_fallen_cannot_get_up")
            .unwrap();
        assert!(fallen.applies_to(Some(65)));
        assert!(fallen.applies_to(None));
        assert!(!fallen.applies_to(Some(64)));
        let stroke = kb.patterns.iter().find(|p| p.id == "stroke_fast").unwrap();
        assert!(stroke.applies_to(Some(0)));
    }

    #[test]
    fn patterns_need_all_of_all_and_one_of_any() {
        let kb = KnowledgeBase::bundled().unwrap();
        let heart = kb
            .patterns
            .iter()
            .find(|p| p.id == "acute_coronary_syndrome")
            .unwrap();
        let has = |set: &'static [&'static str]| move |s: &str| set.contains(&s);
        assert!(heart.fires(has(&["chest_pain", "sweating"])));
        assert!(!heart.fires(has(&["chest_pain"])));
        assert!(!heart.fires(has(&["sweating"])));
    }
}
