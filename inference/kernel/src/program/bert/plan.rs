//! The steps of a BERT program in closed form: step `i`'s descriptor from
//! the shape, the sequence length and `i` alone, in time proportional to the
//! step's own inputs. The runtime learns the one step a dispute is about this
//! way, without compiling the whole program (20,033 steps for
//! all-MiniLM-L6-v2 at 512 tokens).
//!
//! Steps come in this order (`n` row blocks of [`ROW_BLOCK`] tokens):
//!
//! | section | steps | each |
//! | --- | --- | --- |
//! | embeddings | `n` | row block `rb` |
//! | per layer: query, key, value | `3 · heads · n` | head `h`, row block `rb` at `h · n + rb` |
//! | per layer: attention | `heads · n` | head, row block |
//! | per layer: attention output | `blocks · n` | column block, row block |
//! | per layer: attention norm | `n` | row block |
//! | per layer: intermediate (GELU), output | `blocks · n` each | column block, row block |
//! | per layer: output norm | `n` | row block |
//! | pooling: partial sums | `n` | row block |
//! | pooling: finish | 1 | |

use alloc::vec::Vec;

use super::{BertShape, Dims, Linear, Norm};
use crate::program::tiling::{row_blocks, rows_of_block, Blocks};
use crate::{
	program::{Op, Source, Step},
	KernelError, ROW_BLOCK,
};

/// The steps of one BERT program, each computable on its own.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Plan {
	dims: Dims,
	seq_len: u32,
	/// Row blocks.
	n: u32,
	/// Steps per layer.
	layer_steps: u32,
	len: u32,
}

/// Where a step of a layer sits.
enum LayerStep {
	Projection(Linear, u32),
	Attention(u32),
	AttentionOutput(u32),
	AttentionNorm,
	Intermediate(u32),
	Output(u32),
	OutputNorm,
}

impl Plan {
	/// The plan of `shape` for `seq_len` tokens; errors when the shape does
	/// not compile or the length is 0 or past the model's positions.
	pub fn new(shape: &BertShape, seq_len: u32) -> Result<Self, KernelError> {
		let dims = Dims::new(shape)?;
		if seq_len == 0 || seq_len > shape.max_positions {
			return Err(KernelError::BadSequenceLength);
		}
		let n = row_blocks(seq_len);
		let too_long = KernelError::UnsupportedShape;
		let per_row_block = [
			dims.heads.checked_mul(4),
			Some(dims.attention_output.blocks),
			Some(dims.up.blocks),
			Some(dims.down.blocks),
			Some(2),
		]
		.into_iter()
		.try_fold(0u32, |acc, x| acc.checked_add(x?))
		.ok_or(too_long.clone())?;
		let layer_steps = per_row_block.checked_mul(n).ok_or(too_long.clone())?;
		let len = layer_steps
			.checked_mul(dims.layers)
			.and_then(|x| x.checked_add(n.checked_mul(2)?))
			.and_then(|x| x.checked_add(1))
			.ok_or(too_long)?;
		Ok(Self { dims, seq_len, n, layer_steps, len })
	}

	/// Number of steps: the trace's leaf count.
	pub fn len(&self) -> u32 {
		self.len
	}

	/// Whether the plan has no steps (never: a valid plan has at least three).
	pub fn is_empty(&self) -> bool {
		self.len == 0
	}

	/// The sequence length.
	pub fn seq_len(&self) -> u32 {
		self.seq_len
	}

	/// Number of weight tiles of the model (the weight tree's leaf count).
	pub fn weight_count(&self) -> u32 {
		self.dims.weight_count
	}

