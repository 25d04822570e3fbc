//! NPoS staking: token holders bond and nominate, an on-chain sequential
//! Phragmén election picks the validator set each era, and slashes reach
//! nominators through their exposure.

use frame_election_provider_support::{
	bounds::{ElectionBounds, ElectionBoundsBuilder},
	onchain, SequentialPhragmen,
};
use frame_support::{
	parameter_types,
	traits::{tokens::imbalance::ResolveTo, ConstBool, ConstU32, Nothing},
	PalletId,
};
use sp_runtime::{curve::PiecewiseLinear, traits::AccountIdConversion, Perbill};
use sp_staking::{EraIndex, SessionIndex};

use crate::{AccountId, Balance, Balances, Runtime, RuntimeEvent, RuntimeHoldReason, Session};

parameter_types! {
	/// The account that receives transaction fees, slashes not paid to
	/// reporters, unminted era-reward remainders and the inference
	/// protocol's cut.
	pub const TreasuryPalletId: PalletId = PalletId(*b"cdr/trsy");
	pub TreasuryAccount: AccountId = TreasuryPalletId::get().into_account_truncating();
}

// Yearly inflation paid to stakers, by the share of issuance staked:
// 2.5% at nothing staked, 10% at the ideal 50%, falling off beyond it.
pallet_staking_reward_curve::build! {
	const REWARD_CURVE: PiecewiseLinear<'static> = curve!(
		min_inflation: 0_025_000,
		max_inflation: 0_100_000,
		ideal_stake: 0_500_000,
		falloff: 0_050_000,
		max_piece_count: 40,
		test_precision: 0_005_000,
	);
}

parameter_types! {
	/// An era is six sessions: an hour.
	pub const SessionsPerEra: SessionIndex = 6;
	/// Unbonded funds are free after 28 eras (28 hours).
	pub const BondingDuration: EraIndex = 28;
	/// Slashes wait 7 eras before they apply, so sudo/governance can cancel
	/// a wrong one.
	pub const SlashDeferDuration: EraIndex = 7;
	pub const RewardCurve: &'static PiecewiseLinear<'static> = &REWARD_CURVE;
	pub const MaxExposurePageSize: u32 = 256;
	pub const HistoryDepth: u32 = 84;
	pub ElectionBoundsOnChain: ElectionBounds = ElectionBoundsBuilder::default()
		.voters_count(5_000.into())
		.targets_count(1_000.into())
		.build();
}

/// The election runs on chain, in one block, over every voter and target.
pub struct OnChainSeqPhragmen;
impl onchain::Config for OnChainSeqPhragmen {
	type System = Runtime;
	type Solver = SequentialPhragmen<AccountId, Perbill>;
	type DataProvider = pallet_staking::Pallet<Runtime>;
	type WeightInfo = frame_election_provider_support::weights::SubstrateWeight<Runtime>;
	type MaxWinnersPerPage = MaxActiveValidators;
	type MaxBackersPerWinner = MaxExposurePageSize;
	type Sort = ConstBool<true>;
	type Bounds = ElectionBoundsOnChain;
}

parameter_types! {
	pub const MaxActiveValidators: u32 = 100;
}

impl pallet_staking::Config for Runtime {
	type OldCurrency = Balances;
	type Currency = Balances;
	type RuntimeHoldReason = RuntimeHoldReason;
	type CurrencyBalance = Balance;
	type UnixTime = crate::Timestamp;
	type CurrencyToVote = sp_staking::currency_to_vote::U128CurrencyToVote;
	type ElectionProvider = onchain::OnChainExecution<OnChainSeqPhragmen>;
	type GenesisElectionProvider = onchain::OnChainExecution<OnChainSeqPhragmen>;
	type NominationsQuota = pallet_staking::FixedNominationsQuota<16>;
	type HistoryDepth = HistoryDepth;
	type RewardRemainder = ResolveTo<TreasuryAccount, Balances>;
	type RuntimeEvent = RuntimeEvent;
	type Slash = ResolveTo<TreasuryAccount, Balances>;
	type Reward = super::rewards::PayFromPot;
	type SessionsPerEra = SessionsPerEra;
	type BondingDuration = BondingDuration;
	type SlashDeferDuration = SlashDeferDuration;
	type AdminOrigin = frame_system::EnsureRoot<AccountId>;
	type SessionInterface = Self;
	type EraPayout = super::rewards::InferencePayout;
	type NextNewSession = Session;
	type MaxExposurePageSize = MaxExposurePageSize;
	type MaxValidatorSet = MaxActiveValidators;
	type VoterList = pallet_staking::UseNominatorsAndValidatorsMap<Self>;
	type TargetList = pallet_staking::UseValidatorsMap<Self>;
	type MaxUnlockingChunks = ConstU32<32>;
	type MaxControllersInDeprecationBatch = ConstU32<100>;
	type EventListeners = ();
	type Filter = Nothing;
	type BenchmarkingConfig = StakingBenchmarkingConfig;
	type WeightInfo = pallet_staking::weights::SubstrateWeight<Runtime>;
}

/// Sizes staking's benchmarks run at.
pub struct StakingBenchmarkingConfig;
impl pallet_staking::BenchmarkingConfig for StakingBenchmarkingConfig {
	type MaxValidators = MaxActiveValidators;
	type MaxNominators = ConstU32<1000>;
}
