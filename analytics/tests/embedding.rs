//! The symptom assistant's embedding model, run for real: all-MiniLM-L6-v2 from
//! `model_dir()` (`deploy/setup.sh` installs it; CI runs it first). A missing model fails
//! these tests with the install hint: they never skip.

use std::sync::{Mutex, MutexGuard, OnceLock};
use std::time::Instant;

use healthsync_analytics::assistant::embedding::{Embedder, cosine, model_dir};

/// The model, loaded once for every test; the guard runs the tests one at a time, so the
/// timing print is not shared with another test's inference on the machine's cores.
fn embedder() -> (MutexGuard<'static, ()>, &'static Embedder) {
    static SERIAL: Mutex<()> = Mutex::new(());
    static EMBEDDER: OnceLock<Embedder> = OnceLock::new();
    let guard = SERIAL
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    let embedder = EMBEDDER.get_or_init(|| {
        let dir = model_dir();
        let started = Instant::now();
        let embedder = Embedder::load(&dir).unwrap_or_else(|e| panic!("{e}"));
        eprintln!(
            "loaded the embedding model from {} in {:.0} ms",
            dir.display(),
            started.elapsed().as_secs_f64() * 1e3
        );
        embedder
    });
    (guard, embedder)
}

fn norm(v: &[f32]) -> f32 {
    v.iter().map(|x| x * x).sum::<f32>().sqrt()
}

#[test]
fn vectors_have_384_dimensions_and_unit_length() {
    let (_serial, model) = embedder();
    assert_eq!(model.dimensions(), 384);
    let texts = [
        "I can't catch my breath",
        "headache",
        "",
        "   ",
        "Chest pain spreading to my left arm and jaw, with sweating and nausea, since an hour ago.",
        "🤒 fièvre et toux",
    ];
    let vectors = model.embed(&texts).expect("embed");
    assert_eq!(vectors.len(), texts.len());
    for (text, v) in texts.iter().zip(&vectors) {
        assert_eq!(v.len(), 384, "{text:?}");
        assert!(
            v.iter().all(|x| x.is_finite()),
            "{text:?}: non-finite value"
        );
        let n = norm(v);
        assert!((n - 1.0).abs() <= 1e-4, "{text:?}: norm {n}");
    }
    let one = model.embed_one("shortness of breath").expect("embed_one");
    assert_eq!(one.len(), 384);
    assert!((norm(&one) - 1.0).abs() <= 1e-4);
}

#[test]
fn empty_input_gives_no_vectors_and_an_empty_text_a_valid_one() {
    let (_serial, model) = embedder();
    assert!(model.embed(&[]).expect("embed of no texts").is_empty());
    let empty = model.embed_one("").expect("embed of an empty text");
    assert_eq!(empty.len(), 384);
    assert!((norm(&empty) - 1.0).abs() <= 1e-4);
}

#[test]
fn related_symptom_phrasings_score_clearly_above_unrelated_ones() {
    const MARGIN: f32 = 0.15;
    let (_serial, model) = embedder();
    let pairs = [
        ("I can't catch my breath", "shortness of breath"),
        ("my head is pounding", "headache"),
        ("I keep throwing up", "vomiting"),
    ];
    let unrelated = [
        "itchy rash on my arm",
        "pain when passing urine",
        "sore ankle after a fall",
    ];
    let mut texts: Vec<&str> = pairs.iter().flat_map(|(a, b)| [*a, *b]).collect();
    texts.extend(unrelated);
    let vectors = model.embed(&texts).expect("embed");
    let vector = |text: &str| &vectors[texts.iter().position(|t| *t == text).unwrap()];

    let mut worst_gap = f32::INFINITY;
    for (phrase, related) in pairs {
        let same = cosine(vector(phrase), vector(related));
        let others: Vec<(&str, f32)> = unrelated
            .iter()
            .map(|other| (*other, cosine(vector(phrase), vector(other))))
            .collect();
        let best_other = others.iter().map(|(_, c)| *c).fold(f32::MIN, f32::max);
        let gap = same - best_other;
        worst_gap = worst_gap.min(gap);
        eprintln!("cos({phrase:?}, {related:?}) = {same:.4}");
        for (other, c) in &others {
            eprintln!("    vs {other:?}: {c:.4}");
        }
        eprintln!("    gap to the closest unrelated one: {gap:.4}");
        assert!(
            gap >= MARGIN,
            "{phrase:?}: related {same:.4}, closest unrelated {best_other:.4} (gap {gap:.4} < {MARGIN})"
        );
    }
    eprintln!("smallest gap: {worst_gap:.4} (required {MARGIN})");
}

