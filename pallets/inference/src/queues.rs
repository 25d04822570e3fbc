//! Per-block work: result deadlines, settlements and pruning, each from a
//! FIFO queue of `(due block, request)` entries, at most `MaxQueueWork`
//! entries per queue and block. An entry whose request has moved on (a
//! result arrived before the deadline, a result was frozen) is dropped.
//! Then, as many again, the open assignments of expelled workers are handed
//! to other workers (`disputes.rs`).

use crate::{pallet::*, types::*, weights::WeightInfo, ValidatorStaking};
use frame_support::{
	pallet_prelude::*,
	storage::with_storage_layer,
	traits::{
		fungible::MutateHold,
		tokens::{Fortitude, Precision, Restriction},
		Get,
	},
};
use frame_system::pallet_prelude::BlockNumberFor;
use sp_runtime::traits::{Saturating, Zero};

impl<T: Config> Pallet<T> {
	/// Appends `(due, id)` to queue `kind`.
	pub(crate) fn enqueue(kind: QueueKind, due: BlockNumberFor<T>, id: RequestId) {
		QueueBounds::<T>::mutate(kind, |(_, tail)| {
			Queue::<T>::insert(kind, *tail, (due, id));
			*tail = tail.saturating_add(1);
		});
	}

	/// Removes and returns the head of queue `kind` if it is due by `now`.
	fn pop_due(kind: QueueKind, now: BlockNumberFor<T>) -> Option<RequestId> {
		let (head, tail) = QueueBounds::<T>::get(kind);
		if head >= tail {
			return None;
		}
		let (due, id) = Queue::<T>::get(kind, head)?;
		if due > now {
			return None;
		}
		Queue::<T>::remove(kind, head);
		QueueBounds::<T>::insert(kind, (head.saturating_add(1), tail));
		Some(id)
	}

	/// Runs the due entries of every queue, within the per-block budget, and
	/// returns the weight used.
	pub(crate) fn process_queues(now: BlockNumberFor<T>) -> Weight {
		let budget = T::MaxQueueWork::get();
		let mut weight = T::WeightInfo::on_initialize_idle();
		for _ in 0..budget {
			let Some(id) = Self::pop_due(QueueKind::Deadline, now) else { break };
			weight.saturating_accrue(Self::expire(id, now));
		}
		for _ in 0..budget {
			let Some(id) = Self::pop_due(QueueKind::Settlement, now) else { break };
			weight.saturating_accrue(Self::settle(id, now));
		}
		for _ in 0..budget {
			let Some(id) = Self::pop_due(QueueKind::Prune, now) else { break };
			weight.saturating_accrue(Self::prune(id));
		}
		for _ in 0..budget {
			let Some(used) = Self::process_expelled(now) else { break };
			weight.saturating_accrue(used);
		}
		weight
	}

	/// A deadline passed: demote the worker if it has not answered, then
	/// reassign or refund.
	pub(crate) fn expire(id: RequestId, now: BlockNumberFor<T>) -> Weight {
		let Some(mut req) = Requests::<T>::get(id) else { return T::WeightInfo::skip_entry() };
		let RequestStatus::Assigned { worker, deadline } = req.status.clone() else {
			return T::WeightInfo::skip_entry();
		};
		if deadline >= now {
			// An older entry of a request that has been reassigned since.
			return T::WeightInfo::skip_entry();
		}
		WorkerAssignments::<T>::remove(&worker, id);
		Workers::<T>::mutate(&worker, |w| {
			if let Some(w) = w {
				w.missed = w.missed.saturating_add(1);
				w.demoted_until = now.saturating_add(T::MissDemotion::get());
			}
		});
		Self::note_work(&worker, |work| work.missed = work.missed.saturating_add(1));
		Self::deposit_event(Event::DeadlineMissed { request: id, worker });

		if (req.tried.len() as u32) < T::MaxAttempts::get() {
			if let Some(next) = Self::select_worker(req.model, id, &req.tried, now) {
				if Self::assign(id, &mut req, next, now).is_ok() {
					Requests::<T>::insert(id, req);
					return T::WeightInfo::expire_reassign(T::MaxWorkers::get());
				}
			}
		}
		Self::refund(id, req, now);
		T::WeightInfo::expire_refund(T::MaxWorkers::get())
	}

