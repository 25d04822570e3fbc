//! The canonical linear layer as high-performance GEMM computes it, without
//! changing a bit: every output still sums `a[i][k]·w[k][j]` from `0.0` in
//! ascending `k`, one multiply and one add (two roundings) per term.
//!
//! - Weights are packed once, at load, into [`Panels`]: column panels
//!   [`NR`] wide, each stored `k`-major (`NR` contiguous values per `k`), so
//!   the micro-kernel streams one panel from front to back.
//! - A [`Micro`] kernel keeps an `M × NR` block of accumulators in
//!   registers and advances it over `k` together: per `k` it broadcasts `M`
//!   values of `A` and multiplies them with one row of the panel, then adds.
//!   Outputs are independent, so computing them side by side does not
//!   change any output's sum. There is one per instruction set, written
//!   with its intrinsics (AVX2: 4 rows × 2 vectors; AVX-512: 8 rows × 1
//!   vector, eight independent adds in flight), one for AVX2 cores with a
//!   128-bit datapath (AMD Zen 1: 3 rows × 4 four-lane vectors, in
//!   assembly) and a portable one.
//! - `A` is read where it lies, as the column tiles a step names (a linear
//!   step over a 1536-wide input reads 24 tiles), instead of being copied
//!   into one matrix first.
//!
//! The functions are `#[inline(always)]` and generic over the [`Micro`]
//! kernel: [`crate::simd`] instantiates them once per instruction set and
//! picks one at run time.

// `acc = acc + x` is spelled out on purpose: each line is one rounding of
// spec v1, in order.
#![allow(clippy::assign_op_pattern)]

use cinder_kernel::Tile;

/// Columns per panel: two AVX2 vectors, one AVX-512 vector.
pub const NR: usize = 16;

/// A `k × n` weight matrix in column panels of [`NR`] (the last one padded
/// with zeros), each `k`-major.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Panels {
	pub k: usize,
	pub n: usize,
	data: Vec<f32>,
}

impl Panels {
	/// Packs the row-major `k × n` matrix `w`.
	pub fn pack(w: &[f32], k: usize, n: usize) -> Self {
		let panels = n.div_ceil(NR);
		let mut data = vec![0.0f32; panels * k * NR];
		for (p, panel) in data.chunks_exact_mut((k * NR).max(1)).enumerate().take(panels) {
			let j0 = p * NR;
			let width = NR.min(n - j0);
			for (row, dst) in w.chunks_exact(n.max(1)).zip(panel.chunks_exact_mut(NR)) {
				dst[..width].copy_from_slice(&row[j0..j0 + width]);
			}
		}
		Self { k, n, data }
	}

	/// Packs a weight tile.
	pub fn of_tile(t: &Tile) -> Self {
		Self::pack(&t.data, t.rows as usize, t.cols as usize)
	}

	/// Packs the transpose of the row-major `n × k` matrix `m` (so that
	/// `A · mᵀ` is a linear layer over these panels).
	pub fn pack_transposed(m: &[f32], n: usize, k: usize) -> Self {
		let panels = n.div_ceil(NR);
		let mut data = vec![0.0f32; panels * k * NR];
		for (j, row) in m.chunks_exact(k.max(1)).enumerate().take(n) {
			let (p, l) = (j / NR, j % NR);
			let panel = &mut data[p * k * NR..(p + 1) * k * NR];
			for (kk, x) in row.iter().enumerate() {
				panel[kk * NR + l] = *x;
			}
		}
		Self { k, n, data }
	}

	/// Panel `p`: `k` rows of [`NR`] values.
	fn panel(&self, p: usize) -> &[f32] {
		self.data.get(p * self.k * NR..(p + 1) * self.k * NR).unwrap_or(&[])
	}
}

/// `A` as the column tiles of a step: segment `s` is `rows × widths[s]`,
/// row-major; together they are `rows × k`, left to right.
#[derive(Clone, Copy)]
pub struct Segments<'a> {
	pub tiles: &'a [&'a [f32]],
	pub widths: &'a [usize],
	pub rows: usize,
}

