//! A llama decoder's weights as tiles, in commitment order:
//!
//! - every token-embedding row (`1 × hidden`, `embedding` format), so a
//!   token's row is tile `id`;
//! - per layer: the attention norm's γ (f32), each query head's weight rows,
//!   each key head's, each value head's, the attention output's column
//!   blocks, the MLP norm's γ, for each column block of the MLP the gate's
//!   rows then the up projection's, and the down projection's column blocks
//!   (all in `linear` format, one GGUF row per output);
//! - the final norm's γ, then the output layer's vocabulary tiles (the tied
//!   embedding's rows again, grouped as its steps read them; the last tile
//!   may be short).

use codec::{Decode, Encode};
use scale_info::TypeInfo;

use super::{Cuts, LlamaShape};
use crate::{
	program::tiling::{bytes, mul_add},
	quant::WeightFormat,
	KernelError,
};

/// Which tensor a weight tile is cut from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Encode, Decode, TypeInfo)]
pub enum LlamaTensor {
	Embedding,
	AttentionNorm,
	Query,
	Key,
	Value,
	AttentionOutput,
	MlpNorm,
	Gate,
	Up,
	Down,
	OutputNorm,
	/// The output layer: the token embedding, tied.
	Output,
}

/// One weight tile: `rows` rows from `row` of a tensor (of `layer`, for a
/// block's), each `cols` wide; quantized in `format`, or f32 when none.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Encode, Decode, TypeInfo)]
pub struct LlamaWeight {
	pub tensor: LlamaTensor,
	pub layer: u32,
	pub row: u32,
	pub rows: u32,
	pub cols: u32,
	pub format: Option<WeightFormat>,
}

impl LlamaWeight {
	/// Bytes of the tile's encoding.
	pub fn bytes(&self) -> usize {
		match self.format {
			None => bytes(self.rows, self.cols),
			Some(f) => f
				.row_bytes(self.cols as usize)
				.unwrap_or(0)
				.saturating_mul(self.rows as usize)
				.saturating_add(crate::tile::HEADER_BYTES),
		}
	}
}

/// Where each tensor's tiles start, in closed form.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Layout {
	pub(crate) shape: LlamaShape,
	pub(crate) cuts: Cuts,
	/// Tiles per layer.
	layer_tiles: u32,
	/// Where each tensor of a layer starts in it.
	offsets: LayerOffsets,
	/// The final norm's γ; the output tiles follow.
	pub(crate) output_norm: u32,
	/// Every weight tile.
	pub(crate) count: u32,
}

/// Offsets of a layer's tensors from the layer's first tile.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct LayerOffsets {
	query: u32,
	key: u32,
	value: u32,
	attention_output: u32,
	mlp_norm: u32,
	gate_up: u32,
	down: u32,
}

impl Layout {
	pub(crate) fn new(shape: &LlamaShape) -> Result<Self, KernelError> {
		let cuts = shape.cuts()?;
		let o = Self::offsets_of(shape, &cuts)?;
		let layer_tiles =
			o.down.checked_add(cuts.stream.blocks).ok_or(KernelError::UnsupportedShape)?;
		let output_norm = mul_add(layer_tiles, shape.layers, shape.vocab)?;
		let count = mul_add(1, output_norm, cuts.output.blocks.saturating_add(1))?;
		Ok(Self { shape: *shape, cuts, layer_tiles, offsets: o, output_norm, count })
	}

	fn offsets_of(s: &LlamaShape, cuts: &Cuts) -> Result<LayerOffsets, KernelError> {
		let add = |a: u32, b: u32| a.checked_add(b).ok_or(KernelError::UnsupportedShape);
		let query = 1;
		let key = add(query, s.heads)?;
		let value = add(key, s.kv_heads)?;
		let attention_output = add(value, s.kv_heads)?;
		let mlp_norm = add(attention_output, cuts.stream.blocks)?;
		let gate_up = add(mlp_norm, 1)?;
		let down = add(gate_up, cuts.gate_up.blocks.saturating_mul(2))?;
		Ok(LayerOffsets { query, key, value, attention_output, mlp_norm, gate_up, down })
	}

	fn layer(&self, layer: u32) -> u32 {
		self.shape.vocab.saturating_add(layer.saturating_mul(self.layer_tiles))
	}

