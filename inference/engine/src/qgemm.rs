//! Quantized linear layers of kernel spec v2 ([`cinder_kernel::quant`]) on
//! weights packed at load, bit-identical to the kernel's reference.
//!
//! - [`QPanels`] regroups a GGUF weight (one row of blocks per output) into
//!   panels of [`NR`] outputs: per block, the panel's scales (and Q4_1
//!   offsets) already converted to f32, then its rows' quantized values, so
//!   the micro-kernel reads a panel from front to back.
//! - Per block, each output's integer dot product is exact. On AVX2,
//!   `maddubs` multiplies the unsigned 4-bit values (or the magnitudes of
//!   8-bit ones, their signs moved onto the activation) with the
//!   activation's signed bytes and `madd` widens the pairs to 32 bits; no
//!   pair can saturate (at most 2 · 128 · 127). Integer sums do not depend
//!   on their order.
//! - The panel's [`NR`] outputs then run the f32 part side by side, one per
//!   vector lane, each lane in exactly the reference's order (a multiply,
//!   a multiply, an add per block; no FMA). So the bits are the reference's
//!   on every instruction set; the tests check it on each one the CPU runs.
#![allow(unsafe_code)]
// `acc = acc + c` is spelled out on purpose: each line is one rounding of
// the spec, in order.
#![allow(clippy::assign_op_pattern)]

use cinder_kernel::{
	quant::{self, Q8Block, WeightFormat, BLOCK},
	tile::canonical,
	KernelError,
};

use crate::simd::Isa;

/// Outputs per panel: one AVX2 vector of f32 lanes.
pub const NR: usize = 8;

/// A quantized `n × k` weight (GGUF layout: `n` rows of `k / 32` blocks) in
/// panels of [`NR`] rows, the last one padded with zero blocks.
#[derive(Clone, Debug, PartialEq)]
pub struct QPanels {
	pub format: WeightFormat,
	/// Inputs per output.
	pub k: usize,
	/// Outputs.
	pub n: usize,
	/// Per panel, per block: the [`NR`] rows' `d`, then (Q4_1) their `m`.
	scales: Vec<f32>,
	/// Per panel, per block: the [`NR`] rows' quantized values as GGUF
	/// stores them (Q4_1: 16 bytes of nibbles; Q8_0: 32 signed bytes).
	quants: Vec<u8>,
}

/// Scales per block of a panel.
const fn scale_len(format: WeightFormat) -> usize {
	match format {
		WeightFormat::Q4_1 => 2 * NR,
		WeightFormat::Q8_0 => NR,
	}
}

/// Bytes of quantized values per row and block, and where they start in a
/// GGUF block.
const fn quant_len(format: WeightFormat) -> (usize, usize) {
	match format {
		WeightFormat::Q4_1 => (16, 4),
		WeightFormat::Q8_0 => (32, 2),
	}
}

impl QPanels {
	/// Packs `w`, `n` rows of `k` values in `format`; refuses a `k` that is
	/// not a positive multiple of 32 or bytes that are not `n` such rows.
	pub fn pack(format: WeightFormat, w: &[u8], k: usize, n: usize) -> Result<Self, KernelError> {
		let row_bytes = format.row_bytes(k).ok_or(KernelError::ShapeMismatch)?;
		if Some(w.len()) != row_bytes.checked_mul(n) || n == 0 {
			return Err(KernelError::ShapeMismatch);
		}
		let blocks = k / BLOCK;
		let panels = n.div_ceil(NR);
		let sl = scale_len(format);
		let (ql, header) = quant_len(format);
		let mut scales = vec![0.0f32; panels * blocks * sl];
		let mut quants = vec![0u8; panels * blocks * NR * ql];
		for (j, row) in w.chunks_exact(row_bytes).enumerate() {
			let (p, lane) = (j / NR, j % NR);
			for (b, block) in row.chunks_exact(format.block_bytes()).enumerate() {
				let at = p * blocks + b;
				let s = &mut scales[at * sl..(at + 1) * sl];
				s[lane] = quant::half_at(block, 0);
				if format == WeightFormat::Q4_1 {
					s[NR + lane] = quant::half_at(block, 2);
				}
				let q = (at * NR + lane) * ql;
				quants[q..q + ql].copy_from_slice(&block[header..header + ql]);
			}
		}
		Ok(Self { format, k, n, scales, quants })
	}

