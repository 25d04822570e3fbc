//! The canonical generation program (kernel spec v2, run by the kernel's
//! reference operators on the GGUF's own weight tiles) against candle's
//! quantized llama on the same file: the tiny llama from a fixed seed, and
//! SmolLM2-135M-Instruct when installed.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use cinder_engine::{
	decoder::PackedLlama,
	executor,
	llama::{self, Llama},
	testllama,
};
use cinder_kernel::{
	merkle,
	program::llama::compile,
	sampler::Sampling,
	verify::decoder::{run_reference, Context},
	Weight,
};

fn cosine(a: &[f32], b: &[f32]) -> f64 {
	let dot: f64 = a.iter().zip(b).map(|(x, y)| f64::from(*x) * f64::from(*y)).sum();
	let norm = |v: &[f32]| v.iter().map(|x| f64::from(*x).powi(2)).sum::<f64>().sqrt();
	dot / (norm(a) * norm(b))
}

/// The canonical program's and candle's greedy tokens and first logits.
fn compare(model: &mut Llama, prompt: &[u32], n: u32) -> (Vec<u32>, Vec<u32>, f64) {
	let weights = model.weight_tiles().unwrap();
	let ours =
		model.kernel_reference_generate(&weights, prompt, n, Sampling::Greedy, &[0; 32]).unwrap();
	let logits = model.reference_logits(prompt).unwrap();
	assert_eq!(ours.first_logits.len(), logits.len());
	let theirs = model.reference_generate(prompt, n as usize).unwrap();
	(ours.tokens, theirs, cosine(&ours.first_logits, &logits))
}

#[test]
fn the_canonical_program_follows_candle_on_the_tiny_llama() {
	let dir = tempfile::tempdir().unwrap();
	let path = dir.path().join("tiny.gguf");
	testllama::write(&path, 7).unwrap();
	let mut model = Llama::load(&path).unwrap();
	for text in ["hello", "the digits 1 2 3 are here", "tell me more about the weather there"] {
		let prompt = model.tokenize(&llama::chat_prompt(None, text)).unwrap();
		let (ours, theirs, cos) = compare(&mut model, &prompt, 8);
		// Two layers: the spec and candle agree to float noise.
		assert!(cos >= 0.99999, "{text:?}: cosine {cos}");
		// candle stops after the end-of-reply token; the program runs on.
		assert_eq!(ours[..theirs.len()], theirs[..], "{text:?}");
	}
}

#[test]
fn the_canonical_program_follows_candle_on_smollm2() {
	let Some(path) = llama::installed_smollm2() else { return };
	let mut model = Llama::load(&path).unwrap();
	let prompt =
		model.tokenize(&llama::chat_prompt(None, "What is the capital of France?")).unwrap();
	let (ours, theirs, cos) = compare(&mut model, &prompt, 8);
	eprintln!("SmolLM2: cosine {cos:.6}, ours {ours:?}, candle {theirs:?}");
	// Not 1: candle's f32 attention, RoPE table and double-rounded block
	// terms differ from the spec's in the last bit, and over 30 layers a
	// last-bit difference flips some activations' 8-bit rounding (0.99900
	// on this prompt; ties away from zero instead of to even gives 0.99888).
	assert!(cos >= 0.998, "cosine {cos}");
	assert_eq!(ours[..theirs.len()], theirs[..]);
	assert!(model.detokenize(&ours).unwrap().contains("Paris"));
}

