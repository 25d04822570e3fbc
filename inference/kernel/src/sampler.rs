//! The sampler, a step of its own: the next token from a row of logits.
//! Greedy (the largest logit, the lowest id on ties), or temperature and
//! top-p with its random number drawn from a counter-based generator keyed
//! by a seed the chain fixes when it assigns the request (so a worker
//! cannot choose its luck, and anyone can redo the draw). Spec v1's
//! arithmetic rules hold; the text of each function is the spec.

#![allow(clippy::assign_op_pattern)]

use alloc::vec::Vec;
use codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
use scale_info::TypeInfo;

/// How a token is chosen.
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
pub enum Sampling {
	/// The largest logit; the lowest id on ties.
	Greedy,
	/// Softmax of the logits over `temperature`, cut to the smallest set of
	/// most likely tokens holding `top_p` of the mass, then drawn at random.
	/// Both as f32 bits; a temperature or `top_p` that is not a positive
	/// number means greedy.
	TopP { temperature: u32, top_p: u32 },
}

/// The `index`-th uniform number in `[0, 1)` of the stream `seed` keys:
/// the first 8 bytes of `blake2_256("cinder/sample" ‖ seed ‖ index as u32
/// LE)`, read as a little-endian u64, shifted right by 40 and divided by
/// 2²⁴ (exact in f32).
pub fn uniform(seed: &[u8; 32], index: u32) -> f32 {
	let mut input = Vec::with_capacity(13 + 32 + 4);
	input.extend_from_slice(b"cinder/sample");
	input.extend_from_slice(seed);
	input.extend_from_slice(&index.to_le_bytes());
	let hash = sp_crypto_hashing::blake2_256(&input);
	let mut first = [0u8; 8];
	first.copy_from_slice(hash.get(..8).unwrap_or(&[0; 8]));
	(u64::from_le_bytes(first) >> 40) as f32 / 16_777_216.0
}

/// The index of the largest value: a scan keeping the first strictly
/// larger one; NaN never wins (all NaN: `0`).
pub fn argmax(xs: &[f32]) -> u32 {
	let mut best: Option<(usize, f32)> = None;
	for (i, x) in xs.iter().enumerate() {
		if x.is_nan() {
			continue;
		}
		if best.is_none_or(|(_, b)| *x > b) {
			best = Some((i, *x));
		}
	}
	best.map_or(0, |(i, _)| i as u32)
}

/// The token `sampling` picks from `logits` with the `index`-th number of
/// `seed`'s stream. Top-p:
///
/// 1. `z_i = logit_i / T`; NaN logits take no part;
/// 2. `m = max z` (strict `>` scan), `e_i = expf(z_i − m)`;
/// 3. ids ordered by `e` descending, the lower id first on ties;
/// 4. `total = Σ e` sequential in that order, `cut = p · total`;
/// 5. the kept ids are the shortest prefix whose running sum `c`
///    (sequential) reaches `cut`;
/// 6. `r = u · c` with `u` = [`uniform`]`(seed, index)`; the token is the
///    first kept id whose running sum (sequential again) exceeds `r`, the
///    last kept one if none does.
pub fn sample(logits: &[f32], sampling: Sampling, seed: &[u8; 32], index: u32) -> u32 {
	let Sampling::TopP { temperature, top_p } = sampling else { return argmax(logits) };
	let (t, p) = (f32::from_bits(temperature), f32::from_bits(top_p));
	if !(t > 0.0 && t.is_finite() && p > 0.0) {
		return argmax(logits);
	}
	let mut z: Vec<(u32, f32)> =
		(0u32..).zip(logits).filter(|(_, l)| !l.is_nan()).map(|(i, l)| (i, *l / t)).collect();
	let mut m = f32::NEG_INFINITY;
	for (_, x) in &z {
		if *x > m {
			m = *x;
		}
	}
	if m == f32::NEG_INFINITY || m.is_nan() {
		return argmax(logits);
	}
	for (_, x) in z.iter_mut() {
		*x = libm::expf(*x - m);
	}
	// `e` is never NaN here (z − m ≤ 0, or +∞ − +∞ excluded above).
	z.sort_unstable_by(|(i, a), (j, b)| b.total_cmp(a).then(i.cmp(j)));
	let mut total = 0.0f32;
	for (_, e) in &z {
		total = total + *e;
	}
	let cut = p * total;
	let mut kept = 0usize;
	let mut c = 0.0f32;
	for (_, e) in &z {
		c = c + *e;
		kept = kept.saturating_add(1);
		if c >= cut {
			break;
		}
	}
	let kept = z.get(..kept).unwrap_or_default();
	let r = uniform(seed, index) * c;
	let mut acc = 0.0f32;
	for (id, e) in kept {
		acc = acc + *e;
		if acc > r {
			return *id;
		}
	}
	kept.last().map_or_else(|| argmax(logits), |(id, _)| *id)
}

