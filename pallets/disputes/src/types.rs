//! Records of the dispute game; every one is bounded.

use codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
use pallet_inference::WorkerKey;
use scale_info::TypeInfo;
use sp_core::H256;

/// The two sides of a dispute.
#[derive(
	Clone,
	Copy,
	PartialEq,
	Eq,
	PartialOrd,
	Ord,
	Encode,
	Decode,
	DecodeWithMemTracking,
	MaxEncodedLen,
	TypeInfo,
	Debug,
)]
pub enum Party {
	/// The worker whose result is challenged.
	Worker,
	/// The worker that challenged it.
	Challenger,
}

impl Party {
	/// Both parties.
	pub const BOTH: [Party; 2] = [Party::Worker, Party::Challenger];
}

/// Where a dispute is.
#[derive(Clone, PartialEq, Eq, Encode, Decode, MaxEncodedLen, TypeInfo, Debug)]
pub enum Stage<BlockNumber> {
	/// Each party reveals the nodes under node `index` of tree level `level`
	/// (0: the leaves), a bounded number of levels down, until `deadline`
	/// (inclusive). The node is where the parties' trees first differ: the
	/// roots at first, then the first differing node of each round.
	Reveal {
		level: u32,
		index: u32,
		/// The worker's hash of that node.
		worker_node: H256,
		/// The challenger's hash of that node.
		challenger_node: H256,
		/// Who has revealed this round (its hashes wait in `Reveals`).
		revealed: Option<Party>,
		deadline: BlockNumber,
	},
	/// Leaf `step` is the first where the traces differ; every earlier leaf
	/// is agreed. Either party proves the step until `deadline`.
	Prove { step: u32, worker_leaf: H256, challenger_leaf: H256, deadline: BlockNumber },
}

impl<BlockNumber: Copy> Stage<BlockNumber> {
	/// The last block the stage accepts calls in.
	pub fn deadline(&self) -> BlockNumber {
		match self {
			Self::Reveal { deadline, .. } | Self::Prove { deadline, .. } => *deadline,
		}
	}
}

/// An open dispute over one request's result. The challenger's `bond` is
/// held under `HoldReason::ChallengeBond` until it ends.
#[derive(Clone, PartialEq, Eq, Encode, Decode, MaxEncodedLen, TypeInfo, Debug)]
pub struct Dispute<AccountId, Balance, BlockNumber> {
	/// The worker whose result is challenged.
	pub worker: AccountId,
	/// Its worker key when challenged: what its dispute calls are signed
	/// with (none if it had left the marketplace: it cannot defend).
	pub worker_key: Option<WorkerKey>,
	/// The challenging worker.
	pub challenger: AccountId,
	/// Its worker key.
	pub challenger_key: WorkerKey,
	/// Held from the challenger.
	pub bond: Balance,
	/// The worker's trace root.
	pub worker_root: H256,
	/// The challenger's trace root for the same request.
	pub challenger_root: H256,
	/// Leaves in both traces (the program's length).
	pub steps: u32,
	/// Whether the worker has shown that its result is its trace's last leaf
	/// (with its first reveal).
	pub output_bound: bool,
	/// Block the challenge was made in.
	pub opened: BlockNumber,
	/// Where the game is.
	pub stage: Stage<BlockNumber>,
}

impl<AccountId, Balance, BlockNumber> Dispute<AccountId, Balance, BlockNumber> {
	/// The worker key `party` signs with.
	pub fn key(&self, party: Party) -> Option<&WorkerKey> {
		match party {
			Party::Worker => self.worker_key.as_ref(),
			Party::Challenger => Some(&self.challenger_key),
		}
	}

	/// `party`'s account.
	pub fn account(&self, party: Party) -> &AccountId {
		match party {
			Party::Worker => &self.worker,
			Party::Challenger => &self.challenger,
		}
	}
}

/// One input tile of a one-step proof: its canonical encoding and the
/// Merkle siblings that place it in the trace (an earlier step's output) or
/// in the model's weight tree (a weight tile or a token's embedding row).
#[derive(Clone, PartialEq, Eq, Encode, Decode, DecodeWithMemTracking, TypeInfo, Debug)]
pub struct TileProof {
	/// [`cinder_kernel::Tile::to_bytes`] of the tile.
	pub tile: alloc::vec::Vec<u8>,
	/// Siblings from its leaf to the root.
	pub siblings: alloc::vec::Vec<H256>,
}

/// How a dispute ended.
#[derive(
	Clone,
	Copy,
	PartialEq,
	Eq,
	Encode,
	Decode,
	DecodeWithMemTracking,
	MaxEncodedLen,
	TypeInfo,
	Debug,
)]
pub enum Ending {
	/// A party did not reveal in time.
	Silence,
	/// The worker's result is not its own trace's last leaf.
	OutputNotInTrace,
	/// The two traces revealed agree everywhere.
	NoDifference,
	/// The runtime recomputed the first differing step.
	Proved,
	/// Nobody proved the first differing step in time.
	NoProof,
}

/// How a request's last dispute ended, kept for `ResolutionRetention`
/// blocks after it ended (for the node and RPC clients).
#[derive(Clone, PartialEq, Eq, Encode, Decode, MaxEncodedLen, TypeInfo, Debug)]
pub struct Resolution<AccountId, BlockNumber> {
	/// The worker whose result was challenged.
	pub worker: AccountId,
	/// The challenger.
	pub challenger: AccountId,
	/// The worker's trace root.
	pub worker_root: H256,
	/// The challenger's trace root.
	pub challenger_root: H256,
	/// The first differing step, if the game got that far.
	pub step: Option<u32>,
	/// How it was decided.
	pub ending: Ending,
	/// The worker's result was wrong.
	pub worker_lied: bool,
	/// The challenger's claim was wrong.
	pub challenger_lied: bool,
	/// Block it ended in.
	pub at: BlockNumber,
	/// Last block the record is kept.
	pub expires: BlockNumber,
}
