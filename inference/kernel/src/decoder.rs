//! The f32 operators of llama-family decoders under kernel spec v2 (the
//! quantized products are [`crate::quant`]'s): RMSNorm, rotary position
//! embedding, the SiLU-gated MLP's gate, and causal attention over a KV
//! cache split into key blocks whose partial results combine in a fixed
//! order. Spec v1's rules hold: sums sequential from `0.0`, one rounding
//! per written operation (no FMA), `libm` for `sqrt`, `exp`, `pow`, `sin`
//! and `cos`. Each function's text is the spec.

// `acc = acc + x` is spelled out on purpose: each line is one rounding of
// the spec, in order.
#![allow(clippy::assign_op_pattern)]

use crate::ops::dot;

/// RMSNorm of one row, in place: `ss = Σ x·x` (sequential), `inv =
/// 1/√(ss/n + ε)`, `y = (x·inv)·γ`.
pub fn rms_norm(row: &mut [f32], gamma: &[f32], eps: f32) {
	let n = row.len() as f32;
	let mut ss = 0.0f32;
	for x in row.iter() {
		ss = ss + *x * *x;
	}
	let inv = 1.0 / libm::sqrtf(ss / n + eps);
	for (x, g) in row.iter_mut().zip(gamma) {
		*x = (*x * inv) * g;
	}
}

/// The rotation of pair `i` of a `head_dim`-wide head at sequence position
/// `position`, for RoPE base `theta`: `e = −(2i as f32) / (head_dim as
/// f32)`, `f = powf(θ, e)`, `a = (position as f32)·f`, then `(cosf(a),
/// sinf(a))`.
pub fn rope_angle(position: u32, i: usize, head_dim: usize, theta: f32) -> (f32, f32) {
	let e = -(i.saturating_mul(2) as f32) / head_dim as f32;
	let a = position as f32 * libm::powf(theta, e);
	(libm::cosf(a), libm::sinf(a))
}

/// Rotary position embedding of one head's values at `position`, in place,
/// on interleaved pairs (GGUF's llama layout): for each pair `i`,
/// `(x₀, x₁) = (x[2i], x[2i+1])` becomes `(x₀·c − x₁·s, x₀·s + x₁·c)`
/// with `(c, s)` = [`rope_angle`]. An odd last value is left alone.
pub fn rope(head: &mut [f32], position: u32, theta: f32) {
	let d = head.len();
	for (i, pair) in head.chunks_exact_mut(2).enumerate() {
		let (c, s) = rope_angle(position, i, d, theta);
		if let [x0, x1] = pair {
			let (a, b) = (*x0, *x1);
			*x0 = a * c - b * s;
			*x1 = a * s + b * c;
		}
	}
}

/// The SiLU-gated product, in place over `gate`: `y = (g / (1 + expf(−g)))·u`.
pub fn silu_gate(gate: &mut [f32], up: &[f32]) {
	for (g, u) in gate.iter_mut().zip(up) {
		let e = libm::expf(-*g);
		*g = (*g / (1.0 + e)) * u;
	}
}

/// One query row's attention over one block of keys: the running maximum,
/// the sum of exponentials and the unnormalised output, which
/// [`attention_combine`] merges across blocks.
#[derive(Clone, Debug, PartialEq)]
pub struct Partial {
	/// `m`: the largest score, `−∞` when every key was masked.
	pub max: f32,
	/// `l = Σ_j expf(s_j − m)`, sequential over the block's keys.
	pub sum: f32,
	/// `o = Σ_j expf(s_j − m)·v_j`, sequential over keys, per value column.
	pub out: alloc::vec::Vec<f32>,
}

