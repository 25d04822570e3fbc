//! Binary Merkle trees over blake2-256, for traces, weight tiles and programs.
//!
//! Leaf `i` of data `x` is `blake2_256(0x00 ‖ i as u32 LE ‖ x)`; an inner
//! node is `blake2_256(0x01 ‖ left ‖ right)`. The tags keep a leaf from ever
//! passing for an inner node. A level with an odd count carries its last
//! node up unchanged. The root of no leaves is all zeros.

use alloc::vec::Vec;

use crate::tile::Tile;

/// A 32-byte blake2-256 digest, as the chain's `blake2_256` host function
/// returns it.
pub type Hash = [u8; 32];

const LEAF: u8 = 0x00;
const NODE: u8 = 0x01;

/// The leaf for item `index` with encoded data `data`.
pub fn leaf_hash(index: u32, data: &[u8]) -> Hash {
	let mut buf = Vec::with_capacity(data.len().saturating_add(5));
	buf.push(LEAF);
	buf.extend_from_slice(&index.to_le_bytes());
	buf.extend_from_slice(data);
	sp_crypto_hashing::blake2_256(&buf)
}

/// The leaf for tile `index`: its canonical encoding, hashed as a leaf.
pub fn tile_leaf(index: u32, tile: &Tile) -> Hash {
	let mut buf = Vec::with_capacity(tile.encoded_len().saturating_add(5));
	leaf_preimage(index, tile, |bytes| buf.extend_from_slice(bytes));
	sp_crypto_hashing::blake2_256(&buf)
}

/// Length of [`leaf_head`].
pub const LEAF_HEAD_BYTES: usize = 5 + crate::tile::HEADER_BYTES;

/// The start of tile `index`'s leaf preimage: the leaf tag, the index and the
/// tile's header. The tile's data ([`Tile::encode_data`]) follows it.
pub fn leaf_head(index: u32, tile: &Tile) -> [u8; LEAF_HEAD_BYTES] {
	let mut head = [0u8; LEAF_HEAD_BYTES];
	head[0] = LEAF;
	head[1..5].copy_from_slice(&index.to_le_bytes());
	head[5..].copy_from_slice(&tile.header());
	head
}

/// Feeds what [`tile_leaf`] hashes to `sink` in pieces: [`leaf_head`], then
/// the tile's data. For native code that streams it into a blake2b-256 state
/// instead of buffering it.
pub fn leaf_preimage(index: u32, tile: &Tile, mut sink: impl FnMut(&[u8])) {
	sink(&leaf_head(index, tile));
	tile.encode_data(sink);
}

/// An inner node.
pub fn node_hash(left: &Hash, right: &Hash) -> Hash {
	let mut buf = [0u8; 65];
	buf[0] = NODE;
	buf[1..33].copy_from_slice(left);
	buf[33..].copy_from_slice(right);
	sp_crypto_hashing::blake2_256(&buf)
}

fn next_level(level: &[Hash]) -> Vec<Hash> {
	level
		.chunks(2)
		.map(|pair| match pair {
			[l, r] => node_hash(l, r),
			[single] => *single,
			_ => [0; 32],
		})
		.collect()
}

/// The root over `leaves`.
pub fn root(leaves: &[Hash]) -> Hash {
	let mut level = leaves.to_vec();
	while level.len() > 1 {
		level = next_level(&level);
	}
	level.first().copied().unwrap_or([0; 32])
}

/// The siblings from leaf `index` up to the root (levels where the node was
/// carried up contribute none). `None` when `index` is out of range.
pub fn proof(leaves: &[Hash], index: u32) -> Option<Vec<Hash>> {
	let mut i = index as usize;
	if i >= leaves.len() {
		return None;
	}
	let mut level = leaves.to_vec();
	let mut siblings = Vec::new();
	while level.len() > 1 {
		if let Some(s) = level.get(i ^ 1) {
			siblings.push(*s);
		}
		level = next_level(&level);
		i >>= 1;
	}
	Some(siblings)
}

/// Whether `leaf` sits at `index` of a `count`-leaf tree with `root`.
pub fn verify(root_hash: &Hash, leaf: Hash, index: u32, count: u32, siblings: &[Hash]) -> bool {
	if index >= count {
		return false;
	}
	let (mut i, mut n) = (index, count);
	let mut acc = leaf;
	let mut used = 0usize;
	while n > 1 {
		let sibling = i ^ 1;
		if sibling < n {
			let Some(s) = siblings.get(used) else { return false };
			acc = if i & 1 == 0 { node_hash(&acc, s) } else { node_hash(s, &acc) };
			used = used.saturating_add(1);
		}
		i >>= 1;
		n = n.div_ceil(2);
	}
	used == siblings.len() && acc == *root_hash
}

/// Number of levels above the leaves of a `count`-leaf tree: the root's
/// level (0 for one leaf or none).
pub fn depth(count: u32) -> u32 {
	let mut n = count;
	let mut levels = 0u32;
	while n > 1 {
		n = n.div_ceil(2);
		levels = levels.saturating_add(1);
	}
	levels
}

