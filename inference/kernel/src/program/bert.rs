//! Compiles a BERT encoder with mean pooling and L2 normalisation (the
//! sentence-transformers recipe of all-MiniLM-L6-v2) to a [`Program`], and
//! lays its weights out as tiles.
//!
//! Weight tiles, in commitment order: every word-embedding row (`1 × d`),
//! position embeddings in [`ROW_BLOCK`]-row tiles, every token-type row, the
//! embedding layer norm's γ and β; then per layer, for each linear layer
//! (query, key, value, attention output, intermediate, output) its
//! transposed weight (`in × out`) in column blocks followed by the bias in
//! the same column blocks, and each layer norm's γ and β.

use alloc::vec::Vec;
use codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
use scale_info::TypeInfo;

use super::{
	tiling::{bytes, mul_add, row_blocks, Blocks},
	Program, Shape,
};
use crate::{KernelError, MAX_STEP_BYTES, ROW_BLOCK};

mod plan;
pub use plan::Plan;

/// The shape of a BERT encoder: what the program and weight layout depend on.
#[derive(
	Clone,
	Copy,
	Debug,
	PartialEq,
	Eq,
	Encode,
	Decode,
	DecodeWithMemTracking,
	MaxEncodedLen,
	TypeInfo,
)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct BertShape {
	pub vocab: u32,
	pub hidden: u32,
	pub layers: u32,
	pub heads: u32,
	pub intermediate: u32,
	pub max_positions: u32,
	pub type_vocab: u32,
	/// Layer-norm ε as f32 bits.
	pub eps: u32,
}

/// A linear layer of an encoder block.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Encode, Decode, TypeInfo)]
pub enum Linear {
	Query,
	Key,
	Value,
	AttentionOutput,
	Intermediate,
	Output,
}

/// A layer norm of an encoder block.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Encode, Decode, TypeInfo)]
pub enum Norm {
	Attention,
	Output,
}

/// Which tensor (and which part of it) a weight tile holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Encode, Decode, TypeInfo)]
pub enum Tensor {
	/// Rows of the word-embedding table.
	Word,
	/// Rows of the position-embedding table.
	Position,
	/// Rows of the token-type table.
	TokenType,
	/// The embedding layer norm's γ (`false`) or β (`true`).
	EmbeddingNorm { beta: bool },
	/// A linear layer's weight, transposed to `in × out`, or its bias.
	Linear { layer: u32, which: Linear, bias: bool },
	/// A block layer norm's γ or β.
	Norm { layer: u32, which: Norm, beta: bool },
}

/// One weight tile: a `rows × cols` window at (`row`, `col`) of a tensor.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Encode, Decode, TypeInfo)]
pub struct WeightTile {
	pub tensor: Tensor,
	pub row: u32,
	pub col: u32,
	pub rows: u32,
	pub cols: u32,
}

impl WeightTile {
	/// The tile's shape.
	pub fn shape(&self) -> Shape {
		Shape { rows: self.rows, cols: self.cols }
	}
}

impl BertShape {
	/// Checks, without laying anything out, that this shape compiles: heads
	/// divide the width, and every linear layer has a column block whose step
	/// fits [`MAX_STEP_BYTES`]. Cheap enough for the runtime to call when a
	/// model is registered.
	pub fn check(&self) -> Result<(), KernelError> {
		Dims::new(self).map(|_| ())
	}
}

/// What a shape's programs and weight layout are made of, in closed form:
/// each linear layer's column blocks and the index of every weight tensor's
/// first tile. Computed once from the shape, in constant time.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Dims {
	pub hidden: u32,
	pub heads: u32,
	pub layers: u32,
	pub eps: u32,
	pub vocab: u32,
	pub max_positions: u32,
	pub type_vocab: u32,
	pub intermediate: u32,
	/// Query, key and value: one head per block.
	pub head: Blocks,
	pub attention_output: Blocks,
	pub up: Blocks,
	pub down: Blocks,
	/// First tile of the position embeddings (word rows start at 0).
	pub position: u32,
	/// First token-type row.
	pub token_type: u32,
	/// The embedding layer norm's γ (β follows).
	pub embedding_norm: u32,
	/// First tile of layer 0.
	pub first_layer: u32,
	/// Tiles per layer.
	pub layer_tiles: u32,
	/// Every weight tile.
	pub weight_count: u32,
}

