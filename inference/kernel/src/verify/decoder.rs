//! Recomputing one step of kernel spec v2 (llama-family decoders) from its
//! input tiles, f32 or quantized: the reference every executor matches.

use alloc::{borrow::Cow, vec::Vec};

use crate::{
	decoder::{self, Partial},
	program::{Op, Rope, Step},
	qtile::{Input, QTile},
	quant, sampler,
	tile::Tile,
	KernelError, MAX_STEP_BYTES,
};

/// The request data a step may read besides tiles: the seed of the
/// sampler's random stream (fixed by the chain at assignment).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Context<'a> {
	pub seed: &'a [u8; 32],
}

/// The f32 tiles of `inputs`, or a shape mismatch if one is quantized.
fn f32s<'a>(inputs: &[Input<'a>]) -> Result<Vec<&'a Tile>, KernelError> {
	inputs.iter().map(|i| i.f32()).collect()
}

/// The column tiles `xs` side by side, each of `rows` rows (spec v1's
/// concatenation, the f32 tiles only).
fn columns<'a>(xs: &[Input<'a>], rows: u32) -> Result<Cow<'a, Tile>, KernelError> {
	super::columns(&f32s(xs)?, rows)
}

fn split_last<'a, 'b>(
	inputs: &'b [Input<'a>],
	min: usize,
) -> Result<(&'b [Input<'a>], Input<'a>), KernelError> {
	match inputs.split_last() {
		Some((last, rest)) if inputs.len() >= min => Ok((rest, *last)),
		_ => Err(KernelError::InputCount { expected: min as u32, got: inputs.len() as u32 }),
	}
}

/// A quantized linear layer `out = a · wᵀ` ([`quant::linear`]'s result,
/// bit for bit), told which of the step's inputs `w` is so an executor can
/// use that weight's packed form. Shapes are checked before it is called.
pub type QLinearFn<'f> = &'f dyn Fn(usize, &Tile, &QTile, &mut [f32]) -> Result<(), KernelError>;

/// [`quant::linear`] on tiles: `a` is `rows × k`, `w` holds the outputs' rows.
pub fn reference_qlinear(
	_input: usize,
	a: &Tile,
	w: &QTile,
	out: &mut [f32],
) -> Result<(), KernelError> {
	quant::linear(&a.data, a.cols as usize, w.format, &w.data, w.rows as usize, out)
}

/// Checks `a · wᵀ` fits, then runs it with `linear`.
fn qlinear(
	linear: QLinearFn,
	input: usize,
	a: &Tile,
	w: &QTile,
	out: &mut [f32],
) -> Result<(), KernelError> {
	if w.cols != a.cols
		|| Some(out.len()) != (a.rows as usize).checked_mul(w.rows as usize)
		|| w.format.row_bytes(a.cols as usize).is_none()
	{
		return Err(KernelError::ShapeMismatch);
	}
	linear(input, a, w, out)
}

fn rope_rows(out: &mut Tile, rope: Rope) -> Result<(), KernelError> {
	let head = rope.head as usize;
	if head == 0
		|| !head.is_multiple_of(2)
		|| !(out.cols as usize).is_multiple_of(head)
		|| rope.first.checked_add(out.rows).is_none()
	{
		return Err(KernelError::ShapeMismatch);
	}
	let theta = f32::from_bits(rope.theta);
	let cols = (out.cols as usize).max(1);
	for (row, position) in out.data.chunks_exact_mut(cols).zip(rope.first..) {
		for h in row.chunks_exact_mut(head) {
			decoder::rope(h, position, theta);
		}
	}
	Ok(())
}

/// A partial's row as stored: `max, sum, out…`.
fn partial_of(row: &[f32]) -> Result<Partial, KernelError> {
	match row {
		[max, sum, out @ ..] => Ok(Partial { max: *max, sum: *sum, out: out.to_vec() }),
		_ => Err(KernelError::ShapeMismatch),
	}
}