/// Number of nodes at `level` (0: the leaves) of a `count`-leaf tree.
pub fn level_len(count: u32, level: u32) -> u32 {
	(0..level).fold(count, |n, _| n.div_ceil(2))
}

/// The nodes at `level` of the tree over `leaves`.
pub fn level(leaves: &[Hash], level: u32) -> Vec<Hash> {
	let mut nodes = leaves.to_vec();
	for _ in 0..level {
		if nodes.len() <= 1 {
			break;
		}
		nodes = next_level(&nodes);
	}
	nodes
}

/// The nodes at level `node_level - depth` under node `index` of
/// `node_level`, as index range `start..end` into that level, in a
/// `count`-leaf tree: what a party reveals to open that node `depth` levels
/// down. Their [`root`] is the node itself (the range starts at an even
/// index and ends where the level ends or at a multiple of `2^depth`, so
/// pairs and carried nodes are the tree's own). `None` if the node does not
/// exist or `depth` is past the leaves.
pub fn children(count: u32, node_level: u32, index: u32, depth: u32) -> Option<(u32, u32)> {
	let child_level = node_level.checked_sub(depth)?;
	if index >= level_len(count, node_level) {
		return None;
	}
	let width = 1u32.checked_shl(depth)?;
	let start = index.checked_mul(width)?;
	let end = start.checked_add(width)?.min(level_len(count, child_level));
	(start < end).then_some((start, end))
}

/// The trace of a run: one leaf per step output, and their root.
pub fn trace_leaves(outputs: &[Tile]) -> Vec<Hash> {
	outputs.iter().zip(0u32..).map(|(t, i)| tile_leaf(i, t)).collect()
}

#[cfg(test)]
#[allow(clippy::indexing_slicing)]
mod tests {
	use super::*;

	fn leaves(n: u32) -> Vec<Hash> {
		(0..n).map(|i| leaf_hash(i, &i.to_be_bytes())).collect()
	}

	#[test]
	fn proofs_verify_for_every_leaf_of_every_size() {
		for n in 1..=17u32 {
			let ls = leaves(n);
			let r = root(&ls);
			for i in 0..n {
				let p = proof(&ls, i).unwrap();
				assert!(verify(&r, ls[i as usize], i, n, &p), "n={n} i={i}");
			}
			assert!(proof(&ls, n).is_none());
		}
	}

	#[test]
	fn every_node_is_the_root_of_its_children_at_any_depth() {
		for n in 1..=40u32 {
			let ls = leaves(n);
			let d = depth(n);
			assert_eq!(level(&ls, d), vec![root(&ls)], "n={n}");
			for node_level in 0..=d {
				let nodes = level(&ls, node_level);
				assert_eq!(nodes.len() as u32, level_len(n, node_level));
				for (index, node) in (0u32..).zip(&nodes) {
					for k in 0..=node_level {
						let (start, end) = children(n, node_level, index, k).unwrap();
						let below = level(&ls, node_level - k);
						assert_eq!(root(&below[start as usize..end as usize]), *node);
					}
					assert_eq!(children(n, node_level, index, node_level + 1), None);
				}
				assert_eq!(children(n, node_level, level_len(n, node_level), 0), None);
			}
		}
		assert_eq!((depth(0), depth(1), depth(2), depth(627), depth(5009)), (0, 0, 1, 10, 13));
	}

	#[test]
	fn tampering_is_rejected() {
		let ls = leaves(9);
		let r = root(&ls);
		let p = proof(&ls, 4).unwrap();
		// Wrong leaf, wrong index, wrong count, altered sibling, extra sibling.
		assert!(!verify(&r, ls[5], 4, 9, &p));
		assert!(!verify(&r, ls[4], 5, 9, &p));
		assert!(!verify(&r, ls[4], 4, 8, &p));
		let mut bad = p.clone();
		bad[0][0] ^= 1;
		assert!(!verify(&r, ls[4], 4, 9, &bad));
		let mut long = p.clone();
		long.push([0; 32]);
		assert!(!verify(&r, ls[4], 4, 9, &long));
		assert!(!verify(&r, ls[4], 9, 9, &p));
	}

	#[test]
	fn leaves_and_nodes_use_the_chains_blake2_256() {
		// blake2b-256 of the empty string, as sp_io::hashing::blake2_256 gives it.
		assert_eq!(
			sp_crypto_hashing::blake2_256(b""),
			[
				0x0e, 0x57, 0x51, 0xc0, 0x26, 0xe5, 0x43, 0xb2, 0xe8, 0xab, 0x2e, 0xb0, 0x60, 0x99,
				0xda, 0xa1, 0xd1, 0xe5, 0xdf, 0x47, 0x77, 0x8f, 0x77, 0x87, 0xfa, 0xab, 0x45, 0xcd,
				0xf1, 0x2f, 0xe3, 0xa8
			]
		);
		let mut buf = alloc::vec![0u8, 7, 0, 0, 0];
		buf.extend_from_slice(b"abc");
		assert_eq!(leaf_hash(7, b"abc"), sp_crypto_hashing::blake2_256(&buf));
		assert_eq!(root(&[]), [0; 32]);
		let one = leaves(1);
		assert_eq!(root(&one), one[0]);
	}
}
