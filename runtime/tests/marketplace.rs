//! A request goes through the real runtime: Bob's signed `request` is
//! assigned to Alice's worker (the dev genesis registers MiniLM and Alice's
//! worker), Alice's worker key authorizes the result as a general
//! transaction, and the request settles when the challenge window closes,
//! with every unit accounted for.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use cinder_runtime::{
	configs::TreasuryAccount, genesis_config_presets::minilm, Executive, Runtime, RuntimeCall,
	RuntimeEvent, UncheckedExtrinsic,
};
use frame_support::traits::fungible::{Inspect, InspectHold};
use pallet_inference::{Event as InferenceEvent, RequestStatus};
use sp_core::H256;
use sp_keyring::Sr25519Keyring;
use sp_runtime::transaction_validity::{InvalidTransaction, TransactionValidityError};

type Balances = pallet_balances::Pallet<Runtime>;

/// "hello world" in MiniLM's vocabulary, with [CLS] and [SEP].
const HELLO: [u32; 4] = [101, 7592, 2088, 102];
const OUTPUT_BYTES: usize = 384 * 4;

fn inference_events(events: &[RuntimeEvent]) -> Vec<InferenceEvent<Runtime>> {
	events
		.iter()
		.filter_map(|e| match e {
			RuntimeEvent::Inference(e) => Some(e.clone()),
			_ => None,
		})
		.collect()
}

fn fee_paid(events: &[RuntimeEvent], payer: &cinder_runtime::AccountId) -> u128 {
	events
		.iter()
		.filter_map(|e| match e {
			RuntimeEvent::TransactionPayment(
				pallet_transaction_payment::Event::TransactionFeePaid { who, actual_fee, .. },
			) if who == payer => Some(*actual_fee),
			_ => None,
		})
		.sum()
}

fn request_xt(max_fee: u128) -> UncheckedExtrinsic {
	let genesis = frame_system::BlockHash::<Runtime>::get(0);
	cinder_runtime::extrinsic::sign(
		&Sr25519Keyring::Bob.pair(),
		0,
		genesis,
		RuntimeCall::Inference(pallet_inference::Call::request {
			model: 0,
			input: HELLO.to_vec(),
			max_fee,
		}),
	)
}

#[test]
fn a_request_is_assigned_answered_and_settled() {
	common::preset_ext("development").execute_with(|| {
		let alice = Sr25519Keyring::Alice.to_account_id();
		let bob = Sr25519Keyring::Bob.to_account_id();
		let treasury = TreasuryAccount::get();
		let pot = cinder_runtime::configs::StakingPot::get();
		let pot0 = Balances::balance(&pot);
		let issuance = Balances::total_issuance();
		let (alice0, bob0, treasury0) =
			(Balances::balance(&alice), Balances::balance(&bob), Balances::balance(&treasury));
		let max_fee = 3 * minilm::PRICE;
		let mut chain = common::Chain::new();

		// Block 1: Bob asks; the only worker, Alice's, is assigned.
		let events = chain.block(vec![request_xt(max_fee)]);
		let bob_fee = fee_paid(&events, &bob);
		let inference = inference_events(&events);
		assert!(inference.contains(&InferenceEvent::Requested {
			request: 0,
			caller: bob.clone(),
			model: 0,
			task: pallet_models::Task::Embed,
			max_fee,
			price: minilm::PRICE,
		}));
		assert!(inference.contains(&InferenceEvent::Assigned {
			request: 0,
			worker: alice.clone(),
			deadline: 1 + cinder_runtime::time::MINUTES,
			attempt: 1,
		}));
		let escrow = pallet_inference::HoldReason::Escrow.into();
		assert_eq!(Balances::balance_on_hold(&escrow, &bob), max_fee);

		// Block 2: Alice's worker posts a result, no account pays for it.
		let genesis = frame_system::BlockHash::<Runtime>::get(0);
		let output = vec![0x3fu8; OUTPUT_BYTES];
		let root = H256::repeat_byte(7);
		let result = cinder_runtime::extrinsic::submit_result(
			&Sr25519Keyring::Alice.pair(),
			genesis,
			0,
			output.clone(),
			root,
			627,
		);
		let events = chain.block(vec![result]);
		assert_eq!(fee_paid(&events, &alice), 0);
		let challenge_end = 2 + 10;
		assert!(inference_events(&events).contains(&InferenceEvent::ResultSubmitted {
			request: 0,
			worker: alice.clone(),
			trace_root: root,
			steps: 627,
			challenge_end,
		}));
		assert_eq!(pallet_inference::Outputs::<Runtime>::get(0).map(|o| o.to_vec()), Some(output));

		// Blocks 3..11: the window is open, funds stay held.
		while chain.number() < challenge_end - 1 {
			chain.block(vec![]);
		}
		assert!(matches!(
			pallet_inference::Requests::<Runtime>::get(0).map(|r| r.status),
			Some(RequestStatus::Answered { .. })
		));

		// Block 12: settled.
		let events = chain.block(vec![]);
		let cut = minilm::PRICE / 10;
		assert!(inference_events(&events).contains(&InferenceEvent::Settled {
			request: 0,
			worker: alice.clone(),
			worker_share: minilm::PRICE - cut,
			era: Some(0),
			protocol_cut: cut,
			released: max_fee - minilm::PRICE,
		}));
		assert_eq!(Balances::balance_on_hold(&escrow, &bob), 0);
		assert_eq!(Balances::balance(&bob), bob0 - minilm::PRICE - bob_fee);
		// Alice's share waits in the staking pot for era 0's payout.
		assert_eq!(Balances::balance(&alice), alice0);
		assert_eq!(Balances::balance(&pot), pot0 + minilm::PRICE - cut);
		assert_eq!(
			pallet_inference::ErasWork::<Runtime>::get(0, &alice).income,
			minilm::PRICE - cut
		);
		assert_eq!(Balances::balance(&treasury), treasury0 + cut + bob_fee);
		assert_eq!(Balances::total_issuance(), issuance);
		pallet_inference::Pallet::<Runtime>::do_try_state().unwrap();
		pallet_models::Pallet::<Runtime>::do_try_state().unwrap();
	});
}