impl Dims {
	pub(crate) fn new(s: &BertShape) -> Result<Self, KernelError> {
		let d = s.hidden;
		let head = d.checked_div(s.heads).ok_or(KernelError::UnsupportedShape)?;
		if head == 0
			|| head.saturating_mul(s.heads) != d
			|| s.vocab == 0
			|| s.max_positions == 0
			|| s.layers == 0
		{
			return Err(KernelError::UnsupportedShape);
		}
		// Query, key and value blocks are one head wide, so a head's attention
		// reads whole tiles.
		if bytes(ROW_BLOCK, d).saturating_add(bytes(d, head)).saturating_add(bytes(1, head))
			> MAX_STEP_BYTES
		{
			return Err(KernelError::UnsupportedShape);
		}
		let attention_output = Blocks::of_linear(d, d)?;
		let up = Blocks::of_linear(d, s.intermediate)?;
		let down = Blocks::of_linear(s.intermediate, d)?;
		let position = s.vocab;
		let token_type = position
			.checked_add(row_blocks(s.max_positions))
			.ok_or(KernelError::UnsupportedShape)?;
		let embedding_norm =
			token_type.checked_add(s.type_vocab.max(1)).ok_or(KernelError::UnsupportedShape)?;
		let first_layer = mul_add(1, embedding_norm, 2)?;
		// Query, key, value (weights and biases), the attention output, its
		// norm, the intermediate and output layers, their norm.
		let linear_blocks = [s.heads, s.heads, s.heads, attention_output.blocks, up.blocks]
			.into_iter()
			.try_fold(down.blocks, |acc, b| acc.checked_add(b))
			.ok_or(KernelError::UnsupportedShape)?;
		let layer_tiles = mul_add(linear_blocks, 2, 4)?;
		let weight_count = mul_add(layer_tiles, s.layers, first_layer)?;
		Ok(Self {
			hidden: d,
			heads: s.heads,
			layers: s.layers,
			eps: s.eps,
			vocab: s.vocab,
			max_positions: s.max_positions,
			type_vocab: s.type_vocab.max(1),
			intermediate: s.intermediate,
			head: Blocks { blocks: s.heads, width: head },
			attention_output,
			up,
			down,
			position,
			token_type,
			embedding_norm,
			first_layer,
			layer_tiles,
			weight_count,
		})
	}

	/// The input size and column blocks of `which`.
	fn linear_dims(&self, which: Linear) -> (u32, Blocks) {
		match which {
			Linear::Query | Linear::Key | Linear::Value => (self.hidden, self.head),
			Linear::AttentionOutput => (self.hidden, self.attention_output),
			Linear::Intermediate => (self.hidden, self.up),
			Linear::Output => (self.intermediate, self.down),
		}
	}

	/// Index of the first weight tile of `which` in layer `layer`; its
	/// biases follow its `blocks` weight tiles. Every index below
	/// `weight_count` fits, so for `layer < layers` this cannot overflow.
	pub(crate) fn linear(&self, layer: u32, which: Linear) -> (u32, Blocks) {
		let before = match which {
			Linear::Query => 0,
			Linear::Key => self.heads,
			Linear::Value => self.heads.saturating_mul(2),
			Linear::AttentionOutput => self.heads.saturating_mul(3),
			Linear::Intermediate => {
				self.heads.saturating_mul(3).saturating_add(self.attention_output.blocks)
			}
			Linear::Output => self
				.heads
				.saturating_mul(3)
				.saturating_add(self.attention_output.blocks)
				.saturating_add(self.up.blocks),
		};
		// One norm (two tiles) sits between the attention output and the
		// intermediate layer.
		let norms = if matches!(which, Linear::Intermediate | Linear::Output) { 2 } else { 0 };
		let first =
			self.layer_base(layer).saturating_add(before.saturating_mul(2)).saturating_add(norms);
		(first, self.linear_dims(which).1)
	}

	/// Index of the γ tile of norm `which` in layer `layer` (β follows).
	pub(crate) fn norm(&self, layer: u32, which: Norm) -> u32 {
		let (first, blocks) = match which {
			Norm::Attention => self.linear(layer, Linear::AttentionOutput),
			Norm::Output => self.linear(layer, Linear::Output),
		};
		first.saturating_add(blocks.blocks.saturating_mul(2))
	}

