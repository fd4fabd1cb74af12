//! Findings read from a sentence by rule, where the model misses or misreads them
//! ([`READERS`]): more tablets said taken than the most a day allows ("took 24
//! paracetamol") is an overdose, and an amount of tablets gone missing ("3 are missing")
//! loosely one, but a coin or a drink swallowed is not; being sick counted ("been sick
//! twice") is vomiting; an age under 3 months ("my 6 week old") is a young baby; and a
//! reliever inhaler said not to help, a swallowed battery or magnet, a burn bigger than
//! a hand, a cut said deep or gaping, a limb hurt in a fall, a twist or a knock ("I fell
//! on my wrist"), a baby moving less in the womb, testicle pain or confusion said to
//! have come on suddenly, hearing lost suddenly or overnight (with no pain said beside
//! it, as an ear infection found on waking has), a pain eased by eating, chest pain that
//! exertion brings on and rest takes away or that rest does not ease, a fever of 5 days,
//! a sugar said not to come up after treatment and a limb lain or slept on and numb ("I
//! fell asleep on my arm and now it's numb") are read likewise, as is bleeding in
//! pregnancy.
//!
//! Some readings take back what the model read beside them ([`TAKEN_BACK`]):
//! breathlessness said only with an exertion ("short of breath when I exercise") denies
//! it at rest, a bleeding said stopped ("it's mostly stopped now") one that won't stop;
//! a cough said only as what brings a lump out ("a bulge that pops out when I cough") is
//! no cough, a pain eating eases no chest pain eased by leaning forward, coming round on
//! the floor after a faint no fall one cannot get up from, a migraine's aura no retina's
//! flashes, a fall, or a message naming nothing of a wound, no cut, a limb lain on and
//! numb no stroke's numbness or weakness down one side, and heat said only of a limb ("my
//! knee is red, hot and swollen") no fever. Breathing, sight, speech,
//! hearing or a face said to be normal ("breathing is fine", "her face looks normal")
//! denies their failing, and a pain denied at a part ("my head doesn't hurt", "my eye is
//! red. It doesn't hurt.") that part's pain ([`pains_denied`]). "No blood" said of urine
//! or stools denies blood in them, a knock to the head denied ("she didn't bang her
//! head") a head injury, and "he hasn't been sick" vomiting.
//! A clause saying the patient is on a medicine ("I'm on tablets for my blood pressure")
//! or missed a dose ("I forgot to take my tablets") rules out what it only resembles of
//! tablets taken or saved up.

use super::clauses::{INABILITY, JOINERS, clauses};
use super::cues::{
    PAIN_RELIEF, RELIEVERS, THREE_MONTHS_DAYS, age_in_days, fails_to_help, sentence_duration_days,
};
use super::words::{contains_words, has_negation, names_any, negated_at, says_any, sentence_words};
use crate::assistant::body_sites::{self, Sites};

/// Whether a normalised text says a finding, read from its sentences.
pub(super) type Reader = fn(&str) -> bool;

/// Findings read from a sentence rather than matched to a phrasing, each with its reader:
/// said clearly whenever the reader finds it.
pub(super) const READERS: [(&str, Reader); 26] = [
    (
        "unusual_beliefs",
        believes_thoughts_or_messages_come_from_outside,
    ),
    ("side_pain_with_exercise", side_hurts_exercising),
    ("white_patches_mouth", thrush_in_the_mouth),
    ("recurring_headaches", headaches_recur),
    ("neck_pain", neck_stiff_from_posture),
    ("numb_from_pressure", limb_pressed),
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
    ("sudden_hearing_loss", hearing_lost_suddenly),
    ("pain_eased_by_eating", pain_eases_with_food),
];

/// Symptoms the model rates near sentences that say something else, and the reader that
/// tells those sentences.
pub(super) struct TakenBack {
    pub(super) symptoms: &'static [&'static str],
    pub(super) reader: Reader,
    /// Whether the reading denies the symptom, or only takes it back unsaid.
    pub(super) denies: bool,
    /// Whether a clause that said the symptom clearly stands: the reading tells what the
    /// message is about, not that the symptom is absent.
    pub(super) unless_said_clearly: bool,
    /// A symptom the model must have read too: the reading tells which of the two the
    /// message says, and says nothing without it.
    pub(super) beside: Option<&'static str>,
}

impl TakenBack {
    /// A reading that denies its symptoms unless a clause said one clearly.
    const fn denial(symptoms: &'static [&'static str], reader: Reader) -> TakenBack {
        TakenBack {
            symptoms,
            reader,
            denies: true,
            unless_said_clearly: true,
            beside: None,
        }
    }
}

