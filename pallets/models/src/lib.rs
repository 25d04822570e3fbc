//! # Model registry
//!
//! Registers the models Cinder serves as content commitments (weights file,
//! weight-tile root, program, tokenizer), with an architecture the runtime
//! can recompile (a BERT encoder or a llama decoder), a kernel-spec version,
//! a price per request and prices per prompt and generated token. The owner's
//! storage deposit is held under [`HoldReason::ModelDeposit`]. See the
//! crate's README for the lifecycle.
//!
//! Calls are thin: they check the origin and call the `do_*` functions in
//! `impls.rs`.

#![cfg_attr(not(feature = "std"), no_std)]
#![deny(clippy::arithmetic_side_effects)]

extern crate alloc;

pub use pallet::*;

// The benchmarks run as tests in every test build (no separate
// `runtime-benchmarks` build of the dependency tree).
pub mod architecture;
#[cfg(any(feature = "runtime-benchmarks", test))]
mod benchmarking;
mod impls;
#[cfg(test)]
mod mock;
#[cfg(test)]
mod tests;
pub mod traits;
pub mod types;
pub mod weights;

pub use cinder_kernel::sampler::Sampling;
pub use traits::{ModelProvider, ModelTerms, ModelUsage};
pub use types::{
	sample_generator_spec, sample_spec, Architecture, Generation, Generator, ModelHashes, ModelId,
	ModelInfo, ModelKind, ModelPlan, ModelSpec, ModelStatus, ModelSummary, Task, TaskError,
	TokenPrices,
};
pub use weights::WeightInfo;

// FRAME's macros expand to `expect` calls on what they have checked; the
// workspace's `expect_used` lint still holds for the hand-written code
// outside this module (`impls.rs` and friends). `register` takes a model's
// every field, as its genesis entry does.
#[allow(clippy::expect_used, clippy::unwrap_used, clippy::too_many_arguments)]
#[frame_support::pallet]
pub mod pallet {
	use super::*;
	use alloc::{boxed::Box, vec::Vec};
	use frame_support::{
		pallet_prelude::*,
		traits::fungible::{Inspect, Mutate, MutateHold},
	};
	use frame_system::pallet_prelude::*;

	/// Balance type of the currency deposits are held in.
	pub type BalanceOf<T> =
		<<T as Config>::Currency as Inspect<<T as frame_system::Config>::AccountId>>::Balance;

	/// A model record as stored.
	pub type ModelInfoOf<T> = ModelInfo<
		<T as frame_system::Config>::AccountId,
		BalanceOf<T>,
		<T as Config>::MaxNameLen,
		<T as Config>::MaxMetadataLen,
	>;

	#[pallet::pallet]
	pub struct Pallet<T>(_);

	#[pallet::config]
	pub trait Config: frame_system::Config {
		/// The overarching event type.
		#[allow(deprecated)]
		type RuntimeEvent: From<Event<Self>> + IsType<<Self as frame_system::Config>::RuntimeEvent>;
		/// The currency deposits are held in.
		type Currency: MutateHold<Self::AccountId, Reason = Self::RuntimeHoldReason>
			+ Mutate<Self::AccountId>;
		/// The overarching hold reason.
		type RuntimeHoldReason: From<HoldReason>;
		/// Deposit for any model record.
		#[pallet::constant]
		type DepositBase: Get<BalanceOf<Self>>;
		/// Deposit per byte of name and metadata.
		#[pallet::constant]
		type DepositPerByte: Get<BalanceOf<Self>>;
		/// Longest model name.
		#[pallet::constant]
		type MaxNameLen: Get<u32>;
		/// Longest metadata.
		#[pallet::constant]
		type MaxMetadataLen: Get<u32>;
		/// Most models registered at once.
		#[pallet::constant]
		type MaxModels: Get<u32>;
		/// Tells whether open work still refers to a model.
		type Usage: ModelUsage;
		/// Weights of this pallet's calls.
		type WeightInfo: WeightInfo;
	}

	/// Why this pallet holds funds.
	#[pallet::composite_enum]
	pub enum HoldReason {
		/// The storage deposit of a registered model.
		#[codec(index = 0)]
		ModelDeposit,
	}

	/// Registered models.
	#[pallet::storage]
	pub type Models<T: Config> = CountedStorageMap<_, Blake2_128Concat, ModelId, ModelInfoOf<T>>;

	/// The id the next registered model gets.
	#[pallet::storage]
	pub type NextModelId<T> = StorageValue<_, ModelId, ValueQuery>;

