//! Benchmarks of the calls and of each kind of per-block work (FRAME
//! benchmarking v2). Worst cases: a model with `MaxWorkers` workers to choose
//! from, the longest input, a result signature to verify.

use super::*;

use alloc::{vec, vec::Vec};
use frame_benchmarking::v2::*;
use frame_support::{
	pallet_prelude::TransactionSource,
	traits::{
		fungible::{Inspect, Mutate},
		Authorize, Get,
	},
};
use frame_system::{pallet_prelude::BlockNumberFor, RawOrigin};
use pallet_models::{ModelId, ModelProvider, Task};
use sp_core::H256;
use sp_runtime::{
	traits::{One, Saturating},
	RuntimeAppPublic,
};

fn funded<T: Config>(name: &'static str, index: u32) -> T::AccountId {
	let who: T::AccountId = account(name, index, 0);
	let amount = T::Currency::minimum_balance().saturating_mul(1_000_000_000u32.into());
	T::Currency::set_balance(&who, amount);
	who
}

fn price<T: Config>() -> BalanceOf<T> {
	T::Currency::minimum_balance().saturating_mul(10u32.into())
}

/// A model served by `workers` active validators, each with a fresh key.
/// Workers from genesis are cleared first, so all `MaxWorkers` fit.
fn served_model<T: Config>(workers: u32) -> (ModelId, Vec<(T::AccountId, WorkerKey)>) {
	let _ = Workers::<T>::clear(u32::MAX, None);
	let _ = ModelWorkers::<T>::clear(u32::MAX, None);
	let owner = funded::<T>("owner", 0);
	let model = T::Models::register_for_benchmark(&owner, price::<T>());
	let list = (0..workers)
		.map(|i| {
			let who = funded::<T>("worker", i);
			T::Staking::make_active(&who, price::<T>().saturating_mul(i.saturating_add(1).into()));
			let key = WorkerKey::generate_pair(None);
			if let Err(e) = Pallet::<T>::insert_worker(&who, key.clone(), &[model]) {
				panic!("benchmark worker registers: {e:?}");
			}
			(who, key)
		})
		.collect();
	(model, list)
}

/// An open request for `model`, assigned to one of `workers`.
fn open_request<T: Config>(model: ModelId) -> RequestId {
	let caller = funded::<T>("caller", 0);
	let input = vec![1u32; T::MaxInputTokens::get().min(16) as usize];
	let fee = price::<T>().saturating_mul(2u32.into());
	match Pallet::<T>::do_request(caller, model, input, Task::Embed, fee) {
		Ok(id) => id,
		Err(e) => panic!("benchmark request: {e:?}"),
	}
}

fn assignee<T: Config>(id: RequestId) -> T::AccountId {
	match Requests::<T>::get(id).map(|r| r.status) {
		Some(RequestStatus::Assigned { worker, .. }) => worker,
		_ => panic!("benchmark request is assigned"),
	}
}

/// A signed result call for request `id` by its assignee.
fn result_call<T: Config>(id: RequestId, workers: &[(T::AccountId, WorkerKey)]) -> Call<T> {
	let worker = assignee::<T>(id);
	let key = workers
		.iter()
		.find(|(w, _)| *w == worker)
		.map(|(_, k)| k.clone())
		.unwrap_or_else(|| panic!("assignee has a key"));
	let (output_len, steps) = Requests::<T>::get(id)
		.and_then(|r| {
			let terms = T::Models::terms(r.model)?;
			let steps = terms.arch.trace_len(r.input.len() as u32, &r.task, 0).ok()?;
			Some((terms.arch.output_bytes(&r.task), steps))
		})
		.unwrap_or_else(|| panic!("benchmark request has a model"));
	let output = vec![7u8; output_len as usize];
	let root = H256::repeat_byte(1);
	let payload = crypto::result_payload(Pallet::<T>::genesis_hash(), id, &output, &root, steps);
	let signature = key.sign(&payload).unwrap_or_else(|| panic!("key is in the keystore"));
	Call::submit_result { request: id, output, trace_root: root, steps, signature }
}

