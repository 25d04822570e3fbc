//! Benchmarks of the registry's calls (FRAME benchmarking v2).

use super::*;
use crate::pallet::{BalanceOf, Models};
use crate::types::sample_spec;
use alloc::boxed::Box;
use frame_benchmarking::v2::*;
use frame_support::traits::{
	fungible::{Inspect, Mutate},
	Get,
};
use frame_system::RawOrigin;
use sp_runtime::traits::Saturating;

fn funded<T: Config>(name: &'static str) -> T::AccountId {
	let who: T::AccountId = account(name, 0, 0);
	let amount =
		Pallet::<T>::deposit_for(T::MaxNameLen::get().saturating_add(T::MaxMetadataLen::get()))
			.saturating_mul(10u32.into())
			.saturating_add(T::Currency::minimum_balance());
	T::Currency::set_balance(&who, amount);
	who
}

fn registered<T: Config>(owner: &T::AccountId) -> Result<ModelId, BenchmarkError> {
	let price: BalanceOf<T> = 1_000u32.into();
	Pallet::<T>::do_register(sample_spec::<T::AccountId, BalanceOf<T>>(
		owner.clone(),
		32,
		32,
		price,
	))
	.map_err(|_| BenchmarkError::Stop("benchmark model does not register"))
}

#[benchmarks]
mod benchmarks {
	use super::*;

	#[benchmark]
	fn register(
		n: Linear<1, { T::MaxNameLen::get() }>,
		m: Linear<0, { T::MaxMetadataLen::get() }>,
	) {
		let owner = funded::<T>("owner");
		let spec = sample_spec::<T::AccountId, BalanceOf<T>>(owner.clone(), n, m, 1_000u32.into());
		let id = NextModelId::<T>::get();

		#[extrinsic_call]
		_(
			RawOrigin::Signed(owner),
			spec.name,
			spec.metadata,
			spec.arch,
			Box::new(spec.hashes),
			spec.spec_version,
			spec.price,
			spec.token_prices,
		);

		assert!(Models::<T>::contains_key(id));
	}

	#[benchmark]
	fn set_price() -> Result<(), BenchmarkError> {
		let owner = funded::<T>("owner");
		let id = registered::<T>(&owner)?;

		#[extrinsic_call]
		_(RawOrigin::Signed(owner), id, 2_000u32.into(), TokenPrices::default());

		assert_eq!(Models::<T>::get(id).map(|m| m.price), Some(2_000u32.into()));
		Ok(())
	}

	#[benchmark]
	fn retire() -> Result<(), BenchmarkError> {
		let owner = funded::<T>("owner");
		let id = registered::<T>(&owner)?;

		#[extrinsic_call]
		_(RawOrigin::Signed(owner), id);

		assert_eq!(Models::<T>::get(id).map(|m| m.status), Some(ModelStatus::Retired));
		Ok(())
	}

	#[benchmark]
	fn remove() -> Result<(), BenchmarkError> {
		let owner = funded::<T>("owner");
		let id = registered::<T>(&owner)?;
		Pallet::<T>::do_retire(&owner, id).map_err(|_| BenchmarkError::Stop("retire"))?;

		#[extrinsic_call]
		_(RawOrigin::Signed(owner), id);

		assert!(!Models::<T>::contains_key(id));
		Ok(())
	}

	impl_benchmark_test_suite!(
		Pallet,
		crate::mock::ExtBuilder::default().build(),
		crate::mock::Test
	);
}
