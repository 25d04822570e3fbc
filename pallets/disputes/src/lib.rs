//! # Disputes: optimistic fraud proofs
//!
//! A posted inference result settles unless someone proves it wrong during
//! its challenge window. This pallet is the game that does it, checked by the
//! runtime itself:
//!
//! 1. **Challenge** (`challenge`): a registered worker other than the one
//!    that answered posts its own trace root for the request. Its bond
//!    (`ChallengeBond`) is held, the result is frozen (no settlement), and
//!    the dispute opens. One dispute per result.
//! 2. **Reveal** (`reveal`): both parties reveal their trace trees level by
//!    level. A round opens the node where the trees first differ (the roots
//!    at first) `log2(MaxRevealHashes)` levels down: each party publishes
//!    those nodes, which must rebuild its own hash of the node. Once both
//!    have revealed, the runtime finds the first node where they differ and
//!    opens it next, until it reaches a leaf: the first step where the traces
//!    differ, every earlier leaf agreed. A trace of up to `MaxRevealHashes`
//!    steps takes one round; a million steps, two. The worker's first reveal
//!    also proves that its result is its trace's last leaf (the result is the
//!    last step's output). Silence until `RevealPeriod` ends loses.
//! 3. **Prove** (`prove_step`): either party submits the input tiles of the
//!    first differing step, each with its Merkle proof: an earlier step's
//!    output against the agreed trace, a weight tile or token embedding row
//!    against the model's registered weight root (a generation model's
//!    quantized tiles in their GGUF blocks); a step that reads a sampled
//!    token (a generated token's embedding lookup) first opens each sample
//!    step's output against the agreed trace, and the token it holds picks
//!    the row. The runtime learns the step from the model's architecture in
//!    closed form (`pallet_models::Architecture::plan`, from the request's
//!    input, task and reply length), recomputes it with the canonical kernel
//!    of the model's spec (spec 2's sampler with the request's seed), and
//!    compares the leaf with both parties'. Whoever
//!    matches wins; if neither does, both lose. No valid proof by the end of
//!    `ProofPeriod`: the challenger, who carries the burden, loses.
//! 4. **Outcome**: a worker that lied is reported (`ReportFraud`, the
//!    runtime's `pallet-offences`, so staking slashes it and its nominators),
//!    expelled from the marketplace and unpaid, and the request goes to
//!    another worker (`pallet_inference::Verdict::Fraud`). A challenger that
//!    lied loses its bond: `BondToWorker` of it to the worker, the rest to
//!    the treasury (all of it when the worker lied too); the result then
//!    settles after a fresh window (`Verdict::Upheld`).
//!
//! Calls are general transactions authorized by the party's worker key
//! (like `pallet_inference::submit_result`), so a validator's node plays the
//! game with the key it already holds, and pays no fee; the bond and the
//! dispute's own bounds are what keep it from being spammed. Deadlines run
//! from `on_initialize`, at most `MaxQueueWork` per block. How each dispute
//! ended is kept for `ResolutionRetention` blocks (`Resolutions`), for the
//! node and RPC clients. The logic is in `impls.rs` (calls and outcomes),
//! `authorize.rs`, `deadlines.rs`, `views.rs` (for the runtime API) and
//! `invariants.rs` (try-state); `prover.rs` (std) builds a party's reveals
//! and proofs from its trace, for nodes and tests; `benchmarking.rs`
//! measures each call at its worst (a one-step proof at the heaviest
//! all-MiniLM-L6-v2 steps at 512 tokens, and at SmolLM2's heaviest
//! generation step), and `prove_step` is weighed at the heaviest of them.

#![cfg_attr(not(feature = "std"), no_std)]
#![deny(clippy::arithmetic_side_effects)]

extern crate alloc;

pub use pallet::*;

mod authorize;
// The benchmarks run as tests in every test build (no separate
// `runtime-benchmarks` build of the dependency tree).
#[cfg(any(feature = "runtime-benchmarks", test))]
mod benchmarking;
pub mod crypto;
mod deadlines;
mod impls;
mod invariants;
#[cfg(test)]
mod mock;
#[cfg(feature = "std")]
pub mod prover;
#[cfg(test)]
mod tests;
pub mod traits;
pub mod types;
mod views;
pub mod weights;

