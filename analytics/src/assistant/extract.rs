//! From a patient's free text to symptom evidence. The text is cut into clauses; a clause
//! after a negation cue ("no fever", "haven't been sick", "without a rash") reports absent
//! symptoms until a contrast ("but"), a comma that does not continue a list, or the
//! sentence's end, as in NegEx (Chapman et al., 2001); a clause ending "is fine" or
//! "normally" reports its symptom absent too, "haven't been able to pee" is an inability,
//! not an absence, a phrasing that is itself a negation ("no energy", "not responding") is
//! the symptom, and so, loosely, is a negated clause that the model places nearer a
//! phrasing of a lack with its cue than without ("she hasn't passed any wind"), and "I can
//! walk on it" denies "can't walk on it", as "I wake up soaked" does "won't wake up" (the
//! clause has every word the phrasing negates, and no negation). A clause about a relative
//! is read without its subject ("my son clashed heads" as "clashed heads"), since the
//! phrasings are in the first person. More tablets said taken than the most a day allows
//! ("took 24 paracetamol") is an overdose, and an amount of tablets gone missing ("3 are
//! missing") loosely one, but a coin or a drink swallowed is not; being sick counted ("been
//! sick twice") is vomiting; breathlessness said only with an exertion ("short of breath
//! when I exercise") denies it at rest, a bleeding said stopped ("it's mostly stopped
//! now") one that won't stop, and a cough said only as what brings a lump out ("a bulge
//! that pops out when I cough") is no cough; an age under 3 months ("my 6 week old") is
//! a young baby, and a reliever inhaler said not to help ("my inhaler isn't helping"), a
//! swallowed battery or magnet, a burn bigger than a hand, a cut said deep or gaping, a
//! limb hurt in a fall, a twist or a knock ("I fell on my wrist"), a baby moving less in
//! the womb, and
//! testicle pain or confusion said to have come on suddenly, and chest pain that exertion
//! brings on and rest takes away, are read likewise; so are the readings [`readings`]
//! finds: a thermometer's figure says whether there is a fever, and with an age of 3 to 6
//! months whether it is NICE's amber 39 °C, a meter's blood sugar under 4 mmol/L is a hypo
//! and from 11 a high one, a ketone meter's figure says whether ketones are raised, and a
//! pulse, saturation or blood pressure goes into the evidence as a device's reading would;
//! a sugar said not to come up after treatment is read likewise, and chest pain that rest
//! does not ease. A negation that says a remedy is not helping ("isn't helping my back
//! pain") denies nothing after it, NegEx's pseudo-negation, and a clause saying the patient
//! is on a medicine ("I'm on tablets for my blood pressure", "my usual tablets") or missed
//! a dose ("I forgot to take my tablets") rules out what it only resembles of tablets
//! taken or saved up. Each clause is matched to the
//! knowledge base's lay phrasings — literally when a phrasing appears in it (one with a
//! joiner, "diarrhoea with blood", across the clauses the joiner split), and by
//! sentence-embedding similarity, clearly only, for what those phrasings leave of it;
//! otherwise by sentence-embedding similarity, to a symptom of the part of the body the
//! clause is about when it is about one ([`body_sites`], which earlier messages of the
//! conversation may have named), not at all when the clause only says where ("behind his
//! ears"), and never by similarity to a few emergency signs that any mention of their
//! subject resembles (`WORD_FOR_WORD`); a clause of one content word matches by similarity
//! only a symptom phrased with that word, unless it is close to a phrasing as a whole,
//! and, when neither it nor the clause it follows names a part, only a symptom of no part
//! ("it's swollen" after a sting is no swollen gum). A
//! match is clear when the clause is as close to a phrasing as two phrasings of one symptom
//! usually are, as a whole and word by word; otherwise it is loose, as is any match of a
//! clause saying what would happen otherwise ("I have to sit up or I can't breathe"); a
//! clause that says one symptom clearly reads none it only resembles beside it ("my knee
//! hurts" is joint pain, not the hot, swollen knee near its wording). A
//! negation rules out only a symptom its clause is that close to as a whole. The text is
//! read for duration ("for 3 weeks", but not a rate such as "twice a year") and severity
//! ("worst ever") cues. A message takes one batch of the model: what of its clauses no
//! phrasing matched word for word, negated ones also with their cue, and their words not
//! met before when those are few (a word's vector is kept once made). When they are many, a
//! second batch holds the new words of the clauses that may match clearly.

use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex};

use aho_corasick::AhoCorasick;

use super::body_sites::{self, Sites};
use super::embedding::{Embedder, EmbeddingError, PASS_COST_TOKENS, cosine, dot};
use super::knowledge::KnowledgeBase;
use super::knowledge::Sex;
use super::readings::{
    self, FEVER_CELSIUS, HIGH_AT_3_TO_6_MONTHS_CELSIUS, HIGH_SUGAR_FROM_MMOL, HYPO_BELOW_MMOL,
    KETONES_RAISED_FROM_MMOL, KETONES_VERY_HIGH_FROM_MMOL, NORMAL_BELOW_CELSIUS,
};
use super::reasoning::{Evidence, Subject};

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
/// Words that carry no symptom of their own: left out of a phrasing's coverage, and not
/// counted as a clause's content…
const FUNCTION_WORDS: [&str; 40] = [
    "a", "an", "the", "i", "i'm", "i've", "me", "my", "it", "it's", "its", "is", "are", "am",
    "was", "be", "been", "being", "have", "has", "had", "got", "get", "to", "of", "in", "on", "at",
    "for", "from", "and", "or", "with", "up", "out", "very", "really", "so", "feel", "feeling",
];
/// …nor are these, which say when, not what.
#[rustfmt::skip]
const TIME_WORDS: [&str; 12] = [
    "day", "days", "week", "weeks", "month", "months", "hour", "hours", "ago", "since", "today",
    "yesterday",
];

