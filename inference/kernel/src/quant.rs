//! The arithmetic of **kernel spec v2**: matrix products with quantized
//! weights, the way llama.cpp computes them on CPU, made canonical.
//!
//! Weights stay in their GGUF blocks of [`BLOCK`] values: [`WeightFormat::Q4_1`]
//! (`d`, `m` as f16, then 16 bytes of 4-bit values `q`: value `d·q + m`) or
//! [`WeightFormat::Q8_0`] (`d` as f16, then 32 signed bytes: value `d·q`).
//! An activation row is quantized to [`Q8Block`]s by [`quantize_block`];
//! each block pair's dot product is an exact integer, so any SIMD width, any
//! thread count and wasm agree on it; the blocks' contributions are then
//! combined in f32 in ascending block order by the rules of spec v1
//! (separate multiply and add, accumulator from `0.0`). Every function here
//! documents its arithmetic exactly; that text is the spec.

// `acc = acc + c` is spelled out on purpose: each line is one rounding of
// the spec, in order.
#![allow(clippy::assign_op_pattern)]

use alloc::vec::Vec;
use codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
use scale_info::TypeInfo;

use crate::{tile::canonical, KernelError};

/// Values per quantization block, for weights and activations alike.
pub const BLOCK: usize = 32;

/// Below this block maximum an activation block quantizes to zeros: it keeps
/// `127 / amax` finite (f32 tops out near 2¹²⁸) with room to spare.
pub const MIN_BLOCK_MAX: f32 = 7.888_609e-31; // 2⁻¹⁰⁰

/// How a quantized weight tensor's rows are stored.
#[derive(
	Clone,
	Copy,
	Debug,
	PartialEq,
	Eq,
	Encode,
	Decode,
	DecodeWithMemTracking,
	TypeInfo,
	MaxEncodedLen,
)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum WeightFormat {
	/// GGUF `Q4_1`: per block `d: f16, m: f16, qs: [u8; 16]`; value `j < 16`
	/// is the low nibble of `qs[j]`, value `j + 16` its high nibble.
	Q4_1,
	/// GGUF `Q8_0`: per block `d: f16, qs: [i8; 32]`.
	Q8_0,
}

impl WeightFormat {
	/// Bytes of one block.
	pub const fn block_bytes(self) -> usize {
		match self {
			WeightFormat::Q4_1 => 20,
			WeightFormat::Q8_0 => 34,
		}
	}

	/// Bytes of one row of `k` values; `None` unless `k` is a positive
	/// multiple of [`BLOCK`].
	pub fn row_bytes(self, k: usize) -> Option<usize> {
		if k == 0 || !k.is_multiple_of(BLOCK) {
			return None;
		}
		k.checked_div(BLOCK)?.checked_mul(self.block_bytes())
	}

	/// Its GGUF type id (`ggml_type`).
	pub const fn ggml_type(self) -> u32 {
		match self {
			WeightFormat::Q4_1 => 3,
			WeightFormat::Q8_0 => 8,
		}
	}
}

/// IEEE half-precision bits to f32. Exact: every f16 (subnormals, ±∞, NaN
/// with its payload) is an f32.
pub fn f16_to_f32(h: u16) -> f32 {
	let sign = u32::from(h >> 15) << 31;
	let exp = u32::from((h >> 10) & 0x1f);
	let frac = u32::from(h & 0x3ff);
	let bits = match (exp, frac) {
		(0, 0) => sign,
		(0, _) => {
			// Subnormal: frac · 2⁻²⁴, normalised for f32.
			let shift = frac.leading_zeros().saturating_sub(21); // bring bit 10 up
			let frac = (frac << shift) & 0x3ff;
			let exp = 113u32.saturating_sub(shift); // 127 − 15 + 1 − shift
			sign | (exp << 23) | (frac << 13)
		}
		(0x1f, _) => sign | 0x7f80_0000 | (frac << 13),
		_ => sign | (exp.saturating_add(112) << 23) | (frac << 13),
	};
	f32::from_bits(bits)
}