pub use impls::{sampled_steps, ProvenStep};
pub use traits::ReportFraud;
pub use types::*;
pub use views::{DisputeView, DisputeViewOf, StageView};
pub use weights::WeightInfo;

// FRAME's macros expand to `expect` calls on what they have checked; the
// workspace's `expect_used` lint still holds for the hand-written code
// outside this module.
#[allow(clippy::expect_used, clippy::unwrap_used)]
#[frame_support::pallet]
pub mod pallet {
	use super::*;
	use alloc::vec::Vec;
	use frame_support::{
		pallet_prelude::*,
		traits::fungible::{Inspect, Mutate, MutateHold},
	};
	use frame_system::pallet_prelude::*;
	use pallet_inference::{RequestId, ResultDisputes, WorkerSignature};
	use pallet_models::ModelProvider;
	use sp_core::H256;
	use sp_runtime::Perbill;

	/// Balance of the bond currency.
	pub type BalanceOf<T> =
		<<T as Config>::Currency as Inspect<<T as frame_system::Config>::AccountId>>::Balance;
	/// A dispute as stored.
	pub type DisputeOf<T> =
		Dispute<<T as frame_system::Config>::AccountId, BalanceOf<T>, BlockNumberFor<T>>;

	/// A resolution as stored.
	pub type ResolutionOf<T> =
		Resolution<<T as frame_system::Config>::AccountId, BlockNumberFor<T>>;

	#[pallet::pallet]
	pub struct Pallet<T>(_);

	#[pallet::config]
	pub trait Config: frame_system::Config {
		/// The overarching event type.
		#[allow(deprecated)]
		type RuntimeEvent: From<Event<Self>> + IsType<<Self as frame_system::Config>::RuntimeEvent>;
		/// The currency bonds are held in.
		type Currency: MutateHold<Self::AccountId, Reason = Self::RuntimeHoldReason>
			+ Mutate<Self::AccountId>;
		/// The overarching hold reason.
		type RuntimeHoldReason: From<HoldReason>;
		/// The marketplace: results, freezing and resolving them.
		type Results: ResultDisputes<Self::AccountId, BlockNumberFor<Self>>;
		/// The model registry: architectures and weight roots.
		type Models: ModelProvider<Self::AccountId, BalanceOf<Self>>;
		/// Where proven fraud is reported for slashing.
		type Fraud: ReportFraud<Self::AccountId>;
		/// Receives what a lying challenger's bond does not pay the worker.
		type Treasury: Get<Self::AccountId>;
		/// Held from a challenger until its dispute ends.
		#[pallet::constant]
		type ChallengeBond: Get<BalanceOf<Self>>;
		/// The share of a lying challenger's bond paid to the worker it
		/// accused (when the worker did not lie too).
		#[pallet::constant]
		type BondToWorker: Get<Perbill>;
		/// Blocks each party has to reveal, per round.
		#[pallet::constant]
		type RevealPeriod: Get<BlockNumberFor<Self>>;
		/// Blocks either party has to prove the first differing step.
		#[pallet::constant]
		type ProofPeriod: Get<BlockNumberFor<Self>>;
		/// Most hashes one reveal holds; its largest power of two is how many
		/// nodes a round opens.
		#[pallet::constant]
		type MaxRevealHashes: Get<u32>;
		/// Most input tiles a one-step proof holds.
		#[pallet::constant]
		type MaxProofTiles: Get<u32>;
		/// Most deadlines handled per block.
		#[pallet::constant]
		type MaxQueueWork: Get<u32>;
		/// Blocks a dispute's [`Resolution`] is kept after it ended.
		#[pallet::constant]
		type ResolutionRetention: Get<BlockNumberFor<Self>>;
		/// Weights of the calls and the per-block work.
		type WeightInfo: WeightInfo;
	}

	/// Why this pallet holds funds.
	#[pallet::composite_enum]
	pub enum HoldReason {
		/// A challenger's bond, until its dispute ends.
		#[codec(index = 0)]
		ChallengeBond,
	}

	/// Open disputes, by request (one per result).
	#[pallet::storage]
	pub type Disputes<T: Config> = CountedStorageMap<_, Twox64Concat, RequestId, DisputeOf<T>>;

