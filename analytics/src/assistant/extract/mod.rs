//! From a patient's free text to symptom evidence. The text is normalised ("here" after
//! "can't" mended to "hear") and cut into
//! clauses ([`clauses`](mod@clauses), which also says what a negation governs). Each clause is matched
//! to the knowledge base's lay phrasings: literally when a phrasing appears in it (one with
//! a joiner, "diarrhoea with blood", across the clauses the joiner split), and by
//! sentence-embedding similarity, clearly only, for what those phrasings leave of it;
//! otherwise by sentence-embedding similarity, to a symptom of the part of the body the
//! clause is about when it is about one ([`body_sites`], which earlier messages of the
//! conversation may have named), not at all when the clause only says where ("behind his
//! ears"), and never by similarity to a few emergency signs that any mention of their
//! subject resembles (`WORD_FOR_WORD`). A clause of one content word matches by similarity
//! only a symptom phrased with that word, unless it is close to a phrasing as a whole, and,
//! when neither it nor the clause it follows names a part, only a symptom of no part ("it's
//! swollen" after a sting is no swollen gum).
//!
//! A match is clear when the clause is as close to a phrasing as two phrasings of one
//! symptom usually are, as a whole and word by word; otherwise it is loose, as is any match
//! of a clause saying what would happen otherwise ("I have to sit up or I can't breathe").
//! A clause that says one symptom clearly reads none it only resembles beside it ("my knee
//! hurts" is joint pain, not the hot, swollen knee near its wording). A negation rules out
//! only a symptom its clause is that close to as a whole. A phrasing that is itself a
//! negation ("no energy", "not responding") is the symptom, and so, loosely, is a negated
//! clause that the model places nearer a phrasing of a lack with its cue than without ("she
//! hasn't passed any wind"); "I can walk on it" denies "can't walk on it", as "I wake up
//! soaked" does "won't wake up" (the clause has every word the phrasing negates, and no
//! negation).
//!
//! What the model misses or misreads is read by rule: [`cues`] reads how long, how severe,
//! whether pain relief failed and whom the message is about; [`readers`] reads findings
//! from sentences ("took 24 paracetamol" is an overdose) and takes back what the model only
//! resembled beside them; and [`readings`] finds the figures a patient types: a
//! thermometer's says whether there is a fever, and with an age of 3 to 6 months whether it
//! is NICE's amber 39 °C, a meter's blood sugar under 4 mmol/L is a hypo and from 11 a high
//! one, a ketone meter's says whether ketones are raised, and a pulse, saturation or blood
//! pressure goes into the evidence as a device's reading would.
//!
//! A message takes one batch of the model: what of its clauses no phrasing matched word for
//! word, negated ones also with their cue, and their words not met before when those are
//! few (a word's vector is kept once made). When they are many, a second batch holds the
//! new words of the clauses that may match clearly.

mod clauses;
mod cues;
mod readers;
mod words;

use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex};

use aho_corasick::AhoCorasick;

use super::body_sites::{self, Sites};
use super::embedding::{Embedder, EmbeddingError, PASS_COST_TOKENS, cosine, dot};
use super::knowledge::KnowledgeBase;
use super::readings::{
    self, FEVER_CELSIUS, HIGH_AT_3_TO_6_MONTHS_CELSIUS, HIGH_SUGAR_FROM_MMOL, HYPO_BELOW_MMOL,
    KETONES_RAISED_FROM_MMOL, KETONES_VERY_HIGH_FROM_MMOL, NORMAL_BELOW_CELSIUS,
};
use super::reasoning::Evidence;
use clauses::{
    Clause, INABILITY, SCARCITY, clauses, ends_negation, inabilities, mend_hear, only_a_cold,
    only_a_place, only_content_word, only_waking_up, says_a_lack,
};
use cues::{
    PAIN_RELIEF, SIX_MONTHS_DAYS, THREE_MONTHS_DAYS, age_in_days, duration_days, fails_to_help,
    severe, subject,
};
use readers::{
    MEDICINES, PAINS_OF_PARTS, READERS, Reader, TAKEN_BACK, TakenBack, bleeding_in_pregnancy,
    counts_an_overdose, medicine_missed, on_regular_medicine, pains_denied, swallowed_an_object,
    swallowed_food_or_drink, swallowed_something_sharp, tablets_gone_missing,
};
use words::{
    contains_words, content_words, has_negation, names_any, normalise, on_word_boundaries,
    without_words,
};

/// A clause this similar to a phrasing reports its symptom…
const MATCH: f32 = 0.5;

/// …and so do other symptoms within this distance of the clause's best match. MATCH and
/// RUNNER_UP are the pair with the best recall-weighted F2 on the extraction development
/// set among 0.45–0.7 × 0–0.04: recall first, since a symptom missed is never asked back
/// while a spurious one is weighed by the ranking.
const RUNNER_UP: f32 = 0.02;

/// A match is clear from this similarity on: about the median similarity of a phrasing to
/// the closest other phrasing of its symptom in the knowledge base. Below it the match is
/// loose (see [`Evidence::loose`])…
const CLEAR: f32 = 0.72;