/// f32 to IEEE half precision, rounding to nearest with ties to even (as
/// `vcvtps2ph` and the `half` crate do): past the largest f16 is ±∞, below
/// half the smallest subnormal is ±0, NaN stays NaN (quiet, payload's top
/// bits kept).
pub fn f32_to_f16(x: f32) -> u16 {
	let bits = x.to_bits();
	let sign = ((bits >> 16) & 0x8000) as u16;
	let exp = (bits >> 23) & 0xff;
	let man = bits & 0x007f_ffff;
	if exp == 0xff {
		let nan = if man == 0 { 0 } else { 0x0200 | (man >> 13) as u16 };
		return sign | 0x7c00 | nan;
	}
	// Rounds `value >> shift` to nearest, ties to even.
	let round = |value: u32, shift: u32| {
		let kept = value >> shift;
		let rest = value & ((1u32 << shift).wrapping_sub(1));
		let half = 1u32 << shift.saturating_sub(1);
		if rest > half || (rest == half && kept & 1 == 1) {
			kept.saturating_add(1)
		} else {
			kept
		}
	};
	// f16's biased exponent would be `exp − 112`.
	if exp >= 143 {
		return sign | 0x7c00; // ≥ 2¹⁶: past 65504 even before rounding
	}
	if exp <= 112 {
		// Subnormal (or zero) in f16: the value in units of 2⁻²⁴.
		if exp < 102 {
			return sign; // below 2⁻²⁵
		}
		let shift = 126u32.saturating_sub(exp); // 14 − (exp − 112), 14..=24
		return sign | round(man | 0x0080_0000, shift) as u16;
	}
	// Normal: a carry out of the mantissa moves to the next exponent, and
	// past the largest one to ∞, which is the right encoding either way.
	let biased = exp.saturating_sub(112);
	sign | round((biased << 23) | man, 13) as u16
}

/// `x` rounded to the nearest f16, as f32.
pub fn round_to_f16(x: f32) -> f32 {
	f16_to_f32(f32_to_f16(x))
}

/// A block of 32 activations quantized to 8 bits: value `i` is about
/// `d · qs[i]`; `ds` stands for `d · Σ qs`, what a Q4_1 block's offset
/// multiplies. Both are f16 values (held as f32), as GGUF's `Q8_1` blocks
/// store them.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Q8Block {
	pub d: f32,
	pub ds: f32,
	pub qs: [i8; BLOCK],
}

impl Q8Block {
	/// The block of zeros.
	pub const ZERO: Self = Self { d: 0.0, ds: 0.0, qs: [0; BLOCK] };
}

/// Quantizes 32 activations, canonically:
///
/// 1. every non-finite value (±∞, NaN) counts as `0.0`;
/// 2. `amax` is the largest `|x|` (exact: a maximum does not round);
/// 3. if `amax < 2⁻¹⁰⁰` ([`MIN_BLOCK_MAX`]) the block is [`Q8Block::ZERO`];
/// 4. otherwise `d = amax / 127` and `id = 1 / d` (f32, one rounding
///    each), `qs[i] = rint(x[i] · id)`, rounding to nearest with ties to
///    even (the result lies in `[-127, 127]`);
/// 5. the block keeps `d` rounded to f16, and `ds = f16(f16(Σ qs) · f16(d))`
///    (each rounding to nearest even).
///
/// Steps 4–5 are llama.cpp's and candle's `Q8_1` quantization (candle's
/// `ds` rounding exactly), except that they round `x · id` half away from
/// zero: ties are rare, and ties to even is what SIMD rounds natively.
pub fn quantize_block(x: &[f32; BLOCK]) -> Q8Block {
	let finite = x.map(|v| if v.is_finite() { v } else { 0.0 });
	let amax = finite.iter().fold(0.0f32, |m, v| m.max(v.abs()));
	// `amax` is never NaN: only finite values reach the maximum.
	if amax < MIN_BLOCK_MAX {
		return Q8Block::ZERO;
	}
	let d = amax / 127.0;
	let id = 1.0 / d;
	let qs = finite.map(|v| libm::rintf(v * id).clamp(-127.0, 127.0) as i8);
	let sum = qs.iter().fold(0i32, |s, &q| s.saturating_add(i32::from(q)));
	let d = round_to_f16(d);
	Q8Block { d, ds: round_to_f16(round_to_f16(sum as f32) * d), qs }
}