impl Segments<'_> {
	/// The total width `k`, or `None` when a segment's data does not match
	/// its shape.
	pub fn width(&self) -> Option<usize> {
		if self.tiles.len() != self.widths.len() {
			return None;
		}
		let mut k = 0usize;
		for (t, w) in self.tiles.iter().zip(self.widths) {
			if t.len() != self.rows.checked_mul(*w)? {
				return None;
			}
			k = k.checked_add(*w)?;
		}
		Some(k)
	}
}

/// A micro-kernel: `acc[m][l] = acc[m][l] + a[m][kk] · panel[kk][l]` for
/// ascending `kk` (one multiply, one add), over `kc = panel.len() / NR`
/// rows of the panel. Rows of `a` shorter than `kc` leave `acc` unchanged
/// (callers check shapes first).
pub trait Micro {
	/// The most rows it computes at once.
	const MR: usize;
	fn run<const M: usize>(a: [&[f32]; M], panel: &[f32], acc: &mut [[f32; NR]; M]);
}

/// The portable micro-kernel: plain Rust that compilers vectorise.
pub struct Portable;

impl Micro for Portable {
	const MR: usize = 4;

	#[inline(always)]
	fn run<const M: usize>(a: [&[f32]; M], panel: &[f32], acc: &mut [[f32; NR]; M]) {
		let kc = panel.len() / NR;
		if a.iter().any(|row| row.len() < kc) {
			return;
		}
		let mut c = *acc;
		for (kk, w) in panel.chunks_exact(NR).enumerate() {
			let Ok(w) = <&[f32; NR]>::try_from(w) else { return };
			for (row, c_row) in a.iter().zip(c.iter_mut()) {
				let Some(&x) = row.get(kk) else { return };
				for (c, w) in c_row.iter_mut().zip(w) {
					*c = *c + x * w;
				}
			}
		}
		*acc = c;
	}
}

#[cfg(target_arch = "x86_64")]
pub use x86::{Avx2, Avx2Narrow, Avx512};

#[cfg(target_arch = "x86_64")]
#[allow(unsafe_code)]
mod x86 {
	use core::arch::x86_64::*;

	use super::{Micro, NR};

	/// Panel rows (of one cache line each) prefetched ahead.
	const PREFETCH: usize = 16;

	/// The panel's rows `kc` when every row of `a` holds that many values
	/// (`None` otherwise: callers check shapes first, and a kernel given
	/// short rows leaves its accumulators unchanged).
	#[inline(always)]
	fn depth<const M: usize>(a: &[&[f32]; M], panel: &[f32]) -> Option<usize> {
		let kc = panel.len() / NR;
		a.iter().all(|row| row.len() >= kc).then_some(kc)
	}

