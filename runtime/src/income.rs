//! What token holders read through `InferenceApi`: each active validator's
//! terms, stake and inference income, and a nominator's expected share of
//! the income of the validators it backs. Joins `pallet-staking`'s era
//! records with `pallet-inference`'s; read-only, for the runtime API.

use alloc::vec::Vec;
use pallet_inference::{Backing, EraIncome, NominatorView, ValidatorView};
use pallet_staking::{ActiveEra, EraInfo, ErasStakersOverview, ErasValidatorPrefs};
use sp_runtime::Perbill;

use crate::{AccountId, Balance, Runtime};

fn active_era() -> Option<u32> {
	ActiveEra::<Runtime>::get().map(|a| a.index)
}

fn income(era: u32, who: &AccountId) -> EraIncome<Balance> {
	EraIncome::new(era, pallet_inference::ErasWork::<Runtime>::get(era, who))
}

/// Every validator in the active era's exposure, with this era's and the
/// last era's record.
pub fn validators() -> Vec<ValidatorView<AccountId, Balance>> {
	let Some(era) = active_era() else { return Vec::new() };
	let mut out: Vec<ValidatorView<AccountId, Balance>> =
		ErasStakersOverview::<Runtime>::iter_prefix(era)
			.map(|(stash, exposure)| ValidatorView {
				commission: ErasValidatorPrefs::<Runtime>::get(era, &stash)
					.commission
					.deconstruct(),
				own: exposure.own,
				total: exposure.total,
				nominators: exposure.nominator_count,
				worker: pallet_inference::Workers::<Runtime>::contains_key(&stash),
				current: income(era, &stash),
				previous: era.checked_sub(1).map(|last| income(last, &stash)),
				stash,
			})
			.collect();
	out.sort_by(|a, b| a.stash.cmp(&b.stash));
	out
}

/// `who`'s bond, targets and expected shares in the active era and the
/// one before.
pub fn nominator(who: AccountId) -> NominatorView<AccountId, Balance> {
	let bonded = pallet_staking::Ledger::<Runtime>::get(
		pallet_staking::Bonded::<Runtime>::get(&who).unwrap_or_else(|| who.clone()),
	)
	.map(|l| l.active)
	.unwrap_or_default();
	let targets = pallet_staking::Nominators::<Runtime>::get(&who)
		.map(|n| n.targets.into_inner())
		.unwrap_or_default();
	let era = active_era();
	let mut backings = Vec::new();
	for e in era.into_iter().flat_map(|e| [Some(e), e.checked_sub(1)]).flatten() {
		backings.extend(backings_in(e, &who));
	}
	NominatorView { stash: who, bonded, targets, era, backings }
}

/// `who`'s backings in `era`: every validator whose exposure counts it.
fn backings_in(era: u32, who: &AccountId) -> Vec<Backing<AccountId, Balance>> {
	let mut out = Vec::new();
	for (validator, overview) in ErasStakersOverview::<Runtime>::iter_prefix(era) {
		let Some(exposure) = EraInfo::<Runtime>::get_full_exposure(era, &validator)
			.others
			.into_iter()
			.find(|n| n.who == *who)
		else {
			continue;
		};
		let commission = ErasValidatorPrefs::<Runtime>::get(era, &validator).commission;
		let income = pallet_inference::ErasWork::<Runtime>::get(era, &validator).income;
		out.push(Backing {
			era,
			stake: exposure.value,
			total: overview.total,
			commission: commission.deconstruct(),
			income,
			share: nominator_share(income, commission, exposure.value, overview.total),
			validator,
		});
	}
	out.sort_by(|a, b| a.validator.cmp(&b.validator));
	out
}

/// A nominator's part of a validator's `income` as `payout_stakers` splits
/// it: commission off the top, then stake over total, each a Perbill.
// `Perbill * Balance` is staking's own rounding (to nearest); it cannot
// overflow: the product is at most the balance.
#[allow(clippy::arithmetic_side_effects)]
pub fn nominator_share(
	income: Balance,
	commission: Perbill,
	stake: Balance,
	total: Balance,
) -> Balance {
	let leftover = income.saturating_sub(commission * income);
	Perbill::from_rational(stake, total) * leftover
}
