//! The registry's state transitions, the [`ModelProvider`] view and the
//! try-state invariants.

use crate::{pallet::*, traits::*, types::*};
use frame_support::{
	ensure,
	pallet_prelude::*,
	traits::{
		fungible::{InspectHold, MutateHold},
		tokens::Precision,
	},
};
use sp_runtime::{traits::Saturating, DispatchResult};

impl<T: Config> Pallet<T> {
	/// The deposit for a record with `bytes` of name and metadata.
	pub fn deposit_for(bytes: u32) -> BalanceOf<T> {
		T::DepositPerByte::get().saturating_mul(bytes.into()).saturating_add(T::DepositBase::get())
	}

	/// Every registered model, in id order, for RPC clients. Bounded by
	/// `MaxModels`.
	pub fn summaries() -> alloc::vec::Vec<ModelSummary<T::AccountId, BalanceOf<T>>> {
		let mut all: alloc::vec::Vec<_> = Models::<T>::iter()
			.map(|(id, m)| ModelSummary {
				id,
				owner: m.owner,
				name: m.name.into_inner(),
				metadata: m.metadata.into_inner(),
				arch: m.arch,
				hashes: m.hashes,
				spec_version: m.spec_version,
				price: m.price,
				token_prices: m.token_prices,
				kind: m.arch.kind(),
				active: m.status == ModelStatus::Active,
			})
			.collect();
		all.sort_by_key(|m| m.id);
		all
	}

	/// Validates `spec`, holds the deposit and stores the record.
	pub fn do_register(
		spec: ModelSpec<T::AccountId, BalanceOf<T>>,
	) -> Result<ModelId, DispatchError> {
		let ModelSpec { owner, name, metadata, arch, hashes, spec_version, price, token_prices } =
			spec;
		ensure!(!name.is_empty(), Error::<T>::BadName);
		let name: BoundedVec<u8, T::MaxNameLen> =
			name.try_into().map_err(|_| Error::<T>::BadName)?;
		let metadata: BoundedVec<u8, T::MaxMetadataLen> =
			metadata.try_into().map_err(|_| Error::<T>::MetadataTooLong)?;
		// A model's programs run under its architecture's spec, which this
		// runtime must be able to recompute.
		ensure!(
			SUPPORTED_SPECS.contains(&spec_version) && arch.spec_version() == spec_version,
			Error::<T>::UnsupportedSpec
		);
		arch.check().map_err(|_| Error::<T>::UnsupportedArchitecture)?;
		ensure!(arch.program_hash() == hashes.program, Error::<T>::ProgramMismatch);
		ensure!(Models::<T>::count() < T::MaxModels::get(), Error::<T>::TooManyModels);

		let id = NextModelId::<T>::get();
		let next = id.checked_add(1).ok_or(Error::<T>::TooManyModels)?;
		let bytes = (name.len() as u32).saturating_add(metadata.len() as u32);
		let deposit = Self::deposit_for(bytes);
		T::Currency::hold(&HoldReason::ModelDeposit.into(), &owner, deposit)
			.map_err(|_| Error::<T>::InsufficientDeposit)?;

		let info = ModelInfo {
			owner: owner.clone(),
			name,
			metadata,
			arch,
			hashes,
			spec_version,
			price,
			token_prices,
			deposit,
			status: ModelStatus::Active,
		};
		Models::<T>::insert(id, info);
		NextModelId::<T>::put(next);
		Self::deposit_event(Event::Registered { model: id, owner, deposit });
		Ok(id)
	}

	/// The record of `model` if `who` owns it.
	fn owned(who: &T::AccountId, model: ModelId) -> Result<ModelInfoOf<T>, DispatchError> {
		let info = Models::<T>::get(model).ok_or(Error::<T>::UnknownModel)?;
		ensure!(&info.owner == who, Error::<T>::NotOwner);
		Ok(info)
	}

	pub(crate) fn do_set_price(
		who: &T::AccountId,
		model: ModelId,
		price: BalanceOf<T>,
		token_prices: TokenPrices<BalanceOf<T>>,
	) -> DispatchResult {
		let mut info = Self::owned(who, model)?;
		ensure!(info.status == ModelStatus::Active, Error::<T>::Retired);
		let old = core::mem::replace(&mut info.price, price);
		let old_tokens = core::mem::replace(&mut info.token_prices, token_prices);
		Models::<T>::insert(model, info);
		Self::deposit_event(Event::PriceChanged {
			model,
			old,
			new: price,
			old_tokens,
			new_tokens: token_prices,
		});
		Ok(())
	}

