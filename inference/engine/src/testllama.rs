//! A tiny llama-shaped chat model written from a fixed seed, as a GGUF file
//! laid out like SmolLM2's (Q4_1 linear layers, a Q8_0 token embedding that
//! is also the output layer, f32 norms, a byte-level BPE vocabulary with
//! ChatML's control tokens in the metadata), so tests load it through the
//! same loader as the real model without a download.

use std::path::Path;

use candle_core::{
	quantized::{
		gguf_file::{self, Value},
		GgmlDType, QTensor,
	},
	Device, Tensor,
};

use crate::{EngineError, Result};

/// The tiny model's shape.
pub const HIDDEN: usize = 64;
pub const HEADS: usize = 4;
pub const KV_HEADS: usize = 2;
/// A multiple of 64: candle's Q4_1 dot product takes blocks in pairs.
pub const INTERMEDIATE: usize = 128;
pub const LAYERS: usize = 2;
pub const CONTEXT: usize = 96;

/// Its control tokens, ids 0, 1 and 2 as in SmolLM2.
pub const SPECIALS: [&str; 3] = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"];

/// Merges after the byte alphabet, by rank: `he`, `ll`, `Ġt`, `hell`,
/// `hello`, and `12` (which SmolLM2's digit split never lets apply).
pub const MERGES: [(&str, &str); 6] =
	[("h", "e"), ("l", "l"), ("Ġ", "t"), ("he", "ll"), ("hell", "o"), ("1", "2")];

/// GPT-2's byte-to-character map: printable bytes stand for themselves, the
/// rest for the characters from U+0100 on, in byte order.
pub fn byte_char(b: u8) -> char {
	let printable = (b'!'..=b'~').contains(&b) || (0xa1..=0xac).contains(&b) || b >= 0xae;
	if printable {
		char::from(b)
	} else {
		let rank = (0..b)
			.filter(|&x| !((b'!'..=b'~').contains(&x) || (0xa1..=0xac).contains(&x) || x >= 0xae))
			.count();
		char::from_u32(256 + rank as u32).unwrap_or('?')
	}
}

/// The vocabulary: control tokens, the 256 byte characters, the merges'
/// results.
pub fn vocabulary() -> Vec<String> {
	let mut tokens: Vec<String> = SPECIALS.iter().map(|s| s.to_string()).collect();
	tokens.extend((0..=255u8).map(|b| byte_char(b).to_string()));
	tokens.extend(MERGES.iter().map(|(a, b)| format!("{a}{b}")));
	tokens
}

/// Deterministic uniform values in `[-1, 1)`.
struct Rng(u64);

impl Rng {
	fn next(&mut self) -> f32 {
		self.0 ^= self.0 << 13;
		self.0 ^= self.0 >> 7;
		self.0 ^= self.0 << 17;
		(self.0 >> 40) as f32 / (1u64 << 23) as f32 - 1.0
	}

	fn tensor(&mut self, rows: usize, cols: usize, scale: f32, offset: f32) -> Vec<f32> {
		(0..rows * cols).map(|_| offset + scale * self.next()).collect()
	}
}

/// Writes the tiny model, weights drawn from `seed`, to `path`.
pub fn write(path: &Path, seed: u64) -> Result<()> {
	let mut rng = Rng(seed | 1);
	let tokens = vocabulary();
	let vocab = tokens.len();
	let kv = HIDDEN / HEADS * KV_HEADS;
	let cpu = Device::Cpu;
	let quantize = |data: Vec<f32>, rows: usize, cols: usize, dtype: GgmlDType| {
		let shape: Vec<usize> = if rows == 1 { vec![cols] } else { vec![rows, cols] };
		QTensor::quantize(&Tensor::from_vec(data, shape, &cpu)?, dtype)
	};
	let mut tensors: Vec<(String, QTensor)> = Vec::new();
	let linear = 1.0 / (HIDDEN as f32).sqrt();
	tensors.push((
		"token_embd.weight".into(),
		quantize(rng.tensor(vocab, HIDDEN, 1.0, 0.0), vocab, HIDDEN, GgmlDType::Q8_0)?,
	));
	tensors.push((
		"output_norm.weight".into(),
		quantize(rng.tensor(1, HIDDEN, 0.1, 1.0), 1, HIDDEN, GgmlDType::F32)?,
	));
	for layer in 0..LAYERS {
		let name = |part: &str| format!("blk.{layer}.{part}.weight");
		for (part, rows, cols) in [
			("attn_q", HIDDEN, HIDDEN),
			("attn_k", kv, HIDDEN),
			("attn_v", kv, HIDDEN),
			("attn_output", HIDDEN, HIDDEN),
			("ffn_gate", INTERMEDIATE, HIDDEN),
			("ffn_up", INTERMEDIATE, HIDDEN),
			("ffn_down", HIDDEN, INTERMEDIATE),
		] {
			let scale =
				if part == "ffn_down" { 1.0 / (INTERMEDIATE as f32).sqrt() } else { linear };
			let data = rng.tensor(rows, cols, 2.0 * scale, 0.0);
			tensors.push((name(part), quantize(data, rows, cols, GgmlDType::Q4_1)?));
		}
		for part in ["attn_norm", "ffn_norm"] {
			let data = rng.tensor(1, HIDDEN, 0.1, 1.0);
			tensors.push((name(part), quantize(data, 1, HIDDEN, GgmlDType::F32)?));
		}
	}

	let u32v = |v: usize| Value::U32(v as u32);
	let strings = |xs: Vec<String>| Value::Array(xs.into_iter().map(Value::String).collect());
	let types: Vec<Value> =
		(0..vocab).map(|i| Value::I32(if i < SPECIALS.len() { 3 } else { 1 })).collect();
	let metadata: Vec<(&str, Value)> = vec![
		("general.architecture", Value::String("llama".into())),
		("general.name", Value::String("cinder tiny llama".into())),
		("llama.block_count", u32v(LAYERS)),
		("llama.context_length", u32v(CONTEXT)),
		("llama.embedding_length", u32v(HIDDEN)),
		("llama.feed_forward_length", u32v(INTERMEDIATE)),
		("llama.attention.head_count", u32v(HEADS)),
		("llama.attention.head_count_kv", u32v(KV_HEADS)),
		("llama.rope.freq_base", Value::F32(10_000.0)),
		("llama.rope.dimension_count", u32v(HIDDEN / HEADS)),
		("llama.attention.layer_norm_rms_epsilon", Value::F32(1e-5)),
		("llama.vocab_size", u32v(vocab)),
		("tokenizer.ggml.model", Value::String("gpt2".into())),
		("tokenizer.ggml.pre", Value::String("smollm".into())),
		("tokenizer.ggml.tokens", strings(tokens)),
		("tokenizer.ggml.token_type", Value::Array(types)),
		(
			"tokenizer.ggml.merges",
			strings(MERGES.iter().map(|(a, b)| format!("{a} {b}")).collect()),
		),
		("tokenizer.ggml.bos_token_id", u32v(1)),
		("tokenizer.ggml.eos_token_id", u32v(2)),
	];
	let metadata: Vec<(&str, &Value)> = metadata.iter().map(|(k, v)| (*k, v)).collect();
	let tensors: Vec<(&str, &QTensor)> = tensors.iter().map(|(k, v)| (k.as_str(), v)).collect();
	let io = |source| EngineError::Io { path: path.display().to_string(), source };
	let mut file = std::io::BufWriter::new(std::fs::File::create(path).map_err(io)?);
	gguf_file::write(&mut file, &metadata, &tensors)?;
	std::io::Write::flush(&mut file).map_err(io)?;
	Ok(())
}
