//! The parts of the body a text names, so that a clause about one part is not matched by
//! sentence-embedding similarity to a symptom of another: a sentence embedding rates "it's
//! swollen" (of a knee) close to "swollen glands in the neck", and "a lump in my armpit"
//! close to it too, since the two share everything but the place.
//!
//! This module owns the lexicon of body parts, grouped coarsely (a knee and a calf are
//! both the leg; teeth, gums, lips and tongue are all the mouth) so that a symptom is only
//! set aside when the text clearly speaks of another part (or the other half, upper or
//! lower, of it), and the reading of which parts a clause is about: those it names, or
//! those of the clause before it when it only refers back ("it's swollen") or continues
//! it ("red hot and swollen"), or those earlier messages named. The same sets say which
//! parts a condition of some parts only is of (a broken arm).

use serde::{Deserialize, Serialize};

/// The parts, each a bit of a [`Sites`] set, and the words that name them (matched as
/// whole words); a word on the border of two is in both. "back" names one only after a
/// word that makes it the body's ([`names_the_back`]): "it came back" names no part.
const PARTS: [&[&str]; 17] = [
    // An ache named by its part is of that part: "my wrist is really sore" is no
    // headache.
    &[
        "head",
        "scalp",
        "forehead",
        "temple",
        "temples",
        "headache",
        "headaches",
    ],
    &["eye", "eyes", "eyelid", "eyelids", "eyeball"],
    &["ear", "ears", "earlobe", "earache", "earaches"],
    &["nose", "nostril", "nostrils", "nosebleed", "nosebleeds"],
    &[
        "mouth",
        "tongue",
        "lip",
        "lips",
        "gum",
        "gums",
        "tooth",
        "teeth",
        "toothache",
    ],
    &["face", "cheek", "cheeks", "jaw", "chin"],
    // "Under my jaw" is the neck's glands as much as the face.
    &["neck", "throat", "jaw"],
    &["chest", "ribs", "breastbone"],
    &["breast", "breasts", "nipple", "nipples"],
    &["armpit", "armpits"],
    // "Under my ribs" is the tummy as much as the chest.
    &["stomach", "tummy", "belly", "abdomen", "tum", "ribs"],
    // Not "bottom": "the bottom right" of the tummy.
    &["anus", "bum", "rectum"],
    &[
        "groin",
        "testicle",
        "testicles",
        "penis",
        "vagina",
        "vulva",
        "scrotum",
        "balls",
    ],
    &[
        "arm",
        "arms",
        "shoulder",
        "shoulders",
        "elbow",
        "elbows",
        "wrist",
        "wrists",
        "hand",
        "hands",
        "finger",
        "fingers",
        "thumb",
        "thumbs",
        "palm",
        "palms",
        "fingernail",
        "fingernails",
    ],
    &[
        "leg", "legs", "thigh", "thighs", "calf", "calves", "shin", "shins", "knee", "knees",
        "hip", "hips",
    ],
    &[
        "foot", "feet", "ankle", "ankles", "heel", "heels", "toe", "toes", "sole", "soles",
        "toenail", "toenails",
    ],
    &["back"],
];
/// Words after which "back" is the body's ("my back", "lower back", "pain to the back")…
#[rustfmt::skip]
const BACK_AFTER: [&str; 14] = [
    "my", "his", "her", "your", "their", "our", "the", "lower", "upper", "middle", "bad",
    "or", "to", "from",
];
/// …unless it is the back of something else ("the back of my hand") or the back passage.
const NOT_THE_BACK_BEFORE: [&str; 3] = ["of", "passage", "home"];

/// The upper and lower halves of a part, each a bit of a [`Sites`] set after the parts':
/// "pain in the upper right of my tummy" is not "lower right abdominal pain", which a
/// sentence embedding rates as a near neighbour.
const HALVES: [&str; 2] = ["upper", "lower"];
const PART_BITS: u32 = (1 << PARTS.len()) - 1;

/// Words by which a clause refers back to something named before it…
const REFERRING: [&str; 6] = ["it", "it's", "its", "they", "they're", "them"];
/// …or opens by saying when it is worse or better, of what it follows ("my knee aches,
/// worse on stairs").
#[rustfmt::skip]
const QUALIFYING: [&str; 8] = [
    "worse", "better", "worst", "especially", "mainly", "mostly", "particularly", "only",
];

/// A set of body parts: bit `i` is [`PARTS`]`[i]`, then the [`HALVES`]. Kept in a
/// conversation's state as bits, so the order of [`PARTS`] is part of that state (a
/// conversation stored before the back became a part reads a half named as the back).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sites(u32);

impl Sites {
    /// The parts `text` (lower case) names.
    pub fn named_in(text: &str) -> Sites {
        let words: Vec<&str> = words(text).collect();
        let bits = words
            .iter()
            .enumerate()
            .filter(|&(at, &word)| word != "back" || names_the_back(&words, at))
            .fold(0, |bits, (_, word)| bits | part_bits(word));
        Sites(bits)
    }

