//! The dispute game, and how a proven fraud becomes a slash: an offence
//! reported to `pallet-offences`, which `pallet-staking` turns into a
//! (deferred, cancellable) slash of the worker's validator and its
//! nominators, part of it paid to the reporter.

use alloc::vec::Vec;
use codec::{Decode, Encode};
use frame_support::{parameter_types, traits::ConstU32};
use sp_runtime::{traits::Convert, Perbill};
use sp_staking::{
	offence::{Kind, Offence, ReportOffence},
	SessionIndex,
};

use crate::{
	currency::UNITS, AccountId, Balance, Balances, BlockNumber, Inference, Models, Offences,
	Runtime, RuntimeEvent, RuntimeHoldReason, Session,
};

parameter_types! {
	/// A challenger stakes 100 CDR on its claim. It is returned when the
	/// challenger is right; a wrong or silent challenger loses it. Large
	/// enough that freezing honest results costs real money (a dispute
	/// holds a result for up to a minute or two), small next to a
	/// validator's 100,000 CDR bond, which is what a lying worker risks.
	pub const ChallengeBond: Balance = 100 * UNITS;
	/// Half a lost bond pays the worker it wrongly accused for its trouble;
	/// the other half goes to the treasury, so a challenger colluding with
	/// the worker still loses half.
	pub const BondToWorker: Perbill = Perbill::from_percent(50);
	/// Each reveal round gives each party 10 blocks (30 s): a node answers
	/// in one or two blocks; the rest is slack for a busy pool.
	pub const RevealPeriod: BlockNumber = 10;
	/// 10 blocks (30 s) to prove the first differing step: one re-execution
	/// of the model and one transaction.
	pub const ProofPeriod: BlockNumber = 10;
	/// A proven fraud slashes 10% of the validator's and its nominators'
	/// exposure: far more than any fee a lie could win, and FRAME's
	/// deferral (7 eras) leaves time to cancel a wrong slash.
	pub const FraudSlash: Perbill = Perbill::from_percent(10);
}

/// An inference worker posted a result the runtime proved wrong. Each
/// request is its own offence (its slot), so two frauds in one session are
/// both slashed (staking applies the larger fraction within an era).
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode)]
pub struct InferenceFraud<Offender> {
	/// The session the fraud was proven in.
	pub session_index: SessionIndex,
	/// Validators in that session.
	pub validator_set_count: u32,
	/// The request whose result was wrong.
	pub request: u64,
	/// The worker's validator, with its identification.
	pub offender: Offender,
}

impl<Offender: Clone> Offence<Offender> for InferenceFraud<Offender> {
	const ID: Kind = *b"cinder:inf-fraud";
	type Slot = u64;

	fn offenders(&self) -> Vec<Offender> {
		alloc::vec![self.offender.clone()]
	}

	fn session_index(&self) -> SessionIndex {
		self.session_index
	}

	fn validator_set_count(&self) -> u32 {
		self.validator_set_count
	}

	fn slot(&self) -> u64 {
		self.request
	}

	fn slash_fraction(&self, _offenders_count: u32) -> Perbill {
		FraudSlash::get()
	}
}

/// Reports proven fraud to `pallet-offences`, with the challenger (when it
/// was right) as reporter, so it gets FRAME's reporter reward.
pub struct ReportToOffences;
impl pallet_disputes::ReportFraud<AccountId> for ReportToOffences {
	fn report(request: u64, offender: &AccountId, reporter: Option<&AccountId>) {
		type Identify = <Runtime as pallet_session::historical::Config>::FullIdentificationOf;
		let Some(identification) = Identify::convert(offender.clone()) else {
			log::warn!(target: "runtime::disputes", "fraud by {offender:?}: no longer a validator, not slashed");
			return;
		};
		let offence = InferenceFraud {
			session_index: Session::current_index(),
			validator_set_count: Session::validators().len() as u32,
			request,
			offender: (offender.clone(), identification),
		};
		let reporters = reporter.into_iter().cloned().collect();
		if let Err(e) = <Offences as ReportOffence<_, _, _>>::report_offence(reporters, offence) {
			log::warn!(target: "runtime::disputes", "fraud report for request {request}: {e:?}");
		}
	}
}

impl pallet_disputes::Config for Runtime {
	type RuntimeEvent = RuntimeEvent;
	type Currency = Balances;
	type RuntimeHoldReason = RuntimeHoldReason;
	type Results = Inference;
	type Models = Models;
	type Fraud = ReportToOffences;
	type Treasury = super::TreasuryAccount;
	type ChallengeBond = ChallengeBond;
	type BondToWorker = BondToWorker;
	type RevealPeriod = RevealPeriod;
	type ProofPeriod = ProofPeriod;
	/// 8,192 hashes (256 KiB) a reveal: all-MiniLM-L6-v2's trace (627 steps
	/// at 16 tokens, 5,009 at 128) is revealed leaf by leaf in one round, at
	/// 512 tokens (20,033) in two; a million steps take two.
	type MaxRevealHashes = ConstU32<8192>;
	/// The widest step reads 65 tiles (MiniLM attention at 512 tokens: a
	/// query block and 32 key and value blocks each).
	type MaxProofTiles = ConstU32<128>;
	type MaxQueueWork = ConstU32<64>;
	/// As long as a settled request's record (`ResultRetention`, an hour):
	/// a client that sees the request can see how its dispute ended.
	type ResolutionRetention = super::inference::ResultRetention;
	type WeightInfo = pallet_disputes::weights::SubstrateWeight<Runtime>;
}