pub(super) const TAKEN_BACK: [TakenBack; 25] = [
    // "No blood" says whose blood by what it is said of: "it stings when I pee. No blood."
    TakenBack::denial(&["blood_in_urine"], |text| blood_denied_in(text, &URINE)),
    TakenBack::denial(&["blood_in_stool"], |text| blood_denied_in(text, &STOOLS)),
    // "She didn't bang her head", "I didn't bang it on anything" (of a headache).
    TakenBack::denial(&["head_injury"], head_knock_denied),
    // "He hasn't been sick": in British English, has not vomited.
    TakenBack::denial(&["vomiting"], sick_denied),
    // "Breathing is fine", "her speech seems ok": a function said to be normal denies what
    // its failing would be. The model reads nothing there, or worse a symptom of the word
    // ("no problems with my breathing" a wheeze).
    TakenBack::denial(
        &["shortness_of_breath", "shortness_of_breath_at_rest"],
        |text| said_normal(text, &BREATHING_WORDS, &[]),
    ),
    TakenBack::denial(&["blurred_vision", "sudden_vision_loss"], |text| {
        said_normal(text, &SIGHT_WORDS, &[])
    }),
    TakenBack::denial(&["slurred_speech"], |text| {
        said_normal(text, &SPEECH_WORDS, &[])
    }),
    TakenBack::denial(&["face_drooping"], |text| said_normal(text, &["face"], &[])),
    TakenBack::denial(&["hearing_loss"], |text| {
        said_normal(text, &HEARING_WORDS, &[])
    }),
    // "My heartbeat is regular": the model rates it near "irregular heartbeat", a phrasing
    // of palpitations.
    TakenBack::denial(&["palpitations"], |text| {
        said_normal(text, &HEART_WORDS, &REGULAR)
    }),
    // "My periods are regular", rated near "irregular periods" (a missed period) and often
    // clearly: the reading stands over that match, unless the message speaks of lateness
    // ("regular, but I'm two weeks late").
    TakenBack {
        symptoms: &["missed_period"],
        reader: periods_said_regular,
        denies: true,
        unless_said_clearly: false,
        beside: None,
    },
    // "Someone is putting thoughts in my head" is rated near a headache.
    TakenBack {
        symptoms: &["headache"],
        reader: believes_thoughts_or_messages_come_from_outside,
        denies: false,
        unless_said_clearly: true,
        beside: None,
    },
    // "I fainted and woke up on the floor" is rated near being unable to get up off it.
    TakenBack {
        symptoms: &["cannot_get_up"],
        reader: came_round_on_the_floor,
        denies: false,
        unless_said_clearly: true,
        beside: None,
    },
    // "It eases a bit when I eat" is rated near chest pain eased by sitting forward.
    TakenBack {
        symptoms: &["chest_pain_leaning_forward"],
        reader: pain_eases_with_food,
        denies: false,
        unless_said_clearly: true,
        beside: None,
    },
    // "A pain in my side when I run" says a kidney's loin pain word for word, of a stitch.
    TakenBack {
        symptoms: &["flank_pain"],
        reader: side_hurts_exercising,
        denies: false,
        unless_said_clearly: false,
        beside: None,
    },
    // "I think my 3 month old has thrush" is rated as near vaginal thrush, and thrush in
    // the nappy area, as oral.
    TakenBack {
        symptoms: &["vaginal_itching", "nappy_area_rash"],
        reader: thrush_in_the_mouth,
        denies: false,
        unless_said_clearly: true,
        beside: None,
    },
    // "The bleeding has mostly stopped" is rated nearest a bleeding that won't stop.
    TakenBack {
        symptoms: &["heavy_bleeding_wound"],
        reader: bleeding_stopped,
        denies: true,
        unless_said_clearly: false,
        beside: None,
    },
    // "I get out of breath walking uphill" leaves breathlessness at rest unsaid, which an
    // acute attack's likelihood would then take for possible.
    TakenBack {
        symptoms: &["shortness_of_breath_at_rest"],
        reader: breathless_only_with_exertion,
        denies: true,
        unless_said_clearly: true,
        beside: Some("shortness_of_breath"),
    },
    // "A stiff neck from sleeping funny" says the meningitis sign's own words, of a neck
    // that only aches.
    TakenBack {
        symptoms: &["stiff_neck"],
        reader: neck_stiff_from_posture,
        denies: false,
        unless_said_clearly: false,
        beside: None,
    },
    // "Tingling in my thumb and first two fingers" is rated near "cut my finger", and a
    // cut taken as said ranked a deep one first, an emergency.
    TakenBack {
        symptoms: &["cut_wound"],
        reader: no_wound_named,
        denies: false,
        unless_said_clearly: true,
        beside: None,
    },
    // "I fell and hurt my knee" is rated near "grazed my knee".
    TakenBack {
        symptoms: &["cut_wound"],
        reader: fall_without_a_wound,
        denies: false,
        unless_said_clearly: true,
        beside: None,
    },
    // "Migraines with flashing lights" is rated nearest a detaching retina's flashes.
    TakenBack {
        symptoms: &["floaters_flashes"],
        reader: aura_with_a_headache,
        denies: false,
        unless_said_clearly: false,
        beside: None,
    },
    // "A bulge that pops out when I cough" is a hernia's sign: the cough is what brings
    // the lump out, and a cough taken as said ranked a cold first.
    TakenBack {
        symptoms: &["cough"],
        reader: cough_brings_out_a_lump,
        denies: false,
        unless_said_clearly: false,
        beside: None,
    },
    // "My knee is red, hot and swollen", "my elbow is hot to touch": the model rates the
    // heat near a fever, often clearly, and a fever beside a hot joint is an emergency.
    TakenBack {
        symptoms: &["fever"],
        reader: heat_only_of_a_limb,
        denies: false,
        unless_said_clearly: false,
        beside: None,
    },
    // "I fell asleep on my arm and now it's numb" is rated near a stroke's numbness and
    // weakness down one side, and near numbness around the bottom ("numb").
    TakenBack {
        symptoms: &["numbness_one_side", "arm_weakness", "saddle_numbness"],
        reader: limb_pressed,
        denies: false,
        unless_said_clearly: true,
        beside: None,
    },
];

/// Words of breathing, sight, speech, hearing, the heartbeat and periods, said to be
/// normal ([`said_normal`])…
const BREATHING_WORDS: [&str; 3] = ["breathing", "breathe", "breath"];
const SIGHT_WORDS: [&str; 5] = ["eyesight", "sight", "vision", "see", "seeing"];
const SPEECH_WORDS: [&str; 3] = ["speech", "speaking", "talking"];
const HEARING_WORDS: [&str; 2] = ["hearing", "hear"];
/// Not "heart" alone: "my heart is fine" is as often a test's result as the beat.
const HEART_WORDS: [&str; 3] = ["heartbeat", "heartbeats", "pulse"];
const PERIOD_WORDS: [&str; 4] = ["period", "periods", "cycle", "cycles"];

/// …by one of these words…
#[rustfmt::skip]
const NORMAL: [&str; 7] = ["fine", "ok", "okay", "normal", "normally", "alright", "unaffected"];

/// …or, of a beat or a cycle, this one. Not of the others: "I see regular flashes" and
/// "I hear regular ringing" would deny a loss of sight or hearing.
const REGULAR: [&str; 1] = ["regular"];

/// …after at most a few of these between ("my breathing is totally fine", "I'm breathing
/// ok", "her speech seems normal")…
#[rustfmt::skip]
const SAID_TO_BE: [&str; 16] = [
    "is", "are", "was", "seems", "seem", "looks", "look", "sounds", "sound", "feels", "feel",
    "totally", "completely", "perfectly", "absolutely", "still",
];

/// …unless a word follows that makes it normal only sometimes ("breathing is fine at rest",
/// "ok when I sit still").
#[rustfmt::skip]
const ONLY_SOMETIMES: [&str; 14] = [
    "when", "while", "if", "at", "unless", "until", "except", "apart", "most", "some",
    "sometimes", "mostly", "before", "after",
];

/// Whether a sentence says one of `function` (breathing, sight) is normal: the word, a few
/// words of being or seeming, and a word of normal (or one of `also`), with no negation or
/// inability before ("not breathing normally", "can't see ok") and nothing after that
/// limits it.
fn said_normal(text: &str, function: &[&str], also: &[&str]) -> bool {
    sentence_words(text).any(|words| {
        words.iter().enumerate().any(|(i, word)| {
            let word = word.strip_suffix("'s").unwrap_or(word);
            if !function.contains(&word)
                || negated_at(&words, i)
                || words[i.saturating_sub(2)..i]
                    .iter()
                    .any(|w| INABILITY.contains(w))
            {
                return false;
            }
            let between = words[i + 1..]
                .iter()
                .take_while(|w| SAID_TO_BE.contains(w))
                .count();
            let at = i + 1 + between;
            between <= 3
                && words
                    .get(at)
                    .is_some_and(|w| NORMAL.contains(w) || also.contains(w))
                && !negated_at(&words, at)
                && words
                    .get(at + 1)
                    .is_none_or(|w| !ONLY_SOMETIMES.contains(w))
        })
    })
}

