//! A runtime with the registry, the marketplace and the dispute game, a
//! small real BERT model (the registry's sample shape with seeded weights,
//! registered with their true weight root), three workers and a recorder
//! of fraud reports.

#![allow(clippy::arithmetic_side_effects)]

use crate::{self as pallet_disputes, ReportFraud};
use cinder_kernel::{merkle, program::bert, Tile};
use frame_support::{
	derive_impl, parameter_types,
	traits::{ConstU32, ConstU64, Hooks, Randomness},
};
use pallet_inference::{crypto::WorkerPair, ValidatorStaking};
use pallet_models::{sample_spec, Architecture, ModelSpec};
use sp_core::{Pair, H256};
use sp_runtime::{BuildStorage, Perbill};
use std::collections::BTreeMap;

type Block = frame_system::mocking::MockBlock<Test>;

frame_support::construct_runtime!(
	pub enum Test {
		System: frame_system,
		Balances: pallet_balances,
		Models: pallet_models,
		Inference: pallet_inference,
		DisputeGame: pallet_disputes,
	}
);

#[derive_impl(frame_system::config_preludes::TestDefaultConfig)]
impl frame_system::Config for Test {
	type Block = Block;
	type AccountData = pallet_balances::AccountData<u64>;
}

#[derive_impl(pallet_balances::config_preludes::TestDefaultConfig)]
impl pallet_balances::Config for Test {
	type AccountStore = System;
	type RuntimeHoldReason = RuntimeHoldReason;
}

impl pallet_models::Config for Test {
	type RuntimeEvent = RuntimeEvent;
	type Currency = Balances;
	type RuntimeHoldReason = RuntimeHoldReason;
	type DepositBase = ConstU64<10>;
	type DepositPerByte = ConstU64<1>;
	type MaxNameLen = ConstU32<32>;
	type MaxMetadataLen = ConstU32<32>;
	type MaxModels = ConstU32<8>;
	type Usage = Inference;
	type WeightInfo = ();
}

parameter_types! {
	pub static Stakes: BTreeMap<u64, u64> = BTreeMap::new();
	pub static Reports: Vec<(u64, Option<u64>)> = Vec::new();
	pub const TreasuryAccount: u64 = TREASURY;
	pub const StakingPotAccount: u64 = POT;
	/// The active staking era.
	pub static Era: Option<u32> = Some(1);
	pub const Cut: Perbill = Perbill::from_percent(10);
	pub const Half: Perbill = Perbill::from_percent(50);
}

pub struct TableStaking;
impl ValidatorStaking<u64, u64> for TableStaking {
	fn active_stake(who: &u64) -> Option<u64> {
		Stakes::get().get(who).copied()
	}
	fn active_era() -> Option<u32> {
		Era::get()
	}
	fn make_active(who: &u64, stake: u64) {
		Stakes::mutate(|s| {
			s.insert(*who, stake);
		});
	}
}

pub struct TestRandomness;
impl Randomness<H256, u64> for TestRandomness {
	fn random(subject: &[u8]) -> (H256, u64) {
		let block = System::block_number();
		(H256(sp_io::hashing::blake2_256(&codec::Encode::encode(&(subject, block)))), block)
	}
}

/// Records reports instead of slashing.
pub struct RecordFraud;
impl ReportFraud<u64> for RecordFraud {
	fn report(_request: u64, offender: &u64, reporter: Option<&u64>) {
		Reports::mutate(|r| r.push((*offender, reporter.copied())));
	}
}

impl pallet_inference::Config for Test {
	type RuntimeEvent = RuntimeEvent;
	type Currency = Balances;
	type RuntimeHoldReason = RuntimeHoldReason;
	type Models = Models;
	type Staking = TableStaking;
	type Randomness = TestRandomness;
	type Treasury = TreasuryAccount;
	type StakingPot = StakingPotAccount;
	type EraHistory = ConstU32<3>;
	type ProtocolCut = Cut;
	type ResultTimeout = ConstU64<5>;
	type MaxAttempts = ConstU32<3>;
	type ChallengePeriod = ConstU64<4>;
	type MissDemotion = ConstU64<10>;
	type FraudBan = ConstU64<20>;
	type ResultRetention = ConstU64<6>;
	type MaxInputTokens = ConstU32<16>;
	// MiniLM's 1,536 bytes: the benchmarks prove its steps.
	type MaxOutputBytes = ConstU32<1536>;
	type MaxNewTokens = ConstU32<64>;
	type MaxWorkers = ConstU32<4>;
	type MaxModelsPerWorker = ConstU32<2>;
	type MaxOpenRequests = ConstU32<8>;
	type MaxQueueWork = ConstU32<3>;
	type WeightInfo = ();
}

impl pallet_disputes::Config for Test {
	type RuntimeEvent = RuntimeEvent;
	type Currency = Balances;
	type RuntimeHoldReason = RuntimeHoldReason;
	type Results = Inference;
	type Models = Models;
	type Fraud = RecordFraud;
	type Treasury = TreasuryAccount;
	type ChallengeBond = ConstU64<BOND>;
	type BondToWorker = Half;
	type RevealPeriod = ConstU64<3>;
	type ProofPeriod = ConstU64<3>;
	// Four hashes a reveal: the sample model's 16-leaf trace takes two rounds.
	type MaxRevealHashes = ConstU32<4>;
	type MaxProofTiles = ConstU32<64>;
	type MaxQueueWork = ConstU32<3>;
	type ResolutionRetention = ConstU64<RESOLUTION_RETENTION>;
	type WeightInfo = ();
}

