use super::*;
use frame_support::{assert_noop, assert_ok};
use sp_runtime::DispatchError;

#[test]
fn a_validator_registers_and_is_indexed() {
	ExtBuilder::default().workers(&[]).build_and_execute(|| {
		let key = pair(V4).public();
		assert_ok!(Inference::register_worker(RuntimeOrigin::signed(V4), key.clone(), vec![0]));
		let info = Workers::<Test>::get(V4).unwrap_or_else(|| panic!("stored"));
		assert_eq!(info.key, key);
		assert_eq!(info.models.to_vec(), vec![0]);
		assert_eq!(ModelWorkers::<Test>::get(0).to_vec(), vec![V4]);
		assert_eq!(
			events().last(),
			Some(&Event::WorkerRegistered { worker: V4, key, models: vec![0] })
		);
	});
}

#[test]
fn re_registering_replaces_key_and_models_and_keeps_record() {
	ExtBuilder::default().build_and_execute(|| {
		Models::do_register(pallet_models::sample_spec(OWNER, 4, 0, 5))
			.unwrap_or_else(|e| panic!("{e:?}"));
		Workers::<Test>::mutate(W1, |w| w.as_mut().map(|w| w.missed = 2));
		// Model 2, registered above; W1 leaves models 0 and 1.
		let key = pair(77).public();
		assert_ok!(Inference::register_worker(RuntimeOrigin::signed(W1), key.clone(), vec![2]));
		assert!(!ModelWorkers::<Test>::get(0).contains(&W1));
		assert!(!ModelWorkers::<Test>::get(GENERATOR).contains(&W1));
		assert_eq!(ModelWorkers::<Test>::get(2).to_vec(), vec![W1]);
		let info = Workers::<Test>::get(W1).unwrap_or_else(|| panic!("stored"));
		assert_eq!((info.key, info.missed), (key, 2));
	});
}

#[test]
fn register_rejects_bad_input() {
	ExtBuilder::default().workers(&[(W1, 100), (W2, 100), (W3, 100)]).build_and_execute(|| {
		let key = pair(V4).public();
		let reg = |who, models| {
			Inference::register_worker(RuntimeOrigin::signed(who), key.clone(), models)
		};
		assert_noop!(reg(ALICE, vec![0]), Error::<Test>::NotValidator);
		assert_noop!(reg(V4, vec![]), Error::<Test>::NoModels);
		assert_noop!(reg(V4, vec![0, 0]), Error::<Test>::DuplicateModel);
		assert_noop!(reg(V4, vec![0, 1, 2]), Error::<Test>::TooManyModels);
		assert_noop!(reg(V4, vec![9]), Error::<Test>::UnknownModel);
		assert_noop!(
			Inference::register_worker(RuntimeOrigin::none(), key.clone(), vec![0]),
			DispatchError::BadOrigin
		);
		// Four workers is the limit.
		assert_ok!(reg(V4, vec![0]));
		Stakes::mutate(|s| {
			s.insert(BOB, 1);
		});
		assert_noop!(reg(BOB, vec![0]), Error::<Test>::TooManyWorkers);
	});
}

#[test]
fn deregister_removes_worker_from_index() {
	ExtBuilder::default().build_and_execute(|| {
		assert_noop!(
			Inference::deregister_worker(RuntimeOrigin::signed(V4)),
			Error::<Test>::NotWorker
		);
		assert_noop!(Inference::deregister_worker(RuntimeOrigin::root()), DispatchError::BadOrigin);
		assert_ok!(Inference::deregister_worker(RuntimeOrigin::signed(W2)));
		assert!(Workers::<Test>::get(W2).is_none());
		assert_eq!(ModelWorkers::<Test>::get(0).to_vec(), vec![W1, W3]);
		assert_eq!(events().last(), Some(&Event::WorkerDeregistered { worker: W2 }));
	});
}

#[test]
fn selection_follows_stake_and_skips_inactive_and_excluded() {
	ExtBuilder::default().build_and_execute(|| {
		let mut counts = std::collections::BTreeMap::<u64, u32>::new();
		for id in 0..1_000 {
			let w = Inference::select_worker(0, id, &[], 1).unwrap_or_else(|| panic!("a worker"));
			*counts.entry(w).or_default() += 1;
		}
		// Stakes 100 : 300 : 600.
		let share = |w| counts.get(&w).copied().unwrap_or(0);
		assert!((60..=140).contains(&share(W1)), "{counts:?}");
		assert!((240..=360).contains(&share(W2)), "{counts:?}");
		assert!((540..=660).contains(&share(W3)), "{counts:?}");

		// A worker that left the validator set is never picked.
		Stakes::mutate(|s| {
			s.remove(&W3);
		});
		for id in 0..100 {
			let w = Inference::select_worker(0, id, &[W1], 1);
			assert_eq!(w, Some(W2));
		}
		assert_eq!(Inference::select_worker(0, 0, &[W1, W2], 1), None);
	});
}

#[test]
fn demoted_workers_are_a_last_resort() {
	ExtBuilder::default().workers(&[(W1, 100), (W2, 100)]).build_and_execute(|| {
		Workers::<Test>::mutate(W1, |w| w.as_mut().map(|w| w.demoted_until = 20));
		for id in 0..50 {
			assert_eq!(Inference::select_worker(0, id, &[], 1), Some(W2));
		}
		assert_eq!(Inference::select_worker(0, 0, &[W2], 1), Some(W1));
		// Demotion ends.
		let picks: std::collections::BTreeSet<_> =
			(0..50).filter_map(|id| Inference::select_worker(0, id, &[], 20)).collect();
		assert_eq!(picks.len(), 2);
	});
}