/// Quantizes a row of activations block by block; `None` unless its length
/// is a multiple of [`BLOCK`].
pub fn quantize_row(x: &[f32]) -> Option<Vec<Q8Block>> {
	if !x.len().is_multiple_of(BLOCK) {
		return None;
	}
	Some(
		x.chunks_exact(BLOCK)
			.map(|c| <&[f32; BLOCK]>::try_from(c).map(quantize_block).unwrap_or(Q8Block::ZERO))
			.collect(),
	)
}

/// A block's f16 field at `at` (little endian) as f32.
#[inline(always)]
pub fn half_at(block: &[u8], at: usize) -> f32 {
	let lo = block.get(at).copied().unwrap_or(0);
	let hi = block.get(at.saturating_add(1)).copied().unwrap_or(0);
	f16_to_f32(u16::from_le_bytes([lo, hi]))
}

/// The exact integer dot product of a Q4_1 block's 4-bit values with an
/// activation block's: `Σ_j q4[j] · a.qs[j]`.
#[inline(always)]
pub fn q4_1_block_dot(block: &[u8], a: &Q8Block) -> i32 {
	nibbles_dot(block.get(4..20).unwrap_or_default(), a)
}

/// [`q4_1_block_dot`] of a block's 16 bytes of 4-bit values alone.
#[inline(always)]
pub fn nibbles_dot(qs: &[u8], a: &Q8Block) -> i32 {
	let (lo, hi) = a.qs.split_at(16);
	let mut sum = 0i32;
	for ((byte, l), h) in qs.iter().zip(lo).zip(hi) {
		sum = sum.saturating_add(i32::from(byte & 0x0f).saturating_mul(i32::from(*l)));
		sum = sum.saturating_add(i32::from(byte >> 4).saturating_mul(i32::from(*h)));
	}
	sum
}

/// The exact integer dot product of a Q8_0 block's values with an
/// activation block's: `Σ_j q8[j] · a.qs[j]`.
#[inline(always)]
pub fn q8_0_block_dot(block: &[u8], a: &Q8Block) -> i32 {
	bytes_dot(block.get(2..34).unwrap_or_default(), a)
}

/// [`q8_0_block_dot`] of a block's 32 signed bytes alone.
#[inline(always)]
pub fn bytes_dot(qs: &[u8], a: &Q8Block) -> i32 {
	let mut sum = 0i32;
	for (w, x) in qs.iter().zip(&a.qs) {
		sum = sum.saturating_add(i32::from(*w as i8).saturating_mul(i32::from(*x)));
	}
	sum
}

/// One block's contribution to a dot product, with `s` its exact integer
/// dot (below 2²⁴ in magnitude, so `s as f32` is exact):
///
/// - Q4_1: `c = (d · a.d) · s`, then `c = c + m · a.ds`;
/// - Q8_0: `c = (d · a.d) · s`.
#[inline(always)]
pub fn block_term(format: WeightFormat, block: &[u8], a: &Q8Block) -> f32 {
	let d = half_at(block, 0);
	match format {
		WeightFormat::Q4_1 => {
			let m = half_at(block, 2);
			let mut c = (d * a.d) * q4_1_block_dot(block, a) as f32;
			c = c + m * a.ds;
			c
		}
		WeightFormat::Q8_0 => (d * a.d) * q8_0_block_dot(block, a) as f32,
	}
}

/// The dot product of a quantized weight row (`row` holds its blocks) with
/// a quantized activation row: `acc = 0; acc = acc + block_term(b)` for
/// ascending block `b`.
pub fn dot(format: WeightFormat, row: &[u8], a: &[Q8Block]) -> f32 {
	let mut acc = 0.0f32;
	for (block, a) in row.chunks_exact(format.block_bytes()).zip(a) {
		acc = acc + block_term(format, block, a);
	}
	acc
}

