//! Read-only views for the runtime API: what a dapp and a worker ask of the
//! marketplace.

use crate::{pallet::*, types::*};
use alloc::vec::Vec;
use codec::{Decode, Encode};
use frame_system::pallet_prelude::BlockNumberFor;
use pallet_models::{ModelId, Task};
use scale_info::TypeInfo;
use serde::{Deserialize, Serialize};
use sp_core::H256;

/// Where a request is, open or finished.
#[derive(Clone, PartialEq, Eq, Encode, Decode, TypeInfo, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", tag = "state")]
pub enum RequestState<AccountId, Balance, BlockNumber> {
	/// Waiting for `worker` until `deadline`; `attempt` counts workers tried.
	#[serde(rename_all = "camelCase")]
	Assigned { worker: AccountId, deadline: BlockNumber, attempt: u32 },
	/// Answered; settles in `challenge_end` unless challenged.
	#[serde(rename_all = "camelCase")]
	Answered { worker: AccountId, trace_root: H256, steps: u32, challenge_end: BlockNumber },
	/// Challenged; waits for the dispute.
	#[serde(rename_all = "camelCase")]
	Frozen { worker: AccountId, trace_root: H256, steps: u32 },
	/// Paid in block `at`.
	#[serde(rename_all = "camelCase")]
	Settled { worker: AccountId, worker_share: Balance, protocol_cut: Balance, at: BlockNumber },
	/// Refunded in block `at`.
	#[serde(rename_all = "camelCase")]
	Refunded { amount: Balance, at: BlockNumber },
}

/// A request as RPC clients see it.
#[derive(Clone, PartialEq, Eq, Encode, Decode, TypeInfo, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RequestView<AccountId, Balance, BlockNumber> {
	pub id: RequestId,
	pub caller: AccountId,
	pub model: ModelId,
	/// An embedding, or a generation and its limits.
	pub task: Task,
	/// Held while open; `None` once finished.
	pub max_fee: Option<Balance>,
	/// What the caller pays if it settles, at the prices of request time
	/// (a generation's for `max_new_tokens` until answered, then for the
	/// tokens generated); `None` once finished.
	pub price: Option<Balance>,
	pub state: RequestState<AccountId, Balance, BlockNumber>,
	/// The result, once answered (kept through retention when settled).
	pub output: Option<Vec<u8>>,
}

/// Work assigned to a worker that it has not answered yet.
#[derive(Clone, PartialEq, Eq, Encode, Decode, TypeInfo, Debug)]
pub struct Assignment<BlockNumber> {
	pub request: RequestId,
	pub model: ModelId,
	pub input: Vec<u32>,
	/// An embedding, or a generation and its limits.
	pub task: Task,
	/// A generation's sampling seed.
	pub seed: H256,
	/// Last block a result is accepted in.
	pub deadline: BlockNumber,
}

/// What a request would cost.
#[derive(Clone, PartialEq, Eq, Encode, Decode, TypeInfo, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FeeQuote<Balance> {
	/// What the caller pays (the least `max_fee` accepted).
	pub price: Balance,
	/// Of which the worker gets this,
	pub worker_share: Balance,
	/// and the treasury this.
	pub protocol_cut: Balance,
}

/// Why a request is refused, before anything is held: what `request`
/// fails with, what the transaction pool rejects it for
/// ([`crate::CheckRequest`]), and what a quote answers. Each has the
/// [`Error`] of the same name; its index is the pool's
/// `InvalidTransaction::Custom` code.
#[derive(Clone, Copy, PartialEq, Eq, Encode, Decode, TypeInfo, Debug, Serialize, Deserialize)]
pub enum Refusal {
	/// No model with this id.
	UnknownModel,
	/// The model is retired.
	ModelRetired,
	/// The model's results exceed `MaxOutputBytes`.
	UnservableModel,
	/// The input has no tokens.
	EmptyInput,
	/// The input is longer than the model (or `MaxInputTokens`) allows.
	InputTooLong,
	/// A token id is outside the model's vocabulary.
	TokenOutOfRange,
	/// No active worker serves the model.
	NoEligibleWorker,
	/// `max_fee` is below the model's price (a generation's at
	/// `max_new_tokens`).
	FeeTooLow,
	/// `MaxOpenRequests` are open.
	TooManyRequests,
	/// The caller cannot hold `max_fee`.
	InsufficientBalance,
	/// The model does not do this task (an embedding of a generation
	/// model, or the reverse).
	WrongTask,
	/// `max_new_tokens` is 0, above `MaxNewTokens`, or with the prompt
	/// passes the model's positions.
	BadMaxNewTokens,
}

