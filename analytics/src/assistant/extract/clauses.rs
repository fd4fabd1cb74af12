//! A normalised text cut into clauses, and whether a negation or an ability governs each.
//! A clause after a negation cue ("no fever", "haven't been sick", "without a rash")
//! reports absent symptoms until a contrast ("but"), a comma that does not continue a
//! list, or the sentence's end, as in NegEx (Chapman et al., 2001). A clause ending "is
//! fine" or "normally" reports its symptom absent too; "haven't been able to pee" is an
//! inability, not an absence; and a negation that says a remedy is not helping ("isn't
//! helping my back pain") denies nothing after it, NegEx's pseudo-negation. A clause about
//! a relative is read without its subject ("my son clashed heads" as "clashed heads"),
//! since the phrasings are in the first person. A clause that only says where, that the
//! patient woke up, or that they have a cold reports nothing itself.

use super::cues::{RELIEF_FILLERS, RELIEF_WORKS, days_in};
use super::words::{NEGATION_CUES, contains_words, content_words, has_negation};
use crate::assistant::body_sites::Sites;

/// A clause ending in one of these says what it names is normal ("breathing is fine",
/// "peeing normally", "feeding well", but not "a headache as well"): NegEx's
/// post-negation, for the words patients use.
const NORMAL_ENDINGS: [&str; 6] = ["fine", "normal", "normally", "ok", "okay", "well"];

/// Words after the normal ending that only say for how long ("eyesight is ok so far",
/// "breathing is fine at the moment") or in what it is normal ("poo is a normal colour",
/// which the model rates as near pale stools as a pale one).
#[rustfmt::skip]
const FOR_NOW: [&str; 11] = [
    "so", "far", "now", "still", "at", "the", "moment", "for", "thankfully", "colour",
    "color",
];

pub(super) const SCARCITY: [&str; 2] = ["fewer", "little"];

/// Likewise a statement of ability ("I can walk on it", "managed a few steps") denies a
/// symptom whose matching phrasing is an inability ("can't walk on it"), which a sentence
/// embedding rates as a near neighbour. It reaches as far as a negation does ("I can
/// breathe and swallow")…
const ABILITY: [&str; 6] = ["can", "could", "able", "manage", "managed", "managing"];

/// …unless the next word makes it an inability after all ("can barely walk"). "can't",
/// "cannot" and "unable" are words of their own, never taken for "can" or "able".
const BARELY: [&str; 5] = ["barely", "hardly", "scarcely", "not", "only"];

pub(super) const INABILITY: [&str; 6] =
    ["can't", "cant", "cannot", "couldn't", "couldnt", "unable"];

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

/// Relatives a carer names without "my" ("Mum has been sick all day", "Dad's got a
/// rash"): the name draws a clause away from its symptom as "my mum" does, "mum" towards
/// having had a baby.
#[rustfmt::skip]
const NAMED_AS_SUCH: [&str; 13] = [
    "mum", "mom", "dad", "mother", "father", "nan", "nana", "grandma", "grandad", "granddad",
    "grandpa", "grandmother", "grandfather",
];

/// A segment after a comma this short continues a negated list.
const LIST_ITEM_WORDS: usize = 2;

/// Words that join clauses within a sentence.
pub(super) const JOINERS: [&str; 6] = ["and", "or", "with", "plus", "also", "then"];

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

/// Words of waking up, and those that say when ([`only_waking_up`]).
#[rustfmt::skip]
const WAKING_UP: [&str; 21] = [
    "woke", "woken", "up", "this", "morning", "today", "yesterday", "when", "after", "just",
    "i", "i've", "he", "she", "they", "we", "have", "has", "had", "then", "all",
];

/// One clause of the text and whether a negation or an ability governs it.
#[derive(Debug, PartialEq)]
pub(super) struct Clause {
    pub(super) text: String,
    pub(super) negated: bool,
    /// The cue of the negation that governs this clause, if one does (it may open an
    /// earlier item of its list): left out of `text`, which reads what is negated, but
    /// part of what was said, which a phrasing that is itself a negation ("not
    /// responding", "don't want to be alive") matches.
    pub(super) cue: Option<String>,
    /// Follows a statement of ability ([`ABILITY`]).
    pub(super) able: bool,
    /// Continues the clause before it, whose subject it shares ("it's red hot and
    /// swollen"): joined to it without opening a statement of its own.
    pub(super) continues: bool,
    /// The joiner that split it from the clause before ("with" in "diarrhoea with
    /// blood"), which a phrasing may span.
    pub(super) joiner: Option<String>,
}

impl Clause {
    /// The clause as said, with the cue of the negation that governs it.
    pub(super) fn said(&self) -> String {
        match &self.cue {
            Some(cue) => format!("{cue} {}", self.text),
            None => self.text.clone(),
        }
    }
}

