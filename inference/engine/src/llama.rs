//! A llama-family chat model from one GGUF file (SmolLM2-135M-Instruct):
//! its shape read from the file's metadata, its tokenizer built from the
//! file's vocabulary ([`crate::bpe`]), the file's content hash, and
//! candle's quantized llama forward pass on the same weights, which is the
//! accuracy reference and the speed baseline of text generation.

use std::path::{Path, PathBuf};

use candle_core::quantized::GgmlDType;
use candle_core::{Device, Tensor};
use candle_transformers::models::quantized_llama::ModelWeights;
use cinder_kernel::{
	merkle::Hash,
	program::llama::{compile, LlamaShape},
	quant::WeightFormat,
	sampler::{argmax, Sampling},
	verify::decoder::{run_reference, Context},
	Weight,
};
use tokenizers::Tokenizer;

use crate::{bpe, gguf::Gguf, EngineError, Result};

/// The file name SmolLM2-135M-Instruct's package ships.
pub const SMOLLM2_FILE: &str = "SmolLM2-135M-Instruct.Q4_1.gguf";

/// A llama model's kernel shape, from its GGUF metadata (`llama.*`) and
/// the formats it stores its first block's query projection and its token
/// embedding in. Refuses another architecture, a shape that does not hang
/// together (heads not dividing the width, query heads not a multiple of
/// key-value heads, RoPE over part of a head), a weight format spec v2 has
/// no arithmetic for, or a shape that cannot be cut into steps.
pub fn llama_shape(gguf: &Gguf) -> Result<LlamaShape> {
	let arch = gguf.string("general.architecture")?;
	if arch != "llama" {
		return Err(gguf.bad(format!("architecture `{arch}`, not llama")));
	}
	let vocab = match gguf.u32("llama.vocab_size") {
		Ok(v) => v,
		Err(_) => u32::try_from(gguf.strings("tokenizer.ggml.tokens")?.len())
			.map_err(|_| gguf.bad("vocabulary too large"))?,
	};
	let format = |name: &str| {
		let info = gguf
			.content
			.tensor_infos
			.get(name)
			.ok_or_else(|| gguf.bad(format!("no tensor `{name}`")))?;
		match info.ggml_dtype {
			GgmlDType::Q4_1 => Ok(WeightFormat::Q4_1),
			GgmlDType::Q8_0 => Ok(WeightFormat::Q8_0),
			other => Err(gguf.bad(format!("`{name}` is {other:?}: spec v2 takes Q4_1 or Q8_0"))),
		}
	};
	let shape = LlamaShape {
		vocab,
		hidden: gguf.u32("llama.embedding_length")?,
		layers: gguf.u32("llama.block_count")?,
		heads: gguf.u32("llama.attention.head_count")?,
		kv_heads: gguf.u32("llama.attention.head_count_kv")?,
		intermediate: gguf.u32("llama.feed_forward_length")?,
		max_positions: gguf.u32("llama.context_length")?,
		rope_theta: gguf.f32("llama.rope.freq_base").unwrap_or(10_000.0).to_bits(),
		eps: gguf.f32("llama.attention.layer_norm_rms_epsilon")?.to_bits(),
		linear: format("blk.0.attn_q.weight")?,
		embedding: format("token_embd.weight")?,
	};
	let head = shape.head_dim();
	let rope = gguf.u32("llama.rope.dimension_count").unwrap_or(head);
	if rope != head {
		return Err(gguf.bad(format!("RoPE over {rope} of a head's {head} values")));
	}
	shape.check().map_err(|_| gguf.bad(format!("unsupported llama shape {shape:?}")))?;
	Ok(shape)
}

/// What a generation program computed.
#[derive(Clone, Debug, PartialEq)]
pub struct Generated {
	/// The sampled tokens, in order.
	pub tokens: Vec<u32>,
	/// The logits the first token was sampled from (the prompt's last row).
	pub first_logits: Vec<f32>,
}

/// A loaded llama chat model.
pub struct Llama {
	pub path: PathBuf,
	/// The kernel's shape: what the chain registers and programs compile from.
	pub shape: LlamaShape,
	pub tokenizer: Tokenizer,
	/// blake2-256 of the GGUF file: what the chain registers.
	pub file_hash: Hash,
	/// The token that ends a reply (`tokenizer.ggml.eos_token_id`).
	pub eos: u32,
	reference: ModelWeights,
}