impl<T> From<Refusal> for Error<T> {
	fn from(r: Refusal) -> Self {
		match r {
			Refusal::UnknownModel => Error::UnknownModel,
			Refusal::ModelRetired => Error::ModelRetired,
			Refusal::UnservableModel => Error::UnservableModel,
			Refusal::EmptyInput => Error::EmptyInput,
			Refusal::InputTooLong => Error::InputTooLong,
			Refusal::TokenOutOfRange => Error::TokenOutOfRange,
			Refusal::NoEligibleWorker => Error::NoEligibleWorker,
			Refusal::FeeTooLow => Error::FeeTooLow,
			Refusal::TooManyRequests => Error::TooManyRequests,
			Refusal::InsufficientBalance => Error::InsufficientBalance,
			Refusal::WrongTask => Error::WrongTask,
			Refusal::BadMaxNewTokens => Error::BadMaxNewTokens,
		}
	}
}

/// A posted result of this runtime's types.
pub type PostedResultOf<T> =
	crate::PostedResult<<T as frame_system::Config>::AccountId, BlockNumberFor<T>>;

impl<T: Config> Pallet<T> {
	/// The view of request `id`, open or within retention.
	pub fn request_view(
		id: RequestId,
	) -> Option<RequestView<T::AccountId, BalanceOf<T>, BlockNumberFor<T>>> {
		let (caller, model, task, max_fee, price, state) = match Requests::<T>::get(id) {
			Some(req) => {
				let attempt = req.tried.len() as u32;
				let state = match req.status {
					RequestStatus::Assigned { worker, deadline } => {
						RequestState::Assigned { worker, deadline, attempt }
					}
					RequestStatus::Answered { worker, trace_root, steps, challenge_end } => {
						RequestState::Answered { worker, trace_root, steps, challenge_end }
					}
					RequestStatus::Frozen { worker, trace_root, steps } => {
						RequestState::Frozen { worker, trace_root, steps }
					}
				};
				(req.caller, req.model, req.task, Some(req.max_fee), Some(req.price), state)
			}
			None => {
				let done = Completions::<T>::get(id)?;
				let state = match done.outcome {
					Outcome::Settled { worker, worker_share, protocol_cut } => {
						RequestState::Settled { worker, worker_share, protocol_cut, at: done.at }
					}
					Outcome::Refunded { amount } => RequestState::Refunded { amount, at: done.at },
				};
				(done.caller, done.model, done.task, None, None, state)
			}
		};
		let output = Outputs::<T>::get(id).map(|o| o.into_inner());
		Some(RequestView { id, caller, model, task, max_fee, price, state, output })
	}

	/// The open assignments of `worker`, oldest first, from its assignment
	/// index.
	pub fn assignments_of(worker: &T::AccountId) -> Vec<Assignment<BlockNumberFor<T>>> {
		let mut out: Vec<_> = WorkerAssignments::<T>::iter_key_prefix(worker)
			.filter_map(|id| Some((id, Requests::<T>::get(id)?)))
			.filter_map(|(id, req)| match req.status {
				RequestStatus::Assigned { worker: w, deadline } if &w == worker => {
					Some(Assignment {
						request: id,
						model: req.model,
						input: req.input.into_inner(),
						task: req.task,
						seed: req.seed,
						deadline,
					})
				}
				_ => None,
			})
			.collect();
		out.sort_by_key(|a| a.request);
		out
	}

	/// Results still open to challenge among requests `from..from + limit`
	/// (`limit` capped at 1,024 ids), by request: what an auditor
	/// re-executes. Frozen ones are left out (already disputed).
	pub fn open_results(from: RequestId, limit: u32) -> Vec<(RequestId, PostedResultOf<T>)> {
		use crate::ResultDisputes;
		let end = from.saturating_add(u64::from(limit.min(1024)));
		(from..end.min(NextRequestId::<T>::get()))
			.filter_map(|id| Some((id, Self::result(id)?)))
			.filter(|(_, r)| r.challenge_end.is_some())
			.collect()
	}

	/// The validator whose worker signs with `key` (scans at most
	/// `MaxWorkers` records).
	pub fn worker_by_key(key: &crate::WorkerKey) -> Option<T::AccountId> {
		Workers::<T>::iter().find(|(_, w)| &w.key == key).map(|(who, _)| who)
	}

