//! The fast operators equal the reference operators bit for bit, on random
//! shapes and values including NaN, ±∞, subnormals and signed zeros.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use cinder_kernel::{ops, tile::canonical};
use proptest::prelude::*;

/// Any f32 bit pattern, weighted towards the awkward ones.
fn any_f32() -> impl Strategy<Value = f32> {
	prop_oneof![
		6 => -4.0f32..4.0,
		1 => Just(f32::NAN),
		1 => Just(f32::from_bits(0x7fa0_1234)), // NaN with a payload
		1 => Just(f32::INFINITY),
		1 => Just(f32::NEG_INFINITY),
		1 => (1u32..0x0080_0000).prop_map(f32::from_bits), // subnormals
		1 => Just(-0.0f32),
		1 => any::<u32>().prop_map(f32::from_bits),
	]
}

fn bits(xs: &[f32]) -> Vec<u32> {
	xs.iter().map(|x| canonical(*x).to_bits()).collect()
}

fn linear_case() -> impl Strategy<Value = (usize, usize, usize, Vec<f32>, Vec<f32>, Vec<f32>, bool)>
{
	(1usize..11, 1usize..40, 1usize..45, any::<bool>()).prop_flat_map(|(r, k, n, g)| {
		(
			Just(r),
			Just(k),
			Just(n),
			proptest::collection::vec(any_f32(), r * k),
			proptest::collection::vec(any_f32(), k * n),
			proptest::collection::vec(any_f32(), n),
			Just(g),
		)
	})
}

proptest! {
	#![proptest_config(ProptestConfig::with_cases(300))]

	#[test]
	fn fast_linear_is_bit_identical((r, k, n, a, w, b, g) in linear_case()) {
		let mut reference = vec![0.0f32; r * n];
		ops::linear(&a, k, &w, n, &b, g, &mut reference);
		let mut fast = vec![1.0f32; r * n];
		ops::fast::linear(&a, k, &w, n, &b, g, &mut fast);
		prop_assert_eq!(bits(&reference), bits(&fast));
	}

	#[test]
	fn operators_are_deterministic_and_nan_free_after_canonicalising(
		row in proptest::collection::vec(any_f32(), 1..64),
	) {
		// Running twice gives the same bits; canonicalisation leaves one NaN.
		let mut a = row.clone();
		let mut b = row.clone();
		ops::softmax_masked(&mut a, row.len());
		ops::softmax_masked(&mut b, row.len());
		ops::canonicalize(&mut a);
		prop_assert_eq!(bits(&a), bits(&b));
		for x in &a {
			prop_assert!(!x.is_nan() || x.to_bits() == cinder_kernel::tile::CANONICAL_NAN);
		}
	}
}

#[test]
fn softmax_masks_exactly_and_sums_to_one() {
	let mut row = vec![1.0f32, 2.0, 3.0, 100.0, -5.0];
	ops::softmax_masked(&mut row, 3);
	assert_eq!(&row[3..], &[0.0, 0.0]);
	let sum: f32 = row[..3].iter().sum();
	assert!((sum - 1.0).abs() < 1e-6);
	assert!(row[2] > row[1] && row[1] > row[0]);
}

#[test]
fn gelu_matches_known_values() {
	// GELU(x) = x·Φ(x): Φ(1) = 0.841344746, Φ(−1) = 0.158655254.
	assert!((ops::gelu(1.0) - 0.841_344_7).abs() < 1e-6);
	assert!((ops::gelu(-1.0) + 0.158_655_25).abs() < 1e-6);
	assert_eq!(ops::gelu(0.0), 0.0);
}

#[test]
fn layer_norm_normalises() {
	let mut row = vec![1.0f32, 2.0, 3.0, 4.0];
	ops::layer_norm(&mut row, &[1.0; 4], &[0.0; 4], 1e-12);
	let mean: f32 = row.iter().sum::<f32>() / 4.0;
	let var: f32 = row.iter().map(|x| (x - mean) * (x - mean)).sum::<f32>() / 4.0;
	assert!(mean.abs() < 1e-6 && (var - 1.0).abs() < 1e-5, "{row:?}");
}

#[test]
fn causal_attention_ignores_later_keys() {
	// Two positions, one dim: the first query may only see the first key.
	let q = [1.0f32, 1.0];
	let k = [0.5f32, 9.0];
	let v = [3.0f32, 7.0];
	let mut out = [0.0f32; 2];
	ops::attention(&q, &k, &v, 1, 0, true, &mut out);
	assert_eq!(out[0], 3.0);
	assert!(out[1] > 3.0 && out[1] < 7.0);
}