	fn layer_base(&self, layer: u32) -> u32 {
		self.layer_tiles.saturating_mul(layer).saturating_add(self.first_layer)
	}

	/// Every weight tile, in commitment order.
	fn layout(&self) -> Vec<WeightTile> {
		let d = self.hidden;
		let mut tiles = Vec::with_capacity(self.weight_count as usize);
		let rows = |tiles: &mut Vec<WeightTile>, tensor: Tensor, total: u32, per_tile: u32| {
			let mut row = 0;
			while row < total {
				let rows = per_tile.min(total.saturating_sub(row));
				tiles.push(WeightTile { tensor, row, col: 0, rows, cols: d });
				row = row.saturating_add(rows);
			}
		};
		rows(&mut tiles, Tensor::Word, self.vocab, 1);
		rows(&mut tiles, Tensor::Position, self.max_positions, ROW_BLOCK);
		rows(&mut tiles, Tensor::TokenType, self.type_vocab, 1);
		for beta in [false, true] {
			rows(&mut tiles, Tensor::EmbeddingNorm { beta }, 1, 1);
		}
		for layer in 0..self.layers {
			let linear = |tiles: &mut Vec<WeightTile>, which: Linear| {
				let (k, Blocks { blocks, width }) = self.linear_dims(which);
				for bias in [false, true] {
					for b in 0..blocks {
						let col = b.saturating_mul(width);
						let rows = if bias { 1 } else { k };
						let tensor = Tensor::Linear { layer, which, bias };
						tiles.push(WeightTile { tensor, row: 0, col, rows, cols: width });
					}
				}
			};
			for which in [Linear::Query, Linear::Key, Linear::Value, Linear::AttentionOutput] {
				linear(&mut tiles, which);
			}
			for beta in [false, true] {
				rows(&mut tiles, Tensor::Norm { layer, which: Norm::Attention, beta }, 1, 1);
			}
			linear(&mut tiles, Linear::Intermediate);
			linear(&mut tiles, Linear::Output);
			for beta in [false, true] {
				rows(&mut tiles, Tensor::Norm { layer, which: Norm::Output, beta }, 1, 1);
			}
		}
		tiles
	}
}

/// The weight layout of a BERT encoder: every tile, in commitment order.
pub fn weight_layout(shape: &BertShape) -> Result<Vec<WeightTile>, KernelError> {
	Ok(Dims::new(shape)?.layout())
}

/// Compiles the encoder for a sequence of `seq_len` tokens: every step of
/// its [`Plan`], checked against the byte limit. Returns the program and
/// the weight layout (independent of `seq_len`).
pub fn compile(shape: &BertShape, seq_len: u32) -> Result<(Program, Vec<WeightTile>), KernelError> {
	let layout = weight_layout(shape)?;
	let shapes: Vec<Shape> = layout.iter().map(|t| t.shape()).collect();
	Ok((compile_program(shape, seq_len, &shapes)?, layout))
}

/// [`compile`]'s program alone, checked against the weight tiles' shapes
/// (in layout order) that a caller holding the model already has, without
/// laying the weights out again (31,662 tiles for all-MiniLM-L6-v2).
pub fn compile_program(
	shape: &BertShape,
	seq_len: u32,
	weights: &[Shape],
) -> Result<Program, KernelError> {
	let plan = Plan::new(shape, seq_len)?;
	if weights.len() != plan.weight_count() as usize {
		return Err(KernelError::BadSource);
	}
	let steps = (0..plan.len()).map(|i| plan.step(i)).collect::<Result<Vec<_>, _>>()?;
	let program = Program { seq_len, steps };
	program.check(weights, Shape { rows: 1, cols: shape.hidden })?;
	Ok(program)
}

/// Commitment to how a BERT encoder of `shape` compiles, for every sequence
/// length: `blake2_256("cinder/bert" ‖ kernel spec ‖ SCALE(shape))`. With
/// the shape and a sequence length, anyone (the runtime included) recompiles
/// the same program and so the same step descriptors.
pub fn program_hash(shape: &BertShape) -> crate::merkle::Hash {
	let mut buf = alloc::vec::Vec::from(&b"cinder/bert"[..]);
	buf.extend_from_slice(&crate::KERNEL_SPEC_V1.to_le_bytes());
	buf.extend_from_slice(&shape.encode());
	sp_crypto_hashing::blake2_256(&buf)
}
