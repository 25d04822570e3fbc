//! Tiles: small row-major f32 matrices with one canonical byte encoding.

use alloc::vec::Vec;

use crate::KernelError;

/// The one NaN bit pattern kernel outputs carry (quiet, positive, no payload).
pub const CANONICAL_NAN: u32 = 0x7fc0_0000;

/// Size of the encoded header: rows and cols, u32 little endian each.
pub const HEADER_BYTES: usize = 8;

/// Whether `data` holds a NaN. Written without an early exit so that it
/// vectorises: a scan costs far less than the hash it guards.
fn has_nan(data: &[f32]) -> bool {
	data.chunks(64)
		.fold(false, |seen, chunk| seen | chunk.iter().fold(false, |nan, x| nan | x.is_nan()))
}

/// Replaces any NaN by [`CANONICAL_NAN`]; other values pass unchanged.
#[inline(always)]
pub fn canonical(x: f32) -> f32 {
	if x.is_nan() {
		f32::from_bits(CANONICAL_NAN)
	} else {
		x
	}
}

/// A `rows × cols` row-major block of f32 values.
#[derive(Clone, Debug, PartialEq)]
pub struct Tile {
	pub rows: u32,
	pub cols: u32,
	pub data: Vec<f32>,
}

impl Tile {
	/// A tile from its shape and data; errors when they disagree.
	pub fn new(rows: u32, cols: u32, data: Vec<f32>) -> Result<Self, KernelError> {
		let expected =
			(rows as usize).checked_mul(cols as usize).ok_or(KernelError::MalformedTile)?;
		if data.len() != expected {
			return Err(KernelError::MalformedTile);
		}
		Ok(Self { rows, cols, data })
	}

	/// A tile of zeros.
	pub fn zeros(rows: u32, cols: u32) -> Self {
		let len = (rows as usize).saturating_mul(cols as usize);
		Self { rows, cols, data: alloc::vec![0.0; len] }
	}

	/// Number of bytes [`Tile::to_bytes`] produces.
	pub fn encoded_len(&self) -> usize {
		self.data.len().saturating_mul(4).saturating_add(HEADER_BYTES)
	}

	/// Row `r` as a slice.
	pub fn row(&self, r: usize) -> &[f32] {
		let cols = self.cols as usize;
		self.data.chunks_exact(cols.max(1)).nth(r).unwrap_or(&[])
	}

	/// Canonicalises every NaN in place.
	pub fn canonicalize(&mut self) {
		for x in &mut self.data {
			*x = canonical(*x);
		}
	}

	/// The canonical encoding: rows and cols as u32 LE, then each value's
	/// IEEE-754 bits LE. NaNs are canonicalised on the way out.
	pub fn to_bytes(&self) -> Vec<u8> {
		let mut out = Vec::with_capacity(self.encoded_len());
		self.write_bytes(&mut out);
		out
	}

	/// Appends the canonical encoding to `out`.
	pub fn write_bytes(&self, out: &mut Vec<u8>) {
		out.reserve(self.encoded_len());
		self.encode_chunks(|bytes| out.extend_from_slice(bytes));
	}

	/// The encoding's header: rows and cols, u32 little endian.
	pub fn header(&self) -> [u8; HEADER_BYTES] {
		let mut header = [0u8; HEADER_BYTES];
		header[..4].copy_from_slice(&self.rows.to_le_bytes());
		header[4..].copy_from_slice(&self.cols.to_le_bytes());
		header
	}

	/// The encoding's data part borrowed from memory, where memory already
	/// holds it: on a little-endian target, for a tile without NaNs (every
	/// kernel output that did not overflow).
	pub fn data_bytes(&self) -> Option<&[u8]> {
		(cfg!(target_endian = "little") && !has_nan(&self.data))
			.then(|| bytemuck::cast_slice(&self.data))
	}

	/// Feeds the canonical encoding to `sink` in pieces (the header, then the
	/// data in one or more pieces), so a hasher can take it without the whole
	/// encoding in memory. The concatenation is [`Tile::to_bytes`].
	pub fn encode_chunks(&self, mut sink: impl FnMut(&[u8])) {
		sink(&self.header());
		self.encode_data(sink);
	}

	/// Feeds the encoding's data part (after the header) to `sink`: one
	/// borrowed slice where [`Tile::data_bytes`] has it, otherwise re-encoded
	/// through a 4 KiB buffer.
	pub fn encode_data(&self, mut sink: impl FnMut(&[u8])) {
		if let Some(bytes) = self.data_bytes() {
			sink(bytes);
			return;
		}
		let mut block = [0u8; 4096];
		for values in self.data.chunks(block.len() / 4) {
			for (dst, x) in block.chunks_exact_mut(4).zip(values) {
				dst.copy_from_slice(&canonical(*x).to_bits().to_le_bytes());
			}
			sink(block.get(..values.len().saturating_mul(4)).unwrap_or_default());
		}
	}