	/// `a` and `acc` as exactly `N` rows, when `M` is `N`: what a kernel
	/// written out for `N` rows takes.
	#[inline(always)]
	#[allow(clippy::type_complexity)]
	fn exactly<'r, 's, const M: usize, const N: usize>(
		a: &'r [&'s [f32]; M],
		acc: &'r mut [[f32; NR]; M],
	) -> Option<(&'r [&'s [f32]; N], &'r mut [[f32; NR]; N])> {
		Some((
			<&[&[f32]; N]>::try_from(&a[..]).ok()?,
			<&mut [[f32; NR]; N]>::try_from(&mut acc[..]).ok()?,
		))
	}

	/// AVX2: `M ≤ 4` rows × two 8-lane vectors of accumulators (eight of
	/// the sixteen vector registers; six rows spill).
	pub struct Avx2;

	impl Micro for Avx2 {
		const MR: usize = 4;

		#[inline(always)]
		fn run<const M: usize>(a: [&[f32]; M], panel: &[f32], acc: &mut [[f32; NR]; M]) {
			let Some(kc) = depth(&a, panel) else { return };
			// SAFETY: only instantiated under `#[target_feature(enable =
			// "avx2")]` callers (`simd::compute` checks the CPU), and the
			// rows hold at least `kc` values.
			unsafe {
				match exactly::<M, 4>(&a, acc) {
					Some((a, acc)) => avx2_4(a, panel, kc, acc),
					None => avx2::<M>(a, panel, kc, acc),
				}
			}
		}
	}

	/// [`avx2`] for four rows, its eight accumulators named so that they
	/// stay in their registers across iterations (the array form made the
	/// compiler copy all of them every `k`).
	///
	/// # Safety
	/// As [`avx2`].
	#[inline(never)]
	#[target_feature(enable = "avx2")]
	unsafe fn avx2_4(a: &[&[f32]; 4], panel: &[f32], kc: usize, acc: &mut [[f32; NR]; 4]) {
		// SAFETY: `acc` rows hold 16 values; `kk < kc`, so the panel row and
		// each `a[m][kk]` are in bounds (checked by the caller).
		unsafe {
			let (mut c0l, mut c0h) =
				(_mm256_loadu_ps(acc[0].as_ptr()), _mm256_loadu_ps(acc[0].as_ptr().add(8)));
			let (mut c1l, mut c1h) =
				(_mm256_loadu_ps(acc[1].as_ptr()), _mm256_loadu_ps(acc[1].as_ptr().add(8)));
			let (mut c2l, mut c2h) =
				(_mm256_loadu_ps(acc[2].as_ptr()), _mm256_loadu_ps(acc[2].as_ptr().add(8)));
			let (mut c3l, mut c3h) =
				(_mm256_loadu_ps(acc[3].as_ptr()), _mm256_loadu_ps(acc[3].as_ptr().add(8)));
			let (a0, a1, a2, a3) = (a[0].as_ptr(), a[1].as_ptr(), a[2].as_ptr(), a[3].as_ptr());
			let w = panel.as_ptr();
			for kk in 0..kc {
				// A hint, never a fault: past the panel's end it touches
				// nothing (and `wrapping_add` forms the address without UB).
				_mm_prefetch::<_MM_HINT_T0>(w.wrapping_add((kk + PREFETCH) * NR).cast());
				let w0 = _mm256_loadu_ps(w.add(kk * NR));
				let w1 = _mm256_loadu_ps(w.add(kk * NR + 8));
				let x = _mm256_broadcast_ss(&*a0.add(kk));
				c0l = _mm256_add_ps(c0l, _mm256_mul_ps(x, w0));
				c0h = _mm256_add_ps(c0h, _mm256_mul_ps(x, w1));
				let x = _mm256_broadcast_ss(&*a1.add(kk));
				c1l = _mm256_add_ps(c1l, _mm256_mul_ps(x, w0));
				c1h = _mm256_add_ps(c1h, _mm256_mul_ps(x, w1));
				let x = _mm256_broadcast_ss(&*a2.add(kk));
				c2l = _mm256_add_ps(c2l, _mm256_mul_ps(x, w0));
				c2h = _mm256_add_ps(c2h, _mm256_mul_ps(x, w1));
				let x = _mm256_broadcast_ss(&*a3.add(kk));
				c3l = _mm256_add_ps(c3l, _mm256_mul_ps(x, w0));
				c3h = _mm256_add_ps(c3h, _mm256_mul_ps(x, w1));
			}
			_mm256_storeu_ps(acc[0].as_mut_ptr(), c0l);
			_mm256_storeu_ps(acc[0].as_mut_ptr().add(8), c0h);
			_mm256_storeu_ps(acc[1].as_mut_ptr(), c1l);
			_mm256_storeu_ps(acc[1].as_mut_ptr().add(8), c1h);
			_mm256_storeu_ps(acc[2].as_mut_ptr(), c2l);
			_mm256_storeu_ps(acc[2].as_mut_ptr().add(8), c2h);
			_mm256_storeu_ps(acc[3].as_mut_ptr(), c3l);
			_mm256_storeu_ps(acc[3].as_mut_ptr().add(8), c3h);
		}
	}

	/// # Safety
	/// The CPU supports AVX2; every row of `a` holds at least `kc` values and
	/// `panel` at least `kc · NR`.
	#[inline]
	#[target_feature(enable = "avx2")]
	unsafe fn avx2<const M: usize>(
		a: [&[f32]; M],
		panel: &[f32],
		kc: usize,
		acc: &mut [[f32; NR]; M],
	) {
		let mut lo = [_mm256_setzero_ps(); M];
		let mut hi = [_mm256_setzero_ps(); M];
		for m in 0..M {
			// SAFETY: `acc[m]` holds 16 values.
			unsafe {
				lo[m] = _mm256_loadu_ps(acc[m].as_ptr());
				hi[m] = _mm256_loadu_ps(acc[m].as_ptr().add(8));
			}
		}
		let w = panel.as_ptr();
		for kk in 0..kc {
			// SAFETY: `kk < kc`, so the panel row and each `a[m][kk]` are
			// in bounds (checked by the caller).
			unsafe {
				let w0 = _mm256_loadu_ps(w.add(kk * NR));
				let w1 = _mm256_loadu_ps(w.add(kk * NR + 8));
				for m in 0..M {
					let x = _mm256_set1_ps(*a[m].get_unchecked(kk));
					lo[m] = _mm256_add_ps(lo[m], _mm256_mul_ps(x, w0));
					hi[m] = _mm256_add_ps(hi[m], _mm256_mul_ps(x, w1));
				}
			}
		}
		for m in 0..M {
			// SAFETY: `acc[m]` holds 16 values.
			unsafe {
				_mm256_storeu_ps(acc[m].as_mut_ptr(), lo[m]);
				_mm256_storeu_ps(acc[m].as_mut_ptr().add(8), hi[m]);
			}
		}
	}

	/// AVX2 on a 128-bit datapath (AMD Zen 1, which splits every 256-bit
	/// operation in two): `M ≤ 3` rows × four 4-lane vectors of
	/// accumulators, in 128-bit instructions. A 128-bit broadcast is one
	/// operation where a 256-bit one is two, and the panel's three upper
	/// quarters are read by the multiplies themselves, so the front end
	/// issues fewer operations per multiply-add than [`Avx2`]'s (on one Zen
	/// 1 core, 15.5 against 14.6 G multiply-adds per second on a MiniLM
	/// linear step: `cinder-inference-bench`'s last table). The arithmetic,
	/// and so every bit, is the same.
	pub struct Avx2Narrow;

	impl Micro for Avx2Narrow {
		const MR: usize = 3;

		#[inline(always)]
		fn run<const M: usize>(a: [&[f32]; M], panel: &[f32], acc: &mut [[f32; NR]; M]) {
			let Some(kc) = depth(&a, panel) else { return };
			// SAFETY: only instantiated under `#[target_feature(enable =
			// "avx2")]` callers (`simd::compute` checks the CPU), and the
			// rows hold at least `kc` values.
			unsafe {
				match exactly::<M, 3>(&a, acc) {
					Some((a, acc)) => narrow_3(a, panel, kc, acc),
					None => narrow::<M>(a, panel, kc, acc),
				}
			}
		}
	}

	/// [`Avx2Narrow`] for three rows, written out in assembly: the twelve
	/// accumulators stay in twelve `xmm` registers, the panel's first quarter is
	/// loaded once per `k` and its other three are read by the multiplies
	/// themselves. (Written with intrinsics, the compiler keeps all four
	/// quarters in registers and spills accumulators to the stack, which
	/// puts a store and a load on every add's chain: slower than [`Avx2`].)
	/// Per `k` and row: one broadcast, then for each quarter one multiply
	/// into a scratch register and one add into the accumulator, in that
	/// order, as every other kernel does.
	///
	/// # Safety
	/// The CPU supports AVX2; every row of `a` holds at least `kc` values and
	/// `panel` at least `kc · NR`.
	#[inline(never)]
	#[target_feature(enable = "avx2")]
	unsafe fn narrow_3(a: &[&[f32]; 3], panel: &[f32], kc: usize, acc: &mut [[f32; NR]; 3]) {
		if kc == 0 {
			return;
		}
		// SAFETY: `acc` rows hold 16 values; the loop reads `a[m][0..kc]` and
		// `panel[0..kc · NR]`, in bounds (checked by the caller); the
		// prefetch is a hint and never faults.
		unsafe {
			let load = |row: &[f32; NR]| {
				let p = row.as_ptr();
				[
					_mm_loadu_ps(p),
					_mm_loadu_ps(p.add(4)),
					_mm_loadu_ps(p.add(8)),
					_mm_loadu_ps(p.add(12)),
				]
			};
			let [mut c00, mut c01, mut c02, mut c03] = load(&acc[0]);
			let [mut c10, mut c11, mut c12, mut c13] = load(&acc[1]);
			let [mut c20, mut c21, mut c22, mut c23] = load(&acc[2]);
			core::arch::asm!(
				"2:",
				"prefetcht0 [{w} + {ahead}]",
				"vmovups {w0}, [{w}]",
				"vbroadcastss {x}, dword ptr [{a0} + 4*{k}]",
				"vmulps {t}, {x}, {w0}",
				"vaddps {c00}, {c00}, {t}",
				"vmulps {t}, {x}, [{w} + 16]",
				"vaddps {c01}, {c01}, {t}",
				"vmulps {t}, {x}, [{w} + 32]",
				"vaddps {c02}, {c02}, {t}",
				"vmulps {t}, {x}, [{w} + 48]",
				"vaddps {c03}, {c03}, {t}",
				"vbroadcastss {x}, dword ptr [{a1} + 4*{k}]",
				"vmulps {t}, {x}, {w0}",
				"vaddps {c10}, {c10}, {t}",
				"vmulps {t}, {x}, [{w} + 16]",
				"vaddps {c11}, {c11}, {t}",
				"vmulps {t}, {x}, [{w} + 32]",
				"vaddps {c12}, {c12}, {t}",
				"vmulps {t}, {x}, [{w} + 48]",
				"vaddps {c13}, {c13}, {t}",
				"vbroadcastss {x}, dword ptr [{a2} + 4*{k}]",
				"vmulps {t}, {x}, {w0}",
				"vaddps {c20}, {c20}, {t}",
				"vmulps {t}, {x}, [{w} + 16]",
				"vaddps {c21}, {c21}, {t}",
				"vmulps {t}, {x}, [{w} + 32]",
				"vaddps {c22}, {c22}, {t}",
				"vmulps {t}, {x}, [{w} + 48]",
				"vaddps {c23}, {c23}, {t}",
				"add {w}, 64",
				"inc {k}",
				"cmp {k}, {kc}",
				"jb 2b",
				ahead = const PREFETCH * NR * 4,
				w = inout(reg) panel.as_ptr() => _,
				k = inout(reg) 0usize => _,
				kc = in(reg) kc,
				a0 = in(reg) a[0].as_ptr(),
				a1 = in(reg) a[1].as_ptr(),
				a2 = in(reg) a[2].as_ptr(),
				w0 = out(xmm_reg) _,
				x = out(xmm_reg) _,
				t = out(xmm_reg) _,
				c00 = inout(xmm_reg) c00,
				c01 = inout(xmm_reg) c01,
				c02 = inout(xmm_reg) c02,
				c03 = inout(xmm_reg) c03,
				c10 = inout(xmm_reg) c10,
				c11 = inout(xmm_reg) c11,
				c12 = inout(xmm_reg) c12,
				c13 = inout(xmm_reg) c13,
				c20 = inout(xmm_reg) c20,
				c21 = inout(xmm_reg) c21,
				c22 = inout(xmm_reg) c22,
				c23 = inout(xmm_reg) c23,
				options(nostack, readonly),
			);
			let store = |row: &mut [f32; NR], c: [__m128; 4]| {
				let p = row.as_mut_ptr();
				for (q, c) in c.into_iter().enumerate() {
					_mm_storeu_ps(p.add(4 * q), c);
				}
			};
			store(&mut acc[0], [c00, c01, c02, c03]);
			store(&mut acc[1], [c10, c11, c12, c13]);
			store(&mut acc[2], [c20, c21, c22, c23]);
		}
	}

	/// [`Avx2Narrow`] for any `M` (the one and two rows a block of 16 ends
	/// with).
	///
	/// # Safety
	/// As [`narrow_3`].
	#[inline]
	#[target_feature(enable = "avx2")]
	unsafe fn narrow<const M: usize>(
		a: [&[f32]; M],
		panel: &[f32],
		kc: usize,
		acc: &mut [[f32; NR]; M],
	) {
		let mut c = [[_mm_setzero_ps(); 4]; M];
		for (c, acc) in c.iter_mut().zip(acc.iter()) {
			for (q, c) in c.iter_mut().enumerate() {
				// SAFETY: `acc` rows hold 16 values.
				unsafe { *c = _mm_loadu_ps(acc.as_ptr().add(4 * q)) };
			}
		}
		let w = panel.as_ptr();
		for kk in 0..kc {
			// SAFETY: `kk < kc`, so the panel row and each `a[m][kk]` are
			// in bounds (checked by the caller).
			unsafe {
				let row = w.add(kk * NR);
				let ws = [
					_mm_loadu_ps(row),
					_mm_loadu_ps(row.add(4)),
					_mm_loadu_ps(row.add(8)),
					_mm_loadu_ps(row.add(12)),
				];
				for (c, a) in c.iter_mut().zip(a.iter()) {
					let x = _mm_set1_ps(*a.get_unchecked(kk));
					for (c, w) in c.iter_mut().zip(ws) {
						*c = _mm_add_ps(*c, _mm_mul_ps(x, w));
					}
				}
			}
		}
		for (c, acc) in c.iter().zip(acc.iter_mut()) {
			for (q, c) in c.iter().enumerate() {
				// SAFETY: `acc` rows hold 16 values.
				unsafe { _mm_storeu_ps(acc.as_mut_ptr().add(4 * q), *c) };
			}
		}
	}

	/// AVX-512: `M ≤ 8` rows × one 16-lane vector of accumulators (eight
	/// independent adds in flight, as Intel's two vector ports need).
	pub struct Avx512;

	impl Micro for Avx512 {
		const MR: usize = 8;

		#[inline(always)]
		fn run<const M: usize>(a: [&[f32]; M], panel: &[f32], acc: &mut [[f32; NR]; M]) {
			let Some(kc) = depth(&a, panel) else { return };
			// SAFETY: only instantiated under `#[target_feature(enable =
			// "avx512f")]` callers (`simd::compute` checks the CPU), and the
			// rows hold at least `kc` values.
			unsafe { avx512::<M>(a, panel, kc, acc) }
		}
	}

	/// # Safety
	/// The CPU supports AVX-512F; every row of `a` holds at least `kc` values
	/// and `panel` at least `kc · NR`.
	#[inline]
	#[target_feature(enable = "avx512f")]
	unsafe fn avx512<const M: usize>(
		a: [&[f32]; M],
		panel: &[f32],
		kc: usize,
		acc: &mut [[f32; NR]; M],
	) {
		let mut c = [_mm512_setzero_ps(); M];
		for m in 0..M {
			// SAFETY: `acc[m]` holds 16 values.
			unsafe { c[m] = _mm512_loadu_ps(acc[m].as_ptr()) };
		}
		let w = panel.as_ptr();
		for kk in 0..kc {
			// SAFETY: `kk < kc`, so the panel row and each `a[m][kk]` are
			// in bounds (checked by the caller).
			unsafe {
				let w0 = _mm512_loadu_ps(w.add(kk * NR));
				for m in 0..M {
					let x = _mm512_set1_ps(*a[m].get_unchecked(kk));
					c[m] = _mm512_add_ps(c[m], _mm512_mul_ps(x, w0));
				}
			}
		}
		for m in 0..M {
			// SAFETY: `acc[m]` holds 16 values.
			unsafe { _mm512_storeu_ps(acc[m].as_mut_ptr(), c[m]) };
		}
	}
}

