//! Programs: the flat list of tiled steps a model compiles to.
//!
//! A [`Step`] is one operator ([`Op`]) producing one output tile from input
//! tiles it names by [`Source`]. Steps only read earlier steps, so the list is
//! topologically ordered. The program for a model depends only on the
//! model's shape and the sequence length; its [`Program::root`] commits to it.

use alloc::vec::Vec;
use codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
use scale_info::TypeInfo;

use crate::{merkle, KernelError, MAX_STEP_BYTES};

pub mod bert;
pub mod llama;
pub(crate) mod tiling;

/// Where an input tile comes from.
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
pub enum Source {
	/// The output of an earlier step.
	Step(u32),
	/// A weight tile, by index in the model's weight layout.
	Weight(u32),
	/// The embedding row of the token at sequence position `position`: the
	/// weight tile `table + ids[position]`, known once the input is.
	Token { table: u32, position: u32 },
	/// The embedding row of the token that step `step` sampled (a
	/// [`Op::Sample`] step, whose `1 × 1` output holds the id): the weight
	/// tile `table + id`, known once that step has run.
	Sampled { table: u32, step: u32 },
}

/// A source with the input's token ids applied.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Resolved {
	/// The output of an earlier step.
	Step(u32),
	/// A weight tile.
	Weight(u32),
}

/// The operators of kernel spec v1. Their arithmetic is in [`crate::ops`];
/// the input order each expects is documented on the variant.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Encode, Decode, DecodeWithMemTracking, TypeInfo)]
pub enum Op {
	/// `LayerNorm(word + position + type)` per row. Inputs: one `1 × d` word
	/// row per output row, the position tile (at least as many rows), the
	/// token-type row, γ, β. `eps` is the f32 bit pattern of ε.
	Embed { eps: u32 },
	/// `out = A·W + b`, then GELU when `gelu`. Inputs: the column tiles of
	/// `A` (left to right, same rows as the output), `W` (`k × cols`), `b`
	/// (`1 × cols`).
	Linear { gelu: bool },
	/// `LayerNorm(X + residual)` per row. Inputs: the column tiles of `X`,
	/// the residual (`rows × cols`), γ, β.
	AddNorm { eps: u32 },
	/// One head of attention for a block of query rows starting at sequence
	/// position `first`. Inputs: `Q` (`rows × d`), then every `K` row tile,
	/// then every `V` row tile, in sequence order.
	Attention { first: u32, causal: bool },
	/// Column sums of one row tile (`1 × cols` out).
	PoolSum,
	/// Sum of the partial sums (in order), divided by `tokens`, then L2
	/// normalised. Inputs: the `1 × cols` partial sums.
	PoolFinish { tokens: u32 },
	// Kernel spec v2 (llama-family decoders), arithmetic in [`crate::quant`],
	// [`crate::decoder`] and [`crate::sampler`]. Quantized weight tiles hold
	// one GGUF row per output column.
	/// Dequantizes one embedding row per output row. Inputs: the quantized
	/// `1 × k` rows; the output is columns `column .. column + cols` of them.
	Lookup { column: u32 },
	/// RMSNorm of rows `first_row ..` of `X`. Inputs: the column tiles of
	/// `X`, γ (`1 × cols`). `eps` is ε's f32 bits.
	RmsNorm { eps: u32, first_row: u32 },
	/// `out = X·Wᵀ` in spec v2 (each row quantized once), then RoPE on each
	/// head of `rope`'s width at positions `first ..` when given, then `+
	/// residual` when `residual`. Inputs: the column tiles of `X`, `W`
	/// (`cols` quantized rows), then the residual (`rows × cols`) if any.
	QLinear { rope: Option<Rope>, residual: bool },
	/// `silu(X·Gᵀ) · (X·Uᵀ)`, `X` quantized once. Inputs: `X`, `G`, `U`.
	GateUp,
	/// One query head's causal attention over a chunk of keys, the query
	/// rows at positions `first ..`, the keys at `first_key ..` in order.
	/// Inputs: `Q` (`rows × d`), the `K` tiles, the `V` tiles (same rows
	/// each). Output: `rows × d` normalised when `finish`, else the
	/// [`crate::decoder::Partial`]s as `rows × (d + 2)` (max, sum, out).
	Attend { first: u32, first_key: u32, finish: bool },
	/// Merges attention partials, given in key order. Inputs: the
	/// `rows × (d + 2)` partial tiles.
	Combine,
	/// Samples the next token from one row of logits (the column tiles, in
	/// order): `index` is the draw's counter in the request's random
	/// stream. Output: `1 × 1`, the id as f32 (exact below 2²⁴).
	Sample { sampling: crate::sampler::Sampling, index: u32 },
	/// The generated tokens side by side: a generation program's last step,
	/// so the reply a worker posts is bound to its trace by one leaf.
	/// Inputs: every sample step's `1 × 1` output, in order; output `1 × n`.
	Collect,
}

/// Rotary position embedding on a projection's output.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Encode, Decode, DecodeWithMemTracking, TypeInfo)]
pub struct Rope {
	/// Sequence position of the first row.
	pub first: u32,
	/// Values per head: each head is rotated on its own.
	pub head: u32,
	/// θ as f32 bits.
	pub theta: u32,
}