impl Llama {
	/// Loads `path`: shape, tokenizer, hash and candle's reference model.
	pub fn load(path: &Path) -> Result<Self> {
		let OpenedChat { gguf, shape, tokenizer, eos } = open_chat(path)?;
		let (content, mut file) = gguf.into_parts();
		let reference = ModelWeights::from_gguf(content, &mut file, &Device::Cpu)?;
		let file_hash = hash_file(path)?;
		Ok(Self { path: path.to_path_buf(), shape, tokenizer, file_hash, eos, reference })
	}

	/// `text`'s token ids (special tokens in it recognised, none added).
	pub fn tokenize(&self, text: &str) -> Result<Vec<u32>> {
		bpe::encode(&self.tokenizer, text)
	}

	/// The text of `ids`.
	pub fn detokenize(&self, ids: &[u32]) -> Result<String> {
		bpe::decode(&self.tokenizer, self.shape.vocab, ids)
	}

	/// candle's logits for the token after `ids` (a fresh KV cache).
	pub fn reference_logits(&mut self, ids: &[u32]) -> Result<Vec<f32>> {
		self.reference.clear_kv_cache();
		self.check_length(ids.len(), 0)?;
		let input = Tensor::new(ids, &Device::Cpu)?.unsqueeze(0)?;
		Ok(self.reference.forward(&input, 0)?.squeeze(0)?.to_vec1()?)
	}

	/// candle's logits at every position where a token of `tokens` was
	/// sampled, when `prompt` is followed by exactly those tokens (teacher
	/// forcing): the logits after the prompt, then after each token but the
	/// last.
	pub fn reference_logits_along(
		&mut self,
		prompt: &[u32],
		tokens: &[u32],
	) -> Result<Vec<Vec<f32>>> {
		self.check_length(prompt.len(), tokens.len())?;
		self.reference.clear_kv_cache();
		let mut out = Vec::with_capacity(tokens.len());
		let mut input = prompt.to_vec();
		let mut position = 0;
		for &token in tokens {
			let x = Tensor::new(input.as_slice(), &Device::Cpu)?.unsqueeze(0)?;
			out.push(self.reference.forward(&x, position)?.squeeze(0)?.to_vec1()?);
			position += input.len();
			input = vec![token];
		}
		Ok(out)
	}

	/// candle's greedy continuation of `prompt`: up to `max_new` tokens,
	/// each the most likely (ties to the lowest id), ending early after the
	/// end-of-reply token.
	pub fn reference_generate(&mut self, prompt: &[u32], max_new: usize) -> Result<Vec<u32>> {
		self.check_length(prompt.len(), max_new)?;
		self.reference.clear_kv_cache();
		let mut out = Vec::with_capacity(max_new);
		let mut next_input = prompt.to_vec();
		let mut position = 0;
		while out.len() < max_new {
			let input = Tensor::new(next_input.as_slice(), &Device::Cpu)?.unsqueeze(0)?;
			let logits: Vec<f32> =
				self.reference.forward(&input, position)?.squeeze(0)?.to_vec1()?;
			position += next_input.len();
			let token = argmax(&logits);
			out.push(token);
			if token == self.eos {
				break;
			}
			next_input = vec![token];
		}
		Ok(out)
	}

	/// Every weight tile of the model's layout, read from its file.
	pub fn weight_tiles(&self) -> Result<Vec<Weight>> {
		let mut gguf = Gguf::open(&self.path)?;
		crate::llama_tiles::weight_tiles(&mut gguf, &self.shape)
	}

