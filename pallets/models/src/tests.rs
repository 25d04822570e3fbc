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
		s.token_prices,
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
		let Architecture::Bert(mut shape) = s.arch else { unreachable!() };
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
				token_prices: TokenPrices::default(),
				kind: ModelKind::Embedding,
				active: true,
				vocab: 64,
				max_input_tokens: 16,
				arch: spec(ALICE).arch,
				weight_root: spec(ALICE).hashes.weight_root,
			})
		);
		// Every token count up to the positions has its trace length (the
		// sample model: 1 layer, 2 heads, 1 row block: 1 + 13 + 1 + 1).
		let arch = spec(ALICE).arch;
		assert_eq!(arch.trace_len(16, &Task::Embed, 0), Ok(16));
		assert_eq!(arch.trace_len(1, &Task::Embed, 0), Ok(16));
		assert_eq!(
			arch.trace_len(17, &Task::Embed, 0),
			Err(cinder_kernel::KernelError::BadSequenceLength)
		);
		assert_eq!(arch.output_bytes(&Task::Embed), 128);
		assert_eq!(arch.check_output(&Task::Embed, &[0; 128]), Some(0));
		assert_eq!(arch.check_output(&Task::Embed, &[0; 124]), None);
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
		let tokens = TokenPrices { prompt: 2, generated: 3 };
		let none = TokenPrices::default();
		assert_noop!(
			Models::set_price(RuntimeOrigin::signed(BOB), 0, 7, tokens),
			Error::<Test>::NotOwner
		);
		assert_noop!(
			Models::set_price(RuntimeOrigin::signed(ALICE), 9, 7, tokens),
			Error::<Test>::UnknownModel
		);
		assert_ok!(Models::set_price(RuntimeOrigin::signed(ALICE), 0, 7, tokens));
		assert_eq!(Records::<Test>::get(0).map(|m| (m.price, m.token_prices)), Some((7, tokens)));
		assert_eq!(
			last_event(),
			RuntimeEvent::Models(Event::PriceChanged {
				model: 0,
				old: PRICE,
				new: 7,
				old_tokens: none,
				new_tokens: tokens
			})
		);
		// 7 per request, 2 per prompt token, 3 per generated token.
		let terms = <Models as ModelProvider<u64, u64>>::terms(0).unwrap();
		assert_eq!(terms.fee(5, 0), 17);
		assert_eq!(terms.fee(5, 4), 29);
		assert_eq!(terms.fee(u32::MAX, u32::MAX), u64::from(u32::MAX) * 5 + 7);
		assert_ok!(Models::retire(RuntimeOrigin::signed(ALICE), 0));
		assert_noop!(
			Models::set_price(RuntimeOrigin::signed(ALICE), 0, 8, none),
			Error::<Test>::Retired
		);
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
				s.price,
				s.token_prices
			),
			sp_runtime::DispatchError::BadOrigin
		);
		assert_noop!(
			Models::set_price(RuntimeOrigin::root(), 0, 1, TokenPrices::default()),
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
	let Architecture::Bert(shape) = spec(ALICE).arch else { unreachable!() };
	let shape: BertShape = shape;
	assert!(cinder_kernel::program::bert::compile(&shape, 16).is_ok());
}

fn generator(owner: u64) -> ModelSpec<u64, u64> {
	sample_generator_spec(owner, PRICE, TokenPrices { prompt: 2, generated: 3 })
}

fn generate(max_new_tokens: u32) -> Task {
	Task::Generate(Generation {
		max_new_tokens,
		sampling: cinder_kernel::sampler::Sampling::Greedy,
		seed: None,
	})
}

fn ids(tokens: &[u32]) -> Vec<u8> {
	tokens.iter().flat_map(|t| t.to_le_bytes()).collect()
}