fn answered<T: Config>() -> RequestId {
	let (model, workers) = served_model::<T>(1);
	let id = open_request::<T>(model);
	let call = result_call::<T>(id, &workers);
	if let Call::submit_result { request, output, trace_root, steps, .. } = call {
		if let Err(e) = Pallet::<T>::do_submit_result(request, output, trace_root, steps) {
			panic!("benchmark result: {e:?}");
		}
	}
	id
}

#[benchmarks]
mod benchmarks {
	use super::*;

	#[benchmark]
	fn register_worker(m: Linear<1, { T::MaxModelsPerWorker::get() }>) {
		let owner = funded::<T>("owner", 0);
		let models: Vec<ModelId> =
			(0..m).map(|_| T::Models::register_for_benchmark(&owner, price::<T>())).collect();
		let who = funded::<T>("worker", 0);
		T::Staking::make_active(&who, price::<T>());
		// Re-registration: the old entries are removed from every index too.
		let key = WorkerKey::generate_pair(None);
		if let Err(e) = Pallet::<T>::insert_worker(&who, key.clone(), &models) {
			panic!("{e:?}");
		}

		#[extrinsic_call]
		_(RawOrigin::Signed(who.clone()), key, models.clone());

		assert_eq!(Workers::<T>::get(&who).map(|w| w.models.len() as u32), Some(m));
	}

	#[benchmark]
	fn deregister_worker() {
		let owner = funded::<T>("owner", 0);
		let models: Vec<ModelId> = (0..T::MaxModelsPerWorker::get())
			.map(|_| T::Models::register_for_benchmark(&owner, price::<T>()))
			.collect();
		let who = funded::<T>("worker", 0);
		if let Err(e) = Pallet::<T>::insert_worker(&who, WorkerKey::generate_pair(None), &models) {
			panic!("{e:?}");
		}

		#[extrinsic_call]
		_(RawOrigin::Signed(who.clone()));

		assert!(Workers::<T>::get(&who).is_none());
	}

	#[benchmark]
	fn request(n: Linear<1, { T::MaxInputTokens::get() }>, w: Linear<1, { T::MaxWorkers::get() }>) {
		let (model, _) = served_model::<T>(w);
		let limit = T::Models::terms(model).map(|t| t.max_input_tokens).unwrap_or(1);
		let input = vec![1u32; n.min(limit) as usize];
		let caller = funded::<T>("caller", 0);
		let fee = price::<T>().saturating_mul(2u32.into());

		#[extrinsic_call]
		_(RawOrigin::Signed(caller), model, input, fee);

		assert!(Requests::<T>::contains_key(0));
	}

	/// What the transaction pool's `CheckRequest` runs on a request of `n`
	/// tokens.
	#[benchmark]
	fn check_request(n: Linear<1, { T::MaxInputTokens::get() }>) {
		let (model, _) = served_model::<T>(1);
		let limit = T::Models::terms(model).map(|t| t.max_input_tokens).unwrap_or(1);
		let input = vec![1u32; n.min(limit) as usize];
		let caller = funded::<T>("caller", 0);
		let fee = price::<T>().saturating_mul(2u32.into());

		#[block]
		{
			let checked =
				Pallet::<T>::check_caller_request(&caller, model, &input, &Task::Embed, fee);
			assert!(checked.is_ok());
		}
	}

	#[benchmark]
	fn submit_result() {
		let (model, workers) = served_model::<T>(1);
		let id = open_request::<T>(model);
		let call = result_call::<T>(id, &workers);

		#[block]
		{
			use frame_support::traits::UnfilteredDispatchable;
			if let Err(e) = call.dispatch_bypass_filter(RawOrigin::Authorized.into()) {
				panic!("{e:?}");
			}
		}

		assert!(Outputs::<T>::contains_key(id));
	}