/// …and so it is when the clause's words cover the phrasing's content words less than
/// this ([`Extractor::coverage`]): the median coverage of a phrasing by the closest other
/// phrasing of its symptom, 0.75. A sentence embedding rates "it looks a funny shape"
/// close to "face looks lopsided"; the face missing from the clause shows word by word.
const CLEAR_COVERAGE: f32 = 0.75;

/// How many words of patients' messages [`Extractor`] keeps the vectors of: some 15 MB.
const SEEN_WORDS: usize = 10_000;

/// A clause of plenty ("plenty of wet nappies", "not many wet nappies") says the opposite
/// of a symptom whose phrasings speak of scarcity ("fewer wet nappies"): antonymous
/// quantifiers, which a sentence embedding rates as near neighbours.
const PLENTY: [&str; 4] = ["plenty", "lots", "loads", "many"];

/// A clause that says how little there is ("and a bit of blood") is not what a phrasing
/// of a lot only resembles ("blood pouring out"): a small amount is the point of the
/// difference.
#[rustfmt::skip]
const A_LITTLE: [&str; 11] = [
    "a bit of", "a little", "a few drops", "a spot of", "spots of", "a streak of",
    "streaks of", "a smear of", "a trace of", "slight", "spotting",
];

#[rustfmt::skip]
const A_LOT: [&str; 8] = [
    "heavy", "heavily", "pouring", "spurting", "won't stop", "gushing", "soaking",
    "lot of",
];

/// Symptoms never matched by resemblance, only by a phrasing the text contains or a
/// reader: an emergency sign that any mention of its subject resembles ("needing my
/// reliever most days" an inhaler not helping, "burnt my finger" a burn bigger than the
/// hand, "my baby" a baby under 3 months, "my wrists are swollen" a wrist broken), which
/// would call an ambulance or send to A&E until the patient answered; a swallowed
/// object, which swallowed tablets would be read as otherwise; a rape or sexual
/// assault, which is the patient's to say, never the model's to guess; a headache called a
/// migraine, which is the patient's own word for it, not a bad headache's; pain in both
/// shoulders, which one shoulder's pain resembles as closely as any; and a pain eased by
/// eating, which the model rates as near one eating brings on.
const WORD_FOR_WORD: [&str; 35] = [
    "numb_from_pressure",
    "under_3_months",
    "high_temperature_3_to_6_months",
    "nosebleed_not_stopping",
    "reliever_not_helping",
    "serious_burn",
    "suspected_heart_attack",
    "takes_anticoagulant",
    "swallowed_battery_or_magnet",
    "sudden_testicle_pain",
    "sudden_confusion",
    "choking",
    "bulging_fontanelle",
    "green_vomit",
    "reduced_baby_movements",
    "numb_legs",
    "waters_broken",
    "stuck_in_throat",
    "cannot_keep_fluids_down",
    "chest_pain_eases_with_rest",
    "chest_pain_not_eased_by_rest",
    "fever_5_days_or_more",
    "low_blood_sugar",
    "hypo_not_improving",
    "high_blood_sugar",
    "raised_ketones",
    "very_high_ketones",
    "thinks_bone_broken",
    "not_breathing",
    "sexually_assaulted",
    "swallowed_object",
    "swallowed_sharp_object",
    "called_a_migraine",
    "both_shoulders",
    "pain_eased_by_eating",
];

/// Phrasings that name something other than what the phrasings within them say
/// ([`Extractor::literal_matches`]).
const NAMES: [&str; 1] = ["hay fever"];

/// Content words a clause must have left, once the phrasings it contains word for word are
/// taken out, for the model to read the rest.
const LEFT_TO_READ: usize = 2;

/// Words of a need, after which "or" says what would happen otherwise ("I have to sit up
/// or I can't breathe").
const NEEDS: [&str; 5] = ["have to", "has to", "need to", "needs to", "must"];

