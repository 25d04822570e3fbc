//! Each validator's work per staking era: income, requests served and
//! missed, disputes won and lost. Settlement adds to the active era's
//! records; at the era's end the runtime's payout reads the incomes (and
//! the records older than `EraHistory` eras go).

use crate::{pallet::*, types::*, ValidatorStaking};
use alloc::vec::Vec;
use frame_support::traits::Get;
use sp_runtime::traits::Zero;

impl<T: Config> Pallet<T> {
	/// Applies `change` to `who`'s record in the active era, if `who` is
	/// one of its validators (so an era holds at most one record per active
	/// validator; nothing is recorded before the first era starts).
	pub(crate) fn note_work(who: &T::AccountId, change: impl FnOnce(&mut EraWork<BalanceOf<T>>)) {
		if let Some(era) = T::Staking::active_era() {
			if T::Staking::active_stake(who).is_some() {
				ErasWork::<T>::mutate(era, who, change);
			}
		}
	}

	/// The records of `era`: `(validator, work)` for each validator whose
	/// worker did something in it.
	pub fn era_work(era: EraIndex) -> Vec<(T::AccountId, EraWork<BalanceOf<T>>)> {
		ErasWork::<T>::iter_prefix(era).collect()
	}

	/// `era` ended: returns each validator's income in it (for the payout
	/// to add to the era's reward and split by), and forgets the records
	/// that fall out of the `EraHistory` window, keeping `era`'s. Called by
	/// the runtime once per era, from staking's era payout; its weight is
	/// `WeightInfo::end_era` with one record per active validator, and it
	/// runs within a session rotation, which `pallet-session` already
	/// charges a full block for (so it is not registered again).
	pub fn end_era(era: EraIndex) -> Vec<(T::AccountId, BalanceOf<T>)> {
		let keep_from = era.saturating_add(1).saturating_sub(T::EraHistory::get());
		let mut oldest = OldestEra::<T>::get();
		// One era's records are cleared per era end, so the window moves by
		// one era at a time; an era is at most the active validators.
		if oldest < keep_from {
			let _ = ErasWork::<T>::clear_prefix(oldest, T::MaxWorkers::get(), None);
			oldest = oldest.saturating_add(1);
			OldestEra::<T>::put(oldest);
		}
		ErasWork::<T>::iter_prefix(era)
			.filter(|(_, work)| !work.income.is_zero())
			.map(|(who, work)| (who, work.income))
			.collect()
	}
}
