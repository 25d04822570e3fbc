//! A small BERT-shaped model generated from a fixed seed, written as the same
//! three files a real model has, so tests exercise the real loader without a
//! download.

use std::{collections::HashMap, path::Path};

use candle_core::{Device, Tensor};
use serde_json::json;

use crate::{EngineError, Result};

/// Words of the test vocabulary (after the special tokens).
const WORDS: &[&str] = &[
	"the", "a", "cat", "dog", "sat", "on", "mat", "ran", "in", "park", "chain", "block", "token",
	"model", "fast", "slow", "red", "blue", "is", "was", "and", "or", "not", "big", "small",
	"tree", "house", "car", "road", "sun", "moon", "star", "sky", "sea", "river", "hill", "fish",
	"bird", "eats", "sings", "runs", "reads", "book", "code", "rust", "wasm", "proof", "fraud",
	"stake", "coin", ".", ",", "!", "?", "##s", "##ed", "##ing", "##er", "##ly",
];
const SPECIAL: [&str; 5] = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"];

/// Hyper-parameters of the test model.
pub const HIDDEN: usize = 32;
pub const LAYERS: usize = 2;
pub const HEADS: usize = 4;
pub const INTERMEDIATE: usize = 64;
pub const MAX_POSITIONS: usize = 64;

struct Rng(u64);

impl Rng {
	/// Uniform in [-1, 1), xorshift64*.
	fn next(&mut self) -> f32 {
		self.0 ^= self.0 >> 12;
		self.0 ^= self.0 << 25;
		self.0 ^= self.0 >> 27;
		let x = self.0.wrapping_mul(0x2545_f491_4f6c_dd1d);
		((x >> 40) as f32 / (1u64 << 23) as f32) - 1.0
	}

	fn tensor(&mut self, dims: &[usize], scale: f32, offset: f32) -> Result<Tensor> {
		let n: usize = dims.iter().product();
		let data: Vec<f32> = (0..n).map(|_| offset + scale * self.next()).collect();
		Ok(Tensor::from_vec(data, dims, &Device::Cpu)?)
	}
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> EngineError + '_ {
	move |source| EngineError::Io { path: path.display().to_string(), source }
}

/// Writes `config.json`, `tokenizer.json` and `model.safetensors` of the test
/// model into `dir`. The same `seed` always gives the same files.
pub fn write(dir: &Path, seed: u64) -> Result<()> {
	std::fs::create_dir_all(dir).map_err(io(dir))?;
	let vocab: Vec<&str> = SPECIAL.iter().chain(WORDS).copied().collect();

	let config = json!({
		"architectures": ["BertModel"],
		"attention_probs_dropout_prob": 0.1,
		"hidden_act": "gelu",
		"hidden_dropout_prob": 0.1,
		"hidden_size": HIDDEN,
		"initializer_range": 0.02,
		"intermediate_size": INTERMEDIATE,
		"layer_norm_eps": 1e-12,
		"max_position_embeddings": MAX_POSITIONS,
		"model_type": "bert",
		"num_attention_heads": HEADS,
		"num_hidden_layers": LAYERS,
		"pad_token_id": 0,
		"position_embedding_type": "absolute",
		"type_vocab_size": 2,
		"vocab_size": vocab.len(),
	});
	let path = dir.join(crate::model::CONFIG_FILE);
	std::fs::write(&path, serde_json::to_vec_pretty(&config).unwrap_or_default())
		.map_err(io(&path))?;

	let ids: serde_json::Map<String, serde_json::Value> =
		vocab.iter().enumerate().map(|(i, w)| (w.to_string(), json!(i))).collect();
	let added: Vec<_> = SPECIAL
		.iter()
		.enumerate()
		.map(|(i, w)| {
			json!({"id": i, "content": w, "single_word": false, "lstrip": false, "rstrip": false,
				"normalized": false, "special": true})
		})
		.collect();
	let tokenizer = json!({
		"version": "1.0",
		"truncation": null,
		"padding": null,
		"added_tokens": added,
		"normalizer": {"type": "BertNormalizer", "clean_text": true, "handle_chinese_chars": true,
			"strip_accents": null, "lowercase": true},
		"pre_tokenizer": {"type": "BertPreTokenizer"},
		"post_processor": {"type": "BertProcessing", "sep": ["[SEP]", 3], "cls": ["[CLS]", 2]},
		"decoder": {"type": "WordPiece", "prefix": "##", "cleanup": true},
		"model": {"type": "WordPiece", "unk_token": "[UNK]", "continuing_subword_prefix": "##",
			"max_input_chars_per_word": 100, "vocab": ids},
	});
	let path = dir.join(crate::model::TOKENIZER_FILE);
	std::fs::write(&path, serde_json::to_vec(&tokenizer).unwrap_or_default()).map_err(io(&path))?;

	let mut rng = Rng(seed.max(1));
	let mut t: HashMap<String, Tensor> = HashMap::new();
	let (d, v) = (HIDDEN, vocab.len());
	t.insert("embeddings.word_embeddings.weight".into(), rng.tensor(&[v, d], 0.5, 0.0)?);
	t.insert(
		"embeddings.position_embeddings.weight".into(),
		rng.tensor(&[MAX_POSITIONS, d], 0.1, 0.0)?,
	);
	t.insert("embeddings.token_type_embeddings.weight".into(), rng.tensor(&[2, d], 0.1, 0.0)?);
	t.insert("embeddings.LayerNorm.weight".into(), rng.tensor(&[d], 0.1, 1.0)?);
	t.insert("embeddings.LayerNorm.bias".into(), rng.tensor(&[d], 0.05, 0.0)?);
	let w = 1.0 / (d as f32).sqrt();
	for l in 0..LAYERS {
		let p = |s: &str| format!("encoder.layer.{l}.{s}");
		for name in [
			"attention.self.query",
			"attention.self.key",
			"attention.self.value",
			"attention.output.dense",
		] {
			t.insert(p(&format!("{name}.weight")), rng.tensor(&[d, d], w, 0.0)?);
			t.insert(p(&format!("{name}.bias")), rng.tensor(&[d], 0.05, 0.0)?);
		}
		t.insert(p("intermediate.dense.weight"), rng.tensor(&[INTERMEDIATE, d], w, 0.0)?);
		t.insert(p("intermediate.dense.bias"), rng.tensor(&[INTERMEDIATE], 0.05, 0.0)?);
		t.insert(
			p("output.dense.weight"),
			rng.tensor(&[d, INTERMEDIATE], 1.0 / (INTERMEDIATE as f32).sqrt(), 0.0)?,
		);
		t.insert(p("output.dense.bias"), rng.tensor(&[d], 0.05, 0.0)?);
		for norm in ["attention.output.LayerNorm", "output.LayerNorm"] {
			t.insert(p(&format!("{norm}.weight")), rng.tensor(&[d], 0.1, 1.0)?);
			t.insert(p(&format!("{norm}.bias")), rng.tensor(&[d], 0.05, 0.0)?);
		}
	}
	let path = dir.join(crate::model::WEIGHTS_FILE);
	candle_core::safetensors::save(&t, &path)?;
	Ok(())
}