/// The phrasings and their words, embedded once.
pub struct Extractor {
    phrasings: Vec<Phrasing>,
    /// The content words of all phrasings, each embedded alone…
    words: Vec<Arc<[f32]>>,
    /// …and where to find each.
    word_index: HashMap<String, usize>,
    /// Other words of patients' messages, embedded alone when first met: a word's vector
    /// never changes, and most messages repeat words earlier ones used. Emptied when it
    /// holds [`SEEN_WORDS`].
    seen_words: Mutex<HashMap<String, Arc<[f32]>>>,
    /// How many symptoms the knowledge base has…
    symptoms: usize,
    /// …and the parts of the body each one's label names.
    symptom_sites: Vec<Sites>,
    /// The symptom a count of tablets taken ([`counts_an_overdose`]) or tablets gone
    /// missing ([`tablets_gone_missing`]) report.
    overdose: Option<usize>,
    /// The symptom a thermometer's figure reports, or denies (see [`FEVER_CELSIUS`])…
    fever: Option<usize>,
    /// …and the one it reports with an age of 3 to 6 months.
    high_temperature_3_to_6_months: Option<usize>,
    /// The symptoms bleeding in pregnancy reports ([`bleeding_in_pregnancy`]), light or
    /// heavy, and the wound's it is otherwise read as.
    vaginal_bleeding: Option<usize>,
    heavy_vaginal_bleeding: Option<usize>,
    wound_bleeding: Option<usize>,
    /// The symptoms a meter's figure under [`HYPO_BELOW_MMOL`] reports…
    low_blood_sugar: Option<usize>,
    /// …from [`HIGH_SUGAR_FROM_MMOL`]…
    high_blood_sugar: Option<usize>,
    /// …and a ketone meter's from [`KETONES_RAISED_FROM_MMOL`] and
    /// [`KETONES_VERY_HIGH_FROM_MMOL`].
    raised_ketones: Option<usize>,
    very_high_ketones: Option<usize>,
    /// Symptoms matched only word for word or read ([`WORD_FOR_WORD`]).
    word_for_word: Vec<usize>,
    /// The symptoms read from a sentence, each with its reader ([`READERS`]).
    readers: Vec<(usize, Reader)>,
    /// The symptoms sentence readings take back, each with the symptom it must be read
    /// beside, if any, and its entry ([`TAKEN_BACK`]).
    taken_back: Vec<(usize, Option<usize>, &'static TakenBack)>,
    /// Finds the phrasings a clause may contain word for word, all in one pass…
    literal: AhoCorasick,
    /// …each pattern being this phrasing (an index into `phrasings`).
    literal_phrasings: Vec<usize>,
    /// The symptom of each pain of [`PAINS_OF_PARTS`], by its index.
    part_pains: Vec<Option<usize>>,
}

struct Phrasing {
    symptom: usize,
    /// Normalised.
    text: String,
    vector: Vec<f32>,
    /// Its content words (indexes into [`Extractor::words`]).
    words: Vec<usize>,
    /// It is itself a negation, an inability or a lack ("not responding", "can't pass
    /// wind", "fewer wet nappies").
    negative: bool,
}

/// A symptom a clause reports.
struct Match {
    symptom: usize,
    /// The phrasing that matched best (an index into [`Extractor::phrasings`]).
    phrasing: usize,
    /// Close to a phrasing as a whole and word by word: not loose.
    clear: bool,
    /// Close to a phrasing as a whole: enough for a negated clause to rule it out.
    named: bool,
}

impl Extractor {
    pub fn new(kb: &KnowledgeBase, embedder: &Embedder) -> Result<Extractor, EmbeddingError> {
        let mut flat = Vec::new();
        for (i, symptom) in kb.symptoms.iter().enumerate() {
            for phrasing in symptom.phrasings.iter().chain([&symptom.label]) {
                flat.push((i, normalise(phrasing)));
            }
        }
        let texts: Vec<&str> = flat.iter().map(|(_, t)| t.as_str()).collect();
        let vectors = embed_all(embedder, &texts)?;
        let vocabulary: BTreeSet<&str> = texts.iter().flat_map(|t| content_words(t)).collect();
        let vocabulary: Vec<&str> = vocabulary.into_iter().collect();
        let words = embed_all(embedder, &vocabulary)?
            .into_iter()
            .map(Arc::from)
            .collect();
        let word_index: HashMap<String, usize> = vocabulary
            .iter()
            .enumerate()
            .map(|(i, w)| ((*w).to_owned(), i))
            .collect();
        let phrasings = flat
            .into_iter()
            .zip(vectors)
            .map(|((symptom, text), vector)| Phrasing {
                symptom,
                words: content_words(&text).map(|w| word_index[w]).collect(),
                negative: says_a_lack(&text),
                text,
                vector,
            })
            .collect::<Vec<Phrasing>>();
        // A single short word ("ill", "hot") is too vague to match on its own.
        let literal_phrasings: Vec<usize> = phrasings
            .iter()
            .enumerate()
            .filter(|(_, p)| p.text.split(' ').count() >= 2 || p.text.len() >= 5)
            .map(|(i, _)| i)
            .collect();
        let literal = AhoCorasick::new(literal_phrasings.iter().map(|&i| &phrasings[i].text))
            .map_err(|e| EmbeddingError::Inference(format!("literal phrasings: {e}")))?;
        Ok(Extractor {
            symptoms: kb.symptoms.len(),
            overdose: kb.symptom("took_overdose"),
            fever: kb.symptom("fever"),
            high_temperature_3_to_6_months: kb.symptom("high_temperature_3_to_6_months"),
            vaginal_bleeding: kb.symptom("abnormal_vaginal_bleeding"),
            heavy_vaginal_bleeding: kb.symptom("heavy_vaginal_bleeding"),
            wound_bleeding: kb.symptom("heavy_bleeding_wound"),
            low_blood_sugar: kb.symptom("low_blood_sugar"),
            high_blood_sugar: kb.symptom("high_blood_sugar"),
            raised_ketones: kb.symptom("raised_ketones"),
            very_high_ketones: kb.symptom("very_high_ketones"),
            word_for_word: WORD_FOR_WORD
                .iter()
                .filter_map(|id| kb.symptom(id))
                .collect(),
            readers: READERS
                .iter()
                .filter_map(|&(id, reader)| Some((kb.symptom(id)?, reader)))
                .collect(),
            taken_back: TAKEN_BACK
                .iter()
                .flat_map(|t| {
                    // One whose `beside` the knowledge base lacks takes nothing back.
                    let beside = t.beside.map(|id| kb.symptom(id));
                    let known = beside.is_none_or(|b| b.is_some());
                    t.symptoms
                        .iter()
                        .filter(move |_| known)
                        .filter_map(move |id| Some((kb.symptom(id)?, beside.flatten(), t)))
                })
                .collect(),
            // From the label only: a phrasing's part is often one example of many ("cut
            // my finger" for any cut), while a label names the part the symptom is of. A
            // warning sign's too: "my wrist hurts" is no eye pain, and a sign whose label
            // names no part ("numbness around bottom or genitals") is never set aside.
            symptom_sites: kb
                .symptoms
                .iter()
                .map(|s| Sites::named_in(&normalise(&s.label)))
                .collect(),
            literal,
            literal_phrasings,
            part_pains: PAINS_OF_PARTS
                .iter()
                .map(|(_, pain)| kb.symptom(pain))
                .collect(),
            phrasings,
            words,
            word_index,
            seen_words: Mutex::new(HashMap::new()),
        })
    }

