//! # Inference marketplace
//!
//! The on-chain half of a Cinder request:
//!
//! 1. an active validator registers its **worker** key and the models it
//!    serves (`register_worker`);
//! 2. a dapp calls `request(model, input, max_fee)` for an embedding, or
//!    `generate(model, prompt, max_new_tokens, sampling, max_fee)` for a
//!    reply: `max_fee` is **held** (`HoldReason::Escrow`; it must cover the
//!    model's price with `max_new_tokens` generated), and a worker is
//!    **assigned** at once, chosen
//!    among the eligible workers with probability proportional to stake, from
//!    randomness the block author cannot choose alone;
//! 3. the worker posts `submit_result` (a general transaction authorized by
//!    its key's signature, so it needs no funded account) before its
//!    deadline; a missed deadline demotes the worker and the request is
//!    reassigned, at most `MaxAttempts` times, then refunded in full;
//! 4. when the challenge window closes the request **settles**: the price
//!    (a generation's for the tokens it generated) minus the protocol cut (to the treasury) is the worker's share, paid
//!    into the **staking pot** and counted as its validator's income in the
//!    active era, which the era's staking payout hands to the validator and
//!    its nominators by FRAME's rules (see the README's worked example); the
//!    rest of `max_fee` goes back to the caller. A result can instead be challenged:
//!    the dispute game (`pallet-disputes`) freezes it and later resolves it
//!    through [`ResultDisputes`] — upheld (it settles after a fresh window)
//!    or fraud (the worker is expelled and the request goes to another).
//!
//! Deadlines, settlements and pruning of finished requests run from FIFO
//! queues in `on_initialize`, at most `MaxQueueWork` entries per queue and
//! block. Calls are thin; the logic is in `impls.rs` (calls),
//! `assignment.rs`, `queues.rs` (per-block work), `disputes.rs` (freezing and
//! resolving for the dispute game), `eras.rs` (each validator's record per
//! era, which the era payout reads) and `invariants.rs` (try-state).

#![cfg_attr(not(feature = "std"), no_std)]
#![deny(clippy::arithmetic_side_effects)]

extern crate alloc;

pub use pallet::*;

mod assignment;
mod extension;
// The benchmarks run as tests in every test build (no separate
// `runtime-benchmarks` build of the dependency tree).
#[cfg(any(feature = "runtime-benchmarks", test))]
mod benchmarking;
pub mod crypto;
mod disputes;
mod eras;
mod impls;
mod invariants;
#[cfg(test)]
mod mock;
mod queues;
#[cfg(test)]
mod tests;
pub mod traits;
pub mod types;
mod views;
pub mod weights;

pub use crypto::{WorkerKey, WorkerSignature};
pub use extension::{refusal_code, refusal_of_code, CheckRequest};
pub use traits::{PostedResult, ResultDisputes, ValidatorStaking, Verdict};
pub use types::*;
pub use views::{
	Assignment, Backing, EraIncome, FeeQuote, NominatorView, Refusal, RequestState, RequestView,
	ValidatorView,
};
pub use weights::WeightInfo;

// FRAME's macros expand to `expect` calls on what they have checked; the
// workspace's `expect_used` lint still holds for the hand-written code
// outside this module (`impls.rs` and friends).
#[allow(clippy::expect_used, clippy::unwrap_used)]
#[frame_support::pallet]
pub mod pallet {
	use super::*;
	use alloc::vec::Vec;
	use frame_support::{
		pallet_prelude::*,
		traits::{
			fungible::{Inspect, Mutate, MutateHold},
			Randomness,
		},
	};
	use frame_system::pallet_prelude::*;
	use pallet_models::{Generation, ModelId, ModelProvider, Sampling, Task};
	use sp_core::H256;
	use sp_runtime::Perbill;

	/// Balance of the escrow currency.
	pub type BalanceOf<T> =
		<<T as Config>::Currency as Inspect<<T as frame_system::Config>::AccountId>>::Balance;
	/// A request as stored.
	pub type RequestOf<T> = Request<
		<T as frame_system::Config>::AccountId,
		BalanceOf<T>,
		BlockNumberFor<T>,
		<T as Config>::MaxInputTokens,
		<T as Config>::MaxAttempts,
	>;
	/// A worker as stored.
	pub type WorkerOf<T> = WorkerInfo<BlockNumberFor<T>, <T as Config>::MaxModelsPerWorker>;
	/// A completion as stored.
	pub type CompletionOf<T> =
		Completion<<T as frame_system::Config>::AccountId, BalanceOf<T>, BlockNumberFor<T>>;
	/// A result's bytes.
	pub type OutputOf<T> = BoundedVec<u8, <T as Config>::MaxOutputBytes>;