/// Whether a clause only says where ("behind his ears", "on both arms"), placing what the
/// clause before it said, or only names a part (`place_first` false), as the subject a
/// negation split off does ("the leg | isn't weak"): it reports nothing itself, though a
/// sentence embedding rates it close to any symptom of the part it names.
pub(super) fn only_a_place(clause: &str, place_first: bool) -> bool {
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

/// Whether a clause only says the patient woke up ("woke up this morning", "when I woke
/// up"), the time the rest of the sentence happened: it reports nothing itself, though a
/// sentence embedding rates it close to being hard to wake, a baby who won't wake and
/// waking in the night. A negated one ("he hasn't woken up") is not this: it is not
/// passed here.
pub(super) fn only_waking_up(clause: &str) -> bool {
    let words: Vec<&str> = clause.split(' ').filter(|w| !w.is_empty()).collect();
    words.iter().any(|w| matches!(*w, "woke" | "woken"))
        && words.iter().all(|w| WAKING_UP.contains(w))
}

/// Words that may stand beside "a cold" in a clause that only says the patient has or had
/// one ([`only_a_cold`]): how bad it is, who has it and when.
#[rustfmt::skip]
const WITH_A_COLD: [&str; 38] = [
    "cold", "colds", "bad", "heavy", "stinking", "nasty", "streaming", "head", "horrible",
    "little", "slight", "caught", "catching", "getting", "keeps", "over", "last", "this", "past",
    "few", "couple", "lots", "lot", "loads", "many", "constant", "just", "still", "now", "he",
    "she", "they", "he's", "she's", "we", "weekend", "recently", "lately",
];

/// Whether a clause only says the patient has, or had, a cold ("has had a cold for 3
/// days", "he had a bad cold last week", "he's had lots of colds"): the illness, which the
/// model rates near feeling the cold or coughing fits. It reports nothing itself; the
/// questions ask its symptoms.
pub(super) fn only_a_cold(clause: &str) -> bool {
    let words: Vec<&str> = clause.split(' ').filter(|w| !w.is_empty()).collect();
    let a_cold = |at: usize| {
        words[at] == "colds"
            || (words[at] == "cold" && words[..at].iter().rev().take(2).any(|w| *w == "a"))
    };
    (0..words.len()).any(a_cold)
        && content_words(clause).all(|w| WITH_A_COLD.contains(&w) || w.parse::<u32>().is_ok())
}

/// The clause's content word, when it has exactly one.
pub(super) fn only_content_word(clause: &str) -> Option<&str> {
    let mut words = content_words(clause);
    words.next().filter(|_| words.next().is_none())
}

/// "haven't been able to pee" reports an inability, a symptom: rewritten "unable to pee",
/// so that the negation does not make it absent.
pub(super) fn inabilities(text: &str) -> String {
    let mut out = format!(" {text} ");
    for cue in NEGATION_CUES {
        for ability in ["been able to", "able to"] {
            out = out.replace(&format!(" {cue} {ability} "), " unable to ");
        }
    }
    out.trim().to_owned()
}

/// `text` with "here" mended to "hear" where the words before say an ability, or its
/// lack ("i can't here out of my left ear", "can barely here"): the model reads a hearing
/// loss from the one, nothing from the other.
pub(super) fn mend_hear(text: &str) -> String {
    let words: Vec<&str> = text.split(' ').collect();
    let able = |w: &str| ABILITY.contains(&w) || INABILITY.contains(&w);
    let can_before = |i: usize| {
        let before = |back: usize| i.checked_sub(back).map(|at| words[at]);
        before(1).is_some_and(|w| able(w) || w == "to" && before(2) == Some("unable"))
            || before(1).is_some_and(|w| BARELY.contains(&w)) && before(2).is_some_and(able)
    };
    words
        .iter()
        .enumerate()
        .map(|(i, &w)| match w.strip_prefix("here") {
            // "here" may end a clause or a sentence ("i can't here, it's muffled").
            Some(rest @ ("" | "," | ".")) if can_before(i) => format!("hear{rest}"),
            _ => w.to_owned(),
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// A clause about a relative without its subject ("my son clashed heads" → "clashed
/// heads", "our little girl has a rash" → "has a rash", "mum has been sick" → "has been
/// sick"); a clause that is only the subject is kept.
fn without_subject(text: &str) -> &str {
    let words: Vec<&str> = text.split(' ').collect();
    let named = words
        .first()
        .is_some_and(|w| NAMED_AS_SUCH.contains(&w.trim_end_matches("'s")));
    if named && words.len() > 1 {
        return &text[words[0].len() + 1..];
    }
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
pub(super) fn ends_negation(clause: &str, phrase: &str) -> bool {
    let after = format!(" {clause} ")
        .rsplit_once(&format!(" {phrase} "))
        .map_or(String::new(), |(_, after)| after.to_owned());
    after
        .split(' ')
        .all(|w| w.is_empty() || EMPHASIS.contains(&w))
}

/// Whether `text` is a negation, an inability or a lack ("not responding", "can't pass
/// wind", "fewer wet nappies").
pub(super) fn says_a_lack(text: &str) -> bool {
    has_negation(text)
        || INABILITY
            .iter()
            .chain(&SCARCITY)
            .any(|w| contains_words(text, w))
}

/// Sentences split at contrasts, then at joiners and commas; a negation cue negates the
/// rest of its contrast-delimited part, but not a statement of its own after a joiner or
/// comma ("no fever or rash" against "haven't been sick and my chest is tight").
pub(super) fn clauses(text: &str) -> Vec<Clause> {
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
                } else if NEGATION_CUES.contains(&bare)
                    && (negation.is_none() || current.is_empty())
                {
                    // A cue that opens a list item repeats the one in force ("no rash,
                    // no injury"): the item is its own, not a word of what it negates.
                    let repeated = negation.is_some();
                    flush(&mut current, negation, cue_here, able, continues, joiner);
                    continues = repeated && continues;
                    match relief_denied(&part[i + 1..]) {
                        // A remedy not helping ends a list it comes in ("no fever, no
                        // better with paracetamol and a headache"): it denies nothing after.
                        Some(words) => {
                            relief_end = i + 1 + words;
                            negation = None;
                        }
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::assistant::extract::words::normalise;

    #[test]
    fn here_after_an_ability_is_hear() {
        for (typed, meant) in [
            ("i can barely here anything", "i can barely hear anything"),
            (
                "can't here out of my left ear",
                "can't hear out of my left ear",
            ),
            ("unable to here properly", "unable to hear properly"),
            ("i can't here, it's muffled", "i can't hear, it's muffled"),
            ("the pain is here", "the pain is here"),
            ("can you come here", "can you come here"),
        ] {
            assert_eq!(mend_hear(typed), meant);
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
        assert_eq!(
            without_subject("mum has been sick all day"),
            "has been sick all day"
        );
        assert_eq!(without_subject("dad's got a rash"), "got a rash");
        assert_eq!(without_subject("mum"), "mum");
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
    fn a_cue_repeated_in_a_list_opens_its_item_and_is_not_read_as_a_word_of_it() {
        let cues = |clauses: &[Clause]| -> Vec<Option<String>> {
            clauses.iter().map(|c| c.cue.clone()).collect()
        };
        let text = normalise("No discharge, no injury.");
        let read = clauses(&text);
        assert_eq!(texts(&read), [("discharge", true), ("injury", true)]);
        assert_eq!(cues(&read), [Some("no".into()), Some("no".into())]);
        let text = normalise("No rash and not itchy, but sore");
        let read = clauses(&text);
        assert_eq!(
            texts(&read),
            [("rash", true), ("itchy", true), ("sore", false)]
        );
        assert_eq!(cues(&read), [Some("no".into()), Some("not".into()), None]);
        let text = normalise("No fever, no better with paracetamol and a headache");
        assert_eq!(
            texts(&clauses(&text)),
            [
                ("fever", true),
                ("paracetamol", false),
                ("a headache", false)
            ]
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
    fn a_clause_saying_something_is_normal_for_now_or_in_colour_reports_it_absent() {
        let text = normalise(
            "Eyesight is ok so far, breathing is fine at the moment, poo is a normal colour",
        );
        assert_eq!(
            texts(&clauses(&text)),
            [
                ("eyesight is ok so far", true),
                ("breathing is fine at the moment", true),
                ("poo is a normal colour", true)
            ]
        );
        let changed = clauses(&normalise("My wee has changed colour"));
        assert_eq!(texts(&changed), [("my wee has changed colour", false)]);
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
    fn a_clause_that_only_says_the_patient_woke_up_says_only_when() {
        for clause in ["woke up this morning", "when i woke up", "she woke up"] {
            assert!(only_waking_up(clause), "{clause}");
        }
        for clause in [
            "woke up in the night",
            "woke up early",
            "woke up drenched",
            "up",
        ] {
            assert!(!only_waking_up(clause), "{clause}");
        }
    }

    #[test]
    fn a_clause_that_only_says_the_patient_has_a_cold_names_the_illness() {
        for clause in [
            "has had a cold for 3 days",
            "i've got a cold",
            "he had a bad cold last week",
            "just getting over a stinking cold",
            "he's had lots of colds",
        ] {
            assert!(only_a_cold(clause), "{clause}");
        }
        for clause in [
            "i feel cold all the time",
            "my hands are cold",
            "a cold sore on my lip",
            "a cold and a cough",
            "had a cold and now my ear hurts",
            "no cold",
        ] {
            assert!(!only_a_cold(clause), "{clause}");
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
}
