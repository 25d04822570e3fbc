//! What a party computes from its own trace to play the game: the nodes a
//! reveal round asks for, the proof that its result is its last leaf, and
//! a one-step proof. For nodes and tests (`std`), never the runtime.

use crate::types::TileProof;
use cinder_kernel::{
	merkle::{self, Hash},
	program::Resolved,
	verify::decoder::sampled_id,
	KernelError, Step, Tile, Weight,
};
use sp_core::H256;

/// One party's run of a request, and the model's weight tree, borrowed.
pub struct Prover<'a, W: WeightTiles + ?Sized = [Tile]> {
	/// The request's token ids.
	pub input: &'a [u32],
	/// The model's vocabulary size (token ids resolve to embedding rows).
	pub vocab: u32,
	/// Every step's output.
	pub outputs: &'a [Tile],
	/// Every step's leaf.
	pub leaves: &'a [Hash],
	/// The model's weight tiles, in layout order (f32 [`Tile`]s, or
	/// [`Weight`]s where some are quantized).
	pub weights: &'a W,
	/// Their leaves.
	pub weight_leaves: &'a [Hash],
}

/// Why a proof cannot be built from what the prover holds.
#[derive(Debug, PartialEq, Eq)]
pub enum ProverError {
	/// The step does not resolve on this input.
	Kernel(KernelError),
	/// A tile the step reads is not in the trace or the weights given.
	MissingTile(Resolved),
	/// The round's nodes lie outside the tree.
	NoSuchNodes,
}

impl<W: WeightTiles + ?Sized> Prover<'_, W> {
	/// Nodes `start..end` of tree level `level` (0: the leaves): a reveal.
	pub fn nodes(&self, level: u32, start: u32, end: u32) -> Result<Vec<H256>, ProverError> {
		let nodes = merkle::level(self.leaves, level);
		nodes
			.get(start as usize..end as usize)
			.map(|n| n.iter().copied().map(H256).collect())
			.ok_or(ProverError::NoSuchNodes)
	}

	/// The siblings of the last leaf: what binds the result to the trace.
	pub fn output_proof(&self) -> Result<Vec<H256>, ProverError> {
		let last = u32::try_from(self.leaves.len().saturating_sub(1))
			.map_err(|_| ProverError::NoSuchNodes)?;
		let siblings = merkle::proof(self.leaves, last).ok_or(ProverError::NoSuchNodes)?;
		Ok(siblings.into_iter().map(H256).collect())
	}

	/// Every input tile of `step` with its Merkle proof: an earlier step's
	/// output in this trace, or a weight tile in the model's weight tree;
	/// preceded, when the step reads sampled tokens, by the output of each
	/// sample step it reads ([`crate::sampled_steps`]), which the
	/// runtime reads the tokens from.
	pub fn step_proof(&self, step: &Step) -> Result<Vec<TileProof>, ProverError> {
		let sampled_steps = crate::sampled_steps(step);
		let sampled = |j: u32| sampled_id(self.outputs.get(j as usize)?, self.vocab);
		let sources =
			step.resolve_with(self.input, self.vocab, sampled).map_err(ProverError::Kernel)?;
		sampled_steps
			.into_iter()
			.map(Resolved::Step)
			.chain(sources)
			.map(|source| {
				let missing = ProverError::MissingTile(source);
				let (bytes, leaves, index) = match source {
					Resolved::Step(j) => {
						(self.outputs.get(j as usize).map(Tile::to_bytes), self.leaves, j)
					}
					Resolved::Weight(j) => (self.weights.tile_bytes(j), self.weight_leaves, j),
				};
				let tile = bytes.ok_or(ProverError::MissingTile(source))?;
				let siblings = merkle::proof(leaves, index).ok_or(missing)?;
				Ok(TileProof { tile, siblings: siblings.into_iter().map(H256).collect() })
			})
			.collect()
	}
}

/// A model's weight tiles as a prover reads them: each one's encoding.
pub trait WeightTiles {
	/// The encoding of tile `index`, if there is one.
	fn tile_bytes(&self, index: u32) -> Option<Vec<u8>>;
}

impl WeightTiles for [Tile] {
	fn tile_bytes(&self, index: u32) -> Option<Vec<u8>> {
		self.get(index as usize).map(Tile::to_bytes)
	}
}

impl WeightTiles for Vec<Tile> {
	fn tile_bytes(&self, index: u32) -> Option<Vec<u8>> {
		self.as_slice().tile_bytes(index)
	}
}

impl WeightTiles for [Weight] {
	fn tile_bytes(&self, index: u32) -> Option<Vec<u8>> {
		self.get(index as usize).map(Weight::to_bytes)
	}
}

impl WeightTiles for Vec<Weight> {
	fn tile_bytes(&self, index: u32) -> Option<Vec<u8>> {
		self.as_slice().tile_bytes(index)
	}
}