	/// Blocks per row.
	fn blocks(&self) -> usize {
		self.k / BLOCK
	}

	/// Panel `p`'s scales and quantized values.
	fn panel(&self, p: usize) -> (&[f32], &[u8]) {
		let blocks = self.blocks();
		let sl = scale_len(self.format) * blocks;
		let ql = quant_len(self.format).0 * NR * blocks;
		(&self.scales[p * sl..(p + 1) * sl], &self.quants[p * ql..(p + 1) * ql])
	}
}

/// `out = a · wᵀ` as [`quant::linear`] computes it (`a` is `rows × k`,
/// `out` is `rows × n`, NaNs canonicalised), on `isa` (which the CPU must
/// run; others fall back to the portable code).
pub fn linear(isa: Isa, a: &[f32], w: &QPanels, out: &mut [f32]) -> Result<(), KernelError> {
	let rows = a.len().checked_div(w.k).unwrap_or(0);
	if rows * w.k != a.len() || out.len() != rows * w.n {
		return Err(KernelError::ShapeMismatch);
	}
	#[cfg(target_arch = "x86_64")]
	{
		if isa != Isa::Portable && std::arch::is_x86_feature_detected!("avx2") {
			// SAFETY: the CPU supports AVX2 (checked just above); shapes are
			// checked above and the panels are packed for `w.k`.
			unsafe { x86::linear_avx2(a, w, out) };
			return Ok(());
		}
	}
	let _ = isa;
	for_each_panel(a, w, out, |(scales, quants), q, acc| match w.format {
		WeightFormat::Q4_1 => panel_portable::<true>(scales, quants, q, acc),
		WeightFormat::Q8_0 => panel_portable::<false>(scales, quants, q, acc),
	});
	Ok(())
}

/// Quantizes each row of `a` and has `panel` compute every panel's
/// [`NR`] outputs from it; writes them, canonicalised, to `out`.
#[inline(always)]
fn for_each_panel(
	a: &[f32],
	w: &QPanels,
	out: &mut [f32],
	mut panel: impl FnMut((&[f32], &[u8]), &[Q8Block], &mut [f32; NR]),
) {
	let mut acc = [0.0f32; NR];
	for (a_row, out_row) in a.chunks_exact(w.k).zip(out.chunks_exact_mut(w.n)) {
		let q = quant::quantize_row(a_row).unwrap_or_default();
		for (p, out_panel) in out_row.chunks_mut(NR).enumerate() {
			panel(w.panel(p), &q, &mut acc);
			for (o, v) in out_panel.iter_mut().zip(acc) {
				*o = canonical(v);
			}
		}
	}
}

/// One panel's outputs, one lane at a time.
fn panel_portable<const Q4: bool>(
	scales: &[f32],
	quants: &[u8],
	q: &[Q8Block],
	acc: &mut [f32; NR],
) {
	let format = if Q4 { WeightFormat::Q4_1 } else { WeightFormat::Q8_0 };
	let sl = scale_len(format);
	let ql = quant_len(format).0;
	*acc = [0.0; NR];
	for ((s, qs), a) in scales.chunks_exact(sl).zip(quants.chunks_exact(NR * ql)).zip(q) {
		for (lane, (acc, row)) in acc.iter_mut().zip(qs.chunks_exact(ql)).enumerate() {
			let sum = if Q4 { quant::nibbles_dot(row, a) } else { quant::bytes_dot(row, a) };
			let mut c = (s[lane] * a.d) * sum as f32;
			if Q4 {
				c = c + s[NR + lane] * a.ds;
			}
			*acc = *acc + c;
		}
	}
}

#[cfg(target_arch = "x86_64")]
mod x86 {
	use std::arch::x86_64::*;

	use super::*;

	#[target_feature(enable = "avx2")]
	pub(super) unsafe fn linear_avx2(a: &[f32], w: &QPanels, out: &mut [f32]) {
		for_each_panel(a, w, out, |(scales, quants), q, acc| match w.format {
			// SAFETY: AVX2 is enabled here; the panel holds `q.len()` blocks.
			WeightFormat::Q4_1 => unsafe { panel_avx2::<true>(scales, quants, q, acc) },
			// SAFETY: as above.
			WeightFormat::Q8_0 => unsafe { panel_avx2::<false>(scales, quants, q, acc) },
		});
	}

