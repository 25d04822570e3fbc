//! A test runtime: system, balances and the registry.

// Test code: plain arithmetic is fine here.
#![allow(clippy::arithmetic_side_effects)]

use crate::{self as pallet_models, ModelSpec, ModelUsage};
use frame_support::{derive_impl, parameter_types, traits::ConstU32};
use sp_runtime::BuildStorage;

type Block = frame_system::mocking::MockBlock<Test>;

frame_support::construct_runtime!(
	pub enum Test {
		System: frame_system,
		Balances: pallet_balances,
		Models: pallet_models,
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

parameter_types! {
	/// Models the test marks as in use by open work.
	pub static InUse: Vec<u32> = Vec::new();
}

/// Usage as the test sets it through [`InUse`].
pub struct TestUsage;
impl ModelUsage for TestUsage {
	fn in_use(id: u32) -> bool {
		InUse::get().contains(&id)
	}
}

impl pallet_models::Config for Test {
	type RuntimeEvent = RuntimeEvent;
	type Currency = Balances;
	type RuntimeHoldReason = RuntimeHoldReason;
	type DepositBase = frame_support::traits::ConstU64<100>;
	type DepositPerByte = frame_support::traits::ConstU64<1>;
	type MaxNameLen = ConstU32<32>;
	type MaxMetadataLen = ConstU32<64>;
	type MaxModels = ConstU32<4>;
	type Usage = TestUsage;
	type WeightInfo = ();
}

pub const ALICE: u64 = 1;
pub const BOB: u64 = 2;
/// An account with no funds.
pub const POOR: u64 = 3;

/// Builds test state; [`ExtBuilder::build_and_execute`] checks the pallet's
/// invariants after the test body.
pub struct ExtBuilder {
	balances: Vec<(u64, u64)>,
	models: Vec<ModelSpec<u64, u64>>,
}

impl Default for ExtBuilder {
	fn default() -> Self {
		Self { balances: vec![(ALICE, 10_000), (BOB, 10_000)], models: Vec::new() }
	}
}

impl ExtBuilder {
	/// Registers `spec` at genesis.
	pub fn with_model(mut self, spec: ModelSpec<u64, u64>) -> Self {
		self.models.push(spec);
		self
	}

	pub fn build(self) -> sp_io::TestExternalities {
		let mut storage = frame_system::GenesisConfig::<Test>::default()
			.build_storage()
			.unwrap_or_else(|e| panic!("system genesis: {e}"));
		pallet_balances::GenesisConfig::<Test> { balances: self.balances, ..Default::default() }
			.assimilate_storage(&mut storage)
			.unwrap_or_else(|e| panic!("balances genesis: {e}"));
		pallet_models::GenesisConfig::<Test> { models: self.models }
			.assimilate_storage(&mut storage)
			.unwrap_or_else(|e| panic!("models genesis: {e}"));
		let mut ext = sp_io::TestExternalities::new(storage);
		ext.execute_with(|| System::set_block_number(1));
		InUse::set(Vec::new());
		ext
	}

	pub fn build_and_execute(self, test: impl FnOnce()) {
		self.build().execute_with(|| {
			test();
			if let Err(e) = Models::do_try_state() {
				panic!("try-state after the test: {e:?}");
			}
		});
	}
}