#[test]
fn padding_does_not_leak_into_the_mean() {
    let (_serial, model) = embedder();
    let short = "sore throat";
    let long = "For the last three days I have had a high temperature, a dry cough that keeps \
                me awake at night, aching muscles all over, a blocked nose, and I feel far \
                more tired than usual even after sleeping for ten hours.";
    let alone = model.embed_one(short).expect("embed alone");
    let batched = model.embed(&[short, long]).expect("embed batched");
    let long_alone = model.embed_one(long).expect("embed long alone");
    let c = cosine(&alone, &batched[0]);
    let c_long = cosine(&long_alone, &batched[1]);
    let max_diff = alone
        .iter()
        .zip(&batched[0])
        .map(|(a, b)| (a - b).abs())
        .fold(0f32, f32::max);
    eprintln!(
        "short alone vs padded in a batch: cosine {c:.7}, largest component difference \
         {max_diff:.2e}; long alone vs batched: cosine {c_long:.7}"
    );
    assert!(
        c > 0.9999,
        "short text's embedding changed when padded: {c}"
    );
    assert!(
        c_long > 0.9999,
        "long text's embedding changed in a batch: {c_long}"
    );
}

#[test]
fn a_batch_shared_among_passes_and_threads_embeds_each_text_as_alone() {
    let (_serial, model) = embedder();
    // Lengths far apart, so that the batch is cut into passes run side by side.
    let texts = [
        "cough",
        "my ankle is swollen and I can't put any weight on it since I fell off the kerb",
        "rash",
        "dizzy",
        "I have had a pounding headache behind my eyes for three days and light hurts",
        "sore throat",
        "she keeps being sick and hasn't had a wet nappy since this morning",
        "itchy",
    ];
    let batched = model.embed(&texts).expect("embed batch");
    assert_eq!(batched.len(), texts.len());
    for (text, vector) in texts.iter().zip(&batched) {
        let alone = model.embed_one(text).expect("embed alone");
        let c = cosine(&alone, vector);
        assert!(c > 0.9999, "{text:?}: alone against in the batch {c}");
    }
}

/// Values of two vectors as candle-transformers' BERT computed them (candle 0.9.2, f32),
/// before `assistant::bert` replaced it: an independent implementation of the same model,
/// so a slip in the encoder's arithmetic (a head split wrongly, a bias misplaced, a poorer
/// GELU) moves them, where the tests of resemblance above could still pass.
#[test]
fn vectors_are_those_an_independent_bert_computes() {
    let (_serial, model) = embedder();
    let picks = [0, 47, 100, 191, 250, 383];
    let expected: [(&str, [f32; 6]); 2] = [
        (
            "I have had a sharp pain in my lower back since Tuesday",
            [
                -0.005_725_628,
                0.007_377_543,
                -0.005_665_555,
                0.027_635_54,
                0.094_749_99,
                0.022_435_432,
            ],
        ),
        (
            "dizzy",
            [
                -0.047_762_655,
                0.005_030_741,
                0.064_611_57,
                -0.072_868_35,
                0.016_646_568,
                0.010_514_402,
            ],
        ),
    ];
    for (text, values) in expected {
        let vector = model.embed_one(text).expect("embed");
        for (&i, want) in picks.iter().zip(values) {
            assert!(
                (vector[i] - want).abs() < 1e-5,
                "{text:?}[{i}] = {}, not {want}",
                vector[i]
            );
        }
    }
}

#[test]
fn the_same_text_gives_the_same_vector() {
    let (_serial, model) = embedder();
    let text = "my chest feels tight when I climb stairs";
    let first = model.embed_one(text).expect("first");
    let second = model.embed_one(text).expect("second");
    assert_eq!(first, second);
    let in_batch = model.embed(&[text, text]).expect("batch");
    assert_eq!(in_batch[0], in_batch[1]);
}

#[test]
fn timing_of_one_short_sentence() {
    let (_serial, model) = embedder();
    let sentences = [
        "I feel dizzy when I stand up",
        "my knee is swollen",
        "I have a fever and chills",
        "burning when I pee",
    ];
    for s in sentences {
        model.embed_one(s).expect("warm-up");
    }
    let runs = 40;
    let started = Instant::now();
    for i in 0..runs {
        model
            .embed_one(sentences[i % sentences.len()])
            .expect("embed");
    }
    let ms = started.elapsed().as_secs_f64() * 1e3 / runs as f64;
    let profile = if cfg!(debug_assertions) {
        "debug"
    } else {
        "release"
    };
    eprintln!(
        "timing: {ms:.2} ms per short sentence (mean of {runs}, after warm-up, {profile} build)"
    );
}