/// Recomputes a spec v2 `step` from `inputs` (one per source, in order,
/// token sources already resolved to their embedding rows). Shapes are
/// checked first; every NaN of the output is canonicalised. A v1 step is
/// handed to [`super::recompute`] when all its inputs are f32.
pub fn recompute(step: &Step, inputs: &[Input], context: Context) -> Result<Tile, KernelError> {
	recompute_with(step, inputs, context, &reference_qlinear)
}

/// [`recompute`] with another (bit-identical) quantized linear layer.
pub fn recompute_with(
	step: &Step,
	inputs: &[Input],
	context: Context,
	linear: QLinearFn,
) -> Result<Tile, KernelError> {
	let (rows, cols) = (step.rows, step.cols);
	let total = inputs.iter().fold(0usize, |acc, t| acc.saturating_add(t.encoded_len()));
	let out_bytes = (rows as usize).saturating_mul(cols as usize).saturating_mul(4);
	if total.saturating_add(out_bytes) > MAX_STEP_BYTES {
		return Err(KernelError::StepTooLarge);
	}
	let malformed = |input: &Input| match input {
		Input::F32(t) => t.data.len() != (t.rows as usize).saturating_mul(t.cols as usize),
		Input::Quant(q) => {
			q.format.row_bytes(q.cols as usize).map(|b| b.saturating_mul(q.rows as usize))
				!= Some(q.data.len())
		}
	};
	if inputs.iter().any(malformed) {
		return Err(KernelError::MalformedTile);
	}
	let mut out = Tile::zeros(rows, cols);
	let c = cols as usize;
	match step.op {
		Op::Lookup { column } => {
			if inputs.len() != rows as usize || rows == 0 {
				return Err(KernelError::InputCount { expected: rows, got: inputs.len() as u32 });
			}
			let end = column.checked_add(cols).ok_or(KernelError::ShapeMismatch)?;
			for (input, o) in inputs.iter().zip(out.data.chunks_exact_mut(c.max(1))) {
				let row = input.quant()?;
				if row.rows != 1 || end > row.cols {
					return Err(KernelError::ShapeMismatch);
				}
				let mut full = alloc::vec![0.0f32; row.cols as usize];
				quant::dequantize_row(row.format, &row.data, &mut full)?;
				o.copy_from_slice(
					full.get(column as usize..end as usize).ok_or(KernelError::ShapeMismatch)?,
				);
			}
		}
		Op::RmsNorm { eps, first_row } => {
			let (xs, gamma) = split_last(inputs, 2)?;
			let gamma = gamma.f32()?;
			let tiles = f32s(xs)?;
			let x_rows = tiles.first().map(|t| t.rows).ok_or(KernelError::ShapeMismatch)?;
			let x = super::columns(&tiles, x_rows)?;
			if x.cols != cols
				|| gamma.rows != 1
				|| gamma.cols != cols
				|| first_row.checked_add(rows).is_none_or(|end| end > x.rows)
			{
				return Err(KernelError::ShapeMismatch);
			}
			let skip = (first_row as usize).saturating_mul(c);
			let source = x.data.get(skip..).ok_or(KernelError::ShapeMismatch)?;
			for (o, x) in out.data.chunks_exact_mut(c.max(1)).zip(source.chunks_exact(c.max(1))) {
				o.copy_from_slice(x);
				decoder::rms_norm(o, &gamma.data, f32::from_bits(eps));
			}
		}
		Op::QLinear { rope, residual } => {
			let (xs, residual) = if residual {
				let (rest, last) = split_last(inputs, 3)?;
				(rest, Some(last.f32()?))
			} else {
				(inputs, None)
			};
			let (xs, w) = split_last(xs, 2)?;
			let w = w.quant()?;
			let a = columns(xs, rows)?;
			if w.rows != cols {
				return Err(KernelError::ShapeMismatch);
			}
			qlinear(linear, xs.len(), &a, w, &mut out.data)?;
			if let Some(rope) = rope {
				rope_rows(&mut out, rope)?;
			}
			if let Some(res) = residual {
				if res.rows != rows || res.cols != cols {
					return Err(KernelError::ShapeMismatch);
				}
				for (o, r) in out.data.iter_mut().zip(&res.data) {
					*o += *r;
				}
			}
		}
		Op::GateUp => {
			let [x, g, u] = inputs else {
				return Err(KernelError::InputCount { expected: 3, got: inputs.len() as u32 });
			};
			let (x, g, u) = (x.f32()?, g.quant()?, u.quant()?);
			if x.rows != rows || g.rows != cols || u.rows != cols {
				return Err(KernelError::ShapeMismatch);
			}
			let mut up = alloc::vec![0.0f32; out.data.len()];
			qlinear(linear, 1, x, g, &mut out.data)?;
			qlinear(linear, 2, x, u, &mut up)?;
			decoder::silu_gate(&mut out.data, &up);
		}
		Op::Attend { first, first_key, finish } => {
			let tiles = f32s(inputs)?;
			let [q, kv @ ..] = tiles.as_slice() else {
				return Err(KernelError::InputCount { expected: 3, got: 0 });
			};
			if kv.is_empty() || !kv.len().is_multiple_of(2) {
				return Err(KernelError::InputCount { expected: 3, got: inputs.len() as u32 });
			}
			let (ks, vs) = kv.split_at(kv.len() / 2);
			let d = q.cols;
			let want = if finish { Some(d) } else { d.checked_add(2) };
			if q.rows != rows
				|| d == 0 || want != Some(cols)
				|| first.checked_add(rows).is_none()
				|| ks.iter().zip(vs).any(|(k, v)| k.cols != d || v.cols != d || k.rows != v.rows)
			{
				return Err(KernelError::ShapeMismatch);
			}
			let k = Tile::vconcat(ks)?;
			let v = Tile::vconcat(vs)?;
			let scale = 1.0 / libm::sqrtf(d as f32);
			let d = d as usize;
			for ((o, q), position) in
				out.data.chunks_exact_mut(c.max(1)).zip(q.data.chunks_exact(d)).zip(first..)
			{
				let part =
					decoder::attention_partial(q, &k.data, &v.data, first_key, position, scale);
				if finish {
					decoder::attention_combine(core::slice::from_ref(&part), o);
				} else if let [max, sum, rest @ ..] = o {
					*max = part.max;
					*sum = part.sum;
					rest.copy_from_slice(&part.out);
				}
			}
		}
		Op::Combine => {
			let tiles = f32s(inputs)?;
			if tiles.is_empty()
				|| tiles.iter().any(|t| t.rows != rows || Some(t.cols) != cols.checked_add(2))
			{
				return Err(KernelError::ShapeMismatch);
			}
			for (r, o) in out.data.chunks_exact_mut(c.max(1)).enumerate() {
				let parts =
					tiles.iter().map(|t| partial_of(t.row(r))).collect::<Result<Vec<_>, _>>()?;
				decoder::attention_combine(&parts, o);
			}
		}
		Op::Sample { sampling, index } => {
			let logits = columns(inputs, 1)?;
			if rows != 1 || cols != 1 {
				return Err(KernelError::ShapeMismatch);
			}
			let id = sampler::sample(&logits.data, sampling, context.seed, index);
			if let Some(o) = out.data.first_mut() {
				*o = id as f32;
			}
		}
		Op::Collect => {
			let tiles = f32s(inputs)?;
			if rows != 1
				|| Some(cols as usize) != Some(tiles.len())
				|| tiles.iter().any(|t| t.rows != 1 || t.cols != 1)
			{
				return Err(KernelError::ShapeMismatch);
			}
			for (o, t) in out.data.iter_mut().zip(&tiles) {
				*o = t.data.first().copied().unwrap_or(0.0);
			}
		}
		Op::Embed { .. }
		| Op::Linear { .. }
		| Op::AddNorm { .. }
		| Op::Attention { .. }
		| Op::PoolSum
		| Op::PoolFinish { .. } => return super::recompute(step, &f32s(inputs)?),
	}
	out.canonicalize();
	Ok(out)
}

