//! A BERT sentence-embedding model: files, weights as tiles, commitments,
//! tokenizer, and candle's reference forward pass.

use std::{
	collections::HashMap,
	path::{Path, PathBuf},
};

use candle_core::{DType, Device, Tensor};
use candle_nn::VarBuilder;
use candle_transformers::models::bert::{BertModel, Config, HiddenAct};
use cinder_kernel::{
	merkle::{self, Hash},
	program::bert::{self, BertShape, Linear, Norm, Tensor as T, WeightTile},
	Program, Tile,
};
use tokenizers::Tokenizer;

use crate::{executor, gemm::Panels, EngineError, Result};

/// The three files a model directory holds.
pub const WEIGHTS_FILE: &str = "model.safetensors";
pub const TOKENIZER_FILE: &str = "tokenizer.json";
pub const CONFIG_FILE: &str = "config.json";

/// Content hashes of a model's files (blake2-256), as the chain registers them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FileHashes {
	pub weights: Hash,
	pub tokenizer: Hash,
	pub config: Hash,
}

/// A sentence embedding computed with the canonical kernels, with its trace.
#[derive(Clone, Debug)]
pub struct Embedding {
	pub vector: Vec<f32>,
	pub trace: executor::Trace,
	pub program: Program,
}

/// A loaded model.
pub struct Model {
	pub dir: PathBuf,
	pub config: Config,
	pub shape: BertShape,
	pub tokenizer: Tokenizer,
	/// Weight tiles in the kernel's layout order.
	pub weights: Vec<Tile>,
	/// The linear layers' weight tiles packed for the GEMM micro-kernel
	/// (`None` for the other tiles), built once at load.
	pub panels: Vec<Option<Panels>>,
	pub layout: Vec<WeightTile>,
	/// One leaf per weight tile, and their root.
	pub weight_leaves: Vec<Hash>,
	pub weights_root: Hash,
	pub files: FileHashes,
	reference: BertModel,
}

fn read(path: &Path) -> Result<Vec<u8>> {
	std::fs::read(path)
		.map_err(|source| EngineError::Io { path: path.display().to_string(), source })
}

/// The kernel's view of a candle BERT config.
pub fn shape_of(config: &Config) -> Result<BertShape> {
	if config.hidden_act != HiddenAct::Gelu {
		return Err(EngineError::Config("only exact-erf GELU (`gelu`) is supported".into()));
	}
	let u = |v: usize, what: &str| {
		u32::try_from(v).map_err(|_| EngineError::Config(format!("{what} too large")))
	};
	Ok(BertShape {
		vocab: u(config.vocab_size, "vocab_size")?,
		hidden: u(config.hidden_size, "hidden_size")?,
		layers: u(config.num_hidden_layers, "num_hidden_layers")?,
		heads: u(config.num_attention_heads, "num_attention_heads")?,
		intermediate: u(config.intermediate_size, "intermediate_size")?,
		max_positions: u(config.max_position_embeddings, "max_position_embeddings")?,
		type_vocab: u(config.type_vocab_size, "type_vocab_size")?,
		eps: (config.layer_norm_eps as f32).to_bits(),
	})
}

/// A weight tensor by its checkpoint name, as a row-major f32 matrix.
struct Matrix {
	rows: usize,
	cols: usize,
	data: Vec<f32>,
}

fn tensor_name(t: &T) -> (String, bool) {
	let linear = |which: &Linear| match which {
		Linear::Query => "attention.self.query",
		Linear::Key => "attention.self.key",
		Linear::Value => "attention.self.value",
		Linear::AttentionOutput => "attention.output.dense",
		Linear::Intermediate => "intermediate.dense",
		Linear::Output => "output.dense",
	};
	let param = |beta: bool| if beta { "bias" } else { "weight" };
	match t {
		T::Word => ("embeddings.word_embeddings.weight".into(), false),
		T::Position => ("embeddings.position_embeddings.weight".into(), false),
		T::TokenType => ("embeddings.token_type_embeddings.weight".into(), false),
		T::EmbeddingNorm { beta } => (format!("embeddings.LayerNorm.{}", param(*beta)), false),
		T::Linear { layer, which, bias } => {
			let base = format!("encoder.layer.{layer}.{}", linear(which));
			if *bias {
				(format!("{base}.bias"), false)
			} else {
				// Checkpoints store `out × in`; tiles are of the transpose.
				(format!("{base}.weight"), true)
			}
		}
		T::Norm { layer, which, beta } => {
			let part = match which {
				Norm::Attention => "attention.output.LayerNorm",
				Norm::Output => "output.LayerNorm",
			};
			(format!("encoder.layer.{layer}.{part}.{}", param(*beta)), false)
		}
	}
}

