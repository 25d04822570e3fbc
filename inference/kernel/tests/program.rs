//! Compiling a small BERT, running it with the reference executor, and
//! re-checking single steps and trace proofs as the runtime will.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use cinder_kernel::{
	merkle,
	program::bert::{compile, weight_layout, BertShape},
	verify::{recompute, run_reference},
	KernelError, Op, Source, Tile, MAX_STEP_BYTES,
};

fn small() -> BertShape {
	BertShape {
		vocab: 50,
		hidden: 32,
		layers: 2,
		heads: 4,
		intermediate: 64,
		max_positions: 40,
		type_vocab: 2,
		eps: 1e-12f32.to_bits(),
	}
}

/// Deterministic pseudo-random weights (xorshift), in the layout's shapes.
fn weights(shape: &BertShape) -> Vec<Tile> {
	let mut state = 0x2545_f491_4f6c_dd1du64;
	weight_layout(shape)
		.unwrap()
		.iter()
		.map(|t| {
			let data = (0..t.rows * t.cols)
				.map(|_| {
					state ^= state << 13;
					state ^= state >> 7;
					state ^= state << 17;
					((state >> 40) as f32 / (1u64 << 24) as f32 - 0.5) * 0.2
				})
				.collect();
			Tile::new(t.rows, t.cols, data).unwrap()
		})
		.collect()
}

fn ids(n: u32) -> Vec<u32> {
	(0..n).map(|i| (i * 7 + 3) % 50).collect()
}

#[test]
fn small_bert_runs_and_is_a_unit_vector() {
	let shape = small();
	let w = weights(&shape);
	for len in [1u32, 5, 16, 17, 40] {
		let (program, layout) = compile(&shape, len).unwrap();
		assert_eq!(layout.len(), w.len());
		let outs = run_reference(&program, |i| w.get(i as usize), &ids(len), shape.vocab).unwrap();
		let emb = outs.last().unwrap();
		assert_eq!((emb.rows, emb.cols), (1, 32));
		let norm: f32 = emb.data.iter().map(|x| x * x).sum::<f32>().sqrt();
		assert!((norm - 1.0).abs() < 1e-5, "len {len}: norm {norm}");
		// Re-running gives the same trace root.
		let again = run_reference(&program, |i| w.get(i as usize), &ids(len), shape.vocab).unwrap();
		assert_eq!(
			merkle::root(&merkle::trace_leaves(&outs)),
			merkle::root(&merkle::trace_leaves(&again))
		);
	}
}

#[test]
fn every_step_fits_and_single_steps_reproduce_their_leaves() {
	let shape = small();
	let w = weights(&shape);
	let tokens = ids(21);
	let (program, _) = compile(&shape, 21).unwrap();
	let outs = run_reference(&program, |i| w.get(i as usize), &tokens, shape.vocab).unwrap();
	let leaves = merkle::trace_leaves(&outs);
	let root = merkle::root(&leaves);
	for (i, step) in program.steps.iter().enumerate() {
		let inputs: Vec<Tile> = step
			.resolve(&tokens, shape.vocab)
			.unwrap()
			.into_iter()
			.map(|s| match s {
				cinder_kernel::program::Resolved::Step(j) => outs[j as usize].clone(),
				cinder_kernel::program::Resolved::Weight(j) => w[j as usize].clone(),
			})
			.collect();
		let bytes: usize =
			inputs.iter().map(|t| t.encoded_len()).sum::<usize>() + outs[i].encoded_len();
		assert!(bytes <= MAX_STEP_BYTES);
		let refs: Vec<&Tile> = inputs.iter().collect();
		let again = recompute(step, &refs).unwrap();
		let leaf = merkle::tile_leaf(i as u32, &again);
		assert_eq!(leaf, leaves[i]);
		let proof = merkle::proof(&leaves, i as u32).unwrap();
		assert!(merkle::verify(&root, leaf, i as u32, leaves.len() as u32, &proof));
	}
}

#[test]
fn a_wrong_input_changes_the_leaf_and_bad_shapes_are_errors() {
	let shape = small();
	let w = weights(&shape);
	let tokens = ids(8);
	let (program, _) = compile(&shape, 8).unwrap();
	let outs = run_reference(&program, |i| w.get(i as usize), &tokens, shape.vocab).unwrap();
	let (idx, step) =
		program.steps.iter().enumerate().find(|(_, s)| matches!(s.op, Op::Linear { .. })).unwrap();
	let mut inputs: Vec<Tile> = step
		.inputs
		.iter()
		.map(|s| match *s {
			Source::Step(j) => outs[j as usize].clone(),
			Source::Weight(j) => w[j as usize].clone(),
			Source::Token { .. } | Source::Sampled { .. } => unreachable!(),
		})
		.collect();
	inputs[0].data[0] += 1.0;
	let wrong = recompute(step, &inputs.iter().collect::<Vec<_>>()).unwrap();
	assert_ne!(merkle::tile_leaf(idx as u32, &wrong), merkle::tile_leaf(idx as u32, &outs[idx]));

	let n = inputs.len();
	inputs.swap(n - 1, n - 2); // bias where the weight belongs
	assert_eq!(
		recompute(step, &inputs.iter().collect::<Vec<_>>()),
		Err(KernelError::ShapeMismatch)
	);
	assert!(matches!(recompute(step, &[]), Err(KernelError::InputCount { .. })));
	let huge = Tile::zeros(300, 300);
	assert_eq!(recompute(step, &[&huge, &huge, &huge]), Err(KernelError::StepTooLarge));
}

#[test]
fn programs_and_layouts_are_deterministic_and_bounded() {
	let shape = small();
	let (a, _) = compile(&shape, 12).unwrap();
	let (b, _) = compile(&shape, 12).unwrap();
	let (c, _) = compile(&shape, 13).unwrap();
	assert_eq!(a.root(), b.root());
	assert_ne!(a.root(), c.root());
	assert_eq!(compile(&shape, 0).unwrap_err(), KernelError::BadSequenceLength);
	assert_eq!(compile(&shape, 41).unwrap_err(), KernelError::BadSequenceLength);
	let tokens = vec![99u32; 3];
	let (p, _) = compile(&shape, 3).unwrap();
	assert_eq!(p.steps[0].resolve(&tokens, shape.vocab).unwrap_err(), KernelError::TokenOutOfRange);
}

#[test]
fn minilm_shape_compiles_within_limits() {
	let minilm = BertShape {
		vocab: 30522,
		hidden: 384,
		layers: 6,
		heads: 12,
		intermediate: 1536,
		max_positions: 512,
		type_vocab: 2,
		eps: 1e-12f32.to_bits(),
	};
	for len in [16u32, 128, 512] {
		let (program, layout) = compile(&minilm, len).unwrap();
		assert!(!program.is_empty() && !layout.is_empty());
	}
}
