//! The llama loader: a tiny llama GGUF written from a fixed seed (and
//! SmolLM2-135M-Instruct itself when installed) loads through the GGUF
//! reader, its byte-level BPE tokenizer is built from the file's own
//! vocabulary and behaves as the model's pre-tokenizer says, candle's
//! reference forward runs on it deterministically, and broken files are
//! refused with the file and the reason.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use cinder_engine::{
	llama::{self, Llama},
	testllama, EngineError,
};
use cinder_kernel::quant::WeightFormat;

fn tiny() -> (tempfile::TempDir, std::path::PathBuf) {
	let dir = tempfile::tempdir().unwrap();
	let path = dir.path().join("tiny.gguf");
	testllama::write(&path, 7).unwrap();
	(dir, path)
}

/// The tiny vocabulary's id of `token`.
fn id(token: &str) -> u32 {
	testllama::vocabulary().iter().position(|t| t == token).unwrap() as u32
}

#[test]
fn the_tiny_llama_loads_with_its_shape_and_tokenizer() {
	let (_dir, path) = tiny();
	let model = Llama::load(&path).unwrap();
	let c = model.shape;
	assert_eq!(
		(
			c.vocab as usize,
			c.hidden,
			c.layers,
			c.heads,
			c.kv_heads,
			c.intermediate,
			c.max_positions
		),
		(testllama::vocabulary().len(), 64, 2, 4, 2, 128, 96)
	);
	assert_eq!(c.head_dim(), 16);
	assert_eq!(
		(model.shape.linear, model.shape.embedding),
		(WeightFormat::Q4_1, WeightFormat::Q8_0)
	);
	assert_eq!((model.shape.hidden, model.shape.max_positions), (64, 96));
	assert_eq!(f32::from_bits(c.eps), 1e-5);
	assert_eq!(model.eos, 2);

	// Merges apply by rank; no space is put in front of the text.
	assert_eq!(
		model.tokenize("hello there").unwrap(),
		vec![id("hello"), id("Ġt"), id("he"), id("r"), id("e")]
	);
	// Digits are split one by one before merging (the `12` merge never applies).
	assert_eq!(model.tokenize("123").unwrap(), vec![id("1"), id("2"), id("3")]);
	// Control tokens are found whole.
	assert_eq!(
		model.tokenize("<|im_start|>user").unwrap(),
		vec![1, id("u"), id("s"), id("e"), id("r")]
	);
	for text in ["héllo wörld, 2024!\n\ttabs", "<|im_start|>user\nhi<|im_end|>\n", "  two  spaces"]
	{
		let ids = model.tokenize(text).unwrap();
		assert_eq!(model.detokenize(&ids).unwrap(), text);
	}
	assert!(matches!(model.detokenize(&[c.vocab]), Err(EngineError::Tokenizer(_))));
	// The file hash is the chain's blake2-256 of the file.
	assert_eq!(model.file_hash, sp_crypto_hashing::blake2_256(&std::fs::read(&path).unwrap()));
}

#[test]
fn candles_reference_forward_runs_on_the_tiny_llama_deterministically() {
	let (_dir, path) = tiny();
	let mut model = Llama::load(&path).unwrap();
	let prompt = model.tokenize(&llama::chat_prompt(None, "hello")).unwrap();
	let logits = model.reference_logits(&prompt).unwrap();
	assert_eq!(logits.len(), model.shape.vocab as usize);
	assert!(logits.iter().all(|x| x.is_finite()));
	let first = model.reference_generate(&prompt, 12).unwrap();
	assert!(!first.is_empty() && first.len() <= 12);
	assert_eq!(first[0], cinder_kernel::sampler::argmax(&logits));
	assert_eq!(model.reference_generate(&prompt, 12).unwrap(), first);
	// Too long for the context, or empty: refused.
	let context = model.shape.max_positions as usize;
	assert!(matches!(
		model.reference_generate(&prompt, context),
		Err(EngineError::InputLength { .. })
	));
	assert!(matches!(model.reference_logits(&[]), Err(EngineError::InputLength { .. })));
}

#[test]
fn broken_gguf_files_are_refused_with_the_reason() {
	let (dir, path) = tiny();
	let bytes = std::fs::read(&path).unwrap();
	let cut = dir.path().join("cut.gguf");
	for len in [3, 100, bytes.len() / 2, bytes.len() - 1] {
		std::fs::write(&cut, &bytes[..len]).unwrap();
		match Llama::load(&cut) {
			Err(EngineError::BadFile { path, .. }) => assert!(path.ends_with("cut.gguf")),
			Err(EngineError::Candle(_)) => {}
			other => panic!("{len} bytes: {:?}", other.map(|_| ())),
		}
	}
	assert!(matches!(Llama::load(&dir.path().join("absent.gguf")), Err(EngineError::Io { .. })));
}

#[test]
fn smollm2_answers_a_question_with_candles_reference() {
	let Some(path) = llama::installed_smollm2() else { return };
	let mut model = Llama::load(&path).unwrap();
	let c = model.shape;
	assert_eq!(
		(c.vocab, c.hidden, c.layers, c.heads, c.kv_heads, c.intermediate, c.max_positions),
		(49152, 576, 30, 9, 3, 1536, 8192)
	);
	assert_eq!(model.tokenize("<|im_start|><|im_end|>").unwrap(), vec![1, 2]);
	// The kernel's shape: Q4_1 layers, a Q8_0 tied embedding, θ = 100000.
	assert_eq!(
		(model.shape.linear, model.shape.embedding, f32::from_bits(model.shape.rope_theta)),
		(WeightFormat::Q4_1, WeightFormat::Q8_0, 100_000.0)
	);
	assert_eq!(model.eos, 2);
	let prompt =
		model.tokenize(&llama::chat_prompt(None, "What is the capital of France?")).unwrap();
	let reply = model.reference_generate(&prompt, 16).unwrap();
	let text = model.detokenize(&reply).unwrap();
	assert!(text.contains("Paris"), "reply: {text:?}");
}
