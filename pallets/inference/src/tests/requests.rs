use super::*;
use frame_support::{assert_noop, assert_ok};
use pallet_models::{Architecture, ModelHashes};
use sp_runtime::DispatchError;

#[test]
fn request_holds_max_fee_and_assigns() {
	ExtBuilder::default().build_and_execute(|| {
		assert_ok!(request(ALICE, 150));
		assert_eq!(escrow(ALICE), 150);
		assert_eq!(free(ALICE), ENDOWMENT - 150);
		let req = Requests::<Test>::get(0).unwrap_or_else(|| panic!("stored"));
		assert_eq!((req.caller, req.model, req.max_fee, req.price), (ALICE, 0, 150, PRICE));
		assert_eq!(req.input.to_vec(), vec![1, 2, 3]);
		let worker = assignee(0);
		assert!([W1, W2, W3].contains(&worker));
		assert_eq!(req.tried.to_vec(), vec![worker]);
		assert_eq!(
			events(),
			vec![
				Event::Requested {
					request: 0,
					caller: ALICE,
					model: 0,
					task: Task::Embed,
					max_fee: 150,
					price: PRICE
				},
				Event::Assigned { request: 0, worker, deadline: 6, attempt: 1 },
			]
		);
		assert_eq!(OpenPerModel::<Test>::get(0), 1);
		assert_eq!(NextRequestId::<Test>::get(), 1);
		assert_eq!(Queue::<Test>::get(QueueKind::Deadline, 0), Some((7, 0)));
	});
}

#[test]
fn request_is_charged_for_the_workers_it_actually_scanned() {
	use crate::weights::WeightInfo;
	ExtBuilder::default().build_and_execute(|| {
		let post = Inference::request(RuntimeOrigin::signed(ALICE), 0, vec![1, 2], PRICE)
			.unwrap_or_else(|e| panic!("{e:?}"));
		assert_eq!(post.actual_weight, Some(<() as WeightInfo>::request(2, 3)));
	});
}

#[test]
fn request_rejects_bad_input_and_holds_nothing() {
	ExtBuilder::default().build_and_execute(|| {
		let req = |model, input: Vec<u32>, fee| {
			Inference::request(RuntimeOrigin::signed(ALICE), model, input, fee).map_err(|e| e.error)
		};
		assert_noop!(req(7, vec![1], 200), Error::<Test>::UnknownModel);
		assert_noop!(req(0, vec![], 200), Error::<Test>::EmptyInput);
		assert_noop!(req(0, vec![1; 17], 200), Error::<Test>::InputTooLong);
		assert_noop!(req(0, vec![1, 64], 200), Error::<Test>::TokenOutOfRange);
		assert_noop!(req(0, vec![1], PRICE - 1), Error::<Test>::FeeTooLow);
		assert_noop!(
			Inference::request(RuntimeOrigin::signed(POOR), 0, vec![1], PRICE).map_err(|e| e.error),
			Error::<Test>::InsufficientBalance
		);
		assert_noop!(
			Inference::request(RuntimeOrigin::none(), 0, vec![1], PRICE).map_err(|e| e.error),
			DispatchError::BadOrigin
		);
		assert_ok!(Models::retire(RuntimeOrigin::signed(OWNER), 0));
		assert_noop!(req(0, vec![1], 200), Error::<Test>::ModelRetired);
		assert_eq!(escrow(ALICE), 0);
		assert_eq!(NextRequestId::<Test>::get(), 0);
	});
}

#[test]
fn request_needs_an_eligible_worker() {
	ExtBuilder::default().workers(&[]).build_and_execute(|| {
		assert_noop!(request(ALICE, PRICE), Error::<Test>::NoEligibleWorker);
	});
	ExtBuilder::default().workers(&[(W1, 100)]).build_and_execute(|| {
		// The only worker left the validator set.
		Stakes::mutate(|s| {
			s.remove(&W1);
		});
		assert_noop!(request(ALICE, PRICE), Error::<Test>::NoEligibleWorker);
		assert_eq!(escrow(ALICE), 0);
	});
}

#[test]
fn open_requests_are_bounded() {
	ExtBuilder::default().build_and_execute(|| {
		for _ in 0..8 {
			assert_ok!(request(ALICE, PRICE));
		}
		assert_noop!(request(BOB, PRICE), Error::<Test>::TooManyRequests);
		assert_eq!(escrow(ALICE), 8 * PRICE);
	});
}

#[test]
fn a_model_with_oversized_results_is_not_served() {
	ExtBuilder::default().build_and_execute(|| {
		let mut spec = pallet_models::sample_spec(OWNER, 4, 0, 5);
		let Architecture::Bert(mut shape) = spec.arch else { unreachable!() };
		shape.hidden = 128; // 512 bytes of output; the pallet allows 256
		spec.arch = Architecture::Bert(shape);
		spec.hashes = ModelHashes { program: spec.arch.program_hash(), ..Default::default() };
		let id = Models::do_register(spec).unwrap_or_else(|e| panic!("{e:?}"));
		assert_noop!(
			Inference::request(RuntimeOrigin::signed(ALICE), id, vec![1], 5).map_err(|e| e.error),
			Error::<Test>::UnservableModel
		);
	});
}

#[test]
fn a_model_in_use_cannot_be_removed() {
	ExtBuilder::default().build_and_execute(|| {
		assert_ok!(request(ALICE, PRICE));
		assert_ok!(Models::retire(RuntimeOrigin::signed(OWNER), 0));
		assert_noop!(
			Models::remove(RuntimeOrigin::signed(OWNER), 0),
			pallet_models::Error::<Test>::InUse
		);
		// The open request still finishes: it times out three times and is refunded.
		run_to_block(30);
		assert_eq!(OpenPerModel::<Test>::get(0), 0);
		assert_ok!(Models::remove(RuntimeOrigin::signed(OWNER), 0));
	});
}
