//! What `inference_validators` and `inference_nominator` return: each
//! validator's terms, stake and inference income, and a nominator's
//! expected share of it. Amounts are decimal strings ([`Amount`]), so a
//! JavaScript client reads every planck exactly.

use pallet_inference_runtime_api::{Backing, EraIncome, NominatorView, ValidatorView};
use serde::{Deserialize, Serialize};

use crate::Amount;

/// One era of a validator's inference work.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EraIncomeInfo {
	pub era: u32,
	/// Worker shares settled in the era: what its payout adds for the
	/// validator and its nominators.
	pub income: Amount,
	pub served: u32,
	pub missed: u32,
	pub disputes_won: u32,
	pub disputes_lost: u32,
}

impl<B: Into<u128>> From<EraIncome<B>> for EraIncomeInfo {
	fn from(e: EraIncome<B>) -> Self {
		Self {
			era: e.era,
			income: Amount(e.income.into()),
			served: e.served,
			missed: e.missed,
			disputes_won: e.disputes_won,
			disputes_lost: e.disputes_lost,
		}
	}
}

/// A validator of the active era, as `inference_validators` lists it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ValidatorInfo<AccountId> {
	pub stash: AccountId,
	/// Commission in billionths (`100000000` is 10%).
	pub commission: u32,
	/// Own stake in the active era.
	pub own: Amount,
	/// Own and nominated stake in the active era.
	pub total: Amount,
	pub nominators: u32,
	/// Whether its worker is registered.
	pub worker: bool,
	/// The active era so far.
	pub current: EraIncomeInfo,
	/// The era before.
	pub previous: Option<EraIncomeInfo>,
}

impl<A, B: Into<u128>> From<ValidatorView<A, B>> for ValidatorInfo<A> {
	fn from(v: ValidatorView<A, B>) -> Self {
		Self {
			stash: v.stash,
			commission: v.commission,
			own: Amount(v.own.into()),
			total: Amount(v.total.into()),
			nominators: v.nominators,
			worker: v.worker,
			current: v.current.into(),
			previous: v.previous.map(Into::into),
		}
	}
}

/// A nominator's backing of one validator in one era.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BackingInfo<AccountId> {
	pub validator: AccountId,
	pub era: u32,
	/// The nominator's stake behind the validator.
	pub stake: Amount,
	/// The validator's own and nominated stake.
	pub total: Amount,
	/// The validator's commission, in billionths.
	pub commission: u32,
	/// The validator's inference income in the era.
	pub income: Amount,
	/// The nominator's share of it, as `payout_stakers` will pay it.
	pub share: Amount,
}

impl<A, B: Into<u128>> From<Backing<A, B>> for BackingInfo<A> {
	fn from(b: Backing<A, B>) -> Self {
		Self {
			validator: b.validator,
			era: b.era,
			stake: Amount(b.stake.into()),
			total: Amount(b.total.into()),
			commission: b.commission,
			income: Amount(b.income.into()),
			share: Amount(b.share.into()),
		}
	}
}

/// A nominator, as `inference_nominator` returns it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NominatorInfo<AccountId> {
	pub stash: AccountId,
	/// Its active bond.
	pub bonded: Amount,
	/// Whom it nominates (from the next election on).
	pub targets: Vec<AccountId>,
	/// The active era.
	pub era: Option<u32>,
	/// Its backings in the active era and the one before.
	pub backings: Vec<BackingInfo<AccountId>>,
}

impl<A, B: Into<u128>> From<NominatorView<A, B>> for NominatorInfo<A> {
	fn from(n: NominatorView<A, B>) -> Self {
		Self {
			stash: n.stash,
			bonded: Amount(n.bonded.into()),
			targets: n.targets,
			era: n.era,
			backings: n.backings.into_iter().map(Into::into).collect(),
		}
	}
}
