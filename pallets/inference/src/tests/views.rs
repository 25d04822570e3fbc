use super::*;
use crate::{FeeQuote, Refusal, RequestState};
use frame_support::assert_ok;

#[test]
fn a_request_view_follows_the_lifecycle() {
	ExtBuilder::default().build_and_execute(|| {
		assert!(Inference::request_view(0).is_none());
		assert_ok!(request(ALICE, 150));
		let worker = assignee(0);
		let view = Inference::request_view(0).unwrap_or_else(|| panic!("open"));
		assert_eq!(
			(view.caller, view.model, view.max_fee, view.price),
			(ALICE, 0, Some(150), Some(PRICE))
		);
		assert_eq!(view.state, RequestState::Assigned { worker, deadline: 6, attempt: 1 });
		assert_eq!(view.output, None);
		assert_ok!(submit(0, worker));
		let view = Inference::request_view(0).unwrap_or_else(|| panic!("open"));
		assert!(matches!(
			view.state,
			RequestState::Answered { steps: STEPS, challenge_end: 5, .. }
		));
		assert_eq!(view.output, Some(vec![0u8; OUTPUT]));
		run_to_block(5);
		let view = Inference::request_view(0).unwrap_or_else(|| panic!("retained"));
		assert_eq!(
			view.state,
			RequestState::Settled { worker, worker_share: 90, protocol_cut: 10, at: 5 }
		);
		assert_eq!((view.max_fee, view.output.map(|o| o.len())), (None, Some(OUTPUT)));
		run_to_block(11);
		assert!(Inference::request_view(0).is_none());
	});
}

#[test]
fn a_refund_is_visible_and_workers_see_their_assignments() {
	ExtBuilder::default().workers(&[(W1, 100)]).build_and_execute(|| {
		assert_ok!(request(ALICE, PRICE));
		assert_ok!(request(BOB, PRICE));
		let mine = Inference::assignments_of(&W1);
		assert_eq!(mine.iter().map(|a| a.request).collect::<Vec<_>>(), vec![0, 1]);
		assert_eq!((mine[0].model, mine[0].input.clone(), mine[0].deadline), (0, vec![1, 2, 3], 6));
		assert!(Inference::assignments_of(&W2).is_empty());
		assert_ok!(submit(1, W1));
		assert_eq!(Inference::assignments_of(&W1).len(), 1);
		run_to_block(7);
		assert_eq!(
			Inference::request_view(0).map(|v| v.state),
			Some(RequestState::Refunded { amount: PRICE, at: 7 })
		);
	});
}

#[test]
fn quotes_price_the_request_or_say_why_not() {
	ExtBuilder::default().build_and_execute(|| {
		assert_eq!(
			Inference::quote(0, &[1, 2], &Task::Embed),
			Ok(FeeQuote { price: PRICE, worker_share: 90, protocol_cut: 10 })
		);
		assert_eq!(Inference::quote(4, &[1], &Task::Embed), Err(Refusal::UnknownModel));
		assert_eq!(Inference::quote(0, &[], &Task::Embed), Err(Refusal::EmptyInput));
		assert_eq!(Inference::quote(0, &[1; 17], &Task::Embed), Err(Refusal::InputTooLong));
		assert_eq!(Inference::quote(0, &[64], &Task::Embed), Err(Refusal::TokenOutOfRange));
		Stakes::set(Default::default());
		assert_eq!(Inference::quote(0, &[1], &Task::Embed), Err(Refusal::NoEligibleWorker));
		assert_ok!(Models::retire(RuntimeOrigin::signed(OWNER), 0));
		assert_eq!(Inference::quote(0, &[1], &Task::Embed), Err(Refusal::ModelRetired));
	});
}
