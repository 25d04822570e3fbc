//! End to end: a `--dev --tmp` node produces and finalizes blocks, takes a
//! signed transfer over JSON-RPC, finalizes it with the balances changed, and
//! stops cleanly on SIGINT.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::Duration;

use cinder_runtime::{currency::UNITS, RuntimeCall};
use common::{test_dir, Node};
use serde_json::json;
use sp_keyring::Sr25519Keyring::{Alice, Bob};

#[test]
fn dev_chain_finalizes_a_signed_transfer_and_stops_cleanly() {
	let dir = test_dir("dev");
	let mut node = Node::start("dev", dir.path(), &["--dev", "--tmp"]);

	// Blocks are produced and finalized.
	node.wait_until("finalized block #2", Duration::from_secs(120), |n| n.finalized_number() >= 2);
	let chain = node.rpc("system_chain", json!([]));
	assert_eq!(chain, json!("Cinder Development"));

	let before = node.block_hash(node.finalized_number()).unwrap();
	let alice_before = node.total_balance(Alice, before);
	let bob_before = node.total_balance(Bob, before);

	let amount = 42 * UNITS;
	let from = node.best_number();
	let xt = node.submit(
		Alice,
		RuntimeCall::Balances(pallet_balances::Call::transfer_keep_alive {
			dest: Bob.to_account_id().into(),
			value: amount,
		}),
	);
	let included = node.wait_finalized_inclusion(&xt, from, Duration::from_secs(120));

	assert_eq!(node.total_balance(Bob, included), bob_before + amount);
	let alice_after = node.total_balance(Alice, included);
	assert!(alice_after < alice_before - amount, "Alice also paid a fee");
	assert!(alice_before - amount - alice_after < UNITS, "the fee is below one token");
	assert_eq!(node.nonce(Alice), 1);

	// A transaction with a bad signature is refused at the door.
	let bad = {
		let genesis = node.block_hash(0).unwrap();
		let call = RuntimeCall::Balances(pallet_balances::Call::transfer_keep_alive {
			dest: Bob.to_account_id().into(),
			value: UNITS,
		});
		let mut xt = cinder_runtime::extrinsic::sign(&Bob.pair(), 0, genesis, call);
		if let sp_runtime::generic::Preamble::Signed(ref mut who, _, _) = xt.preamble {
			*who = Alice.to_account_id().into();
		}
		format!("0x{}", hex::encode(codec::Encode::encode(&xt)))
	};
	assert_eq!(node.rpc_error_code("author_submitExtrinsic", json!([bad])), 1010);

	let status = node.stop();
	assert!(status.success(), "node exited with {status}:\n{}", node.log_tail());
}