/// Dequantizes one row of `format` blocks into `out` (32 values a block):
/// Q4_1 `(q as f32)·d + m`, Q8_0 `(q as f32)·d`, one rounding per operation
/// (llama.cpp's and candle's formulas). Used for embedding lookups.
pub fn dequantize_row(
	format: WeightFormat,
	row: &[u8],
	out: &mut [f32],
) -> Result<(), KernelError> {
	let blocks = row.len().checked_div(format.block_bytes()).unwrap_or(0);
	if row.len() != blocks.saturating_mul(format.block_bytes())
		|| out.len() != blocks.saturating_mul(BLOCK)
	{
		return Err(KernelError::ShapeMismatch);
	}
	for (block, out) in row.chunks_exact(format.block_bytes()).zip(out.chunks_exact_mut(BLOCK)) {
		let d = half_at(block, 0);
		match format {
			WeightFormat::Q4_1 => {
				let m = half_at(block, 2);
				let qs = block.get(4..20).unwrap_or_default();
				let (lo, hi) = out.split_at_mut(16);
				for ((byte, l), h) in qs.iter().zip(lo).zip(hi) {
					*l = f32::from(byte & 0x0f) * d + m;
					*h = f32::from(byte >> 4) * d + m;
				}
			}
			WeightFormat::Q8_0 => {
				for (q, o) in block.get(2..34).unwrap_or_default().iter().zip(out.iter_mut()) {
					*o = f32::from(*q as i8) * d;
				}
			}
		}
	}
	Ok(())
}

/// Reference quantized linear layer (no bias): `out[i][j] = dot(w row j,
/// quantize_row(a row i))`, every NaN canonicalised. `a` is `rows × k`; `w`
/// holds `n` rows of `k` values in `format` (GGUF's layout: one row per
/// output); `out` is `rows × n`.
pub fn linear(
	a: &[f32],
	k: usize,
	format: WeightFormat,
	w: &[u8],
	n: usize,
	out: &mut [f32],
) -> Result<(), KernelError> {
	let row_bytes = format.row_bytes(k).ok_or(KernelError::ShapeMismatch)?;
	if a.len().checked_rem(k) != Some(0)
		|| Some(w.len()) != row_bytes.checked_mul(n)
		|| Some(out.len()) != a.len().checked_div(k).and_then(|rows| rows.checked_mul(n))
	{
		return Err(KernelError::ShapeMismatch);
	}
	for (a_row, out_row) in a.chunks_exact(k).zip(out.chunks_exact_mut(n.max(1))) {
		let q = quantize_row(a_row).ok_or(KernelError::ShapeMismatch)?;
		for (o, w_row) in out_row.iter_mut().zip(w.chunks_exact(row_bytes)) {
			*o = canonical(dot(format, w_row, &q));
		}
	}
	Ok(())
}

#[cfg(test)]
#[allow(clippy::indexing_slicing, clippy::arithmetic_side_effects)]
mod tests {
	use super::*;

	/// f16 by its definition, in f64.
	fn f16_by_definition(h: u16) -> f64 {
		let sign = if h >> 15 == 1 { -1.0 } else { 1.0 };
		let exp = i32::from((h >> 10) & 0x1f);
		let frac = f64::from(h & 0x3ff);
		match exp {
			0 => sign * frac * 2f64.powi(-24),
			0x1f if frac == 0.0 => sign * f64::INFINITY,
			0x1f => f64::NAN,
			_ => sign * (1.0 + frac / 1024.0) * 2f64.powi(exp - 15),
		}
	}

	#[test]
	fn every_f16_converts_exactly() {
		for h in 0..=u16::MAX {
			let got = f16_to_f32(h);
			let want = f16_by_definition(h);
			if want.is_nan() {
				assert!(got.is_nan(), "{h:04x}");
				// The payload moves up intact and the sign stays.
				assert_eq!(got.to_bits() & 0x007f_e000, u32::from(h & 0x3ff) << 13, "{h:04x}");
				assert_eq!(got.to_bits() >> 31, u32::from(h >> 15), "{h:04x}");
			} else {
				assert_eq!(f64::from(got), want, "{h:04x}");
				assert_eq!(got.is_sign_negative(), h >> 15 == 1, "{h:04x}");
			}
		}
	}

