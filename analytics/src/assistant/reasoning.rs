//! The assistant's reasoning over symptom evidence, with no model involved: ranking
//! conditions (prevalence priors adjusted for age, sex, the parts of the body named and
//! how long it has lasted, times the likelihood of what is present and absent — naive
//! Bayes, where a symptom a condition does not list has its background rate, see
//! [`KnowledgeBase::likelihood`]),
//! choosing the follow-up question with the largest expected information gain, and
//! triage, where emergency patterns, the patient's own abnormal vitals (from their
//! devices, or typed in a message) and symptoms that need a doctor whatever their cause
//! always win over the ranking.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use super::body_sites::Sites;
use super::knowledge::{Condition, KnowledgeBase, Pattern, Sex, Triage};

/// A condition outside its typical ages keeps this share of its prior.
const ATYPICAL_AGE: f64 = 0.2;
/// A condition of parts of the body the patient did not name, when they named others,
/// keeps this share (about a leak's, [`KnowledgeBase::likelihood`]): a broken leg, told
/// of a wrist.
const ELSEWHERE: f64 = 0.02;
/// A condition said to have lasted longer than it usually does ([`Condition::lasts_days`])
/// keeps this share: a cough of four months is seldom a cold.
const OUTLASTED: f64 = 0.1;
/// Conditions whose triage is at least this likely, together, set the level: the more
/// urgent the level, the less probability it takes (missing an emergency costs more).
const TRIAGE_THRESHOLDS: [(Triage, f64); 4] = [
    (Triage::EmergencyAmbulance, 0.15),
    (Triage::Emergency, 0.2),
    (Triage::Consultation24, 0.3),
    (Triage::Consultation, 0.4),
];
/// The leading condition's own level counts from this probability on; below it the
/// ranking is a guess among many, whose levels count only by their shares above (a rash
/// and pale skin, ranking sepsis first at 4 %, is no call for an ambulance).
const LEADING_FROM: f64 = 0.1;
/// Said to be severe, the ranking's levels need this share of their probability: severe
/// pain is a discriminator of its own (Manchester Triage), so a possible emergency behind
/// it is not waited out.
const SEVERE_SHARE: f64 = 0.5;
/// At most this many questions to tell conditions apart in a conversation (questions
/// about emergency signs do not count).
pub const MAX_QUESTIONS: usize = 12;
/// Stop asking once the leading condition is this likely…
const CONFIDENT: f64 = 0.9;
/// …or no question is expected to teach this many bits.
const MIN_GAIN: f64 = 0.05;
/// A sign at least this likely with the leading condition is explained by it: as a red
/// flag of a less likely condition it warns of nothing (a fever with an ear infection,
/// flagged by eczema, which a fever can mean is infected).
const TYPICAL: f64 = 0.3;
/// Persistent symptoms deserve a doctor whatever they look like.
const PERSISTENT_DAYS: u32 = 21;
/// Signs that breathing, circulation or consciousness are failing (the ABCDE approach of
/// the Resuscitation Council UK; the NHS's "when to call 999"): with a likely emergency
/// they call for an ambulance, since the patient cannot safely travel on their own.
const DANGER_SIGNS: [&str; 8] = [
    "unresponsive",
    "drowsiness",
    "confusion",
    "fainting",
    "seizure",
    "shortness_of_breath_at_rest",
    "blue_lips",
    "mottled_skin",
];
/// Said clearly, lowers the saturation that escalates from 92 % to 88 %.
const KNOWN_COPD: &str = "known_copd";
/// With a systolic pressure of 180 or more, these make it an emergency (end-organ signs).
const HYPERTENSIVE_EMERGENCY_SIGNS: [&str; 5] = [
    "headache",
    "chest_pain",
    "shortness_of_breath",
    "confusion",
    "blurred_vision",
];

/// What is known of the patient from their profile.
#[derive(Clone, Copy, Debug, Default, Serialize, Deserialize)]
pub struct Profile {
    pub age: Option<u32>,
    pub sex: Option<Sex>,
}

/// Symptoms present and absent (indexes into the knowledge base's symptoms), and what
/// the patient said about time and severity.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Evidence {
    pub present: BTreeSet<usize>,
    pub absent: BTreeSet<usize>,
    /// Longest duration mentioned, in days.
    pub duration_days: Option<u32>,
    /// "worst", "severe", "unbearable", …
    pub severe: bool,
    /// "painkillers aren't touching it"
    #[serde(default)]
    pub unrelieved: bool,
    /// The parts of the body the patient named.
    #[serde(default)]
    pub sites: Sites,
    /// Present symptoms the text only loosely resembled: they count in the ranking and
    /// fire emergency patterns (an emergency is not missed on wording), but a red flag
    /// raises the level only once the patient confirms it.
    #[serde(default)]
    pub loose: BTreeSet<usize>,
    /// Readings the patient gave in words ("my oxygen is 89%"), from a home monitor the
    /// platform may not know of: they count as their devices' do.
    #[serde(default)]
    pub vitals: RecentVitals,
    /// Whom the conversation is about, when its words say ("my 3 year old son"): a
    /// parent's account may speak for a child.
    #[serde(default)]
    pub subject: Subject,
}

/// The age and sex a conversation's words give the person it is about.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Subject {
    pub age: Option<u32>,
    pub sex: Option<Sex>,
}

impl Subject {
    /// The profile of the person the conversation is about: what its words say, or else
    /// the account's.
    pub fn or(self, account: Profile) -> Profile {
        Profile {
            age: self.age.or(account.age),
            sex: self.sex.or(account.sex),
        }
    }
}

impl Evidence {
    /// Adds `other`; a symptom the patient now says is present stops being absent, and
    /// the other way round.
    pub fn merge(&mut self, other: &Evidence) {
        for s in &other.present {
            self.absent.remove(s);
            let new = self.present.insert(*s);
            if !other.loose.contains(s) {
                self.loose.remove(s);
            } else if new {
                self.loose.insert(*s);
            }
        }
        for s in &other.absent {
            self.present.remove(s);
            self.loose.remove(s);
            self.absent.insert(*s);
        }
        self.duration_days = self.duration_days.max(other.duration_days);
        self.severe |= other.severe;
        self.unrelieved |= other.unrelieved;
        self.sites = self.sites.union(other.sites);
        self.vitals = self.vitals.worst(other.vitals);
        // Said first, said of whom it is about; a later figure may be anyone's.
        self.subject = Subject {
            age: self.subject.age.or(other.subject.age),
            sex: self.subject.sex.or(other.subject.sex),
        };
    }

    /// Adds the broader symptom each clearly present one is a kind of
    /// ([`Symptom::kind_of`](super::knowledge::Symptom::kind_of)). One only resembled
    /// adds nothing: "there's pressure when I fly" may resemble a heavy chest, and the
    /// broader symptom is then asked rather than assumed.
    pub fn add_broader(&mut self, kb: &KnowledgeBase) {
        let broader: Vec<usize> = self
            .present
            .difference(&self.loose)
            .filter_map(|&s| kb.symptom(kb.symptoms[s].kind_of.as_deref()?))
            .collect();
        for s in broader {
            self.absent.remove(&s);
            self.present.insert(s);
            self.loose.remove(&s);
        }
    }

    /// Whether the symptom with this id is present.
    fn says_present(&self, kb: &KnowledgeBase, id: &str) -> bool {
        kb.symptom(id).is_some_and(|s| self.present.contains(&s))
    }