    /// The evidence in `text`, said after messages that named the parts `before`: a
    /// clause that refers back ("he can't move it") and follows no part named in `text`
    /// is about them.
    pub fn evidence(
        &self,
        embedder: &Embedder,
        text: &str,
        before: Sites,
    ) -> Result<Evidence, EmbeddingError> {
        let normalised = inabilities(&mend_hear(&normalise(text)));
        let clauses = clauses(&normalised);
        let said: Vec<String> = clauses.iter().map(Clause::said).collect();
        // A clause that contains a phrasing word for word is matched by it; only the rest
        // goes through the model, which takes most of a message's time.
        let mut found: Vec<Vec<Match>> = said.iter().map(|s| self.literal_matches(s)).collect();
        // What of each clause the model reads: all of it when nothing matched word for
        // word; else what the phrasings found leave, when that may still say something
        // clearly ("my throat is closing up" of "my throat is closing up after i ate
        // peanuts").
        let unread: Vec<String> = clauses
            .iter()
            .zip(&found)
            .enumerate()
            .map(|(i, (clause, literal))| {
                let subject_of_a_negation = clauses.get(i + 1).is_some_and(|c| c.negated);
                if only_a_place(&clause.text, !subject_of_a_negation)
                    || (!clause.negated
                        && (only_waking_up(&clause.text) || only_a_cold(&clause.text)))
                {
                    String::new()
                } else if literal.is_empty() {
                    clause.text.clone()
                } else if clause.negated {
                    String::new()
                } else {
                    let rest = literal.iter().fold(clause.text.clone(), |rest, m| {
                        without_words(&rest, &self.phrasings[m.phrasing].text)
                    });
                    let rest = rest.split_whitespace().collect::<Vec<_>>().join(" ");
                    if content_words(&rest).count() >= LEFT_TO_READ {
                        rest
                    } else {
                        String::new()
                    }
                }
            })
            .collect();
        let unmatched: Vec<usize> = (0..clauses.len())
            .filter(|&i| !unread[i].is_empty())
            .collect();
        // A negated one goes in the batch too as said, with its cue (see
        // [`Extractor::negation_is_the_symptom`]); and so do their words not met before
        // when they cost less than a second pass would, as a few words do once the
        // assistant has read a few hundred messages.
        let with_cue: Vec<usize> = unmatched
            .iter()
            .copied()
            .filter(|&i| clauses[i].cue.is_some())
            .collect();
        let (mut words, new_words) =
            self.known_words(unmatched.iter().flat_map(|&i| content_words(&unread[i])));
        let early = embedder.tokens(&new_words)? <= PASS_COST_TOKENS;
        let texts: Vec<&str> = unmatched
            .iter()
            .map(|&i| unread[i].as_str())
            .chain(with_cue.iter().map(|&i| said[i].as_str()))
            .chain(new_words.iter().copied().filter(|_| early))
            .collect();
        let mut vectors = embedder.embed(&texts)?.into_iter();
        let sites = body_sites::of_clauses(
            before,
            clauses.iter().map(|c| (c.text.as_str(), c.continues)),
        );
        // Each unread clause's similarity to every phrasing, and as said when negated
        // (none for the others), and the symptoms it resembles.
        let mut similarities: Vec<Vec<f32>> = vec![Vec::new(); clauses.len()];
        let mut similar: Vec<Vec<Match>> = (0..clauses.len()).map(|_| Vec::new()).collect();
        for &i in &unmatched {
            similarities[i] = self.similarities(&next_vector(&mut vectors)?);
            similar[i] = self.similar_matches(&similarities[i], sites[i]);
            if let Some(word) = only_content_word(&unread[i]) {
                // One word says nothing of where: "it's swollen" after a sting is no
                // swollen gum, unless a part was named before it or is the subject of its
                // negation ("eyes aren't yellow").
                let subject = match i.checked_sub(1) {
                    Some(before) if clauses[i].negated && !clauses[before].negated => sites[before],
                    _ => Sites::default(),
                };
                let place = sites[i].union(subject);
                similar[i].retain(|m| {
                    let of = self.symptom_sites[m.symptom];
                    (m.named || self.phrased_with(m.symptom, word))
                        && if place.is_empty() {
                            of.is_empty()
                        } else {
                            !place.elsewhere_than(of)
                        }
                });
            }
        }
        let mut said_similarities: Vec<Vec<f32>> = vec![Vec::new(); clauses.len()];
        for &i in &with_cue {
            said_similarities[i] = self.similarities(&next_vector(&mut vectors)?);
        }
        // A clause close to a phrasing as a whole may match it clearly: its words decide.
        // If they were too many for the first batch, those of such clauses get a second.
        let may_be_clear: Vec<bool> = similarities
            .iter()
            .map(|s| s.iter().any(|&sim| sim >= CLEAR))
            .collect();
        if early {
            self.keep_words(&new_words, vectors, &mut words);
        } else {
            let wanted: BTreeSet<&str> = unread
                .iter()
                .zip(&may_be_clear)
                .filter(|(_, may)| **may)
                .flat_map(|(text, _)| content_words(text))
                .collect();
            let late: Vec<&str> = new_words
                .into_iter()
                .filter(|w| wanted.contains(w))
                .collect();
            let vectors = embedder.embed(&late)?.into_iter();
            self.keep_words(&late, vectors, &mut words);
        }
        for (i, mut similar) in similar.into_iter().enumerate() {
            if may_be_clear[i] {
                let clause_words: Vec<&[f32]> = content_words(&unread[i])
                    .filter_map(|w| words.get(w).map(|v| &v[..]))
                    .collect();
                self.mark_clear(&mut similar, &similarities[i], &clause_words);
            }
            // What is left of a clause once its phrasings are taken out is a fragment,
            // which only a clear match reads rightly; and a clause one symptom clearly
            // says is that statement, the rest only its wording's neighbours.
            let partly_read = !found[i].is_empty();
            let said_clearly = similar.iter().any(|m| m.clear);
            let new = |m: &Match| {
                (m.clear || !(partly_read || said_clearly))
                    && !found[i].iter().any(|f| f.symptom == m.symptom)
            };
            let similar: Vec<Match> = similar.into_iter().filter(new).collect();
            found[i].extend(similar);
        }

        // A phrasing with a joiner in it ("diarrhoea with blood", "pins and needles")
        // matches across the clauses the joiner split, as the first of them says it.
        for i in 1..clauses.len() {
            let Some(joiner) = &clauses[i].joiner else {
                continue;
            };
            let joined = format!("{} {joiner} {}", clauses[i - 1].text, clauses[i].text);
            let spanning = self.literal_matches(&joined).into_iter().filter(|m| {
                contains_words(&self.phrasings[m.phrasing].text, joiner)
                    && !found[i - 1].iter().any(|f| f.symptom == m.symptom)
            });
            let spanning: Vec<Match> = spanning.collect();
            found[i - 1].extend(spanning);
        }

        let mut evidence = Evidence {
            duration_days: duration_days(&normalised),
            severe: severe(&normalised),
            unrelieved: fails_to_help(&normalised, &PAIN_RELIEF),
            // "No tingling in my arms" does not make the arms what the patient is about.
            sites: clauses
                .iter()
                .filter(|c| !c.negated)
                .fold(Sites::default(), |all, c| {
                    all.union(Sites::named_in(&c.text))
                }),
            ..Evidence::default()
        };
        let mut said_clearly = BTreeSet::new();
        let says = |text: &str, words: &[&str]| words.iter().any(|w| contains_words(text, w));
        // "I have to sleep propped up or I can't breathe": what would happen otherwise,
        // not what does. Its symptoms are loose, to be asked.
        let otherwise: Vec<bool> = clauses
            .iter()
            .enumerate()
            .map(|(i, clause)| {
                let after_a_need = i > 0
                    && clause.joiner.as_deref() == Some("or")
                    && says(&clauses[i - 1].text, &NEEDS);
                after_a_need || clause.text.split(' ').next() == Some("otherwise")
            })
            .collect();
        for (((((clause, said), found), similarity), said_similarity), otherwise) in clauses
            .iter()
            .zip(&said)
            .zip(found)
            .zip(&similarities)
            .zip(&said_similarities)
            .zip(otherwise)
        {
            let plenty = says(&clause.text, &PLENTY);
            let little = says(&clause.text, &A_LITTLE);
            let a_treatment = on_regular_medicine(&clause.text) || medicine_missed(&clause.text);
            for found in found {
                if little && !found.clear && says(&self.phrasings[found.phrasing].text, &A_LOT) {
                    continue;
                }
                // "I'm on tablets for my blood pressure" is a treatment, and "I forgot my
                // tablets" a dose missed, not tablets taken or saved up, which they resemble.
                if a_treatment && !found.clear && self.phrased_with_tablets(found.symptom) {
                    continue;
                }
                // A phrasing that itself says "can't" or "not" ("can't stop coughing") is
                // the symptom, not its negation.
                let literal_negative = self.phrasings.iter().any(|p| {
                    p.symptom == found.symptom
                        && has_negation(&p.text)
                        && contains_words(said, &p.text)
                });
                let opposite = plenty
                    && self
                        .phrasings
                        .iter()
                        .any(|p| p.symptom == found.symptom && says(&p.text, &SCARCITY));
                let able = clause.able && says(&self.phrasings[found.phrasing].text, &INABILITY);
                // "I wake up soaked" says what "won't wake up" denies: the model rates a
                // statement and its negation as near neighbours.
                let affirms =
                    !found.clear && !clause.negated && self.affirms_the_negated(&found, said);
                if clause.negated
                    && !literal_negative
                    && self.negation_is_the_symptom(&found, similarity, said_similarity)
                {
                    // Loose: the model's reading of a negation is a hint, to be asked.
                    evidence.present.insert(found.symptom);
                    evidence.loose.insert(found.symptom);
                    continue;
                }
                // "Not many" is scarcity again: the two reversals cancel. An ability is
                // itself the denial ("I can see fine", "no, I can walk"), and so is an
                // affirmation.
                if able || affirms || (clause.negated && !literal_negative) != opposite {
                    // "No X" rules out X only when it clearly names X.
                    if found.named {
                        evidence.absent.insert(found.symptom);
                    }
                } else {
                    evidence.present.insert(found.symptom);
                    if found.clear && !otherwise {
                        said_clearly.insert(found.symptom);
                    } else {
                        evidence.loose.insert(found.symptom);
                    }
                }
            }
        }
        if let Some(overdose) = self.overdose {
            if counts_an_overdose(&normalised) {
                evidence.absent.remove(&overdose);
                evidence.present.insert(overdose);
                said_clearly.insert(overdose);
            } else if tablets_gone_missing(&normalised) && !evidence.absent.contains(&overdose) {
                // Loose: whether anyone swallowed them is asked.
                evidence.present.insert(overdose);
                evidence.loose.insert(overdose);
            } else if (swallowed_an_object(&normalised)
                || swallowed_something_sharp(&normalised)
                || swallowed_food_or_drink(&normalised))
                && !names_any(&normalised, &MEDICINES)
            {
                // The model rates "swallowed a coin", "a pin" or "some water" near swallowed
                // tablets.
                unsay(&mut evidence, &mut said_clearly, overdose);
            }
        }
        let mut read = BTreeSet::new();
        read.extend(
            self.readers
                .iter()
                .filter(|(_, reader)| reader(&normalised))
                .map(|&(symptom, _)| symptom),
        );
        // A pregnant woman's bleeding, of no wound or other part, is the womb's: the model
        // rates "I'm bleeding" nearest a wound's that will not stop.
        if let Some(heavy) = bleeding_in_pregnancy(&normalised) {
            if let Some(wound) = self.wound_bleeding {
                unsay(&mut evidence, &mut said_clearly, wound);
            }
            read.extend(self.vaginal_bleeding);
            if heavy {
                read.extend(self.heavy_vaginal_bleeding);
            }
        }
        let readings = readings::read(text);
        evidence.vitals = readings.vitals;
        evidence.subject = subject(&normalised);
        let reads = |figure: Option<f32>, from: f32| figure.is_some_and(|mmol| mmol >= from);
        if readings
            .lowest_glucose_mmol
            .is_some_and(|mmol| mmol < HYPO_BELOW_MMOL)
        {
            read.extend(self.low_blood_sugar);
        }
        if reads(readings.highest_glucose_mmol, HIGH_SUGAR_FROM_MMOL) {
            read.extend(self.high_blood_sugar);
        }
        // A ketone meter's figure says how high they are, and whether they are at all.
        for (symptom, from) in [
            (self.raised_ketones, KETONES_RAISED_FROM_MMOL),
            (self.very_high_ketones, KETONES_VERY_HIGH_FROM_MMOL),
        ] {
            match (symptom, readings.ketones_mmol) {
                (Some(s), Some(mmol)) if mmol >= from => {
                    read.insert(s);
                }
                (Some(s), Some(_)) => {
                    deny(&mut evidence, &mut said_clearly, s);
                }
                _ => {}
            }
        }
        // A thermometer's figure says what "hot" and "a temperature" only resemble.
        if let Some(celsius) = readings.celsius {
            if let Some(fever) = self.fever {
                if celsius >= FEVER_CELSIUS {
                    read.insert(fever);
                } else {
                    unsay(&mut evidence, &mut said_clearly, fever);
                    if celsius < NORMAL_BELOW_CELSIUS {
                        evidence.absent.insert(fever);
                    }
                }
            }
            let months_3_to_6 = age_in_days(&normalised)
                .is_some_and(|days| (THREE_MONTHS_DAYS..SIX_MONTHS_DAYS).contains(&days));
            if celsius >= HIGH_AT_3_TO_6_MONTHS_CELSIUS && months_3_to_6 {
                read.extend(self.high_temperature_3_to_6_months);
            }
        }
        for symptom in read {
            evidence.absent.remove(&symptom);
            evidence.present.insert(symptom);
            said_clearly.insert(symptom);
        }
        for &(symptom, beside, taken) in &self.taken_back {
            let stands = taken.unless_said_clearly && said_clearly.contains(&symptom);
            let alone = beside.is_some_and(|b| !evidence.present.contains(&b));
            if stands || alone || !(taken.reader)(&normalised) {
                continue;
            }
            if taken.denies {
                deny(&mut evidence, &mut said_clearly, symptom);
            } else {
                unsay(&mut evidence, &mut said_clearly, symptom);
            }
        }
        for part in pains_denied(&normalised) {
            if let Some(pain) = self.part_pains[part].filter(|p| !said_clearly.contains(p)) {
                deny(&mut evidence, &mut said_clearly, pain);
            }
        }
        // Said clearly in one clause, a symptom is not loose for resembling another.
        evidence.loose.retain(|s| !said_clearly.contains(s));
        Ok(evidence)
    }

