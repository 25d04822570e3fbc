//! Proptest strategies for the kernel's tests and the engine's: values that
//! exercise the canonical rules (NaN with and without payload, ±∞,
//! subnormals, signed zero) and whole linear-layer cases; and seeded
//! random weights for small llama decoders. Behind the `testing` feature;
//! never in the runtime.

use alloc::vec::Vec;

use proptest::prelude::*;

/// Any f32, weighted towards the awkward bit patterns.
pub fn any_f32() -> impl Strategy<Value = f32> {
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

/// A linear layer `y = a·w + b` (optionally followed by GELU).
#[derive(Clone, Debug)]
pub struct LinearCase {
	/// Rows of `a` and of the output.
	pub rows: usize,
	/// Inner dimension.
	pub k: usize,
	/// Output columns.
	pub n: usize,
	/// `rows × k`, row major.
	pub a: Vec<f32>,
	/// `k × n`, row major.
	pub w: Vec<f32>,
	/// `n` biases.
	pub b: Vec<f32>,
	/// Whether GELU follows.
	pub gelu: bool,
}

/// Linear cases with `rows`, `k` and `n` drawn from the given ranges.
pub fn linear_case(
	rows: core::ops::Range<usize>,
	k: core::ops::Range<usize>,
	n: core::ops::Range<usize>,
) -> impl Strategy<Value = LinearCase> {
	(rows, k, n, any::<bool>()).prop_flat_map(|(rows, k, n, gelu)| {
		(
			proptest::collection::vec(any_f32(), rows.saturating_mul(k)),
			proptest::collection::vec(any_f32(), k.saturating_mul(n)),
			proptest::collection::vec(any_f32(), n),
		)
			.prop_map(move |(a, w, b)| LinearCase { rows, k, n, a, w, b, gelu })
	})
}

/// Canonical bit patterns of `xs`: how the tests compare outputs.
pub fn bits(xs: &[f32]) -> Vec<u32> {
	xs.iter().map(|x| crate::tile::canonical(*x).to_bits()).collect()
}

/// SmolLM2-135M-Instruct's kernel shape, as its GGUF describes it.
pub fn smollm2_shape() -> crate::program::llama::LlamaShape {
	crate::program::llama::SMOLLM2
}

/// A seeded byte stream (a 64-bit LCG's high bits).
struct Bytes(u64);

impl Bytes {
	fn next(&mut self) -> u8 {
		self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
		(self.0 >> 33) as u8
	}
}

/// Random weight tiles in `shape`'s layout from a fixed seed: Q4_1 values
/// in [-0.4, 0.35], Q8_0 in [-1.27, 1.27], norms' γ near 1. Panics when the
/// shape does not lay out (test shapes do).
#[allow(clippy::unwrap_used, clippy::arithmetic_side_effects)]
pub fn random_llama_weights(shape: &crate::program::llama::LlamaShape) -> Vec<crate::Weight> {
	use crate::{quant::WeightFormat, QTile, Tile, Weight};
	let mut rng = Bytes(7);
	(0..shape.weight_count().unwrap())
		.map(|i| {
			let w = shape.weight_tile(i).unwrap().unwrap();
			match w.format {
				None => Weight::F32(
					Tile::new(
						1,
						w.cols,
						(0..w.cols).map(|_| 0.75 + f32::from(rng.next()) / 512.0).collect(),
					)
					.unwrap(),
				),
				Some(format) => {
					let mut data = Vec::new();
					for _ in 0..w.rows * w.cols / 32 {
						match format {
							WeightFormat::Q4_1 => {
								data.extend_from_slice(&[0x66, 0x2a, 0x66, 0xb6]);
								data.extend((0..16).map(|_| rng.next()));
							}
							WeightFormat::Q8_0 => {
								data.extend_from_slice(&[0x1f, 0x21]);
								data.extend((0..32).map(|_| rng.next()));
							}
						}
					}
					Weight::Quant(QTile::new(format, w.rows, w.cols, data).unwrap())
				}
			}
		})
		.collect()
}