/// One block of `M` output rows starting at `r0`, panel `p`: accumulates
/// over every segment in order, then writes `acc + bias` into `out`.
#[inline(always)]
fn block<K: Micro, const M: usize>(
	a: &Segments,
	r0: usize,
	w: &Panels,
	p: usize,
	bias: Option<&[f32]>,
	out: &mut [f32],
) {
	let panel = w.panel(p);
	let mut acc = [[0.0f32; NR]; M];
	let mut k0 = 0usize;
	for (seg, &kc) in a.tiles.iter().zip(a.widths) {
		let mut rows: [&[f32]; M] = [&[]; M];
		for (m, row) in rows.iter_mut().enumerate() {
			let r = r0 + m;
			*row = seg.get(r * kc..(r + 1) * kc).unwrap_or(&[]);
		}
		K::run::<M>(rows, panel.get(k0 * NR..(k0 + kc) * NR).unwrap_or(&[]), &mut acc);
		k0 += kc;
	}
	let n = w.n;
	let j0 = p * NR;
	let width = NR.min(n - j0);
	for (m, acc_row) in acc.iter().enumerate() {
		let Some(o) = out.get_mut((r0 + m) * n + j0..(r0 + m) * n + j0 + width) else { return };
		match bias.and_then(|b| b.get(j0..j0 + width)) {
			Some(b) => {
				for ((o, c), b) in o.iter_mut().zip(acc_row).zip(b) {
					*o = *c + *b;
				}
			}
			None => o.copy_from_slice(&acc_row[..width]),
		}
	}
}