#[cfg(test)]
#[allow(clippy::indexing_slicing, clippy::arithmetic_side_effects)]
mod tests {
	use super::*;

	fn top_p(t: f32, p: f32) -> Sampling {
		Sampling::TopP { temperature: t.to_bits(), top_p: p.to_bits() }
	}

	#[test]
	fn greedy_takes_the_lowest_id_on_ties_and_never_nan() {
		assert_eq!(argmax(&[1.0, 3.0, 3.0, 2.0]), 1);
		assert_eq!(argmax(&[f32::NAN, 0.5, f32::NAN, 0.5]), 1);
		assert_eq!(argmax(&[f32::NAN; 3]), 0);
		assert_eq!(argmax(&[f32::NEG_INFINITY, f32::NEG_INFINITY]), 0);
		let seed = [7u8; 32];
		assert_eq!(sample(&[0.0, 9.0, 1.0], Sampling::Greedy, &seed, 0), 1);
		// Nonsense parameters fall back to greedy.
		for s in [top_p(0.0, 0.9), top_p(-1.0, 0.9), top_p(f32::NAN, 0.9), top_p(1.0, 0.0)] {
			assert_eq!(sample(&[0.0, 9.0, 1.0], s, &seed, 3), 1);
		}
	}

	#[test]
	fn uniform_numbers_are_a_stream_in_the_unit_interval() {
		let seed = [1u8; 32];
		let xs: Vec<f32> = (0..4000).map(|i| uniform(&seed, i)).collect();
		assert!(xs.iter().all(|x| (0.0..1.0).contains(x)));
		let mean = xs.iter().map(|x| f64::from(*x)).sum::<f64>() / xs.len() as f64;
		assert!((mean - 0.5).abs() < 0.02, "{mean}");
		assert_eq!(uniform(&seed, 17), xs[17]);
		assert_ne!(uniform(&[2u8; 32], 17), xs[17]);
	}

	#[test]
	fn top_p_keeps_the_likely_head_and_draws_by_probability() {
		// Probabilities ∝ e^{0, ln 2, ln 4, ln 8}... as logits with T = 1.
		let logits = [0.0f32, core::f32::consts::LN_2, 2.0 * core::f32::consts::LN_2, -30.0];
		let seed = [3u8; 32];
		let mut counts = [0u32; 4];
		for i in 0..3000 {
			counts[sample(&logits, top_p(1.0, 1.0), &seed, i) as usize] += 1;
		}
		// Weights 1 : 2 : 4 (and ≈ 0): about 429, 857, 1714.
		assert!((330..530).contains(&counts[0]), "{counts:?}");
		assert!((740..980).contains(&counts[1]), "{counts:?}");
		assert!((1580..1850).contains(&counts[2]), "{counts:?}");
		assert!(counts[3] < 5, "{counts:?}");
		// top-p 0.5: only the 4/7 head is kept.
		for i in 0..200 {
			assert_eq!(sample(&logits, top_p(1.0, 0.5), &seed, i), 2);
		}
		// A tiny temperature is greedy in effect.
		for i in 0..200 {
			assert_eq!(sample(&logits, top_p(0.01, 0.95), &seed, i), 2);
		}
		// Same seed and index, same token.
		assert_eq!(
			sample(&logits, top_p(0.8, 0.9), &seed, 41),
			sample(&logits, top_p(0.8, 0.9), &seed, 41)
		);
	}
}
