//! Every vectorised kernel, on every instruction set this CPU runs, against
//! the scalar reference of spec v1, bit for bit: `expf` and GELU over a
//! sweep of all 2³² bit patterns, linear steps whose input arrives in
//! several column tiles, and attention with and without the causal mask.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use cinder_engine::{
	simd::{self, Isa},
	vmath,
};
use cinder_kernel::{
	ops,
	testing::{any_f32, bits},
	verify, Op, Step, Tile,
};
use proptest::prelude::*;

/// Every `stride`-th f32 bit pattern, both signs, NaNs and infinities
/// included, plus the boundaries libm branches on.
fn sweep(stride: usize) -> Vec<f32> {
	let mut xs: Vec<f32> = (0..=u32::MAX).step_by(stride).map(f32::from_bits).collect();
	for b in [
		0x3900_0000u32,
		0x3eb1_7218,
		0x3f85_1592,
		0x42ae_ac50,
		0x42b1_7218,
		0x42cf_f1b5,
		0x3180_0000,
		0x3f58_0000,
		0x3fa0_0000,
		0x4036_db6d,
		0x40c0_0000,
		0x7f80_0000,
	] {
		for d in -3i32..=3 {
			let v = b.wrapping_add_signed(d);
			xs.push(f32::from_bits(v));
			xs.push(f32::from_bits(v | 0x8000_0000));
		}
	}
	xs
}

#[test]
fn vector_expf_equals_libm_on_every_isa() {
	let xs = sweep(61);
	let reference: Vec<f32> = xs.iter().map(|&x| libm::expf(x - 0.5)).collect();
	for isa in Isa::available() {
		let mut ys = xs.clone();
		simd::exp_shifted_in_place(isa, &mut ys, 0.5);
		let wrong = xs
			.iter()
			.zip(ys.iter().zip(&reference))
			.filter(|(_, (y, r))| bits(&[**y]) != bits(&[**r]))
			.map(|(x, _)| x.to_bits())
			.take(5)
			.collect::<Vec<_>>();
		assert!(wrong.is_empty(), "{isa:?}: expf differs at {wrong:08x?}");
	}
}

#[test]
fn vector_erff_equals_libm() {
	let xs = sweep(61);
	let mut wrong = Vec::new();
	for chunk in xs.chunks_exact(vmath::LANES) {
		let v: [f32; vmath::LANES] = chunk.try_into().unwrap();
		for (x, y) in v.iter().zip(vmath::erff(v)) {
			if bits(&[y]) != bits(&[libm::erff(*x)]) && wrong.len() < 5 {
				wrong.push(x.to_bits());
			}
		}
	}
	assert!(wrong.is_empty(), "erff differs at {wrong:08x?}");
}

#[test]
fn vector_gelu_equals_the_reference_on_every_isa() {
	// GELU sorts each block's values by the range of erf they fall in:
	// shuffled (a fixed permutation), blocks mix every range.
	let mut xs = sweep(61);
	let n = xs.len();
	let shuffled: Vec<f32> = (0..n).map(|i| xs[(i * 7_919) % n]).collect();
	assert!(!n.is_multiple_of(7_919), "the stride permutes the sweep");
	xs.extend(shuffled);
	let reference: Vec<f32> = xs.iter().map(|&x| ops::gelu(x)).collect();
	for isa in Isa::available() {
		let mut ys = xs.clone();
		simd::gelu_in_place(isa, &mut ys);
		let wrong = xs
			.iter()
			.zip(ys.iter().zip(&reference))
			.filter(|(_, (y, r))| bits(&[**y]) != bits(&[**r]))
			.map(|(x, _)| x.to_bits())
			.take(5)
			.collect::<Vec<_>>();
		assert!(wrong.is_empty(), "{isa:?}: GELU differs at {wrong:08x?}");
	}
}

fn tile(rows: usize, cols: usize) -> impl Strategy<Value = Tile> {
	proptest::collection::vec(any_f32(), rows * cols)
		.prop_map(move |data| Tile::new(rows as u32, cols as u32, data).unwrap())
}

