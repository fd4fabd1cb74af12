//! The words of a text: normalised, found or cut out on word boundaries, split into
//! sentences, the content words that can name a symptom, and whether a negation comes just
//! before a word.

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
pub(super) const NEGATION_CUES: [&str; 28] = [
    "no", "not", "nothing", "without", "never", "denies", "denied", "nor", "neither", "none",
    "dont", "don't", "didn't", "didnt", "doesn't", "doesnt", "haven't", "havent", "hasn't",
    "hasnt", "hadn't", "isn't", "isnt", "aren't", "wasn't", "wasnt", "weren't", "werent",
];

/// The words of a normalised text that can name a symptom.
pub(super) fn content_words(text: &str) -> impl Iterator<Item = &str> {
    text.split([' ', ',', '.'])
        .filter(|w| !w.is_empty() && !FUNCTION_WORDS.contains(w) && !TIME_WORDS.contains(w))
}

/// Lower case, apostrophes kept, everything else that is not a letter or digit a space.
pub(super) fn normalise(text: &str) -> String {
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

pub(super) fn has_negation(text: &str) -> bool {
    text.split(' ')
        .any(|w| NEGATION_CUES.contains(&w) || w.ends_with("n't"))
}

/// Whether `phrase` occurs in `text` on word boundaries.
pub(super) fn contains_words(text: &str, phrase: &str) -> bool {
    occurrences(text, phrase).next().is_some()
}

/// `text` with each occurrence of `phrase` on word boundaries cut out: "rape" leaves
/// "grapes" whole.
pub(super) fn without_words(text: &str, phrase: &str) -> String {
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
pub(super) fn on_word_boundaries(text: &str, start: usize, end: usize) -> bool {
    let boundary = |c: Option<char>| c.is_none_or(|c| matches!(c, ' ' | ',' | '.'));
    boundary(text[..start].chars().next_back()) && boundary(text[end..].chars().next())
}

/// The words of each sentence of `text`, without commas.
pub(super) fn sentence_words(text: &str) -> impl Iterator<Item = Vec<&str>> {
    text.split('.').map(|sentence| {
        sentence
            .split([' ', ','])
            .filter(|w| !w.is_empty())
            .collect()
    })
}

/// Whether a negation stands in the three words before `words[i]` ("no bleeding", "isn't
/// sudden").
pub(super) fn negated_at(words: &[&str], i: usize) -> bool {
    has_negation(&words[i.saturating_sub(3)..i].join(" "))
}

/// Whether one of `set` is among `words` with no negation just before it ([`negated_at`]):
/// "a stiff neck", not "no stiff neck".
pub(super) fn says_any(words: &[&str], set: &[&str]) -> bool {
    (0..words.len()).any(|i| set.contains(&words[i]) && !negated_at(words, i))
}

/// Whether a normalised text has one of `words` as a word of its own.
pub(super) fn names_any(text: &str, words: &[&str]) -> bool {
    text.split([' ', ',', '.']).any(|w| words.contains(&w))
}

#[cfg(test)]
mod tests {
    use super::*;

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
