//! The inference marketplace: the model registry and requests, and the two
//! adapters they need from the rest of the runtime (staking and randomness).

use frame_support::{
	parameter_types,
	traits::{ConstU32, Randomness},
};
use sp_runtime::{traits::Hash as _, Perbill};

use crate::{
	currency::{MILLI_UNITS, UNITS},
	time::{DAYS, HOURS, MINUTES},
	AccountId, Balance, Balances, BlockNumber, Hash, Inference, Models, Runtime, RuntimeEvent,
	RuntimeHoldReason,
};

parameter_types! {
	/// A model record costs 10 CDR plus a milli-CDR per byte of name and
	/// metadata, returned when it is removed.
	pub const ModelDepositBase: Balance = 10 * UNITS;
	pub const ModelDepositPerByte: Balance = MILLI_UNITS;
}

impl pallet_models::Config for Runtime {
	type RuntimeEvent = RuntimeEvent;
	type Currency = Balances;
	type RuntimeHoldReason = RuntimeHoldReason;
	type DepositBase = ModelDepositBase;
	type DepositPerByte = ModelDepositPerByte;
	type MaxNameLen = ConstU32<64>;
	type MaxMetadataLen = ConstU32<512>;
	type MaxModels = ConstU32<256>;
	type Usage = Inference;
	type WeightInfo = pallet_models::weights::SubstrateWeight<Runtime>;
}

/// `pallet-staking`'s view for the marketplace: a worker is eligible while
/// its stash has an exposure in the active era, weighted by its total
/// (own + nominated) stake.
pub struct StakingAdapter;
impl pallet_inference::ValidatorStaking<AccountId, Balance> for StakingAdapter {
	fn active_stake(who: &AccountId) -> Option<Balance> {
		let era = pallet_staking::ActiveEra::<Runtime>::get()?.index;
		pallet_staking::ErasStakersOverview::<Runtime>::get(era, who).map(|e| e.total)
	}

	fn active_era() -> Option<pallet_inference::EraIndex> {
		pallet_staking::ActiveEra::<Runtime>::get().map(|a| a.index)
	}

	#[cfg(feature = "runtime-benchmarks")]
	fn make_active(who: &AccountId, stake: Balance) {
		let era = match pallet_staking::ActiveEra::<Runtime>::get() {
			Some(active) => active.index,
			None => {
				pallet_staking::ActiveEra::<Runtime>::put(pallet_staking::ActiveEraInfo {
					index: 0,
					start: None,
				});
				0
			}
		};
		pallet_staking::ErasStakersOverview::<Runtime>::insert(
			era,
			who,
			sp_staking::PagedExposureMetadata {
				total: stake,
				own: stake,
				nominator_count: 0,
				page_count: 0,
			},
		);
	}
}

/// Assignment randomness: BABE's randomness from one epoch ago (fixed before
/// anyone could bias it) mixed with the parent block's VRF output (which its
/// author could only bias by forfeiting its block). Neither alone is the
/// current author's choice.
pub struct AssignmentRandomness;
impl Randomness<Hash, BlockNumber> for AssignmentRandomness {
	fn random(subject: &[u8]) -> (Hash, BlockNumber) {
		let (epoch, block) = pallet_babe::RandomnessFromOneEpochAgo::<Runtime>::random(subject);
		let (parent, _) = pallet_babe::ParentBlockRandomness::<Runtime>::random(subject);
		let mixed = sp_runtime::traits::BlakeTwo256::hash_of(&(epoch, parent, subject));
		(mixed, block)
	}
}

parameter_types! {
	pub const ProtocolCut: Perbill = Perbill::from_percent(10);
	/// A worker has a minute (20 blocks) to post a result: MiniLM runs in well
	/// under a second, so this covers a busy queue and a block or two of
	/// transaction-pool latency.
	pub const ResultTimeout: BlockNumber = MINUTES;
	/// Thirty seconds (10 blocks) for a watcher to re-execute and challenge.
	pub const ChallengePeriod: BlockNumber = 10;
	/// A worker that missed a deadline is a last resort for ten minutes.
	pub const MissDemotion: BlockNumber = 10 * MINUTES;
	/// A worker proven to have posted a wrong result may not register again
	/// for a day (staking slashes it as well; the ban keeps it from serving
	/// again while its next move is settled).
	pub const FraudBan: BlockNumber = DAYS;
	/// Finished requests stay readable over RPC for an hour.
	pub const ResultRetention: BlockNumber = HOURS;
}

impl pallet_inference::Config for Runtime {
	type RuntimeEvent = RuntimeEvent;
	type Currency = Balances;
	type RuntimeHoldReason = RuntimeHoldReason;
	type Models = Models;
	type Staking = StakingAdapter;
	type Randomness = AssignmentRandomness;
	type Treasury = super::TreasuryAccount;
	type StakingPot = super::rewards::StakingPot;
	/// Every era staking can still pay out keeps its record.
	type EraHistory = super::staking::HistoryDepth;
	type ProtocolCut = ProtocolCut;
	type ResultTimeout = ResultTimeout;
	type MaxAttempts = ConstU32<3>;
	type ChallengePeriod = ChallengePeriod;
	type MissDemotion = MissDemotion;
	type FraudBan = FraudBan;
	type ResultRetention = ResultRetention;
	type MaxInputTokens = ConstU32<512>;
	type MaxOutputBytes = ConstU32<4096>;
	/// A reply's tokens are read by the dispute game's last step in one
	/// proof: at most `MaxProofTiles` of them.
	type MaxNewTokens = ConstU32<128>;
	/// As many as staking elects validators (`MaxActiveValidators`): an
	/// era's records, one per active validator, are pruned in one go.
	type MaxWorkers = ConstU32<100>;
	type MaxModelsPerWorker = ConstU32<16>;
	type MaxOpenRequests = ConstU32<4096>;
	type MaxQueueWork = ConstU32<64>;
	type WeightInfo = pallet_inference::weights::SubstrateWeight<Runtime>;
}
