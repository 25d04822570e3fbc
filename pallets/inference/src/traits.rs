//! What the marketplace needs from staking, and what it offers the dispute
//! game, each behind one trait of ours: the runtime backs staking with
//! `pallet-staking` (or its successor) and tests with a table; the dispute
//! game (`pallet-disputes`) reaches results through [`ResultDisputes`].

use crate::{
	types::{EraIndex, RequestId},
	WorkerKey,
};
use alloc::vec::Vec;
use pallet_models::ModelId;
use sp_core::H256;
use sp_runtime::DispatchResult;

/// Cinder's view of the validator set and its stake.
pub trait ValidatorStaking<AccountId, Balance> {
	/// The total stake (own and nominated) behind `who` in the active era, if
	/// `who` is an active validator.
	fn active_stake(who: &AccountId) -> Option<Balance>;

	/// The active era: the era whose payout a settled fee joins.
	fn active_era() -> Option<EraIndex>;

	/// Makes `who` an active validator with `stake`, for benchmarks. A
	/// runtime that runs the benchmarks implements it (Cinder's does under
	/// `runtime-benchmarks`); the default, for the test builds that compile
	/// the helpers without running a runtime's benchmarks, does nothing.
	#[cfg(any(feature = "benchmark-helpers", test))]
	fn make_active(_who: &AccountId, _stake: Balance) {}
}

/// A posted result, as the dispute game (and an auditing node) sees it.
#[derive(Clone, PartialEq, Eq, codec::Encode, codec::Decode, scale_info::TypeInfo, Debug)]
pub struct PostedResult<AccountId, BlockNumber> {
	/// The worker that posted it.
	pub worker: AccountId,
	/// The model it ran.
	pub model: ModelId,
	/// The request's token ids.
	pub input: Vec<u32>,
	/// What it asked for.
	pub task: pallet_models::Task,
	/// A generation's sampling seed.
	pub seed: H256,
	/// The result's bytes: the last step's output tile, data only.
	pub output: Vec<u8>,
	/// The root of the worker's trace.
	pub trace_root: H256,
	/// The trace's leaf count (the program's length, checked at submission).
	pub steps: u32,
	/// The last block it may be challenged in; `None` once frozen.
	pub challenge_end: Option<BlockNumber>,
}

/// How a dispute ended for the result it froze.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Verdict {
	/// The result stands: it settles as usual, after a fresh challenge
	/// window (the dispute kept other challengers out of the old one).
	Upheld,
	/// The worker lied: it is expelled (stops serving at once, its open
	/// assignments go to others), gets no fee, and the request is assigned
	/// to another worker without counting an attempt, its escrow still held.
	Fraud,
}

/// The marketplace's side of a dispute.
pub trait ResultDisputes<AccountId, BlockNumber> {
	/// The posted result of `request`, while it is answered or frozen.
	fn result(request: RequestId) -> Option<PostedResult<AccountId, BlockNumber>>;

	/// The key of `who`'s registered worker: who may challenge, and what
	/// its dispute calls are signed with.
	fn worker_key(who: &AccountId) -> Option<WorkerKey>;

	/// Takes an answered request off the settlement path.
	fn freeze(request: RequestId) -> DispatchResult;

	/// Ends the freeze of `request` with `verdict`, reached against
	/// `challenger`. A frozen request always ends through here: settled
	/// later, reassigned or refunded.
	fn resolve(request: RequestId, verdict: Verdict, challenger: &AccountId) -> DispatchResult;

	/// Whether `request` is frozen, for the dispute game's try-state.
	fn is_frozen(request: RequestId) -> bool;

	/// Every frozen request. Iterates the open requests (at most
	/// `MaxOpenRequests`): for try-state, never for blocks.
	fn frozen_requests() -> Vec<RequestId>;

	/// For another pallet's benchmarks: the longest input accepted
	/// (`MaxInputTokens`).
	#[cfg(any(feature = "benchmark-helpers", test))]
	fn max_input_tokens() -> u32;

	/// For another pallet's benchmarks: two fresh active workers serve
	/// `model`; a request for it on `input` is answered by its assignee
	/// with `output`, `trace_root` and `steps` (not checked against the
	/// program). Returns the request, the assignee and the other worker,
	/// each with its key (in the keystore).
	#[cfg(any(feature = "benchmark-helpers", test))]
	fn answered_for_benchmark(
		model: ModelId,
		input: Vec<u32>,
		task: pallet_models::Task,
		output: Vec<u8>,
		trace_root: H256,
		steps: u32,
	) -> (RequestId, (AccountId, WorkerKey), (AccountId, WorkerKey));
}
