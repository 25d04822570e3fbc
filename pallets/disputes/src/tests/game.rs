//! Every way a dispute ends, with exact balances.

use super::*;
use frame_support::assert_ok;

/// The current assignee of request 0, if assigned.
fn assignee() -> Option<u64> {
	match Requests::<Test>::get(0).map(|r| r.status) {
		Some(RequestStatus::Assigned { worker, .. }) => Some(worker),
		_ => None,
	}
}

/// After a worker was proven to lie: its fee is gone, the request is with
/// another worker with Alice's escrow still held; that worker answers
/// honestly and the request settles with the right embedding.
fn honest_rerun_settles(liar: u64) {
	let next = assignee().unwrap_or_else(|| panic!("request 0 reassigned"));
	assert_ne!(next, liar);
	assert_eq!(Requests::<Test>::get(0).unwrap().tried.len(), 1);
	assert_eq!(
		Balances::balance_on_hold(&pallet_inference::HoldReason::Escrow.into(), &ALICE),
		PRICE
	);
	let honest = Trace::honest();
	post(0, next, &honest, honest.output());
	let (before, liar_before) = (free(POT), free(liar));
	run_to_block(System::block_number() + 5);
	// The honest worker's share goes to the staking pot as its income.
	assert_eq!(free(POT), before + 90);
	assert_eq!(pallet_inference::ErasWork::<Test>::get(1, next).income, 90);
	assert_eq!(free(liar), liar_before);
	assert_eq!(free(ALICE), ENDOWMENT - PRICE);
	assert_eq!(pallet_inference::Outputs::<Test>::get(0).unwrap().to_vec(), honest.output());
}

/// A lying worker against an honest challenger, proven at `step` by `by`.
fn worker_lies_at(step: usize, by: Party) {
	ExtBuilder::default().build_and_execute(|| {
		let (liar_trace, honest) = (Trace::lying_at(step, 1.0), Trace::honest());
		let (worker, challenger) = answered(&liar_trace);
		assert_ok!(authorized(challenge_call(0, challenger, honest.root())));
		assert_eq!(bond_held(challenger), BOND);
		assert_eq!(free(challenger), ENDOWMENT - BOND);
		reveal_all(&liar_trace, &honest);
		assert_eq!(step_to_prove(), step as u32);
		let tiles = match by {
			Party::Worker => liar_trace.step_proof(step as u32),
			Party::Challenger => honest.step_proof(step as u32),
		};
		assert_ok!(authorized(prove_call(by, tiles)));
		assert_eq!(
			resolved(),
			Event::Resolved {
				request: 0,
				ending: Ending::Proved,
				worker_lied: true,
				challenger_lied: false,
				bond_to_worker: 0,
				bond_to_treasury: 0,
			}
		);
		assert_eq!((bond_held(challenger), free(challenger)), (0, ENDOWMENT));
		assert_eq!(Reports::get(), vec![(worker, Some(challenger))]);
		assert!(pallet_inference::Workers::<Test>::get(worker).is_none());
		assert!(Disputes::<Test>::get(0).is_none());
		let ended = System::block_number();
		assert_eq!(
			DisputeGame::resolution(0),
			Some(Resolution {
				worker,
				challenger,
				worker_root: liar_trace.root(),
				challenger_root: honest.root(),
				step: Some(step as u32),
				ending: Ending::Proved,
				worker_lied: true,
				challenger_lied: false,
				at: ended,
				expires: ended + RESOLUTION_RETENTION,
			})
		);
		check_invariants();
		honest_rerun_settles(worker);
		// The record is kept through its retention, then removed.
		run_to_block(ended + RESOLUTION_RETENTION);
		assert!(DisputeGame::resolution(0).is_some());
		run_to_block(ended + RESOLUTION_RETENTION + 1);
		assert_eq!(DisputeGame::resolution(0), None);
	});
}

#[test]
fn a_worker_lying_at_the_first_step_loses() {
	worker_lies_at(0, Party::Challenger);
}

#[test]
fn a_worker_lying_at_a_middle_step_loses_even_proving_it_itself() {
	worker_lies_at(7, Party::Challenger);
	worker_lies_at(9, Party::Worker);
}

#[test]
fn a_worker_lying_at_the_last_step_loses() {
	worker_lies_at(15, Party::Challenger);
}

