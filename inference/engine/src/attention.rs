//! One head of attention for a block of query rows, bit-identical to
//! [`cinder_kernel::ops::attention`], as two GEMMs and a vectorised
//! softmax:
//!
//! - scores `S = Q·Kᵀ` through [`gemm::linear`] over `K` packed transposed
//!   (each score is still the sequential dot product `Σ_d q_d·k_d` from
//!   `0.0`), then `· scale`;
//! - per row, the maximum by the reference's strict scan, `exp(s − m)`
//!   through [`vmath`], the sequential sum, the divisions, the mask;
//! - `O = P·V` through [`gemm::linear`] over `V` packed: each output is
//!   `Σ_j p_j·v_j` sequential over `j` from `0.0`, as the reference
//!   accumulates it.

// `acc = acc + x` is spelled out on purpose: each line is one rounding of
// spec v1, in order.
#![allow(clippy::assign_op_pattern)]

use cinder_kernel::{KernelError, Step, Tile};

use crate::{
	gemm::{self, Micro, Panels},
	vmath,
};

/// Computes an `Attention { first, causal }` step; inputs as the reference
/// takes them (`Q`, every `K` tile, every `V` tile).
#[inline(always)]
pub fn compute<K: Micro>(
	step: &Step,
	first: u32,
	causal: bool,
	inputs: &[&Tile],
) -> Result<Tile, KernelError> {
	let (rows, cols) = (step.rows, step.cols);
	if inputs.len() < 3 || inputs.len() % 2 != 1 {
		return Err(KernelError::InputCount { expected: 3, got: inputs.len() as u32 });
	}
	let [q, rest @ ..] = inputs else {
		return Err(KernelError::InputCount { expected: 3, got: 0 });
	};
	let (ks, vs) = rest.split_at(rest.len() / 2);
	if q.rows != rows
		|| q.cols != cols
		|| ks.iter().zip(vs).any(|(k, v)| k.cols != cols || v.cols != cols || k.rows != v.rows)
	{
		return Err(KernelError::ShapeMismatch);
	}
	let d = cols as usize;
	let r = rows as usize;
	let t: usize = ks.iter().map(|k| k.rows as usize).sum();
	if causal && (first as usize).saturating_add(r) > t {
		return Err(KernelError::ShapeMismatch);
	}
	let mut out = Tile::zeros(rows, cols);
	if d == 0 || r == 0 {
		return Ok(out);
	}
	let rows_of = |tiles: &[&Tile]| {
		let mut all = Vec::with_capacity(t * d);
		for tile in tiles {
			all.extend_from_slice(&tile.data);
		}
		all
	};
	let (keys, values) = (rows_of(ks), rows_of(vs));

	// S = Q·Kᵀ, then the scale.
	let kt = Panels::pack_transposed(&keys, t, d);
	let mut scores = vec![0.0f32; r * t];
	let q_tiles = [q.data.as_slice()];
	let q_seg = gemm::Segments { tiles: &q_tiles, widths: &[d], rows: r };
	if t > 0 && !gemm::linear::<K>(&q_seg, &kt, None, &mut scores) {
		return Err(KernelError::ShapeMismatch);
	}
	let scale = 1.0 / libm::sqrtf(d as f32);

	// Softmax of each row over its valid keys; the rest are zero.
	for (i, row) in scores.chunks_exact_mut(t.max(1)).enumerate() {
		for s in row.iter_mut() {
			*s = *s * scale;
		}
		let valid = if causal { (first as usize).saturating_add(i).saturating_add(1) } else { t };
		let (live, masked) = row.split_at_mut(valid.min(t));
		let mut m = f32::NEG_INFINITY;
		for &x in live.iter() {
			if x > m {
				m = x;
			}
		}
		vmath::exp_shifted_in_place(live, m);
		let mut sum = 0.0f32;
		for &x in live.iter() {
			sum = sum + x;
		}
		for x in live.iter_mut() {
			*x = *x / sum;
		}
		masked.fill(0.0);
	}

	// O = P·V.
	let v = Panels::pack(&values, t, d);
	let p_tiles = [scores.as_slice()];
	let p_seg = gemm::Segments { tiles: &p_tiles, widths: &[t], rows: r };
	if !gemm::linear::<K>(&p_seg, &v, None, &mut out.data) {
		return Err(KernelError::ShapeMismatch);
	}
	out.canonicalize();
	Ok(out)
}
