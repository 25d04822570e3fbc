//! Pallet configurations, one module per concern.
//!
//! - this file: system, balances, timestamp, transaction payment, sudo, and
//!   the treasury account that receives fees and the protocol's cut;
//! - [`consensus`]: BABE, GRANDPA, authorship, session, offences;
//! - [`staking`]: NPoS staking and the on-chain election;
//! - [`inference`]: the model registry and the inference marketplace;
//! - [`disputes`]: the fraud-proof game, and fraud as a staking offence;
//! - [`rewards`]: inference income paid to validators and nominators through
//!   staking's era payout.

mod consensus;
mod disputes;
mod inference;
pub mod rewards;
mod staking;

pub use consensus::EpochDuration;
pub use disputes::{ChallengeBond, InferenceFraud, ReportToOffences};
pub use inference::{AssignmentRandomness, StakingAdapter};
pub use rewards::StakingPot;
pub use staking::{BondingDuration, HistoryDepth, MaxActiveValidators, TreasuryAccount};

use frame_support::{
	derive_impl,
	dispatch::DispatchClass,
	parameter_types,
	traits::{tokens::imbalance::ResolveTo, ConstU128, ConstU32, ConstU8, VariantCountOf},
	weights::{
		constants::{RocksDbWeight, WEIGHT_REF_TIME_PER_SECOND},
		IdentityFee, Weight,
	},
};
use frame_system::limits::{BlockLength, BlockWeights};
use pallet_transaction_payment::{ConstFeeMultiplier, FungibleAdapter, Multiplier};
use sp_runtime::{traits::One, Perbill};
use sp_version::RuntimeVersion;

use crate::{
	currency::{EXISTENTIAL_DEPOSIT, MICRO_UNITS},
	AccountId, Balance, Balances, Block, BlockNumber, Hash, Nonce, PalletInfo, Runtime,
	RuntimeCall, RuntimeEvent, RuntimeFreezeReason, RuntimeHoldReason, RuntimeOrigin, RuntimeTask,
	System, VERSION,
};

/// Normal extrinsics may fill 75% of a block; the rest is kept for
/// operational ones (equivocation reports, sudo).
const NORMAL_DISPATCH_RATIO: Perbill = Perbill::from_percent(75);

/// One second of compute per 3-second block: the rest of the slot is for
/// gossip, import and the worker's own inference on the same machine. Proof
/// size does not bind a solochain (no validity proofs are shipped), so it is
/// unlimited; block length still caps a block at 5 MiB.
const MAXIMUM_BLOCK_WEIGHT: Weight = Weight::from_parts(WEIGHT_REF_TIME_PER_SECOND, u64::MAX);

parameter_types! {
	pub const BlockHashCount: BlockNumber = 2400;
	pub const Version: RuntimeVersion = VERSION;
	pub RuntimeBlockWeights: BlockWeights = BlockWeights::with_sensible_defaults(
		MAXIMUM_BLOCK_WEIGHT,
		NORMAL_DISPATCH_RATIO,
	);
	pub RuntimeBlockLength: BlockLength = BlockLength::builder()
		.max_length(5 * 1024 * 1024)
		.modify_max_length_for_class(DispatchClass::Normal, |m| {
			*m = NORMAL_DISPATCH_RATIO.mul_floor(*m)
		})
		.build();
	/// Generic substrate prefix: dev keys print as the familiar `5…` addresses.
	pub const SS58Prefix: u16 = 42;
}

#[derive_impl(frame_system::config_preludes::SolochainDefaultConfig)]
impl frame_system::Config for Runtime {
	type Block = Block;
	type BlockWeights = RuntimeBlockWeights;
	type BlockLength = RuntimeBlockLength;
	type AccountId = AccountId;
	type Nonce = Nonce;
	type Hash = Hash;
	type BlockHashCount = BlockHashCount;
	type DbWeight = RocksDbWeight;
	type Version = Version;
	type AccountData = pallet_balances::AccountData<Balance>;
	type SS58Prefix = SS58Prefix;
	type MaxConsumers = ConstU32<16>;
}

impl pallet_timestamp::Config for Runtime {
	type Moment = crate::Moment;
	type OnTimestampSet = crate::Babe;
	type MinimumPeriod = ConstU64Half;
	type WeightInfo = ();
}

parameter_types! {
	/// Half the slot duration: a block's timestamp must be at least this far
	/// past its parent's.
	pub const ConstU64Half: u64 = crate::time::SLOT_DURATION / 2;
}

impl pallet_balances::Config for Runtime {
	type MaxLocks = ConstU32<50>;
	type MaxReserves = ();
	type ReserveIdentifier = [u8; 8];
	type Balance = Balance;
	type RuntimeEvent = RuntimeEvent;
	type DustRemoval = ResolveTo<TreasuryAccount, Balances>;
	type ExistentialDeposit = ConstU128<EXISTENTIAL_DEPOSIT>;
	type AccountStore = System;
	type WeightInfo = pallet_balances::weights::SubstrateWeight<Runtime>;
	type FreezeIdentifier = RuntimeFreezeReason;
	type MaxFreezes = VariantCountOf<RuntimeFreezeReason>;
	type RuntimeHoldReason = RuntimeHoldReason;
	type RuntimeFreezeReason = RuntimeFreezeReason;
	type DoneSlashHandler = ();
}

parameter_types! {
	pub FeeMultiplier: Multiplier = Multiplier::one();
	/// A micro-token per byte of transaction.
	pub const TransactionByteFee: Balance = MICRO_UNITS;
}

impl pallet_transaction_payment::Config for Runtime {
	type RuntimeEvent = RuntimeEvent;
	/// Fees and tips go to the treasury account.
	type OnChargeTransaction = FungibleAdapter<Balances, ResolveTo<TreasuryAccount, Balances>>;
	type OperationalFeeMultiplier = ConstU8<5>;
	type WeightToFee = IdentityFee<Balance>;
	type LengthToFee = frame_support::weights::ConstantMultiplier<Balance, TransactionByteFee>;
	type FeeMultiplierUpdate = ConstFeeMultiplier<FeeMultiplier>;
	type WeightInfo = pallet_transaction_payment::weights::SubstrateWeight<Runtime>;
}

impl pallet_sudo::Config for Runtime {
	type RuntimeEvent = RuntimeEvent;
	type RuntimeCall = RuntimeCall;
	type WeightInfo = pallet_sudo::weights::SubstrateWeight<Runtime>;
}
