//! Every call's success and failure paths; try-state runs after each test.

// Test code: plain arithmetic is fine here.
#![allow(clippy::arithmetic_side_effects)]

use crate::{
	mock::*,
	pallet::{Error, Event, HoldReason, Models as Records, NextModelId},
	types::*,
	ModelProvider, ModelTerms,
};
use cinder_kernel::program::bert::BertShape;
use frame_support::{
	assert_noop, assert_ok,
	traits::fungible::{Inspect, InspectHold},
};

const PRICE: u64 = 50;

fn spec(owner: u64) -> ModelSpec<u64, u64> {
	sample_spec(owner, 8, 10, PRICE)
}

fn register(s: ModelSpec<u64, u64>) -> frame_support::dispatch::DispatchResult {
	Models::register(
		RuntimeOrigin::signed(s.owner),
		s.name,
		s.metadata,
		s.arch,
		Box::new(s.hashes),
		s.spec_version,
		s.price,
	)
}

fn held(who: u64) -> u64 {
	Balances::balance_on_hold(&HoldReason::ModelDeposit.into(), &who)
}

fn last_event() -> RuntimeEvent {
	System::events().pop().map(|r| r.event).unwrap_or_else(|| panic!("no event"))
}

#[test]
fn register_holds_deposit_and_stores_record() {
	ExtBuilder::default().build_and_execute(|| {
		assert_ok!(register(spec(ALICE)));
		// 100 base + 8 name bytes + 10 metadata bytes.
		assert_eq!(held(ALICE), 118);
		assert_eq!(Balances::balance(&ALICE), 10_000 - 118);
		let info = Records::<Test>::get(0).unwrap_or_else(|| panic!("stored"));
		assert_eq!(info.owner, ALICE);
		assert_eq!(info.price, PRICE);
		assert_eq!(info.deposit, 118);
		assert_eq!(info.status, ModelStatus::Active);
		assert_eq!(NextModelId::<Test>::get(), 1);
		assert_eq!(
			last_event(),
			RuntimeEvent::Models(Event::Registered { model: 0, owner: ALICE, deposit: 118 })
		);
		assert_ok!(register(spec(BOB)));
		assert_eq!(Records::<Test>::get(1).map(|m| m.owner), Some(BOB));
	});
}

#[test]
fn register_rejects_bad_input_and_holds_nothing() {
	ExtBuilder::default().build_and_execute(|| {
		let mut s = spec(ALICE);
		s.name.clear();
		assert_noop!(register(s), Error::<Test>::BadName);

		let mut s = spec(ALICE);
		s.name = vec![b'n'; 33];
		assert_noop!(register(s), Error::<Test>::BadName);

		let mut s = spec(ALICE);
		s.metadata = vec![b'm'; 65];
		assert_noop!(register(s), Error::<Test>::MetadataTooLong);

		let mut s = spec(ALICE);
		s.spec_version = 2;
		assert_noop!(register(s), Error::<Test>::UnsupportedSpec);

		let mut s = spec(ALICE);
		let Architecture::Bert(mut shape) = s.arch;
		shape.heads = 3; // 32 is not a multiple of 3
		s.arch = Architecture::Bert(shape);
		s.hashes.program = s.arch.program_hash();
		assert_noop!(register(s), Error::<Test>::UnsupportedArchitecture);

		let mut s = spec(ALICE);
		s.hashes.program.0[0] ^= 1;
		assert_noop!(register(s), Error::<Test>::ProgramMismatch);

		assert_noop!(register(spec(POOR)), Error::<Test>::InsufficientDeposit);
		assert_eq!(held(ALICE), 0);
	});
}

#[test]
fn register_stops_at_max_models() {
	ExtBuilder::default().build_and_execute(|| {
		for _ in 0..4 {
			assert_ok!(register(spec(ALICE)));
		}
		assert_noop!(register(spec(BOB)), Error::<Test>::TooManyModels);
		assert_eq!(held(BOB), 0);
	});
}

#[test]
fn genesis_registers_models_with_deposits() {
	ExtBuilder::default().with_model(spec(BOB)).build_and_execute(|| {
		assert_eq!(Records::<Test>::get(0).map(|m| m.owner), Some(BOB));
		assert_eq!(held(BOB), 118);
		assert_eq!(NextModelId::<Test>::get(), 1);
	});
}

#[test]
fn terms_expose_price_and_bounds() {
	ExtBuilder::default().build_and_execute(|| {
		assert_eq!(<Models as ModelProvider<u64, u64>>::terms(0), None);
		assert_ok!(register(spec(ALICE)));
		assert_eq!(
			<Models as ModelProvider<u64, u64>>::terms(0),
			Some(ModelTerms {
				price: PRICE,
				active: true,
				vocab: 64,
				max_input_tokens: 16,
				output_bytes: 128,
				arch: spec(ALICE).arch,
				weight_root: spec(ALICE).hashes.weight_root,
			})
		);
		// Every token count up to the positions has its trace length (the
		// sample model: 1 layer, 2 heads, 1 row block: 1 + 13 + 1 + 1).
		let arch = spec(ALICE).arch;
		assert_eq!(arch.trace_len(16), Ok(16));
		assert_eq!(arch.trace_len(1), Ok(16));
		assert_eq!(arch.trace_len(17), Err(cinder_kernel::KernelError::BadSequenceLength));
		// A result is bound to its trace's last leaf: the output's tile.
		let values = [0.5f32, -1.25, 3.0, 0.0];
		let output: Vec<u8> = values.iter().flat_map(|v| v.to_le_bytes()).collect();
		let tile = cinder_kernel::Tile::new(1, 4, values.to_vec()).unwrap();
		assert_eq!(arch.output_leaf(16, &output).0, cinder_kernel::merkle::tile_leaf(15, &tile));
		assert_ne!(arch.output_leaf(15, &output).0, cinder_kernel::merkle::tile_leaf(15, &tile));
	});
}