/// Words of a period late or missed, or of a pregnancy, beside which "my periods are
/// regular" denies nothing.
#[rustfmt::skip]
const LATENESS: [&str; 7] = ["late", "missed", "skipped", "stopped", "overdue", "due", "pregnant"];

/// Whether the message says the periods are regular or normal ([`said_normal`]) and
/// nothing of one being late.
fn periods_said_regular(text: &str) -> bool {
    said_normal(text, &PERIOD_WORDS, &REGULAR) && !names_any(text, &LATENESS)
}

/// Words of urine, and of stools, that say whose blood "no blood" denies
/// ([`blood_denied_in`]).
#[rustfmt::skip]
const URINE: [&str; 10] = [
    "wee", "wees", "weeing", "pee", "pees", "peeing", "urine", "urinating", "flow", "bladder",
];
#[rustfmt::skip]
const STOOLS: [&str; 11] = [
    "poo", "poos", "pooing", "stool", "stools", "bowel", "bowels", "nappy", "diarrhoea",
    "bottom", "toilet",
];

/// Whether a sentence denies blood ("no blood", "never seen any blood in it") where it or
/// the sentence before speaks of `context` (urine, stools): "no blood in my wee or poo"
/// denies both.
fn blood_denied_in(text: &str, context: &[&str]) -> bool {
    let mut before_names = false;
    sentence_words(text).any(|words| {
        let names = names_any(&words.join(" "), context);
        let denied = words
            .iter()
            .enumerate()
            .any(|(i, w)| (*w == "blood" || *w == "bleeding") && negated_at(&words, i));
        let said_of = names || before_names;
        before_names = names;
        denied && said_of
    })
}

/// Words of knocking the head…
#[rustfmt::skip]
const KNOCKS: [&str; 8] = ["bang", "banged", "hit", "knock", "knocked", "bump", "bumped", "injure"];

/// Whether a sentence denies a knock to the head: a negation just before a word of
/// knocking, with "head" in the sentence or "it" after the knock and "head" in the
/// sentence before ("pain at the back of my head... I didn't bang it on anything").
fn head_knock_denied(text: &str) -> bool {
    let mut head_before = false;
    sentence_words(text).any(|words| {
        let head = words.contains(&"head");
        let denied = words.iter().enumerate().any(|(i, w)| {
            KNOCKS.contains(w)
                && negated_at(&words, i)
                && (head || head_before && words.get(i + 1) == Some(&"it"))
        });
        head_before = head;
        denied
    })
}

/// Whether a sentence says someone has not been sick ("he hasn't been sick", "she wasn't
/// sick", "not been sick"): not vomited.
fn sick_denied(text: &str) -> bool {
    sentence_words(text).any(|words| {
        words.iter().enumerate().any(|(i, w)| {
            *w == "sick"
                && i > 0
                && ["been", "was", "wasn't", "hasn't", "isn't"].contains(&words[i - 1])
                && negated_at(&words, i)
        })
    })
}

/// Parts of the body, and doing, whose pain a denial names ([`pains_denied`]), each with
/// the symptom that is that pain.
#[rustfmt::skip]
pub(super) const PAINS_OF_PARTS: [(&[&str], &str); 15] = [
    (&["head"], "headache"),
    (&["eye", "eyes"], "eye_pain"),
    (&["ear", "ears"], "ear_pain"),
    (&["throat"], "sore_throat"),
    (&["neck"], "neck_pain"),
    (&["tooth", "teeth"], "toothache"),
    (&["chest"], "chest_pain"),
    (&["tummy", "stomach", "belly", "abdomen", "tum"], "abdominal_pain"),
    (&["back"], "back_pain"),
    (&["testicle", "testicles", "ball", "balls"], "testicular_pain"),
    (&["shoulder"], "shoulder_pain"),
    (&["elbow"], "elbow_pain"),
    (&["heel"], "heel_pain"),
    (&["hip"], "hip_pain"),
    (&URINE, "pain_on_urination"),
];

/// Words of pain, which a negation just before denies ("doesn't hurt", "isn't sore",
/// "not really painful")…
#[rustfmt::skip]
const PAIN_DENIED: [&str; 9] = [
    "hurt", "hurts", "hurting", "sore", "painful", "pain", "ache", "aching", "tender",
];

/// …unless what follows makes the pain an injury ("didn't hurt myself", "didn't hurt my
/// head").
#[rustfmt::skip]
const HURT_WHOM: [&str; 8] = ["myself", "himself", "herself", "themselves", "my", "his", "her", "it"];

/// Words a sentence opens with that refer back to the part the sentence before named
/// ("My eye is red. It doesn't hurt.").
#[rustfmt::skip]
const REFERS_BACK: [&str; 6] = ["it", "it's", "doesn't", "isn't", "they", "they're"];

/// The pains ([`PAINS_OF_PARTS`], by index) that sentences deny at a part: a pain word
/// just after a negation, and the part named nearest before it in the sentence ("my head
/// doesn't hurt", "one of my balls has swelled up but it's not really painful"), or, when
/// the sentence names none and opens by referring back, the last part of the sentence
/// before ("My eye is red. It doesn't hurt.").
pub(super) fn pains_denied(text: &str) -> Vec<usize> {
    let mut denied = Vec::new();
    // The pain of the last part the sentence before named, if that part has one here.
    let mut last_part = None;
    for words in sentence_words(text) {
        let word_at = |i: usize| words[i].strip_suffix("'s").unwrap_or(words[i]);
        let pain_at = |i: usize| {
            let word = word_at(i);
            PAINS_OF_PARTS.iter().position(|(parts, _)| {
                parts.contains(&word)
                    // "Back" is the body's only after "my", "lower"…, as body_sites reads it:
                    // "it came back" names no back.
                    && (word != "back"
                        || i > 0 && !Sites::named_in(&words[i - 1..=i].join(" ")).is_empty())
            })
        };
        // The nearest part named before `i`: one with no pain here ("my knee doesn't
        // hurt") denies none, rather than one named further back ("my head is pounding").
        let nearest_before = |i: usize| {
            (0..i)
                .rev()
                .find(|&j| pain_at(j).is_some() || !Sites::named_in(word_at(j)).is_empty())
                .map(pain_at)
        };
        let refers_back = words.first().is_some_and(|w| REFERS_BACK.contains(w));
        for (i, word) in words.iter().enumerate() {
            let injury = words.get(i + 1).is_some_and(|w| HURT_WHOM.contains(w));
            // "Without" after an inability says the pain: "I can't move without it hurting".
            let negated = words[i.saturating_sub(3)..i]
                .iter()
                .any(|w| *w != "without" && has_negation(w));
            if !PAIN_DENIED.contains(word) || !negated || injury {
                continue;
            }
            let part = match nearest_before(i) {
                Some(named) => named,
                None if refers_back => last_part,
                None => None,
            };
            denied.extend(part);
        }
        if let Some(named) = nearest_before(words.len()) {
            last_part = named;
        }
    }
    denied
}

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

