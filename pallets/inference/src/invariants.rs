//! try-state: escrow adds up, records and indexes agree, queues are whole.

use crate::{pallet::*, types::*, ValidatorStaking};
use alloc::collections::{btree_map::BTreeMap, btree_set::BTreeSet};
use frame_support::{
	ensure,
	traits::{fungible::InspectHold, Get},
};
use pallet_models::{ModelId, ModelProvider};
use sp_runtime::{
	traits::{One, Saturating},
	TryRuntimeError,
};

impl<T: Config> Pallet<T> {
	/// Checks the pallet's invariants. Iterates every account, so it is for
	/// try-runtime and tests, never for block execution:
	///
	/// - every account's escrow hold equals the `max_fee` of its open
	///   requests (no funds stuck, none missing);
	/// - open requests per model match `OpenPerModel`, and their models exist;
	/// - an assigned request's worker is the last one tried, its deadline
	///   is queued and it is in the worker's assignment index (which holds
	///   nothing else); an answered one has its output and its settlement
	///   queued; a frozen one has its output (the dispute game checks that it
	///   has exactly one dispute);
	/// - expelled workers being processed are no longer registered;
	/// - outputs belong to open answered requests or to settled completions;
	/// - the worker index by model matches the workers' own lists;
	/// - every queue holds exactly the entries `head..tail`;
	/// - era records lie in the history window, none past the active era;
	/// - counts are within their bounds.
	pub fn do_try_state() -> Result<(), TryRuntimeError> {
		let mut queued: BTreeMap<QueueKind, BTreeSet<(u64, BlockNumberOf<T>)>> = BTreeMap::new();
		for kind in QueueKind::ALL {
			let (head, tail) = QueueBounds::<T>::get(kind);
			ensure!(head <= tail, "a queue's head is past its tail");
			let mut entries = 0u64;
			for (pos, (due, id)) in Queue::<T>::iter_prefix(kind) {
				ensure!(pos >= head && pos < tail, "a queue entry lies outside head..tail");
				queued.entry(kind).or_default().insert((id, due));
				entries = entries.saturating_add(1);
			}
			ensure!(entries == tail.saturating_sub(head), "a queue has holes");
		}
		let is_queued = |kind, id: RequestId, due| {
			queued.get(&kind).is_some_and(|set| set.contains(&(id, due)))
		};

		let mut assigned: BTreeSet<(T::AccountId, RequestId)> = BTreeSet::new();
		let mut escrow: BTreeMap<T::AccountId, BalanceOf<T>> = BTreeMap::new();
		let mut per_model: BTreeMap<ModelId, u32> = BTreeMap::new();
		let mut count = 0u32;
		for (id, req) in Requests::<T>::iter() {
			ensure!(id < NextRequestId::<T>::get(), "a request id is not below NextRequestId");
			ensure!(T::Models::terms(req.model).is_some(), "an open request's model is gone");
			ensure!(req.max_fee >= req.price, "a request holds less than its price");
			let sum = escrow.entry(req.caller.clone()).or_default();
			*sum = sum.saturating_add(req.max_fee);
			let n = per_model.entry(req.model).or_default();
			*n = n.saturating_add(1);
			count = count.saturating_add(1);
			match &req.status {
				RequestStatus::Assigned { worker, deadline } => {
					ensure!(req.tried.last() == Some(worker), "the assignee is not the last tried");
					let due = deadline.saturating_add(One::one());
					ensure!(is_queued(QueueKind::Deadline, id, due), "a deadline is not queued");
					ensure!(!Outputs::<T>::contains_key(id), "an unanswered request has an output");
					assigned.insert((worker.clone(), id));
				}
				RequestStatus::Answered { worker, challenge_end, .. } => {
					ensure!(req.tried.last() == Some(worker), "the answerer is not the last tried");
					ensure!(
						is_queued(QueueKind::Settlement, id, *challenge_end),
						"a settlement is not queued"
					);
					ensure!(Outputs::<T>::contains_key(id), "an answered request has no output");
				}
				RequestStatus::Frozen { .. } => {
					ensure!(Outputs::<T>::contains_key(id), "a frozen request has no output");
				}
			}
			ensure!(!Completions::<T>::contains_key(id), "a request is both open and complete");
		}
		ensure!(count == Requests::<T>::count(), "the request counter is off");
		for (worker, id, ()) in WorkerAssignments::<T>::iter() {
			ensure!(assigned.remove(&(worker, id)), "an assignment index entry is stale");
		}
		ensure!(assigned.is_empty(), "an assigned request is missing from the index");
		for who in Expelling::<T>::get() {
			ensure!(!Workers::<T>::contains_key(&who), "an expelled worker is still registered");
			ensure!(Banned::<T>::contains_key(&who), "an expelled worker is not banned");
		}
		ensure!(count <= T::MaxOpenRequests::get(), "more open requests than MaxOpenRequests");

		for (model, n) in OpenPerModel::<T>::iter() {
			ensure!(per_model.remove(&model) == Some(n), "OpenPerModel disagrees with requests");
		}
		ensure!(per_model.is_empty(), "a model has open requests OpenPerModel does not count");

		for (id, done) in Completions::<T>::iter() {
			let retained = done.at.saturating_add(T::ResultRetention::get());
			ensure!(
				is_queued(QueueKind::Prune, id, retained),
				"a completion is not queued for pruning"
			);
			let settled = matches!(done.outcome, Outcome::Settled { .. });
			ensure!(Outputs::<T>::contains_key(id) == settled, "a completion's output is off");
		}
		for id in Outputs::<T>::iter_keys() {
			ensure!(
				Requests::<T>::contains_key(id) || Completions::<T>::contains_key(id),
				"an output belongs to nothing"
			);
		}

		let mut workers = 0u32;
		for (who, info) in Workers::<T>::iter() {
			workers = workers.saturating_add(1);
			for model in info.models.iter() {
				ensure!(
					ModelWorkers::<T>::get(model).contains(&who),
					"a worker is missing from a model's index"
				);
			}
		}
		ensure!(workers == Workers::<T>::count(), "the worker counter is off");
		ensure!(workers <= T::MaxWorkers::get(), "more workers than MaxWorkers");
		for (model, list) in ModelWorkers::<T>::iter() {
			for who in list.iter() {
				let serves = Workers::<T>::get(who).is_some_and(|w| w.models.contains(&model));
				ensure!(serves, "a model's index names a worker that does not serve it");
			}
		}

		let reason = HoldReason::Escrow.into();
		for who in frame_system::Account::<T>::iter_keys() {
			let expected = escrow.remove(&who).unwrap_or_default();
			ensure!(
				T::Currency::balance_on_hold(&reason, &who) == expected,
				"an account's escrow hold differs from its open requests"
			);
		}
		ensure!(escrow.is_empty(), "a caller with open requests has no account");

		let oldest = OldestEra::<T>::get();
		let active = T::Staking::active_era();
		for era in ErasWork::<T>::iter_keys().map(|(era, _)| era) {
			ensure!(era >= oldest, "an era record is older than the history window");
			ensure!(active.is_some_and(|a| era <= a), "an era record is past the active era");
		}
		Ok(())
	}
}

type BlockNumberOf<T> = frame_system::pallet_prelude::BlockNumberFor<T>;
