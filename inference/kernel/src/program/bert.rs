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

use super::{Op, Program, Shape, Source, Step};
use crate::{KernelError, MAX_STEP_BYTES, ROW_BLOCK};

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

/// Tile indices of one linear layer's column blocks.
#[derive(Clone, Copy, Debug)]
struct LinearTiles {
	first: u32,
	blocks: u32,
	width: u32,
}

impl LinearTiles {
	fn weight(&self, block: u32) -> Source {
		Source::Weight(self.first.saturating_add(block))
	}
	fn bias(&self, block: u32) -> Source {
		Source::Weight(self.first.saturating_add(self.blocks).saturating_add(block))
	}
}

struct Layout {
	tiles: Vec<WeightTile>,
}

impl Layout {
	fn next(&self) -> u32 {
		self.tiles.len() as u32
	}

	fn rows(&mut self, tensor: Tensor, total: u32, per_tile: u32, cols: u32) -> u32 {
		let first = self.next();
		let mut row = 0;
		while row < total {
			let rows = per_tile.min(total.saturating_sub(row));
			self.tiles.push(WeightTile { tensor, row, col: 0, rows, cols });
			row = row.saturating_add(rows);
		}
		first
	}

	fn linear(&mut self, layer: u32, which: Linear, k: u32, n: u32, width: u32) -> LinearTiles {
		let first = self.next();
		let blocks = n.checked_div(width).unwrap_or(0);
		for bias in [false, true] {
			for b in 0..blocks {
				let col = b.saturating_mul(width);
				let rows = if bias { 1 } else { k };
				let tensor = Tensor::Linear { layer, which, bias };
				self.tiles.push(WeightTile { tensor, row: 0, col, rows, cols: width });
			}
		}
		LinearTiles { first, blocks, width }
	}

	fn norm(&mut self, tensor: impl Fn(bool) -> Tensor, d: u32) -> (Source, Source) {
		let gamma = self.next();
		self.tiles.push(WeightTile { tensor: tensor(false), row: 0, col: 0, rows: 1, cols: d });
		self.tiles.push(WeightTile { tensor: tensor(true), row: 0, col: 0, rows: 1, cols: d });
		(Source::Weight(gamma), Source::Weight(gamma.saturating_add(1)))
	}
}

/// Bytes of a `rows × cols` tile.
fn bytes(rows: u32, cols: u32) -> usize {
	Shape { rows, cols }.bytes()
}

/// The widest column block (a power of two up to 64 dividing `n`) for which
/// a linear step on a full row block fits in [`MAX_STEP_BYTES`].
fn column_block(k: u32, n: u32) -> Result<u32, KernelError> {
	[64u32, 32, 16, 8, 4, 2, 1]
		.into_iter()
		.find(|&w| {
			n.checked_rem(w) == Some(0)
				&& bytes(ROW_BLOCK, k)
					.saturating_add(bytes(k, w))
					.saturating_add(bytes(1, w))
					.saturating_add(bytes(ROW_BLOCK, w))
					<= MAX_STEP_BYTES
		})
		.ok_or(KernelError::UnsupportedShape)
}

/// The weight layout of a BERT encoder: every tile, in commitment order.
pub fn weight_layout(shape: &BertShape) -> Result<Vec<WeightTile>, KernelError> {
	Ok(compile_parts(shape)?.0.tiles)
}

struct BlockTiles {
	qkv: [LinearTiles; 3],
	attn_out: LinearTiles,
	attn_norm: (Source, Source),
	inter: LinearTiles,
	out: LinearTiles,
	out_norm: (Source, Source),
}

struct EmbeddingTiles {
	word: u32,
	position: u32,
	token_type: u32,
	norm: (Source, Source),
}