/// The tokens a [`Op::Collect`] step's output holds, each a whole number
/// below `vocab`; none if any is not.
pub fn collected_ids(out: &Tile, vocab: u32) -> Option<alloc::vec::Vec<u32>> {
	if out.rows != 1 {
		return None;
	}
	out.data
		.iter()
		.map(|x| sampled_id(&Tile { rows: 1, cols: 1, data: alloc::vec![*x] }, vocab))
		.collect()
}

/// The token id a [`Op::Sample`] step's output holds: a whole number below
/// `vocab`, or none.
pub fn sampled_id(out: &Tile, vocab: u32) -> Option<u32> {
	match out.data.as_slice() {
		[x] if *x >= 0.0 && *x < vocab as f32 && libm::truncf(*x) == *x => Some(*x as u32),
		_ => None,
	}
}

/// Runs a whole spec v2 program with the reference operators, one step at
/// a time; `weight(i)` returns weight tile `i`, `ids` are the prompt's
/// tokens, and a sampled token is read from its sample step's output.
pub fn run_reference<'w>(
	program: &crate::Program,
	weight: impl Fn(u32) -> Option<Input<'w>>,
	ids: &[u32],
	vocab: u32,
	context: Context,
) -> Result<Vec<Tile>, KernelError> {
	let mut outputs: Vec<Tile> = Vec::with_capacity(program.steps.len());
	for step in &program.steps {
		let sources = step.resolve_with(ids, vocab, |s| {
			outputs.get(s as usize).and_then(|t| sampled_id(t, vocab))
		})?;
		let inputs = sources
			.into_iter()
			.map(|s| match s {
				crate::program::Resolved::Step(i) => {
					outputs.get(i as usize).map(Input::F32).ok_or(KernelError::BadSource)
				}
				crate::program::Resolved::Weight(i) => weight(i).ok_or(KernelError::BadSource),
			})
			.collect::<Result<Vec<_>, _>>()?;
		let out = recompute(step, &inputs, context)?;
		outputs.push(out);
	}
	Ok(outputs)
}