	/// Step `i`, exactly as [`super::compile`] lists it.
	pub fn step(&self, i: u32) -> Result<Step, KernelError> {
		let n = self.n;
		let layers_end = self.layer_steps.saturating_mul(self.dims.layers).saturating_add(n);
		if i < n {
			return Ok(self.embed(i));
		}
		if i < layers_end {
			let local = i.saturating_sub(n);
			let layer = local.checked_div(self.layer_steps).ok_or(KernelError::NoSuchStep)?;
			let s = local.checked_rem(self.layer_steps).ok_or(KernelError::NoSuchStep)?;
			return Ok(self.layer_step(layer, s));
		}
		let rb = i.saturating_sub(layers_end);
		if rb < n {
			return Ok(self.step_of(
				Op::PoolSum,
				alloc::vec![Source::Step(self.layer_input(self.dims.layers, rb))],
				1,
				self.dims.hidden,
			));
		}
		if rb == n {
			let partials = (0..n).map(|rb| Source::Step(layers_end.saturating_add(rb))).collect();
			let op = Op::PoolFinish { tokens: self.seq_len };
			return Ok(self.step_of(op, partials, 1, self.dims.hidden));
		}
		Err(KernelError::NoSuchStep)
	}

	fn step_of(&self, op: Op, inputs: Vec<Source>, rows: u32, cols: u32) -> Step {
		Step { op, inputs, rows, cols }
	}

	/// Rows of row block `rb`.
	fn rows(&self, rb: u32) -> u32 {
		rows_of_block(self.seq_len, rb)
	}

	fn embed(&self, rb: u32) -> Step {
		let d = &self.dims;
		let (first, rows) = (rb.saturating_mul(ROW_BLOCK), self.rows(rb));
		let mut inputs: Vec<Source> = (first..first.saturating_add(rows))
			.map(|position| Source::Token { table: 0, position })
			.collect();
		inputs.extend([
			Source::Weight(d.position.saturating_add(rb)),
			Source::Weight(d.token_type),
			Source::Weight(d.embedding_norm),
			Source::Weight(d.embedding_norm.saturating_add(1)),
		]);
		self.step_of(Op::Embed { eps: d.eps }, inputs, rows, d.hidden)
	}

	/// Which step of a layer local index `s` is, and its row block.
	fn locate(&self, s: u32) -> (LayerStep, u32) {
		let n = self.n.max(1);
		let (mut block, rb) = (s.checked_div(n).unwrap_or(0), s.checked_rem(n).unwrap_or(0));
		let d = &self.dims;
		let sections = [
			d.heads,
			d.heads,
			d.heads,
			d.heads,
			d.attention_output.blocks,
			1,
			d.up.blocks,
			d.down.blocks,
		];
		for (section, size) in sections.into_iter().enumerate() {
			if block < size {
				let at = match section {
					0 => LayerStep::Projection(Linear::Query, block),
					1 => LayerStep::Projection(Linear::Key, block),
					2 => LayerStep::Projection(Linear::Value, block),
					3 => LayerStep::Attention(block),
					4 => LayerStep::AttentionOutput(block),
					5 => LayerStep::AttentionNorm,
					6 => LayerStep::Intermediate(block),
					_ => LayerStep::Output(block),
				};
				return (at, rb);
			}
			block = block.saturating_sub(size);
		}
		(LayerStep::OutputNorm, rb)
	}

	/// The index of layer `layer`'s step `section_start · n + block · n + rb`,
	/// where `section_start` counts the blocks of the sections before.
	fn index(&self, layer: u32, blocks_before: u32, rb: u32) -> u32 {
		self.layer_steps
			.saturating_mul(layer)
			.saturating_add(self.n)
			.saturating_add(blocks_before.saturating_mul(self.n))
			.saturating_add(rb)
	}

	/// Blocks of a layer before each section.
	fn before(&self, at: &LayerStep) -> u32 {
		let d = &self.dims;
		let h = d.heads;
		let attention = h.saturating_mul(3);
		let attention_output = h.saturating_mul(4);
		let norm = attention_output.saturating_add(d.attention_output.blocks);
		let up = norm.saturating_add(1);
		let down = up.saturating_add(d.up.blocks);
		match at {
			LayerStep::Projection(Linear::Query, b) => *b,
			LayerStep::Projection(Linear::Key, b) => h.saturating_add(*b),
			LayerStep::Projection(_, b) => h.saturating_mul(2).saturating_add(*b),
			LayerStep::Attention(b) => attention.saturating_add(*b),
			LayerStep::AttentionOutput(b) => attention_output.saturating_add(*b),
			LayerStep::AttentionNorm => norm,
			LayerStep::Intermediate(b) => up.saturating_add(*b),
			LayerStep::Output(b) => down.saturating_add(*b),
			LayerStep::OutputNorm => down.saturating_add(d.down.blocks),
		}
	}

