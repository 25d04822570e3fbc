//! The closed-form plan (`bert::Plan`) gives every step the compiler gives,
//! and programs stay what they were when the roots below were pinned (with
//! the step-by-step emitter the plan replaced): a change to how BERT
//! compiles moves a pinned root and fails here.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use cinder_kernel::{
	program::bert::{compile, weight_layout, BertShape, Plan},
	KernelError, Source,
};
use codec::Encode;
use proptest::prelude::*;

fn shape(
	vocab: u32,
	hidden: u32,
	layers: u32,
	heads: u32,
	intermediate: u32,
	max_positions: u32,
) -> BertShape {
	BertShape {
		vocab,
		hidden,
		layers,
		heads,
		intermediate,
		max_positions,
		type_vocab: 2,
		eps: 1e-12f32.to_bits(),
	}
}

/// all-MiniLM-L6-v2.
fn minilm() -> BertShape {
	shape(30522, 384, 6, 12, 1536, 512)
}

/// One hash over the programs (roots and lengths) of `lens` and the layout.
fn digest(shape: &BertShape, lens: impl IntoIterator<Item = u32>) -> String {
	let mut acc = Vec::new();
	for len in lens {
		let (program, _) = compile(shape, len).unwrap();
		acc.extend_from_slice(&program.len().to_le_bytes());
		acc.extend_from_slice(&program.root());
	}
	acc.extend_from_slice(&weight_layout(shape).unwrap().encode());
	hex(&sp_crypto_hashing::blake2_256(&acc))
}

fn hex(bytes: &[u8]) -> String {
	bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[test]
fn programs_are_the_ones_pinned() {
	// Pinned with the step-by-step emitter that compiled BERT before the
	// plan: same steps, same order, same weight layout.
	assert_eq!(
		digest(&minilm(), [1, 15, 16, 17, 100, 128, 512]),
		"dc61437af9a0275f63b1656d0ccdc7abffcbff7bbe807cef3844e4afc24c65ef"
	);
	assert_eq!(
		digest(&shape(50, 32, 2, 4, 64, 40), 1..=40),
		"9e8419e7ed52534b177f942d523451bd5553f232bcad46b53dcc65f0cc503392"
	);
	assert_eq!(
		digest(&shape(64, 32, 1, 2, 64, 16), 1..=16),
		"05bd67e938d454d2a8fc7739f1e978016b1027e2bab6fb5f860fd82f2581a67f"
	);
	assert_eq!(
		digest(&shape(100, 256, 1, 4, 1024, 64), [1, 16, 33, 64]),
		"7cbb0ef1e620c6cade2fc0e8be0c3eea5e06eba8dd03876c68feb08e114541f3"
	);
}

#[test]
fn the_plan_gives_each_step_alone_and_knows_its_sizes() {
	for (len, steps) in [(16u32, 627u32), (128, 5009), (512, 20033)] {
		let plan = Plan::new(&minilm(), len).unwrap();
		assert_eq!(plan.len(), steps);
		assert_eq!(plan.weight_count(), 31662);
		assert_eq!(plan.step(steps), Err(KernelError::NoSuchStep));
		assert_eq!(plan.step(u32::MAX), Err(KernelError::NoSuchStep));
		let (program, layout) = compile(&minilm(), len).unwrap();
		assert_eq!(program.len(), plan.len());
		assert_eq!(layout.len() as u32, plan.weight_count());
		for i in [0, 1, steps / 3, steps / 2, steps - 2, steps - 1] {
			assert_eq!(plan.step(i).unwrap(), program.steps[i as usize], "step {i} of {len}");
		}
	}
	assert_eq!(Plan::new(&minilm(), 0), Err(KernelError::BadSequenceLength));
	assert_eq!(Plan::new(&minilm(), 513), Err(KernelError::BadSequenceLength));
	let mut odd = minilm();
	odd.heads = 7;
	assert_eq!(Plan::new(&odd, 16), Err(KernelError::UnsupportedShape));
}

proptest! {
	/// Over random shapes and lengths, every step of the plan reads only
	/// earlier steps, existing weight tiles and positions inside the input.
	#[test]
	fn plans_of_random_shapes_read_only_what_exists(
		heads in 1u32..5,
		head in prop_oneof![Just(4u32), Just(8), Just(16)],
		layers in 1u32..3,
		up in 1u32..5,
		max_positions in 1u32..70,
		len_frac in 0.0f64..1.0,
	) {
		let hidden = heads * head;
		let s = shape(37, hidden, layers, heads, hidden * up, max_positions);
		let len = 1 + ((max_positions - 1) as f64 * len_frac) as u32;
		let plan = Plan::new(&s, len).unwrap();
		for i in 0..plan.len() {
			for source in plan.step(i).unwrap().inputs {
				match source {
					Source::Step(j) => prop_assert!(j < i),
					Source::Weight(w) => prop_assert!(w < plan.weight_count()),
					Source::Token { table, position } => {
						prop_assert_eq!(table, 0);
						prop_assert!(position < len);
					}
					Source::Sampled { .. } => prop_assert!(false, "a BERT step reads a sampled token"),
				}
			}
		}
		prop_assert_eq!(plan.step(plan.len()), Err(KernelError::NoSuchStep));
		prop_assert!(compile(&s, len).is_ok());
	}
}