#[test]
fn a_result_that_is_not_its_traces_last_leaf_loses_at_reveal() {
	ExtBuilder::default().build_and_execute(|| {
		let honest = Trace::honest();
		let worker = request();
		// The honest trace, but another embedding posted.
		let mut output = honest.output();
		output[0] ^= 1;
		post(0, worker, &honest, output);
		let challenger = [W1, W2, W3].into_iter().find(|w| *w != worker).unwrap();
		// Same root: the challenge is about the output alone.
		assert_ok!(authorized(challenge_call(0, challenger, honest.root())));
		assert_eq!(
			dispatch(reveal_call(Party::Worker, honest.round(4, 0), honest.output_proof())),
			Err(Error::<Test>::OutputNotInTrace.into())
		);
		assert_ok!(reveal(Party::Challenger, &honest));
		run_to_block(System::block_number() + 4);
		assert_eq!(
			resolved(),
			Event::Resolved {
				request: 0,
				ending: Ending::Silence,
				worker_lied: true,
				challenger_lied: false,
				bond_to_worker: 0,
				bond_to_treasury: 0,
			}
		);
		assert_eq!(free(challenger), ENDOWMENT);
		honest_rerun_settles(worker);
	});
}

#[test]
fn a_lying_challenger_loses_its_bond_and_the_result_settles() {
	ExtBuilder::default().build_and_execute(|| {
		let (honest, liar) = (Trace::honest(), Trace::lying_at(5, 0.5));
		let (worker, challenger) = answered(&honest);
		assert_ok!(authorized(challenge_call(0, challenger, liar.root())));
		reveal_all(&honest, &liar);
		assert_eq!(step_to_prove(), 5);
		assert_ok!(authorized(prove_call(Party::Worker, honest.step_proof(5))));
		assert_eq!(
			resolved(),
			Event::Resolved {
				request: 0,
				ending: Ending::Proved,
				worker_lied: false,
				challenger_lied: true,
				bond_to_worker: BOND / 2,
				bond_to_treasury: BOND / 2,
			}
		);
		assert_eq!((bond_held(challenger), free(challenger)), (0, ENDOWMENT - BOND));
		assert_eq!(free(TREASURY), 1 + BOND / 2);
		assert!(Reports::get().is_empty());
		// A fresh window, then the worker is paid as usual (into the staking
		// pot, as its income).
		let now = System::block_number();
		run_to_block(now + 3);
		assert_eq!(free(worker), ENDOWMENT + BOND / 2);
		run_to_block(now + 4);
		assert_eq!(free(worker), ENDOWMENT + BOND / 2);
		assert_eq!(free(POT), 1 + 90);
		assert_eq!(pallet_inference::ErasWork::<Test>::get(1, worker).disputes_won, 1);
		assert_eq!(free(TREASURY), 1 + BOND / 2 + 10);
		assert_eq!(free(ALICE), ENDOWMENT - PRICE);
	});
}

#[test]
fn when_both_lie_both_lose_and_the_bond_goes_to_the_treasury() {
	ExtBuilder::default().build_and_execute(|| {
		let (a, b) = (Trace::lying_at(6, 1.0), Trace::lying_at(6, -1.0));
		let (worker, challenger) = answered(&a);
		assert_ok!(authorized(challenge_call(0, challenger, b.root())));
		reveal_all(&a, &b);
		assert_ok!(authorized(prove_call(Party::Challenger, b.step_proof(6))));
		assert_eq!(
			resolved(),
			Event::Resolved {
				request: 0,
				ending: Ending::Proved,
				worker_lied: true,
				challenger_lied: true,
				bond_to_worker: 0,
				bond_to_treasury: BOND,
			}
		);
		assert_eq!(free(challenger), ENDOWMENT - BOND);
		assert_eq!(free(TREASURY), 1 + BOND);
		assert_eq!(Reports::get(), vec![(worker, None)]);
		honest_rerun_settles(worker);
	});
}

/// Silence at the first reveal round: `worker` and `challenger` say whether
/// each reveals.
fn silence(worker_reveals: bool, challenger_reveals: bool) -> (u64, u64, Event<Test>) {
	let (honest, liar) = (Trace::honest(), Trace::lying_at(3, 1.0));
	let (worker, challenger) = answered(&honest);
	assert_ok!(authorized(challenge_call(0, challenger, liar.root())));
	if worker_reveals {
		assert_ok!(reveal(Party::Worker, &honest));
	}
	if challenger_reveals {
		assert_ok!(reveal(Party::Challenger, &liar));
	}
	// RevealPeriod is 3: the round's last block is 4; it times out in 5.
	run_to_block(4);
	assert!(Disputes::<Test>::get(0).is_some());
	run_to_block(5);
	assert!(Disputes::<Test>::get(0).is_none());
	(worker, challenger, resolved())
}

#[test]
fn a_silent_worker_loses() {
	ExtBuilder::default().build_and_execute(|| {
		let (worker, challenger, event) = silence(false, true);
		assert!(matches!(
			event,
			Event::Resolved {
				ending: Ending::Silence,
				worker_lied: true,
				challenger_lied: false,
				..
			}
		));
		assert_eq!(free(challenger), ENDOWMENT);
		assert_eq!(Reports::get(), vec![(worker, Some(challenger))]);
	});
}

