//! Compiles a llama decoder's text generation to a [`Program`]: the prompt
//! in row blocks of [`ROW_BLOCK`] tokens, then one block of steps per
//! generated token. Each block ("segment") is
//!
//! 1. the token rows looked up into the residual stream's column tiles;
//! 2. per layer: RMSNorm; each query, key and value head (RoPE on query and
//!    key); each query head's attention over its key-value head's tiles in
//!    chunks of [`KEY_TILES`] (one step, or a partial per chunk and a
//!    combine); the attention output per stream tile plus the residual;
//!    RMSNorm; gate and up per column block; down per stream tile plus the
//!    residual;
//! 3. after the last prompt block and every generated token's: RMSNorm of
//!    the last row, the logits per vocabulary tile, and a sample step whose
//!    output is the next token, which the next segment reads
//!    ([`Source::Sampled`]).
//!
//! 4. last, one [`Op::Collect`] step reads every sample step: its `1 × n`
//!    output is the reply, so the reply a worker posts is bound to the
//!    trace root by the last leaf.
//!
//! The program for `n` generated tokens, but for its last step, is a prefix
//! of the one for `n + 1`, so a worker that stops at the end-of-reply token
//! has run a whole program but one step, and every sampled token and
//! key-value row is a step output in the trace.

use alloc::vec::Vec;

use super::{plan::Plan, LlamaShape};
use crate::{
	program::{Op, Program},
	sampler::Sampling,
	KernelError,
};

/// The program generating `generated` tokens after a prompt of `prompt`
/// tokens with `sampling`, listed from its [`Plan`]; errors when the shape
/// does not compile, either length is 0, or together they pass the model's
/// positions.
pub fn compile(
	shape: &LlamaShape,
	prompt: u32,
	generated: u32,
	sampling: Sampling,
) -> Result<Program, KernelError> {
	Plan::new(shape, prompt, generated, sampling)?.program()
}

impl Program {
	/// The steps of a decoder program that sample a token, in order: the
	/// generated tokens are their outputs.
	pub fn sample_steps(&self) -> Vec<u32> {
		self.steps
			.iter()
			.zip(0u32..)
			.filter(|(s, _)| matches!(s.op, Op::Sample { .. }))
			.map(|(_, i)| i)
			.collect()
	}
}

/// The program built segment by segment, the way the module docs describe
/// it: the reference the closed-form [`Plan`] is checked against.
#[cfg(test)]
#[allow(clippy::arithmetic_side_effects, clippy::indexing_slicing)]
mod reference {
	use alloc::{vec, vec::Vec};

	use super::super::{layout::Layout, LlamaShape, KEY_TILES};
	use crate::{
		program::{
			tiling::{row_blocks, rows_of_block},
			Op, Program, Rope, Source, Step,
		},
		sampler::Sampling,
		KernelError, ROW_BLOCK,
	};

	/// A key or value tile: the step that output it and the position of its
	/// first row.
	#[derive(Clone, Copy)]
	struct Cached {
		step: u32,
		first: u32,
	}