	#[pallet::event]
	#[pallet::generate_deposit(pub(super) fn deposit_event)]
	pub enum Event<T: Config> {
		/// A model was registered.
		Registered {
			/// Its id.
			model: ModelId,
			/// Who registered it.
			owner: T::AccountId,
			/// The storage deposit held from the owner.
			deposit: BalanceOf<T>,
		},
		/// A model's prices changed; open requests keep the old ones.
		PriceChanged {
			/// The model.
			model: ModelId,
			/// Price per request before.
			old: BalanceOf<T>,
			/// Price per request now.
			new: BalanceOf<T>,
			/// Prices per token before.
			old_tokens: TokenPrices<BalanceOf<T>>,
			/// Prices per token now.
			new_tokens: TokenPrices<BalanceOf<T>>,
		},
		/// A model stopped taking new requests.
		Retired {
			/// The model.
			model: ModelId,
		},
		/// A retired model's record was removed and its deposit released.
		Removed {
			/// The model.
			model: ModelId,
			/// The deposit released to the owner.
			deposit: BalanceOf<T>,
		},
	}

	#[pallet::error]
	pub enum Error<T> {
		/// No model with this id.
		UnknownModel,
		/// Only the model's owner may do this.
		NotOwner,
		/// The model is retired.
		Retired,
		/// The model is still active; retire it first.
		NotRetired,
		/// Open requests still use the model.
		InUse,
		/// The registry is full.
		TooManyModels,
		/// The name is empty or longer than `MaxNameLen`.
		BadName,
		/// The metadata is longer than `MaxMetadataLen`.
		MetadataTooLong,
		/// The runtime cannot recompute steps of this kernel-spec version.
		UnsupportedSpec,
		/// The architecture does not compile within the kernel's limits.
		UnsupportedArchitecture,
		/// The program hash is not the architecture's.
		ProgramMismatch,
		/// The owner cannot pay the storage deposit.
		InsufficientDeposit,
	}

	#[pallet::genesis_config]
	#[derive(frame_support::DefaultNoBound)]
	pub struct GenesisConfig<T: Config> {
		/// Models registered at genesis, in id order; their deposits are held
		/// from their owners (who must be endowed).
		pub models: Vec<ModelSpec<T::AccountId, BalanceOf<T>>>,
	}

	#[pallet::genesis_build]
	impl<T: Config> BuildGenesisConfig for GenesisConfig<T> {
		fn build(&self) {
			for spec in &self.models {
				if let Err(e) = Pallet::<T>::do_register(spec.clone()) {
					panic!("genesis model {:?} does not register: {e:?}", spec.name);
				}
			}
		}
	}

	#[pallet::hooks]
	impl<T: Config> Hooks<BlockNumberFor<T>> for Pallet<T> {
		#[cfg(feature = "try-runtime")]
		fn try_state(_: BlockNumberFor<T>) -> Result<(), sp_runtime::TryRuntimeError> {
			Self::do_try_state()
		}
	}

	#[pallet::call(weight(<T as Config>::WeightInfo))]
	impl<T: Config> Pallet<T> {
		/// Registers a model owned by the caller and holds its deposit.
		///
		/// `hashes` is boxed to keep the `Call` enum small; it encodes exactly
		/// as the bare record.
		#[pallet::call_index(0)]
		#[pallet::weight(T::WeightInfo::register(name.len() as u32, metadata.len() as u32))]
		#[allow(clippy::boxed_local)]
		pub fn register(
			origin: OriginFor<T>,
			name: Vec<u8>,
			metadata: Vec<u8>,
			arch: Architecture,
			hashes: Box<ModelHashes>,
			spec_version: u32,
			price: BalanceOf<T>,
			token_prices: TokenPrices<BalanceOf<T>>,
		) -> DispatchResult {
			let owner = ensure_signed(origin)?;
			Self::do_register(ModelSpec {
				owner,
				name,
				metadata,
				arch,
				hashes: *hashes,
				spec_version,
				price,
				token_prices,
			})
			.map(|_| ())
		}

		/// Changes the prices (per request and per token) of the caller's
		/// model for new requests.
		#[pallet::call_index(1)]
		pub fn set_price(
			origin: OriginFor<T>,
			model: ModelId,
			price: BalanceOf<T>,
			token_prices: TokenPrices<BalanceOf<T>>,
		) -> DispatchResult {
			let who = ensure_signed(origin)?;
			Self::do_set_price(&who, model, price, token_prices)
		}

		/// Stops the caller's model from taking new requests.
		#[pallet::call_index(2)]
		pub fn retire(origin: OriginFor<T>, model: ModelId) -> DispatchResult {
			let who = ensure_signed(origin)?;
			Self::do_retire(&who, model)
		}

		/// Removes the caller's retired model, once no open request uses it,
		/// and releases the deposit.
		#[pallet::call_index(3)]
		pub fn remove(origin: OriginFor<T>, model: ModelId) -> DispatchResult {
			let who = ensure_signed(origin)?;
			Self::do_remove(&who, model)
		}
	}
}
