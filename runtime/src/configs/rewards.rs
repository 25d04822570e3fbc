//! How inference income reaches token holders, through `pallet-staking`'s
//! own era payout (no second payout system):
//!
//! 1. a settled request pays the worker's share into the **staking pot**
//!    and counts it as the worker's validator's income in the active era
//!    (`pallet-inference`);
//! 2. when the era ends, [`InferencePayout`] adds the era's income to the
//!    inflation the reward curve pays validators, and sets the era's reward
//!    points so that each validator's part of the sum is its share of the
//!    inflation (by blocks authored, as before) plus exactly its own
//!    income, to FRAME's Perbill precision;
//! 3. `payout_stakers` splits each validator's part as always: commission
//!    first, the rest pro rata to the exposure of the era the work was done
//!    in;
//! 4. [`PayFromPot`] (staking's `Reward` handler) takes what a payout
//!    mints back out of the pot, as far as the pot holds undistributed
//!    income: fees are moved to stakers, never minted. Issuance grows by
//!    the inflation only.
//!
//! Staking's `MaxStakedRewards` (unset here) would cap the fees with the
//! inflation, sending the capped part to the treasury as newly minted
//! remainder while the pot kept the fees: leave it unset, or lower the
//! curve instead.

use alloc::collections::btree_map::BTreeMap;
use frame_support::{
	parameter_types,
	traits::{
		fungible::{Balanced, Debt, Inspect},
		tokens::{Fortitude, Precision, Preservation},
		Imbalance, OnUnbalanced,
	},
	PalletId,
};
use pallet_staking::EraPayout;
use sp_runtime::traits::{AccountIdConversion, Zero};

use super::staking::RewardCurve;
use crate::{AccountId, Balance, Balances, Inference, Runtime};

parameter_types! {
	/// The account settled worker shares wait in until their era's payout.
	pub const StakingPotPalletId: PalletId = PalletId(*b"cdr/stkp");
	pub StakingPot: AccountId = StakingPotPalletId::get().into_account_truncating();
}

/// Reward points an era's payout is split by, when inference income joins
/// it: a billion in all, the precision of the Perbill staking splits with.
pub const POINTS_SCALE: u128 = 1_000_000_000;

/// The reward curve's inflation plus the ending era's inference income.
pub struct InferencePayout;
impl EraPayout<Balance> for InferencePayout {
	fn era_payout(
		total_staked: Balance,
		total_issuance: Balance,
		era_duration_millis: u64,
	) -> (Balance, Balance) {
		let (inflation, remainder) = pallet_staking::ConvertCurve::<RewardCurve>::era_payout(
			total_staked,
			total_issuance,
			era_duration_millis,
		);
		// Staking calls this from `end_era`, while the ending era is active.
		let Some(era) = pallet_staking::ActiveEra::<Runtime>::get().map(|a| a.index) else {
			return (inflation, remainder);
		};
		let income = Inference::end_era(era);
		let fees = income.iter().fold(0u128, |sum, (_, fee)| sum.saturating_add(*fee));
		if fees.is_zero() {
			return (inflation, remainder);
		}
		let mut paid = inflation;
		pallet_staking::ErasRewardPoints::<Runtime>::mutate(era, |points| {
			// No blocks authored (it cannot happen on a live chain): the
			// inflation has no split, so it joins the remainder.
			if points.total == 0 {
				paid = 0;
			}
			let (individual, total) = combined_points(&points.individual, paid, &income);
			points.individual = individual;
			points.total = total;
		});
		let remainder = remainder.saturating_add(inflation.saturating_sub(paid));
		(paid.saturating_add(fees), remainder)
	}
}

/// Reward points that split `inflation + Σ income` so that each validator
/// gets `inflation × authored / Σ authored + its income`: each validator's
/// value in [`POINTS_SCALE`]ths of the sum, rounded down. Returns the points
/// and their total.
pub fn combined_points(
	authored: &BTreeMap<AccountId, u32>,
	inflation: Balance,
	income: &[(AccountId, Balance)],
) -> (BTreeMap<AccountId, u32>, u32) {
	let authored_total = authored.values().fold(0u128, |s, p| s.saturating_add(u128::from(*p)));
	let mut value: BTreeMap<AccountId, Balance> = BTreeMap::new();
	if authored_total > 0 {
		for (who, p) in authored {
			let share = mul_div(inflation, u128::from(*p), authored_total);
			value.insert(who.clone(), share);
		}
	}
	for (who, fee) in income {
		let v = value.entry(who.clone()).or_default();
		*v = v.saturating_add(*fee);
	}
	let sum = value.values().fold(0u128, |s, v| s.saturating_add(*v));
	let mut total = 0u32;
	let points = value
		.into_iter()
		.map(|(who, v)| {
			// At most POINTS_SCALE, which fits a u32.
			let p = u32::try_from(mul_div(v, POINTS_SCALE, sum)).unwrap_or(u32::MAX);
			total = total.saturating_add(p);
			(who, p)
		})
		.filter(|(_, p)| *p > 0)
		.collect();
	(points, total)
}

/// `x × n / d` rounded down, without overflow; 0 when `d` is 0.
fn mul_div(x: u128, n: u128, d: u128) -> u128 {
	sp_runtime::helpers_128bit::multiply_by_rational_with_rounding(
		x,
		n,
		d,
		sp_runtime::Rounding::Down,
	)
	.unwrap_or(0)
}

/// Staking's `Reward` handler: a payout mints its amount; as much of it as
/// the pot holds is taken back out of the pot, so income is moved, not
/// minted. The pot keeps its existential deposit.
pub struct PayFromPot;
impl OnUnbalanced<Debt<AccountId, Balances>> for PayFromPot {
	fn on_nonzero_unbalanced(minted: Debt<AccountId, Balances>) {
		let pot = StakingPot::get();
		let available = <Balances as Inspect<_>>::reducible_balance(
			&pot,
			Preservation::Preserve,
			Fortitude::Polite,
		);
		let take = available.min(minted.peek());
		if take.is_zero() {
			return;
		}
		match <Balances as Balanced<_>>::withdraw(
			&pot,
			take,
			Precision::Exact,
			Preservation::Preserve,
			Fortitude::Polite,
		) {
			// What the pot did not cover stays minted (the inflation).
			Ok(credit) => drop(minted.offset(credit)),
			Err(e) => log::error!(target: "runtime::rewards", "pot withdrawal failed: {e:?}"),
		}
	}
}
