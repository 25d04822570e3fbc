//! How any model's program is cut into tiles: activations in row blocks of
//! [`ROW_BLOCK`] tokens, linear layers in column blocks as wide as fits,
//! every step's inputs plus output within [`MAX_STEP_BYTES`]. Shared by the
//! architectures under `program/`.

use super::Shape;
use crate::{KernelError, MAX_STEP_BYTES, ROW_BLOCK};

/// Bytes of a `rows × cols` tile.
pub(crate) fn bytes(rows: u32, cols: u32) -> usize {
	Shape { rows, cols }.bytes()
}

/// The widest column block (a power of two up to 64 dividing `n`) for which
/// a linear step from `k` to the block on a full row block (input, weight
/// and bias tiles, output) fits in [`MAX_STEP_BYTES`].
pub(crate) fn column_block(k: u32, n: u32) -> Result<u32, KernelError> {
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

/// A linear layer's output columns, cut into `blocks` tiles of `width`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Blocks {
	pub blocks: u32,
	pub width: u32,
}

impl Blocks {
	/// `n` columns in blocks of `width`.
	pub(crate) fn new(n: u32, width: u32) -> Self {
		Self { blocks: n.checked_div(width).unwrap_or(0), width }
	}

	/// A linear layer from `k` to `n` in the widest blocks that fit.
	pub(crate) fn of_linear(k: u32, n: u32) -> Result<Self, KernelError> {
		Ok(Self::new(n, column_block(k, n)?))
	}
}

/// Row blocks of a sequence of `len` tokens.
pub(crate) fn row_blocks(len: u32) -> u32 {
	len.div_ceil(ROW_BLOCK)
}

/// Rows of row block `rb` of a sequence of `len` tokens (the last may be
/// short; past the end, none).
pub(crate) fn rows_of_block(len: u32, rb: u32) -> u32 {
	ROW_BLOCK.min(len.saturating_sub(rb.saturating_mul(ROW_BLOCK)))
}

/// `a · b + c`, or an unsupported shape if it overflows.
pub(crate) fn mul_add(a: u32, b: u32, c: u32) -> Result<u32, KernelError> {
	a.checked_mul(b).and_then(|x| x.checked_add(c)).ok_or(KernelError::UnsupportedShape)
}

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn row_blocks_cover_the_sequence() {
		assert_eq!(row_blocks(1), 1);
		assert_eq!(row_blocks(ROW_BLOCK), 1);
		assert_eq!(row_blocks(ROW_BLOCK + 1), 2);
		assert_eq!(rows_of_block(ROW_BLOCK + 1, 0), ROW_BLOCK);
		assert_eq!(rows_of_block(ROW_BLOCK + 1, 1), 1);
		assert_eq!(rows_of_block(ROW_BLOCK + 1, 2), 0);
	}

	#[test]
	fn column_blocks_are_as_wide_as_fit() {
		// MiniLM: 384 → 384 and 384 → 1536 take 64 columns; 1536 → 384 only
		// 16 (at 32 the input and weight tiles alone are 288 KiB).
		assert_eq!(column_block(384, 384).ok(), Some(64));
		assert_eq!(column_block(1536, 384).ok(), Some(16));
		// Too wide an input for even one column.
		assert_eq!(column_block(1 << 20, 8), Err(KernelError::UnsupportedShape));
		// Blocks divide the layer.
		assert_eq!(Blocks::of_linear(384, 1536).ok(), Some(Blocks { blocks: 24, width: 64 }));
		assert_eq!(column_block(384, 24).ok(), Some(8));
	}
}