fn matrices(
	tensors: &HashMap<String, Tensor>,
	layout: &[WeightTile],
) -> Result<HashMap<String, Matrix>> {
	let mut out = HashMap::new();
	for tile in layout {
		let (name, transpose) = tensor_name(&tile.tensor);
		if out.contains_key(&name) {
			continue;
		}
		let t = tensors
			.get(&name)
			.or_else(|| tensors.get(&format!("bert.{name}")))
			.ok_or_else(|| EngineError::Weights(format!("missing tensor {name}")))?
			.to_dtype(DType::F32)?;
		let t = if t.rank() == 1 { t.unsqueeze(0)? } else { t };
		let t = if transpose { t.t()?.contiguous()? } else { t };
		let (rows, cols) = t.dims2()?;
		out.insert(name, Matrix { rows, cols, data: t.flatten_all()?.to_vec1::<f32>()? });
	}
	Ok(out)
}

/// Cuts the weight tiles of `layout` out of the checkpoint's tensors.
pub fn tiles(tensors: &HashMap<String, Tensor>, layout: &[WeightTile]) -> Result<Vec<Tile>> {
	let mats = matrices(tensors, layout)?;
	layout
		.iter()
		.map(|wt| {
			let (name, _) = tensor_name(&wt.tensor);
			let m = mats.get(&name).ok_or_else(|| EngineError::Weights(name.clone()))?;
			let (r0, c0) = (wt.row as usize, wt.col as usize);
			let (rows, cols) = (wt.rows as usize, wt.cols as usize);
			if r0 + rows > m.rows || c0 + cols > m.cols {
				return Err(EngineError::Weights(format!("{name} is {}×{}", m.rows, m.cols)));
			}
			let mut data = Vec::with_capacity(rows * cols);
			for r in r0..r0 + rows {
				data.extend_from_slice(&m.data[r * m.cols + c0..r * m.cols + c0 + cols]);
			}
			Ok(Tile::new(wt.rows, wt.cols, data)?)
		})
		.collect()
}

impl Model {
	/// Loads the model in `dir` (`model.safetensors`, `tokenizer.json`,
	/// `config.json`).
	pub fn load(dir: impl AsRef<Path>) -> Result<Self> {
		let dir = dir.as_ref().to_path_buf();
		let config_bytes = read(&dir.join(CONFIG_FILE))?;
		let tokenizer_bytes = read(&dir.join(TOKENIZER_FILE))?;
		let weights_bytes = read(&dir.join(WEIGHTS_FILE))?;
		let files = FileHashes {
			weights: sp_crypto_hashing::blake2_256(&weights_bytes),
			tokenizer: sp_crypto_hashing::blake2_256(&tokenizer_bytes),
			config: sp_crypto_hashing::blake2_256(&config_bytes),
		};
		// Every failure from here on names the file it comes from.
		let bad = |file: &str| {
			let path = dir.join(file).display().to_string();
			move |e: &dyn std::fmt::Display| EngineError::BadFile {
				path: path.clone(),
				reason: e.to_string(),
			}
		};
		let (bad_config, bad_tokenizer, bad_weights) =
			(bad(CONFIG_FILE), bad(TOKENIZER_FILE), bad(WEIGHTS_FILE));
		let config: Config = serde_json::from_slice(&config_bytes).map_err(|e| bad_config(&e))?;
		let shape = shape_of(&config).map_err(|e| bad_config(&e))?;
		let layout = bert::weight_layout(&shape).map_err(|e| bad_config(&e))?;
		let mut tokenizer =
			Tokenizer::from_bytes(&tokenizer_bytes).map_err(|e| bad_tokenizer(&e))?;
		// Exports often pad every input to a fixed length (padding would
		// enter mean pooling) and cut it: inputs are taken whole, so that a
		// text longer than the model takes is refused, never cut silently.
		tokenizer.with_padding(None);
		tokenizer.with_truncation(None).map_err(|e| bad_tokenizer(&e))?;

		let tensors = candle_core::safetensors::load_buffer(&weights_bytes, &Device::Cpu)
			.map_err(|e| bad_weights(&e))?;
		drop(weights_bytes);
		let weights = tiles(&tensors, &layout).map_err(|e| bad_weights(&e))?;
		let indexed: Vec<(u32, &Tile)> = (0u32..).zip(&weights).collect();
		let weight_leaves = executor::leaves(&indexed);
		let weights_root = merkle::root(&weight_leaves);
		let panels = layout
			.iter()
			.zip(&weights)
			.map(|(wt, tile)| {
				matches!(wt.tensor, T::Linear { bias: false, .. }).then(|| Panels::of_tile(tile))
			})
			.collect();
		let vb = VarBuilder::from_tensors(tensors, DType::F32, &Device::Cpu);
		let reference = BertModel::load(vb, &config).map_err(|e| bad_weights(&e))?;
		Ok(Self {
			dir,
			config,
			shape,
			tokenizer,
			weights,
			panels,
			layout,
			weight_leaves,
			weights_root,
			files,
			reference,
		})
	}