/// A linear step whose input `A` comes in column tiles of assorted widths.
fn linear_step() -> impl Strategy<Value = (Step, Vec<Tile>)> {
	(1usize..18, proptest::collection::vec(1usize..40, 1..4), 1usize..70, any::<bool>())
		.prop_flat_map(|(rows, widths, n, gelu)| {
			let k: usize = widths.iter().sum();
			let a: Vec<_> = widths.iter().map(|&w| tile(rows, w)).collect();
			(a, tile(k, n), tile(1, n)).prop_map(move |(a, w, b)| {
				let step = Step {
					op: Op::Linear { gelu },
					inputs: Vec::new(),
					rows: rows as u32,
					cols: n as u32,
				};
				let mut tiles = a;
				tiles.push(w);
				tiles.push(b);
				(step, tiles)
			})
		})
}

/// An attention step: `Q`, then key tiles, then as many value tiles.
fn attention_step() -> impl Strategy<Value = (Step, Vec<Tile>)> {
	(1usize..18, 1usize..40, proptest::collection::vec(1usize..20, 1..4), any::<bool>())
		.prop_flat_map(|(rows, d, key_rows, causal)| {
			let t: usize = key_rows.iter().sum();
			let rows = rows.min(t);
			let ks: Vec<_> = key_rows.iter().map(|&r| tile(r, d)).collect();
			let vs: Vec<_> = key_rows.iter().map(|&r| tile(r, d)).collect();
			(tile(rows, d), ks, vs, 0..=(t - rows)).prop_map(move |(q, ks, vs, first)| {
				let step = Step {
					op: Op::Attention { first: first as u32, causal },
					inputs: Vec::new(),
					rows: rows as u32,
					cols: d as u32,
				};
				let mut tiles = vec![q];
				tiles.extend(ks);
				tiles.extend(vs);
				(step, tiles)
			})
		})
}

/// Scores of moderate size, so softmax is not all zeros and ones.
fn gentle_attention_step() -> impl Strategy<Value = (Step, Vec<Tile>)> {
	attention_step().prop_map(|(step, tiles)| {
		let tiles = tiles
			.into_iter()
			.map(|t| {
				let data =
					t.data.iter().map(|x| if x.is_finite() { x * 0.37 } else { 0.5 }).collect();
				Tile::new(t.rows, t.cols, data).unwrap()
			})
			.collect();
		(step, tiles)
	})
}

fn same_on_every_isa(step: &Step, tiles: &[Tile]) -> Result<(), TestCaseError> {
	let inputs: Vec<&Tile> = tiles.iter().collect();
	let reference = verify::recompute(step, &inputs).unwrap();
	for isa in Isa::available() {
		let fast = simd::compute(isa, step, &inputs, None).unwrap();
		prop_assert_eq!(fast.to_bytes(), reference.to_bytes(), "{:?}", isa);
	}
	Ok(())
}

proptest! {
	#![proptest_config(ProptestConfig::with_cases(200))]

	#[test]
	fn linear_steps_over_column_tiles_are_bit_identical((step, tiles) in linear_step()) {
		same_on_every_isa(&step, &tiles)?;
	}

	#[test]
	fn attention_steps_are_bit_identical((step, tiles) in attention_step()) {
		same_on_every_isa(&step, &tiles)?;
	}

	#[test]
	fn attention_steps_with_moderate_scores_are_bit_identical(
		(step, tiles) in gentle_attention_step()
	) {
		same_on_every_isa(&step, &tiles)?;
	}
}

#[test]
fn malformed_steps_are_refused_like_the_reference() {
	let step = Step { op: Op::Linear { gelu: false }, inputs: Vec::new(), rows: 2, cols: 3 };
	let a = Tile::zeros(2, 4);
	let w = Tile::zeros(5, 3);
	let b = Tile::zeros(1, 3);
	for isa in Isa::available() {
		assert!(simd::compute(isa, &step, &[&a, &w, &b], None).is_err());
		assert!(simd::compute(isa, &step, &[&a, &b], None).is_err());
	}
	assert!(verify::recompute(&step, &[&a, &w, &b]).is_err());
}
