//! What the marketplace needs from staking, behind one trait of ours, so the
//! runtime can back it with `pallet-staking` (or its successor) and tests
//! with a table.

/// Cinder's view of the validator set and its stake.
pub trait ValidatorStaking<AccountId, Balance> {
	/// The total stake (own and nominated) behind `who` in the active era, if
	/// `who` is an active validator.
	fn active_stake(who: &AccountId) -> Option<Balance>;

	/// Makes `who` an active validator with `stake`, for benchmarks.
	#[cfg(feature = "runtime-benchmarks")]
	fn make_active(who: &AccountId, stake: Balance);
}
