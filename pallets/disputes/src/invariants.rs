//! try-state: bonds add up, every dispute has its frozen result and its
//! deadline, and every frozen result its dispute.

use crate::{pallet::*, types::*};
use alloc::collections::{btree_map::BTreeMap, btree_set::BTreeSet};
use frame_support::{ensure, traits::fungible::InspectHold};
use pallet_inference::ResultDisputes;
use sp_runtime::{
	traits::{One, Saturating},
	TryRuntimeError,
};

impl<T: Config> Pallet<T> {
	/// Checks the dispute game's invariants. Iterates every account and open
	/// request: for try-runtime and tests, never for block execution.
	///
	/// - every account's bond hold equals the bonds of the disputes it opened;
	/// - every dispute's result is frozen, and every frozen result has
	///   exactly one dispute (one per request, by construction of the map);
	/// - a dispute's current stage has its deadline scheduled, at or after
	///   the cursor (stale entries of stages that moved on are skipped when
	///   they fall due);
	/// - waiting reveals belong to a reveal round in which one party has
	///   revealed, and hold that round's node count;
	/// - every kept resolution has its expiry scheduled;
	/// - the dispute counter is right.
	pub fn do_try_state() -> Result<(), TryRuntimeError> {
		let mut bonds: BTreeMap<T::AccountId, BalanceOf<T>> = BTreeMap::new();
		let mut open = BTreeSet::new();
		let mut count = 0u32;
		let cursor = DeadlineCursor::<T>::get();
		for (request, dispute) in Disputes::<T>::iter() {
			count = count.saturating_add(1);
			open.insert(request);
			let bond = bonds.entry(dispute.challenger.clone()).or_default();
			*bond = bond.saturating_add(dispute.bond);
			ensure!(T::Results::is_frozen(request), "a dispute's result is not frozen");
			let due = dispute.stage.deadline().saturating_add(One::one());
			ensure!(due >= cursor, "a dispute's deadline is behind the cursor");
			ensure!(
				Deadlines::<T>::contains_key(due, request),
				"a dispute's deadline is not scheduled"
			);
			let waiting = Reveals::<T>::get(request);
			match dispute.stage {
				Stage::Reveal { level, index, revealed: Some(_), .. } => {
					let depth = Self::round_depth().min(level);
					let (start, end) =
						cinder_kernel::merkle::children(dispute.steps, level, index, depth)
							.ok_or("a reveal round's node does not exist")?;
					let expected = end.saturating_sub(start) as usize;
					ensure!(
						waiting.is_some_and(|w| w.len() == expected),
						"a reveal round's waiting hashes are missing or of the wrong count"
					);
				}
				_ => ensure!(waiting.is_none(), "hashes wait for a round that is not open"),
			}
		}
		ensure!(count == Disputes::<T>::count(), "the dispute counter is off");
		for request in T::Results::frozen_requests() {
			ensure!(open.contains(&request), "a frozen result has no dispute");
		}
		for request in Reveals::<T>::iter_keys() {
			ensure!(open.contains(&request), "waiting hashes belong to no dispute");
		}
		let reason = HoldReason::ChallengeBond.into();
		for who in frame_system::Account::<T>::iter_keys() {
			let expected = bonds.remove(&who).unwrap_or_default();
			ensure!(
				T::Currency::balance_on_hold(&reason, &who) == expected,
				"an account's bond hold differs from its open disputes' bonds"
			);
		}
		ensure!(bonds.is_empty(), "a challenger with an open dispute has no account");
		for (request, resolution) in Resolutions::<T>::iter() {
			let due = resolution.expires.saturating_add(One::one());
			ensure!(
				due >= cursor && Deadlines::<T>::contains_key(due, request),
				"a resolution's expiry is not scheduled"
			);
		}
		Ok(())
	}
}