/// …and of hearing lost, a word of which is "deaf" or "deafness", or "hear" or "hearing"
/// after a word of not being able to ([`INABILITY`], "barely", "hardly") or of losing, or
/// before one of its going ([`HEARING_GONE`]): the NHS has hearing lost suddenly seen
/// within a day (NICE NG98: steroids help only early).
const DEAF: [&str; 2] = ["deaf", "deafness"];

#[rustfmt::skip]
const HEARING_GONE: [&str; 8] = [
    "gone", "went", "lost", "muffled", "dull", "dulled", "reduced", "worse",
];

/// Words of waking: hearing lost "when I woke up" went while asleep
/// ([`hearing_lost_suddenly`]), and one who "woke up on the floor" had been out
/// ([`came_round_on_the_floor`]).
const WAKING: [&str; 4] = ["woke", "woken", "waking", "awoke"];

/// Words of bleeding having stopped ([`bleeding_stopped`]); "stop" and "stopping" are
/// more often of its not stopping ("won't stop", "not stopping").
const STOPPED: [&str; 5] = ["stopped", "stops", "eased", "slowed", "settled"];

/// Words of a graze, a cut's lesser kind, which a fall may bring ([`limb_injured`]).
const GRAZES: [&str; 4] = ["graze", "grazed", "grazes", "scraped"];

/// Words of a neck gone stiff ([`neck_stiff_from_posture`])…
const STIFF: [&str; 4] = ["stiff", "stiffness", "crick", "cricked"];

/// …of how it was held or strained…
#[rustfmt::skip]
const POSTURES: [&str; 15] = [
    "slept", "sleeping", "pillow", "awkward", "awkwardly", "funny", "desk", "computer",
    "laptop", "phone", "posture", "hunching", "hunched", "driving", "draught",
];

/// …and the signs of meningitis beside a stiff neck (the NHS's "Meningitis"), with a
/// fever, that keep it the meningitis sign whatever else is said.
#[rustfmt::skip]
const MENINGITIS_SIGNS: [&str; 14] = [
    "rash", "spots", "light", "lights", "vomiting", "sick", "drowsy", "confused", "confusion",
    "fit", "seizure", "headache", "purple", "blotchy",
];

/// Words of what cuts, tears, pierces or bites the skin ([`no_wound_named`]).
#[rustfmt::skip]
const WOUNDING: [&str; 25] = [
    "knife", "glass", "blade", "razor", "scissors", "nail", "stabbed", "stab", "sharp",
    "bit", "bite", "bitten", "tore", "torn", "ripped", "split", "open", "skin", "caught",
    "puncture", "punctured", "pierced", "tin", "broken", "smashed",
];

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

/// Words of a migraine or a headache ([`aura_with_a_headache`], [`headaches_recur`])…
#[rustfmt::skip]
const HEADACHES: [&str; 4] = ["migraine", "migraines", "headache", "headaches"];

/// …said with lights or lines seen…
#[rustfmt::skip]
const AURA_SIGHTS: [&str; 7] = ["flashing", "flashes", "flickering", "zigzag", "zigzags", "shimmering", "sparkles"];

/// …and none of a detaching retina's own signs (the NHS's: floaters, a shadow or curtain).
#[rustfmt::skip]
const RETINA_SIGNS: [&str; 5] = ["floaters", "floater", "curtain", "shadow", "cobwebs"];

/// Phrases that say headaches ([`HEADACHES`]) keep coming back ([`headaches_recur`])…
#[rustfmt::skip]
const RECURRING: [&str; 22] = [
    "every day", "every morning", "every afternoon", "every evening", "every night",
    "every week", "every few days", "most days", "most mornings", "daily", "all the time",
    "keep getting", "keeps coming back", "keep coming back", "comes back", "coming back",
    "times a week", "days a week", "regularly", "frequent", "recurring", "again and again",
];

/// …or by getting or suffering them, said of them in the plural ("I get migraines").
const HABITUAL: [&str; 4] = ["get", "getting", "suffer", "prone"];

/// How many words after [`HABITUAL`]'s may name the headaches ("I get really bad
/// headaches").
const HABITUAL_REACH: usize = 4;

/// Words of easing ([`pain_eases_with_food`])…
#[rustfmt::skip]
const EASING: [&str; 10] = [
    "eases", "eased", "easing", "better", "settles", "settled", "relieves", "relieved", "helps",
    "soothes",
];

/// …by eating…
const EATING: [&str; 7] = ["eat", "eating", "ate", "eaten", "food", "meal", "meals"];

/// …said within this many words after the easing ("it eases a bit when i eat").
const EASED_BY_REACH: usize = 6;

/// …and of pain as a stomach's is described.
const GNAWING: [&str; 3] = ["gnawing", "burning", "discomfort"];

/// Words of pain ([`side_hurts_exercising`], [`hearing_lost_suddenly`])…
#[rustfmt::skip]
const HURTING: [&str; 10] = [
    "pain", "pains", "painful", "ache", "aches", "aching", "hurts", "hurt", "hurting", "sore",
];

/// …of running or other exercise…
#[rustfmt::skip]
const EXERCISING: [&str; 16] = [
    "run", "runs", "running", "ran", "jog", "jogging", "sprint", "sprinting", "exercise",
    "exercising", "swim", "swimming", "cycling", "football", "training", "workout",
];

/// …and of while, said just before them ("when I run", "during my run").
const WHILE: [&str; 5] = ["when", "while", "whilst", "whenever", "during"];

/// How many words before [`EXERCISING`]'s [`WHILE`]'s may be.
const WHILE_REACH: usize = 3;

/// Words of the mind ([`believes_thoughts_or_messages_come_from_outside`])…
const MIND: [&str; 3] = ["thoughts", "thought", "mind"];

/// …of doing something to it from outside: putting thoughts in, taking them out,
/// controlling, reading or hearing them…
#[rustfmt::skip]
const INTERFERING: [&str; 30] = [
    "putting", "put", "puts", "inserting", "inserted", "planting", "planted", "stealing",
    "stole", "stolen", "taking", "taken", "removing", "removed", "controlling",
    "controlled", "control", "controls", "reading", "read", "reads", "broadcasting",
    "broadcast", "hear", "hearing", "hears", "listening", "listen", "hacking", "hacked",
];

/// …by others, or in the passive, "being" just before ("my thoughts are being read")…
#[rustfmt::skip]
const OTHERS: [&str; 15] = [
    "someone", "somebody", "they", "they're", "people", "everyone", "everybody", "others",
    "neighbours", "neighbour", "government", "aliens", "police", "he's", "she's",
];