    /// Whether the symptom with this id is present and clearly said.
    fn says_clearly(&self, kb: &KnowledgeBase, id: &str) -> bool {
        kb.symptom(id).is_some_and(|s| self.clear(s))
    }

    fn known(&self, symptom: usize) -> bool {
        self.present.contains(&symptom) || self.absent.contains(&symptom)
    }

    /// Present, and clearly said.
    fn clear(&self, symptom: usize) -> bool {
        self.present.contains(&symptom) && !self.loose.contains(&symptom)
    }
}

/// The next loosely matched sign to confirm before anything else is asked: first a sign
/// that an emergency pattern fires on only because of loose matches (the level stays
/// urgent until the patient answers, then follows what they said), then a red flag of a
/// leading condition, then a sign that needs a doctor whatever its cause
/// ([`Symptom::needs`](super::knowledge::Symptom::needs)). Signs already asked are not
/// asked again, so an "unsure" keeps the urgent level.
pub fn unconfirmed_sign(
    kb: &KnowledgeBase,
    posterior: &[f64],
    evidence: &Evidence,
    asked: &[usize],
    age: Option<u32>,
) -> Option<usize> {
    let present = |id: &str| evidence.says_present(kb, id);
    let clear = |id: &str| evidence.says_clearly(kb, id);
    let pattern_signs = kb
        .patterns_for(age)
        .filter(|p| p.fires(present) && !p.fires(clear))
        .flat_map(|p| p.signs().filter_map(|id| kb.symptom(id)));
    let red_flags = leading(posterior).flat_map(|c| {
        kb.conditions[c]
            .red_flags
            .iter()
            .filter_map(|id| kb.symptom(id))
    });
    let needing_a_doctor = evidence
        .loose
        .iter()
        .copied()
        .filter(|&s| kb.symptoms[s].needs.is_some());
    pattern_signs
        .chain(red_flags)
        .chain(needing_a_doctor)
        .find(|s| evidence.loose.contains(s) && !asked.contains(s))
}

/// A sign that would complete an emergency pattern more urgent than `level`, not yet
/// known or asked: the pattern's required signs are all present and none of its
/// alternatives is (chest pain: breathless? sweating?), or an alternative is present and
/// one required sign is unknown, if the pattern asks it ([`Pattern::ask_all`]). Asked
/// before anything else but an unconfirmed sign, as NHS 111 asks the discriminators of
/// the life-threatening first.
pub fn completing_sign(
    kb: &KnowledgeBase,
    evidence: &Evidence,
    level: Triage,
    asked: &[usize],
    age: Option<u32>,
) -> Option<usize> {
    let present = |id: &str| evidence.says_present(kb, id);
    let open = |s: &usize| !evidence.known(*s) && !asked.contains(s);
    kb.patterns_for(age)
        .filter(|p| p.triage > level && !p.all.is_empty() && !p.any.is_empty())
        .filter(|p| !p.fires(present) && !p.ruled_out(present))
        .find_map(|p| {
            let missing: Vec<&String> = p.all.iter().filter(|id| !present(id)).collect();
            let any_met = p.any.iter().any(|id| present(id));
            match (missing.as_slice(), any_met) {
                ([], false) => p.any.iter().filter_map(|id| kb.symptom(id)).find(open),
                ([one], true) if p.ask_all => kb.symptom(one).filter(open),
                _ => None,
            }
        })
}

/// A red flag of the leading condition, not yet known or asked, whose "yes" would make
/// the advice more urgent than `level`: by the condition's raised level or by an
/// emergency pattern the sign takes part in. Asked once telling conditions apart is done,
/// as a clinician checks the warning signs of the likely diagnosis before advising.
pub fn unchecked_red_flag(
    kb: &KnowledgeBase,
    posterior: &[f64],
    evidence: &Evidence,
    level: Triage,
    asked: &[usize],
    age: Option<u32>,
) -> Option<usize> {
    let condition = &kb.conditions[leading(posterior).next()?];
    let present = |id: &str| evidence.says_present(kb, id);
    let in_more_urgent_pattern = |s: usize| {
        kb.patterns_for(age).any(|p| {
            p.triage > level
                && !p.ruled_out(present)
                && p.signs().any(|id| kb.symptom(id) == Some(s))
        })
    };
    condition
        .red_flags
        .iter()
        .filter_map(|id| kb.symptom(id))
        .filter(|&s| !evidence.known(s) && !asked.contains(&s))
        .find(|&s| condition.triage_at(age).raised() > level || in_more_urgent_pattern(s))
}

/// A duration as a patient would say it: "3 weeks", "5 years", not "1825 days".
fn how_long(days: u32) -> String {
    let (count, unit) = match days {
        0..14 => (days, "day"),
        14..61 => (days / 7, "week"),
        61..730 => (days / 30, "month"),
        _ => (days / 365, "year"),
    };
    format!("{count} {unit}{}", if count == 1 { "" } else { "s" })
}

/// The symptoms that take part in an emergency pattern; of a pattern that does not ask
/// its required signs ([`Pattern::ask_all`]), only those, since its alternatives matter
/// only once one was told (a cough, after a swallowed coin).
pub fn emergency_signs(kb: &KnowledgeBase) -> BTreeSet<usize> {
    kb.patterns
        .iter()
        .flat_map(|p| p.signs().filter(|id| p.ask_all || p.all.contains(id)))
        .filter_map(|id| kb.symptom(id))
        .collect()
}

/// The red flags of condition `c` that count, `first` leading: all of the leading
/// condition's (its level is for a presentation without them, SOURCES.md), and those of a
/// less likely condition that the leading one does not typically have.
fn warning_signs(kb: &KnowledgeBase, first: usize, c: usize) -> impl Iterator<Item = usize> + '_ {
    kb.conditions[c]
        .red_flags
        .iter()
        .filter_map(|id| kb.symptom(id))
        .filter(move |&s| c == first || kb.likelihood(first, s) < TYPICAL)
}

/// The conditions whose red flags count: the three leading ones, each likely enough.
fn leading(posterior: &[f64]) -> impl Iterator<Item = usize> + '_ {
    ranked(posterior)
        .into_iter()
        .take(3)
        .filter(|&c| posterior[c] > 0.05)
}

/// The patient's recent readings that matter to triage (worst values of the last hours).
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RecentVitals {
    pub spo2_min: Option<f64>,
    pub heart_rate_max: Option<f64>,
    pub systolic_max: Option<f64>,
}

impl RecentVitals {
    /// The worse of each reading in `self` and `other`.
    pub fn worst(self, other: RecentVitals) -> RecentVitals {
        let worse = |a: Option<f64>, b: Option<f64>, pick: fn(f64, f64) -> f64| match (a, b) {
            (Some(a), Some(b)) => Some(pick(a, b)),
            (a, b) => a.or(b),
        };
        RecentVitals {
            spo2_min: worse(self.spo2_min, other.spo2_min, f64::min),
            heart_rate_max: worse(self.heart_rate_max, other.heart_rate_max, f64::max),
            systolic_max: worse(self.systolic_max, other.systolic_max, f64::max),
        }
    }
}

/// The prior of each condition for this patient: prevalence, zero outside its age range
/// or for the other sex, reduced outside its typical ages.
pub fn priors(kb: &KnowledgeBase, profile: Profile) -> Vec<f64> {
    kb.conditions.iter().map(|c| prior(c, profile)).collect()
}