	#[test]
	fn f32_to_f16_rounds_to_nearest_even() {
		// Every f16 converts back to itself.
		for h in 0..=u16::MAX {
			let x = f16_to_f32(h);
			if x.is_nan() {
				assert!(f16_to_f32(f32_to_f16(x)).is_nan(), "{h:04x}");
			} else {
				assert_eq!(f32_to_f16(x), h, "{h:04x}");
			}
		}
		// Between neighbours: the midpoint goes to the even one, anything
		// past it to the nearer (subnormals, normals and the top binade).
		for h in 0u16..0x7bff {
			let (a, b) = (f16_to_f32(h), f16_to_f32(h + 1));
			let mid = (f64::from(a) + f64::from(b)) / 2.0;
			let mid32 = mid as f32;
			assert_eq!(f64::from(mid32), mid, "midpoints are f32 values");
			let even = if h % 2 == 0 { h } else { h + 1 };
			assert_eq!(f32_to_f16(mid32), even, "{h:04x}");
			assert_eq!(f32_to_f16(f32::from_bits(mid32.to_bits() + 1)), h + 1, "{h:04x}");
			assert_eq!(f32_to_f16(f32::from_bits(mid32.to_bits() - 1)), h, "{h:04x}");
			assert_eq!(f32_to_f16(-mid32), even | 0x8000, "{h:04x}");
		}
		// Overflow: 65504 is the largest; its midpoint with 2¹⁶ goes to ∞.
		assert_eq!(f32_to_f16(65504.0), 0x7bff);
		assert_eq!(f32_to_f16(65519.996), 0x7bff);
		assert_eq!(f32_to_f16(65520.0), 0x7c00);
		assert_eq!(f32_to_f16(1.0e9), 0x7c00);
		assert_eq!(f32_to_f16(f32::NEG_INFINITY), 0xfc00);
		// Underflow: half the smallest subnormal ties to 0.
		assert_eq!(f32_to_f16(2f32.powi(-25)), 0);
		assert_eq!(f32_to_f16(2f32.powi(-25) * 1.0001), 1);
		assert_eq!(f32_to_f16(-1.0e-30), 0x8000);
	}

	#[test]
	fn quantization_rounds_ties_to_even_and_scales_to_the_block_max() {
		let mut x = [0.0f32; BLOCK];
		x[0] = 127.0; // amax 127: id = 1, d = 1
		x[1] = 2.5;
		x[2] = 3.5;
		x[3] = -2.5;
		x[4] = -127.0;
		x[5] = 0.49;
		let q = quantize_block(&x);
		assert_eq!(q.d, 1.0);
		assert_eq!(&q.qs[..6], &[127, 2, 4, -2, -127, 0]);
		assert_eq!(q.ds, 4.0);
	}

	#[test]
	fn non_finite_values_count_as_zero_and_tiny_blocks_vanish() {
		let mut x = [0.0f32; BLOCK];
		x[0] = f32::INFINITY;
		x[1] = f32::NAN;
		x[2] = -2.0;
		let q = quantize_block(&x);
		assert_eq!(q.d, round_to_f16(2.0 / 127.0));
		assert_eq!(&q.qs[..3], &[0, 0, -127]);
		let tiny = [1.0e-35f32; BLOCK];
		assert_eq!(quantize_block(&tiny), Q8Block::ZERO);
		assert_eq!(quantize_block(&[f32::NAN; BLOCK]), Q8Block::ZERO);
	}

	#[test]
	fn dequantized_blocks_are_within_half_a_step() {
		let mut seed = 0x2545_f491_4f6c_dd1du64;
		for _ in 0..200 {
			let mut x = [0.0f32; BLOCK];
			for v in &mut x {
				seed ^= seed << 13;
				seed ^= seed >> 7;
				seed ^= seed << 17;
				*v = ((seed >> 40) as f32 / (1u64 << 24) as f32 - 0.5) * 8.0;
			}
			let q = quantize_block(&x);
			for (v, q8) in x.iter().zip(q.qs) {
				let back = q.d * f32::from(q8);
				// Half a step, plus the f16 rounding of `d` over 127 steps.
				let bound = q.d * (0.5 + 127.0 / 2048.0) * 1.001;
				assert!((back - v).abs() <= bound, "{v} → {q8} · {}", q.d);
			}
		}
	}

