//! Freezing and resolving results for the dispute game, and expelling a
//! worker proven to have lied.

use super::*;
use crate::traits::{ResultDisputes, Verdict};
use frame_support::{assert_noop, assert_ok};

/// Request 0 by Alice, answered by its assignee; returns the assignee.
fn answered() -> u64 {
	assert_ok!(request(ALICE, PRICE));
	let worker = assignee(0);
	assert_ok!(submit(0, worker));
	worker
}

#[test]
fn a_frozen_result_does_not_settle() {
	ExtBuilder::default().build_and_execute(|| {
		assert_ok!(request(ALICE, PRICE));
		assert_noop!(Inference::freeze(0), Error::<Test>::NotAnswered);
		assert_noop!(Inference::freeze(9), Error::<Test>::UnknownRequest);
		assert_eq!(Inference::result(0), None);
		let worker = assignee(0);
		assert_ok!(submit(0, worker));
		let posted = Inference::result(0).unwrap();
		assert_eq!((posted.worker, posted.steps, posted.input), (worker, STEPS, vec![1, 2, 3]));
		assert_eq!((posted.output.len(), posted.challenge_end), (OUTPUT, Some(5)));
		assert!(!Inference::is_frozen(0));
		assert_ok!(Inference::freeze(0));
		assert!(Inference::is_frozen(0));
		assert_eq!(Inference::frozen_requests(), vec![0]);
		assert_eq!(Inference::result(0).unwrap().challenge_end, None);
		assert_eq!(events().last(), Some(&Event::Frozen { request: 0 }));
		assert_noop!(Inference::freeze(0), Error::<Test>::NotAnswered);
		run_to_block(20);
		assert!(Inference::is_frozen(0));
		assert_eq!(escrow(ALICE), PRICE);
	});
}

#[test]
fn only_a_frozen_result_is_resolved() {
	ExtBuilder::default().build_and_execute(|| {
		assert_noop!(Inference::resolve(0, Verdict::Upheld, &V4), Error::<Test>::UnknownRequest);
		answered();
		assert_noop!(Inference::resolve(0, Verdict::Fraud, &V4), Error::<Test>::NotFrozen);
		assert_noop!(Inference::resolve(0, Verdict::Upheld, &V4), Error::<Test>::NotFrozen);
	});
}

#[test]
fn an_upheld_result_settles_after_a_fresh_window() {
	ExtBuilder::default().build_and_execute(|| {
		let worker = answered();
		assert_ok!(Inference::freeze(0));
		run_to_block(9);
		assert_ok!(Inference::resolve(0, Verdict::Upheld, &V4));
		// ChallengePeriod is 4: a fresh window from block 9.
		assert_eq!(events().last(), Some(&Event::Upheld { request: 0, challenge_end: 13 }));
		assert_eq!(Inference::result(0).unwrap().challenge_end, Some(13));
		run_to_block(12);
		assert_eq!(escrow(ALICE), PRICE);
		let before = free(POT);
		run_to_block(13);
		assert_eq!(escrow(ALICE), 0);
		assert_eq!(free(POT), before + 90);
		// The worker won the dispute and earned the fee; the challenger lost.
		assert_eq!(
			ErasWork::<Test>::get(1, worker),
			EraWork { income: 90, served: 1, disputes_won: 1, ..Default::default() }
		);
		assert_eq!(
			ErasWork::<Test>::get(1, V4),
			EraWork { disputes_lost: 1, ..Default::default() }
		);
		assert!(matches!(
			Completions::<Test>::get(0).map(|c| c.outcome),
			Some(Outcome::Settled { worker_share: 90, protocol_cut: 10, .. })
		));
	});
}

