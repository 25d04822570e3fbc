//! The steps of a llama generation program in closed form: step `i` from
//! the shape, the prompt and generation lengths and `i` alone, in time
//! proportional to the step's inputs (plus a binary search over segments).
//! The runtime learns the one step a dispute is about this way; a
//! generation's program has hundreds of thousands of steps.
//!
//! Segment `s` is the prompt's row block `s` while `s < B` (the prompt's
//! row blocks), then generated token `s − B + 1`'s; either way its tokens'
//! key and value tiles are the `(s + 1)`-th of each head. A segment is
//!
//! | part | steps |
//! | --- | --- |
//! | lookups | `S` (stream tiles) |
//! | per layer: norm, queries, keys and values | `1 + heads + 2·kv_heads` (key `g` then value `g`) |
//! | per layer: attention | `heads · A(s + 1)`: per head one step, or a partial per 16 key tiles then a combine |
//! | per layer: output, norm, gate+up, down | `S + 1 + G + S` |
//! | sampling (the prompt's last block, every generated token) | norm, `O` logit tiles, the sampler |
//!
//! and the program ends with one more step, the [`Op::Collect`] of every
//! sampled token (its output is the reply). Segment `s` starts at
//! `s·(S + layers·c) + layers·heads·Σ_{t ≤ s} A(t) + (O + 2)·(s − B + 1)⁺`,
//! with `c` the layer's steps besides attention.

use alloc::{vec, vec::Vec};

use super::{layout::Layout, LlamaShape, KEY_TILES};
use crate::{
	program::{
		tiling::{row_blocks, rows_of_block},
		Op, Rope, Source, Step,
	},
	sampler::Sampling,
	KernelError, ROW_BLOCK,
};

/// The steps of one generation program, each computable on its own.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Plan {
	layout: Layout,
	sampling: Sampling,
	prompt: u32,
	generated: u32,
	/// The prompt's row blocks.
	blocks: u32,
	/// Segments: the prompt's row blocks, then one per generated token but
	/// the last (which is only sampled).
	segments: u32,
	/// Steps of a layer besides attention.
	layer_base: u32,
	len: u32,
}

/// Attention steps of one query head when the keys are `tiles` tiles.
fn attention_steps(tiles: u32) -> u32 {
	if tiles <= KEY_TILES {
		1
	} else {
		tiles.div_ceil(KEY_TILES).saturating_add(1)
	}
}

/// `Σ_{t = 1}^{tiles} attention_steps(t)`.
fn attention_sum(tiles: u32) -> u64 {
	let t = u64::from(tiles);
	let k = u64::from(KEY_TILES);
	if t <= k {
		return t;
	}
	// Tiles 17..=t take ⌈t/16⌉ + 1 each; ⌈t/16⌉ is q for 16 tiles of each
	// q = 2 ..= last − 1, and `last` for the rest.
	let last = t.div_ceil(k);
	let full =
		k.saturating_mul((last.saturating_mul(last.saturating_sub(1)) / 2).saturating_sub(1));
	let partial = t.saturating_sub(k.saturating_mul(last.saturating_sub(1))).saturating_mul(last);
	k.saturating_add(full).saturating_add(partial).saturating_add(t.saturating_sub(k))
}

impl Plan {
	/// The plan generating `generated` tokens after a prompt of `prompt`
	/// tokens with `sampling`; errors when the shape does not compile,
	/// either length is 0, or together they pass the model's positions.
	pub fn new(
		shape: &LlamaShape,
		prompt: u32,
		generated: u32,
		sampling: Sampling,
	) -> Result<Self, KernelError> {
		let layout = Layout::new(shape)?;
		let total = prompt.checked_add(generated).ok_or(KernelError::BadSequenceLength)?;
		if prompt == 0 || generated == 0 || total > shape.max_positions {
			return Err(KernelError::BadSequenceLength);
		}
		let cuts = layout.cuts;
		let too_long = KernelError::UnsupportedShape;
		let layer_base = [
			1,
			shape.heads,
			shape.kv_heads.saturating_mul(2),
			cuts.stream.blocks,
			1,
			cuts.gate_up.blocks,
			cuts.stream.blocks,
		]
		.into_iter()
		.try_fold(0u32, |acc, x| acc.checked_add(x))
		.ok_or(too_long.clone())?;
		let blocks = row_blocks(prompt);
		let segments = blocks.saturating_add(generated).saturating_sub(1);
		let mut plan =
			Self { layout, sampling, prompt, generated, blocks, segments, layer_base, len: 0 };
		// Every segment, then the step collecting the tokens.
		plan.len = u32::try_from(plan.start(segments).saturating_add(1)).map_err(|_| too_long)?;
		Ok(plan)
	}

