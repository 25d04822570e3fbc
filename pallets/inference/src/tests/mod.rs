//! Tests of every call, the per-block work and the invariants; each runs
//! try-state at its end (see `ExtBuilder::build_and_execute`).

// Test code: plain arithmetic is fine here.
#![allow(clippy::arithmetic_side_effects)]

mod disputes;
mod eras;
mod extension;
mod generation;
mod props;
mod requests;
mod results;
mod settlement;
mod views;
mod workers;

use crate::{crypto, mock::*, pallet::*, types::*};
use frame_support::{
	dispatch::DispatchResult,
	pallet_prelude::TransactionSource,
	traits::{fungible::InspectHold, Authorize},
};
use pallet_models::Task;
use sp_core::{Pair, H256};

/// Makes a request for model 0 from `who` with `max_fee`, input `[1, 2, 3]`.
fn request(who: u64, max_fee: u64) -> DispatchResult {
	Inference::request(RuntimeOrigin::signed(who), 0, vec![1, 2, 3], max_fee)
		.map(|_| ())
		.map_err(|e| e.error)
}

/// The current assignee of request `id`.
fn assignee(id: RequestId) -> u64 {
	match Requests::<Test>::get(id).map(|r| r.status) {
		Some(RequestStatus::Assigned { worker, .. }) => worker,
		other => panic!("request {id} is not assigned: {other:?}"),
	}
}

/// A result call for request `id`, signed by `signer`'s worker key.
fn result_call(id: RequestId, signer: u64, output: Vec<u8>, steps: u32) -> Call<Test> {
	let root = H256::repeat_byte(0xab);
	let payload = crypto::result_payload(Inference::genesis_hash(), id, &output, &root, steps);
	let signature = pair(signer).sign(&payload);
	Call::submit_result { request: id, output, trace_root: root, steps, signature }
}

/// Submits a well-formed result for `id` signed by `signer`: the call must
/// pass authorization, then is dispatched as the authorized origin.
fn submit(id: RequestId, signer: u64) -> DispatchResult {
	let call = result_call(id, signer, vec![0u8; OUTPUT], STEPS);
	match call.authorize(TransactionSource::External) {
		Some(Ok(_)) => {}
		other => panic!("result for {id} not authorized: {other:?}"),
	}
	dispatch_authorized(call)
}

/// Dispatches `call` as an authorized general transaction would be.
fn dispatch_authorized(call: Call<Test>) -> DispatchResult {
	use frame_support::traits::UnfilteredDispatchable;
	call.dispatch_bypass_filter(frame_system::RawOrigin::Authorized.into())
		.map(|_| ())
		.map_err(|e| e.error)
}

/// Escrow held from `who`.
fn escrow(who: u64) -> u64 {
	Balances::balance_on_hold(&HoldReason::Escrow.into(), &who)
}

fn free(who: u64) -> u64 {
	<Balances as frame_support::traits::fungible::Inspect<u64>>::balance(&who)
}

fn events() -> Vec<Event<Test>> {
	System::events()
		.into_iter()
		.filter_map(|r| match r.event {
			RuntimeEvent::Inference(e) => Some(e),
			_ => None,
		})
		.collect()
}