	#[pallet::pallet]
	pub struct Pallet<T>(_);

	#[pallet::config]
	pub trait Config: frame_system::Config {
		/// The overarching event type.
		#[allow(deprecated)]
		type RuntimeEvent: From<Event<Self>> + IsType<<Self as frame_system::Config>::RuntimeEvent>;
		/// The currency fees are held and paid in.
		type Currency: MutateHold<Self::AccountId, Reason = Self::RuntimeHoldReason>
			+ Mutate<Self::AccountId>;
		/// The overarching hold reason.
		type RuntimeHoldReason: From<HoldReason>;
		/// The model registry.
		type Models: ModelProvider<Self::AccountId, BalanceOf<Self>>;
		/// The validator set and its stake.
		type Staking: ValidatorStaking<Self::AccountId, BalanceOf<Self>>;
		/// Randomness for assignment; must not be the block author's alone.
		type Randomness: Randomness<Self::Hash, BlockNumberFor<Self>>;
		/// Receives the protocol's cut of every settled fee.
		type Treasury: Get<Self::AccountId>;
		/// Receives the worker's share of every settled fee while the worker
		/// is an active validator, for the era's staking payout to
		/// distribute. Must exist (hold the existential deposit) from
		/// genesis.
		type StakingPot: Get<Self::AccountId>;
		/// Eras each validator's work record is kept for.
		#[pallet::constant]
		type EraHistory: Get<u32>;
		/// The treasury's share of a settled fee.
		#[pallet::constant]
		type ProtocolCut: Get<Perbill>;
		/// Blocks a worker has to answer, counted from its assignment.
		#[pallet::constant]
		type ResultTimeout: Get<BlockNumberFor<Self>>;
		/// Workers tried per request before it is refunded.
		#[pallet::constant]
		type MaxAttempts: Get<u32>;
		/// Blocks after a result during which it may be challenged.
		#[pallet::constant]
		type ChallengePeriod: Get<BlockNumberFor<Self>>;
		/// Blocks a worker that missed a deadline is demoted for.
		#[pallet::constant]
		type MissDemotion: Get<BlockNumberFor<Self>>;
		/// Blocks a worker proven to have lied may not register again.
		#[pallet::constant]
		type FraudBan: Get<BlockNumberFor<Self>>;
		/// Blocks a finished request's outcome and result stay readable.
		#[pallet::constant]
		type ResultRetention: Get<BlockNumberFor<Self>>;
		/// Longest input any model may take, in tokens.
		#[pallet::constant]
		type MaxInputTokens: Get<u32>;
		/// Longest result any model may return, in bytes.
		#[pallet::constant]
		type MaxOutputBytes: Get<u32>;
		/// Most tokens one generation request may ask for.
		#[pallet::constant]
		type MaxNewTokens: Get<u32>;
		/// Most registered workers, and most workers per model.
		#[pallet::constant]
		type MaxWorkers: Get<u32>;
		/// Most models one worker serves.
		#[pallet::constant]
		type MaxModelsPerWorker: Get<u32>;
		/// Most requests open at once.
		#[pallet::constant]
		type MaxOpenRequests: Get<u32>;
		/// Most entries each queue processes per block.
		#[pallet::constant]
		type MaxQueueWork: Get<u32>;
		/// Weights of this pallet's calls and per-block work.
		type WeightInfo: WeightInfo;
	}

	/// Why this pallet holds funds.
	#[pallet::composite_enum]
	pub enum HoldReason {
		/// A request's `max_fee`, until it settles or is refunded.
		#[codec(index = 0)]
		Escrow,
	}

	/// Registered workers, by validator stash.
	#[pallet::storage]
	pub type Workers<T: Config> = CountedStorageMap<_, Twox64Concat, T::AccountId, WorkerOf<T>>;

	/// The workers serving each model.
	#[pallet::storage]
	pub type ModelWorkers<T: Config> =
		StorageMap<_, Twox64Concat, ModelId, BoundedVec<T::AccountId, T::MaxWorkers>, ValueQuery>;

	/// Open requests.
	#[pallet::storage]
	pub type Requests<T: Config> = CountedStorageMap<_, Twox64Concat, RequestId, RequestOf<T>>;

