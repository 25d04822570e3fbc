//! The engine on the seeded test model: the fast executor equals the scalar
//! reference executor bit for bit, for any thread count; the canonical
//! embedding matches candle's f32 forward pass; single steps and weight tiles
//! verify against their commitments; bad input is a typed error.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use cinder_engine::{executor, model::cosine, simd, testmodel, EngineError, Model};
use cinder_kernel::{
	merkle,
	program::Resolved,
	testing::{any_f32, bits, linear_case, LinearCase},
	verify, KernelError, Tile,
};
use proptest::prelude::*;

fn model() -> (tempfile::TempDir, Model) {
	let dir = tempfile::tempdir().unwrap();
	testmodel::write(dir.path(), 7).unwrap();
	let model = Model::load(dir.path()).unwrap();
	(dir, model)
}

const SENTENCES: &[&str] = &[
	"the cat sat on the mat.",
	"a dog ran in the park!",
	"the chain reads a block, the model reads a token.",
	"fast red car on the road",
	"fish and bird",
	"the sun and the moon and the star in the sky over the sea and the river by the hill",
];

#[test]
fn fast_threaded_executor_equals_scalar_reference() {
	let (_dir, m) = model();
	for text in SENTENCES {
		let ids = m.tokenize(text).unwrap();
		let fast = m.embed(&ids, 2).unwrap();
		let scalar = verify::run_reference(
			&fast.program,
			|i| m.weights.get(i as usize),
			&ids,
			m.shape.vocab,
		)
		.unwrap();
		assert_eq!(fast.trace.outputs.len(), scalar.len());
		for (i, (a, b)) in fast.trace.outputs.iter().zip(&scalar).enumerate() {
			assert_eq!(a.to_bytes(), b.to_bytes(), "step {i} of {text:?}");
		}
		assert_eq!(fast.trace.root, merkle::root(&merkle::trace_leaves(&scalar)));
	}
}

#[test]
fn trace_is_identical_across_runs_and_thread_counts() {
	let (_dir, m) = model();
	let ids = m.tokenize(SENTENCES[5]).unwrap();
	assert!(ids.len() > 16, "spans several row blocks");
	let one = m.embed(&ids, 1).unwrap();
	let two = m.embed(&ids, 2).unwrap();
	let again = m.embed(&ids, 2).unwrap();
	assert_eq!(one.trace.leaves, two.trace.leaves);
	assert_eq!(one.trace.root, two.trace.root);
	assert_eq!(two.trace.root, again.trace.root);
	let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
	assert_eq!(bits(&one.vector), bits(&two.vector));
}

#[test]
fn canonical_embedding_matches_candle_reference() {
	let (_dir, m) = model();
	for text in SENTENCES {
		let ids = m.tokenize(text).unwrap();
		let canonical = m.embed(&ids, 2).unwrap().vector;
		let reference = m.reference_embedding(&ids).unwrap();
		let c = cosine(&canonical, &reference);
		assert!(c >= 0.9999, "{text:?}: cosine {c}");
		let norm: f32 = canonical.iter().map(|x| x * x).sum::<f32>().sqrt();
		assert!((norm - 1.0).abs() < 1e-5);
	}
}

#[test]
fn single_steps_and_weight_tiles_verify_against_commitments() {
	let (_dir, m) = model();
	let ids = m.tokenize(SENTENCES[2]).unwrap();
	let e = m.embed(&ids, 2).unwrap();
	let count = e.trace.steps();
	for (i, step) in e.program.steps.iter().enumerate().step_by(7) {
		let inputs: Vec<&Tile> = step
			.resolve(&ids, m.shape.vocab)
			.unwrap()
			.into_iter()
			.map(|s| match s {
				Resolved::Step(j) => &e.trace.outputs[j as usize],
				Resolved::Weight(j) => {
					let proof = m.weight_proof(j).unwrap();
					let leaf = merkle::tile_leaf(j, &m.weights[j as usize]);
					let n = m.weights.len() as u32;
					assert!(merkle::verify(&m.weights_root, leaf, j, n, &proof));
					&m.weights[j as usize]
				}
			})
			.collect();
		let out = verify::recompute(step, &inputs).unwrap();
		let leaf = merkle::tile_leaf(i as u32, &out);
		assert_eq!(leaf, e.trace.leaves[i]);
		let proof = merkle::proof(&e.trace.leaves, i as u32).unwrap();
		assert!(merkle::verify(&e.trace.root, leaf, i as u32, count, &proof));
	}
	// A tampered weight tile no longer matches the weight root.
	let mut bad = m.weights[3].clone();
	bad.data[0] += 1e-3;
	let proof = m.weight_proof(3).unwrap();
	let n = m.weights.len() as u32;
	assert!(!merkle::verify(&m.weights_root, merkle::tile_leaf(3, &bad), 3, n, &proof));
}