impl BertShape {
	/// Checks, without laying anything out, that this shape compiles: heads
	/// divide the width, and every linear layer has a column block whose step
	/// fits [`MAX_STEP_BYTES`]. Cheap enough for the runtime to call when a
	/// model is registered.
	pub fn check(&self) -> Result<(), KernelError> {
		let d = self.hidden;
		let head = d.checked_div(self.heads).ok_or(KernelError::UnsupportedShape)?;
		if head == 0
			|| head.saturating_mul(self.heads) != d
			|| self.vocab == 0
			|| self.max_positions == 0
			|| self.layers == 0
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
		column_block(d, d)?;
		column_block(d, self.intermediate)?;
		column_block(self.intermediate, d)?;
		Ok(())
	}
}

fn compile_parts(s: &BertShape) -> Result<(Layout, EmbeddingTiles, Vec<BlockTiles>), KernelError> {
	s.check()?;
	let d = s.hidden;
	let head = d.checked_div(s.heads).ok_or(KernelError::UnsupportedShape)?;
	let mut layout = Layout { tiles: Vec::new() };
	let emb = EmbeddingTiles {
		word: layout.rows(Tensor::Word, s.vocab, 1, d),
		position: layout.rows(Tensor::Position, s.max_positions, ROW_BLOCK, d),
		token_type: layout.rows(Tensor::TokenType, s.type_vocab.max(1), 1, d),
		norm: layout.norm(|beta| Tensor::EmbeddingNorm { beta }, d),
	};
	let wide = column_block(d, d)?;
	let inter_w = column_block(d, s.intermediate)?;
	let out_w = column_block(s.intermediate, d)?;
	let mut blocks = Vec::new();
	for l in 0..s.layers {
		let lin = |layout: &mut Layout, which, k, n, w| layout.linear(l, which, k, n, w);
		blocks.push(BlockTiles {
			qkv: [
				lin(&mut layout, Linear::Query, d, d, head),
				lin(&mut layout, Linear::Key, d, d, head),
				lin(&mut layout, Linear::Value, d, d, head),
			],
			attn_out: lin(&mut layout, Linear::AttentionOutput, d, d, wide),
			attn_norm: layout
				.norm(|beta| Tensor::Norm { layer: l, which: Norm::Attention, beta }, d),
			inter: lin(&mut layout, Linear::Intermediate, d, s.intermediate, inter_w),
			out: lin(&mut layout, Linear::Output, s.intermediate, d, out_w),
			out_norm: layout.norm(|beta| Tensor::Norm { layer: l, which: Norm::Output, beta }, d),
		});
	}
	Ok((layout, emb, blocks))
}

struct Emitter {
	steps: Vec<Step>,
}

impl Emitter {
	fn push(&mut self, op: Op, inputs: Vec<Source>, rows: u32, cols: u32) -> u32 {
		self.steps.push(Step { op, inputs, rows, cols });
		(self.steps.len() as u32).saturating_sub(1)
	}

	/// A linear layer over row blocks whose `A` column tiles are `a[rb]`;
	/// returns `out[block][rb]`.
	fn linear(
		&mut self,
		a: &[Vec<u32>],
		rows: &[u32],
		t: &LinearTiles,
		gelu: bool,
	) -> Vec<Vec<u32>> {
		(0..t.blocks)
			.map(|b| {
				a.iter()
					.zip(rows)
					.map(|(cols, &r)| {
						let mut inputs: Vec<Source> =
							cols.iter().map(|&i| Source::Step(i)).collect();
						inputs.push(t.weight(b));
						inputs.push(t.bias(b));
						self.push(Op::Linear { gelu }, inputs, r, t.width)
					})
					.collect()
			})
			.collect()
	}
}

/// Transposes `out[block][rb]` into per-row-block column lists `[rb][block]`.
fn by_row(out: &[Vec<u32>], row_blocks: usize) -> Vec<Vec<u32>> {
	(0..row_blocks).map(|rb| out.iter().filter_map(|b| b.get(rb).copied()).collect()).collect()
}