	/// A Q4_1 block from its scale, offset and 32 values below 16.
	fn q4_1_block(d: u16, m: u16, q: &[u8; BLOCK]) -> Vec<u8> {
		let mut b = Vec::from(d.to_le_bytes());
		b.extend_from_slice(&m.to_le_bytes());
		b.extend((0..16).map(|j| q[j] | (q[j + 16] << 4)));
		b
	}

	#[test]
	fn block_dots_are_the_integer_sums_and_terms_follow_the_spec() {
		let q4: [u8; BLOCK] = core::array::from_fn(|j| (j * 7 % 16) as u8);
		let a = Q8Block { d: 0.5, ds: 3.0, qs: core::array::from_fn(|j| (j as i8) * 4 - 60) };
		let block = q4_1_block(0x3c00, 0xc000, &q4); // d = 1, m = -2
		let want: i32 = q4.iter().zip(a.qs).map(|(w, x)| i32::from(*w) * i32::from(x)).sum();
		assert_eq!(q4_1_block_dot(&block, &a), want);
		assert_eq!(block_term(WeightFormat::Q4_1, &block, &a), 0.5 * want as f32 + -2.0 * 3.0);

		let mut q8 = Vec::from(0x3800u16.to_le_bytes()); // d = 0.5
		q8.extend((0..BLOCK).map(|j| (j as i32 * 8 - 128) as i8 as u8)); // from -128
		let want: i32 = (0..BLOCK).map(|j| (j as i32 * 8 - 128) * i32::from(a.qs[j])).sum();
		assert_eq!(q8_0_block_dot(&q8, &a), want);
		assert_eq!(block_term(WeightFormat::Q8_0, &q8, &a), 0.25 * want as f32);
	}

	#[test]
	fn a_quantized_linear_layer_approximates_its_dequantized_weights() {
		// Two outputs over k = 64: weights d·q + m with q = (j mod 16).
		let (k, n) = (64, 2);
		let q4: [u8; BLOCK] = core::array::from_fn(|j| (j % 16) as u8);
		let mut w = Vec::new();
		for _ in 0..n * k / BLOCK {
			w.extend(q4_1_block(0x2e66, 0xb800, &q4)); // d ≈ 0.1, m = -0.5
		}
		let a: Vec<f32> = (0..k).map(|i| (i as f32 * 0.37).sin()).collect();
		let mut out = [0.0f32; 2];
		linear(&a, k, WeightFormat::Q4_1, &w, n, &mut out).unwrap();
		let exact: f64 = (0..k)
			.map(|i| {
				let q = f64::from(q4[i % BLOCK]);
				(f64::from(f16_to_f32(0x2e66)) * q - 0.5) * f64::from(a[i])
			})
			.sum();
		for o in out {
			assert!((f64::from(o) - exact).abs() < 0.05, "{o} vs {exact}");
		}
		assert_eq!(out[0].to_bits(), out[1].to_bits());
	}

	#[test]
	fn mismatched_shapes_are_refused() {
		let mut out = [0.0f32; 1];
		let w = [0u8; 20];
		assert_eq!(
			linear(&[0.0; 31], 31, WeightFormat::Q4_1, &w, 1, &mut out),
			Err(KernelError::ShapeMismatch)
		);
		assert_eq!(
			linear(&[0.0; 32], 32, WeightFormat::Q8_0, &w, 1, &mut out),
			Err(KernelError::ShapeMismatch)
		);
		assert_eq!(
			linear(&[0.0; 32], 32, WeightFormat::Q4_1, &w, 1, &mut out[..0]),
			Err(KernelError::ShapeMismatch)
		);
		assert!(linear(&[0.0; 32], 32, WeightFormat::Q4_1, &w, 1, &mut out).is_ok());
	}
}
