use super::*;
use frame_support::assert_ok;

#[test]
fn settlement_pays_the_staking_pot_and_treasury_to_the_unit() {
	ExtBuilder::default().build_and_execute(|| {
		let issuance = Balances::total_issuance();
		assert_ok!(request(ALICE, 155));
		let worker = assignee(0);
		run_to_block(2);
		assert_ok!(submit(0, worker));
		// Challenge window: blocks 2..6, settles in block 6.
		run_to_block(5);
		assert_eq!(escrow(ALICE), 155);
		run_to_block(6);
		// Price 100, cut 10%: the worker's 90 into the staking pot as its
		// income in era 1, treasury 10, caller gets 55 back.
		assert_eq!(escrow(ALICE), 0);
		assert_eq!(free(ALICE), ENDOWMENT - PRICE);
		assert_eq!(free(worker), ENDOWMENT);
		assert_eq!(free(POT), 1 + 90);
		assert_eq!(free(TREASURY), 1 + 10);
		assert_eq!(Balances::total_issuance(), issuance);
		assert_eq!(
			ErasWork::<Test>::get(1, worker),
			EraWork { income: 90, served: 1, ..Default::default() }
		);
		assert!(events().contains(&Event::Settled {
			request: 0,
			worker,
			worker_share: 90,
			era: Some(1),
			protocol_cut: 10,
			released: 55,
		}));
		assert!(Requests::<Test>::get(0).is_none());
		assert_eq!(OpenPerModel::<Test>::get(0), 0);
		assert_eq!(Workers::<Test>::get(worker).map(|w| w.served), Some(1));
		let done = Completions::<Test>::get(0).unwrap_or_else(|| panic!("kept"));
		assert_eq!(done.outcome, Outcome::Settled { worker, worker_share: 90, protocol_cut: 10 });
		assert!(Outputs::<Test>::contains_key(0));
		// Retention: six blocks.
		run_to_block(12);
		assert!(Completions::<Test>::get(0).is_none());
		assert!(!Outputs::<Test>::contains_key(0));
	});
}

#[test]
fn odd_prices_split_without_losing_a_unit() {
	ExtBuilder::default().build_and_execute(|| {
		assert_ok!(pallet_models::Pallet::<Test>::set_price(
			RuntimeOrigin::signed(OWNER),
			0,
			7,
			Default::default()
		));
		assert_ok!(request(BOB, 7));
		let worker = assignee(0);
		assert_ok!(submit(0, worker));
		run_to_block(10);
		// 10% of 7 is 0.7: the cut rounds down, the worker keeps the rest.
		assert_eq!(free(TREASURY), 1);
		assert_eq!(free(POT), 1 + 7);
		assert_eq!(free(worker), ENDOWMENT);
		assert_eq!(free(BOB), ENDOWMENT - 7);
	});
}

#[test]
fn a_missed_deadline_demotes_and_reassigns_then_refunds() {
	ExtBuilder::default().build_and_execute(|| {
		assert_ok!(request(ALICE, 150));
		let first = assignee(0);
		run_to_block(6);
		// The deadline (block 6) is inclusive.
		assert_eq!(assignee(0), first);
		run_to_block(7);
		let second = assignee(0);
		assert_ne!(second, first);
		let info = Workers::<Test>::get(first).unwrap_or_else(|| panic!("still registered"));
		assert_eq!((info.missed, info.demoted_until), (1, 17));
		assert!(events().contains(&Event::DeadlineMissed { request: 0, worker: first }));
		assert!(events().contains(&Event::Assigned {
			request: 0,
			worker: second,
			deadline: 12,
			attempt: 2
		}));
		// The first worker can no longer answer.
		assert!(matches!(
			result_call(0, first, vec![0; OUTPUT], 1).authorize(TransactionSource::External),
			Some(Err(_))
		));
		run_to_block(13);
		let third = assignee(0);
		assert!(third != first && third != second);
		run_to_block(18);
		assert_eq!(assignee(0), third);
		run_to_block(19);
		// Three workers tried: refunded in full.
		assert!(Requests::<Test>::get(0).is_none());
		assert_eq!(escrow(ALICE), 0);
		assert_eq!(free(ALICE), ENDOWMENT);
		assert!(events().contains(&Event::Refunded { request: 0, caller: ALICE, amount: 150 }));
		assert_eq!(
			Completions::<Test>::get(0).map(|c| c.outcome),
			Some(Outcome::Refunded { amount: 150 })
		);
	});
}

#[test]
fn the_only_worker_missing_means_a_refund() {
	ExtBuilder::default().workers(&[(W1, 100)]).build_and_execute(|| {
		assert_ok!(request(ALICE, PRICE));
		run_to_block(7);
		assert_eq!(free(ALICE), ENDOWMENT);
		// Demoted, but still the last resort for new requests.
		assert_ok!(request(ALICE, PRICE));
		assert_eq!(assignee(1), W1);
	});
}

#[test]
fn an_answer_before_the_deadline_cancels_the_timeout() {
	ExtBuilder::default().build_and_execute(|| {
		assert_ok!(request(ALICE, PRICE));
		let worker = assignee(0);
		run_to_block(6);
		assert_ok!(submit(0, worker));
		// The deadline entry (block 6) was dropped as stale; it settles at 10.
		run_to_block(10);
		assert_eq!(Workers::<Test>::get(worker).map(|w| (w.missed, w.served)), Some((0, 1)));
		assert_eq!(free(ALICE), ENDOWMENT - PRICE);
	});
}

#[test]
fn per_block_work_is_bounded_and_carries_over() {
	ExtBuilder::default().build_and_execute(|| {
		for _ in 0..5 {
			assert_ok!(request(ALICE, PRICE));
		}
		for id in 0..5 {
			assert_ok!(submit(id, assignee(id)));
		}
		// All five are due in block 5; three settle there, two in block 6.
		run_to_block(5);
		assert_eq!(Requests::<Test>::count(), 2);
		assert_eq!(escrow(ALICE), 2 * PRICE);
		run_to_block(6);
		assert_eq!(Requests::<Test>::count(), 0);
		assert_eq!(free(ALICE), ENDOWMENT - 5 * PRICE);
	});
}

#[test]
fn try_state_catches_stuck_escrow() {
	ExtBuilder::default().build().execute_with(|| {
		use frame_support::traits::fungible::MutateHold;
		assert_ok!(request(ALICE, PRICE));
		check_invariants();
		assert_ok!(Balances::hold(&HoldReason::Escrow.into(), &BOB, 5));
		assert!(Inference::do_try_state().is_err());
	});
}