    /// Whether a phrasing of `symptom` names tablets or pills ("took too many tablets").
    fn phrased_with_tablets(&self, symptom: usize) -> bool {
        self.phrasings
            .iter()
            .any(|p| p.symptom == symptom && p.text.split(' ').any(|w| MEDICINES.contains(&w)))
    }

    /// The vectors of these words that are known (each embedded alone): the knowledge
    /// base's, and those met before in [`Extractor::seen_words`]; and, once each, the
    /// words that are not.
    fn known_words<'t>(
        &self,
        words: impl Iterator<Item = &'t str>,
    ) -> (HashMap<&'t str, Arc<[f32]>>, Vec<&'t str>) {
        let mut vectors: HashMap<&str, Arc<[f32]>> = HashMap::new();
        let mut new_words: BTreeSet<&str> = BTreeSet::new();
        let seen = self.seen_words();
        for word in words {
            let known = match self.word_index.get(word) {
                Some(&i) => Some(self.words[i].clone()),
                None => seen.get(word).cloned(),
            };
            match known {
                Some(vector) => _ = vectors.insert(word, vector),
                None => _ = new_words.insert(word),
            }
        }
        (vectors, new_words.into_iter().collect())
    }

    /// Adds newly embedded words to `into`, and keeps them for the messages to come.
    fn keep_words<'t>(
        &self,
        words: &[&'t str],
        vectors: impl Iterator<Item = Vec<f32>>,
        into: &mut HashMap<&'t str, Arc<[f32]>>,
    ) {
        let mut seen = self.seen_words();
        for (&word, vector) in words.iter().zip(vectors) {
            let vector: Arc<[f32]> = vector.into();
            if seen.len() >= SEEN_WORDS {
                seen.clear();
            }
            seen.insert(word.to_owned(), vector.clone());
            into.insert(word, vector);
        }
    }

