//! The BERT encoder that all-MiniLM-L6-v2 is, for inference on the CPU: its configuration
//! (`config.json`), its weights, and one forward pass from token ids to each token's last
//! hidden state.
//!
//! It computes what Hugging Face's `BertModel` does, layer for layer, in f32 (vectors within
//! 3e-7 of candle-transformers' BERT, which it replaced). It is written for a message's
//! tens of tokens, where the matrix products are small and what surrounds them counts: a
//! linear layer's weights are kept transposed with the bias as a last row (`Dense`),
//! query, key and value are one product, the attention's softmax is candle's fused one,
//! GELU is one pass with a branch-free erf (`erf`), and no mask is added when every
//! token may attend to every other. [`crate::assistant::embedding`] owns tokenizing,
//! packing texts into rows and pooling.

use candle_core::{Module, Tensor};
use candle_nn::{Embedding, LayerNorm, VarBuilder};
use serde::Deserialize;

/// The fields of a BERT `config.json` the forward pass needs.
#[derive(Clone, Debug, Deserialize)]
pub struct Config {
    pub vocab_size: usize,
    pub hidden_size: usize,
    pub num_hidden_layers: usize,
    pub num_attention_heads: usize,
    pub intermediate_size: usize,
    /// Only `"gelu"` (the exact, erf-based GELU) is supported: the others are different
    /// functions, which the weights were not trained with.
    pub hidden_act: String,
    pub max_position_embeddings: usize,
    pub type_vocab_size: usize,
    pub layer_norm_eps: f64,
    /// A checkpoint saved from a task model names its tensors under this prefix.
    #[serde(default)]
    pub model_type: Option<String>,
}

impl Config {
    /// Why this configuration cannot be run, if it cannot.
    pub fn unsupported(&self) -> Option<String> {
        if self.hidden_act != "gelu" {
            return Some(format!(
                "hidden_act {:?} is not supported (only \"gelu\")",
                self.hidden_act
            ));
        }
        if self.num_attention_heads == 0
            || !self.hidden_size.is_multiple_of(self.num_attention_heads)
        {
            return Some(format!(
                "hidden_size {} does not divide among {} attention heads",
                self.hidden_size, self.num_attention_heads
            ));
        }
        None
    }
}

/// BERT's input embeddings and encoder layers.
pub struct Bert {
    embeddings: Embeddings,
    layers: Vec<Layer>,
}

impl Bert {
    pub fn load(vb: VarBuilder, config: &Config) -> candle_core::Result<Bert> {
        let layers = (0..config.num_hidden_layers)
            .map(|i| Layer::load(vb.pp(format!("encoder.layer.{i}")), config))
            .collect::<candle_core::Result<_>>()?;
        Ok(Bert {
            embeddings: Embeddings::load(vb.pp("embeddings"), config)?,
            layers,
        })
    }

    /// Each token's last hidden state, (rows, width, hidden), for token ids, token type ids
    /// and positions of shape (rows, width), and `mask` (rows, 1, width, width) added to
    /// the attention scores, if any token is not to attend to another.
    pub fn forward(
        &self,
        ids: &Tensor,
        type_ids: &Tensor,
        positions: &Tensor,
        mask: Option<&Tensor>,
    ) -> candle_core::Result<Tensor> {
        let (rows, width) = ids.dims2()?;
        let embedded = self.embeddings.forward(ids, type_ids, positions)?;
        let hidden = embedded.dim(2)?;
        // Between layers the states are one (tokens, hidden) matrix: a linear layer is then
        // a single matrix product.
        let mut states = embedded.reshape((rows * width, hidden))?;
        for layer in &self.layers {
            states = layer.forward(&states, mask, (rows, width))?;
        }
        states.reshape((rows, width, hidden))
    }
}

/// BERT's input embeddings, with each token's position given rather than counted from the
/// row's start, which packed texts cannot use.
struct Embeddings {
    words: Embedding,
    positions: Embedding,
    token_types: Embedding,
    layer_norm: LayerNorm,
}