/// Blocks a resolution is kept.
pub const RESOLUTION_RETENTION: u64 = 30;
pub const ALICE: u64 = 1;
pub const POOR: u64 = 3;
pub const OWNER: u64 = 50;
pub const TREASURY: u64 = 99;
/// The staking pot: worker shares wait here for the era payout.
pub const POT: u64 = 98;
pub const W1: u64 = 10;
pub const W2: u64 = 11;
pub const W3: u64 = 12;
pub const PRICE: u64 = 100;
pub const BOND: u64 = 1_000;
pub const ENDOWMENT: u64 = 10_000;
/// The request every test makes.
pub const INPUT: [u32; 3] = [5, 17, 42];

pub fn pair(who: u64) -> WorkerPair {
	let mut seed = [7u8; 32];
	seed[..8].copy_from_slice(&who.to_le_bytes());
	WorkerPair::from_seed(&seed)
}

/// The sample model's architecture.
pub fn arch() -> Architecture {
	sample_spec::<u64, u64>(OWNER, 8, 0, PRICE).arch
}

/// Seeded weight tiles in the sample model's layout (xorshift).
pub fn weights() -> Vec<Tile> {
	let Architecture::Bert(shape) = arch() else { unreachable!() };
	let mut state = 0x2545_f491_4f6c_dd1du64;
	bert::weight_layout(&shape)
		.unwrap_or_else(|e| panic!("layout: {e:?}"))
		.iter()
		.map(|t| {
			let data = (0..t.rows * t.cols)
				.map(|_| {
					state ^= state << 13;
					state ^= state >> 7;
					state ^= state << 17;
					((state >> 40) as f32 / (1u64 << 24) as f32 - 0.5) * 0.4
				})
				.collect();
			Tile { rows: t.rows, cols: t.cols, data }
		})
		.collect()
}

/// The weight tree's leaves.
pub fn weight_leaves() -> Vec<merkle::Hash> {
	merkle::trace_leaves(&weights())
}

fn model() -> ModelSpec<u64, u64> {
	let mut spec = sample_spec(OWNER, 8, 0, PRICE);
	spec.hashes.weight_root = H256(merkle::root(&weight_leaves()));
	spec
}

pub struct ExtBuilder {
	workers: Vec<(u64, u64)>,
}

impl Default for ExtBuilder {
	fn default() -> Self {
		Self { workers: vec![(W1, 100), (W2, 300), (W3, 600)] }
	}
}

impl ExtBuilder {
	/// No workers at genesis (benchmarks register their own).
	pub fn without_workers() -> Self {
		Self { workers: Vec::new() }
	}

	pub fn build(self) -> sp_io::TestExternalities {
		let mut storage = frame_system::GenesisConfig::<Test>::default()
			.build_storage()
			.unwrap_or_else(|e| panic!("system genesis: {e}"));
		let mut balances =
			vec![(ALICE, ENDOWMENT), (POOR, 1), (OWNER, ENDOWMENT), (TREASURY, 1), (POT, 1)];
		balances.extend([W1, W2, W3].map(|w| (w, ENDOWMENT)));
		pallet_balances::GenesisConfig::<Test> { balances, ..Default::default() }
			.assimilate_storage(&mut storage)
			.unwrap_or_else(|e| panic!("balances genesis: {e}"));
		pallet_models::GenesisConfig::<Test> { models: vec![model()] }
			.assimilate_storage(&mut storage)
			.unwrap_or_else(|e| panic!("models genesis: {e}"));
		pallet_inference::GenesisConfig::<Test> {
			workers: self.workers.iter().map(|(w, _)| (*w, pair(*w).public(), vec![0])).collect(),
		}
		.assimilate_storage(&mut storage)
		.unwrap_or_else(|e| panic!("inference genesis: {e}"));
		Stakes::set(self.workers.iter().copied().collect());
		Era::set(Some(1));
		Reports::set(Vec::new());
		let mut ext = sp_io::TestExternalities::new(storage);
		// Benchmarks generate worker keys.
		ext.register_extension(sp_keystore::KeystoreExt::new(
			sp_keystore::testing::MemoryKeystore::new(),
		));
		ext.execute_with(|| System::set_block_number(1));
		ext
	}

	/// Runs `test`, then checks every pallet's invariants.
	pub fn build_and_execute(self, test: impl FnOnce()) {
		self.build().execute_with(|| {
			test();
			check_invariants();
		});
	}
}

/// The dispute game's, the marketplace's and the registry's try-state.
pub fn check_invariants() {
	if let Err(e) = DisputeGame::do_try_state() {
		panic!("disputes try-state: {e:?}");
	}
	if let Err(e) = Inference::do_try_state() {
		panic!("inference try-state: {e:?}");
	}
	if let Err(e) = Models::do_try_state() {
		panic!("models try-state: {e:?}");
	}
}

/// Advances to block `n`, running both pallets' `on_initialize`.
pub fn run_to_block(n: u64) {
	while System::block_number() < n {
		let next = System::block_number() + 1;
		System::set_block_number(next);
		Inference::on_initialize(next);
		DisputeGame::on_initialize(next);
	}
}
