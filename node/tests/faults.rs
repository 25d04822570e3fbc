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
//!    assignments it got while it was down;
//! 3. a validator whose worker cannot serve (its models directory gone):
//!    its assignments time out and are reassigned and settle, it is
//!    demoted (no new assignment while others can serve), nobody loses
//!    funds;
//! 4. a runtime upgrade (`sudo(system.set_code)` with a bumped
//!    `spec_version`) with requests open: every node runs the new version,
//!    every request settles or is refunded, the workers serve on.
//!
//! Each ends with the books audited: every request finished, balances and
//! holds add up to an issuance that did not move, the dapp paid exactly
//! the settled prices and its fees.
//!
//! Each prints its timeline (`cargo test --test faults -- --nocapture`).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::{Duration, Instant};

use cinder_runtime::{
	genesis_config_presets::minilm, AccountId, Balance, Runtime, RuntimeCall, RuntimeEvent,
};
use common::{
	network::{
		active_era, balances_and_issuance, events_between, missing_from_chain, missing_report,
		next_request_id, request_state, start_network, wait_all_finished, RequestStream, DAPP,
	},
	test_dir,
	upgrade::{bumped_runtime, spec_version},
	Node,
};
use serde_json::json;
use sp_keyring::Sr25519Keyring::{Alice, Dave};

const MINUTE: Duration = Duration::from_secs(60);

/// A fault test's network: the four validators (with `extra(name)` more
/// flags each), finalizing, and the books at a finalized block before any
/// request.
struct Run {
	_dir: tempfile::TempDir,
	nodes: Vec<Node>,
	/// The finalized block the books were read at.
	start: u32,
	issuance: Balance,
	dapp: Balance,
}

impl Run {
	fn start(name: &str, extra: impl Fn(&str) -> Vec<String>) -> Self {
		let dir = test_dir(name);
		let nodes = start_network(dir.path(), "local", extra);
		nodes[0].wait_until("finalized #2", 3 * MINUTE, |n| n.finalized_number() >= 2);
		let start = nodes[0].finalized_number();
		let at = nodes[0].block_hash(start).unwrap();
		let (sum, issuance) = balances_and_issuance(&nodes[0], at);
		assert_eq!(sum, issuance, "balances and holds add up to total issuance at genesis");
		let dapp = nodes[0].total_balance(DAPP, at);
		Self { _dir: dir, nodes, start, issuance, dapp }
	}

	/// Stops the stream, waits for everything it sent to land and finish,
	/// and checks the books at the finalized head: balances and holds add
	/// up to issuance, issuance is what it was at the start (same era:
	/// nothing minted), the dapp holds nothing and paid exactly the settled
	/// prices and its fees. Returns the counts and the run's events.
	fn finish_and_audit(&self, stream: RequestStream) -> Finished {
		let alice = &self.nodes[0];
		let first = stream.first;
		let xts = stream.stop();
		let sent = xts.len() as u64;
		let deadline = Instant::now() + 2 * MINUTE;
		let mut rebroadcast_at = Instant::now() + MINUTE / 2;
		while next_request_id(alice, None) < first + sent {
			assert!(
				Instant::now() < deadline,
				"not every submitted request reached the chain: {}\n{}",
				missing_report(alice, &xts, self.start),
				alice.log_tail()
			);
			// As a dapp does, send again what has not been included half a
			// minute after the stream stopped: a pool may drop a transaction
			// when the chain switches forks. The signed bytes are the same,
			// so nothing can be paid twice. Said in the output, not hidden.
			if Instant::now() > rebroadcast_at {
				eprintln!("rebroadcasting: {}", missing_report(alice, &xts, self.start));
				for i in missing_from_chain(alice, &xts, self.start) {
					let _ = alice.try_rpc("author_submitExtrinsic", json!([xts[i]]));
				}
				rebroadcast_at = Instant::now() + MINUTE / 2;
			}
			std::thread::sleep(Duration::from_millis(500));
		}
		assert_eq!(next_request_id(alice, None), first + sent, "only the stream makes requests");
		let (settled, refunded) = wait_all_finished(alice, first..first + sent, 6 * MINUTE);

		// The books, at a finalized block after the last request finished.
		let best = alice.best_number();
		alice
			.wait_until("the last request finalized", 2 * MINUTE, |n| n.finalized_number() >= best);
		let at = alice.block_hash(best).unwrap();
		let (sum, issuance) = balances_and_issuance(alice, at);
		assert_eq!(sum, issuance, "balances and holds add up to total issuance");
		assert_eq!(active_era(alice, Some(at)), 0, "the run stays in era 0");
		assert_eq!(issuance, self.issuance, "no era ended: issuance did not move");

		let events = events_between(alice, self.start, best);
		let dapp = DAPP.to_account_id();
		let fees: Balance = events
			.iter()
			.filter_map(|(_, e)| match e {
				RuntimeEvent::TransactionPayment(
					pallet_transaction_payment::Event::TransactionFeePaid {
						who, actual_fee, ..
					},
				) if *who == dapp => Some(*actual_fee),
				_ => None,
			})
			.sum();
		assert_eq!(alice.held_balance(DAPP, at), 0, "no escrow left held");
		let dapp_after = alice.total_balance(DAPP, at);
		assert_eq!(
			self.dapp - dapp_after,
			Balance::from(settled) * minilm::PRICE + fees,
			"the dapp paid the settled prices and its fees, nothing more"
		);
		let reassigned = events
			.iter()
			.filter(|(_, e)| {
				matches!(e, RuntimeEvent::Inference(pallet_inference::Event::DeadlineMissed { .. }))
			})
			.count();
		Finished { sent, settled, refunded, reassigned, events }
	}
}