#[cfg(test)]
#[allow(clippy::indexing_slicing, clippy::unwrap_used)]
mod tests {
	use super::*;
	use crate::{program::Source, quant::WeightFormat};

	fn step(op: Op, inputs: usize, rows: u32, cols: u32) -> Step {
		Step { op, inputs: alloc::vec![Source::Weight(0); inputs], rows, cols }
	}

	const SEED: Context = Context { seed: &[0; 32] };

	#[test]
	fn wrong_inputs_are_refused_with_a_typed_error() {
		let x = Tile::zeros(2, 32);
		let w = QTile::new(WeightFormat::Q4_1, 4, 32, alloc::vec![0; 80]).unwrap();
		let linear = Op::QLinear { rope: None, residual: false };
		// An f32 tile where the weight should be quantized, and back.
		assert_eq!(
			recompute(&step(linear, 2, 2, 4), &[Input::F32(&x), Input::F32(&x)], SEED),
			Err(KernelError::ShapeMismatch)
		);
		assert_eq!(
			recompute(&step(linear, 2, 2, 4), &[Input::Quant(&w), Input::Quant(&w)], SEED),
			Err(KernelError::ShapeMismatch)
		);
		// Output columns that are not the weight's rows.
		assert_eq!(
			recompute(&step(linear, 2, 2, 5), &[Input::F32(&x), Input::Quant(&w)], SEED),
			Err(KernelError::ShapeMismatch)
		);
		assert!(
			recompute(&step(linear, 2, 2, 4), &[Input::F32(&x), Input::Quant(&w)], SEED).is_ok()
		);
		// A residual of the wrong shape; RoPE on odd heads.
		let res = Op::QLinear { rope: None, residual: true };
		let bad = Tile::zeros(2, 3);
		let inputs = [Input::F32(&x), Input::Quant(&w), Input::F32(&bad)];
		assert_eq!(recompute(&step(res, 3, 2, 4), &inputs, SEED), Err(KernelError::ShapeMismatch));
		let rope = Op::QLinear {
			rope: Some(Rope { first: 0, head: 3, theta: 1.0f32.to_bits() }),
			residual: false,
		};
		assert_eq!(
			recompute(&step(rope, 2, 2, 4), &[Input::F32(&x), Input::Quant(&w)], SEED),
			Err(KernelError::ShapeMismatch)
		);
		// Attention with an odd number of key and value tiles.
		let attend = Op::Attend { first: 0, first_key: 0, finish: true };
		let q = Tile::zeros(1, 8);
		assert!(matches!(
			recompute(&step(attend, 2, 1, 8), &[Input::F32(&q), Input::F32(&q)], SEED),
			Err(KernelError::InputCount { .. })
		));
		// A lookup past the row's columns; a v1 step given a quantized tile.
		let row = QTile::new(WeightFormat::Q8_0, 1, 32, alloc::vec![0; 34]).unwrap();
		assert_eq!(
			recompute(&step(Op::Lookup { column: 16 }, 1, 1, 32), &[Input::Quant(&row)], SEED),
			Err(KernelError::ShapeMismatch)
		);
		assert_eq!(
			recompute(&step(Op::PoolSum, 1, 1, 32), &[Input::Quant(&row)], SEED),
			Err(KernelError::ShapeMismatch)
		);
		// And a v2 step handed to spec v1's recompute.
		assert_eq!(
			super::super::recompute(&step(Op::Combine, 1, 1, 8), &[&q]),
			Err(KernelError::OtherSpec)
		);
	}