    fn seen_words(&self) -> std::sync::MutexGuard<'_, HashMap<String, Arc<[f32]>>> {
        // A panic while the lock was held cannot leave a vector half written: the map is
        // still good.
        self.seen_words
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// A text's similarity to every phrasing, in order: the dot product, both vectors
    /// being the embedder's, of unit length.
    fn similarities(&self, vector: &[f32]) -> Vec<f32> {
        self.phrasings
            .iter()
            .map(|p| dot(vector, &p.vector))
            .collect()
    }

    /// Whether a phrasing of `symptom` has `word` among its words. A clause of one content
    /// word ("woke up", "big", "hot") is as good as that word embedded alone, whose
    /// neighbours are loose: "woke up" is near "hard to wake up" and "trouble sleeping",
    /// "big" near "bruising". Unless it is close to a phrasing as a whole, it matches only
    /// a symptom phrased with the word itself ("hot" is "hot to touch", "temperature" is
    /// "high temperature").
    fn phrased_with(&self, symptom: usize, word: &str) -> bool {
        self.word_index.get(word).is_some_and(|w| {
            self.phrasings
                .iter()
                .any(|p| p.symptom == symptom && p.words.contains(w))
        })
    }

    /// Whether a clause without a negation, an inability or a lack (`said`) has every
    /// content word of the phrasing it matched, which opens with one ("won't wake up",
    /// "can't sleep"): it says what the phrasing denies ("i wake up soaked", "i sleep all
    /// day"). A phrasing whose negation comes later ("better off without me") may have
    /// lost it to the clause after, which the negation opened.
    fn affirms_the_negated(&self, found: &Match, said: &str) -> bool {
        let phrasing = &self.phrasings[found.phrasing];
        let denied: Vec<&str> = content_words(&phrasing.text)
            .filter(|w| !says_a_lack(w))
            .collect();
        let opens_negated = content_words(&phrasing.text)
            .next()
            .is_some_and(says_a_lack);
        opens_negated
            && !says_a_lack(said)
            && !denied.is_empty()
            && denied.iter().all(|w| contains_words(said, w))
    }