	/// Open requests per model (a model in use cannot be removed).
	#[pallet::storage]
	pub type OpenPerModel<T: Config> = StorageMap<_, Twox64Concat, ModelId, u32, ValueQuery>;

	/// The id the next request gets.
	#[pallet::storage]
	pub type NextRequestId<T> = StorageValue<_, RequestId, ValueQuery>;

	/// Results of answered requests, kept through settlement and retention.
	#[pallet::storage]
	pub type Outputs<T: Config> = StorageMap<_, Twox64Concat, RequestId, OutputOf<T>>;

	/// Finished requests, kept for `ResultRetention` blocks.
	#[pallet::storage]
	pub type Completions<T: Config> = StorageMap<_, Twox64Concat, RequestId, CompletionOf<T>>;

	/// Open assignments by worker: an entry for every assigned request.
	#[pallet::storage]
	pub type WorkerAssignments<T: Config> =
		StorageDoubleMap<_, Twox64Concat, T::AccountId, Twox64Concat, RequestId, ()>;

	/// Workers expelled for fraud whose open assignments are still being
	/// handed to other workers, a few per block.
	#[pallet::storage]
	pub type Expelling<T: Config> =
		StorageValue<_, BoundedVec<T::AccountId, T::MaxWorkers>, ValueQuery>;

	/// Workers expelled for fraud, and the block from which each may register
	/// again. One entry per proven fraud; it goes when the worker registers
	/// again.
	#[pallet::storage]
	pub type Banned<T: Config> = StorageMap<_, Twox64Concat, T::AccountId, BlockNumberFor<T>>;

	/// What each validator's worker did in each of the last `EraHistory`
	/// eras. An era holds at most one record per validator active in it
	/// (only active validators serve and challenge).
	#[pallet::storage]
	pub type ErasWork<T: Config> = StorageDoubleMap<
		_,
		Twox64Concat,
		EraIndex,
		Twox64Concat,
		T::AccountId,
		EraWork<BalanceOf<T>>,
		ValueQuery,
	>;

	/// The oldest era whose records are kept.
	#[pallet::storage]
	pub type OldestEra<T> = StorageValue<_, EraIndex, ValueQuery>;

	/// Queue entries: `(due block, request)` by queue and position.
	#[pallet::storage]
	pub type Queue<T: Config> = StorageDoubleMap<
		_,
		Twox64Concat,
		QueueKind,
		Twox64Concat,
		u64,
		(BlockNumberFor<T>, RequestId),
	>;

	/// Each queue's `(head, tail)`: entries are at positions `head..tail`.
	#[pallet::storage]
	pub type QueueBounds<T> = StorageMap<_, Twox64Concat, QueueKind, (u64, u64), ValueQuery>;

	#[pallet::event]
	#[pallet::generate_deposit(pub(super) fn deposit_event)]
	pub enum Event<T: Config> {
		/// A validator registered (or updated) its worker.
		WorkerRegistered {
			/// The validator stash.
			worker: T::AccountId,
			/// The key its results are signed with.
			key: WorkerKey,
			/// The models it serves.
			models: Vec<ModelId>,
		},
		/// A worker stopped serving.
		WorkerDeregistered {
			/// The validator stash.
			worker: T::AccountId,
		},
		/// A request was made and its `max_fee` held.
		Requested {
			/// The request.
			request: RequestId,
			/// Who pays.
			caller: T::AccountId,
			/// The model.
			model: ModelId,
			/// An embedding, or a generation and its limits.
			task: pallet_models::Task,
			/// The amount held.
			max_fee: BalanceOf<T>,
			/// The most the caller will pay if it settles (a generation
			/// pays for the tokens it generated).
			price: BalanceOf<T>,
		},
		/// A worker was assigned a request.
		Assigned {
			/// The request.
			request: RequestId,
			/// The worker.
			worker: T::AccountId,
			/// Last block its result is accepted in.
			deadline: BlockNumberFor<T>,
			/// 1 for the first worker, 2 for the next, …
			attempt: u32,
		},
		/// A worker posted a result; the challenge window is open.
		ResultSubmitted {
			/// The request.
			request: RequestId,
			/// The worker.
			worker: T::AccountId,
			/// Merkle root of its execution trace.
			trace_root: H256,
			/// Number of steps in the trace.
			steps: u32,
			/// Block in which the request settles if unchallenged.
			challenge_end: BlockNumberFor<T>,
		},
		/// A worker missed its deadline and was demoted.
		DeadlineMissed {
			/// The request.
			request: RequestId,
			/// The worker.
			worker: T::AccountId,
		},
		/// A request settled: the worker's share was paid.
		Settled {
			/// The request.
			request: RequestId,
			/// The worker.
			worker: T::AccountId,
			/// The worker's share of the price.
			worker_share: BalanceOf<T>,
			/// The era whose staking payout distributes `worker_share` (paid
			/// into the staking pot); `None` when the worker was no longer an
			/// active validator and was paid directly.
			era: Option<EraIndex>,
			/// Paid to the treasury.
			protocol_cut: BalanceOf<T>,
			/// Released back to the caller (`max_fee` minus price).
			released: BalanceOf<T>,
		},
		/// A request was refunded in full.
		Refunded {
			/// The request.
			request: RequestId,
			/// Who got the refund.
			caller: T::AccountId,
			/// The amount released.
			amount: BalanceOf<T>,
		},
		/// A result was frozen for a dispute; it will not settle on its own.
		Frozen {
			/// The request.
			request: RequestId,
		},
		/// A dispute upheld a frozen result: it settles after a fresh window.
		Upheld {
			/// The request.
			request: RequestId,
			/// Block in which it settles if not challenged again.
			challenge_end: BlockNumberFor<T>,
		},
		/// A dispute proved a result wrong: its worker gets nothing and the
		/// request goes to another worker (or is refunded).
		ResultRejected {
			/// The request.
			request: RequestId,
			/// The worker that posted the wrong result.
			worker: T::AccountId,
		},
		/// A worker proven to have lied was expelled: it serves no model and
		/// its open assignments go to other workers.
		WorkerExpelled {
			/// The validator stash.
			worker: T::AccountId,
		},
	}

