//! `expf`, `erff` and GELU eight lanes at a time, bit-identical to the
//! `libm` functions kernel spec v1 names.
//!
//! Each lane performs exactly the operations `libm` 0.2.16 performs for its
//! input (the same coefficients, the same order, the same roundings): the
//! branches of the scalar code become per-lane selects between results
//! that are all computed. Lanes outside the ranges written out here (NaN,
//! infinities, `expf` beyond ±87) go to `libm` itself, one at a time.
//! The coefficients are those of FreeBSD msun's `e_expf.c` and `s_erff.c`,
//! which `libm` ports.

/// Lanes per call: one AVX2 vector, half an AVX-512 one.
pub const LANES: usize = 8;
type V = [f32; LANES];

const fn bits<const N: usize>(b: [u32; N]) -> [f32; N] {
	let mut out = [0.0f32; N];
	let mut i = 0;
	while i < N {
		out[i] = f32::from_bits(b[i]);
		i += 1;
	}
	out
}

const LN2_HI: f32 = f32::from_bits(0x3f31_7200);
const LN2_LO: f32 = f32::from_bits(0x35bf_be8e);
const INV_LN2: f32 = f32::from_bits(0x3fb8_aa3b);
const P1: f32 = f32::from_bits(0x3e2aaa8f);
const P2: f32 = f32::from_bits(0xbb355215);

/// Lane `i` of the result is `f(i)`; written so that the compiler emits one
/// vector operation per statement (a plain loop: `core::array::from_fn`
/// is not always inlined, and a call per lane costs more than the math).
#[inline(always)]
fn lanes<T: Copy + Default>(mut f: impl FnMut(usize) -> T) -> [T; LANES] {
	let mut out = [T::default(); LANES];
	for (i, o) in out.iter_mut().enumerate() {
		*o = f(i);
	}
	out
}

/// All ones where `c`, else zero: a lane mask.
#[inline(always)]
fn mask(c: bool) -> u32 {
	0u32.wrapping_sub(u32::from(c))
}

/// Per lane: `if c { a } else { b }`, as bit operations (an `if` per lane
/// can compile to a branch per lane).
#[inline(always)]
fn select(m: [u32; LANES], a: V, b: V) -> V {
	lanes(|i| f32::from_bits((a[i].to_bits() & m[i]) | (b[i].to_bits() & !m[i])))
}

/// The lane masks of a condition (kept as `u32`: arrays of `bool` do not
/// vectorise well).
#[inline(always)]
fn when(mut c: impl FnMut(usize) -> bool) -> [u32; LANES] {
	lanes(|i| mask(c(i)))
}

/// `libm::expf` of every lane.
#[inline(always)]
pub fn expf(x: V) -> V {
	let hx: [u32; LANES] = lanes(|i| x[i].to_bits() & 0x7fff_ffff);
	let sign = lanes(|i| x[i].to_bits() & 0x8000_0000);
	// Argument reduction: x = k·ln2 + r, with k chosen as libm does.
	let t = lanes(|i| INV_LN2 * x[i] + f32::from_bits(0.5f32.to_bits() | sign[i]));
	// |x| > 1.5·ln2: k = (x/ln2 ± 0.5) truncated toward zero; |x| > 0.5·ln2:
	// k = ±1; else 0. Kept in f32 (exact: |k| ≤ 150), because a float to
	// int cast per lane does not vectorise; `+ 0.0` turns a −0 into 0, as
	// `k as f32` has it.
	let far = when(|i| hx[i] > 0x3f85_1592);
	let near = when(|i| hx[i] > 0x3eb1_7218);
	let k_near = lanes(|i| f32::from_bits(1.0f32.to_bits() | sign[i]));
	let kf = select(far, lanes(|i| t[i].trunc() + 0.0), select(near, k_near, [0.0; LANES]));
	// k as an integer, by the magic-number trick (exact for |k| < 2²²).
	let k: [i32; LANES] =
		lanes(|i| (kf[i] + 12_582_912.0).to_bits().wrapping_sub(0x4b40_0000) as i32);
	let hi = lanes(|i| x[i] - kf[i] * LN2_HI);
	let lo = lanes(|i| kf[i] * LN2_LO);
	let r = lanes(|i| hi[i] - lo[i]);
	let rr = lanes(|i| r[i] * r[i]);
	let c = lanes(|i| r[i] - rr[i] * (P1 + rr[i] * P2));
	let v = lanes(|i| 1.0 + ((r[i] * c[i] / (2.0 - c[i]) - lo[i]) + hi[i]));
	// 2^k is a normal number for every k of the range written out here;
	// `v · 2^0` is `v`.
	let scale = lanes(|i| f32::from_bits((k[i].wrapping_add(0x7f) as u32) << 23));
	let v = lanes(|i| v[i] * scale[i]);
	let mut y = select(when(|i| hx[i] > 0x3900_0000), v, lanes(|i| 1.0 + x[i]));
	if hx.iter().fold(false, |slow, &h| slow | (h >= 0x42ae_ac50)) {
		for ((y, &x), &h) in y.iter_mut().zip(&x).zip(&hx) {
			if h >= 0x42ae_ac50 {
				*y = libm::expf(x);
			}
		}
	}
	y
}

