//! `CheckRequest`: the pool refuses what the caller got wrong, with the
//! same refusal `request` and the quotes give.

use super::*;
use crate::{refusal_code, refusal_of_code, CheckRequest, Refusal};
use frame_support::{assert_ok, dispatch::GetDispatchInfo};
use sp_runtime::{
	traits::DispatchTransaction,
	transaction_validity::{InvalidTransaction, TransactionValidityError},
};

fn request_call(model: u32, input: Vec<u32>, max_fee: u64) -> RuntimeCall {
	RuntimeCall::Inference(Call::request { model, input, max_fee })
}

/// What the pool says of `who`'s `call`.
fn pool(who: u64, call: &RuntimeCall) -> Result<(), TransactionValidityError> {
	let info = call.get_dispatch_info();
	CheckRequest::<Test>::new()
		.validate_only(RuntimeOrigin::signed(who), call, &info, 0, TransactionSource::External, 0)
		.map(|_| ())
}

fn refused(r: Refusal) -> Result<(), TransactionValidityError> {
	Err(InvalidTransaction::Custom(refusal_code(r)).into())
}

#[test]
fn the_pool_refuses_what_the_caller_got_wrong() {
	ExtBuilder::default().build_and_execute(|| {
		assert_ok!(pool(ALICE, &request_call(0, vec![1, 2], PRICE)));
		assert_eq!(pool(ALICE, &request_call(7, vec![1], PRICE)), refused(Refusal::UnknownModel));
		assert_eq!(pool(ALICE, &request_call(0, vec![], PRICE)), refused(Refusal::EmptyInput));
		assert_eq!(
			pool(ALICE, &request_call(0, vec![1; 17], PRICE)),
			refused(Refusal::InputTooLong)
		);
		assert_eq!(
			pool(ALICE, &request_call(0, vec![1, 64], PRICE)),
			refused(Refusal::TokenOutOfRange)
		);
		assert_eq!(pool(ALICE, &request_call(0, vec![1], PRICE - 1)), refused(Refusal::FeeTooLow));
		assert_eq!(
			pool(POOR, &request_call(0, vec![1], PRICE)),
			refused(Refusal::InsufficientBalance)
		);
		// Other calls pass untouched.
		assert_ok!(pool(ALICE, &RuntimeCall::Inference(Call::deregister_worker {})));
		assert_ok!(Models::retire(RuntimeOrigin::signed(OWNER), 0));
		assert_eq!(pool(ALICE, &request_call(0, vec![1], PRICE)), refused(Refusal::ModelRetired));
		// Validating changed nothing.
		assert_eq!(escrow(ALICE), 0);
		assert_eq!(NextRequestId::<Test>::get(), 0);
	});
}

#[test]
fn the_state_of_the_moment_is_left_to_the_block() {
	// No worker, or no room: the pool lets the request through (these come
	// and go), the call refuses it, and a quote says so.
	ExtBuilder::default().workers(&[]).build_and_execute(|| {
		assert_ok!(pool(ALICE, &request_call(0, vec![1], PRICE)));
		assert_eq!(
			Inference::check(&ALICE, 0, &[1], &Task::Embed, PRICE),
			Err(Refusal::NoEligibleWorker)
		);
	});
	ExtBuilder::default().build_and_execute(|| {
		for _ in 0..8 {
			assert_ok!(request(ALICE, PRICE));
		}
		assert_ok!(pool(BOB, &request_call(0, vec![1], PRICE)));
		assert_eq!(
			Inference::check(&BOB, 0, &[1], &Task::Embed, PRICE),
			Err(Refusal::TooManyRequests)
		);
	});
}

#[test]
fn check_refuses_exactly_what_request_refuses_and_a_refusal_is_charged_little() {
	use crate::weights::WeightInfo;
	let cases: [(u64, u32, Vec<u32>, u64); 9] = [
		(ALICE, 0, vec![1, 2], PRICE),
		(ALICE, 7, vec![1], PRICE),
		(ALICE, 0, vec![], PRICE),
		(ALICE, 0, vec![1; 17], PRICE),
		(ALICE, 0, vec![64], PRICE),
		(ALICE, 0, vec![1], PRICE - 1),
		(POOR, 0, vec![1], PRICE),
		(BOB, 0, vec![1, 2, 3], 3 * PRICE),
		(POOR, 7, vec![], 0),
	];
	for (who, model, input, max_fee) in cases {
		ExtBuilder::default().build_and_execute(|| {
			let checked = Inference::check(&who, model, &input, &Task::Embed, max_fee);
			let tokens = input.len() as u32;
			let result =
				Inference::request(RuntimeOrigin::signed(who), model, input.clone(), max_fee);
			match checked {
				Ok(quote) => {
					assert!(result.is_ok(), "{who} {model} {input:?}: {result:?}");
					assert_eq!(quote.price, PRICE);
				}
				Err(r) => {
					let e = result.expect_err("refused");
					assert_eq!(e.error, Error::<Test>::from(r).into(), "{who} {model} {input:?}");
					let workers = ModelWorkers::<Test>::decode_len(model).unwrap_or(0) as u32;
					assert_eq!(
						e.post_info.actual_weight,
						Some(<() as WeightInfo>::request(tokens, workers)),
						"charged for the workers there are, not MaxWorkers"
					);
					assert_eq!(escrow(who), 0);
				}
			}
		});
	}
}

#[test]
fn refusal_codes_round_trip() {
	for r in [
		Refusal::UnknownModel,
		Refusal::ModelRetired,
		Refusal::UnservableModel,
		Refusal::EmptyInput,
		Refusal::InputTooLong,
		Refusal::TokenOutOfRange,
		Refusal::NoEligibleWorker,
		Refusal::FeeTooLow,
		Refusal::TooManyRequests,
		Refusal::InsufficientBalance,
		Refusal::WrongTask,
		Refusal::BadMaxNewTokens,
	] {
		assert_eq!(refusal_of_code(refusal_code(r)), Some(r));
	}
	assert_eq!(refusal_of_code(99), None);
	assert_eq!(refusal_of_code(112), None);
}
