//! Llama generation programs (kernel spec v2): their layout and cuts on
//! SmolLM2's shape, and the reference run of a small random decoder.
#![allow(clippy::unwrap_used)]

use cinder_kernel::{
	program::llama::{compile, LlamaShape, LlamaTensor, Plan},
	quant::WeightFormat,
	sampler::Sampling,
	verify::decoder::{run_reference, sampled_id, Context},
	KernelError, Op, Program, Source, Weight, MAX_STEP_BYTES,
};

use cinder_kernel::testing::{random_llama_weights, smollm2_shape as smollm2};

fn tiny() -> LlamaShape {
	LlamaShape {
		vocab: 300,
		hidden: 64,
		layers: 2,
		heads: 4,
		kv_heads: 2,
		intermediate: 128,
		max_positions: 400,
		rope_theta: 10_000.0f32.to_bits(),
		eps: 1e-5f32.to_bits(),
		linear: WeightFormat::Q4_1,
		embedding: WeightFormat::Q8_0,
	}
}

/// Checks every step fits, reads only earlier steps and existing weights,
/// and a sampled token only from a sample step.
fn check(shape: &LlamaShape, program: &Program) -> Result<(), KernelError> {
	let row = shape.weight_tile(0)?.map(|w| w.bytes()).unwrap_or(0);
	program.check_bytes(|i| shape.weight_tile(i).ok().flatten().map(|w| w.bytes()), row)
}

fn steps_per_token(shape: &LlamaShape, prompt: u32, generated: u32) -> u32 {
	let a = compile(shape, prompt, generated, Sampling::Greedy).unwrap();
	let b = compile(shape, prompt, generated + 1, Sampling::Greedy).unwrap();
	b.len() - a.len()
}

#[test]
fn smollm2_generation_programs_fit_and_grow_by_prefix() {
	let s = smollm2();
	let p = compile(&s, 20, 4, Sampling::Greedy).unwrap();
	check(&s, &p).unwrap();
	// Four tokens sampled, the last just before the step collecting them.
	let samples = p.sample_steps();
	assert_eq!(samples.len(), 4);
	assert_eq!(samples.last().copied(), Some(p.len() - 2));
	let last = p.steps.last().unwrap();
	assert_eq!((last.op, last.rows, last.cols), (Op::Collect, 1, 4));
	assert_eq!(last.inputs, samples.iter().map(|&s| Source::Step(s)).collect::<Vec<_>>());
	// Each generated token's segment reads the token sampled before it.
	let readers: Vec<u32> = p
		.steps
		.iter()
		.flat_map(|st| st.inputs.iter())
		.filter_map(|s| match s {
			Source::Sampled { step, .. } => Some(*step),
			_ => None,
		})
		.collect();
	assert!(samples[..3].iter().all(|s| readers.contains(s)));
	assert!(!readers.contains(&samples[3]));
	// The program for one more token extends this one but its last step.
	let q = compile(&s, 20, 5, Sampling::Greedy).unwrap();
	let body = p.steps.len() - 1;
	assert_eq!(&q.steps[..body], &p.steps[..body]);
	// Per generated token: 9 lookups; per layer 1 + 9 + 3 + 3 + 9 + 9 + 1
	// + 6 + 9 = 50 with one attention step per head; the final norm, 192
	// logit tiles, the sampler.
	assert_eq!(steps_per_token(&s, 20, 4), 9 + 30 * 50 + 1 + 192 + 1);
	// Past 16 key tiles attention takes a partial per chunk and a combine.
	assert_eq!(steps_per_token(&s, 16, 16), 9 + 30 * (50 + 9 * 2) + 1 + 192 + 1);
	// A whole request's trace, from the closed form alone (the runtime's
	// view): 16 + 64 tokens and 128 + 64.
	let short = Plan::new(&s, 16, 64, Sampling::Greedy).unwrap();
	let long = Plan::new(&s, 128, 64, Sampling::Greedy).unwrap();
	eprintln!("SmolLM2 trace: 16 + 64 tokens {} steps, 128 + 64 {}", short.len(), long.len());
	assert_eq!(
		short.step(short.len() - 2).unwrap().op,
		Op::Sample { sampling: Sampling::Greedy, index: 63 }
	);
	assert_eq!(short.step(short.len() - 1).unwrap().inputs.len(), 64);
	assert_eq!(long.sample_steps().len(), 64);
	// Lengths the model cannot hold are refused.
	assert_eq!(compile(&s, 0, 4, Sampling::Greedy), Err(KernelError::BadSequenceLength));
	assert_eq!(compile(&s, 4, 0, Sampling::Greedy), Err(KernelError::BadSequenceLength));
	assert_eq!(compile(&s, 8000, 193, Sampling::Greedy), Err(KernelError::BadSequenceLength));
}

