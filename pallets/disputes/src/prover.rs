//! What a party computes from its own trace to play the game: the nodes a
//! reveal round asks for, the proof that its result is its last leaf, and
//! a one-step proof. For nodes and tests (`std`), never the runtime.

use crate::types::TileProof;
use cinder_kernel::{
	merkle::{self, Hash},
	program::Resolved,
	KernelError, Step, Tile,
};
use sp_core::H256;

/// One party's run of a request, and the model's weight tree, borrowed.
pub struct Prover<'a> {
	/// The request's token ids.
	pub input: &'a [u32],
	/// The model's vocabulary size (token ids resolve to embedding rows).
	pub vocab: u32,
	/// Every step's output.
	pub outputs: &'a [Tile],
	/// Every step's leaf.
	pub leaves: &'a [Hash],
	/// The model's weight tiles, in layout order.
	pub weights: &'a [Tile],
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

impl Prover<'_> {
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

	/// Every input tile of `step` (descriptor of step `index` of the
	/// program) with its Merkle proof: an earlier step's output in this
	/// trace, or a weight tile in the model's weight tree.
	pub fn step_proof(&self, step: &Step) -> Result<Vec<TileProof>, ProverError> {
		let sources = step.resolve(self.input, self.vocab).map_err(ProverError::Kernel)?;
		sources
			.into_iter()
			.map(|source| {
				let (tiles, leaves, index) = match source {
					Resolved::Step(j) => (self.outputs, self.leaves, j),
					Resolved::Weight(j) => (self.weights, self.weight_leaves, j),
				};
				let tile = tiles.get(index as usize).ok_or(ProverError::MissingTile(source))?;
				let siblings =
					merkle::proof(leaves, index).ok_or(ProverError::MissingTile(source))?;
				Ok(TileProof {
					tile: tile.to_bytes(),
					siblings: siblings.into_iter().map(H256).collect(),
				})
			})
			.collect()
	}
}