	#[pallet::error]
	pub enum Error<T> {
		/// The caller is not an active validator.
		NotValidator,
		/// The caller has no registered worker.
		NotWorker,
		/// A worker must serve at least one model.
		NoModels,
		/// A worker serves more than `MaxModelsPerWorker` models.
		TooManyModels,
		/// A model is listed twice.
		DuplicateModel,
		/// No model with this id.
		UnknownModel,
		/// A model already has `MaxWorkers` workers, or the pallet does.
		TooManyWorkers,
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
		/// `max_fee` is below the model's price (a generation's at
		/// `max_new_tokens`).
		FeeTooLow,
		/// The model does not do this task: an embedding asked of a
		/// generation model, or the reverse.
		WrongTask,
		/// `max_new_tokens` is 0, above `MaxNewTokens`, or with the prompt
		/// passes the model's positions.
		BadMaxNewTokens,
		/// `MaxOpenRequests` are open.
		TooManyRequests,
		/// No active worker serves the model.
		NoEligibleWorker,
		/// The caller cannot hold `max_fee`.
		InsufficientBalance,
		/// No open request with this id.
		UnknownRequest,
		/// The request is not waiting for a result.
		NotAssigned,
		/// The worker's deadline has passed.
		DeadlinePassed,
		/// The result is not the task's: an embedding of another length, or
		/// a reply that is empty, too long, outside the vocabulary, runs
		/// past its end token or stops early.
		BadOutput,
		/// The step count is not the length of the model's program for the
		/// input.
		BadStepCount,
		/// The request has no result in its challenge window.
		NotAnswered,
		/// The request is not frozen for a dispute.
		NotFrozen,
		/// The worker was expelled for fraud and its ban has not ended.
		Banned,
	}

	#[pallet::genesis_config]
	#[derive(frame_support::DefaultNoBound)]
	pub struct GenesisConfig<T: Config> {
		/// Workers registered at genesis: validator stash, worker key, models.
		/// Genesis trusts that they are validators.
		pub workers: Vec<(T::AccountId, WorkerKey, Vec<ModelId>)>,
	}

	#[pallet::genesis_build]
	impl<T: Config> BuildGenesisConfig for GenesisConfig<T> {
		fn build(&self) {
			for (who, key, models) in &self.workers {
				if let Err(e) = Pallet::<T>::insert_worker(who, key.clone(), models) {
					panic!("genesis worker does not register: {e:?}");
				}
			}
		}
	}

	#[pallet::hooks]
	impl<T: Config> Hooks<BlockNumberFor<T>> for Pallet<T> {
		fn on_initialize(now: BlockNumberFor<T>) -> Weight {
			Self::process_queues(now)
		}