#[test]
fn the_packed_executor_is_the_reference_bit_for_bit_on_any_thread_count() {
	let dir = tempfile::tempdir().unwrap();
	let path = dir.path().join("tiny.gguf");
	testllama::write(&path, 7).unwrap();
	let model = Llama::load(&path).unwrap();
	let tiles = model.weight_tiles().unwrap();
	let packed = PackedLlama::pack(model.shape, tiles.clone()).unwrap();
	let prompt = model.tokenize(&llama::chat_prompt(None, "tell me a story")).unwrap();
	let top_p = Sampling::TopP { temperature: 0.8f32.to_bits(), top_p: 0.9f32.to_bits() };
	for sampling in [Sampling::Greedy, top_p] {
		let seed = [9u8; 32];
		let program = compile(&model.shape, prompt.len() as u32, 20, sampling).unwrap();
		let weight = |i: u32| tiles.get(i as usize).map(Weight::input);
		let reference =
			run_reference(&program, weight, &prompt, model.shape.vocab, Context { seed: &seed })
				.unwrap();
		let indexed: Vec<(u32, &cinder_kernel::Tile)> =
			reference.iter().zip(0u32..).map(|(t, i)| (i, t)).collect();
		let root = merkle::root(&executor::leaves(&indexed));
		let one = packed.generate(&prompt, 20, sampling, &seed, 1, None).unwrap();
		let two = packed.generate(&prompt, 20, sampling, &seed, 2, None).unwrap();
		assert_eq!(one.trace.outputs, reference);
		assert_eq!(one.trace.root, root);
		assert_eq!(two.trace.root, root);
		assert_eq!(one.tokens.len(), 20);
		assert_eq!(two.tokens, one.tokens);
	}
	// The weight root commits to every tile: one byte of one tile moves it.
	assert_eq!(packed.weight_root, merkle::root(&packed.weight_leaves));
	assert_eq!(packed.weight_leaves.len(), tiles.len());
	let mut changed = tiles.clone();
	match &mut changed[model.shape.vocab as usize + 1] {
		Weight::Quant(q) => q.data[7] ^= 1,
		Weight::F32(_) => panic!("tile {} is a query head", model.shape.vocab + 1),
	}
	assert_ne!(PackedLlama::pack(model.shape, changed).unwrap().weight_root, packed.weight_root);
	// Another seed draws another top-p reply; greedy ignores the seed.
	let a = packed.generate(&prompt, 20, top_p, &[1; 32], 2, None).unwrap();
	let b = packed.generate(&prompt, 20, top_p, &[2; 32], 2, None).unwrap();
	assert_ne!(a.tokens, b.tokens);
	let a = packed.generate(&prompt, 4, Sampling::Greedy, &[1; 32], 2, None).unwrap();
	let b = packed.generate(&prompt, 4, Sampling::Greedy, &[2; 32], 2, None).unwrap();
	assert_eq!(a.trace.root, b.trace.root);
	// Stopping at a token: the generation ends right after it, and its trace
	// is the shorter program's, whole.
	let full = packed.generate(&prompt, 20, top_p, &[1; 32], 2, None).unwrap();
	let stop = full.tokens[5];
	let cut = full.tokens.iter().position(|&t| t == stop).unwrap() + 1;
	let stopped = packed.generate(&prompt, 20, top_p, &[1; 32], 2, Some(stop)).unwrap();
	assert_eq!(stopped.tokens, full.tokens[..cut]);
	let exact = packed.generate(&prompt, cut as u32, top_p, &[1; 32], 1, None).unwrap();
	assert_eq!(stopped.trace.root, exact.trace.root);
	assert_eq!(stopped.program, exact.program);
	assert_ne!(stopped.trace.root, full.trace.root);
}

#[test]
fn smollm2_answers_through_the_packed_executor_on_any_thread_count() {
	let Some(path) = llama::installed_smollm2() else { return };
	let mut model = Llama::load(&path).unwrap();
	let packed = PackedLlama::pack(model.shape, model.weight_tiles().unwrap()).unwrap();
	eprintln!(
		"SmolLM2: {} weight tiles, weight root 0x{}",
		packed.weight_leaves.len(),
		packed.weight_root.iter().map(|b| format!("{b:02x}")).collect::<String>()
	);
	let prompt =
		model.tokenize(&llama::chat_prompt(None, "What is the capital of France?")).unwrap();
	let one = packed.generate(&prompt, 8, Sampling::Greedy, &[0; 32], 1, None).unwrap();
	let two = packed.generate(&prompt, 8, Sampling::Greedy, &[0; 32], 2, None).unwrap();
	assert_eq!(one.trace.root, two.trace.root);
	let theirs = model.reference_generate(&prompt, 8).unwrap();
	assert_eq!(one.tokens[..theirs.len()], theirs[..]);
	assert!(model.detokenize(&one.tokens).unwrap().contains("Paris"));
}
