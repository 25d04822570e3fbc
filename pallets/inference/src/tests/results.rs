use super::*;
use frame_support::{assert_noop, assert_ok};
use sp_runtime::{
	transaction_validity::{InvalidTransaction, TransactionValidityError},
	DispatchError,
};

fn rejected(call: Call<Test>) -> InvalidTransaction {
	match call.authorize(TransactionSource::External) {
		Some(Err(TransactionValidityError::Invalid(e))) => e,
		other => panic!("expected an invalid transaction, got {other:?}"),
	}
}

#[test]
fn the_assignee_submits_and_the_window_opens() {
	ExtBuilder::default().build_and_execute(|| {
		assert_ok!(request(ALICE, PRICE));
		let worker = assignee(0);
		run_to_block(3);
		let call = result_call(0, worker, vec![9u8; OUTPUT], STEPS);
		let (validity, _) = match call.authorize(TransactionSource::External) {
			Some(Ok(v)) => v,
			other => panic!("not authorized: {other:?}"),
		};
		// Valid until the deadline (block 6), unique per request.
		assert_eq!(validity.longevity, 4);
		assert_eq!(validity.provides.len(), 1);
		assert_ok!(dispatch_authorized(call));
		let root = H256::repeat_byte(0xab);
		assert_eq!(
			Requests::<Test>::get(0).map(|r| r.status),
			Some(RequestStatus::Answered {
				worker,
				trace_root: root,
				steps: STEPS,
				challenge_end: 7
			})
		);
		assert_eq!(Outputs::<Test>::get(0).map(|o| o.to_vec()), Some(vec![9u8; OUTPUT]));
		assert_eq!(Queue::<Test>::get(QueueKind::Settlement, 0), Some((7, 0)));
		assert_eq!(
			events().last(),
			Some(&Event::ResultSubmitted {
				request: 0,
				worker,
				trace_root: root,
				steps: STEPS,
				challenge_end: 7
			})
		);
		// Funds stay held through the window.
		assert_eq!(escrow(ALICE), PRICE);
	});
}

#[test]
fn authorization_rejects_wrong_signers_and_stale_results() {
	ExtBuilder::default().build_and_execute(|| {
		assert_ok!(request(ALICE, PRICE));
		let worker = assignee(0);
		let other = [W1, W2, W3].into_iter().find(|w| *w != worker).unwrap_or(W1);
		// Another registered worker's key.
		assert_eq!(
			rejected(result_call(0, other, vec![0; OUTPUT], 1)),
			InvalidTransaction::BadProof
		);
		// A signature over different bytes.
		let mut call = result_call(0, worker, vec![0; OUTPUT], 1);
		if let Call::submit_result { steps, .. } = &mut call {
			*steps = 2;
		}
		assert_eq!(rejected(call), InvalidTransaction::BadProof);
		// No such request.
		assert_eq!(rejected(result_call(5, worker, vec![0; OUTPUT], 1)), InvalidTransaction::Stale);
		// The worker deregistered: its key is gone.
		let snapshot = Workers::<Test>::get(worker);
		assert_ok!(Inference::deregister_worker(RuntimeOrigin::signed(worker)));
		assert_eq!(
			rejected(result_call(0, worker, vec![0; OUTPUT], 1)),
			InvalidTransaction::BadSigner
		);
		if let Some(info) = snapshot {
			assert_ok!(Inference::register_worker(
				RuntimeOrigin::signed(worker),
				info.key,
				vec![0]
			));
		}
		// Past the deadline (block 6).
		System::set_block_number(7);
		assert_eq!(rejected(result_call(0, worker, vec![0; OUTPUT], 1)), InvalidTransaction::Stale);
	});
}

#[test]
fn dispatch_rejects_what_authorization_cannot_see() {
	ExtBuilder::default().build_and_execute(|| {
		assert_ok!(request(ALICE, PRICE));
		let worker = assignee(0);
		let root = H256::zero();
		let sig = pair(worker).sign(b"unused");
		let call = |id, output: Vec<u8>, steps| Call::<Test>::submit_result {
			request: id,
			output,
			trace_root: root,
			steps,
			signature: sig.clone(),
		};
		assert_noop!(
			dispatch_authorized(call(3, vec![0; OUTPUT], 1)),
			Error::<Test>::UnknownRequest
		);
		assert_noop!(
			dispatch_authorized(call(0, vec![0; OUTPUT - 1], 1)),
			Error::<Test>::BadOutput
		);
		for steps in [0, STEPS - 1, STEPS + 1] {
			assert_noop!(
				dispatch_authorized(call(0, vec![0; OUTPUT], steps)),
				Error::<Test>::BadStepCount
			);
		}
		// Only the authorized origin may call it.
		assert_noop!(
			Inference::submit_result(
				RuntimeOrigin::signed(worker),
				0,
				vec![0; OUTPUT],
				root,
				1,
				sig.clone()
			),
			DispatchError::BadOrigin
		);
		System::set_block_number(7);
		assert_noop!(
			dispatch_authorized(call(0, vec![0; OUTPUT], STEPS)),
			Error::<Test>::DeadlinePassed
		);
		System::set_block_number(2);
		assert_ok!(submit(0, worker));
		assert_noop!(
			dispatch_authorized(call(0, vec![0; OUTPUT], STEPS)),
			Error::<Test>::NotAssigned
		);
	});
}