/// Words that negate what follows them in their clause: NegEx's pre-negation triggers,
/// with "nothing" ("nothing near my eye", "nothing coming up"). "can't" and "couldn't"
/// are not among them: they report an inability, which is the symptom ("can't breathe").
const NEGATION_CUES: [&str; 28] = [
    "no", "not", "nothing", "without", "never", "denies", "denied", "nor", "neither", "none",
    "dont", "don't", "didn't", "didnt", "doesn't", "doesnt", "haven't", "havent", "hasn't",
    "hasnt", "hadn't", "isn't", "isnt", "aren't", "wasn't", "wasnt", "weren't", "werent",
];
/// A clause ending in one of these says what it names is normal ("breathing is fine",
/// "peeing normally", "feeding well", but not "a headache as well"): NegEx's
/// post-negation, for the words patients use.
const NORMAL_ENDINGS: [&str; 6] = ["fine", "normal", "normally", "ok", "okay", "well"];
/// Words after the normal ending that only say for how long ("eyesight is ok so far",
/// "breathing is fine at the moment").
#[rustfmt::skip]
const FOR_NOW: [&str; 9] = [
    "so", "far", "now", "still", "at", "the", "moment", "for", "thankfully",
];
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
const SCARCITY: [&str; 2] = ["fewer", "little"];
/// Likewise a statement of ability ("I can walk on it", "managed a few steps") denies a
/// symptom whose matching phrasing is an inability ("can't walk on it"), which a sentence
/// embedding rates as a near neighbour. It reaches as far as a negation does ("I can
/// breathe and swallow")…
const ABILITY: [&str; 6] = ["can", "could", "able", "manage", "managed", "managing"];
/// …unless the next word makes it an inability after all ("can barely walk"). "can't",
/// "cannot" and "unable" are words of their own, never taken for "can" or "able".
const BARELY: [&str; 5] = ["barely", "hardly", "scarcely", "not", "only"];
const INABILITY: [&str; 6] = ["can't", "cant", "cannot", "couldn't", "couldnt", "unable"];
/// Words after a negation that only stress it ([`ends_negation`]).
const EMPHASIS: [&str; 6] = ["at", "all", "anymore", "any", "more", "now"];
/// Words that end a negation's scope (a contrast starts a new clause).
const CONTRASTS: [&str; 6] = ["but", "although", "though", "however", "except", "yet"];
/// Words that open a statement of its own ("…and it's hard", "…, my chest feels tight"),
/// a subject or a verb whose subject is left out ("isn't feeding and has a bulging soft
/// spot"): a negation does not carry over a joiner or comma into one.
const STATEMENT_OPENERS: [&str; 30] = [
    "i", "i'm", "i've", "im", "ive", "it", "it's", "its", "my", "he", "he's", "hes", "she",
    "she's", "shes", "his", "her", "they", "they're", "theyre", "their", "we", "we're", "you're",
    "there's", "has", "have", "is", "was", "keeps",
];
/// Whom a parent, carer or relative writes about ("my son", "our baby"): phrasings are
/// in the first person, and the subject only draws a clause away from them.
const RELATIVES: [&str; 26] = [
    "son",
    "daughter",
    "husband",
    "wife",
    "partner",
    "baby",
    "child",
    "kid",
    "boy",
    "girl",
    "toddler",
    "mum",
    "mom",
    "dad",
    "mother",
    "father",
    "grandmother",
    "grandfather",
    "nan",
    "nana",
    "grandma",
    "grandad",
    "granddad",
    "grandpa",
    "brother",
    "sister",
];
/// A segment after a comma this short continues a negated list.
const LIST_ITEM_WORDS: usize = 2;
/// Words that join clauses within a sentence.
const JOINERS: [&str; 6] = ["and", "or", "with", "plus", "also", "then"];
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
const PAIN_RELIEF: [&str; 10] = [
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
const RELIEF_WORKS: [&str; 23] = [
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
const RELIEF_FILLERS: [&str; 14] = [
    "really", "even", "do", "doing", "done", "been", "seem", "seems", "seemed", "to", "much",
    "made", "make", "any",
];
/// Symptoms never matched by resemblance, only by a phrasing the text contains or a
/// reader: an emergency sign that any mention of its subject resembles ("needing my
/// reliever most days" an inhaler not helping, "burnt my finger" a burn bigger than the
/// hand, "my baby" a baby under 3 months, "my wrists are swollen" a wrist broken), which
/// would call an ambulance or send to A&E until the patient answered; a swallowed
/// object, which swallowed tablets would be read as otherwise; and a rape or
/// sexual assault, which is the patient's to say, never the model's to guess.
const WORD_FOR_WORD: [&str; 31] = [
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
];
/// Words of a pregnancy ([`bleeding_in_pregnancy`])…
const PREGNANCY: [&str; 2] = ["pregnant", "pregnancy"];
/// …of bleeding…
#[rustfmt::skip]
const BLEEDING: [&str; 6] = ["bleeding", "bleed", "bleeds", "bled", "spotting", "blood"];
/// …of bleeding from somewhere other than the womb ("a cut", "blood in my wee", "coughing
/// up blood", "bleeding gums"), or of blood that is no bleeding ("my blood pressure")…
#[rustfmt::skip]
const NOT_THE_WOMBS: [&str; 27] = [
    "cut", "cuts", "wound", "gash", "graze", "stabbed", "knife", "glass", "bite", "bitten",
    "wee", "pee", "urine", "poo", "stool", "cough", "coughing", "vomit", "vomiting", "sick",
    "pressure", "sugar", "sugars", "glucose", "test", "tests", "results",
];
/// …the parts of the body it may be spoken of with ("bleeding and pain low in my tummy")…
const WOMB_PARTS: &str = "vagina tummy my back upper lower";
/// …and words of its being heavy ("bleeding heavily", "passing clots", "a lot").
#[rustfmt::skip]
const HEAVY_BLEEDING: [&str; 11] = [
    "heavily", "heavy", "soaking", "soaked", "clots", "clot", "pouring", "gushing", "lot",
    "lots", "loads",
];
/// Words that say something came on suddenly ([`says_sudden`])…
const SUDDEN: [&str; 4] = ["sudden", "suddenly", "abruptly", "nowhere"];
/// …of the testicle: the NHS sends sudden, severe testicle pain to A&E (a torsion saves
/// the testicle only within hours)…
#[rustfmt::skip]
const TESTICLE: [&str; 6] = [
    "testicle", "testicles", "testicular", "balls", "scrotum", "scrotal",
];
/// …and of confusion: the NHS calls 999 for sudden confusion (delirium).
#[rustfmt::skip]
const CONFUSED: [&str; 6] = [
    "confused", "confusion", "disorientated", "disoriented", "muddled", "delirious",
];
/// Whether a normalised text says a finding, read from its sentences.
type Reader = fn(&str) -> bool;
/// Findings read from a sentence rather than matched to a phrasing, each with its reader:
/// said clearly whenever the reader finds it.
const READERS: [(&str, Reader); 18] = [
    ("reliever_not_helping", reliever_not_helping),
    ("hypo_not_improving", sugar_not_coming_up),
    ("chest_pain_eases_with_rest", eases_with_rest),
    ("chest_pain_not_eased_by_rest", not_eased_by_rest),
    ("fever_5_days_or_more", fever_lasting_5_days),
    ("vomiting", sick_counted),
    ("swallowed_battery_or_magnet", swallowed_battery_or_magnet),
    ("swallowed_object", swallowed_an_object),
    ("swallowed_sharp_object", swallowed_something_sharp),
    ("under_3_months", says_under_3_months),
    ("reduced_baby_movements", baby_moves_less),
    ("serious_burn", larger_than_a_hand),
    ("deep_cut", cut_said_deep),
    ("recent_injury", limb_injured),
    ("visual_aura", aura_with_a_headache),
    ("nosebleed_not_stopping", nosebleed_lasting),
    ("sudden_testicle_pain", |text| says_sudden(text, &TESTICLE)),
    ("sudden_confusion", |text| says_sudden(text, &CONFUSED)),
];
/// Words of bleeding having stopped ([`bleeding_stopped`]); "stop" and "stopping" are
/// more often of its not stopping ("won't stop", "not stopping").
const STOPPED: [&str; 5] = ["stopped", "stops", "eased", "slowed", "settled"];
/// Words of a graze, a cut's lesser kind, which a fall may bring ([`limb_injured`]).
const GRAZES: [&str; 4] = ["graze", "grazed", "grazes", "scraped"];
/// Words of a cut ([`cut_said_deep`])…
#[rustfmt::skip]
const CUTS: [&str; 8] = ["cut", "cuts", "sliced", "slashed", "gashed", "wound", "gash", "laceration"];
/// …said deep, gaping or needing stitches (the NHS's reasons to have one closed)…
#[rustfmt::skip]
const DEPTH: [&str; 8] = ["deep", "gaping", "gape", "gapes", "gaped", "stitches", "stitching", "stitched"];
/// …unless "deep" is of something else ("a deep breath").
const NOT_A_CUTS_DEPTH: [&str; 5] = ["breath", "breaths", "breathing", "cough", "sleep"];
/// How many words before a depth a negation denies it ("I don't think it needs
/// stitches").
const DEPTH_NEGATION_REACH: usize = 5;
/// Words of a lump that coughing may bring out ([`cough_brings_out_a_lump`])…
const LUMPS: [&str; 6] = ["lump", "lumps", "bulge", "bulges", "bulging", "hernia"];
/// …words of coughing…
const COUGHING: [&str; 4] = ["cough", "coughs", "coughing", "coughed"];
/// …and how many words before one a "when" or "if" makes it the lump's trigger ("when I
/// cough", "when he's coughing").
const COUGH_TRIGGER_REACH: usize = 3;
/// Words of the nose ([`nosebleed_lasting`])…
const NOSE: [&str; 4] = ["nose", "nosebleed", "nosebleeds", "nostril"];
/// …and the least minutes of bleeding the NHS sends to A&E ("longer than 10 to 15
/// minutes").
const NOSEBLEED_TOO_LONG_MINUTES: u32 = 15;
/// Words before a time that make it a window or a rate rather than a length.
const NOT_HOW_LONG: [&str; 6] = ["last", "past", "every", "within", "each", "per"];
/// Words of a migraine or a headache ([`aura_with_a_headache`])…
#[rustfmt::skip]
const HEADACHES: [&str; 4] = ["migraine", "migraines", "headache", "headaches"];
/// …said with lights or lines seen…
#[rustfmt::skip]
const AURA_SIGHTS: [&str; 7] = ["flashing", "flashes", "flickering", "zigzag", "zigzags", "shimmering", "sparkles"];
/// …and none of a detaching retina's own signs (the NHS's: floaters, a shadow or curtain).
#[rustfmt::skip]
const RETINA_SIGNS: [&str; 5] = ["floaters", "floater", "curtain", "shadow", "cobwebs"];
/// Words of a fall, a twist or a knock ([`limb_injured`])…
#[rustfmt::skip]
const INJURING: [&str; 11] = [
    "fell", "fallen", "falling", "tripped", "slipped", "twisted", "stubbed", "landed",
    "banged", "jarred", "hurt",
];
/// …said of a limb ([`Sites::names_a_limb`]), and whose the limb is after "hurt" ("I hurt
/// my knee"; "my knee hurt" is a pain).
const WHOSE: [&str; 5] = ["my", "his", "her", "their", "your"];
/// Counts after "sick" that make it vomiting, in British English ([`sick_counted`])…
const SICK_COUNTS: [&str; 4] = ["once", "twice", "times", "everywhere"];
/// …unless the sickness is felt ("felt sick twice" is nausea) or time off work.
const NOT_VOMITING: [&str; 5] = ["feel", "feels", "feeling", "felt", "off"];
/// Words of breathlessness ([`breathless_only_with_exertion`])…
const BREATHLESS: [&str; 6] = [
    "breath",
    "breathless",
    "breathlessness",
    "puffed",
    "wheezy",
    "winded",
];
/// …said to come with an exertion…
#[rustfmt::skip]
const EXERTIONS: [&str; 18] = [
    "exercise", "exercising", "exertion", "run", "running", "jog", "jogging", "walk",
    "walking", "stairs", "upstairs", "hill", "hills", "gym", "sport", "sports", "climbing",
    "football",
];
/// …and not at rest, nor with a word that makes the exertion small ("even walking").
const AT_REST: [&str; 8] = [
    "rest", "resting", "sitting", "lying", "still", "even", "all", "talking",
];
/// A baby's movements in the womb ([`baby_moves_less`])…
#[rustfmt::skip]
const MOVEMENTS: [&str; 10] = [
    "move", "moved", "moving", "moves", "movement", "movements", "kick", "kicks", "kicking",
    "kicked",
];
/// …said to be fewer (after them: "moving less") or, with a negation, before them.
const FEWER: [&str; 7] = [
    "less", "fewer", "reduced", "slowed", "stopped", "quieter", "quiet",
];
/// Words that say a pain goes ([`eases_with_rest`])…
#[rustfmt::skip]
const GOES: [&str; 18] = [
    "go", "goes", "went", "gone", "ease", "eases", "eased", "settles", "settled", "stops",
    "stopped", "disappears", "disappeared", "passes", "passed", "fades", "subsides",
    "subsided",
];
/// …with rest, a few words either side ("goes off if I stop and rest", "goes away when I
/// sit down", "settles after a couple of minutes standing still")…
#[rustfmt::skip]
const RESTING: [&str; 10] = [
    "rest", "resting", "rested", "still", "sit", "sitting", "stop", "stopping", "stand",
    "standing",
];
const RESTING_REACH: usize = 8;
/// …in a message about the chest…
const CHEST: [&str; 3] = ["chest", "breastbone", "sternum"];
/// …and an exertion: NICE CG95's typical angina, brought on by exertion and relieved by
/// rest.
#[rustfmt::skip]
const EXERTION: [&str; 30] = [
    "walk", "walking", "walked", "uphill", "hill", "hills", "stairs", "steps", "exercise",
    "exercising", "exertion", "exerting", "exert", "run", "running", "jog", "jogging",
    "climb", "climbing", "hurry", "hurrying", "rush", "rushing", "gym", "carry", "carrying",
    "cycling", "gardening", "digging", "mowing",
];
/// Phrasings that name something other than what the phrasings within them say
/// ([`Extractor::literal_matches`]).
const NAMES: [&str; 1] = ["hay fever"];
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
/// Words of a fever ([`fever_lasting_5_days`])…
#[rustfmt::skip]
const FEVER_WORDS: [&str; 5] = ["fever", "temperature", "temp", "feverish", "temperatures"];
/// …how far from one its duration may be said ("a temperature of 39 for 5 days", "for
/// the last week she's had a fever"), not across a joiner ("a cough for a week and a
/// fever since yesterday")…
const FEVER_DURATION_REACH: usize = 6;
/// …and how long makes it NICE NG143's amber feature and the NHS's reason for an urgent
/// GP appointment.
const FEVER_DAYS: u32 = 5;
/// Words of a blood sugar or a hypo ([`sugar_not_coming_up`])…
#[rustfmt::skip]
const SUGAR: [&str; 7] = ["sugar", "sugars", "glucose", "hypo", "bm", "bms", "levels"];
/// …and of its not coming up (the NHS: 999 after two treatments that did not work).
#[rustfmt::skip]
const NOT_COMING_UP: [&str; 13] = [
    "still low", "not coming up", "won't come up", "wont come up", "not going up",
    "isn't going up", "isn't coming up", "hasn't come up", "hasn't gone up", "not rising",
    "won't go up", "still dropping", "keeps dropping",
];
/// Words of a burn ([`larger_than_a_hand`])…
const BURNS: [&str; 7] = [
    "burn", "burns", "burnt", "burned", "scald", "scalded", "scalds",
];
/// …said to be bigger than the injured person's hand (the NHS's size for A&E).
const BIGGER: [&str; 2] = ["bigger", "larger"];
/// Swallowed things that need A&E even without symptoms ([`swallowed_battery_or_magnet`])…
const SWALLOWED_DANGERS: [&str; 4] = ["battery", "batteries", "magnet", "magnets"];
/// …when the sentence says they were swallowed…
const SWALLOWING: [&str; 5] = ["swallowed", "swallow", "swallowing", "ate", "eaten"];
/// …and small, blunt ones, which usually pass ([`swallowed_an_object`]), said to have been
/// swallowed: not eaten ("ate button mushrooms"), nor felt to be ("like I've swallowed a
/// stone" is a lump in the throat, and a stone is not among them).
#[rustfmt::skip]
const SWALLOWED_OBJECTS: [&str; 14] = [
    "coin", "coins", "penny", "pennies", "marble", "marbles", "bead", "beads", "button",
    "buttons", "lego", "toy", "earring", "ring",
];
/// …and sharp ones, which need A&E ([`swallowed_something_sharp`]); glass only as its
/// phrasings say it ("swallowed a piece of glass", not "a glass of water").
#[rustfmt::skip]
const SWALLOWED_SHARP: [&str; 12] = [
    "pin", "pins", "needle", "needles", "nail", "nails", "screw", "screws", "tack", "tacks",
    "toothpick", "hook",
];
/// …and food or drink, swallowed the wrong way or too fast ([`swallowed_food_or_drink`])…
#[rustfmt::skip]
const FOOD_AND_DRINK: [&str; 12] = [
    "water", "drink", "juice", "tea", "coffee", "milk", "squash", "food", "gum", "sip",
    "mouthful", "gulp",
];
/// …unless poison is named with it ("water with bleach in it").
#[rustfmt::skip]
const POISONS: [&str; 11] = [
    "bleach", "poison", "poisonous", "poisoned", "overdose", "overdosed", "chemical",
    "chemicals", "cleaner", "detergent", "liquid",
];
/// Words before a swallowing that make it a likeness ("feels like I've swallowed razor
/// blades", "as if I'd swallowed a pin"): a sore throat, not a swallowed thing.
const LIKENESS: [&str; 2] = ["like", "if"];
/// Reliever inhalers, whose not helping is an asthma attack to call 999 for.
#[rustfmt::skip]
const RELIEVERS: [&str; 7] = [
    "inhaler", "inhalers", "reliever", "puffer", "ventolin", "salbutamol", "blue",
];
/// "does nothing", "is doing nothing"
const RELIEF_DOES: [&str; 4] = ["do", "does", "did", "doing"];
/// Negations of relief besides [`NEGATION_CUES`] ("barely helps", "won't shift it").
const RELIEF_NEGATIONS: [&str; 4] = ["barely", "hardly", "won't", "wont"];

/// Medicines counted in a sentence that says they were taken ("took 24 paracetamol",
/// "swallowed 16 tablets of co-codamol"), besides [`PAIN_RELIEF`]…
const MEDICINES: [&str; 9] = [
    "tablet",
    "tablets",
    "pill",
    "pills",
    "capsule",
    "capsules",
    "aspirin",
    "tramadol",
    "antidepressants",
];
/// Words of a medicine someone is on ([`on_regular_medicine`]), besides [`MEDICINES`]…
#[rustfmt::skip]
const REGULAR_MEDICINES: [&str; 6] = [
    "medication", "medications", "medicine", "medicines", "meds", "statins",
];
/// …named within this many words after "on" ("on tablets", "on blood pressure tablets")…
const ON_MEDICINE_REACH: usize = 3;
/// …unless these stand between, which speak of taking, not of being on them.
#[rustfmt::skip]
const TAKING_WORDS: [&str; 8] = [
    "after", "take", "taking", "took", "swallowed", "all", "too", "whole",
];
/// …or said to be the usual ones ("my usual tablets")…
const USUAL: [&str; 4] = ["usual", "regular", "normal", "prescribed"];
/// …unless more of them were taken than that.
#[rustfmt::skip]
const TAKING_MORE: [&str; 8] = [
    "all", "whole", "double", "extra", "twice", "too", "many", "more",
];
/// Words of a medicine not taken ([`medicine_missed`]): forgotten, missed, run out of,
/// gone without, late with…
#[rustfmt::skip]
const MISSED: [&str; 9] = [
    "forgot", "forgotten", "forget", "missed", "skipped", "out", "without", "late", "behind",
];
/// …within this many words before it ("run out of my blood pressure tablets").
const MISSED_REACH: usize = 5;
/// Words that make "a week" after them how often ([`is_rate`])…
const FREQUENCIES: [&str; 4] = ["times", "once", "twice", "thrice"];
/// …as a plural does, which these words ending in "s" are not.
#[rustfmt::skip]
const NOT_PLURALS: [&str; 9] = [
    "this", "plus", "less", "unless", "across", "always", "towards", "perhaps", "thus",
];
/// Content words a clause must have left, once the phrasings it contains word for word are
/// taken out, for the model to read the rest.
const LEFT_TO_READ: usize = 2;
/// Words of a need, after which "or" says what would happen otherwise ("I have to sit up
/// or I can't breathe").
const NEEDS: [&str; 5] = ["have to", "has to", "need to", "needs to", "must"];
/// Words that say where on the body ([`only_a_place`])…
#[rustfmt::skip]
const PLACES: [&str; 22] = [
    "behind", "round", "around", "under", "underneath", "inside", "near", "across", "between",
    "below", "above", "over", "on", "in", "at", "down", "up", "along", "both", "left", "right",
    "side",
];
/// …and the words that join them to the part ("on both of his arms").
#[rustfmt::skip]
const PART_FILLERS: [&str; 10] = [
    "my", "his", "her", "their", "your", "our", "the", "of", "a", "and",
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
const THREE_MONTHS_DAYS: f32 = 91.0;
const SIX_MONTHS_DAYS: f32 = 182.6;
/// …counted in figures or in words ("a week old", "ten days old").
#[rustfmt::skip]
const NUMBER_WORDS: [(&str, u32); 14] = [
    ("a", 1), ("an", 1), ("one", 1), ("two", 2), ("three", 3), ("four", 4), ("five", 5),
    ("six", 6), ("seven", 7), ("eight", 8), ("nine", 9), ("ten", 10), ("eleven", 11),
    ("twelve", 12),
];
/// …more than this many is an overdose: the NHS's most paracetamol in a day is 8 tablets
/// of 500 mg, and it sends anyone who has taken more to A&E…
const MOST_TABLETS_A_DAY: u32 = 8;
/// …when the sentence says so.
const TAKING: [&str; 8] = [
    "took",
    "taken",
    "take",
    "taking",
    "swallowed",
    "swallow",
    "ate",
    "eaten",
];
/// A number followed by one of these is a dose, not a count of tablets ("took 500 mg").
const DOSE_UNITS: [&str; 6] = ["mg", "milligrams", "g", "grams", "ml", "mcg"];
/// Said of tablets, these are how a parent finds that a child may have swallowed some
/// ("the packet was open and 3 are missing"): the National Poisons Information Service
/// treats an ingestion of unknown size as the largest possible, so it is asked about…
const MISSING: [&str; 3] = ["missing", "gone", "disappeared"];
/// …when a count or an amount comes before it ("3 are missing", "a few have gone"), not
/// a whole prescription lost.
const AMOUNTS: [&str; 7] = ["some", "few", "several", "couple", "half", "one", "two"];
/// Words that may come between the amount and [`MISSING`].
const MISSING_FILLERS: [&str; 16] = [
    "are", "is", "were", "was", "have", "has", "had", "been", "of", "my", "his", "her", "their",
    "the", "these", "those",
];

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
    /// The symptom a count of tablets taken (see [`MOST_TABLETS_A_DAY`]) or tablets gone
    /// missing (see [`MISSING`]) report.
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
    /// Breathlessness, and the symptom it denies when read only with an exertion
    /// ([`breathless_only_with_exertion`]).
    breathless: Option<usize>,
    breathless_at_rest: Option<usize>,
    /// A cough, which what brings a lump out is not ([`cough_brings_out_a_lump`]).
    cough: Option<usize>,
    /// New flashes and floaters, which a migraine's aura is not ([`aura_with_a_headache`]).
    floaters_flashes: Option<usize>,
    /// A cut, which a limb hurt in a fall only resembles ([`limb_injured`]).
    cut_wound: Option<usize>,
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
    /// Finds the phrasings a clause may contain word for word, all in one pass…
    literal: AhoCorasick,
    /// …each pattern being this phrasing (an index into `phrasings`).
    literal_phrasings: Vec<usize>,
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

/// One clause of the text and whether a negation or an ability governs it.
#[derive(Debug, PartialEq)]
struct Clause {
    text: String,
    negated: bool,
    /// The cue of the negation that governs this clause, if one does (it may open an
    /// earlier item of its list): left out of `text`, which reads what is negated, but
    /// part of what was said, which a phrasing that is itself a negation ("not
    /// responding", "don't want to be alive") matches.
    cue: Option<String>,
    /// Follows a statement of ability ([`ABILITY`]).
    able: bool,
    /// Continues the clause before it, whose subject it shares ("it's red hot and
    /// swollen"): joined to it without opening a statement of its own.
    continues: bool,
    /// The joiner that split it from the clause before ("with" in "diarrhoea with
    /// blood"), which a phrasing may span.
    joiner: Option<String>,
}

impl Clause {
    /// The clause as said, with the cue of the negation that governs it.
    fn said(&self) -> String {
        match &self.cue {
            Some(cue) => format!("{cue} {}", self.text),
            None => self.text.clone(),
        }
    }
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
            breathless: kb.symptom("shortness_of_breath"),
            breathless_at_rest: kb.symptom("shortness_of_breath_at_rest"),
            cough: kb.symptom("cough"),
            floaters_flashes: kb.symptom("floaters_flashes"),
            cut_wound: kb.symptom("cut_wound"),
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
        let normalised = inabilities(&normalise(text));
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
                if only_a_place(&clause.text, !subject_of_a_negation) {
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
        // "The bleeding has mostly stopped" is rated nearest a bleeding that won't stop.
        if let Some(wound) = self.wound_bleeding
            && bleeding_stopped(&normalised)
        {
            deny(&mut evidence, &mut said_clearly, wound);
        }
        // "I fell and hurt my knee" is rated near "grazed my knee": a fall of which no
        // cut or graze is said is no wound, though one may be asked about.
        if let Some(cut) = self.cut_wound
            && evidence.loose.contains(&cut)
            && !said_clearly.contains(&cut)
            && limb_injured(&normalised)
            && !names_any(&normalised, &CUTS)
            && !names_any(&normalised, &GRAZES)
        {
            unsay(&mut evidence, &mut said_clearly, cut);
        }
        // "Migraines with flashing lights" is rated nearest a detaching retina's flashes.
        if let Some(floaters) = self.floaters_flashes
            && aura_with_a_headache(&normalised)
        {
            unsay(&mut evidence, &mut said_clearly, floaters);
        }
        if let (Some(breathless), Some(at_rest)) = (self.breathless, self.breathless_at_rest)
            && evidence.present.contains(&breathless)
            && !said_clearly.contains(&at_rest)
            && breathless_only_with_exertion(&normalised)
        {
            deny(&mut evidence, &mut said_clearly, at_rest);
        }
        // "A bulge that pops out when I cough" is a hernia's sign, not a cough: the cough
        // is what brings the lump out, and a cough taken as said ranked a cold first.
        if let Some(cough) = self.cough
            && cough_brings_out_a_lump(&normalised)
        {
            unsay(&mut evidence, &mut said_clearly, cough);
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

/// The words of a normalised text that can name a symptom.
fn content_words(text: &str) -> impl Iterator<Item = &str> {
    text.split([' ', ',', '.'])
        .filter(|w| !w.is_empty() && !FUNCTION_WORDS.contains(w) && !TIME_WORDS.contains(w))
}

/// Whether a clause only says where ("behind his ears", "on both arms"), placing what the
/// clause before it said, or only names a part (`place_first` false), as the subject a
/// negation split off does ("the leg | isn't weak"): it reports nothing itself, though a
/// sentence embedding rates it close to any symptom of the part it names.
fn only_a_place(clause: &str, place_first: bool) -> bool {
    // "headache" and "nosebleed" name a part, but they are symptoms.
    let part =
        |w: &str| !Sites::named_in(w).is_empty() && !w.contains("ache") && !w.contains("bleed");
    let words: Vec<&str> = clause.split(' ').filter(|w| !w.is_empty()).collect();
    (!place_first || words.first().is_some_and(|w| PLACES.contains(w)))
        && words.iter().any(|w| part(w))
        && words
            .iter()
            .all(|w| PLACES.contains(w) || PART_FILLERS.contains(w) || part(w))
}

/// The clause's content word, when it has exactly one.
fn only_content_word(clause: &str) -> Option<&str> {
    let mut words = content_words(clause);
    words.next().filter(|_| words.next().is_none())
}

/// Lower case, apostrophes kept, everything else that is not a letter or digit a space.
fn normalise(text: &str) -> String {
    let mapped: String = text
        .chars()
        .map(|c| match c {
            '’' | '\'' => '\'',
            '.' | '!' | '?' | ';' | '\n' => '.',
            ',' => ',',
            c if c.is_alphanumeric() => c.to_ascii_lowercase(),
            _ => ' ',
        })
        .collect();
    mapped.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// "haven't been able to pee" reports an inability, a symptom: rewritten "unable to pee",
/// so that the negation does not make it absent.
fn inabilities(text: &str) -> String {
    let mut out = format!(" {text} ");
    for cue in NEGATION_CUES {
        for ability in ["been able to", "able to"] {
            out = out.replace(&format!(" {cue} {ability} "), " unable to ");
        }
    }
    out.trim().to_owned()
}

/// A clause about a relative without its subject ("my son clashed heads" → "clashed
/// heads", "our little girl has a rash" → "has a rash"); a clause that is only the subject
/// is kept.
fn without_subject(text: &str) -> &str {
    let words: Vec<&str> = text.split(' ').collect();
    if !matches!(words.first(), Some(&"my" | &"our")) {
        return text;
    }
    // "My 6 week old" is a subject as "my son" is: the age would draw "has a temperature"
    // away from a fever.
    let an_age = |i: usize| words[i] == "old" && i > 0 && days_in(words[i - 1]).is_some();
    let subject_ends =
        (0..words.len().min(5)).rfind(|&i| RELATIVES.contains(&words[i]) || an_age(i));
    match subject_ends {
        Some(end) if end + 1 < words.len() => {
            let skip: usize = words[..=end].iter().map(|w| w.len() + 1).sum();
            &text[skip..]
        }
        _ => text,
    }
}

/// Whether the negation `phrase`, which `clause` contains, ends it but for emphasis
/// ("not feeding at all", "don't want to be alive anymore").
fn ends_negation(clause: &str, phrase: &str) -> bool {
    let after = format!(" {clause} ")
        .rsplit_once(&format!(" {phrase} "))
        .map_or(String::new(), |(_, after)| after.to_owned());
    after
        .split(' ')
        .all(|w| w.is_empty() || EMPHASIS.contains(&w))
}

/// Whether `text` is a negation, an inability or a lack ("not responding", "can't pass
/// wind", "fewer wet nappies").
fn says_a_lack(text: &str) -> bool {
    has_negation(text)
        || INABILITY
            .iter()
            .chain(&SCARCITY)
            .any(|w| contains_words(text, w))
}

fn has_negation(text: &str) -> bool {
    text.split(' ')
        .any(|w| NEGATION_CUES.contains(&w) || w.ends_with("n't"))
}

/// Whether `phrase` occurs in `text` on word boundaries.
fn contains_words(text: &str, phrase: &str) -> bool {
    occurrences(text, phrase).next().is_some()
}

/// `text` with each occurrence of `phrase` on word boundaries cut out: "rape" leaves
/// "grapes" whole.
fn without_words(text: &str, phrase: &str) -> String {
    let mut rest = String::with_capacity(text.len());
    let mut from = 0;
    for at in occurrences(text, phrase) {
        if at < from {
            continue;
        }
        rest.push_str(&text[from..at]);
        rest.push(' ');
        from = at + phrase.len();
    }
    rest.push_str(&text[from..]);
    rest
}

/// Where `phrase` starts in `text` on word boundaries, overlapping occurrences included
/// ("ab ab ab" has "ab ab" at 0 and 3).
fn occurrences<'a>(text: &'a str, phrase: &'a str) -> impl Iterator<Item = usize> + 'a {
    let mut from = 0;
    std::iter::from_fn(move || {
        while let Some(at) = text.get(from..).and_then(|rest| rest.find(phrase)) {
            let at = from + at;
            from = at + text[at..].chars().next().map_or(1, char::len_utf8);
            if on_word_boundaries(text, at, at + phrase.len()) {
                return Some(at);
            }
        }
        None
    })
}

/// Whether `text[start..end]` is whole words: nothing but a space, comma or full stop (or
/// the text's end) on either side.
fn on_word_boundaries(text: &str, start: usize, end: usize) -> bool {
    let boundary = |c: Option<char>| c.is_none_or(|c| matches!(c, ' ' | ',' | '.'));
    boundary(text[..start].chars().next_back()) && boundary(text[end..].chars().next())
}

/// Sentences split at contrasts, then at joiners and commas; a negation cue negates the
/// rest of its contrast-delimited part, but not a statement of its own after a joiner or
/// comma ("no fever or rash" against "haven't been sick and my chest is tight").
fn clauses(text: &str) -> Vec<Clause> {
    let mut out = Vec::new();
    for sentence in text.split('.') {
        let mut part: Vec<&str> = Vec::new();
        let mut parts = Vec::new();
        for word in sentence.split(' ').filter(|w| !w.is_empty()) {
            let bare = word.trim_end_matches(',');
            if CONTRASTS.contains(&bare) {
                parts.push(std::mem::take(&mut part));
            } else {
                part.push(word);
            }
        }
        parts.push(part);
        for part in parts {
            // The cue of the negation in force, which a list carries over commas and
            // joiners ("no fever, cough or rash")…
            let mut negation: Option<&str> = None;
            // …and whether it is in the clause being read.
            let mut cue_here = false;
            let mut able = false;
            let mut continues = false;
            // Words up to this index say a remedy is not helping ("isn't helping", "hasn't
            // made any difference"): a pseudo-negation, as NegEx calls it, which denies
            // nothing that follows ("paracetamol isn't helping my back pain").
            let mut relief_end = 0;
            let mut joiner: Option<&str> = None;
            let mut current: Vec<&str> = Vec::new();
            let mut flush = |current: &mut Vec<&str>,
                             negation: Option<&str>,
                             cue_here: bool,
                             able: bool,
                             continues: bool,
                             joiner: Option<&str>| {
                let text = current.join(" ");
                let text = text.trim_matches(',').trim();
                if !text.is_empty() {
                    let mut last = text.rsplit(' ').skip_while(|w| FOR_NOW.contains(w));
                    let normal = last.next().is_some_and(|w| NORMAL_ENDINGS.contains(&w))
                        && !(text.ends_with(" well") && last.next() == Some("as"));
                    // "isn't feeding well" is the symptom again; "no headache, eyesight
                    // fine" still reports the eyesight normal.
                    let negated = if normal {
                        !(negation.is_some() && cue_here)
                    } else {
                        negation.is_some()
                    };
                    out.push(Clause {
                        text: without_subject(text).to_owned(),
                        negated,
                        cue: negation.filter(|_| negated).map(str::to_owned),
                        able,
                        continues,
                        joiner: joiner.map(str::to_owned),
                    });
                }
                current.clear();
            };
            for (i, word) in part.iter().enumerate() {
                let ends_clause = word.ends_with(',');
                let bare = word.trim_end_matches(',');
                if i < relief_end {
                    // Neither a symptom nor a negation of one.
                } else if JOINERS.contains(&bare) {
                    flush(&mut current, negation, cue_here, able, continues, joiner);
                    joiner = Some(bare);
                    cue_here = false;
                    continues = true;
                    if part.get(i + 1).is_some_and(|next| opens_statement(next)) {
                        negation = None;
                        able = false;
                        continues = false;
                    }
                } else if NEGATION_CUES.contains(&bare) && negation.is_none() {
                    flush(&mut current, negation, cue_here, able, continues, joiner);
                    continues = false;
                    match relief_denied(&part[i + 1..]) {
                        Some(words) => relief_end = i + 1 + words,
                        None => {
                            negation = Some(bare);
                            cue_here = true;
                        }
                    }
                } else {
                    current.push(bare);
                    let next = part.get(i + 1).map(|w| w.trim_end_matches(','));
                    if ABILITY.contains(&bare) && !next.is_some_and(|w| BARELY.contains(&w)) {
                        able = true;
                    }
                }
                if ends_clause {
                    flush(&mut current, negation, cue_here, able, continues, joiner);
                    joiner = None;
                    cue_here = false;
                    continues = list_item_follows(&part[i + 1..]);
                    // A negation carries over a comma into a list ("no fever, cough or
                    // rash"), not into the next statement ("antacids haven't helped, heavy
                    // pressure in my chest").
                    if !list_item_follows(&part[i + 1..]) {
                        negation = None;
                        able = false;
                    }
                }
            }
            flush(&mut current, negation, cue_here, able, continues, joiner);
        }
    }
    out
}

/// How many of the words after a negation cue say that relief does not come ("isn't
/// helping", "hasn't made any difference", "no better"): fillers up to a word of relief,
/// which ends it. None when the cue negates something else.
fn relief_denied(rest: &[&str]) -> Option<usize> {
    let fillers = rest
        .iter()
        .take_while(|w| RELIEF_FILLERS.contains(&w.trim_end_matches(',')))
        .count();
    let next = rest.get(fillers)?.trim_end_matches(',');
    RELIEF_WORKS.contains(&next).then_some(fillers + 1)
}

fn opens_statement(word: &str) -> bool {
    STATEMENT_OPENERS.contains(&word.trim_end_matches(','))
}

/// Whether the words after a comma start a short list item (up to two words before the
/// next comma, joiner or end, not opening with a subject) rather than a statement of its
/// own.
fn list_item_follows(rest: &[&str]) -> bool {
    if rest.first().is_some_and(|w| opens_statement(w)) {
        return false;
    }
    let mut words = 0;
    for word in rest {
        let bare = word.trim_end_matches(',');
        if JOINERS.contains(&bare) {
            break;
        }
        words += 1;
        if word.ends_with(',') {
            break;
        }
    }
    words <= LIST_ITEM_WORDS
}

/// Whether the text calls its pain or illness severe: not "a terrible mum", nor the heel
/// pain "worst for the first few steps".
fn severe(text: &str) -> bool {
    let words: Vec<&str> = text
        .split([' ', ',', '.'])
        .filter(|w| !w.is_empty())
        .collect();
    words.iter().enumerate().any(|(i, w)| {
        AGONY.contains(w)
            || SEVERE.contains(w)
                && words
                    [i.saturating_sub(SEVERITY_REACH)..(i + SEVERITY_REACH + 1).min(words.len())]
                    .iter()
                    .any(|near| SEVERE_OF.contains(near))
    })
}

/// The words of each sentence of `text`, without commas.
fn sentence_words(text: &str) -> impl Iterator<Item = Vec<&str>> {
    text.split('.').map(|sentence| {
        sentence
            .split([' ', ','])
            .filter(|w| !w.is_empty())
            .collect()
    })
}

/// Whether the text says, in one sentence, that one of `remedies` is not helping:
/// painkillers ([`PAIN_RELIEF`]: "painkillers aren't touching it", "paracetamol won't
/// shift it", "ibuprofen barely helps") or a reliever inhaler ([`RELIEVERS`]: "my inhaler
/// isn't helping", "the blue one is doing nothing").
fn fails_to_help(text: &str, remedies: &[&str]) -> bool {
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

/// Whether a sentence says more tablets were taken than the most a day allows ("I took
/// about 24 paracetamol"), with no negation before the count ("I didn't take 20"); one
/// after it says something else ("took 30 paracetamol and I don't feel any different").
fn counts_an_overdose(text: &str) -> bool {
    sentence_words(text).any(|words| {
        words.iter().enumerate().any(|(i, w)| {
            let (before, after) = (&words[..i], &words[i + 1..]);
            w.parse::<u32>().is_ok_and(|n| n > MOST_TABLETS_A_DAY)
                && before.iter().any(|w| TAKING.contains(w))
                && !has_negation(&before.join(" "))
                && !after.first().is_some_and(|unit| DOSE_UNITS.contains(unit))
                && after.iter().take(4).any(|w| names_a_medicine(w))
        })
    })
}

/// Whether the text gives an age under 3 months ("my 6 week old", "she's ten days old",
/// "a 2-month-old", "aged 5 weeks", "our newborn"): an age that the profile, in years,
/// cannot tell, and that makes a fever a red feature (NICE NG143). Whose age it is goes
/// unread: "the rash is a week old" reads the same, a gap that errs towards urgency.
fn says_under_3_months(text: &str) -> bool {
    sentence_words(text).any(|words| words.contains(&"newborn"))
        || age_in_days(text).is_some_and(|days| days < THREE_MONTHS_DAYS)
}

/// The first age the text gives in days, weeks, months or years ("my 6 week old", "a
/// 4-month-old", "aged 5 months", "ten days old", "my 80 year old mum"), in days.
fn age_in_days(text: &str) -> Option<f32> {
    let days = |count: &str, unit: &str| {
        let count = count.parse::<u32>().ok().or_else(|| {
            NUMBER_WORDS
                .iter()
                .find(|(word, _)| *word == count)
                .map(|(_, n)| *n)
        })?;
        Some(count as f32 * days_in(unit)?)
    };
    sentence_words(text).find_map(|words| {
        words.windows(3).find_map(|w| match (w[0], w[2]) {
            ("aged", _) => days(w[1], w[2]),
            (_, "old") => days(w[0], w[1]),
            _ => None,
        })
    })
}

/// The days in a unit of age or duration ("week", "months"), if it is one.
fn days_in(unit: &str) -> Option<f32> {
    DAYS_IN
        .iter()
        .find(|(name, _)| *name == unit.trim_end_matches('s'))
        .map(|(_, days)| *days)
}

/// Whether a negation stands in the three words before `words[i]` ("no bleeding", "isn't
/// sudden").
fn negated_at(words: &[&str], i: usize) -> bool {
    has_negation(&words[i.saturating_sub(3)..i].join(" "))
}

/// Whom the text is about, when it says: the age it gives ([`age_in_days`], in whole
/// years) and the sex of the relative it opens with or names after that age ("my son
/// has…", "my 3 year old daughter"). A relative named later is not the subject ("I caught
/// it from my son"). A baby under a year is the subject only when the text opens with
/// them ("my 8 month old has…", "my baby has…") and speaks of no one else: an age said
/// elsewhere may be the child of a mother speaking of her own breast or mood (whose fever
/// it is, is then asked: see `conversation`).
fn subject(text: &str) -> Subject {
    let words: Vec<&str> = text
        .split([' ', ',', '.'])
        .filter(|w| !w.is_empty())
        .collect();
    let opens_with_my = words.first().is_some_and(|w| ["my", "our"].contains(w));
    let mut age = age_in_days(text).map(|days| (days / DAYS_IN_A_YEAR) as u32);
    if age.is_none_or(|age| age == 0) {
        let opening = words.iter().skip(1).take(RELATIVE_REACH);
        let a_baby = opening.clone().any(|w| BABY_WORDS.contains(w))
            || (age == Some(0) && opening.clone().any(|w| *w == "old"));
        let only_of_the_baby = !words.iter().enumerate().skip(1).any(|(i, w)| {
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
        .then(|| words.iter().skip(1).take(RELATIVE_REACH).find_map(relative))
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

/// Whether the text says chest pain that exertion brings on goes with rest ("a heavy
/// feeling in my chest when I walk uphill that goes away when I rest"): a message naming
/// the chest and an exertion, and a sentence with a word of going near one of rest and no
/// negation just before it ("it doesn't go away when I rest", "won't ease with rest").
fn eases_with_rest(text: &str) -> bool {
    names_any(text, &CHEST)
        && names_any(text, &EXERTION)
        && sentence_words(text).any(|words| going_with_rest(&words).any(|denied| !denied))
}

/// Whether the text says chest pain does not go with rest ("it doesn't go away when I
/// rest", "won't ease even sitting down"): a message naming the chest, and a sentence with
/// a word of going near one of rest and a negation just before it. Pain merely felt at
/// rest is not enough: pericarditis's and pleurisy's are.
fn not_eased_by_rest(text: &str) -> bool {
    names_any(text, &CHEST)
        && sentence_words(text).any(|words| going_with_rest(&words).any(|denied| denied))
}

/// Whether a normalised text has one of `words` as a word of its own.
fn names_any(text: &str, words: &[&str]) -> bool {
    text.split([' ', ',', '.']).any(|w| words.contains(&w))
}

/// For each word of going near one of rest in a sentence's words, whether a negation
/// stands just before it ("won't ease with rest").
fn going_with_rest<'w>(words: &'w [&str]) -> impl Iterator<Item = bool> + 'w {
    words.iter().enumerate().filter_map(|(i, w)| {
        let near =
            &words[i.saturating_sub(RESTING_REACH)..(i + RESTING_REACH + 1).min(words.len())];
        (GOES.contains(w) && near.iter().any(|w| RESTING.contains(w))).then(|| negated_at(words, i))
    })
}

/// Whether a clause says its patient is on a medicine ("I'm on tablets for my blood
/// pressure", "she's on blood pressure meds"): a treatment they have, not one they took
/// too much of ("came on after taking tablets", "on purpose, all my tablets" are not).
fn on_regular_medicine(clause: &str) -> bool {
    let words: Vec<&str> = clause.split(' ').collect();
    let medicine = |w: &&str| names_a_regular_medicine(w);
    let on = words.iter().enumerate().any(|(i, w)| {
        let after = &words[i + 1..(i + 1 + ON_MEDICINE_REACH).min(words.len())];
        *w == "on"
            && after
                .iter()
                .take_while(|w| !TAKING_WORDS.contains(w))
                .any(medicine)
    });
    // "Taken my usual tablets", unless more of them ("all my usual tablets").
    let usual = words.windows(2).enumerate().any(|(i, pair)| {
        USUAL.contains(&pair[0])
            && medicine(&pair[1])
            && !words[..i].iter().any(|w| TAKING_MORE.contains(w))
    });
    on || usual
}

/// Whether `word` names a medicine someone may be on ([`MEDICINES`],
/// [`REGULAR_MEDICINES`]).
fn names_a_regular_medicine(word: &str) -> bool {
    MEDICINES.contains(&word) || REGULAR_MEDICINES.contains(&word)
}

/// Whether a clause says a medicine was not taken ("forgot to take my tablets", "I've run
/// out of my blood pressure tablets", "missed my pills") and says nothing of more of it
/// than prescribed ("took a double dose").
fn medicine_missed(clause: &str) -> bool {
    let words: Vec<&str> = clause.split(' ').collect();
    !words.iter().any(|w| TAKING_MORE.contains(w))
        && words.iter().enumerate().any(|(i, w)| {
            names_a_regular_medicine(w)
                && words[i.saturating_sub(MISSED_REACH)..i]
                    .iter()
                    .any(|w| MISSED.contains(w))
        })
}

/// Whether a sentence says a fever has lasted 5 days or more: a duration that long within
/// a few words of a word of fever, in the same clause, not after a negation.
fn fever_lasting_5_days(text: &str) -> bool {
    sentence_words(text).any(|words| {
        words.iter().enumerate().any(|(i, w)| {
            if !FEVER_WORDS.contains(w) || negated_at(&words, i) {
                return false;
            }
            // A joiner opens another clause, but "on and off" is how the fever came.
            let splits = |j: usize| {
                (JOINERS.contains(&words[j]) || words[j] == "but")
                    && !(j > 0 && words[j - 1] == "on" && words.get(j + 1) == Some(&"off"))
            };
            let from = (0..i)
                .rfind(|&j| splits(j))
                .map_or(0, |j| j + 1)
                .max(i.saturating_sub(FEVER_DURATION_REACH));
            let to = (i + 1..words.len())
                .find(|&j| splits(j))
                .unwrap_or(words.len())
                .min(i + 1 + FEVER_DURATION_REACH);
            sentence_duration_days(&words[from..to].join(" ")).is_some_and(|d| d >= FEVER_DAYS)
        })
    })
}

/// Whether a sentence about a blood sugar or a hypo says it is not coming up ("I've had
/// glucose tablets twice and my sugar is still low", "her bm isn't coming up"). Said of a
/// low sugar as the patient tells it; a high one that will not come down reads otherwise.
fn sugar_not_coming_up(text: &str) -> bool {
    text.split('.').any(|sentence| {
        sentence.split([' ', ',']).any(|w| SUGAR.contains(&w))
            && NOT_COMING_UP.iter().any(|p| contains_words(sentence, p))
    })
}

/// Whether a sentence says a baby is moving less than usual ("the baby hasn't moved as
/// much today", "I haven't felt the baby move since yesterday", "the baby's kicks have
/// slowed down"): a word of the baby's movements with a negation up to four words before it or
/// a word of fewer up to three after ("the baby is moving a lot, not worried" is not).
fn baby_moves_less(text: &str) -> bool {
    sentence_words(text).any(|words| {
        words
            .iter()
            .any(|w| matches!(*w, "baby" | "baby's" | "bump"))
            && words.iter().enumerate().any(|(i, w)| {
                MOVEMENTS.contains(w)
                    && (has_negation(&words[i.saturating_sub(4)..i].join(" "))
                        || words[i + 1..].iter().take(3).any(|w| FEWER.contains(w))
                        || i > 0 && FEWER.contains(&words[i - 1]))
            })
    })
}

/// Whether the text says the patient is pregnant and bleeding from the womb, and if so
/// whether heavily: a word of pregnancy not denied ("I'm not pregnant"), and a sentence
/// with a word of bleeding not denied ("no bleeding") that speaks of no wound or other
/// source ([`NOT_THE_WOMBS`]) and names no part but the tummy, back or genitals.
/// Heavily: a word of it not denied ([`HEAVY_BLEEDING`]) or of its not stopping in that
/// sentence.
fn bleeding_in_pregnancy(text: &str) -> Option<bool> {
    let pregnant = sentence_words(text).any(|words| {
        (0..words.len()).any(|i| PREGNANCY.contains(&words[i]) && !negated_at(&words, i))
    });
    let womb = Sites::named_in(WOMB_PARTS);
    let bleeding = sentence_words(text).find(|words| {
        (0..words.len()).any(|i| BLEEDING.contains(&words[i]) && !negated_at(words, i))
            && !words.iter().any(|w| NOT_THE_WOMBS.contains(w))
            && Sites::named_in(&words.join(" ")).union(womb) == womb
    })?;
    let not_stopping = bleeding
        .windows(2)
        .any(|w| has_negation(w[0]) && matches!(w[1], "stop" | "stopping" | "stopped"));
    // "Not a lot" is light.
    let heavy = (0..bleeding.len())
        .any(|i| HEAVY_BLEEDING.contains(&bleeding[i]) && !negated_at(&bleeding, i));
    pregnant.then_some(not_stopping || heavy)
}

/// Whether a sentence about a burn says it is bigger than a hand ("I burned my arm, it's
/// blistering and bigger than my hand"), a size the NHS sends to A&E; a bruise bigger
/// than a hand is no burn.
fn larger_than_a_hand(text: &str) -> bool {
    sentence_words(text).any(|words| {
        words.iter().any(|w| BURNS.contains(w))
            && words.windows(4).any(|w| {
                BIGGER.contains(&w[0])
                    && w[1] == "than"
                    && w[2..].iter().any(|w| matches!(*w, "hand" | "palm"))
            })
    })
}

/// Whether a sentence says bleeding has stopped or eased ("it was bleeding a lot but it's
/// mostly stopped now"), with no negation just before ("hasn't stopped"), and the message
/// says nowhere that it started again or will not stop: a bleeding that comes back is
/// still the NHS's reason for A&E.
fn bleeding_stopped(text: &str) -> bool {
    let words: Vec<Vec<&str>> = sentence_words(text).collect();
    let not_stopping = words
        .iter()
        .any(|words| words.contains(&"again") || says_not_stopping(words));
    !not_stopping
        && words.iter().any(|words| {
            words.iter().any(|w| names_bleeding(w))
                && words
                    .iter()
                    .enumerate()
                    .any(|(i, w)| STOPPED.contains(w) && !negated_at(words, i))
        })
}

/// Whether `word` is one of bleeding ([`BLEEDING`]) or a nosebleed.
fn names_bleeding(word: &str) -> bool {
    BLEEDING.contains(&word) || word.starts_with("nosebleed")
}

/// Whether a sentence's words say it will not or did not stop ("hasn't stopped", "won't
/// stop").
fn says_not_stopping(words: &[&str]) -> bool {
    words
        .iter()
        .enumerate()
        .any(|(i, w)| w.starts_with("stop") && negated_at(words, i))
}

/// Whether a sentence says a nosebleed has lasted 15 minutes or more ("my nose has been
/// bleeding for 20 minutes", "a nosebleed for half an hour") or will not stop ("it hasn't
/// stopped"): the NHS's reason for A&E, which the model reads only as a nosebleed. Not
/// when the message says it has stopped ([`bleeding_stopped`]).
fn nosebleed_lasting(text: &str) -> bool {
    !bleeding_stopped(text)
        && sentence_words(text).any(|words| {
            // "An hour ago" is when it began, and "in the last 24 hours" or "every few
            // hours" a window or a rate, not how long it went on.
            let long = words.iter().enumerate().any(|(i, w)| {
                let minutes = || {
                    i.checked_sub(1)
                        .and_then(|before| words[before].parse::<u32>().ok())
                        .is_some_and(|n| n >= NOSEBLEED_TOO_LONG_MINUTES)
                };
                let window = words[i.saturating_sub(3)..i]
                    .iter()
                    .any(|w| NOT_HOW_LONG.contains(w));
                words.get(i + 1) != Some(&"ago")
                    && !window
                    && (matches!(*w, "hour" | "hours")
                        || (matches!(*w, "minutes" | "mins") && minutes()))
            });
            words.iter().any(|w| NOSE.contains(w))
                && words.iter().any(|w| names_bleeding(w))
                && (long || says_not_stopping(&words))
        })
}

/// Whether a message about a cut says it is deep, gaping or needs stitches ("cut my palm,
/// it's deep and the edges gape open"), which the model reads only loosely and would ask
/// again.
fn cut_said_deep(text: &str) -> bool {
    names_any(text, &CUTS)
        && sentence_words(text).any(|words| {
            words.iter().enumerate().any(|(i, w)| {
                DEPTH.contains(w)
                    && !words
                        .get(i + 1)
                        .is_some_and(|w| NOT_A_CUTS_DEPTH.contains(w))
                    && !has_negation(&words[i.saturating_sub(DEPTH_NEGATION_REACH)..i].join(" "))
            })
        })
}

/// Whether a sentence says lights or zigzags are seen with a migraine or a headache it
/// does not deny ("I get migraines with flashing lights", "zigzags before the headache"):
/// a migraine's aura, which the model rates nearest a detaching retina's flashes. Not when
/// the message speaks of floaters or a shadow, a retina's own signs, whatever else it says.
fn aura_with_a_headache(text: &str) -> bool {
    !names_any(text, &RETINA_SIGNS)
        && sentence_words(text).any(|words| {
            let said = |set: &[&str]| {
                words
                    .iter()
                    .enumerate()
                    .any(|(i, w)| set.contains(w) && !negated_at(&words, i))
            };
            said(&HEADACHES) && said(&AURA_SIGHTS)
        })
}

/// Whether a sentence says a limb was hurt by a fall, a twist or a knock ("I fell on my
/// wrist", "tripped and landed on my knee", "I hurt my ankle playing football"): a recent
/// injury, which the model reads in none of them, as the words of the fall are few and
/// the limb's many. Not "fell asleep on my arm", "a slipped disc", "my knee hurt", nor
/// with a negation just before ("I haven't fallen, my knee just swelled").
fn limb_injured(text: &str) -> bool {
    sentence_words(text).any(|words| {
        Sites::named_in(&words.join(" ")).names_a_limb()
            && words.iter().enumerate().any(|(i, w)| {
                let next = words.get(i + 1).copied();
                INJURING.contains(w)
                    && !(next == Some("asleep") && matches!(*w, "fell" | "fallen" | "falling"))
                    && !(next == Some("disc") && *w == "slipped")
                    && (*w != "hurt" || next.is_some_and(|n| WHOSE.contains(&n)))
                    && !negated_at(&words, i)
            })
    })
}

/// Whether a sentence says a battery or magnets were swallowed ("my son swallowed two
/// magnets", "I think she ate a button battery"), with no negation before the swallowing
/// ("he didn't swallow the battery").
fn swallowed_battery_or_magnet(text: &str) -> bool {
    says_swallowed(text, &SWALLOWED_DANGERS, &SWALLOWING)
}

/// Whether a sentence says a small object was swallowed ("my son swallowed a 10p coin",
/// "I think she's swallowed a bead"), as [`swallowed_battery_or_magnet`] reads a battery;
/// a button battery is the battery only, whose advice is A&E's.
fn swallowed_an_object(text: &str) -> bool {
    says_swallowed(text, &SWALLOWED_OBJECTS, &["swallowed"]) && !swallowed_battery_or_magnet(text)
}

/// Whether a sentence says something sharp was swallowed ("I think he swallowed a drawing
/// pin"), as [`swallowed_an_object`] reads a coin.
fn swallowed_something_sharp(text: &str) -> bool {
    says_swallowed(text, &SWALLOWED_SHARP, &["swallowed"])
}

/// Whether a sentence counts being sick ("she has been sick twice", "was sick 3 times",
/// "sick everywhere"): vomiting, which the model reads as feeling sick.
fn sick_counted(text: &str) -> bool {
    sentence_words(text).any(|words| {
        words.iter().enumerate().any(|(i, w)| {
            *w == "sick"
                && words[i + 1..]
                    .iter()
                    .take(3)
                    .any(|w| SICK_COUNTS.contains(w))
                && !NOT_VOMITING.contains(&words[i.saturating_sub(1)])
                && !negated_at(&words, i)
        })
    })
}

/// Whether a sentence says breathlessness comes with an exertion ("I get short of breath
/// when I exercise", "puffed out walking upstairs") and says nothing of rest: the
/// breathlessness of an asthma or a heart to see a GP about, not at rest, which the model
/// leaves unsaid and an acute attack's likelihood then takes for possible.
fn breathless_only_with_exertion(text: &str) -> bool {
    let mut breathless = false;
    for words in sentence_words(text) {
        if words.iter().any(|w| AT_REST.contains(w)) {
            return false;
        }
        breathless |= words.iter().any(|w| BREATHLESS.contains(w))
            && words.iter().any(|w| EXERTIONS.contains(w));
    }
    breathless
}

/// Whether the text speaks of a lump or bulge and of coughing only as what brings it out
/// ("a bulge in my groin that pops out when I cough or lift"): every cough word follows
/// "when" or "if" closely, as a hernia's cough impulse is told.
fn cough_brings_out_a_lump(text: &str) -> bool {
    let mut lump = false;
    let mut coughed = false;
    for words in sentence_words(text) {
        lump |= words.iter().any(|w| LUMPS.contains(w));
        for (i, w) in words.iter().enumerate() {
            if COUGHING.contains(w) {
                let before = &words[i.saturating_sub(COUGH_TRIGGER_REACH)..i];
                if !before.iter().any(|w| *w == "when" || *w == "if") {
                    return false;
                }
                coughed = true;
            }
        }
    }
    lump && coughed
}

/// Whether a sentence says food or drink was swallowed ("swallowed some water the wrong
/// way"), and no poison is named.
fn swallowed_food_or_drink(text: &str) -> bool {
    says_swallowed(text, &FOOD_AND_DRINK, &SWALLOWING) && !names_any(text, &POISONS)
}

/// Whether a sentence names one of `things` and, with no negation or likeness
/// ([`LIKENESS`]) before it, one of `swallowing`.
fn says_swallowed(text: &str, things: &[&str], swallowing: &[&str]) -> bool {
    sentence_words(text).any(|words| {
        words.iter().any(|w| things.contains(w))
            && words.iter().enumerate().any(|(i, w)| {
                swallowing.contains(w)
                    && !has_negation(&words[..i].join(" "))
                    && !words[..i].iter().any(|w| LIKENESS.contains(w))
            })
    })
}

/// Whether a sentence says a reliever inhaler is not helping ([`fails_to_help`]).
fn reliever_not_helping(text: &str) -> bool {
    fails_to_help(text, &RELIEVERS)
}

/// Whether a sentence names one of `subjects` and says it came on suddenly ("sudden
/// severe pain in my left testicle", "he suddenly became very confused", "out of
/// nowhere"), with no negation in the three words before ("it didn't come on suddenly").
fn says_sudden(text: &str, subjects: &[&str]) -> bool {
    sentence_words(text).any(|words| {
        words.iter().any(|w| subjects.contains(w))
            && words.iter().enumerate().any(|(i, w)| {
                SUDDEN.contains(w)
                    && (*w != "nowhere" || i >= 2 && words[i - 2..i] == ["out", "of"])
                    && !negated_at(&words, i)
            })
    })
}

/// Whether `word` names tablets or a medicine ([`MEDICINES`], [`PAIN_RELIEF`]).
fn names_a_medicine(word: &str) -> bool {
    MEDICINES.contains(&word) || PAIN_RELIEF.contains(&word)
}

/// Whether a sentence says an amount of tablets has gone missing ("found my 2 year old
/// with my mum's tablets, the packet was open and I think 3 are missing"), with no
/// negation before it ("none are missing").
fn tablets_gone_missing(text: &str) -> bool {
    sentence_words(text).any(|words| {
        words.iter().any(|w| names_a_medicine(w))
            && words.iter().enumerate().any(|(i, w)| {
                let before = &words[..i];
                // The amount is what went missing: only these words or the tablets'
                // names come between ("some of my pills have gone").
                let amount = before
                    .iter()
                    .rev()
                    .find(|w| !(MISSING_FILLERS.contains(w) || names_a_medicine(w)));
                MISSING.contains(w)
                    && amount.is_some_and(|w| AMOUNTS.contains(w) || w.parse::<u32>().is_ok())
                    && !has_negation(&before.join(" "))
            })
    })
}

/// The longest duration the text mentions, in days ("for 3 weeks", "two days", "a month"),
/// sentence by sentence; "… ago" counts only as an onset (see [`ONSET`]).
fn duration_days(text: &str) -> Option<u32> {
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

fn sentence_duration_days(sentence: &str) -> Option<u32> {
    let words: Vec<&str> = sentence
        .split([' ', ','])
        .filter(|w| !w.is_empty())
        .collect();
    let mut longest = None;
    for (i, pair) in words.windows(2).enumerate() {
        let next = words.get(i + 2);
        // "a 3 month old", "6 weeks pregnant": an age, not how long it has lasted.
        if next.is_some_and(|next| ["old", "pregnant", "along"].contains(next)) {
            continue;
        }
        if next == Some(&"ago") && !words[..i].iter().any(|w| ONSET.contains(w)) {
            continue;
        }
        // "a few times a year", "40 a day", "3 pints a night": how often, not how long.
        if matches!(pair[0], "a" | "an") && i > 0 && is_rate(words[i - 1]) {
            continue;
        }
        let count = match pair[0] {
            "a" | "an" | "one" => Some(1),
            "two" | "couple" => Some(2),
            "three" | "few" => Some(3),
            "four" => Some(4),
            "five" => Some(5),
            "six" => Some(6),
            "seven" => Some(7),
            "ten" => Some(10),
            "several" => Some(4),
            n => n.parse::<u32>().ok(),
        };
        let unit = match pair[1].trim_end_matches('s') {
            "day" => Some(1),
            "week" => Some(7),
            "month" => Some(30),
            "year" => Some(365),
            _ => None,
        };
        if let (Some(count), Some(unit)) = (count, unit) {
            let days = count.saturating_mul(unit);
            longest = longest.max(Some(days));
        }
    }
    longest
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_sentences_say_is_read_and_their_lookalikes_are_not() {
        let readers: [(Reader, &[&str], &[&str]); 12] = [
            (
                cough_brings_out_a_lump,
                &[
                    "there's a bulge in my groin that pops out when i cough",
                    "a lump by my belly button that gets bigger if i cough or strain",
                ],
                &[
                    "i have a cough and a lump in my neck",
                    "my chest hurts when i cough",
                    "the lump hurts when i cough. i've had a cough for weeks",
                ],
            ),
            (
                nosebleed_lasting,
                &[
                    "my nose has been bleeding for 20 minutes and hasn't stopped",
                    "I've had a nosebleed for half an hour",
                    "his nose is bleeding and it won't stop",
                ],
                &[
                    "my nose bled for 5 minutes",
                    "I had a nosebleed for 20 minutes but it has stopped now",
                    "I get nosebleeds every few weeks",
                    "I've had a blocked nose for 2 hours",
                    "I had a nosebleed an hour ago",
                    "two nosebleeds in the last 24 hours",
                    "his nose bleeds every few hours",
                ],
            ),
            (
                aura_with_a_headache,
                &[
                    "I get migraines with flashing lights",
                    "zigzags in my vision then a bad headache",
                ],
                &[
                    "flashing lights and new floaters in my right eye",
                    "I see flashes of light and a shadow. I also get migraines",
                    "flashing lights in my eye but no headache",
                    "I have a headache",
                ],
            ),
            (
                limb_injured,
                &[
                    "I fell on my wrist and it's swollen",
                    "tripped over the kerb and landed on my knee",
                    "I hurt my ankle playing football",
                    "he fell off his bike and his arm is really sore",
                ],
                // "Knocked" is as often of something else ("knocked a pan over my hand").
                &[
                    "I fell asleep on my arm and now it's numb",
                    "I have a slipped disc and pain down my leg",
                    "my knee hurt all day",
                    "I haven't fallen, my knee just swelled up",
                    "I fell over last year. now my knee aches",
                    "knocked a pan of boiling water over my hand",
                ],
            ),
            (
                swallowed_battery_or_magnet,
                &[
                    "my son swallowed two magnets",
                    "I think she ate a button battery",
                    "he may have swallowed one of the batteries from the remote",
                ],
                &[
                    "he didn't swallow the battery, it was under the sofa",
                    "the battery in my hearing aid died",
                    "she swallowed some water. then played with magnets",
                ],
            ),
            (
                // A button battery is the battery only.
                swallowed_an_object,
                &[
                    "my son swallowed a 10p coin",
                    "I think she's swallowed a bead",
                ],
                &[
                    "my son swallowed a button battery",
                    "he didn't swallow the coin",
                    "I found a coin on the floor",
                    "I ate button mushrooms and feel sick",
                ],
            ),
            (
                swallowed_something_sharp,
                &[
                    "I think he swallowed a drawing pin",
                    "she swallowed a needle",
                ],
                &[
                    "I swallowed a glass of water",
                    "I cut my nails",
                    "my throat feels like I've swallowed pins",
                ],
            ),
            (
                sick_counted,
                &[
                    "she has been sick twice",
                    "he was sick 3 times in the night",
                    "I've been sick a few times today",
                ],
                &[
                    "I felt sick twice today",
                    "I have been off sick twice this year",
                    "he hasn't been sick once",
                    "I have been sick for a week",
                ],
            ),
            (
                breathless_only_with_exertion,
                &[
                    "I get short of breath and wheezy when I exercise",
                    "puffed out walking upstairs. it's new",
                ],
                &[
                    "I'm breathless even walking to the toilet",
                    "short of breath at rest and worse on the stairs",
                    "my knee hurts when I walk",
                ],
            ),
            (
                bleeding_stopped,
                &[
                    "it was bleeding a lot but it's mostly stopped now",
                    "the bleeding stops when I press on it",
                ],
                &[
                    "the bleeding hasn't stopped",
                    "it won't stop bleeding",
                    "the bleeding is not stopping",
                    "my periods have stopped",
                    "the bleeding stopped. now it's bleeding again",
                    "the bleeding stopped for a bit but it won't stop now",
                ],
            ),
            (
                cut_said_deep,
                &[
                    "cut my palm with a knife and it's deep, the edges gape open",
                    "I cut my leg. I think it needs stitches",
                ],
                &[
                    "I cut my finger, it's not deep",
                    "I don't think the cut needs stitches",
                    "I cut my hand and took a deep breath",
                    "a deep ache in my hip",
                ],
            ),
            (
                swallowed_food_or_drink,
                &[
                    "I swallowed some water the wrong way",
                    "she swallowed her chewing gum",
                ],
                &[
                    "I swallowed some water with bleach in it",
                    "he swallowed washing up liquid in his juice",
                    "I drank a glass of water",
                ],
            ),
        ];
        for (reads, read, not_read) in readers {
            for said in read {
                assert!(reads(&normalise(said)), "{said}");
            }
            for said in not_read {
                assert!(!reads(&normalise(said)), "{said}");
            }
        }
    }

    #[test]
    fn a_reliever_that_does_not_help_is_read_and_one_used_often_is_not() {
        for said in [
            "my inhaler isn't helping",
            "the blue one is doing nothing",
            "ventolin barely helps",
            "had 10 puffs of my reliever and it hasn't helped",
        ] {
            assert!(fails_to_help(&normalise(said), &RELIEVERS), "{said}");
        }
        for said in [
            "needing my reliever inhaler most days",
            "my inhaler helps",
            "paracetamol isn't helping",
        ] {
            assert!(!fails_to_help(&normalise(said), &RELIEVERS), "{said}");
        }
    }

    #[test]
    fn a_subject_said_to_come_on_suddenly_is_read_but_not_a_denial() {
        let (testicle, confusion) = (&TESTICLE[..], &CONFUSED[..]);
        for said in [
            "Sudden severe pain in my left testicle.",
            "My testicle started hurting out of nowhere an hour ago",
        ] {
            assert!(says_sudden(&normalise(said), testicle), "{said}");
        }
        assert!(says_sudden(
            &normalise("My dad suddenly became very confused"),
            confusion
        ));
        for said in [
            "My testicle has ached for weeks, it didn't come on suddenly.",
            "Sudden headache. My testicle aches a bit too",
            "He was confused for a while, nowhere near as bad now",
            "Suddenly dizzy. He was confused last month.",
        ] {
            let subjects = if said.contains("testicle") {
                testicle
            } else {
                confusion
            };
            assert!(!says_sudden(&normalise(said), subjects), "{said}");
        }
    }

    #[test]
    fn a_burn_bigger_than_a_hand_is_read_a_bruise_is_not() {
        for said in [
            "I burned my arm badly, it's blistering and bigger than my hand",
            "The scald on her leg is larger than her hand",
        ] {
            assert!(larger_than_a_hand(&normalise(said)), "{said}");
        }
        for said in [
            "A bruise bigger than my hand. I burnt my finger last week, it's fine",
            "I burnt my finger, it's a small burn",
        ] {
            assert!(!larger_than_a_hand(&normalise(said)), "{said}");
        }
    }

    #[test]
    fn a_baby_moving_less_is_read_a_busy_one_is_not() {
        for said in [
            "I'm 32 weeks pregnant and the baby hasn't moved as much today",
            "I haven't felt the baby move since yesterday",
            "The baby's kicks have slowed down",
            "Reduced movements from the baby this evening",
        ] {
            assert!(baby_moves_less(&normalise(said)), "{said}");
        }
        for said in [
            "The baby is moving a lot, not worried about that",
            "I can't move my leg. My baby is fine",
            "I was moving furniture and hurt my back",
        ] {
            assert!(!baby_moves_less(&normalise(said)), "{said}");
        }
    }

    #[test]
    fn an_age_in_days_weeks_or_months_under_3_months_is_a_young_baby() {
        for said in [
            "my 6 week old has a temperature",
            "she's ten days old",
            "our 2-month-old is hot",
            "baby aged 12 weeks, feels hot",
            "a week old and not feeding",
            "our newborn is very hot",
        ] {
            assert!(says_under_3_months(&normalise(said)), "{said}");
        }
        for said in [
            "my 3 month old has a temperature",
            "my 13 week old is hot",
            "my 6 month old has a fever",
            "I'm 10 weeks pregnant",
            "it started 2 weeks ago",
            "he's 2 years old",
        ] {
            assert!(!says_under_3_months(&normalise(said)), "{said}");
        }
    }

    #[test]
    fn chest_pain_brought_on_by_exertion_going_with_rest_is_read() {
        for said in [
            "a heavy feeling in my chest when I walk uphill that goes away when I rest",
            "tight chest on the stairs, it settles if I sit down for a bit",
            "chest pain when I go to the gym. It eases after I stop.",
        ] {
            assert!(eases_with_rest(&normalise(said)), "{said}");
        }
        for said in [
            "chest pain while walking the dog, it doesn't go away when I rest",
            "chest pain that won't ease even sitting down, started on the stairs",
            "my calves ache when I walk and it goes off when I rest",
            "chest pain that goes away when I rest",
        ] {
            assert!(!eases_with_rest(&normalise(said)), "{said}");
        }
    }

    #[test]
    fn chest_pain_not_going_with_rest_is_read() {
        for said in [
            "chest pain while walking the dog, it doesn't go away when I rest",
            "chest pain that won't ease even sitting down",
        ] {
            assert!(not_eased_by_rest(&normalise(said)), "{said}");
        }
        for said in [
            "a heavy feeling in my chest when I walk uphill that goes away when I rest",
            "chest infection and breathless even at rest",
            "sharp chest pain when I breathe in, even at rest",
            "my calves ache and it doesn't go when I rest",
        ] {
            assert!(!not_eased_by_rest(&normalise(said)), "{said}");
        }
    }

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
    fn bleeding_in_pregnancy_is_read_of_the_womb_unless_a_wound_or_another_part_is_named() {
        let read = |said: &str| bleeding_in_pregnancy(&normalise(said));
        assert_eq!(read("I'm 10 weeks pregnant and I'm bleeding"), Some(false));
        assert_eq!(
            read("I'm pregnant. Some spotting and tummy pain"),
            Some(false)
        );
        assert_eq!(read("pregnant and bleeding heavily with clots"), Some(true));
        assert_eq!(read("I'm pregnant and the bleeding won't stop"), Some(true));
        assert_eq!(read("pregnant, bleeding a little, not a lot"), Some(false));
        for said in [
            "I'm pregnant and cut my hand, it's bleeding",
            "I'm pregnant and my gums are bleeding",
            "I'm not pregnant but I'm bleeding",
            "I'm 20 weeks pregnant, no bleeding",
            "I'm pregnant and there's blood in my wee",
            "I'm 30 weeks pregnant and my blood pressure is high",
            "I'm bleeding between periods",
        ] {
            assert_eq!(read(said), None, "{said}");
        }
    }

    #[test]
    fn a_fever_of_5_days_or_more_is_read_only_of_the_fever() {
        for said in [
            "I have had a fever of 39 for 5 days",
            "temperature on and off for a week",
            "for the last 6 days she's had a temp",
        ] {
            assert!(fever_lasting_5_days(&normalise(said)), "{said}");
        }
        for said in [
            "a fever for 3 days",
            "a cough for a week and a fever since yesterday",
            "I haven't had a temperature for 5 days now",
            "a fever 6 weeks ago",
        ] {
            assert!(!fever_lasting_5_days(&normalise(said)), "{said}");
        }
    }

    #[test]
    fn a_sugar_not_coming_up_is_read_only_of_a_sugar() {
        for said in [
            "i've had glucose tablets twice and my sugar is still low",
            "her bm isn't coming up",
        ] {
            assert!(sugar_not_coming_up(&normalise(said)), "{said}");
        }
        for said in [
            "my temperature is still low",
            "i had a hypo and it came up after juice",
        ] {
            assert!(!sugar_not_coming_up(&normalise(said)), "{said}");
        }
    }

    #[test]
    fn being_on_a_medicine_is_told_from_taking_one() {
        for said in [
            "i'm on tablets for my blood pressure",
            "she's on blood pressure meds",
            "on my pills",
            "taken my usual tablets",
            "she's had her regular meds",
        ] {
            assert!(on_regular_medicine(said), "{said}");
        }
        for said in [
            "it came on after taking tablets",
            "i'm going to take all my tablets",
            "on purpose i took all my pills",
            "i'm on my own",
            "took all my usual tablets",
            "i've taken double my normal pills",
        ] {
            assert!(!on_regular_medicine(said), "{said}");
        }
    }

    #[test]
    fn a_dose_missed_is_told_from_tablets_taken_or_saved_up() {
        for said in [
            "i forgot to take my tablets this morning",
            "i've run out of my blood pressure tablets",
            "i missed my pills yesterday",
            "she's been without her meds for a week",
        ] {
            assert!(medicine_missed(said), "{said}");
        }
        for said in [
            "i've been saving up my tablets",
            "i forgot i'd taken them and took a double dose of my tablets",
            "i took all my pills",
            "my tablets ran out and i took too many of my husband's pills",
        ] {
            assert!(!medicine_missed(said), "{said}");
        }
    }

    #[test]
    fn more_tablets_taken_than_a_days_most_is_an_overdose() {
        for said in [
            "i took about 24 paracetamol about 3 hours ago",
            "she's swallowed 16 tablets of co codamol",
            "he has taken 30 of his sleeping pills",
            "i took 30 paracetamol and i don't feel any different",
        ] {
            assert!(counts_an_overdose(said), "{said}");
        }
        for said in [
            "i took 2 paracetamol for my headache",
            "i took 1000 mg of paracetamol",
            "i didn't take 20 tablets, only 2",
            "my 12 year old took paracetamol",
            "we have 20 tablets in the cupboard",
        ] {
            assert!(!counts_an_overdose(said), "{said}");
        }
    }

    #[test]
    fn tablets_gone_missing_may_have_been_swallowed() {
        for said in [
            "just found my toddler with my mums blood pressure tablets, the packet was open \
             and i think 3 are missing",
            "some of my pills have gone and my son was playing with the box",
        ] {
            assert!(tablets_gone_missing(said), "{said}");
        }
        for said in [
            "i counted the tablets and none are missing",
            "my prescription has gone missing",
            "my headache has gone since i took 2 paracetamol",
            "i took 2 paracetamol and my headache has gone",
            "3 of my socks are missing",
        ] {
            assert!(!tablets_gone_missing(said), "{said}");
        }
    }

    #[test]
    fn a_clause_about_a_relative_is_read_without_its_subject() {
        assert_eq!(without_subject("my son clashed heads"), "clashed heads");
        assert_eq!(without_subject("our little girl has a rash"), "has a rash");
        assert_eq!(without_subject("my head hurts"), "my head hurts");
        assert_eq!(without_subject("my son"), "my son");
        assert_eq!(
            without_subject("my 6 week old has a temperature"),
            "has a temperature"
        );
        assert_eq!(
            without_subject("my 3 year old son has a rash"),
            "has a rash"
        );
        assert_eq!(
            without_subject("my cough is 2 weeks old"),
            "my cough is 2 weeks old"
        );
        assert_eq!(without_subject("he has a rash"), "he has a rash");
        let clauses = clauses("my daughter has a fever and my son is fine");
        assert_eq!(clauses[0].text, "has a fever");
        assert_eq!(
            (clauses[1].text.as_str(), clauses[1].negated),
            ("is fine", true)
        );
    }

    fn texts(clauses: &[Clause]) -> Vec<(&str, bool)> {
        clauses
            .iter()
            .map(|c| (c.text.as_str(), c.negated))
            .collect()
    }

    #[test]
    fn nothing_negates_what_follows_it() {
        let text = normalise("Nothing near my eye, just a rash on my forehead.");
        assert_eq!(
            texts(&clauses(&text)),
            [("near my eye", true), ("just a rash on my forehead", false)]
        );
    }

    #[test]
    fn a_clause_that_only_says_where_or_names_a_part_reports_nothing() {
        for place in [
            "behind his ears",
            "on both arms",
            "round my mouth and nose",
            "in my eye",
        ] {
            assert!(only_a_place(place, true), "{place}");
        }
        for said in [
            "behind my ear it's sore",
            "on and off",
            "in pain",
            "my knee",
        ] {
            assert!(!only_a_place(said, true), "{said}");
        }
        // Only a part: the subject of a negation split off.
        assert!(only_a_place("the leg", false));
        assert!(!only_a_place("my leg hurts", false));
        for symptom in ["a headache", "nosebleeds"] {
            assert!(!only_a_place(symptom, false), "{symptom}");
        }
    }

    #[test]
    fn only_a_clause_of_one_content_word_has_one() {
        assert_eq!(only_content_word("woke up"), Some("woke"));
        assert_eq!(
            only_content_word("i've got a temperature"),
            Some("temperature")
        );
        assert_eq!(only_content_word("big white tonsils"), None);
        assert_eq!(only_content_word("and it's"), None);
    }

    #[test]
    fn negation_reaches_to_the_contrast_and_not_past_it() {
        let text =
            normalise("I've got a bad cough and a headache, no fever or rash but my throat hurts.");
        assert_eq!(
            texts(&clauses(&text)),
            [
                ("i've got a bad cough", false),
                ("a headache", false),
                ("fever", true),
                ("rash", true),
                ("my throat hurts", false),
            ]
        );
        let text = normalise(
            "No fever, headache, runny nose or cough. Antacids haven't touched it, heavy pressure in my chest.",
        );
        assert_eq!(
            texts(&clauses(&text)),
            [
                ("fever", true),
                ("headache", true),
                ("runny nose", true),
                ("cough", true),
                ("antacids", false),
                ("it", false),
                ("heavy pressure in my chest", false),
            ]
        );
        let text = normalise("Haven't been sick. Chest feels tight");
        assert_eq!(
            texts(&clauses(&text)),
            [("been sick", true), ("chest feels tight", false)]
        );
    }

    #[test]
    fn negation_stops_at_a_statement_of_its_own() {
        let text = normalise("Haven't been sick and it's painful when I go, no rash or itch");
        assert_eq!(
            texts(&clauses(&text)),
            [
                ("been sick", true),
                ("it's painful when i go", false),
                ("rash", true),
                ("itch", true),
            ]
        );
        let text = normalise("No cough, my chest is tight");
        assert_eq!(
            texts(&clauses(&text)),
            [("cough", true), ("my chest is tight", false)]
        );
        let text = normalise("She isn't feeding and has a bulging soft spot");
        assert_eq!(
            texts(&clauses(&text)),
            [
                ("she", false),
                ("feeding", true),
                ("has a bulging soft spot", false)
            ]
        );
        let text = normalise("He's not really drinking it and he's getting more muddled");
        assert_eq!(
            texts(&clauses(&text)),
            [
                ("he's", false),
                ("really drinking it", true),
                ("he's getting more muddled", false)
            ]
        );
    }

    #[test]
    fn a_remedy_that_is_not_helping_denies_nothing_that_follows() {
        let text = normalise("Paracetamol isn't helping my back pain, no fever");
        assert_eq!(
            texts(&clauses(&text)),
            [
                ("paracetamol", false),
                ("my back pain", false),
                ("fever", true)
            ]
        );
        let text = normalise("The cream hasn't made any difference to the itchy rash");
        assert_eq!(
            texts(&clauses(&text)),
            [("the cream", false), ("to the itchy rash", false)]
        );
        let text = normalise("I haven't been sleeping");
        assert_eq!(
            texts(&clauses(&text)),
            [("i", false), ("been sleeping", true)]
        );
    }

    #[test]
    fn a_negated_ability_is_an_inability_not_an_absence() {
        let text = inabilities(&normalise("I haven't been able to pass water, no fever"));
        assert_eq!(
            texts(&clauses(&text)),
            [("i unable to pass water", false), ("fever", true)]
        );
    }

    #[test]
    fn a_clause_saying_something_is_normal_for_now_reports_it_absent() {
        let text = normalise("Eyesight is ok so far, breathing is fine at the moment");
        assert_eq!(
            texts(&clauses(&text)),
            [
                ("eyesight is ok so far", true),
                ("breathing is fine at the moment", true)
            ]
        );
    }

    #[test]
    fn a_clause_saying_something_is_normal_reports_it_absent() {
        let text = normalise("Breathing is fine and I'm peeing normally, I feel sick");
        assert_eq!(
            texts(&clauses(&text)),
            [
                ("breathing is fine", true),
                ("i'm peeing normally", true),
                ("i feel sick", false)
            ]
        );
        let past = clauses(&normalise("Fell over but I didn't hit my head"));
        assert!(past.contains(&Clause {
            text: "hit my head".into(),
            negated: true,
            cue: Some("didn't".into()),
            able: false,
            continues: false,
            joiner: None,
        }));
    }

    #[test]
    fn a_clause_joined_without_a_subject_of_its_own_continues_the_one_before() {
        let continuing = |text: &str| -> Vec<(String, bool)> {
            clauses(&normalise(text))
                .into_iter()
                .map(|c| (c.text, c.continues))
                .collect()
        };
        assert_eq!(
            continuing("It's red hot and swollen. My knee hurts and I feel sick"),
            [
                ("it's red hot".to_owned(), false),
                ("swollen".to_owned(), true),
                ("my knee hurts".to_owned(), false),
                ("i feel sick".to_owned(), false),
            ]
        );
        assert_eq!(
            continuing("red, hot, swollen, I feel awful")
                .iter()
                .map(|c| c.1)
                .collect::<Vec<_>>(),
            [false, true, true, false]
        );
    }

    #[test]
    fn a_negated_normal_is_the_symptom_again_but_not_a_negation_carried_into_a_list() {
        let text = normalise("He isn't feeding well. I haven't been peeing normally");
        assert_eq!(
            texts(&clauses(&text)),
            [
                ("he", false),
                ("feeding well", false),
                ("i", false),
                ("been peeing normally", false)
            ]
        );
        let text = normalise("She's feeding well. No headache, no jaw pain, eyesight fine");
        assert_eq!(
            texts(&clauses(&text)),
            [
                ("she's feeding well", true),
                ("headache", true),
                ("jaw pain", true),
                ("eyesight fine", true)
            ]
        );
        let text = normalise("I've got a headache as well");
        assert_eq!(
            texts(&clauses(&text)),
            [("i've got a headache as well", false)]
        );
    }

    #[test]
    fn an_ability_reaches_as_far_as_a_negation_and_barely_undoes_it() {
        let able = |text: &str| -> Vec<(String, bool)> {
            clauses(&normalise(text))
                .into_iter()
                .map(|c| (c.text, c.able))
                .collect()
        };
        assert_eq!(
            able("It's swollen but I can walk on it and swallow, my chest is tight"),
            [
                ("it's swollen".to_owned(), false),
                ("i can walk on it".to_owned(), true),
                ("swallow".to_owned(), true),
                ("my chest is tight".to_owned(), false),
            ]
        );
        assert_eq!(
            able("I can barely walk. I can't swallow"),
            [
                ("i can barely walk".to_owned(), false),
                ("i can't swallow".to_owned(), false),
            ]
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
        ] {
            assert!(severe(&normalise(text)), "{text}");
        }
        for text in [
            "i feel like a terrible mum",
            "pain under my heel that's worst for the first few steps in the morning",
            "terrible sleep",
            "a sore throat",
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
    fn phrases_match_on_word_boundaries_only() {
        assert!(contains_words("i feel sick, really", "feel sick"));
        assert!(contains_words("so tired.sick as well", "sick"));
        assert!(contains_words("sick", "sick"));
        assert!(!contains_words("homesick", "sick"));
        assert!(!contains_words("sickness", "sick"));
        // A first occurrence inside a word does not hide a later one on boundaries.
        assert!(contains_words("homesick and sick", "sick"));
        assert!(contains_words("xab ab ab", "ab ab"));
        assert!(contains_words("café sick", "sick"));
        assert!(!contains_words("café", "caf"));
    }

    #[test]
    fn a_phrasing_is_cut_out_of_a_clause_on_word_boundaries_only() {
        assert_eq!(
            without_words("raped after eating grapes", "raped"),
            "  after eating grapes"
        );
        assert_eq!(without_words("grapes and rape", "rape"), "grapes and  ");
        assert_eq!(without_words("ab ab ab", "ab ab"), "  ab");
        assert_eq!(without_words("homesick", "sick"), "homesick");
    }
}
