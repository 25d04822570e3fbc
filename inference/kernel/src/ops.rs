//! The operators of kernel spec v1, on plain row-major slices.
//!
//! Each function documents its arithmetic exactly; that text is the spec.
//! Accumulators start at `0.0` and add terms in ascending index order;
//! `a * b + c` is always two roundings (Rust never contracts to FMA).
//! Callers canonicalise NaNs when a step's output is final.

// `acc = acc + a * b` is spelled out on purpose: each line is one rounding
// of the spec, in order.
#![allow(clippy::assign_op_pattern)]

use crate::tile::canonical;

/// `1/√2` rounded to f32.
pub const FRAC_1_SQRT_2: f32 = core::f32::consts::FRAC_1_SQRT_2;

/// Exact-erf GELU: `y = (0.5 · x) · (1 + erf(x · 1/√2))`.
#[inline(always)]
pub fn gelu(x: f32) -> f32 {
	let e = libm::erff(x * FRAC_1_SQRT_2);
	(0.5 * x) * (1.0 + e)
}

/// Dot product, sequential: `acc = 0; acc = acc + a[i]·b[i]` for ascending `i`.
#[inline(always)]
pub fn dot(a: &[f32], b: &[f32]) -> f32 {
	let mut acc = 0.0f32;
	for (x, y) in a.iter().zip(b) {
		acc = acc + x * y;
	}
	acc
}

/// Reference linear layer: `out[i][j] = f((Σ_k a[i][k]·w[k][j]) + b[j])` with
/// the sum sequential over `k` from `0.0`, `f` GELU when `gelu`, else identity.
/// `a` is `r × k`, `w` is `k × n` (row-major, i.e. the transposed PyTorch
/// weight), `b` has `n` entries, `out` is `r × n`.
pub fn linear(
	a: &[f32],
	k: usize,
	w: &[f32],
	n: usize,
	b: &[f32],
	gelu_after: bool,
	out: &mut [f32],
) {
	for (a_row, out_row) in a.chunks_exact(k.max(1)).zip(out.chunks_exact_mut(n.max(1))) {
		for (j, (o, bias)) in out_row.iter_mut().zip(b).enumerate() {
			*o = linear_output(a_row, w, n, j, *bias, gelu_after);
		}
	}
}

/// One output of [`linear`]: column `j` of `a_row · w`, summed sequentially
/// over `k` from `0.0`, then the bias and the activation.
#[inline(always)]
fn linear_output(a_row: &[f32], w: &[f32], n: usize, j: usize, bias: f32, gelu_after: bool) -> f32 {
	let mut acc = 0.0f32;
	for (x, w_row) in a_row.iter().zip(w.chunks_exact(n)) {
		// Callers check shapes first; a short row would contribute nothing.
		acc = acc + x * w_row.get(j).copied().unwrap_or(0.0);
	}
	activate(acc + bias, gelu_after)
}

/// The linear layer's epilogue: GELU when asked, else identity.
#[inline(always)]
fn activate(v: f32, gelu_after: bool) -> f32 {
	if gelu_after {
		gelu(v)
	} else {
		v
	}
}

/// Layer norm of one row, in place: `μ = (Σ x)/n`, `σ² = (Σ (x−μ)²)/n`
/// (sums sequential), `inv = 1/√(σ² + ε)`, `y = ((x − μ)·inv)·γ + β`.
pub fn layer_norm(row: &mut [f32], gamma: &[f32], beta: &[f32], eps: f32) {
	let n = row.len() as f32;
	let mut sum = 0.0f32;
	for x in row.iter() {
		sum = sum + *x;
	}
	let mean = sum / n;
	let mut sq = 0.0f32;
	for x in row.iter() {
		let d = *x - mean;
		sq = sq + d * d;
	}
	let inv = 1.0 / libm::sqrtf(sq / n + eps);
	for ((x, g), b) in row.iter_mut().zip(gamma).zip(beta) {
		*x = ((*x - mean) * inv) * g + b;
	}
}

/// Softmax of one row in place over its first `valid` entries; the rest are
/// masked to exactly `0.0`. `m = max` (strict `>` scan from `−∞`),
/// `e_j = exp(s_j − m)`, `Σ` sequential, `p_j = e_j / Σ`.
pub fn softmax_masked(row: &mut [f32], valid: usize) {
	let valid = valid.min(row.len());
	let (live, masked) = row.split_at_mut(valid);
	let mut m = f32::NEG_INFINITY;
	for x in live.iter() {
		if *x > m {
			m = *x;
		}
	}
	let mut sum = 0.0f32;
	for x in live.iter_mut() {
		*x = libm::expf(*x - m);
		sum = sum + *x;
	}
	for x in live.iter_mut() {
		*x = *x / sum;
	}
	masked.fill(0.0);
}

/// Scaled dot-product attention for one head and a block of query rows.
///
/// `q` is `r × d`, `k` and `v` are `t × d`; query row `i` sits at sequence
/// position `first + i`. Scores `s_j = (q_i · k_j) · scale` with
/// `scale = 1/√d`; with `causal`, keys after the query's position are
/// masked. Output row `i` is `Σ_j p_j · v_j`, sequential over `j` from `0.0`.
pub fn attention(
	q: &[f32],
	k: &[f32],
	v: &[f32],
	d: usize,
	first: usize,
	causal: bool,
	out: &mut [f32],
) {
	let d1 = d.max(1);
	let t = k.len().checked_div(d1).unwrap_or(0);
	let scale = 1.0 / libm::sqrtf(d as f32);
	let mut scores = alloc::vec![0.0f32; t];
	for (i, (q_row, out_row)) in q.chunks_exact(d1).zip(out.chunks_exact_mut(d1)).enumerate() {
		for (s, k_row) in scores.iter_mut().zip(k.chunks_exact(d1)) {
			*s = dot(q_row, k_row) * scale;
		}
		let valid = if causal { first.saturating_add(i).saturating_add(1) } else { t };
		softmax_masked(&mut scores, valid);
		out_row.fill(0.0);
		for (p, v_row) in scores.iter().zip(v.chunks_exact(d1)) {
			for (o, x) in out_row.iter_mut().zip(v_row) {
				*o = *o + p * x;
			}
		}
	}
}