/// How a fault test's stream ended.
struct Finished {
	sent: u64,
	settled: u64,
	refunded: u64,
	/// Deadlines missed (each reassigns its request, or refunds it after
	/// the last attempt).
	reassigned: usize,
	/// The run's events, by block number.
	events: Vec<(u32, RuntimeEvent)>,
}

#[test]
fn a_killed_validator_stops_nothing_and_loses_nothing() {
	if cinder_engine::installed_minilm().is_none() {
		return;
	}
	let mut run = Run::start("fault-kill", |_| Vec::new());
	let (alice, others) = run.nodes.split_at_mut(1);
	let (alice, charlie) = (&alice[0], &mut others[1]);

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

	let Finished { sent, settled, refunded, reassigned, .. } = run.finish_and_audit(stream);
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
	let mut run = Run::start("fault-restart", |_| Vec::new());
	let nodes = &mut run.nodes;
	let stream = RequestStream::start(&nodes[0], Duration::from_millis(1500));
	nodes[0].wait_until("three requests sent", MINUTE, |_| stream.sent() >= 3);

	// Dave is killed, and requests assigned to him after that wait for his
	// worker (until their deadline, `ResultTimeout` blocks after assignment).
	// Only assignments made in blocks Dave cannot have imported before he
	// died count: one he imported just before the kill may have been served
	// then, its result still on its way to a block, and the log line saying
	// so lost with his unflushed log buffer.
	let dave_best = nodes[3].best_number();
	let made_after = next_request_id(&nodes[0], None);
	let t_kill = Instant::now();
	nodes[3].kill();
	let dave = Dave.to_account_id().to_string();
	let timeout = u64::from(<Runtime as pallet_inference::Config>::ResultTimeout::get());
	let assigned_to_dave = |n: &Node| -> Vec<u64> {
		(made_after..next_request_id(n, None))
			.filter(|id| match request_state(n, *id) {
				Some((state, view)) => {
					state == "assigned"
						&& view["state"]["worker"] == dave
						&& view["state"]["deadline"]
							.as_u64()
							.is_some_and(|d| d.saturating_sub(timeout) > u64::from(dave_best) + 1)
				}
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

	let Finished { sent, settled, refunded, reassigned, .. } = run.finish_and_audit(stream);
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

/// `who`'s entry of `inference_validators`: (served, missed) this era.
fn served_and_missed(node: &Node, who: &str) -> (u64, u64) {
	let list = node.rpc("inference_validators", json!([]));
	let me = list.as_array().unwrap().iter().find(|v| v["stash"] == who).unwrap();
	(me["current"]["served"].as_u64().unwrap(), me["current"]["missed"].as_u64().unwrap())
}

#[test]
fn a_worker_without_its_models_is_demoted_and_its_requests_settle_elsewhere() {
	if cinder_engine::installed_minilm().is_none() {
		return;
	}
	// Dave's models directory is not there: his worker is registered for
	// MiniLM on chain but has nothing to run it with.
	let run = Run::start("fault-no-models", |name| match name {
		"dave" => vec!["--models-dir".into(), "/nonexistent/cinder/models".into()],
		_ => Vec::new(),
	});
	let (alice, dave_node) = (&run.nodes[0], &run.nodes[3]);
	assert!(
		!dave_node.log_lines("unreadable").is_empty(),
		"Dave's node says why it serves nothing"
	);
	let dave = Dave.to_account_id();

	let t0 = Instant::now();
	let stream = RequestStream::start(alice, Duration::from_secs(2));
	alice.wait_until("Dave misses a deadline", 5 * MINUTE, |n| {
		served_and_missed(n, &dave.to_string()).1 >= 1
	});
	let first_miss = t0.elapsed();
	// The stream goes on for a minute with Dave demoted.
	std::thread::sleep(MINUTE);
	let Finished { sent, settled, refunded, reassigned, events } = run.finish_and_audit(stream);

	let inference = |e: &RuntimeEvent| match e {
		RuntimeEvent::Inference(e) => Some(e.clone()),
		_ => None,
	};
	let of_dave = |worker: &AccountId| *worker == dave;
	let mut missed_at = None;
	let (mut to_dave, mut missed, mut after_demotion) = (0, 0, 0);
	for (block, e) in &events {
		match inference(e) {
			Some(pallet_inference::Event::Assigned { worker, .. }) if of_dave(&worker) => {
				to_dave += 1;
				if missed_at.is_some() {
					after_demotion += 1;
				}
			}
			Some(pallet_inference::Event::DeadlineMissed { worker, .. }) if of_dave(&worker) => {
				missed += 1;
				missed_at.get_or_insert(*block);
			}
			Some(
				pallet_inference::Event::ResultSubmitted { worker, .. }
				| pallet_inference::Event::Settled { worker, .. },
			) if of_dave(&worker) => panic!("Dave has no model and cannot have answered"),
			_ => {}
		}
	}
	let missed_at = missed_at.unwrap();
	assert_eq!(missed, to_dave, "every request assigned to Dave timed out");
	assert!(missed >= 1);
	assert_eq!(after_demotion, 0, "demoted, Dave got nothing while others could serve");
	assert_eq!(served_and_missed(alice, &dave.to_string()), (0, missed as u64));
	assert!(refunded == 0, "each of Dave's requests was served by another worker");
	let complaints = dave_node.log_lines("but this node does not serve it").lines().count();
	assert!(complaints >= 1, "Dave's worker says what is wrong");
	eprintln!(
		"fault 3 (Dave without models): first deadline missed {:.0} s into the stream (#{missed_at}), \
		 Dave demoted from then on (0 of the later assignments went to him); {to_dave} assigned \
		 to him, all missed and reassigned ({reassigned} deadlines missed in all); {sent} sent, \
		 {settled} settled, {refunded} refunded, 0 lost",
		first_miss.as_secs_f64(),
	);
}

#[test]
fn a_runtime_upgrade_with_requests_open_loses_nothing() {
	if cinder_engine::installed_minilm().is_none() {
		return;
	}
	let run = Run::start("fault-upgrade", |_| Vec::new());
	let alice = &run.nodes[0];
	let (code, new_version) = bumped_runtime();
	let old_version = spec_version(alice);
	assert_eq!(u64::from(new_version), old_version + 1);

	let stream = RequestStream::start(alice, Duration::from_millis(1500));
	alice.wait_until("ten requests sent", 2 * MINUTE, |_| stream.sent() >= 10);

	// Alice holds the sudo key of `local`.
	let t_upgrade = Instant::now();
	let from = alice.best_number();
	let xt = alice.submit(
		Alice,
		RuntimeCall::Sudo(pallet_sudo::Call::sudo {
			call: Box::new(RuntimeCall::System(frame_system::Call::set_code { code })),
		}),
	);
	let included = alice.wait_finalized_inclusion(&xt, from, 3 * MINUTE);
	let upgraded_at = alice.header_number(Some(included));
	let finalized_in = t_upgrade.elapsed();
	for n in &run.nodes {
		n.wait_until("the new runtime", MINUTE, |n| spec_version(n) == old_version + 1);
	}
	// What was open when the code changed.
	let first_after = next_request_id(alice, Some(included));
	let open_at_upgrade = (stream.first..first_after)
		.filter(|id| {
			match alice.try_rpc("inference_request", json!([id, format!("{included:?}")])) {
				Ok(view) => {
					!matches!(view["state"]["state"].as_str(), Some("settled" | "refunded"))
				}
				Err(_) => false,
			}
		})
		.count();
	assert!(open_at_upgrade >= 1, "requests were open across the upgrade");
	// The stream goes on under the new runtime for a minute.
	std::thread::sleep(MINUTE);
	let Finished { sent, settled, refunded, reassigned, events } = run.finish_and_audit(stream);

	let upgraded_event = events.iter().any(|(b, e)| {
		*b == upgraded_at
			&& matches!(e, RuntimeEvent::System(frame_system::Event::CodeUpdated { .. }))
	});
	assert!(upgraded_event, "the code changed in #{upgraded_at}");
	let mut served_after: Vec<AccountId> = events
		.iter()
		.filter(|(b, _)| *b > upgraded_at)
		.filter_map(|(_, e)| match e {
			RuntimeEvent::Inference(pallet_inference::Event::Settled {
				request, worker, ..
			}) if *request >= first_after => Some(worker.clone()),
			_ => None,
		})
		.collect();
	let settled_after = served_after.len();
	served_after.sort();
	served_after.dedup();
	assert!(settled_after >= 1, "requests made under the new runtime settled");
	assert!(served_after.len() >= 2, "workers serve on: {served_after:?}");
	eprintln!(
		"fault 4 (runtime upgrade {old_version} → {new_version}): set_code finalized in \
		 #{upgraded_at} {:.0} s after submission, {open_at_upgrade} request(s) open across it; \
		 after it, {settled_after} new requests settled by {} workers; {sent} sent, {settled} \
		 settled, {refunded} refunded, 0 lost, {reassigned} reassigned",
		finalized_in.as_secs_f64(),
		served_after.len(),
	);
}