	struct Builder<'a> {
		layout: &'a Layout,
		sampling: Sampling,
		steps: Vec<Step>,
		/// Per layer, per key-value head: the key tiles, in position order.
		keys: Vec<Vec<Vec<Cached>>>,
		values: Vec<Vec<Vec<Cached>>>,
		samples: u32,
	}

	fn steps(ids: &[u32]) -> impl Iterator<Item = Source> + '_ {
		ids.iter().map(|&i| Source::Step(i))
	}

	impl Builder<'_> {
		fn push(&mut self, op: Op, inputs: Vec<Source>, rows: u32, cols: u32) -> u32 {
			let index = self.steps.len() as u32;
			self.steps.push(Step { op, inputs, rows, cols });
			index
		}

		fn norm(&mut self, stream: &[u32], gamma: u32, rows: u32, first_row: u32) -> u32 {
			let s = &self.layout.shape;
			let inputs = steps(stream).chain([Source::Weight(gamma)]).collect();
			self.push(Op::RmsNorm { eps: s.eps, first_row }, inputs, rows, s.hidden)
		}

		fn project(&mut self, x: u32, weight: u32, rows: u32, rope: Option<Rope>) -> u32 {
			let head = self.layout.cuts.head;
			let inputs = vec![Source::Step(x), Source::Weight(weight)];
			self.push(Op::QLinear { rope, residual: false }, inputs, rows, head)
		}

		/// One query head's attention over `keys` and `values`.
		fn attend(
			&mut self,
			q: u32,
			first: u32,
			rows: u32,
			keys: &[Cached],
			values: &[Cached],
		) -> u32 {
			let head = self.layout.cuts.head;
			let chunk = KEY_TILES as usize;
			let read = |ks: &[Cached], vs: &[Cached]| {
				[Source::Step(q)]
					.into_iter()
					.chain(ks.iter().chain(vs).map(|c| Source::Step(c.step)))
					.collect::<Vec<_>>()
			};
			if keys.len() <= chunk {
				let op = Op::Attend { first, first_key: 0, finish: true };
				return self.push(op, read(keys, values), rows, head);
			}
			let partials: Vec<u32> = keys
				.chunks(chunk)
				.zip(values.chunks(chunk))
				.map(|(ks, vs)| {
					let first_key = ks.first().map_or(0, |c| c.first);
					let op = Op::Attend { first, first_key, finish: false };
					self.push(op, read(ks, vs), rows, head.saturating_add(2))
				})
				.collect();
			self.push(Op::Combine, steps(&partials).collect(), rows, head)
		}

		/// One segment: `rows` tokens from position `first`; samples the next
		/// token from its last row when `sample`, returning that step.
		fn segment(
			&mut self,
			first: u32,
			rows: u32,
			tokens: Vec<Source>,
			sample: bool,
		) -> Option<u32> {
			let layout = self.layout;
			let s = layout.shape;
			let cuts = layout.cuts;
			let width = cuts.stream.width;
			let mut stream: Vec<u32> = (0..cuts.stream.blocks)
				.map(|c| {
					let op = Op::Lookup { column: c.saturating_mul(width) };
					self.push(op, tokens.clone(), rows, width)
				})
				.collect();
			let group = s.heads.checked_div(s.kv_heads).unwrap_or(1).max(1);
			let rope = Some(Rope { first, head: cuts.head, theta: s.rope_theta });
			for l in 0..s.layers {
				let li = l as usize;
				let x = self.norm(&stream, layout.attention_norm(l), rows, 0);
				let q: Vec<u32> =
					(0..s.heads).map(|h| self.project(x, layout.query(l, h), rows, rope)).collect();
				for h in 0..s.kv_heads {
					let k = self.project(x, layout.key(l, h), rows, rope);
					let v = self.project(x, layout.value(l, h), rows, None);
					let hi = h as usize;
					if let Some(tiles) = self.keys.get_mut(li).and_then(|t| t.get_mut(hi)) {
						tiles.push(Cached { step: k, first });
					}
					if let Some(tiles) = self.values.get_mut(li).and_then(|t| t.get_mut(hi)) {
						tiles.push(Cached { step: v, first });
					}
				}
				let attended: Vec<u32> = (0..s.heads)
					.map(|h| {
						let kv = h.checked_div(group).unwrap_or(0) as usize;
						let ks =
							self.keys.get(li).and_then(|t| t.get(kv)).cloned().unwrap_or_default();
						let vs = self
							.values
							.get(li)
							.and_then(|t| t.get(kv))
							.cloned()
							.unwrap_or_default();
						let qh = q.get(h as usize).copied().unwrap_or(0);
						self.attend(qh, first, rows, &ks, &vs)
					})
					.collect();
				stream = self.residual(&attended, &stream, |c| layout.attention_output(l, c), rows);
				let x = self.norm(&stream, layout.mlp_norm(l), rows, 0);
				let hidden: Vec<u32> = (0..cuts.gate_up.blocks)
					.map(|j| {
						let gate = layout.gate(l, j);
						let inputs = vec![
							Source::Step(x),
							Source::Weight(gate),
							Source::Weight(gate.saturating_add(1)),
						];
						self.push(Op::GateUp, inputs, rows, cuts.gate_up.width)
					})
					.collect();
				stream = self.residual(&hidden, &stream, |c| layout.down(l, c), rows);
			}
			if !sample {
				return None;
			}
			let last = self.norm(&stream, layout.output_norm, 1, rows.saturating_sub(1));
			let logits: Vec<u32> = (0..cuts.output.blocks)
				.map(|t| {
					let weight = layout.output(t);
					let cols = layout.tile(weight).map_or(0, |w| w.rows);
					let op = Op::QLinear { rope: None, residual: false };
					self.push(op, vec![Source::Step(last), Source::Weight(weight)], 1, cols)
				})
				.collect();
			let op = Op::Sample { sampling: self.sampling, index: self.samples };
			self.samples = self.samples.saturating_add(1);
			Some(self.push(op, steps(&logits).collect(), 1, 1))
		}

		/// A projection into each stream tile from the column tiles `xs`, plus
		/// the stream tile as the residual.
		fn residual(
			&mut self,
			xs: &[u32],
			stream: &[u32],
			weight: impl Fn(u32) -> u32,
			rows: u32,
		) -> Vec<u32> {
			let width = self.layout.cuts.stream.width;
			stream
				.iter()
				.zip(0u32..)
				.map(|(&res, c)| {
					let inputs =
						steps(xs).chain([Source::Weight(weight(c)), Source::Step(res)]).collect();
					self.push(Op::QLinear { rope: None, residual: true }, inputs, rows, width)
				})
				.collect()
		}
	}

	/// The program generating `generated` tokens after a prompt of `prompt`
	/// tokens with `sampling`; errors when the shape does not compile, either
	/// length is 0, or together they pass the model's positions.
	pub(super) fn compile(
		shape: &LlamaShape,
		prompt: u32,
		generated: u32,
		sampling: Sampling,
	) -> Result<Program, KernelError> {
		let layout = Layout::new(shape)?;
		let total = prompt.checked_add(generated).ok_or(KernelError::BadSequenceLength)?;
		if prompt == 0 || generated == 0 || total > shape.max_positions {
			return Err(KernelError::BadSequenceLength);
		}
		let per_layer = || vec![Vec::new(); shape.kv_heads as usize];
		let mut b = Builder {
			layout: &layout,
			sampling,
			steps: Vec::new(),
			keys: (0..shape.layers).map(|_| per_layer()).collect(),
			values: (0..shape.layers).map(|_| per_layer()).collect(),
			samples: 0,
		};
		let blocks = row_blocks(prompt);
		let mut sampled = None;
		for rb in 0..blocks {
			let first = rb.saturating_mul(ROW_BLOCK);
			let rows = rows_of_block(prompt, rb);
			let tokens = (first..first.saturating_add(rows))
				.map(|position| Source::Token { table: 0, position })
				.collect();
			sampled = b.segment(first, rows, tokens, rb.saturating_add(1) == blocks);
		}
		for j in 1..generated {
			let step = sampled.ok_or(KernelError::UnsupportedShape)?;
			let tokens = vec![Source::Sampled { table: 0, step }];
			sampled = b.segment(prompt.saturating_add(j).saturating_sub(1), 1, tokens, true);
		}
		let program = Program { seq_len: total, steps: b.steps.clone() };
		let samples = program.sample_steps().into_iter().map(Source::Step).collect();
		b.push(Op::Collect, samples, 1, generated);
		Ok(Program { seq_len: total, steps: b.steps })
	}
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::arithmetic_side_effects)]
mod tests {
	use super::*;
	use crate::quant::WeightFormat;
	use proptest::prelude::*;