	/// What a request of `task` for `model` on `input` would cost now at
	/// most (a generation's with `max_new_tokens` generated), or why it
	/// would be refused (whoever makes it, with whatever `max_fee`).
	pub fn quote(
		model: ModelId,
		input: &[u32],
		task: &Task,
	) -> Result<FeeQuote<BalanceOf<T>>, Refusal> {
		Self::admit(None, model, input, task)
			.map(|a| Self::fee_quote(Self::max_price(&a.terms, input.len() as u32, task)))
	}

	/// What `who`'s request of `task` for `model` on `input` holding
	/// `max_fee` would cost now at most, or why it would be refused (funds
	/// and fee included).
	pub fn check(
		who: &T::AccountId,
		model: ModelId,
		input: &[u32],
		task: &Task,
		max_fee: BalanceOf<T>,
	) -> Result<FeeQuote<BalanceOf<T>>, Refusal> {
		Self::admit(Some((who, max_fee)), model, input, task)
			.map(|a| Self::fee_quote(Self::max_price(&a.terms, input.len() as u32, task)))
	}

	fn fee_quote(price: BalanceOf<T>) -> FeeQuote<BalanceOf<T>> {
		let (worker_share, protocol_cut) = Self::split_price(price);
		FeeQuote { price, worker_share, protocol_cut }
	}
}

/// One era of a validator's inference work.
#[derive(Clone, PartialEq, Eq, Encode, Decode, TypeInfo, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EraIncome<Balance> {
	/// The era.
	pub era: EraIndex,
	/// Worker shares settled in it: what its era payout adds for this
	/// validator and its nominators.
	pub income: Balance,
	/// Requests settled.
	pub served: u32,
	/// Deadlines missed.
	pub missed: u32,
	/// Disputes won (as worker or challenger).
	pub disputes_won: u32,
	/// Disputes lost.
	pub disputes_lost: u32,
}

impl<Balance> EraIncome<Balance> {
	/// The record of `era`.
	pub fn new(era: EraIndex, work: EraWork<Balance>) -> Self {
		Self {
			era,
			income: work.income,
			served: work.served,
			missed: work.missed,
			disputes_won: work.disputes_won,
			disputes_lost: work.disputes_lost,
		}
	}
}

/// An active validator as a token holder sees it: its terms and stake in the
/// active era, and what its worker earned this era and the last.
#[derive(Clone, PartialEq, Eq, Encode, Decode, TypeInfo, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ValidatorView<AccountId, Balance> {
	/// The validator's stash.
	pub stash: AccountId,
	/// Its commission in the active era, in billionths.
	pub commission: u32,
	/// Its own stake in the active era.
	pub own: Balance,
	/// Its own and nominated stake in the active era.
	pub total: Balance,
	/// Nominators backing it in the active era.
	pub nominators: u32,
	/// Whether its worker is registered now.
	pub worker: bool,
	/// The active era so far.
	pub current: EraIncome<Balance>,
	/// The era before, if any.
	pub previous: Option<EraIncome<Balance>>,
}

/// What a nominator can expect from one validator it backs in an era.
#[derive(Clone, PartialEq, Eq, Encode, Decode, TypeInfo, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Backing<AccountId, Balance> {
	/// The validator.
	pub validator: AccountId,
	/// The era.
	pub era: EraIndex,
	/// The nominator's stake behind it in the era.
	pub stake: Balance,
	/// The validator's own and nominated stake in the era.
	pub total: Balance,
	/// The validator's commission in the era, in billionths.
	pub commission: u32,
	/// The validator's inference income in the era.
	pub income: Balance,
	/// The nominator's share of that income as staking pays it: income
	/// minus commission, times stake over total (on top of its share of
	/// the era's inflation).
	pub share: Balance,
}

/// A nominator's inference income: its stake, whom it nominates, and its
/// expected share from each validator it backs in the active era and the
/// one before.
#[derive(Clone, PartialEq, Eq, Encode, Decode, TypeInfo, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NominatorView<AccountId, Balance> {
	/// The nominator's stash.
	pub stash: AccountId,
	/// Its active bond (zero if it is not bonded).
	pub bonded: Balance,
	/// Whom it nominates now (takes effect at the next election).
	pub targets: Vec<AccountId>,
	/// The active era.
	pub era: Option<EraIndex>,
	/// Its backings in the active era (so far) and the era before.
	pub backings: Vec<Backing<AccountId, Balance>>,
}