    /// Whether a negated clause reports the symptom it matched rather than denying it: the
    /// phrasing it matched best is itself a negation or a lack ("can't keep myself safe",
    /// "can't pass wind", "fewer wet nappies"), and the clause said with its cue is closer
    /// to it than without ("I don't know if I can keep myself safe", "she hasn't passed
    /// any wind"). A sentence embedding barely tells a statement from its negation, but
    /// the cue moves it towards a phrasing that shares it, and away when it denies a
    /// problem ("no trouble swallowing" against "can't swallow").
    fn negation_is_the_symptom(&self, found: &Match, plain: &[f32], said: &[f32]) -> bool {
        self.phrasings[found.phrasing].negative
            && matches!(
                (plain.get(found.phrasing), said.get(found.phrasing)),
                (Some(plain), Some(said)) if said > plain
            )
    }

    /// Symptoms a clause reports word for word: every phrasing it contains, clearly —
    /// except a phrasing that is itself a negation with words after it, which may qualify
    /// it ("not responding to paracetamol" is no unconscious patient): that one is loose,
    /// and asked.
    fn literal_matches(&self, clause: &str) -> Vec<Match> {
        let found: Vec<aho_corasick::Match> = self
            .literal
            .find_overlapping_iter(clause)
            .filter(|found| on_word_boundaries(clause, found.start(), found.end()))
            .collect();
        // A phrasing within a name found is part of the name: "hay fever" is no fever.
        // (Within a description it is said: a barking cough is a cough.)
        let within_a_name = |m: &aho_corasick::Match| {
            found.iter().any(|other| {
                other.start() <= m.start()
                    && m.end() <= other.end()
                    && other.len() > m.len()
                    && NAMES.contains(&&clause[other.start()..other.end()])
            })
        };
        let mut literal: Vec<Match> = found
            .iter()
            .filter(|m| !within_a_name(m))
            .map(|found| {
                let phrasing = self.literal_phrasings[found.pattern().as_usize()];
                let p = &self.phrasings[phrasing];
                Match {
                    symptom: p.symptom,
                    phrasing,
                    clear: !has_negation(&p.text) || ends_negation(clause, &p.text),
                    named: true,
                }
            })
            .collect();
        // Of several phrasings of one symptom, the first in the knowledge base.
        literal.sort_unstable_by_key(|m| (m.symptom, m.phrasing));
        literal.dedup_by_key(|m| m.symptom);
        literal
    }