impl Embeddings {
    fn load(vb: VarBuilder, config: &Config) -> candle_core::Result<Embeddings> {
        let hidden = config.hidden_size;
        Ok(Embeddings {
            words: candle_nn::embedding(config.vocab_size, hidden, vb.pp("word_embeddings"))?,
            positions: candle_nn::embedding(
                config.max_position_embeddings,
                hidden,
                vb.pp("position_embeddings"),
            )?,
            token_types: candle_nn::embedding(
                config.type_vocab_size,
                hidden,
                vb.pp("token_type_embeddings"),
            )?,
            layer_norm: candle_nn::layer_norm(hidden, config.layer_norm_eps, vb.pp("LayerNorm"))?,
        })
    }

    fn forward(
        &self,
        ids: &Tensor,
        type_ids: &Tensor,
        positions: &Tensor,
    ) -> candle_core::Result<Tensor> {
        let summed = ((self.words.forward(ids)? + self.token_types.forward(type_ids)?)?
            + self.positions.forward(positions)?)?;
        self.layer_norm.forward(&summed)
    }
}

/// One encoder layer: self-attention, then the feed-forward block, each added to its input
/// and normalised.
struct Layer {
    /// Query, key and value side by side.
    query_key_value: Dense,
    attention_output: Dense,
    attention_norm: LayerNorm,
    intermediate: Dense,
    output: Dense,
    output_norm: LayerNorm,
    heads: usize,
    head_size: usize,
}

impl Layer {
    fn load(vb: VarBuilder, config: &Config) -> candle_core::Result<Layer> {
        let (hidden, inner) = (config.hidden_size, config.intermediate_size);
        let eps = config.layer_norm_eps;
        let attention = vb.pp("attention");
        let query_key_value = ["self.query", "self.key", "self.value"].map(|p| attention.pp(p));
        Ok(Layer {
            query_key_value: Dense::side_by_side(hidden, hidden, &query_key_value)?,
            attention_output: Dense::load(hidden, hidden, attention.pp("output.dense"))?,
            attention_norm: candle_nn::layer_norm(hidden, eps, attention.pp("output.LayerNorm"))?,
            intermediate: Dense::load(hidden, inner, vb.pp("intermediate.dense"))?,
            output: Dense::load(inner, hidden, vb.pp("output.dense"))?,
            output_norm: candle_nn::layer_norm(hidden, eps, vb.pp("output.LayerNorm"))?,
            heads: config.num_attention_heads,
            head_size: hidden / config.num_attention_heads,
        })
    }

    /// `states` is (rows × width, hidden); so is the result.
    fn forward(
        &self,
        states: &Tensor,
        mask: Option<&Tensor>,
        (rows, width): (usize, usize),
    ) -> candle_core::Result<Tensor> {
        // (3, rows, heads, width, head size): query, key and value, head by head.
        let by_head = self
            .query_key_value
            .forward(states)?
            .reshape((rows, width, 3, self.heads, self.head_size))?
            .permute((2, 0, 3, 1, 4))?
            .contiguous()?;
        let (query, key, value) = (by_head.get(0)?, by_head.get(1)?, by_head.get(2)?);
        let scores = (query.matmul(&key.t()?)? / (self.head_size as f64).sqrt())?;
        let scores = match mask {
            Some(mask) => scores.broadcast_add(mask)?,
            None => scores,
        };
        let attended = candle_nn::ops::softmax_last_dim(&scores)?
            .matmul(&value)?
            .transpose(1, 2)?
            .contiguous()?
            .reshape(states.dims2()?)?;
        let attended = self
            .attention_norm
            .forward(&(self.attention_output.forward(&attended)? + states)?)?;
        let inner = gelu(&self.intermediate.forward(&attended)?)?;
        self.output_norm
            .forward(&(self.output.forward(&inner)? + &attended)?)
    }
}

/// A linear layer, y = x·Wᵀ + b, as one matrix product: its weights are kept as the matrix
/// [Wᵀ; b], which x with a column of ones appended multiplies. Kept so, Wᵀ is read as it
/// is, where the transposed view of W was repacked at every product (up to twice the
/// product's time at 20 tokens), and the bias is not added after, a pass that candle's
/// broadcasting made slower than appending the ones.
struct Dense {
    /// (inputs + 1, outputs)
    weights: Tensor,
}

impl Dense {
    fn load(inputs: usize, outputs: usize, vb: VarBuilder) -> candle_core::Result<Dense> {
        Dense::side_by_side(inputs, outputs, &[vb])
    }