	/// The longest input (in tokens) the model takes.
	pub fn max_tokens(&self) -> usize {
		self.shape.max_positions as usize
	}

	/// Token ids for `text`, with the model's special tokens ([CLS] … [SEP]),
	/// however many there are: more than [`Model::max_tokens`] is the
	/// caller's to refuse.
	pub fn tokenize(&self, text: &str) -> Result<Vec<u32>> {
		let enc =
			self.tokenizer.encode(text, true).map_err(|e| EngineError::Tokenizer(e.to_string()))?;
		Ok(enc.get_ids().to_vec())
	}

	/// Text for token ids, special tokens dropped.
	pub fn detokenize(&self, ids: &[u32]) -> Result<String> {
		self.tokenizer.decode(ids, true).map_err(|e| EngineError::Tokenizer(e.to_string()))
	}

	fn check_input(&self, ids: &[u32]) -> Result<()> {
		if ids.is_empty() || ids.len() > self.max_tokens() {
			return Err(EngineError::InputLength { len: ids.len(), max: self.max_tokens() });
		}
		if ids.iter().any(|&id| id >= self.shape.vocab) {
			return Err(cinder_kernel::KernelError::TokenOutOfRange.into());
		}
		Ok(())
	}

	/// The program for an input of `len` tokens.
	pub fn program(&self, len: usize) -> Result<Program> {
		let len = u32::try_from(len)
			.map_err(|_| EngineError::InputLength { len, max: self.max_tokens() })?;
		let shapes: Vec<_> = self.layout.iter().map(|t| t.shape()).collect();
		Ok(bert::compile_program(&self.shape, len, &shapes)?)
	}

	/// Commitment to how this model compiles: see [`bert::program_hash`].
	pub fn program_hash(&self) -> Hash {
		bert::program_hash(&self.shape)
	}

	/// The canonical embedding of `ids` and its trace, on `threads` threads.
	pub fn embed(&self, ids: &[u32], threads: usize) -> Result<Embedding> {
		self.check_input(ids)?;
		let program = self.program(ids.len())?;
		let trace = executor::execute_packed(
			&program,
			&self.weights,
			&self.panels,
			ids,
			self.shape.vocab,
			threads,
		)?;
		let vector = trace.output().map(|t| t.data.clone()).unwrap_or_default();
		Ok(Embedding { vector, trace, program })
	}

	/// Merkle proof of weight tile `index` against [`Model::weights_root`].
	pub fn weight_proof(&self, index: u32) -> Option<Vec<Hash>> {
		merkle::proof(&self.weight_leaves, index)
	}

	/// candle-transformers' own f32 forward pass, mean-pooled and
	/// L2-normalised: the accuracy reference.
	pub fn reference_embedding(&self, ids: &[u32]) -> Result<Vec<f32>> {
		self.check_input(ids)?;
		let input = Tensor::new(ids, &Device::Cpu)?.unsqueeze(0)?;
		let types = input.zeros_like()?;
		let hidden = self.reference.forward(&input, &types, None)?;
		let mean = hidden.mean(1)?;
		let norm = mean.sqr()?.sum_keepdim(1)?.sqrt()?;
		Ok(mean.broadcast_div(&norm)?.squeeze(0)?.to_vec1::<f32>()?)
	}
}

/// Cosine similarity of two vectors.
pub fn cosine(a: &[f32], b: &[f32]) -> f32 {
	let dot: f32 = a.iter().zip(b).map(|(x, y)| x * y).sum();
	let na: f32 = a.iter().map(|x| x * x).sum::<f32>().sqrt();
	let nb: f32 = b.iter().map(|x| x * x).sum::<f32>().sqrt();
	dot / (na * nb)
}