    /// The parts a list of their names names, each word taken as a part's ("back" too,
    /// with nothing before it): a condition's `sites` in the knowledge base.
    pub fn of_parts<S: AsRef<str>>(names: &[S]) -> Sites {
        Sites(names.iter().fold(0, |bits, w| bits | part_bits(w.as_ref())))
    }

    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// Whether a limb, or a part of one, is among them: an arm, a leg or a foot.
    pub fn names_a_limb(self) -> bool {
        self.0 & Sites::of_parts(&["arm", "leg", "foot"]).0 != 0
    }

    /// The parts of either.
    pub fn union(self, other: Sites) -> Sites {
        Sites(self.0 | other.0)
    }

    /// Whether both name parts and no part is in both, or both name a half and not the
    /// same: the texts speak of different places.
    pub fn elsewhere_than(self, other: Sites) -> bool {
        let apart = |a: u32, b: u32| a != 0 && b != 0 && a & b == 0;
        apart(self.0 & PART_BITS, other.0 & PART_BITS)
            || apart(self.0 & !PART_BITS, other.0 & !PART_BITS)
    }
}

/// The bits of the parts and the half `word` names.
fn part_bits(word: &str) -> u32 {
    let parts = PARTS
        .iter()
        .enumerate()
        .filter(|(_, names)| names.contains(&word))
        .fold(0, |bits, (i, _)| bits | 1 << i);
    let half = HALVES
        .iter()
        .position(|h| *h == word)
        .map_or(0, |half| 1 << (PARTS.len() + half));
    parts | half
}

/// Whether the word "back" at `at` in `words` is the body's.
fn names_the_back(words: &[&str], at: usize) -> bool {
    let before = at.checked_sub(1).map(|i| words[i]);
    before.is_some_and(|w| BACK_AFTER.contains(&w))
        && words
            .get(at + 1)
            .is_none_or(|w| !NOT_THE_BACK_BEFORE.contains(w))
}

fn words(text: &str) -> impl Iterator<Item = &str> {
    text.split(|c: char| !(c.is_alphanumeric() || c == '\''))
        .filter(|w| !w.is_empty())
}