	fn at(&self, layer: u32, step: LayerStep, rb: u32) -> Source {
		Source::Step(self.index(layer, self.before(&step), rb))
	}

	/// The step whose output is layer `layer`'s input at row block `rb`: the
	/// embeddings for layer 0, else the previous layer's output norm.
	fn layer_input(&self, layer: u32, rb: u32) -> u32 {
		match layer.checked_sub(1) {
			None => rb,
			Some(prev) => self.index(prev, self.before(&LayerStep::OutputNorm), rb),
		}
	}

	/// Column tiles `0..blocks` of `section` at row block `rb`.
	fn columns(
		&self,
		layer: u32,
		blocks: u32,
		section: impl Fn(u32) -> LayerStep,
		rb: u32,
	) -> Vec<Source> {
		(0..blocks).map(|b| self.at(layer, section(b), rb)).collect()
	}

	/// A linear step: `a` (column tiles), the weight and bias of block `b`.
	fn linear(
		&self,
		layer: u32,
		which: Linear,
		b: u32,
		mut a: Vec<Source>,
		rb: u32,
		gelu: bool,
	) -> Step {
		let (first, Blocks { blocks, width }) = self.dims.linear(layer, which);
		a.extend([
			Source::Weight(first.saturating_add(b)),
			Source::Weight(first.saturating_add(blocks).saturating_add(b)),
		]);
		self.step_of(Op::Linear { gelu }, a, self.rows(rb), width)
	}

	/// An add-and-norm step: `x` (column tiles), the residual, γ and β.
	fn add_norm(
		&self,
		layer: u32,
		which: Norm,
		mut x: Vec<Source>,
		residual: u32,
		rb: u32,
	) -> Step {
		let gamma = self.dims.norm(layer, which);
		x.extend([
			Source::Step(residual),
			Source::Weight(gamma),
			Source::Weight(gamma.saturating_add(1)),
		]);
		self.step_of(Op::AddNorm { eps: self.dims.eps }, x, self.rows(rb), self.dims.hidden)
	}

	fn layer_step(&self, layer: u32, s: u32) -> Step {
		let (at, rb) = self.locate(s);
		let d = &self.dims;
		let x = self.layer_input(layer, rb);
		let attention_norm = self.index(layer, self.before(&LayerStep::AttentionNorm), rb);
		match at {
			LayerStep::Projection(which, h) => {
				self.linear(layer, which, h, alloc::vec![Source::Step(x)], rb, false)
			}
			LayerStep::Attention(h) => {
				let mut inputs =
					alloc::vec![self.at(layer, LayerStep::Projection(Linear::Query, h), rb)];
				for which in [Linear::Key, Linear::Value] {
					inputs.extend(
						(0..self.n).map(|r| self.at(layer, LayerStep::Projection(which, h), r)),
					);
				}
				let op = Op::Attention { first: rb.saturating_mul(ROW_BLOCK), causal: false };
				self.step_of(op, inputs, self.rows(rb), d.head.width)
			}
			LayerStep::AttentionOutput(b) => {
				let ctx = self.columns(layer, d.heads, LayerStep::Attention, rb);
				self.linear(layer, Linear::AttentionOutput, b, ctx, rb, false)
			}
			LayerStep::AttentionNorm => {
				let out =
					self.columns(layer, d.attention_output.blocks, LayerStep::AttentionOutput, rb);
				self.add_norm(layer, Norm::Attention, out, x, rb)
			}
			LayerStep::Intermediate(b) => {
				let a = alloc::vec![Source::Step(attention_norm)];
				self.linear(layer, Linear::Intermediate, b, a, rb, true)
			}
			LayerStep::Output(b) => {
				let inter = self.columns(layer, d.up.blocks, LayerStep::Intermediate, rb);
				self.linear(layer, Linear::Output, b, inter, rb, false)
			}
			LayerStep::OutputNorm => {
				let out = self.columns(layer, d.down.blocks, LayerStep::Output, rb);
				self.add_norm(layer, Norm::Output, out, attention_norm, rb)
			}
		}
	}
}