	#[benchmark]
	fn authorize_submit_result() {
		let (model, workers) = served_model::<T>(1);
		let id = open_request::<T>(model);
		let call = result_call::<T>(id, &workers);

		#[block]
		{
			assert!(matches!(call.authorize(TransactionSource::External), Some(Ok(_))));
		}
	}

	#[benchmark]
	fn on_initialize_idle() {
		let now = frame_system::Pallet::<T>::block_number();
		#[block]
		{
			Pallet::<T>::process_queues(now);
		}
	}

	#[benchmark]
	fn skip_entry() {
		let now = frame_system::Pallet::<T>::block_number();
		#[block]
		{
			Pallet::<T>::expire(RequestId::MAX, now);
		}
	}

	#[benchmark]
	fn expire_reassign(w: Linear<2, { T::MaxWorkers::get() }>) {
		let (model, _) = served_model::<T>(w);
		let id = open_request::<T>(model);
		let now = frame_system::Pallet::<T>::block_number()
			.saturating_add(T::ResultTimeout::get())
			.saturating_add(One::one());
		frame_system::Pallet::<T>::set_block_number(now);

		#[block]
		{
			Pallet::<T>::expire(id, now);
		}

		assert_eq!(Requests::<T>::get(id).map(|r| r.tried.len()), Some(2));
	}

	#[benchmark]
	fn expire_refund(w: Linear<1, { T::MaxWorkers::get() }>) {
		// One active worker is assigned; the others serve the model but are
		// not validators, so the search for a replacement scans them all.
		let (model, _) = served_model::<T>(1);
		for i in 1..w {
			let who = funded::<T>("worker", i);
			if let Err(e) =
				Pallet::<T>::insert_worker(&who, WorkerKey::generate_pair(None), &[model])
			{
				panic!("{e:?}");
			}
		}
		let id = open_request::<T>(model);
		let now: BlockNumberFor<T> = frame_system::Pallet::<T>::block_number()
			.saturating_add(T::ResultTimeout::get())
			.saturating_add(One::one());
		frame_system::Pallet::<T>::set_block_number(now);

		#[block]
		{
			Pallet::<T>::expire(id, now);
		}

		assert!(!Requests::<T>::contains_key(id));
	}

	#[benchmark]
	fn settle() {
		let id = answered::<T>();
		let now =
			frame_system::Pallet::<T>::block_number().saturating_add(T::ChallengePeriod::get());
		frame_system::Pallet::<T>::set_block_number(now);

		#[block]
		{
			Pallet::<T>::settle(id, now);
		}

		assert!(matches!(
			Completions::<T>::get(id).map(|c| c.outcome),
			Some(Outcome::Settled { .. })
		));
	}

	#[benchmark]
	fn prune() {
		let id = answered::<T>();
		let now =
			frame_system::Pallet::<T>::block_number().saturating_add(T::ChallengePeriod::get());
		Pallet::<T>::settle(id, now);

		#[block]
		{
			Pallet::<T>::prune(id);
		}

		assert!(!Completions::<T>::contains_key(id));
	}

	/// An era ends with `v` validators' records to read and as many to
	/// forget from the era leaving the history window.
	#[benchmark]
	fn end_era(v: Linear<0, { T::MaxWorkers::get() }>) {
		let era: EraIndex = T::EraHistory::get().saturating_add(5);
		let leaving = era.saturating_sub(T::EraHistory::get());
		OldestEra::<T>::put(leaving);
		let work = EraWork { income: price::<T>(), served: 1, ..Default::default() };
		for i in 0..v {
			let who: T::AccountId = account("validator", i, 0);
			ErasWork::<T>::insert(era, &who, work.clone());
			ErasWork::<T>::insert(leaving, &who, work.clone());
		}

		let incomes;
		#[block]
		{
			incomes = Pallet::<T>::end_era(era);
		}

		assert_eq!(incomes.len(), v as usize);
		assert_eq!(ErasWork::<T>::iter_prefix(leaving).count(), 0);
	}

	impl_benchmark_test_suite!(
		Pallet,
		crate::mock::ExtBuilder::default().workers(&[]).build(),
		crate::mock::Test
	);
}
