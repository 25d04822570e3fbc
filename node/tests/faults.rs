//! End to end, faults on the four-validator `local` network (the one
//! `scripts/local-net.sh` starts) under a steady stream of requests:
//!
//! 1. a validator killed with SIGKILL: blocks and finality go on, its
//!    assignments time out and are reassigned, every request ends settled
//!    or refunded, the dapp pays exactly the price of what settled (plus
//!    its transaction fees), and every balance and hold adds up to a total
//!    issuance that did not move (no era ends in the run, so staking minted
//!    nothing);
//! 2. a validator killed with SIGKILL and restarted on its database: it
//!    resumes from where it stopped, catches up, and its worker serves the
//!    assignments it got while it was down.
//!
//! Each prints its timeline (`cargo test --test faults -- --nocapture`).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::{Duration, Instant};

use cinder_runtime::{genesis_config_presets::minilm, Balance, RuntimeEvent};
use common::{
	network::{
		active_era, balances_and_issuance, events_between, request_state, start_network,
		wait_all_finished, RequestStream, DAPP,
	},
	test_dir, Node,
};
use serde_json::json;
use sp_keyring::Sr25519Keyring::Dave;

const MINUTE: Duration = Duration::from_secs(60);

fn next_request_id(node: &Node) -> u64 {
	node.rpc("inference_nextRequestId", json!([])).as_u64().unwrap()
}

/// Stops the stream, waits for everything it sent to land and finish, and
/// checks the books at the finalized head: balances and holds add up to
/// issuance, issuance is what it was at `start` (same era: nothing
/// minted), the dapp holds nothing and paid exactly the settled prices and
/// its fees. Returns (sent, settled, refunded, reassignments).
fn finish_and_audit(
	alice: &Node,
	stream: RequestStream,
	start: u32,
	dapp_before: Balance,
	issuance_before: Balance,
) -> (u64, u64, u64, usize) {
	let first = stream.first;
	let sent = stream.stop();
	alice.wait_until("every submitted request on chain", 2 * MINUTE, |n| {
		next_request_id(n) >= first + sent
	});
	assert_eq!(next_request_id(alice), first + sent, "only the stream makes requests");
	let (settled, refunded) = wait_all_finished(alice, first..first + sent, 6 * MINUTE);

	// The books, at a finalized block after the last request finished.
	let best = alice.best_number();
	alice.wait_until("the last request finalized", 2 * MINUTE, |n| n.finalized_number() >= best);
	let at = alice.block_hash(best).unwrap();
	let (sum, issuance) = balances_and_issuance(alice, at);
	assert_eq!(sum, issuance, "balances and holds add up to total issuance");
	assert_eq!(active_era(alice, Some(at)), 0, "the run stays in era 0");
	assert_eq!(issuance, issuance_before, "no era ended: issuance did not move");

	let events = events_between(alice, start, best);
	let dapp = DAPP.to_account_id();
	let fees: Balance = events
		.iter()
		.filter_map(|(_, e)| match e {
			RuntimeEvent::TransactionPayment(
				pallet_transaction_payment::Event::TransactionFeePaid { who, actual_fee, .. },
			) if *who == dapp => Some(*actual_fee),
			_ => None,
		})
		.sum();
	assert_eq!(alice.held_balance(DAPP, at), 0, "no escrow left held");
	let dapp_after = alice.total_balance(DAPP, at);
	assert_eq!(
		dapp_before - dapp_after,
		Balance::from(settled) * minilm::PRICE + fees,
		"the dapp paid the settled prices and its fees, nothing more"
	);
	let reassigned = events
		.iter()
		.filter(|(_, e)| {
			matches!(e, RuntimeEvent::Inference(pallet_inference::Event::DeadlineMissed { .. }))
		})
		.count();
	(sent, settled, refunded, reassigned)
}