/// Attention of one query row `q` (already rotated) over a block of keys
/// and values, `k` and `v` being `t × d` with key `j` at sequence position
/// `first_key + j`; keys after `position` (the query's) are masked. Scores
/// `s_j = (q · k_j)·scale` (dot sequential); `m = max s_j` over unmasked
/// keys (strict `>` scan from `−∞`); `e_j = expf(s_j − m)`; then `l` and
/// `o` as [`Partial`] documents, masked keys contributing nothing.
pub fn attention_partial(
	q: &[f32],
	k: &[f32],
	v: &[f32],
	first_key: u32,
	position: u32,
	scale: f32,
) -> Partial {
	let d = q.len().max(1);
	let live = (position.saturating_add(1).saturating_sub(first_key)) as usize;
	let keys = k.chunks_exact(d).zip(v.chunks_exact(d)).take(live);
	let scores: alloc::vec::Vec<f32> = keys.clone().map(|(k, _)| dot(q, k) * scale).collect();
	let mut max = f32::NEG_INFINITY;
	for s in &scores {
		if *s > max {
			max = *s;
		}
	}
	let mut sum = 0.0f32;
	let mut out = alloc::vec![0.0f32; q.len()];
	if max == f32::NEG_INFINITY {
		return Partial { max, sum, out };
	}
	for (s, (_, v_row)) in scores.iter().zip(keys) {
		let e = libm::expf(*s - max);
		sum = sum + e;
		for (o, x) in out.iter_mut().zip(v_row) {
			*o = *o + e * x;
		}
	}
	Partial { max, sum, out }
}

/// Merges a row's [`Partial`]s, given in ascending key order:
/// `M = max m_b` (strict `>` scan from `−∞`), `w_b = expf(m_b − M)` (`0`
/// for a block whose `m_b` is `−∞`), `L = Σ_b l_b·w_b`, `O = Σ_b o_b·w_b`
/// (sequential over blocks), and the output `O / L` per column (zeros when
/// every key was masked).
pub fn attention_combine(parts: &[Partial], out: &mut [f32]) {
	let mut top = f32::NEG_INFINITY;
	for p in parts {
		if p.max > top {
			top = p.max;
		}
	}
	out.fill(0.0);
	if top == f32::NEG_INFINITY {
		return;
	}
	let mut total = 0.0f32;
	for p in parts {
		let w = if p.max == f32::NEG_INFINITY { 0.0 } else { libm::expf(p.max - top) };
		total = total + p.sum * w;
		for (o, x) in out.iter_mut().zip(&p.out) {
			*o = *o + x * w;
		}
	}
	for o in out.iter_mut() {
		*o = *o / total;
	}
}

#[cfg(test)]
#[allow(clippy::indexing_slicing, clippy::arithmetic_side_effects)]
mod tests {
	use super::*;

	#[test]
	fn rms_norm_scales_to_unit_root_mean_square() {
		let mut row = [3.0f32, -4.0, 0.0, 0.0];
		rms_norm(&mut row, &[1.0, 2.0, 1.0, 1.0], 0.0);
		// ss/n = 25/4, inv = 1/2.5.
		assert_eq!(row, [1.2, -3.2, 0.0, 0.0]);
	}

	#[test]
	fn rope_rotates_pairs_by_position_times_frequency() {
		let theta = 10_000.0f32;
		let mut head = [1.0f32, 0.0, 0.0, 1.0];
		rope(&mut head, 0, theta);
		assert_eq!(head, [1.0, 0.0, 0.0, 1.0]);
		let mut head = [1.0f32, 0.0, 1.0, 0.0];
		rope(&mut head, 3, theta);
		// Pair 0 turns by 3 rad, pair 1 by 3·θ^(−1/2) rad.
		let f1 = 3.0 * (10_000f64).powf(-0.5);
		for (got, want) in head.iter().zip([3f64.cos(), 3f64.sin(), f1.cos(), f1.sin()]) {
			assert!((f64::from(*got) - want).abs() < 1e-6, "{got} vs {want}");
		}
		// Rotations keep the norm.
		let mut head = [0.3f32, -1.7, 2.2, 0.9, -0.4, 1.1];
		let before: f32 = head.iter().map(|x| x * x).sum();
		rope(&mut head, 4097, theta);
		let after: f32 = head.iter().map(|x| x * x).sum();
		assert!((before - after).abs() < 1e-4);
	}