/// `out = A·W + bias` (`rows × n`, before any activation): the linear
/// layer of spec v1, bit for bit; without a bias, `out = A·W` (each output
/// the plain sequential sum, as attention's scores and weighted values).
/// Returns `false` (writing nothing useful) when the shapes disagree;
/// callers check them first.
#[inline(always)]
pub fn linear<K: Micro>(a: &Segments, w: &Panels, bias: Option<&[f32]>, out: &mut [f32]) -> bool {
	if a.width() != Some(w.k) || bias.is_some_and(|b| b.len() != w.n) || out.len() != a.rows * w.n {
		return false;
	}
	for p in 0..w.n.div_ceil(NR) {
		let mut r0 = 0;
		if K::MR >= 8 {
			while r0 + 8 <= a.rows {
				block::<K, 8>(a, r0, w, p, bias, out);
				r0 += 8;
			}
		}
		if K::MR >= 4 {
			while r0 + 4 <= a.rows {
				block::<K, 4>(a, r0, w, p, bias, out);
				r0 += 4;
			}
		} else {
			// Three rows at a time, ending on two twos rather than a three
			// and a one (16 rows: 3, 3, 3, 3, 2, 2).
			while r0 + 3 <= a.rows && a.rows - r0 != 4 {
				block::<K, 3>(a, r0, w, p, bias, out);
				r0 += 3;
			}
		}
		while a.rows - r0 >= 2 && a.rows - r0 != 3 {
			block::<K, 2>(a, r0, w, p, bias, out);
			r0 += 2;
		}
		match a.rows - r0 {
			3 => block::<K, 3>(a, r0, w, p, bias, out),
			2 => block::<K, 2>(a, r0, w, p, bias, out),
			1 => block::<K, 1>(a, r0, w, p, bias, out),
			_ => {}
		}
	}
	true
}