	/// Decodes [`Tile::to_bytes`]' encoding, rejecting trailing or missing bytes.
	pub fn from_bytes(bytes: &[u8]) -> Result<Self, KernelError> {
		let (header, body) =
			bytes.split_at_checked(HEADER_BYTES).ok_or(KernelError::MalformedTile)?;
		let (r, c) = header.split_at(4);
		let rows = u32::from_le_bytes(r.try_into().map_err(|_| KernelError::MalformedTile)?);
		let cols = u32::from_le_bytes(c.try_into().map_err(|_| KernelError::MalformedTile)?);
		let len = (rows as usize).checked_mul(cols as usize).ok_or(KernelError::MalformedTile)?;
		if body.len() != len.checked_mul(4).ok_or(KernelError::MalformedTile)? {
			return Err(KernelError::MalformedTile);
		}
		let data = body
			.chunks_exact(4)
			.map(|b| b.try_into().map(|b| f32::from_bits(u32::from_le_bytes(b))))
			.collect::<Result<_, _>>()
			.map_err(|_| KernelError::MalformedTile)?;
		Ok(Self { rows, cols, data })
	}

	/// Concatenates tiles with equal row counts side by side (by columns).
	pub fn hconcat(tiles: &[&Tile]) -> Result<Tile, KernelError> {
		let rows = tiles.first().map(|t| t.rows).ok_or(KernelError::ShapeMismatch)?;
		if tiles.iter().any(|t| t.rows != rows) {
			return Err(KernelError::ShapeMismatch);
		}
		let cols = tiles
			.iter()
			.try_fold(0u32, |acc, t| acc.checked_add(t.cols))
			.ok_or(KernelError::ShapeMismatch)?;
		let mut data = Vec::with_capacity((rows as usize).saturating_mul(cols as usize));
		for r in 0..rows as usize {
			for t in tiles {
				data.extend_from_slice(t.row(r));
			}
		}
		Tile::new(rows, cols, data)
	}

	/// Stacks tiles with equal column counts on top of each other.
	pub fn vconcat(tiles: &[&Tile]) -> Result<Tile, KernelError> {
		let cols = tiles.first().map(|t| t.cols).ok_or(KernelError::ShapeMismatch)?;
		if tiles.iter().any(|t| t.cols != cols) {
			return Err(KernelError::ShapeMismatch);
		}
		let rows = tiles
			.iter()
			.try_fold(0u32, |acc, t| acc.checked_add(t.rows))
			.ok_or(KernelError::ShapeMismatch)?;
		let data = tiles.iter().flat_map(|t| t.data.iter().copied()).collect();
		Tile::new(rows, cols, data)
	}
}

#[cfg(test)]
#[allow(clippy::indexing_slicing)]
mod tests {
	use super::*;

	#[test]
	fn encoding_round_trips_and_canonicalises_nan() {
		let payload_nan = f32::from_bits(0x7fa0_0001);
		let t = Tile::new(1, 3, alloc::vec![1.5, payload_nan, -0.0]).unwrap();
		let bytes = t.to_bytes();
		assert_eq!(bytes.len(), 8 + 12);
		let back = Tile::from_bytes(&bytes).unwrap();
		assert_eq!(back.data[0], 1.5);
		assert_eq!(back.data[1].to_bits(), CANONICAL_NAN);
		assert_eq!(back.data[2].to_bits(), (-0.0f32).to_bits());
	}

	#[test]
	fn malformed_encodings_are_rejected() {
		let t = Tile::new(2, 2, alloc::vec![1.0; 4]).unwrap();
		let mut bytes = t.to_bytes();
		assert_eq!(Tile::from_bytes(&bytes[..bytes.len() - 1]), Err(KernelError::MalformedTile));
		bytes.push(0);
		assert_eq!(Tile::from_bytes(&bytes), Err(KernelError::MalformedTile));
		assert_eq!(Tile::from_bytes(&[1, 2, 3]), Err(KernelError::MalformedTile));
		assert_eq!(Tile::new(2, 2, alloc::vec![1.0; 3]), Err(KernelError::MalformedTile));
	}

	#[test]
	fn concatenation_keeps_row_major_order() {
		let a = Tile::new(2, 1, alloc::vec![1.0, 2.0]).unwrap();
		let b = Tile::new(2, 2, alloc::vec![3.0, 4.0, 5.0, 6.0]).unwrap();
		let h = Tile::hconcat(&[&a, &b]).unwrap();
		assert_eq!(h.data, alloc::vec![1.0, 3.0, 4.0, 2.0, 5.0, 6.0]);
		let v = Tile::vconcat(&[&b, &b]).unwrap();
		assert_eq!((v.rows, v.cols), (4, 2));
		assert!(Tile::hconcat(&[&a, &Tile::zeros(3, 1)]).is_err());
	}
}
