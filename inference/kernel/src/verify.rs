//! Recomputing one step from its input tiles with the reference operators:
//! what the runtime does to settle a dispute, and what the reference
//! executor does for every step.

use alloc::vec::Vec;

use crate::{
	ops,
	program::{Op, Program, Resolved, Step},
	tile::Tile,
	KernelError, MAX_STEP_BYTES,
};

pub mod decoder;

/// A linear-layer implementation: `(a, k, w, n, b, gelu, out)` as in
/// [`ops::linear`]. Any implementation must be bit-identical to it.
pub type LinearFn = fn(&[f32], usize, &[f32], usize, &[f32], bool, &mut [f32]);

fn expect_count(inputs: &[&Tile], expected: usize) -> Result<(), KernelError> {
	if inputs.len() != expected {
		return Err(KernelError::InputCount {
			expected: expected as u32,
			got: inputs.len() as u32,
		});
	}
	Ok(())
}

fn at_least(inputs: &[&Tile], min: usize) -> Result<(), KernelError> {
	if inputs.len() < min {
		return Err(KernelError::InputCount { expected: min as u32, got: inputs.len() as u32 });
	}
	Ok(())
}

fn is_row(t: &Tile, cols: u32) -> bool {
	t.rows == 1 && t.cols == cols
}

/// Concatenates the column tiles `xs`, which must all have `rows` rows
/// (borrowing the only one when there is one).
fn columns<'a>(xs: &[&'a Tile], rows: u32) -> Result<alloc::borrow::Cow<'a, Tile>, KernelError> {
	if xs.iter().any(|t| t.rows != rows) {
		return Err(KernelError::ShapeMismatch);
	}
	match xs {
		[one] => Ok(alloc::borrow::Cow::Borrowed(*one)),
		_ => Tile::hconcat(xs).map(alloc::borrow::Cow::Owned),
	}
}

/// Recomputes a spec v1 `step` from `inputs` (one tile per source, in
/// order, token sources already resolved to their embedding rows) with the
/// reference operators ([`decoder::recompute`] takes spec v2's). Shapes are checked first; the output has every NaN
/// canonicalised.
pub fn recompute(step: &Step, inputs: &[&Tile]) -> Result<Tile, KernelError> {
	recompute_with(step, inputs, ops::linear)
}

