//! The marketplace's side of the dispute game: freezing a challenged result,
//! resolving it, and expelling a worker proven to have lied.

use crate::{pallet::*, traits::*, types::*, weights::WeightInfo, WorkerKey};
use alloc::vec::Vec;
use frame_support::{pallet_prelude::*, traits::Get};
use frame_system::pallet_prelude::BlockNumberFor;
use sp_runtime::{traits::Saturating, DispatchResult};

impl<T: Config> ResultDisputes<T::AccountId, BlockNumberFor<T>> for Pallet<T> {
	fn result(id: RequestId) -> Option<PostedResult<T::AccountId, BlockNumberFor<T>>> {
		let req = Requests::<T>::get(id)?;
		let (worker, trace_root, steps, challenge_end) = match req.status {
			RequestStatus::Answered { worker, trace_root, steps, challenge_end } => {
				(worker, trace_root, steps, Some(challenge_end))
			}
			RequestStatus::Frozen { worker, trace_root, steps } => {
				(worker, trace_root, steps, None)
			}
			RequestStatus::Assigned { .. } => return None,
		};
		Some(PostedResult {
			worker,
			model: req.model,
			input: req.input.into_inner(),
			task: req.task,
			seed: req.seed,
			output: Outputs::<T>::get(id)?.into_inner(),
			trace_root,
			steps,
			challenge_end,
		})
	}

	fn worker_key(who: &T::AccountId) -> Option<WorkerKey> {
		Workers::<T>::get(who).map(|w| w.key)
	}

	fn freeze(id: RequestId) -> DispatchResult {
		Self::do_freeze(id)
	}

	fn resolve(id: RequestId, verdict: Verdict, challenger: &T::AccountId) -> DispatchResult {
		Self::do_resolve(id, verdict, challenger)
	}

	fn is_frozen(id: RequestId) -> bool {
		Requests::<T>::get(id).is_some_and(|r| matches!(r.status, RequestStatus::Frozen { .. }))
	}

	fn frozen_requests() -> Vec<RequestId> {
		Requests::<T>::iter()
			.filter(|(_, r)| matches!(r.status, RequestStatus::Frozen { .. }))
			.map(|(id, _)| id)
			.collect()
	}

	#[cfg(any(feature = "benchmark-helpers", test))]
	fn max_input_tokens() -> u32 {
		T::MaxInputTokens::get()
	}

	#[cfg(any(feature = "benchmark-helpers", test))]
	fn answered_for_benchmark(
		model: pallet_models::ModelId,
		input: Vec<u32>,
		task: pallet_models::Task,
		output: Vec<u8>,
		trace_root: sp_core::H256,
		steps: u32,
	) -> (RequestId, (T::AccountId, WorkerKey), (T::AccountId, WorkerKey)) {
		use frame_support::traits::fungible::{Inspect, Mutate};
		use sp_runtime::RuntimeAppPublic;
		let unit = T::Currency::minimum_balance();
		let funded = |name: &'static str, i: u32| {
			let who: T::AccountId = frame_benchmarking::account(name, i, 0);
			T::Currency::set_balance(&who, unit.saturating_mul(1_000_000_000u32.into()));
			who
		};
		let workers: Vec<(T::AccountId, WorkerKey)> = (0..2u32)
			.map(|i| {
				let who = funded("disputant", i);
				T::Staking::make_active(&who, unit.saturating_mul(1_000u32.into()));
				let key = WorkerKey::generate_pair(None);
				if let Err(e) = Self::insert_worker(&who, key.clone(), &[model]) {
					panic!("benchmark worker registers: {e:?}");
				}
				(who, key)
			})
			.collect();
		let price = <T::Models as pallet_models::ModelProvider<_, _>>::terms(model)
			.map(|t| Self::max_price(&t, input.len() as u32, &task))
			.unwrap_or(unit);
		let id = match Self::do_request(funded("caller", 0), model, input, task, price) {
			Ok(id) => id,
			Err(e) => panic!("benchmark request: {e:?}"),
		};
		let Some(req) = Requests::<T>::get(id) else { panic!("benchmark request exists") };
		let RequestStatus::Assigned { worker, .. } = req.status.clone() else {
			panic!("benchmark request is assigned")
		};
		let Ok(output) = OutputOf::<T>::try_from(output) else { panic!("benchmark output fits") };
		Self::record_answer(id, req, worker.clone(), output, trace_root, steps);
		let (assignee, other): (Vec<_>, Vec<_>) =
			workers.into_iter().partition(|(w, _)| *w == worker);
		match (assignee.into_iter().next(), other.into_iter().next()) {
			(Some(a), Some(o)) => (id, a, o),
			_ => panic!("benchmark request went to one of its two workers"),
		}
	}
}

