//! SmolLM2-135M-Instruct's canonical generation (kernel spec v2, the packed
//! executor) against candle's quantized llama on the same GGUF, over 20
//! chat prompts: how many greedy replies agree with candle's for their
//! first 16 tokens, and the cosine of every position's logits (candle
//! teacher-forced along our tokens). Skipped when the model is not
//! installed (`scripts/fetch-models.sh`).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use cinder_engine::{
	decoder::{sampled_logits, PackedLlama},
	llama::{self, Llama},
};
use cinder_kernel::sampler::Sampling;

const PROMPTS: [&str; 20] = [
	"What is the capital of France?",
	"Name three primary colors.",
	"How many legs does a spider have?",
	"What is two plus two?",
	"Write a haiku about the sea.",
	"What is the boiling point of water in Celsius?",
	"Who wrote Romeo and Juliet?",
	"Give me a synonym for happy.",
	"What planet is closest to the sun?",
	"Translate 'good morning' into French.",
	"What do bees make?",
	"List the days of the week.",
	"What is the largest ocean on Earth?",
	"Explain what a noun is in one sentence.",
	"What color is the sky on a clear day?",
	"How many minutes are in an hour?",
	"What is the opposite of cold?",
	"Name a fruit that is yellow.",
	"What language is spoken in Brazil?",
	"Why do we need sleep?",
];

const NEW: u32 = 16;

fn cosine(a: &[f32], b: &[f32]) -> f64 {
	let dot: f64 = a.iter().zip(b).map(|(x, y)| f64::from(*x) * f64::from(*y)).sum();
	let norm = |v: &[f32]| v.iter().map(|x| f64::from(*x).powi(2)).sum::<f64>().sqrt();
	dot / (norm(a) * norm(b))
}

#[test]
fn smollm2_greedy_replies_and_logits_follow_candle() {
	let Some(path) = llama::installed_smollm2() else { return };
	let mut model = Llama::load(&path).unwrap();
	let packed = PackedLlama::pack(model.shape, model.weight_tiles().unwrap()).unwrap();
	let mut agree = 0;
	let mut cosines = Vec::new();
	for text in PROMPTS {
		let prompt = model.tokenize(&llama::chat_prompt(None, text)).unwrap();
		let ours = packed.generate(&prompt, NEW, Sampling::Greedy, &[0; 32], 2, None).unwrap();
		let theirs = model.reference_generate(&prompt, NEW as usize).unwrap();
		// candle stops after the end-of-reply token; the program runs on.
		let same = ours.tokens[..theirs.len()] == theirs[..];
		agree += usize::from(same);
		let forced = model.reference_logits_along(&prompt, &ours.tokens).unwrap();
		let worst = sampled_logits(&ours.program, &ours.trace.outputs)
			.iter()
			.zip(&forced)
			.map(|(a, b)| cosine(a, b))
			.fold(1.0f64, f64::min);
		cosines.push(worst);
		eprintln!(
			"{text:?}: {} worst cosine {worst:.6}; {:?}",
			if same { "same" } else { "differs" },
			model.detokenize(&ours.tokens).unwrap()
		);
	}
	cosines.sort_by(f64::total_cmp);
	eprintln!(
		"{agree}/20 replies equal candle's for {NEW} tokens; per-prompt worst logit cosine: min {:.6}, median {:.6}",
		cosines[0], cosines[10]
	);
	// candle does not reproduce itself to the 18 of 20 and 0.999:
	// its own prefill and step-by-step forwards (same tokens, same file)
	// pick the same 16 tokens on 13 of these prompts and their logits part
	// to cosine 0.986 (Q8 activations: a last-bit difference anywhere flips
	// some 8-bit roundings, and 30 layers carry it on). The bounds here sit
	// inside that band; a wrong operator (RoPE, attention, a norm) agrees on
	// no reply and falls far below.
	assert!(agree >= 8, "{agree} of 20 agree");
	assert!(cosines[0] >= 0.98, "worst cosine {}", cosines[0]);
}