/// [`recompute`] with another (bit-identical) linear-layer implementation.
pub fn recompute_with(
	step: &Step,
	inputs: &[&Tile],
	linear: LinearFn,
) -> Result<Tile, KernelError> {
	let (rows, cols) = (step.rows, step.cols);
	let total = inputs
		.iter()
		.fold(Tile::zeros(0, 0).encoded_len(), |acc, t| acc.saturating_add(t.encoded_len()));
	let out_bytes = (rows as usize).saturating_mul(cols as usize).saturating_mul(4);
	if total.saturating_add(out_bytes) > MAX_STEP_BYTES {
		return Err(KernelError::StepTooLarge);
	}
	if inputs.iter().any(|t| t.data.len() != (t.rows as usize).saturating_mul(t.cols as usize)) {
		return Err(KernelError::MalformedTile);
	}
	let mut out = Tile::zeros(rows, cols);
	let (r, c) = (rows as usize, cols as usize);
	match step.op {
		Op::Embed { eps } => {
			at_least(inputs, 5)?;
			let (words, rest) = inputs.split_at(inputs.len().saturating_sub(4));
			let [pos, ty, gamma, beta] = rest else { return Err(KernelError::ShapeMismatch) };
			if words.len() != r
				|| words.iter().any(|w| !is_row(w, cols))
				|| pos.cols != cols
				|| pos.rows < rows
				|| !is_row(ty, cols)
				|| !is_row(gamma, cols)
				|| !is_row(beta, cols)
			{
				return Err(KernelError::ShapeMismatch);
			}
			for ((o, w), p) in out.data.chunks_exact_mut(c).zip(words).zip(pos.data.chunks_exact(c))
			{
				for (((o, w), p), t) in o.iter_mut().zip(&w.data).zip(p).zip(&ty.data) {
					*o = (*w + *p) + *t;
				}
				ops::layer_norm(o, &gamma.data, &beta.data, f32::from_bits(eps));
			}
		}
		Op::Linear { gelu } => {
			at_least(inputs, 3)?;
			let (a, rest) = inputs.split_at(inputs.len().saturating_sub(2));
			let [w, b] = rest else { return Err(KernelError::ShapeMismatch) };
			let a = columns(a, rows)?;
			if w.rows != a.cols || w.cols != cols || !is_row(b, cols) {
				return Err(KernelError::ShapeMismatch);
			}
			linear(&a.data, a.cols as usize, &w.data, c, &b.data, gelu, &mut out.data);
		}
		Op::AddNorm { eps } => {
			at_least(inputs, 4)?;
			let (x, rest) = inputs.split_at(inputs.len().saturating_sub(3));
			let [res, gamma, beta] = rest else { return Err(KernelError::ShapeMismatch) };
			let x = columns(x, rows)?;
			if x.cols != cols
				|| res.rows != rows
				|| res.cols != cols
				|| !is_row(gamma, cols)
				|| !is_row(beta, cols)
			{
				return Err(KernelError::ShapeMismatch);
			}
			for ((o, x), res) in out
				.data
				.chunks_exact_mut(c)
				.zip(x.data.chunks_exact(c))
				.zip(res.data.chunks_exact(c))
			{
				for ((o, x), res) in o.iter_mut().zip(x).zip(res) {
					*o = *x + *res;
				}
				ops::layer_norm(o, &gamma.data, &beta.data, f32::from_bits(eps));
			}
		}
		Op::Attention { first, causal } => {
			if inputs.len() < 3 || inputs.len() % 2 != 1 {
				return Err(KernelError::InputCount { expected: 3, got: inputs.len() as u32 });
			}
			let [q, rest @ ..] = inputs else {
				return Err(KernelError::InputCount { expected: 3, got: 0 });
			};
			let (ks, vs) = rest.split_at(rest.len() / 2);
			if q.rows != rows
				|| q.cols != cols
				|| ks
					.iter()
					.zip(vs)
					.any(|(k, v)| k.cols != cols || v.cols != cols || k.rows != v.rows)
			{
				return Err(KernelError::ShapeMismatch);
			}
			let k = Tile::vconcat(ks)?;
			let v = Tile::vconcat(vs)?;
			if causal && first.saturating_add(rows) > k.rows {
				return Err(KernelError::ShapeMismatch);
			}
			ops::attention(&q.data, &k.data, &v.data, c, first as usize, causal, &mut out.data);
		}
		Op::PoolSum => {
			expect_count(inputs, 1)?;
			let [x] = inputs else { return Err(KernelError::ShapeMismatch) };
			if rows != 1 || x.cols != cols {
				return Err(KernelError::ShapeMismatch);
			}
			ops::column_sums(&x.data, c, &mut out.data);
		}
		Op::PoolFinish { tokens } => {
			at_least(inputs, 1)?;
			if rows != 1 || inputs.iter().any(|t| !is_row(t, cols)) || tokens == 0 {
				return Err(KernelError::ShapeMismatch);
			}
			for t in inputs.iter() {
				ops::column_sums(&t.data, c, &mut out.data);
			}
			ops::mean_l2_normalize(&mut out.data, tokens);
		}
		Op::Lookup { .. }
		| Op::RmsNorm { .. }
		| Op::QLinear { .. }
		| Op::GateUp
		| Op::Attend { .. }
		| Op::Combine
		| Op::Sample { .. }
		| Op::Collect => return Err(KernelError::OtherSpec),
	}
	out.canonicalize();
	Ok(out)
}

/// Runs a whole program with the reference operators, one step at a time:
/// slow, and the definition every faster executor must match bit for bit.
/// `weight(i)` returns weight tile `i`; `ids` are the input tokens.
pub fn run_reference<'w>(
	program: &Program,
	weight: impl Fn(u32) -> Option<&'w Tile>,
	ids: &[u32],
	vocab: u32,
) -> Result<Vec<Tile>, KernelError> {
	let mut outputs: Vec<Tile> = Vec::with_capacity(program.steps.len());
	for step in &program.steps {
		let inputs = step
			.resolve(ids, vocab)?
			.into_iter()
			.map(|s| match s {
				Resolved::Step(i) => outputs.get(i as usize).ok_or(KernelError::BadSource),
				Resolved::Weight(i) => weight(i).ok_or(KernelError::BadSource),
			})
			.collect::<Result<Vec<_>, _>>()?;
		let out = recompute(step, &inputs)?;
		outputs.push(out);
	}
	Ok(outputs)
}
