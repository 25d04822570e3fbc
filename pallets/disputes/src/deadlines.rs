//! Stage deadlines, handled from `on_initialize`: a stage whose last block
//! was `d` times out at the start of block `d + 1` (later if more than
//! `MaxQueueWork` deadlines fall due at once: they carry over).
//!
//! - A reveal round ends with a party silent: each silent party loses.
//! - The proof stage ends without a valid proof: the challenger, who
//!   carries the burden, loses.
//! - A resolution whose retention ended is removed.

use crate::{pallet::*, types::*, weights::WeightInfo};
use frame_support::{pallet_prelude::*, traits::Get};
use frame_system::pallet_prelude::BlockNumberFor;
use pallet_inference::RequestId;
use sp_runtime::traits::{One, Saturating};

impl<T: Config> Pallet<T> {
	/// Schedules the timeout of a stage whose last block is `deadline`.
	pub(crate) fn schedule(deadline: BlockNumberFor<T>, request: RequestId) {
		Deadlines::<T>::insert(deadline.saturating_add(One::one()), request, ());
	}

	/// Handles due deadlines from the cursor up to `now`: at most
	/// `MaxQueueWork` deadlines and as many blocks' worth of scanning.
	pub(crate) fn process_deadlines(now: BlockNumberFor<T>) -> Weight {
		let mut weight = T::WeightInfo::on_initialize_idle();
		let mut budget = T::MaxQueueWork::get();
		let mut block = DeadlineCursor::<T>::get();
		while block <= now && budget > 0 {
			budget = budget.saturating_sub(1);
			let due: alloc::vec::Vec<RequestId> = Deadlines::<T>::iter_key_prefix(block)
				.take((budget as usize).saturating_add(1))
				.collect();
			let mut done = 0u32;
			for request in due.iter().take(budget as usize) {
				Deadlines::<T>::remove(block, request);
				weight.saturating_accrue(Self::time_out(*request, block));
				done = done.saturating_add(1);
			}
			budget = budget.saturating_sub(done);
			if (due.len() as u32) > done {
				// More fall due in this block than the budget: carry over.
				break;
			}
			block = block.saturating_add(One::one());
		}
		DeadlineCursor::<T>::put(block);
		weight
	}

	/// The stage of `request` that ended before block `due` timed out.
	fn time_out(request: RequestId, due: BlockNumberFor<T>) -> Weight {
		let Some(dispute) = Disputes::<T>::get(request) else {
			return Self::expire_resolution(request, due);
		};
		if dispute.stage.deadline().saturating_add(One::one()) != due {
			// The dispute moved on (a later stage has its own deadline).
			return T::WeightInfo::skip_deadline();
		}
		match dispute.stage {
			Stage::Reveal { revealed, .. } => {
				let worker_silent = revealed != Some(Party::Worker);
				let challenger_silent = revealed != Some(Party::Challenger);
				Self::conclude(request, dispute, Ending::Silence, worker_silent, challenger_silent);
			}
			Stage::Prove { .. } => Self::conclude(request, dispute, Ending::NoProof, false, true),
		}
		T::WeightInfo::time_out()
	}

	/// Removes `request`'s resolution if its retention ended before `due`
	/// (a later dispute of the same request has its own expiry).
	fn expire_resolution(request: RequestId, due: BlockNumberFor<T>) -> Weight {
		let expired = Resolutions::<T>::get(request)
			.is_some_and(|r| r.expires.saturating_add(One::one()) == due);
		if expired {
			Resolutions::<T>::remove(request);
			T::WeightInfo::time_out()
		} else {
			T::WeightInfo::skip_deadline()
		}
	}
}