	/// Releases the whole hold and closes the request.
	pub(crate) fn refund(id: RequestId, req: RequestOf<T>, now: BlockNumberFor<T>) {
		let released = T::Currency::release(
			&HoldReason::Escrow.into(),
			&req.caller,
			req.max_fee,
			Precision::BestEffort,
		)
		.unwrap_or_else(|_| Zero::zero());
		Self::deposit_event(Event::Refunded {
			request: id,
			caller: req.caller.clone(),
			amount: released,
		});
		Self::close(id, &req, Outcome::Refunded { amount: released }, now);
	}

	/// The challenge window of an answered request closed: pay the worker's
	/// share and the treasury's cut, release the rest. While the worker is an
	/// active validator its share goes into the staking pot and counts as its
	/// income in the active era (the era payout distributes it); otherwise
	/// it goes to the worker. Should a transfer fail (it cannot while the
	/// pot, worker and treasury accounts exist), the caller is refunded.
	pub(crate) fn settle(id: RequestId, now: BlockNumberFor<T>) -> Weight {
		let Some(req) = Requests::<T>::get(id) else { return T::WeightInfo::skip_entry() };
		let RequestStatus::Answered { worker, challenge_end, .. } = req.status.clone() else {
			return T::WeightInfo::skip_entry();
		};
		if challenge_end > now {
			return T::WeightInfo::skip_entry();
		}
		let (worker_share, protocol_cut) = Self::split_price(req.price);
		let released = req.max_fee.saturating_sub(req.price);
		let era = T::Staking::active_era().filter(|_| T::Staking::active_stake(&worker).is_some());
		let payee = if era.is_some() { T::StakingPot::get() } else { worker.clone() };
		let paid = with_storage_layer::<(), DispatchError, _>(|| {
			let reason = HoldReason::Escrow.into();
			let pay = |to: &T::AccountId, amount| {
				if amount > Zero::zero() {
					T::Currency::transfer_on_hold(
						&reason,
						&req.caller,
						to,
						amount,
						Precision::Exact,
						Restriction::Free,
						Fortitude::Polite,
					)?;
				}
				Ok::<_, DispatchError>(())
			};
			pay(&payee, worker_share)?;
			pay(&T::Treasury::get(), protocol_cut)?;
			T::Currency::release(&reason, &req.caller, released, Precision::Exact)?;
			Ok(())
		});
		if paid.is_err() {
			log::warn!(target: "runtime::inference", "request {id}: settlement failed, refunding");
			Outputs::<T>::remove(id);
			Self::refund(id, req, now);
			return T::WeightInfo::settle();
		}
		Workers::<T>::mutate(&worker, |w| {
			if let Some(w) = w {
				w.served = w.served.saturating_add(1);
			}
		});
		Self::note_work(&worker, |work| {
			work.served = work.served.saturating_add(1);
			if era.is_some() {
				work.income = work.income.saturating_add(worker_share);
			}
		});
		Self::deposit_event(Event::Settled {
			request: id,
			worker: worker.clone(),
			worker_share,
			era,
			protocol_cut,
			released,
		});
		Self::close(id, &req, Outcome::Settled { worker, worker_share, protocol_cut }, now);
		T::WeightInfo::settle()
	}

	/// The retention of a finished request ended: forget it.
	pub(crate) fn prune(id: RequestId) -> Weight {
		Completions::<T>::remove(id);
		Outputs::<T>::remove(id);
		T::WeightInfo::prune()
	}

	/// Removes a finished request and keeps its outcome for the retention
	/// period.
	fn close(
		id: RequestId,
		req: &RequestOf<T>,
		outcome: Outcome<T::AccountId, BalanceOf<T>>,
		now: BlockNumberFor<T>,
	) {
		Requests::<T>::remove(id);
		OpenPerModel::<T>::mutate_exists(req.model, |n| {
			*n = n.and_then(|n| n.checked_sub(1)).filter(|n| *n > 0);
		});
		Completions::<T>::insert(
			id,
			Completion {
				caller: req.caller.clone(),
				model: req.model,
				task: req.task,
				at: now,
				outcome,
			},
		);
		Self::enqueue(QueueKind::Prune, now.saturating_add(T::ResultRetention::get()), id);
	}
}