	/// The exact 32-bit partial sums of one row's block dot product: eight
	/// lanes that add up to it.
	#[inline]
	#[target_feature(enable = "avx2")]
	unsafe fn row_dot<const Q4: bool>(row: *const u8, a: __m256i) -> __m256i {
		let ones = _mm256_set1_epi16(1);
		let pairs = if Q4 {
			// SAFETY: the caller points `row` at 16 readable bytes.
			let bytes = unsafe { _mm_loadu_si128(row.cast()) };
			let w = _mm256_and_si256(
				_mm256_set_m128i(_mm_srli_epi16(bytes, 4), bytes),
				_mm256_set1_epi8(0x0f),
			);
			_mm256_maddubs_epi16(w, a)
		} else {
			// SAFETY: the caller points `row` at 32 readable bytes.
			let w = unsafe { _mm256_loadu_si256(row.cast()) };
			_mm256_maddubs_epi16(_mm256_sign_epi8(w, w), _mm256_sign_epi8(a, w))
		};
		_mm256_madd_epi16(pairs, ones)
	}

	/// Lane `i` of the result: the sum of `v[i]`'s eight lanes.
	#[inline]
	#[target_feature(enable = "avx2")]
	fn sum8(v: [__m256i; 8]) -> __m256i {
		let [v0, v1, v2, v3, v4, v5, v6, v7] = v;
		let t0 = _mm256_hadd_epi32(_mm256_hadd_epi32(v0, v1), _mm256_hadd_epi32(v2, v3));
		let t1 = _mm256_hadd_epi32(_mm256_hadd_epi32(v4, v5), _mm256_hadd_epi32(v6, v7));
		_mm256_add_epi32(
			_mm256_permute2x128_si256(t0, t1, 0x20),
			_mm256_permute2x128_si256(t0, t1, 0x31),
		)
	}

	/// One panel's [`NR`] outputs, side by side in the lanes of one vector.
	#[target_feature(enable = "avx2")]
	unsafe fn panel_avx2<const Q4: bool>(
		scales: &[f32],
		quants: &[u8],
		q: &[Q8Block],
		acc: &mut [f32; NR],
	) {
		let format = if Q4 { WeightFormat::Q4_1 } else { WeightFormat::Q8_0 };
		let sl = scale_len(format);
		let ql = quant_len(format).0;
		let mut total = _mm256_setzero_ps();
		for ((s, qs), blk) in scales.chunks_exact(sl).zip(quants.chunks_exact(NR * ql)).zip(q) {
			// SAFETY: `qs` holds NR rows of `ql` bytes and `blk.qs` 32
			// bytes; `s` holds NR (Q4_1: 2·NR) scales.
			unsafe {
				let a = _mm256_loadu_si256(blk.qs.as_ptr().cast());
				let p = qs.as_ptr();
				let sums = sum8([
					row_dot::<Q4>(p, a),
					row_dot::<Q4>(p.add(ql), a),
					row_dot::<Q4>(p.add(2 * ql), a),
					row_dot::<Q4>(p.add(3 * ql), a),
					row_dot::<Q4>(p.add(4 * ql), a),
					row_dot::<Q4>(p.add(5 * ql), a),
					row_dot::<Q4>(p.add(6 * ql), a),
					row_dot::<Q4>(p.add(7 * ql), a),
				]);
				let d = _mm256_loadu_ps(s.as_ptr());
				let mut c = _mm256_mul_ps(
					_mm256_mul_ps(d, _mm256_set1_ps(blk.d)),
					_mm256_cvtepi32_ps(sums),
				);
				if Q4 {
					let m = _mm256_loadu_ps(s.as_ptr().add(NR));
					c = _mm256_add_ps(c, _mm256_mul_ps(m, _mm256_set1_ps(blk.ds)));
				}
				total = _mm256_add_ps(total, c);
			}
		}
		// SAFETY: `acc` holds NR = 8 f32.
		unsafe { _mm256_storeu_ps(acc.as_mut_ptr(), total) };
	}
}