/// …except in the idioms of calm ("the nurse put my mind at rest"), distraction
/// ("they're taking my mind off it") and sympathy ("thoughts and prayers").
const MIND_IDIOMS: [&str; 4] = [
    "mind at rest",
    "mind at ease",
    "mind off",
    "thoughts and prayers",
];

/// Words of broadcasting, which a belief holds to be speaking to the patient…
#[rustfmt::skip]
const MEDIA: [&str; 9] = [
    "tv", "television", "telly", "radio", "newspaper", "newspapers", "adverts", "news",
    "programmes",
];

/// …in these words, within [`MEDIA_REACH`] words after them ("the radio is talking about
/// me", "the tv is sending me messages").
#[rustfmt::skip]
const MEANT_FOR_ME: [&str; 9] = [
    "talking about me", "talking to me", "speaking to me", "speaking about me", "sending me",
    "messages for me", "signals for me", "signs for me", "messages meant for me",
];

const MEDIA_REACH: usize = 6;

/// Words of a baby or of the mouth, with which thrush is the mouth's
/// ([`thrush_in_the_mouth`])…
#[rustfmt::skip]
const BABY_OR_MOUTH: [&str; 10] = [
    "baby", "baby's", "newborn", "infant", "mouth", "tongue", "gums", "cheeks", "dummy",
    "feeding",
];

/// …or of an age under 2 years, in days…
const THRUSH_BABY_DAYS: f32 = 730.0;

/// …unless the message speaks of the genitals or a nappy, where thrush is too.
#[rustfmt::skip]
const THRUSH_ELSEWHERE: [&str; 9] = [
    "vagina", "vaginal", "below", "genital", "genitals", "penis", "nappy", "discharge",
    "itchy",
];

/// Words of lying, sleeping, sitting or leaning on something ([`limb_pressed`])…
#[rustfmt::skip]
const PRESSING: [&str; 14] = [
    "slept", "sleeping", "asleep", "lay", "lying", "laid", "lain", "sat", "sitting", "leaning",
    "leant", "leaned", "kneeling", "knelt",
];

/// …how far after them the limb may be named ("lying on my left arm")…
const PRESSED_REACH: usize = 4;

/// …words of a limb going to sleep ("went to sleep", "fell asleep")…
#[rustfmt::skip]
const GONE: [&str; 9] = [
    "went", "gone", "goes", "go", "going", "fell", "falls", "fallen", "falling",
];

/// …and of the numbness the pressure leaves.
#[rustfmt::skip]
const NUMB: [&str; 7] = ["numb", "numbness", "tingling", "tingly", "tingles", "dead", "pins"];

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