#[test]
fn a_silent_challenger_loses() {
	ExtBuilder::default().build_and_execute(|| {
		let (worker, challenger, event) = silence(true, false);
		assert!(matches!(
			event,
			Event::Resolved {
				ending: Ending::Silence,
				worker_lied: false,
				challenger_lied: true,
				..
			}
		));
		assert_eq!(free(challenger), ENDOWMENT - BOND);
		assert_eq!(free(worker), ENDOWMENT + BOND / 2);
		assert!(Reports::get().is_empty());
	});
}

#[test]
fn both_silent_both_lose() {
	ExtBuilder::default().build_and_execute(|| {
		let (worker, challenger, event) = silence(false, false);
		assert!(matches!(
			event,
			Event::Resolved {
				worker_lied: true,
				challenger_lied: true,
				bond_to_treasury: BOND,
				..
			}
		));
		assert_eq!(free(challenger), ENDOWMENT - BOND);
		assert_eq!(Reports::get(), vec![(worker, None)]);
	});
}

#[test]
fn no_proof_in_time_the_challenger_loses() {
	ExtBuilder::default().build_and_execute(|| {
		// The challenger is right but never proves it.
		let (liar, honest) = (Trace::lying_at(2, 1.0), Trace::honest());
		let (worker, challenger) = answered(&liar);
		assert_ok!(authorized(challenge_call(0, challenger, honest.root())));
		reveal_all(&liar, &honest);
		let Stage::Prove { deadline, .. } = dispute().stage else { panic!("proving") };
		run_to_block(deadline);
		assert!(Disputes::<Test>::get(0).is_some());
		run_to_block(deadline + 1);
		assert!(matches!(
			resolved(),
			Event::Resolved {
				ending: Ending::NoProof,
				worker_lied: false,
				challenger_lied: true,
				..
			}
		));
		assert_eq!(free(challenger), ENDOWMENT - BOND);
		assert_eq!(free(worker), ENDOWMENT + BOND / 2);
	});
}

#[test]
fn the_game_narrows_level_by_level() {
	ExtBuilder::default().build_and_execute(|| {
		// 16 leaves, 4 hashes a reveal: the roots' grandchildren, then the
		// leaves under the first differing one.
		let (liar, honest) = (Trace::lying_at(13, 1.0), Trace::honest());
		let (_, challenger) = answered(&liar);
		assert_ok!(authorized(challenge_call(0, challenger, honest.root())));
		assert!(matches!(dispute().stage, Stage::Reveal { level: 4, index: 0, .. }));
		let view = DisputeGame::dispute_view(0).unwrap();
		assert_eq!((view.challenger, view.worker_root, view.steps), (challenger, liar.root(), 16));
		assert_eq!((view.model, view.input.as_slice()), (0, &INPUT[..]));
		assert_eq!(
			view.stage,
			StageView::Reveal {
				node_level: 4,
				node_index: 0,
				level: 2,
				start: 0,
				end: 4,
				revealed: None,
				output_bound: false,
				deadline: 4
			}
		);
		assert_eq!(DisputeGame::disputes_of(&challenger), vec![view.clone()]);
		assert_eq!(DisputeGame::disputes_of(&view.worker), vec![view]);
		assert!(DisputeGame::disputes_of(&ALICE).is_empty());
		assert_ok!(reveal(Party::Challenger, &honest));
		assert_eq!(Reveals::<Test>::get(0).map(|r| r.len()), Some(4));
		assert_ok!(reveal(Party::Worker, &liar));
		assert!(Reveals::<Test>::get(0).is_none());
		assert!(matches!(dispute().stage, Stage::Reveal { level: 2, index: 3, .. }));
		assert!(events().iter().any(|e| matches!(e, Event::Narrowed { level: 2, index: 3, .. })));
		assert!(matches!(
			DisputeGame::dispute_view(0).unwrap().stage,
			StageView::Reveal {
				level: 0,
				start: 12,
				end: 16,
				revealed: None,
				output_bound: true,
				..
			}
		));
		assert_ok!(reveal(Party::Worker, &liar));
		assert_ok!(reveal(Party::Challenger, &honest));
		assert_eq!(step_to_prove(), 13);
		assert_eq!(
			DisputeGame::dispute_view(0).unwrap().stage,
			StageView::Prove { step: 13, deadline: 4 }
		);
	});
}

#[test]
fn a_same_root_challenge_of_a_true_result_loses() {
	ExtBuilder::default().build_and_execute(|| {
		let honest = Trace::honest();
		let (worker, challenger) = answered(&honest);
		assert_ok!(authorized(challenge_call(0, challenger, honest.root())));
		reveal_all(&honest, &honest);
		assert!(matches!(
			resolved(),
			Event::Resolved {
				ending: Ending::NoDifference,
				worker_lied: false,
				challenger_lied: true,
				..
			}
		));
		assert_eq!(free(worker), ENDOWMENT + BOND / 2);
	});
}