	/// The hashes the first party to reveal in the current round published,
	/// waiting for the other's.
	#[pallet::storage]
	pub type Reveals<T: Config> =
		StorageMap<_, Twox64Concat, RequestId, BoundedVec<H256, T::MaxRevealHashes>>;

	/// How each request's last dispute ended, until `ResolutionRetention`
	/// blocks later (its expiry is scheduled in `Deadlines`).
	#[pallet::storage]
	pub type Resolutions<T: Config> = StorageMap<_, Twox64Concat, RequestId, ResolutionOf<T>>;

	/// Stage deadlines (and resolution expiries): the disputes whose stage ends before the block of
	/// the first key (each stage's `deadline + 1`).
	#[pallet::storage]
	pub type Deadlines<T: Config> =
		StorageDoubleMap<_, Twox64Concat, BlockNumberFor<T>, Twox64Concat, RequestId, ()>;

	/// The earliest block whose deadlines may not all have been handled.
	#[pallet::storage]
	pub type DeadlineCursor<T: Config> = StorageValue<_, BlockNumberFor<T>, ValueQuery>;

	#[pallet::event]
	#[pallet::generate_deposit(pub(super) fn deposit_event)]
	pub enum Event<T: Config> {
		/// A result was challenged: it is frozen and the reveal begins.
		Challenged {
			/// The request.
			request: RequestId,
			/// The worker whose result is challenged.
			worker: T::AccountId,
			/// The challenger.
			challenger: T::AccountId,
			/// The worker's trace root.
			worker_root: H256,
			/// The challenger's trace root.
			challenger_root: H256,
			/// Held from the challenger.
			bond: BalanceOf<T>,
			/// Last block of the first reveal round.
			reveal_deadline: BlockNumberFor<T>,
		},
		/// A party revealed the nodes of a round.
		Revealed {
			/// The request.
			request: RequestId,
			/// Who revealed.
			party: Party,
			/// The tree level of the nodes (0: leaves).
			level: u32,
			/// How many nodes.
			count: u32,
		},
		/// Both revealed and differ first under this node: the next round
		/// opens it.
		Narrowed {
			/// The request.
			request: RequestId,
			/// The node's level.
			level: u32,
			/// The node's index in its level.
			index: u32,
			/// Last block of the round.
			deadline: BlockNumberFor<T>,
		},
		/// The first differing step is found; every earlier step is agreed.
		StepFound {
			/// The request.
			request: RequestId,
			/// The step (leaf) index.
			step: u32,
			/// Last block a proof is accepted in.
			deadline: BlockNumberFor<T>,
		},
		/// The runtime recomputed the first differing step.
		StepProved {
			/// The request.
			request: RequestId,
			/// Who submitted the proof.
			by: Party,
			/// The step.
			step: u32,
			/// The leaf the runtime computed.
			leaf: H256,
		},
		/// A dispute ended.
		Resolved {
			/// The request.
			request: RequestId,
			/// How it was decided.
			ending: Ending,
			/// The worker's result was wrong: it is reported, expelled and
			/// unpaid; the request goes to another worker.
			worker_lied: bool,
			/// The challenger's claim was wrong: it lost its bond.
			challenger_lied: bool,
			/// Of the bond, paid to the worker.
			bond_to_worker: BalanceOf<T>,
			/// Of the bond, paid to the treasury.
			bond_to_treasury: BalanceOf<T>,
		},
	}