/// Column sums of `rows`-major data with `cols` columns, sequential over rows
/// from `0.0`, added to `acc` (which the caller zeroes first).
pub fn column_sums(data: &[f32], cols: usize, acc: &mut [f32]) {
	for row in data.chunks_exact(cols.max(1)) {
		for (a, x) in acc.iter_mut().zip(row) {
			*a = *a + x;
		}
	}
}

/// Mean then L2 normalisation, in place: `m_j = s_j / count`,
/// `‖m‖ = √(Σ m_j²)` sequential, `y_j = m_j / max(‖m‖, 1e-12)`.
pub fn mean_l2_normalize(sums: &mut [f32], count: u32) {
	let c = count as f32;
	for x in sums.iter_mut() {
		*x = *x / c;
	}
	let mut sq = 0.0f32;
	for x in sums.iter() {
		sq = sq + x * x;
	}
	let norm = libm::sqrtf(sq);
	let denom = if norm > 1e-12 { norm } else { 1e-12 };
	for x in sums.iter_mut() {
		*x = *x / denom;
	}
}

/// Canonicalises every NaN in `data`.
pub fn canonicalize(data: &mut [f32]) {
	for x in data {
		*x = canonical(*x);
	}
}

/// Vectorisable variants that keep every output's reduction order, so they
/// are bit-identical to the reference operators above. Native only (the
/// runtime checks proofs with the reference operators, which never index);
/// the index arithmetic here is bounded by the slice lengths that
/// [`crate::verify::recompute_with`] checks before calling it.
#[allow(clippy::arithmetic_side_effects, clippy::indexing_slicing)]
pub mod fast {
	use super::{activate, linear_output};

	/// Output rows computed together.
	const MR: usize = 4;
	/// Output columns computed together (two 8-lane vectors).
	const NR: usize = 16;

	/// Same result as [`super::linear`], bit for bit: each output still
	/// accumulates `a[i][k]·w[k][j]` from `0.0` in ascending `k`, but a
	/// `4 × 16` block of outputs advances together, so the inner loop is a
	/// broadcast-multiply-add over contiguous columns that compilers
	/// vectorise. Works on any `r`, `n` (edges fall back to narrower blocks).
	#[inline(always)]
	pub fn linear(
		a: &[f32],
		k: usize,
		w: &[f32],
		n: usize,
		b: &[f32],
		gelu_after: bool,
		out: &mut [f32],
	) {
		if k == 0 || n == 0 {
			return;
		}
		let mut a_rows = a.chunks_exact(k);
		let mut out_rows = out.chunks_exact_mut(n);
		loop {
			let mut group_a: [&[f32]; MR] = [&[]; MR];
			let mut group_o: [&mut [f32]; MR] = Default::default();
			let mut m = 0;
			for (ga, go) in group_a.iter_mut().zip(group_o.iter_mut()) {
				match (a_rows.next(), out_rows.next()) {
					(Some(ar), Some(or)) => {
						*ga = ar;
						*go = or;
						m += 1;
					}
					_ => break,
				}
			}
			if m == 0 {
				break;
			}
			row_group(&group_a[..m], k, w, n, b, gelu_after, &mut group_o[..m]);
			if m < MR {
				break;
			}
		}
	}

	#[inline(always)]
	fn row_group(
		a: &[&[f32]],
		k: usize,
		w: &[f32],
		n: usize,
		b: &[f32],
		g: bool,
		out: &mut [&mut [f32]],
	) {
		let mut j0 = 0;
		while j0 + NR <= n {
			if a.len() == MR {
				block::<MR>(a, k, w, n, j0, b, g, out);
			} else {
				for (ar, or) in a.iter().zip(out.iter_mut()) {
					block::<1>(core::slice::from_ref(ar), k, w, n, j0, b, g, &mut [&mut **or]);
				}
			}
			j0 += NR;
		}
		// Remaining columns, one at a time, exactly as the reference.
		for j in j0..n {
			for (ar, or) in a.iter().zip(out.iter_mut()) {
				or[j] = linear_output(ar, w, n, j, b[j], g);
			}
		}
	}

	#[inline(always)]
	#[allow(clippy::too_many_arguments)]
	fn block<const M: usize>(
		a: &[&[f32]],
		k: usize,
		w: &[f32],
		n: usize,
		j0: usize,
		b: &[f32],
		g: bool,
		out: &mut [&mut [f32]],
	) {
		let mut acc = [[0.0f32; NR]; M];
		for kk in 0..k {
			let w_row: &[f32; NR] = match w[kk * n + j0..kk * n + j0 + NR].try_into() {
				Ok(r) => r,
				Err(_) => return,
			};
			for (acc_row, a_row) in acc.iter_mut().zip(a) {
				let x = a_row[kk];
				for (c, wv) in acc_row.iter_mut().zip(w_row) {
					*c = *c + x * wv;
				}
			}
		}
		for (acc_row, out_row) in acc.iter().zip(out.iter_mut()) {
			for (l, c) in acc_row.iter().enumerate() {
				out_row[j0 + l] = activate(*c + b[j0 + l], g);
			}
		}
	}
}