#[test]
fn a_result_signed_by_another_key_is_rejected() {
	common::preset_ext("development").execute_with(|| {
		let mut chain = common::Chain::new();
		chain.block(vec![request_xt(minilm::PRICE)]);
		let genesis = frame_system::BlockHash::<Runtime>::get(0);
		chain.open();
		let forged = cinder_runtime::extrinsic::submit_result(
			&Sr25519Keyring::Charlie.pair(),
			genesis,
			0,
			vec![0u8; OUTPUT_BYTES],
			H256::zero(),
			1,
		);
		assert_eq!(
			Executive::apply_extrinsic(forged),
			Err(TransactionValidityError::Invalid(InvalidTransaction::BadProof))
		);
		assert!(pallet_inference::Outputs::<Runtime>::get(0).is_none());
		chain.close();
	});
}

#[test]
fn a_request_the_pallet_would_refuse_is_not_a_valid_transaction() {
	// `CheckRequest` turns the caller's mistakes into invalid transactions:
	// never included, so no fee, no nonce, nothing held.
	common::preset_ext("development").execute_with(|| {
		let bob = Sr25519Keyring::Bob.to_account_id();
		let mut chain = common::Chain::new();
		chain.open();
		let genesis = frame_system::BlockHash::<Runtime>::get(0);
		let free = Balances::balance(&bob);
		for (model, max_fee, refusal) in [
			(9, minilm::PRICE, pallet_inference::Refusal::UnknownModel),
			(0, minilm::PRICE - 1, pallet_inference::Refusal::FeeTooLow),
			(0, free, pallet_inference::Refusal::InsufficientBalance),
		] {
			let xt = cinder_runtime::extrinsic::sign(
				&Sr25519Keyring::Bob.pair(),
				0,
				genesis,
				RuntimeCall::Inference(pallet_inference::Call::request {
					model,
					input: HELLO.to_vec(),
					max_fee,
				}),
			);
			assert_eq!(
				Executive::apply_extrinsic(xt),
				Err(TransactionValidityError::Invalid(InvalidTransaction::Custom(
					pallet_inference::refusal_code(refusal)
				))),
				"{refusal:?}"
			);
		}
		let escrow = pallet_inference::HoldReason::Escrow.into();
		assert_eq!(Balances::balance_on_hold(&escrow, &bob), 0);
		assert_eq!(Balances::balance(&bob), free);
		assert_eq!(frame_system::Pallet::<Runtime>::account_nonce(&bob), 0);
		chain.close();
	});
}
