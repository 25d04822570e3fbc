//! Records of the marketplace; every one is bounded.

use crate::crypto::WorkerKey;
use codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
use frame_support::{traits::Get, BoundedVec};
use pallet_models::{ModelId, Task};
use scale_info::TypeInfo;
use sp_core::H256;

/// Identifies a request; assigned in order.
pub type RequestId = u64;

/// A validator's worker.
#[derive(Clone, PartialEq, Eq, Encode, Decode, MaxEncodedLen, TypeInfo, Debug)]
#[scale_info(skip_type_params(MaxModels))]
pub struct WorkerInfo<BlockNumber, MaxModels: Get<u32>> {
	/// The key results are signed with.
	pub key: WorkerKey,
	/// The models it serves.
	pub models: BoundedVec<ModelId, MaxModels>,
	/// After a missed deadline the worker is picked only when no other
	/// eligible worker serves the model, until this block.
	pub demoted_until: BlockNumber,
	/// Deadlines missed, ever.
	pub missed: u32,
	/// Results settled, ever.
	pub served: u32,
}

/// Where a request is in its lifecycle.
#[derive(Clone, PartialEq, Eq, Encode, Decode, MaxEncodedLen, TypeInfo, Debug)]
pub enum RequestStatus<AccountId, BlockNumber> {
	/// Waiting for `worker`'s result until `deadline` (inclusive).
	Assigned { worker: AccountId, deadline: BlockNumber },
	/// `worker` answered; settles when the challenge window ends.
	Answered { worker: AccountId, trace_root: H256, steps: u32, challenge_end: BlockNumber },
	/// The result is challenged: settlement waits for the dispute.
	Frozen { worker: AccountId, trace_root: H256, steps: u32 },
}

/// An open request. Its `max_fee` is held from `caller` under
/// `HoldReason::Escrow` until it settles or is refunded.
#[derive(Clone, PartialEq, Eq, Encode, Decode, MaxEncodedLen, TypeInfo, Debug)]
#[scale_info(skip_type_params(MaxInput, MaxAttempts))]
pub struct Request<AccountId, Balance, BlockNumber, MaxInput: Get<u32>, MaxAttempts: Get<u32>> {
	/// Who pays.
	pub caller: AccountId,
	/// The model to run.
	pub model: ModelId,
	/// Token ids (a generation's prompt).
	pub input: BoundedVec<u32, MaxInput>,
	/// An embedding, or a generation of up to `max_new_tokens`.
	pub task: Task,
	/// What a generation's sampler draws from: fixed when the request is
	/// made, from the request id and randomness no worker chooses.
	pub seed: H256,
	/// Held from the caller; what the price leaves is released.
	pub max_fee: Balance,
	/// What the caller pays, at the model's prices when the request was
	/// made: for a generation, first for `max_new_tokens`, then (once
	/// answered) for the tokens generated.
	pub price: Balance,
	/// The model's price per generated token when the request was made:
	/// what an answer shorter than `max_new_tokens` takes off `price`.
	pub per_generated: Balance,
	/// Block the request was made in.
	pub created: BlockNumber,
	/// Workers assigned so far, in order; the last is the current one.
	pub tried: BoundedVec<AccountId, MaxAttempts>,
	/// Lifecycle state.
	pub status: RequestStatus<AccountId, BlockNumber>,
}

/// How a request ended.
#[derive(Clone, PartialEq, Eq, Encode, Decode, MaxEncodedLen, TypeInfo, Debug)]
pub enum Outcome<AccountId, Balance> {
	/// Paid: `worker_share` to the worker, `protocol_cut` to the treasury.
	Settled { worker: AccountId, worker_share: Balance, protocol_cut: Balance },
	/// Nobody answered in time: the whole hold went back.
	Refunded { amount: Balance },
}

/// A finished request, kept for `ResultRetention` blocks so dapps can read it.
#[derive(Clone, PartialEq, Eq, Encode, Decode, MaxEncodedLen, TypeInfo, Debug)]
pub struct Completion<AccountId, Balance, BlockNumber> {
	/// Who paid.
	pub caller: AccountId,
	/// The model that ran.
	pub model: ModelId,
	/// What it asked for.
	pub task: Task,
	/// Block it ended in.
	pub at: BlockNumber,
	/// Settled or refunded.
	pub outcome: Outcome<AccountId, Balance>,
}

/// The pallet's first-in-first-out work queues. Entries are pushed with a
/// due block `now + constant`, so each queue is ordered by due block.
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
pub enum QueueKind {
	/// Result deadlines of assignments.
	Deadline,
	/// Ends of challenge windows.
	Settlement,
	/// Ends of the retention of completed requests.
	Prune,
}

impl QueueKind {
	/// Every queue.
	pub const ALL: [QueueKind; 3] = [QueueKind::Deadline, QueueKind::Settlement, QueueKind::Prune];
}

/// A staking era, as `pallet-staking` counts them.
pub type EraIndex = u32;

/// What a validator's worker did in one era: the record token holders read
/// to choose whom to back, and what the era's payout splits fees by.
#[derive(Clone, PartialEq, Eq, Default, Encode, Decode, MaxEncodedLen, TypeInfo, Debug)]
pub struct EraWork<Balance> {
	/// Worker shares of requests settled in the era, paid into the staking
	/// pot for the era's payout to distribute.
	pub income: Balance,
	/// Requests settled.
	pub served: u32,
	/// Deadlines missed.
	pub missed: u32,
	/// Disputes it won: as the worker, its result upheld; as the
	/// challenger, the worker proven to have lied.
	pub disputes_won: u32,
	/// Disputes it lost: its result proven wrong, or its challenge of a
	/// sound result failed.
	pub disputes_lost: u32,
}
