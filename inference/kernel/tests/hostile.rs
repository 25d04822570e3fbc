//! What a challenger can hand the runtime: any step descriptor, any tiles,
//! any bytes, any Merkle siblings. The kernel answers each with a value or a
//! typed error and never panics (the runtime would trap).
#![allow(clippy::unwrap_used)]

use cinder_kernel::{
	merkle,
	program::{Op, Source, Step},
	testing::any_f32,
	verify::recompute,
	Tile,
};
use proptest::prelude::*;

fn any_op() -> impl Strategy<Value = Op> {
	prop_oneof![
		any::<u32>().prop_map(|eps| Op::Embed { eps }),
		any::<bool>().prop_map(|gelu| Op::Linear { gelu }),
		any::<u32>().prop_map(|eps| Op::AddNorm { eps }),
		(any::<u32>(), any::<bool>()).prop_map(|(first, causal)| Op::Attention { first, causal }),
		Just(Op::PoolSum),
		any::<u32>().prop_map(|tokens| Op::PoolFinish { tokens }),
	]
}

/// Small tiles of any shape (sometimes with data that disagrees with it).
fn any_tile() -> impl Strategy<Value = Tile> {
	(0u32..6, 0u32..6, any::<bool>()).prop_flat_map(|(rows, cols, honest)| {
		let len = (rows * cols) as usize + usize::from(!honest && rows > 0);
		proptest::collection::vec(any_f32(), len).prop_map(move |data| Tile { rows, cols, data })
	})
}

proptest! {
	#[test]
	fn recompute_never_panics(
		op in any_op(),
		rows in prop_oneof![0u32..6, Just(u32::MAX)],
		cols in prop_oneof![0u32..6, Just(u32::MAX)],
		tiles in proptest::collection::vec(any_tile(), 0..8),
	) {
		let step = Step { op, inputs: vec![Source::Step(0); tiles.len()], rows, cols };
		let refs: Vec<&Tile> = tiles.iter().collect();
		if let Ok(out) = recompute(&step, &refs) {
			prop_assert_eq!((out.rows, out.cols), (rows, cols));
		}
	}

	#[test]
	fn tile_decoding_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..64)) {
		if let Ok(tile) = Tile::from_bytes(&bytes) {
			prop_assert_eq!(tile.to_bytes().len(), bytes.len());
		}
	}

	#[test]
	fn merkle_verification_never_panics(
		index in any::<u32>(),
		count in any::<u32>(),
		siblings in proptest::collection::vec(any::<[u8; 32]>(), 0..40),
		leaf in any::<[u8; 32]>(),
	) {
		let root = merkle::root(&[leaf]);
		let ok = merkle::verify(&root, leaf, index, count, &siblings);
		// The one-leaf tree is proved by no siblings at index 0.
		prop_assert_eq!(ok, index == 0 && count == 1 && siblings.is_empty());
	}
}
