//! A test runtime: system, balances, the model registry and the marketplace,
//! with staking as a table and a deterministic randomness source.

// Test code: plain arithmetic is fine here.
#![allow(clippy::arithmetic_side_effects)]

use crate::{self as pallet_inference, crypto::WorkerPair, ValidatorStaking};
use frame_support::{
	derive_impl, parameter_types,
	traits::{ConstU32, ConstU64, Hooks, Randomness},
};
use pallet_models::{sample_generator_spec, sample_spec, TokenPrices};
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
	/// Active validators and their stake.
	pub static Stakes: BTreeMap<u64, u64> = BTreeMap::new();
	/// Mixed into the randomness, so property tests see different draws.
	pub static Salt: u64 = 0;
	pub const TreasuryAccount: u64 = TREASURY;
	pub const StakingPotAccount: u64 = POT;
	/// The active staking era.
	pub static Era: Option<u32> = Some(1);
	pub const Cut: Perbill = Perbill::from_percent(10);
}

/// Staking as the [`Stakes`] table says.
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

/// Randomness: a hash of the subject, the block number and [`Salt`].
pub struct TestRandomness;
impl Randomness<H256, u64> for TestRandomness {
	fn random(subject: &[u8]) -> (H256, u64) {
		let block = System::block_number();
		let seed = (subject, block, Salt::get());
		(H256(sp_io::hashing::blake2_256(&codec::Encode::encode(&seed))), block)
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
	type MaxInputTokens = ConstU32<48>;
	type MaxOutputBytes = ConstU32<256>;
	type MaxNewTokens = ConstU32<32>;
	type MaxWorkers = ConstU32<4>;
	type MaxModelsPerWorker = ConstU32<2>;
	type MaxOpenRequests = ConstU32<8>;
	type MaxQueueWork = ConstU32<3>;
	type WeightInfo = ();
}

pub const ALICE: u64 = 1;
pub const BOB: u64 = 2;
/// Has no funds.
pub const POOR: u64 = 3;
/// Owns the models.
pub const OWNER: u64 = 50;
pub const TREASURY: u64 = 99;
/// The staking pot: worker shares wait here for the era payout.
pub const POT: u64 = 98;
/// Validators with workers.
pub const W1: u64 = 10;
pub const W2: u64 = 11;
pub const W3: u64 = 12;
/// A validator without a worker.
pub const V4: u64 = 13;
/// The price of model 0.
pub const PRICE: u64 = 100;
/// The sample generation model (see [`sample_generator_spec`]: 64
/// positions, end token [`EOS`]).
pub const GENERATOR: u32 = 1;
/// Its price per request,
pub const GEN_PRICE: u64 = 20;
/// and per prompt and generated token.
pub const GEN_TOKEN_PRICES: TokenPrices<u64> = TokenPrices { prompt: 2, generated: 5 };
/// Its end-of-reply token.
pub const EOS: u32 = 2;
/// Output length of the sample model (32 f32s).
pub const OUTPUT: usize = 128;
/// The sample model's program length for any input (one row block).
pub const STEPS: u32 = 16;
pub const ENDOWMENT: u64 = 10_000;

/// The worker key of account `who`.
pub fn pair(who: u64) -> WorkerPair {
	let mut seed = [7u8; 32];
	seed[..8].copy_from_slice(&who.to_le_bytes());
	WorkerPair::from_seed(&seed)
}

/// Test state builder. By default: Alice and Bob funded, model 0 (price
/// [`PRICE`]) registered by [`OWNER`], validators W1..W3 (stakes 100, 300,
/// 600) with workers serving model 0, and V4 a validator without one.
pub struct ExtBuilder {
	workers: Vec<(u64, u64)>,
}

impl Default for ExtBuilder {
	fn default() -> Self {
		Self { workers: vec![(W1, 100), (W2, 300), (W3, 600)] }
	}
}

impl ExtBuilder {
	/// Only these `(validator, stake)` run workers.
	pub fn workers(mut self, workers: &[(u64, u64)]) -> Self {
		self.workers = workers.to_vec();
		self
	}

	pub fn build(self) -> sp_io::TestExternalities {
		let mut storage = frame_system::GenesisConfig::<Test>::default()
			.build_storage()
			.unwrap_or_else(|e| panic!("system genesis: {e}"));
		let mut balances =
			vec![(ALICE, ENDOWMENT), (BOB, ENDOWMENT), (OWNER, ENDOWMENT), (TREASURY, 1), (POT, 1)];
		balances.extend([W1, W2, W3, V4].map(|w| (w, ENDOWMENT)));
		pallet_balances::GenesisConfig::<Test> { balances, ..Default::default() }
			.assimilate_storage(&mut storage)
			.unwrap_or_else(|e| panic!("balances genesis: {e}"));
		let generator = sample_generator_spec(OWNER, GEN_PRICE, GEN_TOKEN_PRICES);
		pallet_models::GenesisConfig::<Test> {
			models: vec![sample_spec(OWNER, 8, 0, PRICE), generator],
		}
		.assimilate_storage(&mut storage)
		.unwrap_or_else(|e| panic!("models genesis: {e}"));
		pallet_inference::GenesisConfig::<Test> {
			workers: self
				.workers
				.iter()
				.map(|(w, _)| (*w, pair(*w).public(), vec![0, GENERATOR]))
				.collect(),
		}
		.assimilate_storage(&mut storage)
		.unwrap_or_else(|e| panic!("inference genesis: {e}"));
		let mut stakes: BTreeMap<u64, u64> = self.workers.iter().copied().collect();
		stakes.insert(V4, 50);
		Stakes::set(stakes);
		Salt::set(0);
		Era::set(Some(1));
		let mut ext = sp_io::TestExternalities::new(storage);
		ext.register_extension(sp_keystore::KeystoreExt::new(
			sp_keystore::testing::MemoryKeystore::new(),
		));
		ext.execute_with(|| System::set_block_number(1));
		ext
	}

	/// Runs `test`, then checks both pallets' invariants.
	pub fn build_and_execute(self, test: impl FnOnce()) {
		self.build().execute_with(|| {
			test();
			check_invariants();
		});
	}
}

/// Both pallets' try-state checks.
pub fn check_invariants() {
	if let Err(e) = Inference::do_try_state() {
		panic!("inference try-state: {e:?}");
	}
	if let Err(e) = Models::do_try_state() {
		panic!("models try-state: {e:?}");
	}
}

/// Advances to block `n`, running the marketplace's `on_initialize`.
pub fn run_to_block(n: u64) {
	while System::block_number() < n {
		let next = System::block_number() + 1;
		System::set_block_number(next);
		Inference::on_initialize(next);
	}
}