#[test]
fn smollm2_weight_layout_covers_every_tensor_once() {
	let s = smollm2();
	let count = s.weight_count().unwrap();
	let tiles: Vec<_> = (0..count).map(|i| s.weight_tile(i).unwrap().unwrap()).collect();
	assert_eq!(s.weight_tile(count), Ok(None));
	assert!(tiles.iter().all(|w| w.bytes() <= MAX_STEP_BYTES));
	// Rows of each tensor of each layer, in order, without gaps.
	let rows_of = |tensor: LlamaTensor, layer: u32| -> Vec<(u32, u32)> {
		tiles
			.iter()
			.filter(|w| w.tensor == tensor && w.layer == layer)
			.map(|w| (w.row, w.rows))
			.collect()
	};
	let contiguous = |parts: &[(u32, u32)], total: u32| {
		let mut next = 0;
		for &(row, rows) in parts {
			assert_eq!(row, next);
			next += rows;
		}
		assert_eq!(next, total);
	};
	contiguous(&rows_of(LlamaTensor::Embedding, 0), 49152);
	contiguous(&rows_of(LlamaTensor::Output, 0), 49152);
	for l in [0, 29] {
		contiguous(&rows_of(LlamaTensor::Query, l), 576);
		contiguous(&rows_of(LlamaTensor::Key, l), 192);
		contiguous(&rows_of(LlamaTensor::Value, l), 192);
		contiguous(&rows_of(LlamaTensor::AttentionOutput, l), 576);
		contiguous(&rows_of(LlamaTensor::Gate, l), 1536);
		contiguous(&rows_of(LlamaTensor::Up, l), 1536);
		contiguous(&rows_of(LlamaTensor::Down, l), 576);
		assert_eq!(rows_of(LlamaTensor::AttentionNorm, l), vec![(0, 1)]);
		assert_eq!(rows_of(LlamaTensor::MlpNorm, l), vec![(0, 1)]);
	}
	assert!(tiles.iter().all(|w| w.layer < 30));
	assert_eq!(rows_of(LlamaTensor::OutputNorm, 0), vec![(0, 1)]);
	// Formats: Q8_0 embedding rows, Q4_1 projections, f32 norms.
	assert_eq!(tiles[0].format, Some(WeightFormat::Q8_0));
	assert_eq!(tiles[49153].format, Some(WeightFormat::Q4_1));
	assert_eq!(tiles[49152].format, None);
}

/// Deterministic bytes from a counter (an LCG): weights for the tiny model.
fn generate(shape: &LlamaShape, weights: &[Weight], prompt: &[u32], n: u32) -> Vec<u32> {
	let program = compile(shape, prompt.len() as u32, n, Sampling::Greedy).unwrap();
	check(shape, &program).unwrap();
	let weight = |i: u32| weights.get(i as usize).map(Weight::input);
	let outs =
		run_reference(&program, weight, prompt, shape.vocab, Context { seed: &[3; 32] }).unwrap();
	program
		.sample_steps()
		.iter()
		.map(|&s| sampled_id(&outs[s as usize], shape.vocab).unwrap())
		.collect()
}

#[test]
fn generating_through_the_key_value_tiles_equals_prefilling_the_tokens() {
	let s = tiny();
	let weights = random_llama_weights(&s);
	let prompt: Vec<u32> = (0..19).map(|i| (i * 37 + 5) % 300).collect();
	let tokens = generate(&s, &weights, &prompt, 4);
	assert_eq!(tokens.len(), 4);
	// A random model does not just repeat one token.
	assert!(tokens.iter().any(|&t| t != tokens[0]), "{tokens:?}");
	// Feeding the generated tokens back as prompt gives the same next
	// tokens: each generated segment's keys and values are the rows a
	// prefill computes (up to 16 key tiles, one attention step reads them
	// all in the same order).
	for k in 1..4 {
		let mut longer = prompt.clone();
		longer.extend_from_slice(&tokens[..k]);
		assert_eq!(generate(&s, &weights, &longer, 1), tokens[k..=k], "after {k}");
	}
	// A different prompt gives a different continuation.
	let mut other = prompt.clone();
	other[0] = (other[0] + 1) % 300;
	assert_ne!(generate(&s, &weights, &other, 4), tokens);
}

#[test]
fn attention_cut_into_chunks_matches_prefill_too() {
	// After a 256-token prompt (16 key tiles), the first generated token's
	// keys are 17 tiles: attention takes two partials and a combine. A
	// prefill of the prompt and that token cuts its last row block's keys
	// the same way, so it samples the same next token.
	let s = tiny();
	let weights = random_llama_weights(&s);
	let prompt: Vec<u32> = (0..256).map(|i| (i * 91 + 11) % 300).collect();
	let program = compile(&s, 256, 2, Sampling::Greedy).unwrap();
	let combine = program.steps.iter().position(|st| st.op == Op::Combine).unwrap();
	// Only the generated token's segment combines.
	assert!(combine > program.sample_steps()[0] as usize);
	let tokens = generate(&s, &weights, &prompt, 2);
	let mut longer = prompt.clone();
	longer.push(tokens[0]);
	assert_eq!(generate(&s, &weights, &longer, 1), tokens[1..]);
}