/// The parts each clause (lower case, with whether it continues the clause before it,
/// sharing its subject) is about: those it names, or, when it names none but refers back
/// ("it's swollen", "I can't straighten it", "worse on stairs") or continues ("it's red
/// hot and swollen"),
/// those of the nearest clause before it that is about one, or else `before`: those
/// earlier messages named ("my wrist is swollen", then "he can't move it"). A clause that
/// is about none this way shares the parts of the clause after it that continues it and
/// names some: "pressure and pain round my cheeks" is all about the cheeks.
pub fn of_clauses<'c>(
    before: Sites,
    clauses: impl IntoIterator<Item = (&'c str, bool)>,
) -> Vec<Sites> {
    let mut last = before;
    let mut named_here = Vec::new();
    let mut sites: Vec<Sites> = clauses
        .into_iter()
        .map(|(clause, continues)| {
            let named = Sites::named_in(clause);
            named_here.push((continues, named));
            if !named.is_empty() {
                last = named;
                named
            } else if continues
                || words(clause).any(|w| REFERRING.contains(&w))
                || words(clause)
                    .next()
                    .is_some_and(|w| QUALIFYING.contains(&w))
            {
                last
            } else {
                Sites::default()
            }
        })
        .collect();
    // Back from the end, the parts a list goes on to name ("swelling, redness and pain in
    // my knee").
    let mut named_later = Sites::default();
    for (site, &(continues, named)) in sites.iter_mut().zip(&named_here).rev() {
        if site.is_empty() {
            *site = named_later;
        }
        if !continues {
            named_later = Sites::default();
        } else if !named.is_empty() {
            named_later = named;
        }
    }
    sites
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parts_are_named_by_whole_words_and_grouped_coarsely() {
        let knee = Sites::named_in("i twisted my knee");
        assert_eq!(knee, Sites::named_in("my calf is swollen"));
        assert!(knee.elsewhere_than(Sites::named_in("swollen glands in the neck")));
        assert!(!knee.elsewhere_than(Sites::named_in("swollen knee and neck")));
        // "earlier" is not the word "ear", nor "forehand" "hand"; a headache is the head's.
        assert!(Sites::named_in("earlier, a forehand").is_empty());
        assert_eq!(Sites::named_in("a headache"), Sites::named_in("my head"));
        assert_eq!(
            Sites::named_in("spots on hands, feet and in mouth"),
            Sites::named_in("hand foot mouth")
        );
        assert_eq!(
            Sites::named_in("my tongue"),
            Sites::named_in("swollen gums")
        );
        // On a border, in both: the ribs are the chest's and the tummy's.
        let ribs = Sites::named_in("pain under the right ribs");
        assert!(!ribs.elsewhere_than(Sites::named_in("pain in my upper tummy")));
        assert!(!ribs.elsewhere_than(Sites::named_in("pain in my chest")));
    }

    #[test]
    fn a_limb_is_an_arm_a_leg_or_a_foot_or_a_part_of_one() {
        for limb in ["my wrist", "his knee", "her big toe", "my palm", "a hip"] {
            assert!(Sites::named_in(limb).names_a_limb(), "{limb}");
        }
        for other in ["my head", "my back", "my tummy", "my chest", "i feel awful"] {
            assert!(!Sites::named_in(other).names_a_limb(), "{other}");
        }
    }

    #[test]
    fn the_back_is_named_only_as_the_bodys() {
        let back = Sites::named_in("a mole on my back");
        assert!(!back.is_empty());
        assert!(back.elsewhere_than(Sites::named_in("one leg bigger than the other")));
        assert_eq!(
            Sites::named_in("lower back pain"),
            back.union(Sites::named_in("lower"))
        );
        for not_the_back in [
            "it came back",
            "just back from holiday",
            "bleeding from my back passage",
        ] {
            assert!(Sites::named_in(not_the_back).is_empty(), "{not_the_back}");
        }
        assert_eq!(
            Sites::named_in("the back of my hand"),
            Sites::named_in("my hand")
        );
        // A condition's own list of parts names the back with nothing before it.
        assert_eq!(Sites::of_parts(&["back"]), back);
        assert_eq!(
            Sites::of_parts(&["neck", "back"]),
            Sites::named_in("my neck and my back")
        );
    }

    #[test]
    fn the_upper_half_of_a_part_is_elsewhere_than_its_lower() {
        let upper = Sites::named_in("pain in the upper right of my tummy");
        assert!(upper.elsewhere_than(Sites::named_in("lower right abdominal pain")));
        assert!(!upper.elsewhere_than(Sites::named_in("pain under the right ribs")));
        assert!(!upper.elsewhere_than(Sites::named_in("upper middle abdominal pain")));
        assert!(!Sites::named_in("my tummy hurts").elsewhere_than(Sites::named_in("lower tummy")));
    }

    #[test]
    fn a_text_naming_no_part_is_elsewhere_than_nothing() {
        let none = Sites::named_in("i feel awful");
        let neck = Sites::named_in("stiff neck");
        assert!(!none.elsewhere_than(neck));
        assert!(!neck.elsewhere_than(none));
    }

    #[test]
    fn a_clause_that_refers_back_or_continues_takes_the_parts_before_it() {
        let sites = of_clauses(
            Sites::default(),
            [
                ("i twisted my knee playing football", false),
                ("it's swollen", false),
                ("i feel sick", false),
                ("and i can't straighten it", false),
                ("my eye is red", false),
                ("sticky", true),
                ("i'm tired", false),
                ("my knee has been aching for months", false),
                ("worse on stairs", false),
            ],
        );
        let knee = Sites::named_in("knee");
        let eye = Sites::named_in("eye");
        assert_eq!(sites[1], knee);
        assert!(sites[2].is_empty());
        assert_eq!(sites[3], knee);
        assert_eq!(sites[4], eye);
        assert_eq!(sites[5], eye);
        assert!(sites[6].is_empty());
        // Saying when it is worse is of what went before: stairs are not the chest's.
        assert_eq!(sites[8], knee);
    }

    #[test]
    fn a_message_that_refers_back_is_about_the_parts_named_before_it() {
        let wrist = Sites::named_in("wrist");
        let sites = of_clauses(
            wrist,
            [("he can't move it", false), ("he has a fever", false)],
        );
        assert_eq!(sites[0], wrist);
        assert!(sites[1].is_empty());
        let named = of_clauses(wrist, [("his knee hurts", false), ("it's swollen", false)]);
        assert_eq!(named[1], Sites::named_in("knee"));
    }

    #[test]
    fn a_clause_shares_the_parts_of_the_clause_that_continues_it() {
        let cheeks = Sites::named_in("cheeks");
        let sites = of_clauses(
            Sites::default(),
            [
                ("pressure", false),
                ("swelling", true),
                ("pain round my cheeks", true),
                ("a fever", false),
                ("my knee hurts", false),
                ("tiredness", false),
                ("aches", true),
            ],
        );
        assert_eq!(sites[0], cheeks);
        assert_eq!(sites[1], cheeks);
        assert!(
            sites[3].is_empty(),
            "a statement of its own: {:?}",
            sites[3]
        );
        // Parts a clause only refers back to are not shared backwards.
        assert!(sites[5].is_empty(), "{:?}", sites);
    }
}