	pub(crate) fn do_retire(who: &T::AccountId, model: ModelId) -> DispatchResult {
		let mut info = Self::owned(who, model)?;
		ensure!(info.status == ModelStatus::Active, Error::<T>::Retired);
		info.status = ModelStatus::Retired;
		Models::<T>::insert(model, info);
		Self::deposit_event(Event::Retired { model });
		Ok(())
	}

	pub(crate) fn do_remove(who: &T::AccountId, model: ModelId) -> DispatchResult {
		let info = Self::owned(who, model)?;
		ensure!(info.status == ModelStatus::Retired, Error::<T>::NotRetired);
		ensure!(!T::Usage::in_use(model), Error::<T>::InUse);
		T::Currency::release(
			&HoldReason::ModelDeposit.into(),
			&info.owner,
			info.deposit,
			Precision::Exact,
		)?;
		Models::<T>::remove(model);
		Self::deposit_event(Event::Removed { model, deposit: info.deposit });
		Ok(())
	}

	/// Invariants: every account's deposit hold equals the deposits of the
	/// records it owns (so no deposit is orphaned); ids are below
	/// `NextModelId`; the registry is within bounds. Iterates every account:
	/// for try-runtime and tests, never for block execution.
	pub fn do_try_state() -> Result<(), sp_runtime::TryRuntimeError> {
		use alloc::collections::btree_map::BTreeMap;
		let next = NextModelId::<T>::get();
		let mut per_owner: BTreeMap<T::AccountId, BalanceOf<T>> = BTreeMap::new();
		let mut count = 0u32;
		for (id, info) in Models::<T>::iter() {
			ensure!(id < next, "a model id is not below NextModelId");
			ensure!(info.arch.program_hash() == info.hashes.program, "a program hash is stale");
			let sum = per_owner.entry(info.owner.clone()).or_default();
			*sum = sum.saturating_add(info.deposit);
			count = count.saturating_add(1);
		}
		ensure!(count == Models::<T>::count(), "the model counter is off");
		ensure!(count <= T::MaxModels::get(), "more models than MaxModels");
		for who in frame_system::Account::<T>::iter_keys() {
			let expected = per_owner.remove(&who).unwrap_or_default();
			ensure!(
				T::Currency::balance_on_hold(&HoldReason::ModelDeposit.into(), &who) == expected,
				"an account's deposit hold differs from its models' deposits"
			);
		}
		ensure!(per_owner.is_empty(), "a model owner has no account");
		Ok(())
	}
}

impl<T: Config> ModelProvider<T::AccountId, BalanceOf<T>> for Pallet<T> {
	fn terms(id: ModelId) -> Option<ModelTerms<BalanceOf<T>>> {
		Models::<T>::get(id).map(|info| ModelTerms {
			price: info.price,
			token_prices: info.token_prices,
			kind: info.arch.kind(),
			active: info.status == ModelStatus::Active,
			vocab: info.arch.vocab(),
			max_input_tokens: info.arch.max_input_tokens(),
			arch: info.arch,
			weight_root: info.hashes.weight_root,
		})
	}

	#[cfg(any(feature = "benchmark-helpers", test))]
	fn register_for_benchmark(owner: &T::AccountId, price: BalanceOf<T>) -> ModelId {
		let spec = sample_spec(owner.clone(), 8, 8, price);
		let (arch, weight_root) = (spec.arch, spec.hashes.weight_root);
		Self::register_arch_for_benchmark(owner, price, arch, weight_root)
	}

	#[cfg(any(feature = "benchmark-helpers", test))]
	fn register_arch_for_benchmark(
		owner: &T::AccountId,
		price: BalanceOf<T>,
		arch: Architecture,
		weight_root: sp_core::H256,
	) -> ModelId {
		use frame_support::traits::fungible::Mutate;
		let _ = T::Currency::mint_into(owner, Self::deposit_for(64).saturating_mul(4u32.into()));
		let mut spec = sample_spec(owner.clone(), 8, 8, price);
		spec.hashes.program = arch.program_hash();
		spec.hashes.weight_root = weight_root;
		spec.spec_version = arch.spec_version();
		spec.arch = arch;
		match Self::do_register(spec) {
			Ok(id) => id,
			Err(e) => panic!("benchmark model registers: {e:?}"),
		}
	}
}