/// Compiles the encoder for a sequence of `seq_len` tokens. Returns the
/// program and the weight layout (independent of `seq_len`).
pub fn compile(shape: &BertShape, seq_len: u32) -> Result<(Program, Vec<WeightTile>), KernelError> {
	if seq_len == 0 || seq_len > shape.max_positions {
		return Err(KernelError::BadSequenceLength);
	}
	let (layout, emb, blocks) = compile_parts(shape)?;
	let d = shape.hidden;
	let eps = shape.eps;
	let rows: Vec<u32> = (0..seq_len)
		.step_by(ROW_BLOCK as usize)
		.map(|start| ROW_BLOCK.min(seq_len.saturating_sub(start)))
		.collect();
	let n_rb = rows.len();
	let mut e = Emitter { steps: Vec::new() };

	// Embeddings.
	let mut x: Vec<u32> = rows
		.iter()
		.zip(0u32..)
		.map(|(&r, rb)| {
			let first = rb.saturating_mul(ROW_BLOCK);
			let mut inputs: Vec<Source> = (first..first.saturating_add(r))
				.map(|position| Source::Token { table: emb.word, position })
				.collect();
			inputs.push(Source::Weight(emb.position.saturating_add(rb)));
			inputs.push(Source::Weight(emb.token_type));
			inputs.push(emb.norm.0);
			inputs.push(emb.norm.1);
			e.push(Op::Embed { eps }, inputs, r, d)
		})
		.collect();

	for block in &blocks {
		let a: Vec<Vec<u32>> = x.iter().map(|&i| alloc::vec![i]).collect();
		let [q, k, v] = block.qkv.map(|t| e.linear(&a, &rows, &t, false));
		// Attention, one step per head and query row block.
		let ctx: Vec<Vec<u32>> = (0..q.len())
			.map(|h| {
				rows.iter()
					.zip(0u32..)
					.map(|(&r, rb)| {
						let mut inputs = alloc::vec![Source::Step(q[h][rb as usize])];
						inputs.extend(k[h].iter().map(|&i| Source::Step(i)));
						inputs.extend(v[h].iter().map(|&i| Source::Step(i)));
						let first = rb.saturating_mul(ROW_BLOCK);
						let op = Op::Attention { first, causal: false };
						e.push(op, inputs, r, block.qkv[0].width)
					})
					.collect()
			})
			.collect();
		let attn = e.linear(&by_row(&ctx, n_rb), &rows, &block.attn_out, false);
		let h1: Vec<u32> = by_row(&attn, n_rb)
			.into_iter()
			.zip(&x)
			.zip(&rows)
			.map(|((cols, &res), &r)| {
				let mut inputs: Vec<Source> = cols.iter().map(|&i| Source::Step(i)).collect();
				inputs.extend([Source::Step(res), block.attn_norm.0, block.attn_norm.1]);
				e.push(Op::AddNorm { eps }, inputs, r, d)
			})
			.collect();
		let a: Vec<Vec<u32>> = h1.iter().map(|&i| alloc::vec![i]).collect();
		let inter = e.linear(&a, &rows, &block.inter, true);
		let out = e.linear(&by_row(&inter, n_rb), &rows, &block.out, false);
		x = by_row(&out, n_rb)
			.into_iter()
			.zip(&h1)
			.zip(&rows)
			.map(|((cols, &res), &r)| {
				let mut inputs: Vec<Source> = cols.iter().map(|&i| Source::Step(i)).collect();
				inputs.extend([Source::Step(res), block.out_norm.0, block.out_norm.1]);
				e.push(Op::AddNorm { eps }, inputs, r, d)
			})
			.collect();
	}

	let partials: Vec<Source> = x
		.iter()
		.zip(&rows)
		.map(|(&i, _)| Source::Step(e.push(Op::PoolSum, alloc::vec![Source::Step(i)], 1, d)))
		.collect();
	e.push(Op::PoolFinish { tokens: seq_len }, partials, 1, d);

	let program = Program { seq_len, steps: e.steps };
	let shapes: Vec<Shape> = layout.tiles.iter().map(|t| t.shape()).collect();
	program.check(&shapes, Shape { rows: 1, cols: d })?;
	Ok((program, layout.tiles))
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