fn prior(c: &Condition, profile: Profile) -> f64 {
    let sex_ok = match (c.sex, profile.sex) {
        (Sex::Any, _) | (_, None) | (_, Some(Sex::Any)) => true,
        (required, Some(sex)) => required == sex,
    };
    if !sex_ok {
        return 0.0;
    }
    let age_factor = match profile.age {
        None => 1.0,
        Some(age) if age < c.ages[0] || age > c.ages[1] => 0.0,
        Some(age) if age < c.typical_ages[0] || age > c.typical_ages[1] => ATYPICAL_AGE,
        Some(_) => 1.0,
    };
    c.prevalence * age_factor
}

/// P(condition | evidence) for every condition, summing to 1 (all zeros when no condition
/// fits the profile at all).
pub fn posterior(kb: &KnowledgeBase, priors: &[f64], evidence: &Evidence) -> Vec<f64> {
    let mut weights: Vec<f64> = priors
        .iter()
        .enumerate()
        .map(|(c, &prior)| {
            // In logs: fifteen symptoms of small likelihoods would underflow otherwise.
            if prior <= 0.0 {
                return f64::NEG_INFINITY;
            }
            let mut log = prior.ln();
            if evidence.sites.elsewhere_than(kb.sites(c)) {
                log += ELSEWHERE.ln();
            }
            if let (Some(days), Some(lasts)) = (evidence.duration_days, kb.conditions[c].lasts_days)
                && days > lasts
            {
                log += OUTLASTED.ln();
            }
            for &s in &evidence.present {
                log += kb.likelihood(c, s).ln();
            }
            for &s in &evidence.absent {
                log += (1.0 - kb.likelihood(c, s)).ln();
            }
            log
        })
        .collect();
    let max = weights.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    if max == f64::NEG_INFINITY {
        return vec![0.0; weights.len()];
    }
    for w in &mut weights {
        *w = (*w - max).exp();
    }
    let total: f64 = weights.iter().sum();
    weights.iter().map(|w| w / total).collect()
}

/// Condition indexes by falling probability.
pub fn ranked(posterior: &[f64]) -> Vec<usize> {
    let mut order: Vec<usize> = (0..posterior.len()).collect();
    order.sort_by(|&a, &b| posterior[b].total_cmp(&posterior[a]));
    order
}

/// The posterior before a symptom's presence was weighed in: each condition's share
/// divided by its likelihood of the symptom (never zero: an unlisted symptom has its
/// background rate).
fn without(posterior: &[f64], likelihoods: &[f64]) -> Vec<f64> {
    let weights: Vec<f64> = posterior
        .iter()
        .zip(likelihoods)
        .map(|(p, l)| p / l)
        .collect();
    let total: f64 = weights.iter().sum();
    weights.iter().map(|w| w / total).collect()
}

fn entropy(p: &[f64]) -> f64 {
    p.iter().filter(|&&x| x > 0.0).map(|&x| -x * x.log2()).sum()
}

/// The unasked symptom whose answer is expected to reduce the uncertainty over conditions
/// the most (expected information gain), or none when the leading condition is clear
/// enough, nothing is worth asking, or enough was asked. A symptom understood only
/// loosely may be asked too: a third of loose matches are right on the extraction
/// development set, and a "no" to a wrong one stops it pulling the ranking.
pub fn next_question(
    kb: &KnowledgeBase,
    posterior: &[f64],
    evidence: &Evidence,
    asked: usize,
) -> Option<usize> {
    let top = ranked(posterior);
    if asked >= MAX_QUESTIONS
        || posterior
            .get(top[0])
            .is_none_or(|&p| p >= CONFIDENT || p == 0.0)
    {
        return None;
    }
    let now = entropy(posterior);
    // Questions about the symptoms of the plausible conditions; the gain is computed over
    // the whole posterior.
    let candidates: BTreeSet<usize> = top
        .iter()
        .take(10)
        .filter(|&&c| posterior[c] > 0.005)
        .flat_map(|&c| kb.conditions[c].symptoms.iter())
        .filter_map(|link| kb.symptom(&link.id))
        .filter(|&s| !evidence.known(s) || evidence.loose.contains(&s))
        .collect();
    let mut best: Option<(usize, f64)> = None;
    for s in candidates {
        let yes_given: Vec<f64> = (0..kb.conditions.len())
            .map(|c| kb.likelihood(c, s))
            .collect();
        // A loosely understood symptom is in the posterior as present already: its
        // question is weighed as if it had not been understood at all, so the answer
        // counts for what it tells, not for undoing the guess.
        let unconfirmed = evidence
            .loose
            .contains(&s)
            .then(|| without(posterior, &yes_given));
        let posterior = unconfirmed.as_deref().unwrap_or(posterior);
        let now = if unconfirmed.is_some() {
            entropy(posterior)
        } else {
            now
        };
        let p_yes: f64 = posterior.iter().zip(&yes_given).map(|(p, l)| p * l).sum();
        if p_yes <= 0.0 || p_yes >= 1.0 {
            continue;
        }
        let after_yes: Vec<f64> = posterior
            .iter()
            .zip(&yes_given)
            .map(|(p, l)| p * l / p_yes)
            .collect();
        let after_no: Vec<f64> = posterior
            .iter()
            .zip(&yes_given)
            .map(|(p, l)| p * (1.0 - l) / (1.0 - p_yes))
            .collect();
        let gain = now - p_yes * entropy(&after_yes) - (1.0 - p_yes) * entropy(&after_no);
        if best.is_none_or(|(_, g)| gain > g) {
            best = Some((s, gain));
        }
    }
    best.filter(|&(_, gain)| gain >= MIN_GAIN).map(|(s, _)| s)
}

/// Why the triage level is what it is.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TriageDecision {
    pub level: Triage,
    pub advice: String,
    /// An emergency pattern matched (its id), which overrides the ranking.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub emergency_pattern: Option<String>,
    /// Suicidal thoughts: the advice gives crisis lines.
    pub crisis: bool,
    /// Plain-language reasons, most important first.
    pub reasons: Vec<String>,
    /// The level is only that of a condition less likely than the leading one ("it could
    /// be appendicitis"): nothing said, no reading and not the leading condition calls for
    /// it, so questions may still tell the two apart while its advice stands.
    #[serde(skip)]
    pub tentative: bool,
}