#[test]
fn a_killed_validator_stops_nothing_and_loses_nothing() {
	if cinder_engine::installed_minilm().is_none() {
		return;
	}
	let dir = test_dir("fault-kill");
	let mut nodes = start_network(dir.path(), "local", |_| Vec::new());
	let (alice, others) = nodes.split_at_mut(1);
	let (alice, charlie) = (&alice[0], &mut others[1]);
	alice.wait_until("finalized #2", 3 * MINUTE, |n| n.finalized_number() >= 2);
	let start = alice.finalized_number();
	let at = alice.block_hash(start).unwrap();
	let (sum, issuance_before) = balances_and_issuance(alice, at);
	assert_eq!(sum, issuance_before);
	let dapp_before = alice.total_balance(DAPP, at);

	let t0 = Instant::now();
	let stream = RequestStream::start(alice, Duration::from_secs(2));
	alice.wait_until("ten requests sent", 2 * MINUTE, |_| stream.sent() >= 10);

	// Charlie is killed: no shutdown, no goodbye to its peers.
	let (killed_at, finalized_at_kill) = (alice.best_number(), alice.finalized_number());
	let t_kill = Instant::now();
	charlie.kill();
	alice.wait_until("finality to move", 3 * MINUTE, |n| n.finalized_number() > finalized_at_kill);
	let finality_moved = t_kill.elapsed();
	alice.wait_until("finality past the kill", 3 * MINUTE, |n| {
		n.finalized_number() >= killed_at + 5
	});
	let finality_after = t_kill.elapsed();
	// Charlie stays down long enough for its assignments to time out
	// (20 blocks) and be reassigned.
	std::thread::sleep(Duration::from_secs(90));
	let best = alice.best_number();
	let finalized = alice.finalized_number();
	assert!(finalized + 10 >= best, "finality keeps up: #{finalized} of #{best}");
	for n in [&others[0], &others[2]] {
		assert!(n.best_number() + 3 >= best, "{} follows", n.name);
	}

	let (sent, settled, refunded, reassigned) =
		finish_and_audit(alice, stream, start, dapp_before, issuance_before);
	assert!(reassigned >= 1, "Charlie's assignments were reassigned");
	assert!(settled >= 1);
	eprintln!(
		"fault 1 (kill -9 Charlie): killed at #{killed_at} ({:.0} s into the stream, finalized \
		 #{finalized_at_kill}); finality moved {:.0} s later and passed #{} after {:.0} s; by \
		 #{best} (#{finalized} finalized) {sent} requests sent, {settled} settled, {refunded} \
		 refunded, 0 lost, {reassigned} deadline(s) missed and reassigned",
		(t_kill - t0).as_secs_f64(),
		finality_moved.as_secs_f64(),
		killed_at + 5,
		finality_after.as_secs_f64(),
	);
}

#[test]
fn a_killed_validator_restarts_from_its_database_and_serves_its_open_assignments() {
	if cinder_engine::installed_minilm().is_none() {
		return;
	}
	let dir = test_dir("fault-restart");
	let mut nodes = start_network(dir.path(), "local", |_| Vec::new());
	nodes[0].wait_until("finalized #2", 3 * MINUTE, |n| n.finalized_number() >= 2);
	let start = nodes[0].finalized_number();
	let at = nodes[0].block_hash(start).unwrap();
	let (_, issuance_before) = balances_and_issuance(&nodes[0], at);
	let dapp_before = nodes[0].total_balance(DAPP, at);

	let stream = RequestStream::start(&nodes[0], Duration::from_millis(1500));
	nodes[0].wait_until("three requests sent", MINUTE, |_| stream.sent() >= 3);

	// Dave is killed, and requests made after that and assigned to him wait
	// for his worker (until their deadline, 20 blocks).
	let dave_best = nodes[3].best_number();
	let made_after = next_request_id(&nodes[0]);
	let t_kill = Instant::now();
	nodes[3].kill();
	let dave = Dave.to_account_id().to_string();
	let assigned_to_dave = |n: &Node| -> Vec<u64> {
		(made_after..next_request_id(n))
			.filter(|id| match request_state(n, *id) {
				Some((state, view)) => state == "assigned" && view["state"]["worker"] == dave,
				None => false,
			})
			.collect()
	};
	nodes[0].wait_until("a request assigned to Dave while he is down", 3 * MINUTE, |n| {
		!assigned_to_dave(n).is_empty()
	});
	let down_for = t_kill.elapsed();

	// Dave comes back on his database: no new genesis, his chain as it was.
	let t_restart = Instant::now();
	nodes[3].restart();
	let resumed = nodes[3].best_number();
	assert!(resumed >= dave_best, "Dave resumed at #{resumed}, had #{dave_best} when killed");
	assert_eq!(nodes[3].log_lines("Initializing Genesis block").lines().count(), 1);
	let waiting = assigned_to_dave(&nodes[0]);
	let alice_best = nodes[0].best_number();
	nodes[3].wait_until("Dave caught up", 2 * MINUTE, |n| n.best_number() >= alice_best);
	let caught_up = t_restart.elapsed();
	nodes[3].wait_until("Dave's finality caught up", 2 * MINUTE, |n| {
		n.finalized_number() >= alice_best
	});

	// His restarted worker serves what was assigned to him while he was down.
	for id in &waiting {
		nodes[0].wait_until(
			&format!("request {id} settled"),
			3 * MINUTE,
			|n| matches!(request_state(n, *id), Some((s, _)) if s == "settled"),
		);
		let (_, view) = request_state(&nodes[0], *id).unwrap();
		assert_eq!(view["state"]["worker"], dave, "request {id} was served by Dave");
		let served = nodes[3].log_lines(&format!("📤 request {id}: result submitted"));
		assert!(!served.is_empty(), "Dave's restarted worker served request {id}");
	}
	let served = t_restart.elapsed();

	let (sent, settled, refunded, reassigned) =
		finish_and_audit(&nodes[0], stream, start, dapp_before, issuance_before);
	eprintln!(
		"fault 2 (kill -9 Dave, restart): killed at #{dave_best}; first request assigned to \
		 him while down after {:.0} s, {} open at the restart; restarted on his database at \
		 #{resumed}, caught up with #{alice_best} {:.0} s later, all served and settled {:.0} s \
		 after the restart; {sent} sent, {settled} settled, {refunded} refunded, 0 lost, \
		 {reassigned} reassigned",
		down_for.as_secs_f64(),
		waiting.len(),
		caught_up.as_secs_f64(),
		served.as_secs_f64(),
	);
}