	/// Number of steps: the trace's leaf count.
	pub fn len(&self) -> u32 {
		self.len
	}

	/// Whether the plan has no steps (never: a valid plan samples a token).
	pub fn is_empty(&self) -> bool {
		self.len == 0
	}

	/// The steps that sample a token, in order: the generated tokens are
	/// their outputs.
	pub fn sample_steps(&self) -> Vec<u32> {
		(self.blocks..=self.segments).map(|s| (self.start(s) as u32).saturating_sub(1)).collect()
	}

	/// Steps of a segment's sampling tail.
	fn tail(&self) -> u64 {
		u64::from(self.layout.cuts.output.blocks).saturating_add(2)
	}

	/// The first step of segment `s` (the plan's length for `s = segments`).
	fn start(&self, s: u32) -> u64 {
		let shape = &self.layout.shape;
		let (layers, heads) = (u64::from(shape.layers), u64::from(shape.heads));
		let per_segment = u64::from(self.layout.cuts.stream.blocks)
			.saturating_add(layers.saturating_mul(u64::from(self.layer_base)));
		let sampled = u64::from(s.saturating_add(1).saturating_sub(self.blocks));
		u64::from(s)
			.saturating_mul(per_segment)
			.saturating_add(layers.saturating_mul(heads).saturating_mul(attention_sum(s)))
			.saturating_add(self.tail().saturating_mul(sampled))
	}

	/// Steps of one layer of segment `s`.
	fn layer_len(&self, s: u32) -> u32 {
		let attention =
			self.layout.shape.heads.saturating_mul(attention_steps(s.saturating_add(1)));
		self.layer_base.saturating_add(attention)
	}

	/// The step of part `at` of layer `layer` of segment `s`, as an index.
	fn layer_part(&self, s: u32, layer: u32, at: u32) -> u32 {
		let stream = self.layout.cuts.stream.blocks;
		(self.start(s) as u32)
			.saturating_add(stream)
			.saturating_add(layer.saturating_mul(self.layer_len(s)))
			.saturating_add(at)
	}

	/// The stream tiles layer `layer` of segment `s` reads (the lookups for
	/// layer 0, else the previous layer's down projections; `layer =
	/// layers` gives the last layer's).
	fn stream_in(&self, s: u32, layer: u32) -> Vec<u32> {
		let blocks = self.layout.cuts.stream.blocks;
		let first = match layer.checked_sub(1) {
			None => self.start(s) as u32,
			Some(prev) => self.layer_part(s, prev, self.layer_len(s).saturating_sub(blocks)),
		};
		(0..blocks).map(|c| first.saturating_add(c)).collect()
	}

	/// The key (or value) tile of kv head `g` of layer `layer` of segment
	/// `s`.
	fn kv(&self, s: u32, layer: u32, g: u32, value: bool) -> u32 {
		let heads = self.layout.shape.heads;
		self.layer_part(s, layer, 1u32.saturating_add(heads).saturating_add(g.saturating_mul(2)))
			.saturating_add(u32::from(value))
	}

	/// Where segment `s` starts and how many rows it has.
	fn segment_rows(&self, s: u32) -> (u32, u32) {
		if s < self.blocks {
			(s.saturating_mul(ROW_BLOCK), rows_of_block(self.prompt, s))
		} else {
			(self.prompt.saturating_add(s).saturating_sub(self.blocks), 1)
		}
	}