/// One step: an operator, the tiles it reads, and its output shape.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode, DecodeWithMemTracking, TypeInfo)]
pub struct Step {
	pub op: Op,
	pub inputs: Vec<Source>,
	pub rows: u32,
	pub cols: u32,
}

impl Step {
	/// The sources with token ids applied; errors on a position past the
	/// input, an id outside `vocab`, or a sampled token (which only
	/// [`Step::resolve_with`] knows).
	pub fn resolve(&self, ids: &[u32], vocab: u32) -> Result<Vec<Resolved>, KernelError> {
		self.resolve_with(ids, vocab, |_| None)
	}

	/// [`Step::resolve`] with `sampled(step)`, the id a sample step drew.
	pub fn resolve_with(
		&self,
		ids: &[u32],
		vocab: u32,
		sampled: impl Fn(u32) -> Option<u32>,
	) -> Result<Vec<Resolved>, KernelError> {
		let row = |table: u32, id: u32| {
			if id >= vocab {
				return Err(KernelError::TokenOutOfRange);
			}
			table.checked_add(id).map(Resolved::Weight).ok_or(KernelError::BadSource)
		};
		self.inputs
			.iter()
			.map(|s| match *s {
				Source::Step(i) => Ok(Resolved::Step(i)),
				Source::Weight(i) => Ok(Resolved::Weight(i)),
				Source::Token { table, position } => {
					row(table, *ids.get(position as usize).ok_or(KernelError::BadSource)?)
				}
				Source::Sampled { table, step } => {
					row(table, sampled(step).ok_or(KernelError::BadSource)?)
				}
			})
			.collect()
	}

	/// This step's leaf in the program tree: `blake2_256(0x00 ‖ index ‖ SCALE(step))`.
	pub fn leaf(&self, index: u32) -> merkle::Hash {
		merkle::leaf_hash(index, &self.encode())
	}
}

/// The shape of one weight tile: rows × cols of f32.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Encode, Decode, TypeInfo)]
pub struct Shape {
	pub rows: u32,
	pub cols: u32,
}

impl Shape {
	/// Encoded size of a tile of this shape.
	pub fn bytes(&self) -> usize {
		(self.rows as usize)
			.saturating_mul(self.cols as usize)
			.saturating_mul(4)
			.saturating_add(crate::tile::HEADER_BYTES)
	}
}

/// A compiled program.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode, TypeInfo)]
pub struct Program {
	/// Sequence length this program is for.
	pub seq_len: u32,
	/// The steps, topologically ordered; the last one is the output.
	pub steps: Vec<Step>,
}

impl Program {
	/// Number of steps (and so of trace leaves).
	pub fn len(&self) -> u32 {
		self.steps.len() as u32
	}

	/// Whether the program has no steps.
	pub fn is_empty(&self) -> bool {
		self.steps.is_empty()
	}

	/// The Merkle root over the steps' leaves: the program commitment.
	pub fn root(&self) -> merkle::Hash {
		let leaves: Vec<_> = self.steps.iter().zip(0u32..).map(|(s, i)| s.leaf(i)).collect();
		merkle::root(&leaves)
	}

	/// Checks the program is well formed: every step reads only earlier
	/// steps and existing weight tiles, and its inputs plus output fit in
	/// [`MAX_STEP_BYTES`]. Token rows are sized as `token_row`.
	pub fn check(&self, weights: &[Shape], token_row: Shape) -> Result<(), KernelError> {
		self.check_bytes(|w| weights.get(w as usize).map(Shape::bytes), token_row.bytes())
	}

	/// [`Program::check`] with weight tiles sized by `weight_bytes(index)`
	/// (quantized tiles are not `rows × cols` f32) and token rows by
	/// `token_row` bytes; a sampled token's step must be earlier, and a
	/// [`Op::Sample`].
	pub fn check_bytes(
		&self,
		weight_bytes: impl Fn(u32) -> Option<usize>,
		token_row: usize,
	) -> Result<(), KernelError> {
		for (i, step) in self.steps.iter().enumerate() {
			let mut bytes = Shape { rows: step.rows, cols: step.cols }.bytes();
			for source in &step.inputs {
				let earlier = |j: u32| {
					self.steps
						.get(j as usize)
						.filter(|_| (j as usize) < i)
						.ok_or(KernelError::BadSource)
				};
				bytes = bytes.saturating_add(match *source {
					Source::Step(j) => {
						let s = earlier(j)?;
						Shape { rows: s.rows, cols: s.cols }.bytes()
					}
					Source::Weight(w) => weight_bytes(w).ok_or(KernelError::BadSource)?,
					Source::Token { .. } => token_row,
					Source::Sampled { step, .. } => {
						if !matches!(earlier(step)?.op, Op::Sample { .. }) {
							return Err(KernelError::BadSource);
						}
						token_row
					}
				});
			}
			if bytes > MAX_STEP_BYTES {
				return Err(KernelError::StepTooLarge);
			}
		}
		Ok(())
	}
}