#[test]
fn a_generator_registers_under_spec_2_with_token_prices() {
	ExtBuilder::default().build_and_execute(|| {
		// A decoder's programs are spec 2's: spec 1 is refused, nothing held.
		let mut s = generator(ALICE);
		s.spec_version = cinder_kernel::KERNEL_SPEC_V1;
		assert_noop!(register(s), Error::<Test>::UnsupportedSpec);
		// An end token outside the vocabulary does not compile.
		let mut s = generator(ALICE);
		if let Architecture::Llama(g) = &mut s.arch {
			g.eos = 64;
		}
		s.hashes.program = s.arch.program_hash();
		assert_noop!(register(s), Error::<Test>::UnsupportedArchitecture);
		assert_eq!(held(ALICE), 0);

		assert_ok!(register(generator(ALICE)));
		let terms = <Models as ModelProvider<u64, u64>>::terms(0).unwrap();
		assert_eq!(terms.kind, ModelKind::Generation);
		assert_eq!(terms.token_prices, TokenPrices { prompt: 2, generated: 3 });
		// A prompt leaves room for one generated token.
		assert_eq!(terms.max_input_tokens, 63);
		assert_eq!(terms.fee(10, 4), PRICE + 20 + 12);
		assert_eq!(Models::summaries()[0].kind, ModelKind::Generation);
	});
}

#[test]
fn a_generator_bounds_its_tasks_and_replies() {
	let arch = generator(ALICE).arch;
	// Tasks: the model's kind, at least one new token, within the positions.
	assert_eq!(arch.check_task(10, &generate(54)), Ok(()));
	assert_eq!(arch.check_task(10, &generate(55)), Err(TaskError::BadLength));
	assert_eq!(arch.check_task(10, &generate(0)), Err(TaskError::BadLength));
	assert_eq!(arch.check_task(10, &generate(u32::MAX)), Err(TaskError::BadLength));
	assert_eq!(arch.check_task(10, &Task::Embed), Err(TaskError::WrongKind));
	assert_eq!(spec(ALICE).arch.check_task(10, &generate(1)), Err(TaskError::WrongKind));
	assert_eq!(arch.output_bytes(&generate(8)), 32);
	assert_eq!(arch.output_bytes(&Task::Embed), 0);

	// Replies: 1 to max_new_tokens ids in the vocabulary, ending at the first
	// end token (2) or at max_new_tokens.
	let task = generate(4);
	assert_eq!(arch.check_output(&task, &ids(&[5, 6, 2])), Some(3));
	assert_eq!(arch.check_output(&task, &ids(&[5, 6, 7, 8])), Some(4));
	assert_eq!(arch.check_output(&task, &ids(&[5, 6, 7, 2])), Some(4));
	assert_eq!(arch.check_output(&task, &ids(&[5, 6, 7])), None, "stopped early");
	assert_eq!(arch.check_output(&task, &ids(&[5, 2, 7])), None, "ran past the end token");
	assert_eq!(arch.check_output(&task, &ids(&[5, 6, 7, 8, 2])), None, "too long");
	assert_eq!(arch.check_output(&task, &ids(&[5, 64])), None, "outside the vocabulary");
	assert_eq!(arch.check_output(&task, &[]), None, "empty");
	assert_eq!(arch.check_output(&task, &[2, 0, 0]), None, "not whole ids");
	assert_eq!(arch.check_output(&Task::Embed, &ids(&[2])), None, "the other kind");

	// The trace's length follows the tokens generated; a reply is bound to
	// its trace by the collect step's tile of ids as f32s.
	let plan = arch.plan(10, &task, 3).unwrap();
	let direct = match arch {
		Architecture::Llama(g) => cinder_kernel::program::llama::Plan::new(
			&g.shape,
			10,
			3,
			cinder_kernel::sampler::Sampling::Greedy,
		)
		.unwrap(),
		_ => unreachable!(),
	};
	assert_eq!(plan.len(), direct.len());
	assert!(arch.trace_len(10, &task, 4).unwrap() > plan.len());
	assert_eq!(arch.plan(10, &Task::Embed, 3), Err(cinder_kernel::KernelError::OtherSpec));
	let tile = cinder_kernel::Tile::new(1, 3, vec![5.0, 6.0, 2.0]).unwrap();
	let steps = plan.len();
	assert_eq!(
		arch.output_leaf(steps, &ids(&[5, 6, 2])).0,
		cinder_kernel::merkle::tile_leaf(steps - 1, &tile)
	);
	assert_ne!(
		arch.output_leaf(steps, &ids(&[5, 6, 3])).0,
		cinder_kernel::merkle::tile_leaf(steps - 1, &tile)
	);
	assert_eq!(arch.weight_count(), direct_weight_count(&arch));
}

fn direct_weight_count(arch: &Architecture) -> Result<u32, cinder_kernel::KernelError> {
	match arch {
		Architecture::Llama(g) => g.shape.weight_count(),
		Architecture::Bert(_) => unreachable!(),
	}
}
