//! Stake-weighted random choice of a worker.
//!
//! The seed mixes the runtime's randomness source (in Cinder: BABE's
//! randomness from one epoch ago, fixed before anyone could grind it, and the
//! parent block's VRF output, which its author could only withhold at the
//! cost of its slot) with the request id and attempt number.

use crate::{pallet::*, types::*, ValidatorStaking};
use alloc::vec::Vec;
use codec::Encode;
use frame_support::{pallet_prelude::*, traits::Randomness};
use frame_system::pallet_prelude::BlockNumberFor;
use pallet_models::ModelId;
use sp_runtime::traits::{One, Saturating, UniqueSaturatedInto};

impl<T: Config> Pallet<T> {
	/// Picks a worker for `request` among the active validators serving
	/// `model`, skipping `excluded`, with probability proportional to stake.
	/// Demoted workers are picked only when nobody else is eligible.
	pub(crate) fn select_worker(
		model: ModelId,
		request: RequestId,
		excluded: &[T::AccountId],
		now: BlockNumberFor<T>,
	) -> Option<T::AccountId> {
		let mut fresh: Vec<(T::AccountId, u128)> = Vec::new();
		let mut demoted: Vec<(T::AccountId, u128)> = Vec::new();
		for who in ModelWorkers::<T>::get(model) {
			if excluded.contains(&who) {
				continue;
			}
			let Some(stake) = T::Staking::active_stake(&who) else { continue };
			let stake: u128 = stake.unique_saturated_into();
			let Some(info) = Workers::<T>::get(&who) else { continue };
			if stake == 0 {
				continue;
			}
			if info.demoted_until > now {
				demoted.push((who, stake));
			} else {
				fresh.push((who, stake));
			}
		}
		let pool = if fresh.is_empty() { demoted } else { fresh };
		let total = pool.iter().fold(0u128, |acc, (_, s)| acc.saturating_add(*s));
		let attempt = excluded.len() as u32;
		let subject = (b"cinder/assign", request, attempt).encode();
		let (random, _) = T::Randomness::random(&subject);
		let seed = sp_io::hashing::blake2_256(&(random, request, attempt).encode());
		let mut bytes = [0u8; 16];
		bytes.copy_from_slice(&seed[..16]);
		let mut point = u128::from_le_bytes(bytes).checked_rem(total)?;
		for (who, stake) in pool {
			if point < stake {
				return Some(who);
			}
			point = point.saturating_sub(stake);
		}
		None
	}

	/// Makes `worker` the current assignee of `request` with a fresh deadline.
	pub(crate) fn assign(
		id: RequestId,
		request: &mut RequestOf<T>,
		worker: T::AccountId,
		now: BlockNumberFor<T>,
	) -> DispatchResult {
		request.tried.try_push(worker.clone()).map_err(|_| Error::<T>::NoEligibleWorker)?;
		let deadline = now.saturating_add(T::ResultTimeout::get());
		request.status = RequestStatus::Assigned { worker: worker.clone(), deadline };
		WorkerAssignments::<T>::insert(&worker, id, ());
		// The deadline block itself still accepts the result, so the timeout
		// runs at the start of the next one.
		Self::enqueue(QueueKind::Deadline, deadline.saturating_add(One::one()), id);
		Self::deposit_event(Event::Assigned {
			request: id,
			worker,
			deadline,
			attempt: request.tried.len() as u32,
		});
		Ok(())
	}
}
