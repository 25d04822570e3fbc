//! End to end: Alice, Bob and Charlie run the `local` chain as three
//! processes on loopback, produce blocks and finalize them together.
//!
//! GRANDPA finalizes with votes from more than two thirds of the authority
//! set; with three equal voters that is all three. So when Charlie stops,
//! Alice and Bob keep producing blocks (BABE's secondary slots fill
//! Charlie's) while finality waits, and when Charlie comes back finality
//! catches up. Tolerating one stopped validator with finality running needs
//! four validators (n ≥ 3f + 1).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::Duration;

use common::{test_dir, Node};

const MINUTE: Duration = Duration::from_secs(60);

#[test]
fn three_validators_produce_and_finalize_and_survive_a_restart() {
	let dir = test_dir("local");
	let base = |who: &str| dir.path().join(who).to_string_lossy().into_owned();

	let alice_base = base("alice");
	// Validators with a database of their own need a network key of their own.
	let key = |n: u8| format!("{n:064x}");
	let (k1, k2, k3) = (key(1), key(2), key(3));
	let alice = Node::start(
		"alice",
		dir.path(),
		&["--chain", "local", "--alice", "--base-path", &alice_base, "--node-key", &k1],
	);
	let boot = alice.multiaddr();
	let bob_base = base("bob");
	let bob = Node::start(
		"bob",
		dir.path(),
		&[
			"--chain",
			"local",
			"--bob",
			"--base-path",
			&bob_base,
			"--node-key",
			&k2,
			"--bootnodes",
			&boot,
		],
	);
	let charlie_base = base("charlie");
	let mut charlie = Node::start(
		"charlie",
		dir.path(),
		&[
			"--chain",
			"local",
			"--charlie",
			"--base-path",
			&charlie_base,
			"--node-key",
			&k3,
			"--bootnodes",
			&boot,
		],
	);

	for node in [&alice, &bob, &charlie] {
		node.wait_until("two peers", MINUTE, |n| n.peers() >= 2);
	}
	for node in [&alice, &bob, &charlie] {
		node.wait_until("finalized block #3", 3 * MINUTE, |n| n.finalized_number() >= 3);
	}
	// All three agree on the finalized chain.
	let f = alice.finalized_number().min(bob.finalized_number()).min(charlie.finalized_number());
	let hash = alice.block_hash(f);
	assert_eq!(bob.block_hash(f), hash);
	assert_eq!(charlie.block_hash(f), hash);

	// Charlie stops: Alice and Bob keep producing blocks.
	let status = charlie.stop();
	assert!(status.success(), "charlie exited with {status}");
	let best = alice.best_number();
	alice.wait_until("5 more blocks without Charlie", 2 * MINUTE, |n| n.best_number() >= best + 5);
	bob.wait_until("Bob follows Alice", MINUTE, |n| n.best_number() >= best + 5);

	// Charlie comes back with its database and keys, and finality catches up
	// past every block produced while it was away.
	charlie.restart();
	let target = alice.best_number();
	for node in [&alice, &bob, &charlie] {
		node.wait_until("finality catches up", 3 * MINUTE, |n| n.finalized_number() >= target);
	}
}