    /// Linear layers of the same input as one, their outputs side by side.
    fn side_by_side(
        inputs: usize,
        outputs: usize,
        layers: &[VarBuilder],
    ) -> candle_core::Result<Dense> {
        let columns = layers
            .iter()
            .map(|vb| {
                let weight = vb.get((outputs, inputs), "weight")?.t()?;
                let bias = vb.get(outputs, "bias")?.unsqueeze(0)?;
                Tensor::cat(&[weight, bias], 0)
            })
            .collect::<candle_core::Result<Vec<_>>>()?;
        Ok(Dense {
            weights: Tensor::cat(&columns, 1)?.contiguous()?,
        })
    }

    /// `xs` is (tokens, inputs); the result (tokens, outputs).
    fn forward(&self, xs: &Tensor) -> candle_core::Result<Tensor> {
        let ones = Tensor::ones((xs.dim(0)?, 1), xs.dtype(), xs.device())?;
        Tensor::cat(&[xs, &ones], 1)?.matmul(&self.weights)
    }
}

/// The exact GELU, x·Φ(x) = x/2·(1 + erf(x/√2)), element by element.
fn gelu(xs: &Tensor) -> candle_core::Result<Tensor> {
    let mut values = xs.flatten_all()?.to_vec1::<f32>()?;
    for x in &mut values {
        *x = 0.5 * *x * (1.0 + erf(*x * std::f32::consts::FRAC_1_SQRT_2));
    }
    Tensor::from_vec(values, xs.shape(), xs.device())
}

/// erf in f32 as a rational function of x, the form Eigen and XLA use for f32: within
/// 3.5e-7 of erf over the line (`erf_is_as_close_as_f32_holds`; f32 steps by 6e-8 near
/// 1), and without a branch, so the loop over a layer's values vectorises. Past ±4 erf is
/// ±1 in f32.
fn erf(x: f32) -> f32 {
    let x = x.clamp(-4.0, 4.0);
    let x2 = x * x;
    let p = [
        -2.726_142_3e-10,
        2.770_681_4e-8,
        -2.101_024e-6,
        -5.692_506_4e-5,
        -7.349_906_3e-4,
        -2.954_6e-3,
        -1.609_603_3e-2,
    ]
    .iter()
    .fold(0.0, |p, &a| p * x2 + a);
    let q = [
        -1.456_607_2e-5,
        -2.133_740_6e-4,
        -1.682_827e-3,
        -7.373_329e-3,
        -1.426_474e-2,
    ]
    .iter()
    .fold(0.0, |q, &b| q * x2 + b);
    x * p / q
}

#[cfg(test)]
mod tests {
    use super::*;

    /// erf by its Maclaurin series in f64: exact to about 1e-9 for |x| ≤ 4, where the
    /// alternating terms cancel the least.
    fn erf_series(x: f64) -> f64 {
        let (mut term, mut sum) = (x, x);
        for n in 1..200 {
            term *= -x * x / n as f64;
            sum += term / (2 * n + 1) as f64;
        }
        sum * 2.0 / std::f64::consts::PI.sqrt()
    }

    #[test]
    fn erf_is_as_close_as_f32_holds() {
        let mut worst = 0f64;
        for i in -6000..=6000 {
            let x = i as f64 / 1000.0;
            let exact = if x.abs() <= 4.0 {
                erf_series(x)
            } else {
                x.signum()
            };
            worst = worst.max((erf(x as f32) as f64 - exact).abs());
        }
        assert!(worst < 5e-7, "worst error {worst:e}");
    }

    #[test]
    fn gelu_is_x_times_the_normal_cdf() {
        let xs = [-3.0f32, -1.0, -0.1, 0.0, 0.5, 1.0, 2.5];
        let tensor = Tensor::new(&xs[..], &candle_core::Device::Cpu).unwrap();
        let ys = gelu(&tensor).unwrap().to_vec1::<f32>().unwrap();
        for (x, y) in xs.iter().zip(ys) {
            let x = *x as f64;
            let exact = 0.5 * x * (1.0 + erf_series(x / std::f64::consts::SQRT_2));
            assert!(
                (y as f64 - exact).abs() < 1e-6,
                "gelu({x}) = {y}, not {exact}"
            );
        }
    }
}