impl<T: Config> Pallet<T> {
	/// Freezes an answered request for a dispute: it leaves the settlement
	/// path until the dispute resolves it.
	pub fn do_freeze(id: RequestId) -> DispatchResult {
		Requests::<T>::try_mutate(id, |maybe| {
			let req = maybe.as_mut().ok_or(Error::<T>::UnknownRequest)?;
			let RequestStatus::Answered { worker, trace_root, steps, .. } = req.status.clone()
			else {
				return Err(Error::<T>::NotAnswered.into());
			};
			req.status = RequestStatus::Frozen { worker, trace_root, steps };
			Self::deposit_event(Event::Frozen { request: id });
			Ok(())
		})
	}

	/// Ends a freeze: an upheld result gets a fresh challenge window; a
	/// fraudulent one is dropped, its worker expelled and the request given to
	/// another worker without counting an attempt (refunded if none is left).
	/// The winner and the loser each get it in their era record.
	pub(crate) fn do_resolve(
		id: RequestId,
		verdict: Verdict,
		challenger: &T::AccountId,
	) -> DispatchResult {
		let mut req = Requests::<T>::get(id).ok_or(Error::<T>::UnknownRequest)?;
		let RequestStatus::Frozen { worker, trace_root, steps } = req.status.clone() else {
			return Err(Error::<T>::NotFrozen.into());
		};
		let now = frame_system::Pallet::<T>::block_number();
		let (winner, loser) = match verdict {
			Verdict::Upheld => (&worker, challenger),
			Verdict::Fraud => (challenger, &worker),
		};
		Self::note_work(winner, |w| w.disputes_won = w.disputes_won.saturating_add(1));
		Self::note_work(loser, |w| w.disputes_lost = w.disputes_lost.saturating_add(1));
		match verdict {
			Verdict::Upheld => {
				let challenge_end = now.saturating_add(T::ChallengePeriod::get());
				req.status = RequestStatus::Answered { worker, trace_root, steps, challenge_end };
				Requests::<T>::insert(id, req);
				Self::enqueue(QueueKind::Settlement, challenge_end, id);
				Self::deposit_event(Event::Upheld { request: id, challenge_end });
			}
			Verdict::Fraud => {
				// The next worker's answer is priced afresh.
				let output = Outputs::<T>::take(id).map(|o| o.len()).unwrap_or_default();
				req.price = req.price.saturating_add(Self::unused_tokens_price(&req, output));
				Self::deposit_event(Event::ResultRejected { request: id, worker: worker.clone() });
				Self::expel(&worker);
				Self::reassign_uncounted(id, req, now);
			}
		}
		Ok(())
	}

	/// Stops `who` serving at once: its worker record and model entries go,
	/// it may not register again for `FraudBan` blocks, and its open
	/// assignments are handed to other workers from `on_initialize`, a few
	/// per block. Should `Expelling` be full (it holds `MaxWorkers`), those
	/// assignments still move on at their deadlines.
	pub(crate) fn expel(who: &T::AccountId) {
		Self::remove_worker(who);
		let now = frame_system::Pallet::<T>::block_number();
		Banned::<T>::insert(who, now.saturating_add(T::FraudBan::get()));
		Expelling::<T>::mutate(|list| {
			if !list.contains(who) {
				let _ = list.try_push(who.clone());
			}
		});
		Self::deposit_event(Event::WorkerExpelled { worker: who.clone() });
	}

	/// Gives request `id`, whose current worker is out, to another worker:
	/// the attempt is not counted (the worker that is out leaves the tried
	/// list; it can no longer be picked). Refunds when nobody is eligible.
	pub(crate) fn reassign_uncounted(id: RequestId, mut req: RequestOf<T>, now: BlockNumberFor<T>) {
		req.tried.pop();
		if let Some(next) = Self::select_worker(req.model, id, &req.tried, now) {
			if Self::assign(id, &mut req, next, now).is_ok() {
				Requests::<T>::insert(id, req);
				return;
			}
		}
		Self::refund(id, req, now);
	}

	/// Hands one open assignment of the first expelled worker to another
	/// worker; forgets the worker once it has none. `None` when nothing is
	/// left to do.
	pub(crate) fn process_expelled(now: BlockNumberFor<T>) -> Option<Weight> {
		let worker = Expelling::<T>::get().first().cloned()?;
		let Some(id) = WorkerAssignments::<T>::iter_key_prefix(&worker).next() else {
			Expelling::<T>::mutate(|list| list.retain(|w| w != &worker));
			return Some(T::WeightInfo::skip_entry());
		};
		WorkerAssignments::<T>::remove(&worker, id);
		match Requests::<T>::get(id) {
			Some(req) if matches!(&req.status, RequestStatus::Assigned { worker: w, .. } if *w == worker) =>
			{
				Self::reassign_uncounted(id, req, now);
				Some(T::WeightInfo::expire_reassign(T::MaxWorkers::get()))
			}
			_ => Some(T::WeightInfo::skip_entry()),
		}
	}
}
