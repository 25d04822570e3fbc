//! Quantized weight tiles (kernel spec v2): `rows` GGUF rows of `cols`
//! values each, in one [`WeightFormat`], kept as the file stores them.
//!
//! The encoding is the f32 tile's header (rows and cols, u32 little endian)
//! followed by the rows' block bytes, unchanged. It does not name the
//! format: a weight layout says which tiles are quantized and how, so the
//! bytes a Merkle leaf commits to are exactly the file's.

use alloc::vec::Vec;

use crate::{quant::WeightFormat, tile::HEADER_BYTES, KernelError, Tile};

/// `rows` quantized rows of `cols` values.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct QTile {
	pub format: WeightFormat,
	pub rows: u32,
	pub cols: u32,
	pub data: Vec<u8>,
}

impl QTile {
	/// A tile from its shape and block bytes; errors unless `cols` is a
	/// whole number of blocks and `data` is exactly `rows` such rows.
	pub fn new(
		format: WeightFormat,
		rows: u32,
		cols: u32,
		data: Vec<u8>,
	) -> Result<Self, KernelError> {
		let row = format.row_bytes(cols as usize).ok_or(KernelError::MalformedTile)?;
		if Some(data.len()) != row.checked_mul(rows as usize) {
			return Err(KernelError::MalformedTile);
		}
		Ok(Self { format, rows, cols, data })
	}

	/// Bytes of one row.
	pub fn row_bytes(&self) -> usize {
		self.format.row_bytes(self.cols as usize).unwrap_or(0)
	}

	/// Number of bytes of the encoding.
	pub fn encoded_len(&self) -> usize {
		self.data.len().saturating_add(HEADER_BYTES)
	}

	/// The encoding's header: rows and cols, u32 little endian.
	pub fn header(&self) -> [u8; HEADER_BYTES] {
		let mut header = [0u8; HEADER_BYTES];
		header[..4].copy_from_slice(&self.rows.to_le_bytes());
		header[4..].copy_from_slice(&self.cols.to_le_bytes());
		header
	}

	/// The encoding: the header, then the block bytes.
	pub fn to_bytes(&self) -> Vec<u8> {
		let mut out = Vec::with_capacity(self.encoded_len());
		out.extend_from_slice(&self.header());
		out.extend_from_slice(&self.data);
		out
	}

	/// Decodes [`QTile::to_bytes`]' encoding as `format`, rejecting
	/// trailing or missing bytes.
	pub fn from_bytes(format: WeightFormat, bytes: &[u8]) -> Result<Self, KernelError> {
		let (header, body) =
			bytes.split_at_checked(HEADER_BYTES).ok_or(KernelError::MalformedTile)?;
		let (r, c) = header.split_at(4);
		let rows = u32::from_le_bytes(r.try_into().map_err(|_| KernelError::MalformedTile)?);
		let cols = u32::from_le_bytes(c.try_into().map_err(|_| KernelError::MalformedTile)?);
		Self::new(format, rows, cols, body.to_vec())
	}
}

/// A step's input: an f32 tile (activations, norms' γ) or a quantized
/// weight tile.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Input<'a> {
	F32(&'a Tile),
	Quant(&'a QTile),
}

impl<'a> Input<'a> {
	/// The f32 tile, or a shape mismatch for a quantized one.
	pub fn f32(self) -> Result<&'a Tile, KernelError> {
		match self {
			Input::F32(t) => Ok(t),
			Input::Quant(_) => Err(KernelError::ShapeMismatch),
		}
	}

	/// The quantized tile, or a shape mismatch for an f32 one.
	pub fn quant(self) -> Result<&'a QTile, KernelError> {
		match self {
			Input::Quant(t) => Ok(t),
			Input::F32(_) => Err(KernelError::ShapeMismatch),
		}
	}

	/// Bytes of its encoding.
	pub fn encoded_len(self) -> usize {
		match self {
			Input::F32(t) => t.encoded_len(),
			Input::Quant(t) => t.encoded_len(),
		}
	}
}

/// An owned weight tile of either kind.
#[derive(Clone, Debug, PartialEq)]
pub enum Weight {
	F32(Tile),
	Quant(QTile),
}

impl Weight {
	/// Its leaf in a model's weight tree at `index`: `blake2_256(0x00 ‖
	/// index ‖ encoding)`, as every trace leaf is.
	pub fn leaf(&self, index: u32) -> crate::merkle::Hash {
		match self {
			Weight::F32(t) => crate::merkle::tile_leaf(index, t),
			Weight::Quant(q) => crate::merkle::leaf_hash(index, &q.to_bytes()),
		}
	}

	/// Borrowed as a step input.
	pub fn input(&self) -> Input<'_> {
		match self {
			Weight::F32(t) => Input::F32(t),
			Weight::Quant(t) => Input::Quant(t),
		}
	}

	/// Its encoding: a tile's, or a quantized tile's header and blocks.
	pub fn to_bytes(&self) -> Vec<u8> {
		match self {
			Weight::F32(t) => t.to_bytes(),
			Weight::Quant(q) => q.to_bytes(),
		}
	}

	/// The tile `bytes` encode: quantized in `format`, or f32 when none.
	pub fn from_bytes(format: Option<WeightFormat>, bytes: &[u8]) -> Result<Self, KernelError> {
		match format {
			None => Tile::from_bytes(bytes).map(Weight::F32),
			Some(f) => QTile::from_bytes(f, bytes).map(Weight::Quant),
		}
	}
}

#[cfg(test)]
#[allow(clippy::indexing_slicing)]
mod tests {
	use super::*;

	#[test]
	fn encoding_round_trips_and_refuses_cut_bytes() {
		let t = QTile::new(WeightFormat::Q4_1, 2, 32, (0..40).collect()).unwrap();
		let bytes = t.to_bytes();
		assert_eq!(bytes.len(), 8 + 40);
		assert_eq!(&bytes[..8], &[2, 0, 0, 0, 32, 0, 0, 0]);
		assert_eq!(QTile::from_bytes(WeightFormat::Q4_1, &bytes), Ok(t));
		assert_eq!(
			QTile::from_bytes(WeightFormat::Q4_1, &bytes[..47]),
			Err(KernelError::MalformedTile)
		);
		// The same bytes are not two Q8_0 rows of 32 (68 bytes).
		assert_eq!(QTile::from_bytes(WeightFormat::Q8_0, &bytes), Err(KernelError::MalformedTile));
		// Not a whole number of blocks.
		assert_eq!(
			QTile::new(WeightFormat::Q8_0, 1, 16, alloc::vec![0; 17]),
			Err(KernelError::MalformedTile)
		);
	}
}