const ERX: f32 = f32::from_bits(0x3f58560b);
const EFX8: f32 = f32::from_bits(0x3f8375d4);
const PP: [f32; 5] = bits([0x3e0375d4, 0xbea66beb, 0xbce9528f, 0xbbbd1489, 0xb7c756b1]);
const QQ: [f32; 5] = bits([0x3ecbbbce, 0x3d852a63, 0x3ba68116, 0x390aee49, 0xb684e21a]);
const PA: [f32; 7] =
	bits([0xbb1acdc6, 0x3ed46805, 0xbebe9208, 0x3ea2fe54, 0xbde31cc2, 0x3d1151b3, 0xbb0df9c0]);
const QA: [f32; 6] = bits([0x3dd9f331, 0x3f0a5785, 0x3d931ae7, 0x3e013307, 0x3c5f6e13, 0x3c445aa3]);
const RA: [f32; 8] = bits([
	0xbc21a093, 0xbf31a0b7, 0xc128f022, 0xc2798057, 0xc322658c, 0xc3389ae7, 0xc2a2932b, 0xc11d077e,
]);
const SA: [f32; 8] = bits([
	0x419d35ce, 0x4309a863, 0x43d9486f, 0x442158c9, 0x43d6810b, 0x42d9451f, 0x40d23f7c, 0xbd777f97,
]);
const RB: [f32; 7] =
	bits([0xbc21a092, 0xbf4c9dd4, 0xc18e104b, 0xc320a2ea, 0xc41f6441, 0xc480230b, 0xc3f1c275]);
const SB: [f32; 7] =
	bits([0x41f2b459, 0x43a2e571, 0x44c01759, 0x4547fdbb, 0x451f90ce, 0x43ed43a7, 0xc1b38712]);

/// `c[0] + s·(c[1] + s·(… + s·c[N−1]))`, innermost first, as libm nests it.
#[inline(always)]
fn horner<const N: usize>(s: V, c: &[f32; N]) -> V {
	let mut acc = [c[N - 1]; LANES];
	for j in (0..N - 1).rev() {
		acc = lanes(|i| c[j] + s[i] * acc[i]);
	}
	acc
}

/// `1 + s·(c[0] + s·(c[1] + …))`: libm's denominators.
#[inline(always)]
fn one_plus<const N: usize>(s: V, c: &[f32; N]) -> V {
	let h = horner(s, c);
	lanes(|i| 1.0 + s[i] * h[i])
}

/// `erff` of lanes with `|x| < 0.84375` (below 2⁻²⁸ by its own formula).
#[inline(always)]
fn erf_small(x: V) -> V {
	let ix: [u32; LANES] = lanes(|i| x[i].to_bits() & 0x7fff_ffff);
	let tiny = lanes(|i| 0.125 * (8.0 * x[i] + EFX8 * x[i]));
	let z = lanes(|i| x[i] * x[i]);
	let (pp, qq) = (horner(z, &PP), one_plus(z, &QQ));
	let small = lanes(|i| x[i] + x[i] * (pp[i] / qq[i]));
	select(when(|i| ix[i] < 0x3180_0000), tiny, small)
}

/// `1 − erfc` with the sign of `x`, as libm finishes `|x| ≥ 0.84375`.
#[inline(always)]
fn signed_complement(x: V, erfc: V) -> V {
	lanes(|i| f32::from_bits((1.0 - erfc[i]).to_bits() ^ (x[i].to_bits() & 0x8000_0000)))
}

/// `erff` of lanes with `0.84375 ≤ |x| < 1.25`: erfc = (1 − erx) − P/Q.
#[inline(always)]
fn erf_near(x: V) -> V {
	let s = lanes(|i| f32::from_bits(x[i].to_bits() & 0x7fff_ffff) - 1.0);
	let (pa, qa) = (horner(s, &PA), one_plus(s, &QA));
	signed_complement(x, lanes(|i| (1.0 - ERX) - pa[i] / qa[i]))
}

/// `erff` of lanes with `1.25 ≤ |x| < 6`: erfc = exp(−z² − 0.5625)·exp((z
/// − |x|)(z + |x|) + R/S) / |x|, with z = |x| cut to 11 fraction bits and
/// R/S from one of two fits.
#[inline(always)]
fn erf_wide(x: V) -> V {
	let ix: [u32; LANES] = lanes(|i| x[i].to_bits() & 0x7fff_ffff);
	let ax = lanes(|i| f32::from_bits(ix[i]));
	let s = lanes(|i| 1.0 / (ax[i] * ax[i]));
	let first_fit = when(|i| ix[i] < 0x4036_db6d);
	let r = select(first_fit, horner(s, &RA), horner(s, &RB));
	let big_s = select(first_fit, one_plus(s, &SA), one_plus(s, &SB));
	let zz = lanes(|i| f32::from_bits(ax[i].to_bits() & 0xffff_e000));
	let p1 = expf(lanes(|i| -zz[i] * zz[i] - 0.5625));
	let p2 = expf(lanes(|i| (zz[i] - ax[i]) * (zz[i] + ax[i]) + r[i] / big_s[i]));
	signed_complement(x, lanes(|i| p1[i] * p2[i] / ax[i]))
}