		#[cfg(feature = "try-runtime")]
		fn try_state(_: BlockNumberFor<T>) -> Result<(), sp_runtime::TryRuntimeError> {
			Self::do_try_state()
		}
	}

	#[pallet::call(weight(<T as Config>::WeightInfo))]
	impl<T: Config> Pallet<T> {
		/// Registers the caller's worker (or replaces its key and models).
		/// The caller must be an active validator.
		#[pallet::call_index(0)]
		#[pallet::weight(T::WeightInfo::register_worker(models.len() as u32))]
		pub fn register_worker(
			origin: OriginFor<T>,
			key: WorkerKey,
			models: Vec<ModelId>,
		) -> DispatchResult {
			let who = ensure_signed(origin)?;
			Self::do_register_worker(who, key, models)
		}

		/// Removes the caller's worker. Open assignments run to their deadline.
		#[pallet::call_index(1)]
		pub fn deregister_worker(origin: OriginFor<T>) -> DispatchResult {
			let who = ensure_signed(origin)?;
			Self::do_deregister_worker(who)
		}

		/// Asks for `model` to run on `input` (token ids), holding `max_fee`.
		#[pallet::call_index(2)]
		#[pallet::weight(T::WeightInfo::request(input.len() as u32, T::MaxWorkers::get()))]
		pub fn request(
			origin: OriginFor<T>,
			model: ModelId,
			input: Vec<u32>,
			max_fee: BalanceOf<T>,
		) -> DispatchResultWithPostInfo {
			let who = ensure_signed(origin)?;
			let tokens = input.len() as u32;
			// Charged for `MaxWorkers` candidates; refund down to the real
			// count, whether it succeeds or is refused (a refusal stops
			// before the writes, so this bounds what it ran).
			let workers = ModelWorkers::<T>::decode_len(model).unwrap_or(0) as u32;
			let used = Some(T::WeightInfo::request(tokens, workers)).into();
			match Self::do_request(who, model, input, Task::Embed, max_fee) {
				Ok(_) => Ok(used),
				Err(error) => Err(sp_runtime::DispatchErrorWithPostInfo { post_info: used, error }),
			}
		}

		/// Asks generation model `model` to continue `prompt` (token ids)
		/// by at most `max_new_tokens` tokens drawn by `sampling` (from
		/// `seed`'s stream if given, else from one the chain draws), holding
		/// `max_fee`. The caller pays for the prompt and the tokens
		/// generated; the rest is released at settlement.
		///
		/// Weighed as `request` (the same reads and writes) plus the read
		/// of the sampler's randomness.
		#[pallet::call_index(4)]
		#[pallet::weight(T::WeightInfo::request(prompt.len() as u32, T::MaxWorkers::get())
			.saturating_add(T::DbWeight::get().reads(1)))]
		pub fn generate(
			origin: OriginFor<T>,
			model: ModelId,
			prompt: Vec<u32>,
			max_new_tokens: u32,
			sampling: Sampling,
			seed: Option<u64>,
			max_fee: BalanceOf<T>,
		) -> DispatchResultWithPostInfo {
			let who = ensure_signed(origin)?;
			let tokens = prompt.len() as u32;
			let workers = ModelWorkers::<T>::decode_len(model).unwrap_or(0) as u32;
			let used = Some(
				T::WeightInfo::request(tokens, workers).saturating_add(T::DbWeight::get().reads(1)),
			)
			.into();
			let task = Task::Generate(Generation { max_new_tokens, sampling, seed });
			match Self::do_request(who, model, prompt, task, max_fee) {
				Ok(_) => Ok(used),
				Err(error) => Err(sp_runtime::DispatchErrorWithPostInfo { post_info: used, error }),
			}
		}

		/// Posts the assigned worker's result: the output bytes, the root of
		/// its execution trace and its step count, signed with the worker key
		/// over [`crypto::result_payload`]. A general transaction: the
		/// signature authorizes it, no account pays a fee.
		#[pallet::call_index(3)]
		#[pallet::authorize(Pallet::<T>::authorize_result)]
		#[pallet::weight_of_authorize(T::WeightInfo::authorize_submit_result())]
		pub fn submit_result(
			origin: OriginFor<T>,
			request: RequestId,
			output: Vec<u8>,
			trace_root: H256,
			steps: u32,
			signature: WorkerSignature,
		) -> DispatchResult {
			ensure_authorized(origin)?;
			let _ = signature;
			Self::do_submit_result(request, output, trace_root, steps)
		}
	}
}
