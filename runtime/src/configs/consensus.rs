//! Block production (BABE), finality (GRANDPA), authorship, sessions and the
//! offence path that turns an equivocation into a staking slash.

use frame_support::parameter_types;
use sp_runtime::traits::OpaqueKeys;

use crate::{
	time::{EPOCH_DURATION_IN_SLOTS, MILLI_SECS_PER_BLOCK},
	AccountId, Babe, Historical, Offences, Runtime, RuntimeCall, RuntimeEvent, Session,
	SessionKeys, Staking, UncheckedExtrinsic,
};

use super::staking::{BondingDuration, SessionsPerEra};

parameter_types! {
	/// Slots in a BABE epoch, and so blocks in a session: ten minutes. A
	/// storage parameter, so a test chain's genesis can shorten it (the
	/// `local-fast` chain spec: a minute); it must never change after
	/// genesis.
	pub storage EpochDuration: u64 = EPOCH_DURATION_IN_SLOTS;
}

parameter_types! {
	pub const ExpectedBlockTime: u64 = MILLI_SECS_PER_BLOCK;
	/// How long an equivocation report stays valid: as long as the offender's
	/// stake is still bonded.
	pub ReportLongevity: u64 = (BondingDuration::get() as u64)
		.saturating_mul(SessionsPerEra::get() as u64)
		.saturating_mul(EpochDuration::get());
	pub const MaxAuthorities: u32 = 100;
	pub const MaxNominators: u32 = 256;
	/// GRANDPA keeps set-id → session mappings for as long as reports are valid.
	pub const MaxSetIdSessionEntries: u64 =
		(BondingDuration::get() as u64).saturating_mul(SessionsPerEra::get() as u64);
}

impl pallet_babe::Config for Runtime {
	type EpochDuration = EpochDuration;
	type ExpectedBlockTime = ExpectedBlockTime;
	/// Sessions (and so the elected validator set) change epochs.
	type EpochChangeTrigger = pallet_babe::ExternalTrigger;
	type DisabledValidators = Session;
	type WeightInfo = ();
	type MaxAuthorities = MaxAuthorities;
	type MaxNominators = MaxNominators;
	type KeyOwnerProof = sp_session::MembershipProof;
	type EquivocationReportSystem =
		pallet_babe::EquivocationReportSystem<Self, Offences, Historical, ReportLongevity>;
}

impl pallet_grandpa::Config for Runtime {
	type RuntimeEvent = RuntimeEvent;
	type WeightInfo = ();
	type MaxAuthorities = MaxAuthorities;
	type MaxNominators = MaxNominators;
	type MaxSetIdSessionEntries = MaxSetIdSessionEntries;
	type KeyOwnerProof = sp_session::MembershipProof;
	type EquivocationReportSystem =
		pallet_grandpa::EquivocationReportSystem<Self, Offences, Historical, ReportLongevity>;
}

impl pallet_authorship::Config for Runtime {
	type FindAuthor = pallet_session::FindAccountFromAuthorIndex<Self, Babe>;
	/// Authored blocks earn era points, which weight validator rewards.
	type EventHandler = Staking;
}

impl pallet_session::Config for Runtime {
	type RuntimeEvent = RuntimeEvent;
	type ValidatorId = AccountId;
	/// A validator is identified by its stash account.
	type ValidatorIdOf = sp_runtime::traits::ConvertInto;
	type ShouldEndSession = Babe;
	type NextSessionRotation = Babe;
	type SessionManager = pallet_session::historical::NoteHistoricalRoot<Self, Staking>;
	type SessionHandler = <SessionKeys as OpaqueKeys>::KeyTypeIdProviders;
	type Keys = SessionKeys;
	type DisablingStrategy = pallet_session::disabling::UpToLimitWithReEnablingDisablingStrategy;
	type WeightInfo = pallet_session::weights::SubstrateWeight<Runtime>;
	type Currency = crate::Balances;
	type KeyDeposit = ();
}

impl pallet_session::historical::Config for Runtime {
	type RuntimeEvent = RuntimeEvent;
	/// Staking computes exposures itself when an offence is reported.
	type FullIdentification = ();
	type FullIdentificationOf = pallet_staking::UnitIdentificationOf<Self>;
}

impl pallet_offences::Config for Runtime {
	type RuntimeEvent = RuntimeEvent;
	type IdentificationTuple = pallet_session::historical::IdentificationTuple<Self>;
	type OnOffenceHandler = Staking;
}

impl<C> frame_system::offchain::CreateTransactionBase<C> for Runtime
where
	RuntimeCall: From<C>,
{
	type Extrinsic = UncheckedExtrinsic;
	type RuntimeCall = RuntimeCall;
}

/// Equivocation reports are submitted as bare (unsigned) extrinsics.
impl<C> frame_system::offchain::CreateBare<C> for Runtime
where
	RuntimeCall: From<C>,
{
	fn create_bare(call: RuntimeCall) -> UncheckedExtrinsic {
		UncheckedExtrinsic::new_bare(call)
	}
}
