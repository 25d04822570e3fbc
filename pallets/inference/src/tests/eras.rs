//! Each validator's record per era: where a worker's share goes, what
//! counts as served and missed, and how the history window moves.

use super::*;
use frame_support::assert_ok;

#[test]
fn a_worker_that_left_the_validator_set_is_paid_directly() {
	ExtBuilder::default().build_and_execute(|| {
		assert_ok!(request(ALICE, PRICE));
		let worker = assignee(0);
		assert_ok!(submit(0, worker));
		// The worker drops out of the active set before its request settles:
		// its nominators in the new era did not back this work.
		Stakes::mutate(|s| s.remove(&worker));
		run_to_block(10);
		assert_eq!(free(worker), ENDOWMENT + 90);
		assert_eq!(free(POT), 1);
		assert!(events()
			.iter()
			.any(|e| matches!(e, Event::Settled { request: 0, era: None, worker_share: 90, .. })));
		// Not a validator of era 1 any more: no record, no income for the
		// era payout.
		assert_eq!(ErasWork::<Test>::iter_prefix(1).count(), 0);
		assert!(Inference::end_era(1).is_empty());
	});
}

#[test]
fn before_the_first_era_the_worker_is_paid_directly_and_nothing_is_recorded() {
	ExtBuilder::default().build_and_execute(|| {
		Era::set(None);
		assert_ok!(request(ALICE, PRICE));
		let worker = assignee(0);
		assert_ok!(submit(0, worker));
		run_to_block(10);
		assert_eq!(free(worker), ENDOWMENT + 90);
		assert_eq!(ErasWork::<Test>::iter().count(), 0);
	});
}

#[test]
fn a_missed_deadline_counts_against_the_worker_in_its_era() {
	ExtBuilder::default().build_and_execute(|| {
		assert_ok!(request(ALICE, PRICE));
		let first = assignee(0);
		// ResultTimeout is 5: the deadline passes at block 7.
		run_to_block(7);
		let second = assignee(0);
		assert_ne!(first, second);
		assert_eq!(ErasWork::<Test>::get(1, first), EraWork { missed: 1, ..Default::default() });
		assert_ok!(submit(0, second));
		run_to_block(12);
		assert_eq!(
			ErasWork::<Test>::get(1, second),
			EraWork { income: 90, served: 1, ..Default::default() }
		);
		// Only income enters the payout: the worker that missed earns nothing.
		assert_eq!(Inference::end_era(1), vec![(second, 90)]);
	});
}

#[test]
fn work_counts_in_the_era_it_settles_in() {
	ExtBuilder::default().workers(&[(W1, 100)]).build_and_execute(|| {
		assert_ok!(request(ALICE, PRICE));
		assert_ok!(submit(0, W1));
		Era::set(Some(2));
		assert_ok!(request(BOB, PRICE));
		assert_ok!(submit(1, W1));
		run_to_block(10);
		assert_eq!(ErasWork::<Test>::get(1, W1), EraWork::default());
		assert_eq!(
			ErasWork::<Test>::get(2, W1),
			EraWork { income: 180, served: 2, ..Default::default() }
		);
		assert_eq!(free(POT), 1 + 180);
	});
}

#[test]
fn records_are_kept_for_era_history_eras() {
	ExtBuilder::default().build_and_execute(|| {
		// EraHistory is 3.
		for era in 0..6u32 {
			ErasWork::<Test>::insert(
				era,
				W1,
				EraWork { income: u64::from(era) + 1, ..Default::default() },
			);
			ErasWork::<Test>::insert(era, W2, EraWork { missed: 1, ..Default::default() });
		}
		// Era 3 ends: eras 1..=3 stay, era 0 goes (one era per call).
		assert_eq!(Inference::end_era(3), vec![(W1, 4)]);
		assert_eq!(OldestEra::<Test>::get(), 1);
		assert_eq!(Inference::era_work(0), vec![]);
		assert_eq!(Inference::era_work(1).len(), 2);
		// Era 4 ends: era 1 goes.
		assert_eq!(Inference::end_era(4), vec![(W1, 5)]);
		assert_eq!(OldestEra::<Test>::get(), 2);
		assert_eq!(Inference::era_work(1), vec![]);
		assert_eq!(Inference::era_work(2).len(), 2);
		// Clear what the test wrote beyond the active era for try-state.
		for era in 2..6u32 {
			let _ = ErasWork::<Test>::clear_prefix(era, 10, None);
		}
	});
}