	#[pallet::error]
	pub enum Error<T> {
		/// The account has no registered worker.
		NotWorker,
		/// The request has no posted result.
		NoResult,
		/// The result is already disputed.
		AlreadyDisputed,
		/// The result's challenge window has closed.
		WindowClosed,
		/// A worker cannot challenge its own result.
		OwnResult,
		/// The challenger cannot hold the bond.
		InsufficientBond,
		/// No open dispute for this request.
		NoDispute,
		/// The dispute is not in a reveal round.
		NotRevealing,
		/// The dispute is not waiting for a proof.
		NotProving,
		/// The stage's deadline has passed.
		DeadlinePassed,
		/// This party has already revealed this round.
		AlreadyRevealed,
		/// A reveal must hold exactly the nodes under the round's node.
		WrongRevealLength,
		/// The revealed nodes do not rebuild the party's node.
		RevealMismatch,
		/// The worker's result is not its trace's last leaf (or the proof
		/// that it is is missing).
		OutputNotInTrace,
		/// Only the worker's first reveal carries an output proof.
		UnexpectedOutputProof,
		/// A proof must have one tile per input of the step.
		WrongTileCount,
		/// A tile's bytes are not a canonical tile encoding.
		MalformedTile,
		/// A tile fails its agreed trace leaf or its weight-tree proof.
		BadTileProof,
		/// The model or its program for this input is gone or invalid.
		BadProgram,
		/// The proven tiles do not fit the step's operator.
		StepFailed,
	}

	#[pallet::hooks]
	impl<T: Config> Hooks<BlockNumberFor<T>> for Pallet<T> {
		fn on_initialize(now: BlockNumberFor<T>) -> Weight {
			Self::process_deadlines(now)
		}

		#[cfg(feature = "try-runtime")]
		fn try_state(_: BlockNumberFor<T>) -> Result<(), sp_runtime::TryRuntimeError> {
			Self::do_try_state()
		}
	}

	#[pallet::call(weight(<T as Config>::WeightInfo))]
	impl<T: Config> Pallet<T> {
		/// Challenges the result of `request` on behalf of `challenger`,
		/// whose worker key signs [`crypto::challenge_payload`] over the
		/// challenger's own trace `root`. Holds the bond and freezes the result.
		#[pallet::call_index(0)]
		#[pallet::authorize(Pallet::<T>::authorize_challenge)]
		#[pallet::weight_of_authorize(T::WeightInfo::authorize_challenge())]
		pub fn challenge(
			origin: OriginFor<T>,
			request: RequestId,
			challenger: T::AccountId,
			root: H256,
			signature: WorkerSignature,
		) -> DispatchResult {
			ensure_authorized(origin)?;
			let _ = signature;
			Self::do_challenge(request, challenger, root)
		}

		/// `party` reveals this round's nodes of its trace tree, signed with
		/// its worker key over [`crypto::reveal_payload`]. The worker's first
		/// reveal also carries `output_proof`: the Merkle siblings of its
		/// trace's last leaf, which must be its result's tile.
		#[pallet::call_index(1)]
		#[pallet::authorize(Pallet::<T>::authorize_reveal)]
		#[pallet::weight_of_authorize(T::WeightInfo::authorize_reveal(hashes.len() as u32))]
		#[pallet::weight(T::WeightInfo::reveal(hashes.len() as u32))]
		pub fn reveal(
			origin: OriginFor<T>,
			request: RequestId,
			party: Party,
			hashes: Vec<H256>,
			output_proof: Vec<H256>,
			signature: WorkerSignature,
		) -> DispatchResult {
			ensure_authorized(origin)?;
			let _ = signature;
			Self::do_reveal(request, party, hashes, output_proof)
		}

		/// `party` proves the first differing step: one [`TileProof`] per
		/// input of the step, in the step's order, signed over
		/// [`crypto::proof_payload`]. The runtime recomputes the step and
		/// decides the dispute.
		#[pallet::call_index(2)]
		#[pallet::authorize(Pallet::<T>::authorize_prove_step)]
		///
		/// Weighed at the heaviest step a registered model can have: an
		/// encoder's linear or attention step, or a decoder's gate and up
		/// projections over a full prompt block (SmolLM2's, about 13 ms).
		#[pallet::weight_of_authorize(
			T::WeightInfo::authorize_prove_step()
				.max(T::WeightInfo::authorize_prove_step_generation())
		)]
		#[pallet::weight(
			T::WeightInfo::prove_step_linear()
				.max(T::WeightInfo::prove_step_attention())
				.max(T::WeightInfo::prove_step_generation())
		)]
		pub fn prove_step(
			origin: OriginFor<T>,
			request: RequestId,
			party: Party,
			tiles: Vec<TileProof>,
			signature: WorkerSignature,
		) -> DispatchResult {
			ensure_authorized(origin)?;
			let _ = signature;
			Self::do_prove_step(request, party, tiles)
		}
	}
}