proptest! {
	#![proptest_config(ProptestConfig::with_cases(64))]

	/// Leaves hashed together (several blake2b lanes, borrowed data, the
	/// canonicalising encoder for tiles with NaNs) are each tile's leaf as
	/// the runtime computes it from one buffer.
	#[test]
	fn batched_leaves_equal_the_runtime_leaves(
		tiles in proptest::collection::vec(
			(1u32..6, 1u32..300).prop_flat_map(|(r, c)| {
				proptest::collection::vec(any_f32(), (r * c) as usize)
					.prop_map(move |data| Tile::new(r, c, data).unwrap())
			}),
			0..9,
		),
		first in 0u32..1_000_000,
	) {
		let indexed: Vec<(u32, &Tile)> = (first..).zip(&tiles).collect();
		let batched = executor::leaves(&indexed);
		let single: Vec<_> = indexed.iter().map(|(i, t)| merkle::tile_leaf(*i, t)).collect();
		prop_assert_eq!(batched, single);
	}
}

#[test]
fn bad_input_is_a_typed_error() {
	let (_dir, m) = model();
	assert!(matches!(m.embed(&[], 1), Err(EngineError::InputLength { len: 0, .. })));
	let long = vec![5u32; m.max_tokens() + 1];
	assert!(matches!(m.embed(&long, 1), Err(EngineError::InputLength { .. })));
	assert!(matches!(
		m.embed(&[2, 9999, 3], 1),
		Err(EngineError::Kernel(KernelError::TokenOutOfRange))
	));
	assert!(matches!(Model::load("/nonexistent/model"), Err(EngineError::Io { .. })));
}

#[test]
fn generator_and_tokenizer_are_deterministic() {
	let (a, ma) = model();
	let (b, mb) = model();
	for f in ["model.safetensors", "tokenizer.json", "config.json"] {
		assert_eq!(
			std::fs::read(a.path().join(f)).unwrap(),
			std::fs::read(b.path().join(f)).unwrap()
		);
	}
	assert_eq!(ma.weights_root, mb.weights_root);
	assert_eq!(ma.files, mb.files);
	let ids = ma.tokenize("The cat sat").unwrap();
	assert_eq!(ids.first(), Some(&2)); // [CLS]
	assert_eq!(ids.last(), Some(&3)); // [SEP]
	assert_eq!(ma.detokenize(&ids).unwrap(), "the cat sat");
}

proptest! {
	#![proptest_config(ProptestConfig::with_cases(200))]

	/// The packed GEMM linear layer on every instruction set this CPU runs
	/// (AVX-512, AVX2, portable) equals the scalar reference bit for bit.
	#[test]
	fn simd_linear_is_bit_identical(c in linear_case(1..9, 1..70, 1..70)) {
		let LinearCase { rows, k, n, a, w, b, gelu } = c;
		let mut reference = vec![0.0; rows * n];
		cinder_kernel::ops::linear(&a, k, &w, n, &b, gelu, &mut reference);
		for isa in simd::Isa::available() {
			let mut fast = vec![0.0; rows * n];
			simd::linear(isa, &a, k, &w, n, &b, gelu, &mut fast);
			prop_assert_eq!(bits(&reference), bits(&fast), "{:?}", isa);
		}
	}
}