	pub(crate) fn attention_norm(&self, layer: u32) -> u32 {
		self.layer(layer)
	}
	pub(crate) fn query(&self, layer: u32, head: u32) -> u32 {
		self.layer(layer).saturating_add(self.offsets.query).saturating_add(head)
	}
	pub(crate) fn key(&self, layer: u32, head: u32) -> u32 {
		self.layer(layer).saturating_add(self.offsets.key).saturating_add(head)
	}
	pub(crate) fn value(&self, layer: u32, head: u32) -> u32 {
		self.layer(layer).saturating_add(self.offsets.value).saturating_add(head)
	}
	pub(crate) fn attention_output(&self, layer: u32, block: u32) -> u32 {
		self.layer(layer).saturating_add(self.offsets.attention_output).saturating_add(block)
	}
	pub(crate) fn mlp_norm(&self, layer: u32) -> u32 {
		self.layer(layer).saturating_add(self.offsets.mlp_norm)
	}
	/// The gate's tile of column block `block`; the up projection's follows.
	pub(crate) fn gate(&self, layer: u32, block: u32) -> u32 {
		self.layer(layer)
			.saturating_add(self.offsets.gate_up)
			.saturating_add(block.saturating_mul(2))
	}
	pub(crate) fn down(&self, layer: u32, block: u32) -> u32 {
		self.layer(layer).saturating_add(self.offsets.down).saturating_add(block)
	}
	pub(crate) fn output(&self, block: u32) -> u32 {
		self.output_norm.saturating_add(1).saturating_add(block)
	}

	/// Weight tile `index`, or none past the last.
	pub(crate) fn tile(&self, index: u32) -> Option<LlamaWeight> {
		let s = &self.shape;
		let (head, stream, gate_up, output) =
			(self.cuts.head, self.cuts.stream, self.cuts.gate_up, self.cuts.output);
		let w = |tensor, layer, row, rows, cols, format| {
			Some(LlamaWeight { tensor, layer, row, rows, cols, format })
		};
		let (linear, embedding) = (Some(s.linear), Some(s.embedding));
		if index < s.vocab {
			return w(LlamaTensor::Embedding, 0, index, 1, s.hidden, embedding);
		}
		if index >= self.count {
			return None;
		}
		if index >= self.output_norm {
			let t = index.checked_sub(self.output_norm)?;
			if t == 0 {
				return w(LlamaTensor::OutputNorm, 0, 0, 1, s.hidden, None);
			}
			let row = t.checked_sub(1)?.checked_mul(output.width)?;
			let rows = output.width.min(s.vocab.checked_sub(row)?);
			return w(LlamaTensor::Output, 0, row, rows, s.hidden, embedding);
		}
		let rel = index.checked_sub(s.vocab)?;
		let layer = rel.checked_div(self.layer_tiles)?;
		let at = rel.checked_rem(self.layer_tiles)?;
		let o = self.offsets;
		let from = |first: u32| at.checked_sub(first);
		if at == 0 {
			w(LlamaTensor::AttentionNorm, layer, 0, 1, s.hidden, None)
		} else if at < o.key {
			w(LlamaTensor::Query, layer, from(o.query)?.checked_mul(head)?, head, s.hidden, linear)
		} else if at < o.value {
			w(LlamaTensor::Key, layer, from(o.key)?.checked_mul(head)?, head, s.hidden, linear)
		} else if at < o.attention_output {
			w(LlamaTensor::Value, layer, from(o.value)?.checked_mul(head)?, head, s.hidden, linear)
		} else if at < o.mlp_norm {
			let row = from(o.attention_output)?.checked_mul(stream.width)?;
			w(LlamaTensor::AttentionOutput, layer, row, stream.width, s.hidden, linear)
		} else if at == o.mlp_norm {
			w(LlamaTensor::MlpNorm, layer, 0, 1, s.hidden, None)
		} else if at < o.down {
			let t = from(o.gate_up)?;
			let tensor = if t.is_multiple_of(2) { LlamaTensor::Gate } else { LlamaTensor::Up };
			let row = (t / 2).checked_mul(gate_up.width)?;
			w(tensor, layer, row, gate_up.width, s.hidden, linear)
		} else {
			let row = from(o.down)?.checked_mul(stream.width)?;
			w(LlamaTensor::Down, layer, row, stream.width, s.intermediate, linear)
		}
	}
}

/// Every weight tile of `shape`'s layout, in commitment order.
pub fn weight_layout(shape: &LlamaShape) -> Result<alloc::vec::Vec<LlamaWeight>, KernelError> {
	let layout = Layout::new(shape)?;
	(0..layout.count).map(|i| layout.tile(i).ok_or(KernelError::UnsupportedShape)).collect()
}

impl LlamaShape {
	/// How many weight tiles this shape lays out.
	pub fn weight_count(&self) -> Result<u32, KernelError> {
		Layout::new(self).map(|l| l.count)
	}

	/// Weight tile `index` of this shape's layout: which tensor's rows it
	/// holds and in what format; none past the last.
	pub fn weight_tile(&self, index: u32) -> Result<Option<LlamaWeight>, KernelError> {
		Layout::new(self).map(|l| l.tile(index))
	}
}