    /// Symptoms a clause that contains no phrasing resembles: the best embedding match and
    /// its close runners-up, loose until [`Extractor::mark_clear`] finds otherwise.
    /// `similarities` are the clause's to each phrasing, in order; a symptom of another
    /// part of the body than the clause's `sites` is not one of them.
    fn similar_matches(&self, similarities: &[f32], sites: Sites) -> Vec<Match> {
        let mut best_per_symptom = vec![(f32::MIN, 0); self.symptoms];
        for (i, (p, &similarity)) in self.phrasings.iter().zip(similarities).enumerate() {
            if similarity > best_per_symptom[p.symptom].0
                && !self.word_for_word.contains(&p.symptom)
            {
                best_per_symptom[p.symptom] = (similarity, i);
            }
        }
        let best = best_per_symptom
            .iter()
            .map(|&(sim, _)| sim)
            .fold(f32::MIN, f32::max);
        if best < MATCH {
            return Vec::new();
        }
        best_per_symptom
            .into_iter()
            .enumerate()
            .filter(|&(_, (sim, _))| sim >= MATCH && sim >= best - RUNNER_UP)
            // Dropped rather than passed over: what follows a match of the wrong part is
            // further still from what the clause says.
            .filter(|&(symptom, _)| !sites.elsewhere_than(self.symptom_sites[symptom]))
            .map(|(symptom, (similarity, phrasing))| Match {
                symptom,
                phrasing,
                clear: false,
                named: similarity >= CLEAR,
            })
            .collect()
    }

    /// Marks clear each match of a clause with a phrasing of its symptom that the clause is
    /// close to as a whole ([`CLEAR`]) and word by word ([`CLEAR_COVERAGE`]): `words` are
    /// the embeddings of its content words.
    fn mark_clear(&self, found: &mut [Match], similarities: &[f32], words: &[&[f32]]) {
        for m in found {
            m.clear = self
                .phrasings
                .iter()
                .zip(similarities)
                .any(|(p, &similarity)| {
                    p.symptom == m.symptom
                        && similarity >= CLEAR
                        && self.coverage(p, words) >= CLEAR_COVERAGE
                });
        }
    }

    /// How well a clause's words cover a phrasing's content words: for each of them its
    /// best similarity to a word of the clause (words embedded alone), averaged; 1 for a
    /// phrasing of function words only. This is BERTScore's recall (Zhang et al., 2020)
    /// with the words embedded out of context.
    fn coverage(&self, phrasing: &Phrasing, clause_words: &[&[f32]]) -> f32 {
        if phrasing.words.is_empty() {
            return 1.0;
        }
        let total: f32 = phrasing
            .words
            .iter()
            .map(|&w| {
                clause_words
                    .iter()
                    .map(|c| cosine(&self.words[w], c))
                    .fold(0.0, f32::max)
            })
            .sum();
        total / phrasing.words.len() as f32
    }
}

/// Takes back a symptom the model read where a reading of the sentence says otherwise
/// (a thermometer's figure, a coin swallowed rather than tablets): neither present nor
/// said clearly.
fn unsay(evidence: &mut Evidence, said_clearly: &mut BTreeSet<usize>, symptom: usize) {
    evidence.present.remove(&symptom);
    evidence.loose.remove(&symptom);
    said_clearly.remove(&symptom);
}

/// Takes back a symptom the model read and records it denied (a ketone figure under the
/// threshold, a bleeding said stopped).
fn deny(evidence: &mut Evidence, said_clearly: &mut BTreeSet<usize>, symptom: usize) {
    unsay(evidence, said_clearly, symptom);
    evidence.absent.insert(symptom);
}

/// The next of a batch's vectors, which the model gives one per text.
fn next_vector(vectors: &mut impl Iterator<Item = Vec<f32>>) -> Result<Vec<f32>, EmbeddingError> {
    vectors
        .next()
        .ok_or_else(|| EmbeddingError::Inference("fewer vectors than texts".into()))
}

/// Embeds many texts, a batch at a time.
fn embed_all(embedder: &Embedder, texts: &[&str]) -> Result<Vec<Vec<f32>>, EmbeddingError> {
    let mut vectors = Vec::with_capacity(texts.len());
    for chunk in texts.chunks(64) {
        vectors.extend(embedder.embed(chunk)?);
    }
    Ok(vectors)
}