/// Medicines counted in a sentence that says they were taken ("took 24 paracetamol",
/// "swallowed 16 tablets of co-codamol"), besides [`PAIN_RELIEF`]…
pub(super) const MEDICINES: [&str; 9] = [
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

/// Whether a sentence says more tablets were taken than the most a day allows ("I took
/// about 24 paracetamol"), with no negation before the count ("I didn't take 20"); one
/// after it says something else ("took 30 paracetamol and I don't feel any different").
pub(super) fn counts_an_overdose(text: &str) -> bool {
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
pub(super) fn on_regular_medicine(clause: &str) -> bool {
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
pub(super) fn medicine_missed(clause: &str) -> bool {
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
pub(super) fn bleeding_in_pregnancy(text: &str) -> Option<bool> {
    let pregnant = sentence_words(text).any(|words| says_any(&words, &PREGNANCY));
    let womb = Sites::named_in(WOMB_PARTS);
    let bleeding = sentence_words(text).find(|words| {
        says_any(words, &BLEEDING)
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
        && words
            .iter()
            .any(|words| words.iter().any(|w| names_bleeding(w)) && says_any(words, &STOPPED))
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
        && sentence_words(text)
            .any(|words| says_any(&words, &HEADACHES) && says_any(&words, &AURA_SIGHTS))
}

/// Whether a sentence says the side hurts, or a stitch comes, while running or exercising
/// ("I get a pain in my side when I run", "a stitch during my run"): a stitch, which the
/// loin pain phrasing "pain in my side" reads as a kidney's. Not "pain in my side, and I
/// ran a temperature", "I can't run because of the pain in my side", nor with a negation
/// just before the exercise or its while ("it doesn't hurt when I run").
fn side_hurts_exercising(text: &str) -> bool {
    sentence_words(text).any(|words| {
        let exercising = words.iter().enumerate().any(|(i, w)| {
            let from = i.saturating_sub(WHILE_REACH);
            EXERCISING.contains(w)
                && !negated_at(&words, i)
                && (from..i).any(|j| WHILE.contains(&words[j]) && !negated_at(&words, j))
        });
        exercising
            && (says_any(&words, &["stitch"])
                || (words.contains(&"side") && says_any(&words, &HURTING)))
    })
}

/// Whether a sentence says a pain eases with food: an easing word with no negation just
/// before it, and a word of eating just before it ("eating helps") or a few words after
/// it with no "worse" between ("it eases a bit when i eat", "better after a meal"). Not
/// "worse after eating, better lying down", nor "eating doesn't help".
fn pain_eases_with_food(text: &str) -> bool {
    sentence_words(text).any(|words| {
        let pain = says_any(&words, &HURTING) || words.iter().any(|w| GNAWING.contains(w));
        pain && (0..words.len()).any(|i| {
            let by_eating_after = || {
                words[i + 1..(i + 1 + EASED_BY_REACH).min(words.len())]
                    .iter()
                    .take_while(|w| **w != "worse")
                    .any(|w| EATING.contains(w))
            };
            let by_eating_before = i > 0 && EATING.contains(&words[i - 1]);
            EASING.contains(&words[i])
                && !negated_at(&words, i)
                && (by_eating_before || by_eating_after())
        })
    })
}

/// Whether a sentence says the patient came round on the floor ("fainted and woke up on
/// the floor", "came to on the kitchen floor") and nothing of being unable to get up or
/// stuck there: how a faint ends, not a fall an older person cannot get up from.
fn came_round_on_the_floor(text: &str) -> bool {
    sentence_words(text).any(|words| {
        let came_round = |i: usize| {
            WAKING.contains(&words[i])
                || matches!(words[i], "came" | "come")
                    && matches!(words.get(i + 1), Some(&("round" | "around" | "to")))
        };
        let floor = words.iter().position(|w| *w == "floor");
        floor.is_some_and(|at| (0..at).any(came_round))
            && !words.iter().any(|w| INABILITY.contains(w) || *w == "stuck")
    })
}

/// Whether a sentence names thrush with a baby or the mouth ("my baby has thrush", "I
/// think it's thrush on her tongue"), or the message gives an age under 2 ("I think my 3
/// month old has thrush"), and it speaks of no other place thrush grows
/// ([`THRUSH_ELSEWHERE`]): oral thrush, which the word alone does not place (the model
/// rates "thrush" as near vaginal thrush as oral).
fn thrush_in_the_mouth(text: &str) -> bool {
    let a_baby = age_in_days(text).is_some_and(|days| days < THRUSH_BABY_DAYS);
    !names_any(text, &THRUSH_ELSEWHERE)
        && sentence_words(text).any(|words| {
            says_any(&words, &["thrush"])
                && (a_baby || words.iter().any(|w| BABY_OR_MOUTH.contains(w)))
        })
}

/// Whether a sentence says headaches or migraines keep coming back ("I get a headache
/// every afternoon", "I've been getting headaches most days", "I suffer from migraines"):
/// a headache that recurs, which no cold or flu gives, while the model reads only the
/// headache and ranks a cold first by its prior. Not "I've got a headache", "I don't
/// usually get headaches", nor "I'm getting a headache".
fn headaches_recur(text: &str) -> bool {
    sentence_words(text).any(|words| {
        let recurring = RECURRING.iter().any(|phrase| {
            let phrase: Vec<&str> = phrase.split(' ').collect();
            words
                .windows(phrase.len())
                .enumerate()
                .any(|(i, window)| window == phrase.as_slice() && !negated_at(&words, i))
        });
        let habitual = words.iter().enumerate().any(|(i, w)| {
            HABITUAL.contains(w)
                && !negated_at(&words, i)
                && words[i + 1..words.len().min(i + 1 + HABITUAL_REACH)]
                    .iter()
                    .any(|w| matches!(*w, "headaches" | "migraines"))
        });
        says_any(&words, &HEADACHES) && (recurring || habitual)
    })
}

/// Whether a sentence says others put thoughts into the patient's mind, take them out,
/// control, read or hear them ("someone is putting thoughts in my head", "my thoughts
/// are being controlled", "people can read my mind"), or that the television or radio
/// speaks to them ("the radio is talking about me"): the delusions of psychosis
/// (Schneider's first-rank symptoms), which the model rates as near any sentence with
/// "thoughts" in it ("my head is full of thoughts") as near their phrasings. Not "I
/// can't control my thoughts", "the nurse put my mind at rest", nor "the tv was on and
/// my son was talking to me".
fn believes_thoughts_or_messages_come_from_outside(text: &str) -> bool {
    // Strings are joined only for the sentences the word checks leave: readers run on
    // every message.
    sentence_words(text).any(|words| {
        let passive = words
            .windows(2)
            .any(|w| w[0] == "being" && INTERFERING.contains(&w[1]));
        let interfered = says_any(&words, &MIND)
            && says_any(&words, &INTERFERING)
            && (passive || words.iter().any(|w| OTHERS.contains(w)))
            && {
                let sentence = words.join(" ");
                !MIND_IDIOMS
                    .iter()
                    .any(|idiom| contains_words(&sentence, idiom))
            };
        let spoken_to = || {
            words.iter().enumerate().any(|(i, w)| {
                MEDIA.contains(w) && !negated_at(&words, i) && {
                    let reach = words[i..words.len().min(i + 1 + MEDIA_REACH)].join(" ");
                    MEANT_FOR_ME
                        .iter()
                        .any(|phrase| contains_words(&reach, phrase))
                }
            })
        };
        interfered || spoken_to()
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

/// Whether a sentence says the neck is stiff or cricked from how it was held ("a stiff
/// neck from sleeping funny", "I slept awkwardly and cricked my neck", "stiff neck from
/// hunching over my laptop"), and the message names none of meningitis's other signs
/// ([`MENINGITIS_SIGNS`]): the NHS's common neck pain, which the meningitis sign's
/// phrasing ("stiff neck") would otherwise read.
fn neck_stiff_from_posture(text: &str) -> bool {
    !names_any(text, &MENINGITIS_SIGNS)
        && !names_any(text, &FEVER_WORDS)
        && sentence_words(text).any(|words| {
            words.contains(&"neck") && says_any(&words, &STIFF) && says_any(&words, &POSTURES)
        })
}

/// Whether the text names nothing a wound is told by: no cut or graze ([`CUTS`],
/// [`GRAZES`]), no bleeding ([`BLEEDING`]), and nothing that cuts, tears or bites
/// ([`WOUNDING`]).
fn no_wound_named(text: &str) -> bool {
    ![&CUTS[..], &GRAZES, &BLEEDING, &WOUNDING]
        .iter()
        .any(|words| names_any(text, words))
}

/// Whether a limb was hurt in a fall ([`limb_injured`]) and no cut or graze is said: no
/// wound, though one may be asked about.
fn fall_without_a_wound(text: &str) -> bool {
    limb_injured(text) && !names_any(text, &CUTS) && !names_any(text, &GRAZES)
}

/// Whether a sentence says a limb was lain, slept, sat or leant on ("I fell asleep on my
/// arm", "I was lying on my left arm") and the message says it is numb or tingling, or
/// says a limb has gone to sleep ("my leg went to sleep", "my foot fell asleep"): pressure
/// on a nerve, whose numbness the model rates near a stroke's. Not "I fell asleep on the
/// sofa", nor with a negation just before ("I haven't been lying on it").
fn limb_pressed(text: &str) -> bool {
    let numb = names_any(text, &NUMB);
    sentence_words(text).any(|words| {
        let a_limb = |words: &[&str]| Sites::named_in(&words.join(" ")).names_a_limb();
        words.iter().enumerate().any(|(i, w)| {
            let after = &words[i + 1..words.len().min(i + 1 + PRESSED_REACH)];
            let lain_on =
                numb && PRESSING.contains(w) && after.first() == Some(&"on") && a_limb(after);
            // "fell asleep", "went to sleep"
            let gone = |back: usize| i >= back && GONE.contains(&words[i - back]);
            let gone_to_sleep = (*w == "asleep" && gone(1))
                || (*w == "sleep" && i >= 1 && words[i - 1] == "to" && gone(2));
            (lain_on || (gone_to_sleep && a_limb(&words[..i]))) && !negated_at(&words, i)
        })
    })
}

/// Words of heat: said of a limb ("a hot knee") its own inflammation, of the body or a
/// child ("he's hot", "I feel hot") a fever…
const HEAT: [&str; 2] = ["hot", "warm"];
/// …which these say whatever else is hot ("hot and shivery"), as a word of a fever
/// ([`FEVER_WORDS`]) does.
const SHIVERS: [&str; 5] = ["shivery", "shivering", "shivers", "chills", "sweats"];

/// Whether every heat the message speaks of is a limb's: the clause saying it names an
/// arm, a leg or a foot, or takes the part of the clause it continues or refers back to
/// ("my ankle went red, hot and swollen", "my knee is swollen and it's hot"); and no word
/// of a fever is said anywhere.
fn heat_only_of_a_limb(text: &str) -> bool {
    if names_any(text, &FEVER_WORDS) || names_any(text, &SHIVERS) {
        return false;
    }
    let clauses = clauses(text);
    let sites = body_sites::of_clauses(
        Sites::default(),
        clauses.iter().map(|c| (c.text.as_str(), c.continues)),
    );
    let mut heat = clauses
        .iter()
        .zip(sites)
        .filter(|(c, _)| names_any(&c.text, &HEAT))
        .peekable();
    heat.peek().is_some() && heat.all(|(_, site)| site.names_a_limb())
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
pub(super) fn swallowed_an_object(text: &str) -> bool {
    says_swallowed(text, &SWALLOWED_OBJECTS, &["swallowed"]) && !swallowed_battery_or_magnet(text)
}

/// Whether a sentence says something sharp was swallowed ("I think he swallowed a drawing
/// pin"), as [`swallowed_an_object`] reads a coin.
pub(super) fn swallowed_something_sharp(text: &str) -> bool {
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
pub(super) fn swallowed_food_or_drink(text: &str) -> bool {
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

/// Whether a sentence says hearing was lost ([`DEAF`]) suddenly ("my hearing suddenly went")
/// or overnight ("woke up and can barely hear out of my left ear"), the latter with no
/// pain said beside it.
fn hearing_lost_suddenly(text: &str) -> bool {
    sentence_words(text).any(|words| {
        let lost = (0..words.len()).any(|i| match words[i] {
            w if DEAF.contains(&w) => !negated_at(&words, i),
            "hear" | "hearing" => {
                let before = &words[i.saturating_sub(3)..i];
                let after = &words[i + 1..(i + 4).min(words.len())];
                before
                    .iter()
                    .any(|w| INABILITY.contains(w) || ["barely", "hardly", "lost"].contains(w))
                    || after.iter().any(|w| HEARING_GONE.contains(w))
            }
            _ => false,
        });
        let sudden =
            || (0..words.len()).any(|i| SUDDEN.contains(&words[i]) && !negated_at(&words, i));
        // Hearing muffled on waking with pain is an ear infection's as often.
        let on_waking = || {
            words
                .iter()
                .any(|w| WAKING.contains(w) || *w == "overnight")
                && !(says_any(&words, &HURTING) || says_any(&words, &["earache"]))
        };
        lost && (sudden() || on_waking())
    })
}

/// Whether `word` names tablets or a medicine ([`MEDICINES`], [`PAIN_RELIEF`]).
fn names_a_medicine(word: &str) -> bool {
    MEDICINES.contains(&word) || PAIN_RELIEF.contains(&word)
}

/// Whether a sentence says an amount of tablets has gone missing ("found my 2 year old
/// with my mum's tablets, the packet was open and I think 3 are missing"), with no
/// negation before it ("none are missing").
pub(super) fn tablets_gone_missing(text: &str) -> bool {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::assistant::extract::words::normalise;

    #[test]
    fn what_sentences_say_is_read_and_their_lookalikes_are_not() {
        let readers: [(Reader, &[&str], &[&str]); 30] = [
            (
                heat_only_of_a_limb,
                &[
                    "my ankle went red, hot and swollen overnight",
                    "my elbow is swollen and hot to touch",
                    "the skin on my shin is warm and tender",
                    "my knee is red hot and swollen. it hurts to walk",
                ],
                &[
                    "my knee is swollen and i feel hot",
                    "my knee is swollen. he is hot to touch",
                    "my baby is hot to touch",
                    "my knee is hot and swollen and i feel hot and shivery",
                    "my toe is red and hot and i've got a temperature",
                    "my knee is swollen",
                ],
            ),
            (
                believes_thoughts_or_messages_come_from_outside,
                &[
                    "someone is putting thoughts in my head",
                    "someone is putting thoughts in my head and it's put me off my food",
                    "my thoughts are being controlled",
                    "people can read my mind",
                    "i think the government is reading my mind",
                    "the radio is talking about me",
                    "the tv keeps sending me messages",
                ],
                &[
                    "i can't control my thoughts",
                    "the nurse put my mind at rest",
                    "they're taking my mind off it",
                    "the tv was on and my son was talking to me",
                    "my head is full of thoughts",
                    "i heard about it on the news",
                    "i read that my thoughts can affect my mood",
                    "i'm being sent for a scan and my mind is racing",
                    "people keep sending me their thoughts and prayers",
                    "my son is watching tv next to me",
                ],
            ),
            (
                on_regular_medicine,
                &[
                    "i'm on tablets for my blood pressure",
                    "she's on blood pressure meds",
                    "on my pills",
                    "taken my usual tablets",
                    "she's had her regular meds",
                ],
                &[
                    "it came on after taking tablets",
                    "i'm going to take all my tablets",
                    "on purpose i took all my pills",
                    "i'm on my own",
                    "took all my usual tablets",
                    "i've taken double my normal pills",
                ],
            ),
            (
                medicine_missed,
                &[
                    "i forgot to take my tablets this morning",
                    "i've run out of my blood pressure tablets",
                    "i missed my pills yesterday",
                    "she's been without her meds for a week",
                ],
                &[
                    "i've been saving up my tablets",
                    "i forgot i'd taken them and took a double dose of my tablets",
                    "i took all my pills",
                    "my tablets ran out and i took too many of my husband's pills",
                ],
            ),
            (
                counts_an_overdose,
                &[
                    "i took about 24 paracetamol about 3 hours ago",
                    "she's swallowed 16 tablets of co codamol",
                    "he has taken 30 of his sleeping pills",
                    "i took 30 paracetamol and i don't feel any different",
                ],
                &[
                    "i took 2 paracetamol for my headache",
                    "i took 1000 mg of paracetamol",
                    "i didn't take 20 tablets, only 2",
                    "my 12 year old took paracetamol",
                    "we have 20 tablets in the cupboard",
                ],
            ),
            (
                tablets_gone_missing,
                &[
                    "just found my toddler with my mums blood pressure tablets, the packet was open \
                     and i think 3 are missing",
                    "some of my pills have gone and my son was playing with the box",
                ],
                &[
                    "i counted the tablets and none are missing",
                    "my prescription has gone missing",
                    "my headache has gone since i took 2 paracetamol",
                    "i took 2 paracetamol and my headache has gone",
                    "3 of my socks are missing",
                ],
            ),
            (
                larger_than_a_hand,
                &[
                    "I burned my arm badly, it's blistering and bigger than my hand",
                    "The scald on her leg is larger than her hand",
                ],
                &[
                    "A bruise bigger than my hand. I burnt my finger last week, it's fine",
                    "I burnt my finger, it's a small burn",
                ],
            ),
            (
                baby_moves_less,
                &[
                    "I'm 32 weeks pregnant and the baby hasn't moved as much today",
                    "I haven't felt the baby move since yesterday",
                    "The baby's kicks have slowed down",
                    "Reduced movements from the baby this evening",
                ],
                &[
                    "The baby is moving a lot, not worried about that",
                    "I can't move my leg. My baby is fine",
                    "I was moving furniture and hurt my back",
                ],
            ),
            (
                says_under_3_months,
                &[
                    "my 6 week old has a temperature",
                    "she's ten days old",
                    "our 2-month-old is hot",
                    "baby aged 12 weeks, feels hot",
                    "a week old and not feeding",
                    "our newborn is very hot",
                ],
                &[
                    "my 3 month old has a temperature",
                    "my 13 week old is hot",
                    "my 6 month old has a fever",
                    "I'm 10 weeks pregnant",
                    "it started 2 weeks ago",
                    "he's 2 years old",
                ],
            ),
            (
                eases_with_rest,
                &[
                    "a heavy feeling in my chest when I walk uphill that goes away when I rest",
                    "tight chest on the stairs, it settles if I sit down for a bit",
                    "chest pain when I go to the gym. It eases after I stop.",
                ],
                &[
                    "chest pain while walking the dog, it doesn't go away when I rest",
                    "chest pain that won't ease even sitting down, started on the stairs",
                    "my calves ache when I walk and it goes off when I rest",
                    "chest pain that goes away when I rest",
                ],
            ),
            (
                not_eased_by_rest,
                &[
                    "chest pain while walking the dog, it doesn't go away when I rest",
                    "chest pain that won't ease even sitting down",
                ],
                &[
                    "a heavy feeling in my chest when I walk uphill that goes away when I rest",
                    "chest infection and breathless even at rest",
                    "sharp chest pain when I breathe in, even at rest",
                    "my calves ache and it doesn't go when I rest",
                ],
            ),
            (
                fever_lasting_5_days,
                &[
                    "I have had a fever of 39 for 5 days",
                    "temperature on and off for a week",
                    "for the last 6 days she's had a temp",
                ],
                &[
                    "a fever for 3 days",
                    "a cough for a week and a fever since yesterday",
                    "I haven't had a temperature for 5 days now",
                    "a fever 6 weeks ago",
                ],
            ),
            (
                sugar_not_coming_up,
                &[
                    "i've had glucose tablets twice and my sugar is still low",
                    "her bm isn't coming up",
                ],
                &[
                    "my temperature is still low",
                    "i had a hypo and it came up after juice",
                ],
            ),
            (
                neck_stiff_from_posture,
                &[
                    "i've got a stiff neck from sleeping on a new pillow",
                    "sat at my desk all week and now my neck is stiff",
                ],
                &[
                    "my neck is stiff",
                    "stiff neck from sleeping funny and a temperature of 39",
                    "i slept badly, stiff neck and a rash on my legs",
                    "my back is stiff from sitting at my desk",
                ],
            ),
            (
                side_hurts_exercising,
                &[
                    "i get a pain in my side when i run",
                    "a stitch during my run",
                    "my left side aches whenever i go jogging",
                ],
                &[
                    "pain in my side, and i ran a temperature",
                    "i can't run because of the pain in my side",
                    "pain in my side but it doesn't hurt when i run",
                    "my side hurts when i pee",
                ],
            ),
            (
                thrush_in_the_mouth,
                &[
                    "my baby has thrush",
                    "i think it's thrush on her tongue",
                    "white patches in my mouth, the pharmacist said thrush",
                    "i think my 3 month old has thrush",
                ],
                &[
                    "my baby has thrush in the nappy area",
                    "i've got thrush, itchy down below",
                    "my baby has white patches on her tongue",
                    "it's not thrush, my baby has a rash",
                    "i have thrush, and my 3 year old has a cold",
                ],
            ),
            (
                headaches_recur,
                &[
                    "i get a headache every afternoon",
                    "i've been getting headaches most days",
                    "i suffer from migraines",
                    "my headache keeps coming back",
                ],
                &[
                    "i've got a headache",
                    "i don't usually get headaches",
                    "i'm getting a headache",
                    "i feel sick every morning and my back hurts",
                    "the headache hasn't come back",
                ],
            ),
            (
                limb_pressed,
                &[
                    "i fell asleep on my arm and now it's numb",
                    "i was lying on my left arm and now my hand is tingling",
                    "my leg went to sleep",
                    "my foot has fallen asleep",
                ],
                &[
                    "i fell asleep on the sofa and now my arm is numb",
                    "i slept on my arm and now my shoulder aches",
                    "i haven't been lying on my arm but it's numb",
                    "i can't sleep and my arm is numb",
                    "my baby fell asleep on my arm",
                ],
            ),
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
    fn hearing_lost_suddenly_or_overnight_is_read_and_pain_on_waking_or_a_ringing_is_not() {
        for said in [
            "My hearing suddenly went in my right ear.",
            "Woke up deaf in one ear.",
            "I woke up this morning and can't hear out of my left ear, no pain.",
            "Overnight my hearing has gone muffled on the left.",
        ] {
            assert!(hearing_lost_suddenly(&normalise(said)), "{said}");
        }
        for said in [
            "I woke up with earache and my hearing is muffled.",
            "Woke up and could hear a loud ringing.",
            "My hearing has got slowly worse over the years.",
            "I woke up with a sore throat. I can't hear well on the phone.",
            "It wasn't sudden, I just can't hear as well as I used to.",
        ] {
            assert!(!hearing_lost_suddenly(&normalise(said)), "{said}");
        }
    }

    #[test]
    fn a_pain_eased_by_food_is_read_and_one_food_worsens_is_not() {
        for said in [
            "Gnawing pain in my upper tummy, it eases a bit when I eat.",
            "The burning is better after a meal then comes back.",
            "My stomach pain goes off for a while, eating helps.",
        ] {
            assert!(pain_eases_with_food(&normalise(said)), "{said}");
        }
        for said in [
            "The pain is worse after eating and better lying down.",
            "My stomach hurts and eating doesn't help.",
            "The pain doesn't get better when I eat.",
            "I feel shaky and sweaty, better once I eat something.",
            "Pain after eating fatty food. Gaviscon helps.",
        ] {
            assert!(!pain_eases_with_food(&normalise(said)), "{said}");
        }
    }

    #[test]
    fn coming_round_on_the_floor_is_read_and_being_stuck_there_is_not() {
        for said in [
            "I fainted and woke up on the floor a few seconds later.",
            "She came round on the bathroom floor.",
        ] {
            assert!(came_round_on_the_floor(&normalise(said)), "{said}");
        }
        for said in [
            "He fell and woke up on the floor and couldn't get up.",
            "Mum has been on the floor since last night, stuck.",
            "Woke up with a headache. I mopped the floor.",
        ] {
            assert!(!came_round_on_the_floor(&normalise(said)), "{said}");
        }
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
}