	#[test]
	fn sampled_ids_must_be_whole_and_in_the_vocabulary() {
		let one = |x: f32| Tile::new(1, 1, alloc::vec![x]).unwrap();
		assert_eq!(sampled_id(&one(7.0), 10), Some(7));
		assert_eq!(sampled_id(&one(10.0), 10), None);
		assert_eq!(sampled_id(&one(2.5), 10), None);
		assert_eq!(sampled_id(&one(-1.0), 10), None);
		assert_eq!(sampled_id(&one(f32::NAN), 10), None);
		assert_eq!(sampled_id(&Tile::zeros(1, 2), 10), None);
		// A collected reply: every token whole and in the vocabulary.
		let reply = Tile::new(1, 3, alloc::vec![4.0, 0.0, 9.0]).unwrap();
		assert_eq!(collected_ids(&reply, 10), Some(alloc::vec![4, 0, 9]));
		assert_eq!(collected_ids(&reply, 9), None);
		assert_eq!(collected_ids(&Tile::zeros(2, 1), 10), None);
	}

	#[test]
	fn collect_puts_the_sampled_tokens_side_by_side() {
		let one = |x: f32| Tile::new(1, 1, alloc::vec![x]).unwrap();
		let (a, b) = (one(3.0), one(7.0));
		let step = step(Op::Collect, 2, 1, 2);
		let out = recompute(&step, &[Input::F32(&a), Input::F32(&b)], SEED).unwrap();
		assert_eq!(out.data, alloc::vec![3.0, 7.0]);
		// Wider inputs, or a count other than the output's columns: refused.
		let wide = Tile::zeros(1, 2);
		assert_eq!(
			recompute(&step, &[Input::F32(&a), Input::F32(&wide)], SEED),
			Err(KernelError::ShapeMismatch)
		);
		assert_eq!(recompute(&step, &[Input::F32(&a)], SEED), Err(KernelError::ShapeMismatch));
	}
}