/// The triage level: the most urgent of the emergency patterns that fire, the patient's
/// abnormal vitals, the ranking (the most urgent level whose conditions are together likely
/// enough), a danger sign with a likely emergency, red flags of the leading conditions,
/// pain painkillers do not ease, and durations (severity lowers the shares the ranking needs).
pub fn triage(
    kb: &KnowledgeBase,
    posterior: &[f64],
    evidence: &Evidence,
    vitals: &RecentVitals,
    age: Option<u32>,
) -> TriageDecision {
    let present = |id: &str| evidence.says_present(kb, id);
    // Every finding that sets a floor on the level, with why.
    let mut floors: Vec<(Triage, String)> = Vec::new();

    let clear = |id: &str| evidence.says_clearly(kb, id);
    let fired: Vec<&Pattern> = kb.patterns_for(age).filter(|p| p.fires(present)).collect();
    let pattern = fired.iter().max_by_key(|p| p.triage).copied();
    let crisis = fired.iter().any(|p| p.crisis);
    for p in &fired {
        floors.push((p.triage, format!("{}: an emergency sign", p.name)));
    }
    for &s in evidence.present.difference(&evidence.loose) {
        let symptom = &kb.symptoms[s];
        if let Some(needs) = symptom.needs {
            let level = needs.as_str().replace('_', " ");
            floors.push((needs, format!("{} needs at least: {level}", symptom.label)));
        }
    }

    // With COPD the target saturation is 88-92 % (BTS oxygen guideline): 88-91 % is the
    // patient's usual, not an emergency.
    let (spo2_floor, whose) = if clear(KNOWN_COPD) {
        (88.0, ", the lower limit with COPD")
    } else {
        (92.0, "")
    };
    if let Some(spo2) = vitals.spo2_min.filter(|&v| v < spo2_floor) {
        floors.push((
            Triage::Emergency,
            format!(
                "your oxygen saturation was {spo2:.0}% recently (below {spo2_floor:.0}%{whose})"
            ),
        ));
    }
    if let Some(hr) = vitals.heart_rate_max.filter(|&v| v > 130.0) {
        floors.push((
            Triage::Emergency,
            format!("your heart rate reached {hr:.0} bpm recently (above 130)"),
        ));
    }
    if let Some(systolic) = vitals.systolic_max.filter(|&v| v >= 180.0) {
        let with_symptoms = HYPERTENSIVE_EMERGENCY_SIGNS.iter().any(|s| present(s));
        floors.push((
            if with_symptoms {
                Triage::Emergency
            } else {
                Triage::Consultation24
            },
            format!(
                "your blood pressure reached {systolic:.0} mmHg systolic recently (180 or more)"
            ),
        ));
    }

    if evidence.present.is_empty() {
        // Nothing recognised: the ranking is the priors alone, which cannot reassure.
        floors.push((
            Triage::Consultation,
            "no symptom was recognised in what you said, so how urgent it is cannot be told: \
             describe it in other words, or ask NHS 111 or a doctor"
                .into(),
        ));
    }

    let top = ranked(posterior);
    let mut by_ranking = Triage::SelfCare;
    let mut by_a_less_likely = false;
    if let Some(&first) = top.first().filter(|&&c| posterior[c] > 0.0) {
        let guess = posterior[first] < LEADING_FROM;
        by_ranking = TRIAGE_THRESHOLDS
            .iter()
            .find(|(candidate, threshold)| {
                let mass: f64 = kb
                    .conditions
                    .iter()
                    .zip(posterior)
                    .filter(|(c, _)| c.triage_at(age) >= *candidate)
                    .map(|(_, p)| p)
                    .sum();
                mass >= *threshold * if evidence.severe { SEVERE_SHARE } else { 1.0 }
            })
            .map_or(Triage::SelfCare, |(candidate, _)| *candidate)
            .max(if guess {
                Triage::SelfCare
            } else {
                kb.conditions[first].triage_at(age)
            });
        let level = by_ranking.as_str().replace('_', " ");
        // Named by the likeliest condition that needs the level, which need not lead; not
        // by a guess whose own level did not count ("sepsis… needs: self care").
        let needing = top
            .iter()
            .find(|&&c| {
                let needs = kb.conditions[c].triage_at(age);
                needs >= by_ranking && !(c == first && guess && needs > by_ranking)
            })
            .map_or(first, |&c| c);
        by_a_less_likely = needing != first;
        // A young child's level is said to be one, or a parent reads the adult's advice
        // elsewhere and thinks the assistant wrong.
        let condition = &kb.conditions[needing];
        let at_this_age = if condition.triage_at(age) == condition.triage {
            ""
        } else {
            " at this age"
        };
        floors.push((
            by_ranking,
            if needing == first {
                format!(
                    "what it most likely is (such as {}) usually needs{at_this_age}: {level}",
                    condition.name
                )
            } else {
                format!(
                    "it could be {}, which needs{at_this_age}: {level}",
                    condition.name
                )
            },
        ));
    }
    // An illness that clears on its own and has not, told to last longer than it does,
    // is seen by a doctor whatever the ranking's level: the NHS's "see a GP if it has not
    // improved after a week" (a sore throat), "after 3 weeks" (a cold). Its outlasted
    // course made it unlikely, but when it leads still, nothing likelier explains it.
    if let Some(&first) = top.first().filter(|&&c| posterior[c] > 0.0)
        && let (Some(days), Some(lasts)) = (evidence.duration_days, kb.conditions[first].lasts_days)
        && days > lasts
    {
        floors.push((
            Triage::Consultation,
            format!(
                "it has lasted {}, longer than {} usually does",
                how_long(days),
                kb.conditions[first].name
            ),
        ));
    }
    // Raised for a danger sign, the ranking's level is still only as sure as the ranking.
    let mut ranking_level = by_ranking;
    if by_ranking >= Triage::Emergency
        && let Some(sign) = DANGER_SIGNS.iter().find(|s| clear(s))
    {
        ranking_level = Triage::EmergencyAmbulance;
        let label = kb.symptom(sign).map_or(*sign, |s| &kb.symptoms[s].label);
        floors.push((
            Triage::EmergencyAmbulance,
            format!("{label} with a possible emergency: it is not safe to travel on your own"),
        ));
    }
    for c in leading(posterior) {
        let condition = &kb.conditions[c];
        if let Some(flag) = warning_signs(kb, top[0], c).find(|&s| evidence.clear(s)) {
            floors.push((
                condition.triage_at(age).raised(),
                format!(
                    "{} is a warning sign with {}",
                    kb.symptoms[flag].label, condition.name
                ),
            ));
        }
    }
    if evidence.unrelieved {
        // Pain painkillers do not ease: a routine condition's GP visit is for just that
        // (the NHS's "see a GP if painkillers do not help"), so self-care becomes one; an
        // urgent condition's needs a hospital (NICE CKS: admit renal colic whose pain is
        // not controlled).
        let raised = match by_ranking {
            Triage::SelfCare => Some(Triage::Consultation),
            Triage::Consultation24 => Some(Triage::Emergency),
            _ => None,
        };
        if let Some(level) = raised {
            floors.push((level, "painkillers are not easing the pain".into()));
        }
    }
    if let Some(days) = evidence.duration_days.filter(|&d| d >= PERSISTENT_DAYS) {
        floors.push((
            Triage::Consultation,
            format!("it has lasted {}", how_long(days)),
        ));
    }
    let level = floors.iter().map(|f| f.0).max().unwrap_or(Triage::SelfCare);
    // Severity calls for the less likely condition's level too: it lowered the share the
    // level needs.
    let tentative = by_a_less_likely
        && !evidence.severe
        && ranking_level == level
        && floors.iter().filter(|f| f.0 == level).count() == 1;
    // The reasons that decided the level first.
    floors.sort_by_key(|f| std::cmp::Reverse(f.0));
    let reasons = floors.into_iter().map(|f| f.1).collect();
    let advice = match pattern {
        Some(p) if p.triage >= level => p.advice.clone(),
        _ => level.advice().to_owned(),
    };
    TriageDecision {
        level,
        advice,
        emergency_pattern: pattern.filter(|p| p.triage >= level).map(|p| p.id.clone()),
        crisis,
        reasons,
        tentative,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::assistant::knowledge::{Severity, Symptom, SymptomLink};

    fn symptom(id: &str) -> Symptom {
        Symptom {
            id: id.into(),
            label: id.replace('_', " "),
            question: format!("{id}?"),
            phrasings: vec![id.replace('_', " ")],
            kind_of: None,
            needs: None,
            sex: None,
        }
    }

    fn condition(id: &str, triage: Triage, prevalence: f64, links: &[(&str, f64)]) -> Condition {
        Condition {
            id: id.into(),
            name: id.into(),
            icd10: "X00".into(),
            group: "test".into(),
            specialty: "general_practice".into(),
            triage,
            severity: Severity::Mild,
            prevalence,
            sex: Sex::Any,
            ages: [0, 120],
            typical_ages: [0, 120],
            self_care: vec![],
            red_flags: vec![],
            summary: String::new(),
            sources: vec![],
            sites: vec![],
            lasts_days: None,
            younger: None,
            symptoms: links
                .iter()
                .map(|(id, p)| SymptomLink {
                    id: (*id).into(),
                    p: *p,
                })
                .collect(),
        }
    }

    /// Cold and strep share a sore throat; only a cough tells them apart (colds cough,
    /// strep rarely does); fever is as common in both, so it tells nothing.
    fn kb() -> KnowledgeBase {
        KnowledgeBase::checked(
            [
                "sore_throat",
                "cough",
                "fever",
                "chest_pain",
                "sweating",
                KNOWN_COPD,
            ]
            .map(symptom)
            .to_vec(),
            vec![
                condition(
                    "cold",
                    Triage::SelfCare,
                    100.0,
                    &[("sore_throat", 0.6), ("cough", 0.8), ("fever", 0.3)],
                ),
                condition(
                    "strep",
                    Triage::Consultation,
                    50.0,
                    &[("sore_throat", 0.95), ("cough", 0.1), ("fever", 0.3)],
                ),
                condition(
                    "heart_attack",
                    Triage::EmergencyAmbulance,
                    0.5,
                    &[("chest_pain", 0.9), ("sweating", 0.5)],
                ),
            ],
            vec![Pattern {
                id: "acs".into(),
                name: "Possible heart attack".into(),
                triage: Triage::EmergencyAmbulance,
                all: vec!["chest_pain".into()],
                any: vec!["sweating".into()],
                advice: "Call an ambulance.".into(),
                crisis: false,
                min_age: None,
                max_age: None,
                unless: Vec::new(),
                ask_all: true,
            }],
        )
        .unwrap()
    }

    fn evidence(kb: &KnowledgeBase, present: &[&str], absent: &[&str]) -> Evidence {
        Evidence {
            present: present.iter().map(|s| kb.symptom(s).unwrap()).collect(),
            absent: absent.iter().map(|s| kb.symptom(s).unwrap()).collect(),
            ..Evidence::default()
        }
    }

    #[test]
    fn the_question_asked_is_the_one_that_separates_the_leading_conditions() {
        let kb = kb();
        let priors = priors(&kb, Profile::default());
        let e = evidence(&kb, &["sore_throat"], &[]);
        let after_sore_throat = posterior(&kb, &priors, &e);
        let asked = next_question(&kb, &after_sore_throat, &e, 0).unwrap();
        assert_eq!(
            kb.symptoms[asked].id, "cough",
            "fever has no information here"
        );
        // Answered, the ranking moves as the likelihoods say.
        let no_cough = posterior_of(&kb, &priors, &["sore_throat"], &["cough"]);
        // Cold 100 × 0.6 × (1 − 0.8), strep 50 × 0.95 × (1 − 0.1), heart attack
        // 0.5 × 0.02 (leak) × (1 − 0.02).
        let strep = 50.0 * 0.95 * 0.9 / (100.0 * 0.6 * 0.2 + 50.0 * 0.95 * 0.9 + 0.5 * 0.02 * 0.98);
        assert!(
            (no_cough[1] - strep).abs() < 1e-9,
            "strep after no cough: {no_cough:?}"
        );
        let with_cough = posterior_of(&kb, &priors, &["sore_throat", "cough"], &[]);
        assert!(with_cough[0] > 0.9, "a cold after a cough: {with_cough:?}");
        // Nothing more to ask once everything useful is known.
        let all = evidence(
            &kb,
            &["sore_throat"],
            &["cough", "chest_pain", "sweating", "fever"],
        );
        let p = posterior(&kb, &priors, &all);
        assert_eq!(next_question(&kb, &p, &all, 0), None);
        assert_eq!(
            next_question(&kb, &after_sore_throat, &e, MAX_QUESTIONS),
            None
        );
    }

    #[test]
    fn a_symptom_only_resembled_may_be_asked_to_tell_conditions_apart() {
        let base = kb();
        let mut conditions = base.conditions.clone();
        // Strep coughs more often here, so a cough leaves the ranking open.
        conditions[1].symptoms[1].p = 0.3;
        let kb = KnowledgeBase::checked(base.symptoms.clone(), conditions, base.patterns.clone())
            .unwrap();
        let priors = priors(&kb, Profile::default());
        let cough = kb.symptom("cough").unwrap();
        let mut e = evidence(&kb, &["sore_throat", "cough"], &[]);
        let said = posterior(&kb, &priors, &e);
        assert!(said[0] < CONFIDENT, "{said:?}");
        assert_eq!(
            next_question(&kb, &said, &e, 0),
            None,
            "a clear cough is known"
        );
        e.loose.insert(cough);
        let resembled = posterior(&kb, &priors, &e);
        assert_eq!(next_question(&kb, &resembled, &e, 0), Some(cough));
        // "No" takes the cough out: the ranking is the sore throat's alone.
        let mut no = Evidence::default();
        no.absent.insert(cough);
        e.merge(&no);
        assert_eq!(
            posterior(&kb, &priors, &e),
            posterior_of(&kb, &priors, &["sore_throat"], &["cough"])
        );
    }

    fn posterior_of(
        kb: &KnowledgeBase,
        priors: &[f64],
        present: &[&str],
        absent: &[&str],
    ) -> Vec<f64> {
        posterior(kb, priors, &evidence(kb, present, absent))
    }

    #[test]
    fn a_kind_of_a_symptom_said_clearly_reports_the_broader_one_too() {
        let base = kb();
        let mut symptoms = base.symptoms.clone();
        let mut sudden = symptom("sudden_fever");
        sudden.kind_of = Some("fever".into());
        symptoms.push(sudden);
        let kb = KnowledgeBase::checked(symptoms.clone(), base.conditions.clone(), vec![]).unwrap();
        let (fever, sudden) = (
            kb.symptom("fever").unwrap(),
            kb.symptom("sudden_fever").unwrap(),
        );
        let mut e = evidence(&kb, &["sudden_fever"], &["fever"]);
        e.loose.insert(sudden);
        e.add_broader(&kb);
        assert!(
            !e.present.contains(&fever) && e.absent.contains(&fever),
            "{e:?}"
        );
        let mut clear = evidence(&kb, &["sudden_fever"], &["fever"]);
        clear.add_broader(&kb);
        assert!(
            clear.present.contains(&fever) && clear.loose.is_empty(),
            "{clear:?}"
        );
        assert!(!clear.absent.contains(&fever));
        // Of an unknown symptom, the knowledge base is refused.
        symptoms.last_mut().unwrap().kind_of = Some("no_such_symptom".into());
        assert!(KnowledgeBase::checked(symptoms, base.conditions.clone(), vec![]).is_err());
    }

    #[test]
    fn a_symptom_that_needs_a_doctor_whatever_its_cause_sets_the_least_level_when_clear() {
        let base = kb();
        let mut symptoms = base.symptoms.clone();
        let cough = symptoms.iter_mut().find(|s| s.id == "cough").unwrap();
        cough.needs = Some(Triage::Consultation24);
        let kb = KnowledgeBase::checked(symptoms, base.conditions.clone(), vec![]).unwrap();
        let priors = priors(&kb, Profile::default());
        let mut e = evidence(&kb, &["cough"], &[]);
        let p = posterior(&kb, &priors, &e);
        let clear = triage(&kb, &p, &e, &RecentVitals::default(), None);
        assert_eq!(clear.level, Triage::Consultation24, "{clear:?}");
        let cough = kb.symptom("cough").unwrap();
        e.loose.insert(cough);
        let loose = triage(&kb, &p, &e, &RecentVitals::default(), None);
        assert!(loose.level < Triage::Consultation24, "{loose:?}");
        // Only resembled, it is asked before anything else.
        assert_eq!(unconfirmed_sign(&kb, &p, &e, &[], None), Some(cough));
    }

    #[test]
    fn a_loosely_matched_red_flag_is_asked_before_it_raises_the_level() {
        let base = kb();
        let mut conditions = base.conditions.clone();
        conditions[1].red_flags = vec!["fever".into()];
        let kb = KnowledgeBase::checked(base.symptoms.clone(), conditions, base.patterns.clone())
            .unwrap();
        let priors = priors(&kb, Profile::default());
        let fever = kb.symptom("fever").unwrap();
        let mut e = evidence(&kb, &["sore_throat", "fever"], &["cough"]);
        e.loose.insert(fever);
        let p = posterior(&kb, &priors, &e);
        let loosely = triage(&kb, &p, &e, &RecentVitals::default(), None);
        assert_eq!(loosely.level, Triage::Consultation, "{loosely:?}");
        assert_eq!(unconfirmed_sign(&kb, &p, &e, &[], None), Some(fever));
        assert_eq!(unconfirmed_sign(&kb, &p, &e, &[fever], None), None);
        // Confirmed (an answer "yes" is clear evidence), it raises strep's level.
        let mut yes = Evidence::default();
        yes.present.insert(fever);
        e.merge(&yes);
        assert!(e.loose.is_empty());
        let confirmed = triage(&kb, &p, &e, &RecentVitals::default(), None);
        assert_eq!(confirmed.level, Triage::Consultation24, "{confirmed:?}");
        assert_eq!(unconfirmed_sign(&kb, &p, &e, &[], None), None);
    }

    #[test]
    fn an_emergency_pattern_overrides_a_benign_ranking() {
        let kb = kb();
        let priors = priors(&kb, Profile::default());
        // With a sore throat and a cough, a cold leads by far…
        let e = evidence(
            &kb,
            &["sore_throat", "cough", "chest_pain", "sweating"],
            &[],
        );
        let p = posterior(&kb, &priors, &e);
        assert_eq!(ranked(&p)[0], 0, "{p:?}");
        // …yet chest pain with sweating calls an ambulance.
        let decision = triage(&kb, &p, &e, &RecentVitals::default(), None);
        assert_eq!(decision.level, Triage::EmergencyAmbulance);
        assert_eq!(decision.emergency_pattern.as_deref(), Some("acs"));
        assert_eq!(decision.advice, "Call an ambulance.");
        // Chest pain alone does not fire the pattern.
        let e = evidence(&kb, &["sore_throat", "cough", "chest_pain"], &["sweating"]);
        let p = posterior(&kb, &priors, &e);
        assert_eq!(
            triage(&kb, &p, &e, &RecentVitals::default(), None).emergency_pattern,
            None
        );
    }

    #[test]
    fn a_pattern_firing_on_a_loose_sign_is_urgent_until_the_sign_is_denied() {
        let kb = kb();
        let priors = priors(&kb, Profile::default());
        let sweating = kb.symptom("sweating").unwrap();
        let mut e = evidence(&kb, &["sore_throat", "chest_pain", "sweating"], &[]);
        e.loose.insert(sweating);
        let p = posterior(&kb, &priors, &e);
        // Loosely matched, the sign still fires the pattern, and is asked about first.
        assert_eq!(
            triage(&kb, &p, &e, &RecentVitals::default(), None).level,
            Triage::EmergencyAmbulance
        );
        assert_eq!(unconfirmed_sign(&kb, &p, &e, &[], None), Some(sweating));
        // Said clearly, there is nothing to confirm.
        let clear = evidence(&kb, &["sore_throat", "chest_pain", "sweating"], &[]);
        assert_eq!(unconfirmed_sign(&kb, &p, &clear, &[], None), None);
        // Denied, the pattern no longer fires.
        let mut no = Evidence::default();
        no.absent.insert(sweating);
        e.merge(&no);
        let p = posterior(&kb, &priors, &e);
        let denied = triage(&kb, &p, &e, &RecentVitals::default(), None);
        assert_eq!(denied.emergency_pattern, None, "{denied:?}");
        assert!(denied.level < Triage::EmergencyAmbulance, "{denied:?}");
        assert_eq!(unconfirmed_sign(&kb, &p, &e, &[sweating], None), None);
    }

    #[test]
    fn a_danger_sign_with_a_likely_emergency_calls_an_ambulance() {
        let base = kb();
        let mut symptoms = base.symptoms.clone();
        symptoms.push(symptom("confusion"));
        let mut conditions = base.conditions.clone();
        conditions[1].triage = Triage::Emergency;
        let kb = KnowledgeBase::checked(symptoms, conditions, base.patterns.clone()).unwrap();
        let priors = priors(&kb, Profile::default());
        let confusion = kb.symptom("confusion").unwrap();
        let level = |present: &[&str], absent: &[&str], loose: bool| {
            let mut e = evidence(&kb, present, absent);
            if loose {
                e.loose.insert(confusion);
            }
            let p = posterior(&kb, &priors, &e);
            triage(&kb, &p, &e, &RecentVitals::default(), None).level
        };
        // "strep" is now an emergency and leads without a cough.
        assert_eq!(
            level(&["sore_throat"], &["cough"], false),
            Triage::Emergency
        );
        assert_eq!(
            level(&["sore_throat", "confusion"], &["cough"], false),
            Triage::EmergencyAmbulance
        );
        // Only loosely said, the sign does not send the ambulance…
        assert_eq!(
            level(&["sore_throat", "confusion"], &["cough"], true),
            Triage::Emergency
        );
        // …and with a likely cold it does not make an emergency.
        assert!(level(&["sore_throat", "cough", "confusion"], &[], false) < Triage::Emergency);
    }

    #[test]
    fn a_red_flag_of_a_less_likely_condition_counts_unless_the_leading_one_explains_it() {
        let flagged = |strep_fever: f64, cold_fever: f64| {
            let mut kb = kb();
            kb.conditions[1].red_flags = vec!["fever".into()];
            kb.conditions[0].symptoms[2].p = cold_fever;
            kb.conditions[1].symptoms[2].p = strep_fever;
            let kb = KnowledgeBase::checked(kb.symptoms, kb.conditions, kb.patterns).unwrap();
            let priors = priors(&kb, Profile::default());
            let e = evidence(&kb, &["sore_throat", "fever"], &[]);
            let p = posterior(&kb, &priors, &e);
            let ranked = ranked(&p);
            (
                kb.conditions[ranked[0]].id.clone(),
                triage(&kb, &p, &e, &RecentVitals::default(), None).level,
            )
        };
        // Rare with the leading cold, a fever warns of more than strep: a level up.
        assert_eq!(
            flagged(0.1, 0.1),
            ("cold".to_string(), Triage::Consultation24)
        );
        // Typical of the leading cold, it warns of nothing with strep behind it.
        let (leading, level) = flagged(0.1, 0.6);
        assert_eq!(leading, "cold");
        assert!(level < Triage::Consultation24, "{level:?}");
        // Strep's own flag counts when strep leads, however common with strep.
        assert_eq!(
            flagged(0.6, 0.1),
            ("strep".to_string(), Triage::Consultation24)
        );
    }

    #[test]
    fn the_leading_conditions_red_flags_are_checked_when_they_could_raise_the_level() {
        let mut kb = kb();
        kb.conditions[1].red_flags = vec!["fever".into(), "chest_pain".into()];
        let priors = priors(&kb, Profile::default());
        let e = evidence(&kb, &["sore_throat"], &["cough"]);
        let strep_leads = posterior(&kb, &priors, &e);
        let fever = kb.symptom("fever").unwrap();
        let chest_pain = kb.symptom("chest_pain").unwrap();
        let ask = |e: &Evidence, level, asked: &[usize]| {
            unchecked_red_flag(&kb, &strep_leads, e, level, asked, None)
        };
        assert_eq!(ask(&e, Triage::Consultation, &[]), Some(fever));
        // Asked or known, the next one; chest pain takes part in a more urgent pattern,
        // so it is asked even when fever could raise the level no further.
        assert_eq!(ask(&e, Triage::Consultation, &[fever]), Some(chest_pain));
        assert_eq!(ask(&e, Triage::Consultation24, &[]), Some(chest_pain));
        let known = evidence(&kb, &["sore_throat", "chest_pain"], &["cough", "fever"]);
        assert_eq!(ask(&known, Triage::Consultation, &[]), None);
        // Nothing a "yes" could make more urgent.
        assert_eq!(ask(&e, Triage::EmergencyAmbulance, &[]), None);
        // A red flag of a condition that is not leading is not asked.
        let cold_leads = posterior_of(&kb, &priors, &["sore_throat", "cough"], &[]);
        assert_eq!(
            unchecked_red_flag(&kb, &cold_leads, &e, Triage::SelfCare, &[], None),
            None
        );
    }

    #[test]
    fn the_sign_that_would_complete_an_emergency_pattern_is_asked() {
        let kb = kb();
        let sweating = kb.symptom("sweating").unwrap();
        let chest_pain = kb.symptom("chest_pain").unwrap();
        let ask = |present: &[&str], absent: &[&str], level, asked: &[usize]| {
            completing_sign(&kb, &evidence(&kb, present, absent), level, asked, None)
        };
        // Chest pain: is there sweating? Sweating: is there chest pain?
        assert_eq!(
            ask(&["chest_pain"], &[], Triage::Consultation, &[]),
            Some(sweating)
        );
        assert_eq!(
            ask(&["sweating"], &[], Triage::Consultation, &[]),
            Some(chest_pain)
        );
        // Not again once asked or answered, not when nothing points to the pattern, and
        // not when the level is already as urgent as the pattern's.
        assert_eq!(
            ask(&["chest_pain"], &[], Triage::Consultation, &[sweating]),
            None
        );
        assert_eq!(
            ask(&["chest_pain"], &["sweating"], Triage::Consultation, &[]),
            None
        );
        assert_eq!(ask(&["sore_throat"], &[], Triage::SelfCare, &[]), None);
        assert_eq!(
            ask(&["chest_pain"], &[], Triage::EmergencyAmbulance, &[]),
            None
        );
        // A pattern that does not ask its required sign (a swallowed coin of everyone who
        // coughs) still asks its alternatives once that sign is told, and its alternatives
        // are then no emergency signs.
        let mut patterns = kb.patterns.clone();
        patterns[0].ask_all = false;
        let kb =
            KnowledgeBase::checked(kb.symptoms.clone(), kb.conditions.clone(), patterns).unwrap();
        let ask = |present: &[&str]| {
            completing_sign(
                &kb,
                &evidence(&kb, present, &[]),
                Triage::Consultation,
                &[],
                None,
            )
        };
        assert_eq!(ask(&["sweating"]), None);
        assert_eq!(ask(&["chest_pain"]), Some(sweating));
        assert_eq!(emergency_signs(&kb), BTreeSet::from([chest_pain]));
    }

    #[test]
    fn pain_painkillers_do_not_ease_raises_self_care_and_an_urgent_level_only() {
        let base = kb();
        let level_with = |cold: Triage, unrelieved: bool| {
            let mut conditions = base.conditions.clone();
            conditions[1].triage = cold;
            let kb =
                KnowledgeBase::checked(base.symptoms.clone(), conditions, base.patterns.clone())
                    .unwrap();
            let priors = priors(&kb, Profile::default());
            let mut e = evidence(&kb, &["sore_throat"], &["cough"]);
            let p = posterior(&kb, &priors, &e);
            e.unrelieved = unrelieved;
            triage(&kb, &p, &e, &RecentVitals::default(), None)
        };
        assert_eq!(
            level_with(Triage::SelfCare, true).level,
            Triage::Consultation
        );
        assert_eq!(
            level_with(Triage::Consultation24, true).level,
            Triage::Emergency
        );
        assert_eq!(
            level_with(Triage::Consultation24, false).level,
            Triage::Consultation24
        );
        // A routine visit is for pain painkillers do not ease.
        let routine = level_with(Triage::Consultation, true);
        assert_eq!(routine.level, Triage::Consultation);
        assert!(
            !routine.reasons.iter().any(|r| r.contains("painkillers")),
            "{:?}",
            routine.reasons
        );
    }

    #[test]
    fn severity_alone_does_not_raise_the_leading_conditions_level() {
        let kb = kb();
        let priors = priors(&kb, Profile::default());
        let mut e = evidence(&kb, &["sore_throat"], &["cough"]);
        let p = posterior(&kb, &priors, &e);
        let level = |e: &Evidence| triage(&kb, &p, e, &RecentVitals::default(), None).level;
        let calm = level(&e);
        e.severe = true;
        assert_eq!(level(&e), calm);
    }

    #[test]
    fn an_emergency_only_a_less_likely_condition_needs_is_tentative() {
        let kb = kb();
        let decision = |p: &[f64], e: &Evidence| triage(&kb, p, e, &RecentVitals::default(), None);
        let cough = evidence(&kb, &["cough"], &[]);
        // The cold leads, and the heart attack is likely enough to set the level.
        let possible = decision(&[0.7, 0.1, 0.2], &cough);
        assert_eq!(possible.level, Triage::EmergencyAmbulance);
        assert!(possible.tentative, "{possible:?}");
        // Not when the heart attack leads…
        let leading = decision(&[0.2, 0.1, 0.7], &cough);
        assert_eq!(leading.level, Triage::EmergencyAmbulance);
        assert!(!leading.tentative, "{leading:?}");
        // …nor when something said calls for the level too: a pattern, or severity.
        let pattern = decision(
            &[0.7, 0.1, 0.2],
            &evidence(&kb, &["chest_pain", "sweating"], &[]),
        );
        assert_eq!(pattern.level, Triage::EmergencyAmbulance);
        assert!(!pattern.tentative, "{pattern:?}");
        let mut severe = cough.clone();
        severe.severe = true;
        let severe = decision(&[0.7, 0.1, 0.2], &severe);
        assert!(!severe.tentative, "{severe:?}");
    }

    #[test]
    fn said_to_be_severe_a_less_likely_emergency_sets_the_level_and_is_named() {
        let kb = kb();
        // The cold leads; the heart attack is too unlikely to send anyone on its own.
        let p = [0.8_f64, 0.08, 0.12];
        let mut e = evidence(&kb, &["cough"], &[]);
        let decision = |e: &Evidence| triage(&kb, &p, e, &RecentVitals::default(), None);
        assert_eq!(decision(&e).level, Triage::SelfCare);
        e.severe = true;
        let severe = decision(&e);
        assert_eq!(severe.level, Triage::EmergencyAmbulance);
        assert!(
            severe.reasons[0].starts_with("it could be heart_attack"),
            "{:?}",
            severe.reasons
        );
    }

    #[test]
    fn nothing_recognised_is_never_self_care() {
        let kb = kb();
        let priors = priors(&kb, Profile::default());
        let decide = |e: &Evidence| {
            triage(
                &kb,
                &posterior(&kb, &priors, e),
                e,
                &RecentVitals::default(),
                None,
            )
        };
        let nothing = decide(&Evidence::default());
        assert_eq!(nothing.level, Triage::Consultation);
        assert!(nothing.reasons[0].starts_with("no symptom was recognised"));
        // Symptoms denied are not symptoms recognised.
        let denied = decide(&evidence(&kb, &[], &["sore_throat", "cough"]));
        assert_eq!(denied.level, Triage::Consultation);
        // Recognised, and the ranking decides.
        let said = decide(&evidence(&kb, &["sore_throat", "cough"], &[]));
        assert_eq!(said.level, Triage::SelfCare, "{said:?}");
    }

    #[test]
    fn abnormal_vitals_escalate_whatever_the_symptoms() {
        let kb = kb();
        let priors = priors(&kb, Profile::default());
        let e = evidence(&kb, &["sore_throat", "cough"], &[]);
        let p = posterior(&kb, &priors, &e);
        let calm = triage(&kb, &p, &e, &RecentVitals::default(), None);
        assert_eq!(calm.level, Triage::SelfCare);
        let cases = [
            (
                RecentVitals {
                    spo2_min: Some(89.0),
                    ..RecentVitals::default()
                },
                Triage::Emergency,
            ),
            (
                RecentVitals {
                    spo2_min: Some(95.0),
                    ..RecentVitals::default()
                },
                Triage::SelfCare,
            ),
            (
                RecentVitals {
                    heart_rate_max: Some(142.0),
                    ..RecentVitals::default()
                },
                Triage::Emergency,
            ),
            (
                RecentVitals {
                    systolic_max: Some(185.0),
                    ..RecentVitals::default()
                },
                Triage::Consultation24,
            ),
            (
                RecentVitals {
                    systolic_max: Some(179.0),
                    ..RecentVitals::default()
                },
                Triage::SelfCare,
            ),
        ];
        for (vitals, level) in cases {
            let decision = triage(&kb, &p, &e, &vitals, None);
            assert_eq!(decision.level, level, "{vitals:?}: {decision:?}");
        }
        let low = RecentVitals {
            spo2_min: Some(89.0),
            ..RecentVitals::default()
        };
        assert!(triage(&kb, &p, &e, &low, None).reasons[0].contains("89%"));
    }

    #[test]
    fn with_known_copd_oxygen_escalates_only_below_88() {
        let kb = kb();
        let priors = priors(&kb, Profile::default());
        let spo2 = |v| RecentVitals {
            spo2_min: Some(v),
            ..RecentVitals::default()
        };
        let copd = evidence(&kb, &["cough", KNOWN_COPD], &[]);
        let p = posterior(&kb, &priors, &copd);
        assert!(triage(&kb, &p, &copd, &spo2(89.0), None).level < Triage::Emergency);
        let low = triage(&kb, &p, &copd, &spo2(86.0), None);
        assert_eq!(low.level, Triage::Emergency);
        assert!(low.reasons[0].contains("below 88%"), "{low:?}");
        // Only said loosely, COPD does not lower the limit.
        let mut loose = copd.clone();
        loose.loose.insert(kb.symptom(KNOWN_COPD).unwrap());
        assert_eq!(
            triage(&kb, &p, &loose, &spo2(89.0), None).level,
            Triage::Emergency
        );
    }

    #[test]
    fn durations_read_as_a_patient_would_say_them() {
        let cases = [
            (1, "1 day"),
            (10, "10 days"),
            (21, "3 weeks"),
            (60, "8 weeks"),
            (90, "3 months"),
            (365, "12 months"),
            (1825, "5 years"),
        ];
        for (days, said) in cases {
            assert_eq!(how_long(days), said);
        }
        let kb = kb();
        let mut e = evidence(&kb, &["cough"], &[]);
        e.duration_days = Some(1825);
        let p = posterior(&kb, &priors(&kb, Profile::default()), &e);
        let decision = triage(&kb, &p, &e, &RecentVitals::default(), None);
        assert_eq!(decision.level, Triage::Consultation);
        assert!(
            decision
                .reasons
                .contains(&"it has lasted 5 years".to_owned()),
            "{decision:?}"
        );
    }

    #[test]
    fn age_and_sex_outside_a_condition_rule_it_out() {
        let mut kb = kb();
        kb.conditions[1].sex = Sex::Female;
        kb.conditions[0].ages = [18, 120];
        let child_boy = Profile {
            age: Some(5),
            sex: Some(Sex::Male),
        };
        let p = priors(&kb, child_boy);
        assert_eq!((p[0], p[1]), (0.0, 0.0));
        assert!(p[2] > 0.0);
    }

    #[test]
    fn a_leading_condition_sets_the_level_only_when_it_is_more_than_a_guess() {
        let mut conditions = vec![condition("sepsis", Triage::EmergencyAmbulance, 1.0, &[])];
        conditions
            .extend((0..11).map(|i| condition(&format!("mild_{i}"), Triage::SelfCare, 1.0, &[])));
        let kb = KnowledgeBase::checked(vec![symptom("fever")], conditions, vec![]).unwrap();
        let mut evidence = Evidence::default();
        evidence.present.insert(0);
        let decide = |leading: f64| {
            let mut posterior = vec![(1.0 - leading) / 11.0; 12];
            posterior[0] = leading;
            triage(&kb, &posterior, &evidence, &RecentVitals::default(), None)
        };
        let guess = decide(0.09);
        assert_eq!(guess.level, Triage::SelfCare);
        // Nor is the guess said to need self-care.
        assert!(
            guess.reasons.iter().all(|r| !r.contains("sepsis")),
            "{:?}",
            guess.reasons
        );
        assert_eq!(decide(0.12).level, Triage::EmergencyAmbulance);
    }

    #[test]
    fn a_condition_of_parts_not_named_is_unlikely_once_the_patient_names_others() {
        let of = |id: &str, prevalence: f64, sites: &[&str]| Condition {
            sites: sites.iter().map(|&s| s.into()).collect(),
            ..condition(id, Triage::Emergency, prevalence, &[("joint_pain", 0.6)])
        };
        let conditions = vec![
            of("broken_arm", 6.0, &["arm", "wrist"]),
            of("broken_leg", 4.0, &["leg", "ankle"]),
            of("sprain", 10.0, &[]),
        ];
        let kb = KnowledgeBase::checked(vec![symptom("joint_pain")], conditions.clone(), vec![])
            .unwrap();
        let priors = priors(&kb, Profile::default());
        let mut e = evidence(&kb, &["joint_pain"], &[]);
        let unnamed = posterior(&kb, &priors, &e);
        e.sites = Sites::named_in("my wrist hurts");
        let wrist = posterior(&kb, &priors, &e);
        assert!(wrist[1] < unnamed[1] / 10.0, "{wrist:?} {unnamed:?}");
        assert!(wrist[0] > unnamed[0] && wrist[2] > unnamed[2]);
        e.sites = Sites::named_in("my wrist and my ankle");
        assert_eq!(posterior(&kb, &priors, &e), unnamed);

        let mut nowhere = conditions;
        nowhere[0].sites.push("soul".into());
        assert!(KnowledgeBase::checked(vec![symptom("joint_pain")], nowhere, vec![]).is_err());
    }
}