	#[test]
	fn silu_gate_matches_its_definition() {
		let mut g = [0.0f32, 2.0, -3.0, 80.0, -200.0];
		silu_gate(&mut g, &[1.0, 0.5, 2.0, 1.0, 1.0]);
		for (got, (x, u)) in
			g.iter().zip([(0.0f64, 1.0), (2.0, 0.5), (-3.0, 2.0), (80.0, 1.0), (-200.0, 1.0)])
		{
			let want = x / (1.0 + (-x).exp()) * u;
			assert!((f64::from(*got) - want).abs() <= 1e-6 * want.abs().max(1.0), "{got} {want}");
		}
	}

	/// Attention of `q` over all keys in one pass, in f64.
	fn attention_f64(q: &[f32], k: &[f32], v: &[f32], position: usize, scale: f32) -> Vec<f64> {
		let d = q.len();
		let s: Vec<f64> = k
			.chunks_exact(d)
			.take(position + 1)
			.map(|k| {
				q.iter().zip(k).map(|(a, b)| f64::from(*a) * f64::from(*b)).sum::<f64>()
					* f64::from(scale)
			})
			.collect();
		let m = s.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
		let e: Vec<f64> = s.iter().map(|x| (x - m).exp()).collect();
		let l: f64 = e.iter().sum();
		(0..d)
			.map(|c| {
				e.iter().zip(v.chunks_exact(d)).map(|(e, v)| e * f64::from(v[c])).sum::<f64>() / l
			})
			.collect()
	}

	#[test]
	fn blocked_attention_agrees_with_one_pass_and_masks_the_future() {
		let d = 4;
		let t = 10;
		let q: Vec<f32> = (0..d).map(|i| (i as f32 * 0.7).sin()).collect();
		let k: Vec<f32> = (0..t * d).map(|i| (i as f32 * 0.31).cos()).collect();
		let v: Vec<f32> = (0..t * d).map(|i| (i as f32 * 0.13).sin() * 3.0).collect();
		let scale = 0.5;
		for position in [0u32, 4, 7, 9] {
			let want = attention_f64(&q, &k, &v, position as usize, scale);
			for block in [1usize, 3, 4, 10] {
				let parts: Vec<Partial> = (0..t)
					.step_by(block)
					.map(|j0| {
						let j1 = (j0 + block).min(t);
						attention_partial(
							&q,
							&k[j0 * d..j1 * d],
							&v[j0 * d..j1 * d],
							j0 as u32,
							position,
							scale,
						)
					})
					.collect();
				let mut out = vec![0.0f32; d];
				attention_combine(&parts, &mut out);
				for (got, want) in out.iter().zip(&want) {
					assert!(
						(f64::from(*got) - want).abs() < 1e-5,
						"pos {position} block {block}: {got} vs {want}"
					);
				}
			}
		}
		// A block wholly after the query is masked out.
		let p = attention_partial(&q, &k[8..], &v[8..], 2, 1, scale);
		assert_eq!((p.max, p.sum), (f32::NEG_INFINITY, 0.0));
		let mut out = vec![1.0f32; d];
		attention_combine(&[p], &mut out);
		assert_eq!(out, vec![0.0; d]);
	}

	#[test]
	fn one_block_combines_to_its_own_normalisation() {
		let q = [0.5f32, -1.0];
		let k = [1.0f32, 0.0, 0.0, 1.0, 1.0, 1.0];
		let v = [2.0f32, 4.0, -1.0, 3.0, 0.5, 0.25];
		let p = attention_partial(&q, &k, &v, 0, 2, 0.7);
		let mut out = [0.0f32; 2];
		attention_combine(core::slice::from_ref(&p), &mut out);
		// With one block the weight is expf(0) = 1 exactly: O / L.
		assert_eq!(out, [p.out[0] / p.sum, p.out[1] / p.sum]);
	}
}
