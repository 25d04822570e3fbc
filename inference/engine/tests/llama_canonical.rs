//! The canonical generation program (kernel spec v2, run by the kernel's
//! reference operators on the GGUF's own weight tiles) against candle's
//! quantized llama on the same file: the tiny llama from a fixed seed, and
//! SmolLM2-135M-Instruct when installed.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use cinder_engine::{
	llama::{self, Llama},
	testllama,
};
use cinder_kernel::sampler::Sampling;

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