	/// Generates `generated` tokens after `prompt` by running the canonical
	/// program with the kernel's reference operators, one step at a time:
	/// slow, and the definition every executor must match. `seed` keys the
	/// sampler's stream.
	pub fn kernel_reference_generate(
		&self,
		weights: &[Weight],
		prompt: &[u32],
		generated: u32,
		sampling: Sampling,
		seed: &[u8; 32],
	) -> Result<Generated> {
		self.check_length(prompt.len(), generated as usize)?;
		let program = compile(&self.shape, prompt.len() as u32, generated, sampling)?;
		let weight = |i: u32| weights.get(i as usize).map(Weight::input);
		let outputs = run_reference(&program, weight, prompt, self.shape.vocab, Context { seed })?;
		let tokens = crate::decoder::reply(&outputs, self.shape.vocab)?;
		let logits = crate::decoder::sampled_logits(&program, &outputs);
		let first_logits = logits.into_iter().next().unwrap_or_default();
		Ok(Generated { tokens, first_logits })
	}

	fn check_length(&self, prompt: usize, new: usize) -> Result<()> {
		let max = self.shape.max_positions as usize;
		if prompt == 0 || prompt + new > max {
			return Err(EngineError::InputLength { len: prompt + new, max });
		}
		Ok(())
	}
}

/// A chat model's GGUF opened: its kernel shape, its tokenizer (from the
/// file's metadata) and its end-of-reply token, checked against the
/// vocabulary. What the canonical and the reference loaders share.
pub(crate) struct OpenedChat {
	pub(crate) gguf: Gguf,
	pub(crate) shape: LlamaShape,
	pub(crate) tokenizer: Tokenizer,
	pub(crate) eos: u32,
}

pub(crate) fn open_chat(path: &Path) -> Result<OpenedChat> {
	let gguf = Gguf::open(path)?;
	let shape = llama_shape(&gguf)?;
	let tokenizer = bpe::from_gguf(&gguf)?;
	let eos = gguf.u32("tokenizer.ggml.eos_token_id")?;
	if eos >= shape.vocab || tokenizer.get_vocab_size(true) != shape.vocab as usize {
		return Err(gguf.bad("the tokenizer does not match the vocabulary size"));
	}
	Ok(OpenedChat { gguf, shape, tokenizer, eos })
}

/// The ChatML prompt SmolLM2-Instruct was trained on, for one user turn
/// (and an optional system message), ready for the assistant's reply.
pub fn chat_prompt(system: Option<&str>, user: &str) -> String {
	let mut turns: Vec<(&str, &str)> = system.map(|s| ("system", s)).into_iter().collect();
	turns.push(("user", user));
	chat_conversation(&turns)
}

/// The ChatML prompt of a conversation, `(role, content)` turn by turn
/// (`system`, `user`, `assistant`), ready for the assistant's next reply.
pub fn chat_conversation(turns: &[(&str, &str)]) -> String {
	let mut p = String::new();
	for (role, content) in turns {
		p.push_str(&format!("<|im_start|>{role}\n{content}<|im_end|>\n"));
	}
	p.push_str("<|im_start|>assistant\n");
	p
}

/// The text that ends an assistant's turn in [`chat_conversation`]'s
/// template (SmolLM2's end-of-reply token).
pub const CHAT_TURN_END: &str = "<|im_end|>";

/// blake2-256 of the file at `path`, read in 1 MiB pieces.
pub(crate) fn hash_file(path: &Path) -> Result<Hash> {
	use std::io::Read;
	let io = |source| EngineError::Io { path: path.display().to_string(), source };
	let mut file = std::fs::File::open(path).map_err(io)?;
	let mut state = blake2b_simd::Params::new().hash_length(32).to_state();
	let mut buf = vec![0u8; 1 << 20];
	loop {
		let n = file.read(&mut buf).map_err(io)?;
		if n == 0 {
			break;
		}
		state.update(&buf[..n]);
	}
	let mut out = [0u8; 32];
	out.copy_from_slice(state.finalize().as_bytes());
	Ok(out)
}

/// SmolLM2-135M-Instruct's file if it is installed; otherwise says on
/// stderr that the caller (a test needing the real model) is skipped.
pub fn installed_smollm2() -> Option<PathBuf> {
	let path = crate::models_dir().join(crate::SMOLLM2_DIR).join(SMOLLM2_FILE);
	if path.exists() {
		Some(path)
	} else {
		eprintln!(
			"SKIPPED: SmolLM2-135M-Instruct not found at {}; run scripts/fetch-models.sh",
			path.display()
		);
		None
	}
}