/// `libm::erff` of every lane: each range's formula computed for every
/// lane, the right one selected per lane.
#[inline(always)]
pub fn erff(x: V) -> V {
	let ix: [u32; LANES] = lanes(|i| x[i].to_bits() & 0x7fff_ffff);
	// Lanes outside a formula's range get an input inside it (and their
	// result is not selected).
	let near = erf_near(select(when(|i| ix[i] < 0x3fa0_0000), x, [1.0; LANES]));
	let wide = when(|i| (0x3fa0_0000..0x40c0_0000).contains(&ix[i]));
	let far = erf_wide(select(wide, x, [2.0; LANES]));
	let huge = signed_complement(x, [f32::from_bits(0x0380_0000); LANES]);
	let big = select(wide, far, select(when(|i| ix[i] < 0x40c0_0000), near, huge));
	let mut y = select(when(|i| ix[i] < 0x3f58_0000), erf_small(x), big);
	if ix.iter().fold(false, |slow, &i| slow | (i >= 0x7f80_0000)) {
		for ((y, &x), &i) in y.iter_mut().zip(&x).zip(&ix) {
			if i >= 0x7f80_0000 {
				*y = libm::erff(x);
			}
		}
	}
	y
}

/// Values a GELU block sorts at a time.
const GELU_BLOCK: usize = 256;

/// Spec v1's GELU (`(0.5·x)·(1 + erf(x·(1/√2)))`) of every value in place.
///
/// The values of each block are first sorted by the range of `erf` their
/// argument falls in, then each range's formula runs on its own values,
/// eight at a time: computing every formula for every lane and selecting
/// (as [`erff`] does) would spend most of the time on results thrown away.
#[inline(always)]
pub fn gelu_in_place(data: &mut [f32]) {
	for block in data.chunks_mut(GELU_BLOCK) {
		// Positions by range: |x| < 0.84375, < 1.25, < 6, the rest.
		let mut at = [[0u16; GELU_BLOCK]; 4];
		let mut len = [0usize; 4];
		for (i, x) in block.iter().enumerate() {
			let ix = (*x * cinder_kernel::ops::FRAC_1_SQRT_2).to_bits() & 0x7fff_ffff;
			let range = usize::from(ix >= 0x3f58_0000)
				+ usize::from(ix >= 0x3fa0_0000)
				+ usize::from(ix >= 0x40c0_0000);
			if let (Some(list), Some(n)) = (at.get_mut(range), len.get_mut(range)) {
				if let Some(slot) = list.get_mut(*n) {
					*slot = i as u16;
					*n += 1;
				}
			}
		}
		gelu_of::<0>(block, &at[0][..len[0]]);
		gelu_of::<1>(block, &at[1][..len[1]]);
		gelu_of::<2>(block, &at[2][..len[2]]);
		gelu_of::<3>(block, &at[3][..len[3]]);
	}
}

/// GELU of `block[i]` for every `i` in `at`, whose arguments all lie in
/// `erf`'s range `RANGE` (as [`gelu_in_place`] numbers them), eight at a
/// time. (The range is a constant rather than a function passed in: a
/// function item passed as `impl Fn` is called through a shim that is not
/// inlined, so it would run without the caller's target features.)
#[inline(always)]
fn gelu_of<const RANGE: u8>(block: &mut [f32], at: &[u16]) {
	// Missing lanes get an argument inside the range.
	let pad = match RANGE {
		1 => 1.0,
		2 => 2.0,
		_ => 0.0,
	};
	for group in at.chunks(LANES) {
		let mut v = [pad; LANES];
		for (v, &i) in v.iter_mut().zip(group) {
			if let Some(x) = block.get(usize::from(i)) {
				*v = *x * cinder_kernel::ops::FRAC_1_SQRT_2;
			}
		}
		let e = match RANGE {
			0 => erf_small(v),
			1 => erf_near(v),
			2 => erf_wide(v),
			_ => erff(v),
		};
		for (e, &i) in e.iter().zip(group) {
			if let Some(x) = block.get_mut(usize::from(i)) {
				*x = (0.5 * *x) * (1.0 + e);
			}
		}
	}
}

/// `libm::expf(x − m)` of every value in place (softmax's numerators).
#[inline(always)]
pub fn exp_shifted_in_place(data: &mut [f32], m: f32) {
	let mut chunks = data.chunks_exact_mut(LANES);
	for chunk in &mut chunks {
		let Ok(v) = <&mut V>::try_from(chunk) else { continue };
		*v = expf(v.map(|x| x - m));
	}
	for x in chunks.into_remainder() {
		*x = libm::expf(*x - m);
	}
}