#[test]
fn set_price_by_owner_only() {
	ExtBuilder::default().with_model(spec(ALICE)).build_and_execute(|| {
		assert_noop!(Models::set_price(RuntimeOrigin::signed(BOB), 0, 7), Error::<Test>::NotOwner);
		assert_noop!(
			Models::set_price(RuntimeOrigin::signed(ALICE), 9, 7),
			Error::<Test>::UnknownModel
		);
		assert_ok!(Models::set_price(RuntimeOrigin::signed(ALICE), 0, 7));
		assert_eq!(Records::<Test>::get(0).map(|m| m.price), Some(7));
		assert_eq!(
			last_event(),
			RuntimeEvent::Models(Event::PriceChanged { model: 0, old: PRICE, new: 7 })
		);
		assert_ok!(Models::retire(RuntimeOrigin::signed(ALICE), 0));
		assert_noop!(Models::set_price(RuntimeOrigin::signed(ALICE), 0, 8), Error::<Test>::Retired);
	});
}

#[test]
fn retire_stops_new_requests_once() {
	ExtBuilder::default().with_model(spec(ALICE)).build_and_execute(|| {
		assert_noop!(Models::retire(RuntimeOrigin::signed(BOB), 0), Error::<Test>::NotOwner);
		assert_noop!(Models::retire(RuntimeOrigin::signed(ALICE), 3), Error::<Test>::UnknownModel);
		assert_ok!(Models::retire(RuntimeOrigin::signed(ALICE), 0));
		assert_eq!(last_event(), RuntimeEvent::Models(Event::Retired { model: 0 }));
		assert_eq!(<Models as ModelProvider<u64, u64>>::terms(0).map(|t| t.active), Some(false));
		assert_noop!(Models::retire(RuntimeOrigin::signed(ALICE), 0), Error::<Test>::Retired);
		// The deposit stays held while the record exists.
		assert_eq!(held(ALICE), 118);
	});
}

#[test]
fn remove_releases_deposit_when_retired_and_unused() {
	ExtBuilder::default().with_model(spec(ALICE)).build_and_execute(|| {
		assert_noop!(Models::remove(RuntimeOrigin::signed(ALICE), 0), Error::<Test>::NotRetired);
		assert_ok!(Models::retire(RuntimeOrigin::signed(ALICE), 0));
		assert_noop!(Models::remove(RuntimeOrigin::signed(BOB), 0), Error::<Test>::NotOwner);
		assert_noop!(Models::remove(RuntimeOrigin::signed(ALICE), 1), Error::<Test>::UnknownModel);
		InUse::set(vec![0]);
		assert_noop!(Models::remove(RuntimeOrigin::signed(ALICE), 0), Error::<Test>::InUse);
		InUse::set(Vec::new());
		assert_ok!(Models::remove(RuntimeOrigin::signed(ALICE), 0));
		assert_eq!(held(ALICE), 0);
		assert_eq!(Balances::balance(&ALICE), 10_000);
		assert!(Records::<Test>::get(0).is_none());
		assert_eq!(last_event(), RuntimeEvent::Models(Event::Removed { model: 0, deposit: 118 }));
		// Ids are never reused.
		assert_ok!(register(spec(ALICE)));
		assert!(Records::<Test>::get(1).is_some());
	});
}

#[test]
fn unsigned_origins_are_rejected() {
	ExtBuilder::default().with_model(spec(ALICE)).build_and_execute(|| {
		let s = spec(ALICE);
		assert_noop!(
			Models::register(
				RuntimeOrigin::none(),
				s.name,
				s.metadata,
				s.arch,
				Box::new(s.hashes),
				s.spec_version,
				s.price
			),
			sp_runtime::DispatchError::BadOrigin
		);
		assert_noop!(
			Models::set_price(RuntimeOrigin::root(), 0, 1),
			sp_runtime::DispatchError::BadOrigin
		);
		assert_noop!(
			Models::retire(RuntimeOrigin::none(), 0),
			sp_runtime::DispatchError::BadOrigin
		);
		assert_noop!(
			Models::remove(RuntimeOrigin::none(), 0),
			sp_runtime::DispatchError::BadOrigin
		);
	});
}

#[test]
fn try_state_catches_a_stray_deposit_hold() {
	ExtBuilder::default().with_model(spec(ALICE)).build().execute_with(|| {
		assert!(Models::do_try_state().is_ok());
		use frame_support::traits::fungible::MutateHold;
		assert_ok!(Balances::hold(&HoldReason::ModelDeposit.into(), &BOB, 5));
		assert!(Models::do_try_state().is_err());
	});
}

#[test]
fn the_sample_shape_compiles() {
	let Architecture::Bert(shape) = spec(ALICE).arch;
	let shape: BertShape = shape;
	assert!(cinder_kernel::program::bert::compile(&shape, 16).is_ok());
}