	/// Step `i`, exactly as [`super::compile`] lists it.
	pub fn step(&self, i: u32) -> Result<Step, KernelError> {
		if i >= self.len {
			return Err(KernelError::NoSuchStep);
		}
		if i.saturating_add(1) == self.len {
			let inputs = self.sample_steps().into_iter().map(Source::Step).collect();
			return Ok(Step { op: Op::Collect, inputs, rows: 1, cols: self.generated });
		}
		// The segment holding `i`: the last whose start is at most `i`.
		let (mut lo, mut hi) = (0u32, self.segments);
		while hi.saturating_sub(lo) > 1 {
			let mid = lo.saturating_add(hi.saturating_sub(lo).checked_div(2).unwrap_or(0));
			if self.start(mid) <= u64::from(i) {
				lo = mid;
			} else {
				hi = mid;
			}
		}
		let s = lo;
		let at = i.saturating_sub(self.start(s) as u32);
		let shape = self.layout.shape;
		let cuts = self.layout.cuts;
		let (first, rows) = self.segment_rows(s);
		let stream = cuts.stream.blocks;
		let step = |op, inputs, rows, cols| Ok(Step { op, inputs, rows, cols });
		let steps = |ids: Vec<u32>| ids.into_iter().map(Source::Step).collect::<Vec<_>>();
		if at < stream {
			let tokens = if s < self.blocks {
				(first..first.saturating_add(rows))
					.map(|position| Source::Token { table: 0, position })
					.collect()
			} else {
				vec![Source::Sampled { table: 0, step: (self.start(s) as u32).saturating_sub(1) }]
			};
			let op = Op::Lookup { column: at.saturating_mul(cuts.stream.width) };
			return step(op, tokens, rows, cuts.stream.width);
		}
		let layered = at.saturating_sub(stream);
		let layer_len = self.layer_len(s);
		let layer = layered.checked_div(layer_len).ok_or(KernelError::NoSuchStep)?;
		if layer >= shape.layers {
			// The sampling tail.
			let t = layered.saturating_sub(shape.layers.saturating_mul(layer_len));
			let norm = i.saturating_sub(t);
			let last_logits = norm.saturating_add(cuts.output.blocks);
			if t == 0 {
				let inputs = steps(self.stream_in(s, shape.layers))
					.into_iter()
					.chain([Source::Weight(self.layout.output_norm)])
					.collect();
				let op = Op::RmsNorm { eps: shape.eps, first_row: rows.saturating_sub(1) };
				return step(op, inputs, 1, shape.hidden);
			}
			if i <= last_logits {
				let block = t.saturating_sub(1);
				let weight = self.layout.output(block);
				let cols = self.layout.tile(weight).map_or(0, |w| w.rows);
				let op = Op::QLinear { rope: None, residual: false };
				return step(op, vec![Source::Step(norm), Source::Weight(weight)], 1, cols);
			}
			let index = s.saturating_add(1).saturating_sub(self.blocks);
			let op = Op::Sample { sampling: self.sampling, index };
			let logits = (norm.saturating_add(1)..=last_logits).collect();
			return step(op, steps(logits), 1, 1);
		}
		let r = layered.saturating_sub(layer.saturating_mul(layer_len));
		let l = layer;
		let heads = shape.heads;
		let head = cuts.head;
		let norm = self.layer_part(s, l, 0);
		let rope = Some(Rope { first, head, theta: shape.rope_theta });
		let project = |weight: u32, rope| {
			let op = Op::QLinear { rope, residual: false };
			step(op, vec![Source::Step(norm), Source::Weight(weight)], rows, head)
		};
		if r == 0 {
			let inputs = steps(self.stream_in(s, l))
				.into_iter()
				.chain([Source::Weight(self.layout.attention_norm(l))])
				.collect();
			return step(Op::RmsNorm { eps: shape.eps, first_row: 0 }, inputs, rows, shape.hidden);
		}
		let r = r.saturating_sub(1);
		if r < heads {
			return project(self.layout.query(l, r), rope);
		}
		let r = r.saturating_sub(heads);
		let kv2 = shape.kv_heads.saturating_mul(2);
		if r < kv2 {
			let g = r.checked_div(2).unwrap_or(0);
			return if r.is_multiple_of(2) {
				project(self.layout.key(l, g), rope)
			} else {
				project(self.layout.value(l, g), None)
			};
		}
		let r = r.saturating_sub(kv2);
		let per_head = attention_steps(s.saturating_add(1));
		let attention_first = self.layer_part(s, l, 1u32.saturating_add(heads).saturating_add(kv2));
		// The step each head's attention ends in (its output).
		let attended = |h: u32| {
			attention_first
				.saturating_add(h.saturating_mul(per_head))
				.saturating_add(per_head.saturating_sub(1))
		};
		if r < heads.saturating_mul(per_head) {
			let h = r.checked_div(per_head).unwrap_or(0);
			let part = r.checked_rem(per_head).unwrap_or(0);
			let group = heads.checked_div(shape.kv_heads).unwrap_or(1).max(1);
			let g = h.checked_div(group).unwrap_or(0);
			let q = self.layer_part(s, l, 1u32.saturating_add(h));
			let tiles = s.saturating_add(1);
			if per_head == 1 {
				let keys = (0..tiles).map(|t| self.kv(t, l, g, false));
				let values = (0..tiles).map(|t| self.kv(t, l, g, true));
				let inputs = steps(core::iter::once(q).chain(keys).chain(values).collect());
				let op = Op::Attend { first, first_key: 0, finish: true };
				return step(op, inputs, rows, head);
			}
			let chunks = per_head.saturating_sub(1);
			if part == chunks {
				let first_partial = attended(h).saturating_sub(chunks);
				let partials = (first_partial..attended(h)).collect();
				return step(Op::Combine, steps(partials), rows, head);
			}
			let from = part.saturating_mul(KEY_TILES);
			let to = from.saturating_add(KEY_TILES).min(tiles);
			let keys = (from..to).map(|t| self.kv(t, l, g, false));
			let values = (from..to).map(|t| self.kv(t, l, g, true));
			let inputs = steps(core::iter::once(q).chain(keys).chain(values).collect());
			let op = Op::Attend { first, first_key: self.segment_rows(from).0, finish: false };
			return step(op, inputs, rows, head.saturating_add(2));
		}
		let r = r.saturating_sub(heads.saturating_mul(per_head));
		let residual = |xs: Vec<u32>, weight: u32, res: u32| {
			let inputs =
				steps(xs).into_iter().chain([Source::Weight(weight), Source::Step(res)]).collect();
			step(Op::QLinear { rope: None, residual: true }, inputs, rows, cuts.stream.width)
		};
		let stream_in = self.stream_in(s, l);
		let output_first = self.layer_part(
			s,
			l,
			1u32.saturating_add(heads)
				.saturating_add(kv2)
				.saturating_add(heads.saturating_mul(per_head)),
		);
		if r < stream {
			let res = stream_in.get(r as usize).copied().unwrap_or(0);
			return residual(
				(0..heads).map(attended).collect(),
				self.layout.attention_output(l, r),
				res,
			);
		}
		let r = r.saturating_sub(stream);
		let mlp_norm = output_first.saturating_add(stream);
		if r == 0 {
			let inputs = (output_first..mlp_norm)
				.map(Source::Step)
				.chain([Source::Weight(self.layout.mlp_norm(l))])
				.collect();
			return step(Op::RmsNorm { eps: shape.eps, first_row: 0 }, inputs, rows, shape.hidden);
		}
		let r = r.saturating_sub(1);
		if r < cuts.gate_up.blocks {
			let gate = self.layout.gate(l, r);
			let inputs = vec![
				Source::Step(mlp_norm),
				Source::Weight(gate),
				Source::Weight(gate.saturating_add(1)),
			];
			return step(Op::GateUp, inputs, rows, cuts.gate_up.width);
		}
		let r = r.saturating_sub(cuts.gate_up.blocks);
		let hidden_first = mlp_norm.saturating_add(1);
		let hidden = (hidden_first..hidden_first.saturating_add(cuts.gate_up.blocks)).collect();
		residual(hidden, self.layout.down(l, r), output_first.saturating_add(r))
	}

	/// Every step, in order: the program.
	pub fn program(&self) -> Result<crate::Program, KernelError> {
		let steps = (0..self.len).map(|i| self.step(i)).collect::<Result<Vec<_>, _>>()?;
		Ok(crate::Program { seq_len: self.prompt.saturating_add(self.generated), steps })
	}
}