#[test]
fn fraud_expels_the_worker_and_reassigns_without_counting_an_attempt() {
	ExtBuilder::default().build_and_execute(|| {
		let liar = answered();
		let paid_before = free(liar);
		assert_ok!(Inference::freeze(0));
		assert_ok!(Inference::resolve(0, Verdict::Fraud, &V4));
		let evs = events();
		assert!(evs.contains(&Event::ResultRejected { request: 0, worker: liar }));
		assert!(evs.contains(&Event::WorkerExpelled { worker: liar }));
		// Out of every index at once.
		assert!(!Workers::<Test>::contains_key(liar));
		assert!(!ModelWorkers::<Test>::get(0).contains(&liar));
		assert_eq!(Inference::worker_key(&liar), None);
		// The request went to another worker, still one attempt, escrow held,
		// the wrong output gone.
		let next = assignee(0);
		assert_ne!(next, liar);
		let req = Requests::<Test>::get(0).unwrap();
		assert_eq!(req.tried.to_vec(), vec![next]);
		assert_eq!(escrow(ALICE), PRICE);
		assert!(!Outputs::<Test>::contains_key(0));
		// The honest worker answers; the request settles and pays it alone.
		assert_ok!(submit(0, next));
		let pot_before = free(POT);
		run_to_block(10);
		assert_eq!(free(POT), pot_before + 90);
		assert_eq!(free(liar), paid_before);
		// The fee is the honest worker's income; the liar earned nothing and
		// lost the dispute, its challenger won it.
		assert_eq!(ErasWork::<Test>::get(1, next).income, 90);
		assert_eq!(
			ErasWork::<Test>::get(1, liar),
			EraWork { disputes_lost: 1, ..Default::default() }
		);
		assert_eq!(ErasWork::<Test>::get(1, V4).disputes_won, 1);
		assert_eq!(escrow(ALICE), 0);
		assert_eq!(free(ALICE), ENDOWMENT - PRICE);
	});
}

#[test]
fn fraud_with_no_other_worker_refunds_in_full() {
	ExtBuilder::default().workers(&[(W1, 100)]).build_and_execute(|| {
		answered();
		assert_ok!(Inference::freeze(0));
		assert_ok!(Inference::resolve(0, Verdict::Fraud, &V4));
		assert_eq!(escrow(ALICE), 0);
		assert_eq!(free(ALICE), ENDOWMENT);
		assert!(matches!(
			Completions::<Test>::get(0).map(|c| c.outcome),
			Some(Outcome::Refunded { amount: PRICE })
		));
	});
}

#[test]
fn an_expelled_workers_open_assignments_move_on_within_a_few_blocks() {
	// W1 serves alone until V4 joins, so every request goes to W1 first.
	ExtBuilder::default().workers(&[(W1, 100)]).build_and_execute(|| {
		for _ in 0..6 {
			assert_ok!(request(BOB, PRICE));
		}
		answered_by(0, W1);
		assert_ok!(Inference::register_worker(
			RuntimeOrigin::signed(V4),
			pair(V4).public(),
			vec![0]
		));
		assert_eq!(Inference::assignments_of(&W1).len(), 5);
		assert_ok!(Inference::freeze(0));
		assert_ok!(Inference::resolve(0, Verdict::Fraud, &V4));
		assert_eq!(assignee(0), V4);
		assert_eq!(Expelling::<Test>::get().to_vec(), vec![W1]);
		// MaxQueueWork is 3: three move in the next block, two in the one after.
		run_to_block(2);
		assert_eq!(Inference::assignments_of(&W1).len(), 2);
		run_to_block(3);
		assert!(Inference::assignments_of(&W1).is_empty());
		assert_eq!(Inference::assignments_of(&V4).len(), 6);
		for id in 1..6 {
			assert_eq!(Requests::<Test>::get(id).unwrap().tried.to_vec(), vec![V4]);
		}
		run_to_block(4);
		assert!(Expelling::<Test>::get().is_empty());
		// The expelled worker cannot post results any more, nor register
		// again until its ban (FraudBan 20 from block 1) ends.
		let call = result_call(1, W1, vec![0; OUTPUT], STEPS);
		assert!(matches!(call.authorize(TransactionSource::External), Some(Err(_))));
		let again =
			|| Inference::register_worker(RuntimeOrigin::signed(W1), pair(W1).public(), vec![0]);
		assert_noop!(again(), Error::<Test>::Banned);
		run_to_block(20);
		assert_noop!(again(), Error::<Test>::Banned);
		run_to_block(21);
		assert_ok!(again());
		assert!(!Banned::<Test>::contains_key(W1));
	});
}

/// Posts `worker`'s result for request `id`.
fn answered_by(id: RequestId, worker: u64) {
	assert_eq!(assignee(id), worker);
	assert_ok!(submit(id, worker));
}