	proptest! {
		#![proptest_config(ProptestConfig::with_cases(48))]
		#[test]
		fn the_plan_lists_the_reference_programs_steps(
			kv_heads in 1u32..3,
			group in 1u32..3,
			head in prop_oneof![Just(8u32), Just(16), Just(32)],
			layers in 1u32..3,
			mlp in 1u32..4,
			vocab in 1u32..700,
			prompt in 1u32..60,
			generated in 1u32..30,
			top_p in any::<bool>(),
		) {
			let heads = kv_heads * group;
			let hidden = heads * head;
			prop_assume!(hidden % 32 == 0);
			let shape = LlamaShape {
				vocab,
				hidden,
				layers,
				heads,
				kv_heads,
				intermediate: hidden * mlp,
				max_positions: 128,
				rope_theta: 10_000.0f32.to_bits(),
				eps: 1e-5f32.to_bits(),
				linear: WeightFormat::Q4_1,
				embedding: WeightFormat::Q8_0,
			};
			let sampling = if top_p {
				Sampling::TopP { temperature: 0.5f32.to_bits(), top_p: 0.9f32.to_bits() }
			} else {
				Sampling::Greedy
			};
			let want = reference::compile(&shape, prompt, generated, sampling).unwrap();
			let plan = Plan::new(&shape, prompt, generated, sampling).unwrap();
			prop_assert_eq!(plan.len(), want.len());
			for (i, step) in want.steps.iter().enumerate() {
				prop_assert_eq!(&plan.step(i as u32).unwrap(), step, "step {}", i);
			}
			prop_assert_eq!(plan.step(plan.len()), Err(KernelError::NoSuchStep));
			prop_assert_eq!(plan.sample_steps(), want.sample_steps());
		}
	}
}
