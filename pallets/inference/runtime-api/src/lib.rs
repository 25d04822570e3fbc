//! The runtime APIs the node's `inference_*` RPC methods and its worker
//! call: the marketplace's ([`InferenceApi`]) and the dispute game's
//! ([`DisputesApi`]).

#![cfg_attr(not(feature = "std"), no_std)]

extern crate alloc;

use alloc::vec::Vec;
use codec::Codec;
pub use pallet_disputes::{DisputeView, Ending, Party, Resolution, StageView};
pub use pallet_inference::{
	Assignment, Backing, EraIncome, FeeQuote, NominatorView, PostedResult, Refusal, RequestId,
	RequestState, RequestView, ValidatorView, WorkerKey,
};
pub use pallet_models::{
	architecture::TOKEN_BYTES, Architecture, Generation, Generator, ModelId, ModelKind,
	ModelSummary, Sampling, Task,
};

sp_api::decl_runtime_apis! {
	/// Read access to the model registry and the marketplace.
	pub trait InferenceApi<AccountId, Balance, BlockNumber>
	where
		AccountId: Codec,
		Balance: Codec,
		BlockNumber: Codec,
	{
		/// Every registered model, in id order.
		fn models() -> Vec<ModelSummary<AccountId, Balance>>;
		/// A request, open or within its retention period.
		fn request(id: RequestId) -> Option<RequestView<AccountId, Balance, BlockNumber>>;
		/// What a request of `task` for `model` on `input` would cost at
		/// most, or why it would be refused.
		fn quote(model: ModelId, input: Vec<u32>, task: Task) -> Result<FeeQuote<Balance>, Refusal>;
		/// What `who`'s request of `task` for `model` on `input` holding
		/// `max_fee` would cost at most, or why it would be refused (the fee
		/// and `who`'s funds included): the transaction pool's own check.
		fn check(who: AccountId, model: ModelId, input: Vec<u32>, task: Task, max_fee: Balance) -> Result<FeeQuote<Balance>, Refusal>;
		/// The open, unanswered assignments of `worker`, oldest first.
		fn assignments(worker: AccountId) -> Vec<Assignment<BlockNumber>>;
		/// The id the next request will get.
		fn next_request_id() -> RequestId;
		/// The validator whose registered worker key is `key`.
		fn worker_by_key(key: WorkerKey) -> Option<AccountId>;
		/// Results open to challenge among requests `from..from + limit`
		/// (`limit` at most 1,024), by request: what an auditor re-executes.
		fn open_results(from: RequestId, limit: u32) -> Vec<(RequestId, PostedResult<AccountId, BlockNumber>)>;
		/// Every validator of the active era: commission, own and total
		/// stake, and its worker's income and record this era and the last.
		fn validators() -> Vec<ValidatorView<AccountId, Balance>>;
		/// A nominator's bond, targets, and expected share of the inference
		/// income of each validator it backs, this era and the last.
		fn nominator(who: AccountId) -> NominatorView<AccountId, Balance>;
	}

	/// Read access to the dispute game.
	pub trait DisputesApi<AccountId, Balance, BlockNumber>
	where
		AccountId: Codec,
		Balance: Codec,
		BlockNumber: Codec,
	{
		/// The open dispute over a request's result.
		fn dispute(request: RequestId) -> Option<DisputeView<AccountId, Balance, BlockNumber>>;
		/// The open disputes `who` is a party of (as worker or challenger),
		/// by request.
		fn disputes_of(who: AccountId) -> Vec<DisputeView<AccountId, Balance, BlockNumber>>;
		/// How a request's last dispute ended (kept for a retention period).
		fn resolution(request: RequestId) -> Option<Resolution<AccountId, BlockNumber>>;
	}
}
