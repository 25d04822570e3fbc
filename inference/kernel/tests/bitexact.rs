//! The fast operators equal the reference operators bit for bit, on random
//! shapes and values including NaN, ±∞, subnormals and signed zeros.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use cinder_kernel::Tile;
use cinder_kernel::{
	merkle, ops,
	testing::{any_f32, bits, linear_case, LinearCase},
	tile::canonical,
};
use proptest::prelude::*;

proptest! {
	#![proptest_config(ProptestConfig::with_cases(300))]

	#[test]
	fn fast_linear_is_bit_identical(c in linear_case(1..11, 1..40, 1..45)) {
		let LinearCase { rows, k, n, a, w, b, gelu } = c;
		let mut reference = vec![0.0f32; rows * n];
		ops::linear(&a, k, &w, n, &b, gelu, &mut reference);
		let mut fast = vec![1.0f32; rows * n];
		ops::fast::linear(&a, k, &w, n, &b, gelu, &mut fast);
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

	/// Whichever path a tile's encoding takes (borrowed from memory or
	/// re-encoded because of a NaN), it is the per-value canonical encoding,
	/// and a leaf streamed in pieces is the leaf hashed from one buffer.
	#[test]
	fn encoding_and_streamed_leaf_match_the_per_value_definition(
		(rows, data) in (1u32..9, 1u32..70).prop_flat_map(|(r, c)| {
			(Just((r, c)), proptest::collection::vec(any_f32(), (r * c) as usize))
		}),
		index in any::<u32>(),
	) {
		let tile = Tile::new(rows.0, rows.1, data).unwrap();
		let mut expected = Vec::new();
		expected.extend_from_slice(&rows.0.to_le_bytes());
		expected.extend_from_slice(&rows.1.to_le_bytes());
		for x in &tile.data {
			expected.extend_from_slice(&canonical(*x).to_bits().to_le_bytes());
		}
		prop_assert_eq!(&tile.to_bytes(), &expected);
		prop_assert_eq!(tile.data_bytes().is_some(), !tile.data.iter().any(|x| x.is_nan()));

		let mut preimage = Vec::new();
		merkle::leaf_preimage(index, &tile, |b| preimage.extend_from_slice(b));
		prop_assert_eq!(&preimage[5..], &expected[..]);
		prop_assert_eq!(merkle::tile_leaf(index, &tile), merkle::leaf_hash(index, &expected));
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
