//! End to end on `--dev`: a dapp's request over JSON-RPC is assigned to
//! Alice's worker, executed by the node's deterministic engine, posted,
//! and settled; the result equals what the engine computes locally, bit for
//! bit; the caller paid exactly the price (plus its transaction fee) and the
//! worker got its share; the settlement subscription fired; bad input gets
//! the documented error codes and changes nothing; and a request left open
//! while the worker was down is served after a restart.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::Duration;

use cinder_runtime::{genesis_config_presets::minilm, RuntimeCall};
use common::{test_dir, Node};
use serde_json::{json, Value};
use sp_keyring::Sr25519Keyring::{Alice, Bob, Charlie};

fn request_call(input: Vec<u32>, max_fee: u128) -> RuntimeCall {
	RuntimeCall::Inference(pallet_inference::Call::request { model: 0, input, max_fee })
}

fn state(view: &Value) -> String {
	view["state"]["state"].as_str().unwrap_or_default().to_string()
}

/// Waits until request `id` reaches `want` on the best chain.
fn wait_state(node: &Node, id: u64, want: &str, timeout: Duration) -> Value {
	let mut last = Value::Null;
	node.wait_until(&format!("request {id} {want}"), timeout, |n| {
		last = n.try_rpc("inference_request", json!([id])).unwrap_or(Value::Null);
		state(&last) == want
	});
	last
}

#[test]
fn a_request_goes_through_the_chain_and_the_worker() {
	let Some(minilm) = cinder_engine::installed_minilm() else { return };
	let models = cinder_engine::models_dir();
	let dir = test_dir("inference");
	let base = dir.path().join("chain");
	let models_arg = models.display().to_string();
	let base_arg = base.display().to_string();
	let mut node = Node::start(
		"dev",
		dir.path(),
		&["--dev", "--base-path", &base_arg, "--models-dir", &models_arg],
	);
	node.wait_until("block #1", Duration::from_secs(120), |n| n.best_number() >= 1);

	// The registry over RPC.
	let listed = node.rpc("inference_models", json!([]));
	assert_eq!(listed[0]["id"], json!(0));
	assert_eq!(listed[0]["name"], json!(minilm::NAME));
	// Amounts are decimal strings, exact in JavaScript.
	assert_eq!(listed[0]["price"], json!(minilm::PRICE.to_string()));
	assert_eq!(listed[0]["outputBytes"], json!(384 * 4));
	assert_eq!(listed[0]["maxInputTokens"], json!(512));
	assert_eq!(listed[0]["vocabSize"], json!(30522));

	// Tokenize and detokenize with the node's copy of the tokenizer.
	let text = "Validators run the model and post the result.";
	let ids: Vec<u32> =
		serde_json::from_value(node.rpc("inference_tokenize", json!([0, text]))).unwrap();
	assert_eq!(ids.first(), Some(&101), "[CLS] first");
	assert_eq!(ids.last(), Some(&102), "[SEP] last");
	let back = node.rpc("inference_detokenize", json!([0, ids.clone()]));
	assert_eq!(back, json!("validators run the model and post the result."));

	let quote = node.rpc("inference_estimateFee", json!([0, ids.clone()]));
	let cut = minilm::PRICE / 10;
	assert_eq!(
		quote,
		json!({
			"price": minilm::PRICE.to_string(),
			"workerShare": (minilm::PRICE - cut).to_string(),
			"protocolCut": cut.to_string()
		})
	);

	// Bad input gets documented codes.
	assert_eq!(node.rpc_error_code("inference_estimateFee", json!([7, ids.clone()])), 8001);
	assert_eq!(node.rpc_error_code("inference_estimateFee", json!([0, vec![101u32; 600]])), 8005);
	assert_eq!(node.rpc_error_code("inference_estimateFee", json!([0, [40000]])), 8006);
	assert_eq!(node.rpc_error_code("inference_estimateFee", json!([0, []])), 8004);
	assert_eq!(node.rpc_error_code("inference_tokenize", json!([7, "hi"])), 8001);
	// Nothing to bill, more than the model takes (never cut), an id
	// outside the vocabulary: each refused with its code.
	assert_eq!(node.rpc_error_code("inference_tokenize", json!([0, ""])), 8004);
	assert_eq!(node.rpc_error_code("inference_tokenize", json!([0, " \n\t "])), 8004);
	let long = "word ".repeat(600);
	assert_eq!(node.rpc_error_code("inference_tokenize", json!([0, long])), 8005);
	assert_eq!(node.rpc_error_code("inference_detokenize", json!([0, [101, 999_999]])), 8006);
	assert_eq!(node.rpc_error_code("inference_detokenize", json!([0, [30_522]])), 8006);
	let ids510: Vec<u32> =
		serde_json::from_value(node.rpc("inference_tokenize", json!([0, "word ".repeat(510)])))
			.unwrap();
	assert_eq!(ids510.len(), 512, "the longest text the model takes");
	assert_eq!(node.rpc_error_code("inference_request", json!([999])), 8020);
	assert_eq!(node.rpc_error_code("inference_estimateFee", json!(["zero", ids.clone()])), -32602);
	assert_eq!(node.rpc_error_code("inference_tokenize", json!([0])), -32602);

	// With an account, the quote says whether that account's request would
	// be refused: a fee below the price, more than it can hold.
	let charlie = Charlie.to_account_id().to_string();
	let quote_for = |fee: Value| json!([0, ids.clone(), null, charlie, fee]);
	assert_eq!(node.rpc("inference_estimateFee", quote_for(Value::Null)), quote);
	assert_eq!(
		node.rpc("inference_estimateFee", quote_for(json!((2 * minilm::PRICE).to_string()))),
		quote
	);
	assert_eq!(node.rpc_error_code("inference_estimateFee", quote_for(json!("1"))), 8008);
	let all_there_is = json!(u128::MAX.to_string());
	assert_eq!(node.rpc_error_code("inference_estimateFee", quote_for(all_there_is)), 8012);

	// Requests the pallet would refuse are refused by the transaction pool:
	// never included, no fee, nothing held, no nonce spent.
	let next: u64 = node.rpc("inference_nextRequestId", json!([])).as_u64().unwrap();
	let before = node.block_hash(node.best_number()).unwrap();
	let charlie0 = node.total_balance(Charlie, before);
	let nonce0 = node.rpc("system_accountNextIndex", json!([charlie])).as_u64();
	for (model, max_fee, refusal) in [
		(9, minilm::PRICE, pallet_inference::Refusal::UnknownModel),
		(0, minilm::PRICE - 1, pallet_inference::Refusal::FeeTooLow),
	] {
		let call = RuntimeCall::Inference(pallet_inference::Call::request {
			model,
			input: ids.clone(),
			max_fee,
		});
		node.assert_refused_by_pool(Charlie, call, refusal);
	}
	let later = node.best_number() + 2;
	node.wait_until("two more blocks", Duration::from_secs(60), |n| n.best_number() >= later);
	let after = node.block_hash(node.best_number()).unwrap();
	assert_eq!(node.total_balance(Charlie, after), charlie0, "refused for free");
	assert_eq!(node.held_balance(Charlie, after), 0);
	assert_eq!(node.rpc("system_accountNextIndex", json!([charlie])).as_u64(), nonce0);
	assert_eq!(node.rpc("inference_nextRequestId", json!([])).as_u64(), Some(next));

	// The real request, watched from a subscription.
	let id = next;
	let mut sub = node.subscribe("inference_subscribeRequest", json!([id]));
	let genesis_treasury = node.total_balance_of(
		&cinder_runtime::configs::TreasuryAccount::get(),
		node.block_hash(node.best_number()).unwrap(),
	);
	let before = node.block_hash(node.best_number()).unwrap();
	let (bob0, alice0) = (node.total_balance(Bob, before), node.total_balance(Alice, before));
	let pot0 = node.total_balance_of(&cinder_runtime::configs::StakingPot::get(), before);
	let treasury0 = genesis_treasury;
	let max_fee = 2 * minilm::PRICE;
	node.submit(Bob, request_call(ids.clone(), max_fee));

	let mut seen = Vec::new();
	while let Some(n) = sub.notification(Duration::from_secs(120)) {
		seen.push(state(&n));
		if state(&n) == "settled" || state(&n) == "refunded" {
			break;
		}
	}
	// Watched before it was made: said so at once, then each change.
	assert_eq!(seen.first().map(String::as_str), Some("unknown"), "notifications: {seen:?}");
	assert_eq!(seen.last().map(String::as_str), Some("settled"), "notifications: {seen:?}");
	assert!(seen.iter().any(|s| s == "answered"), "notifications: {seen:?}");

	let view = node.rpc("inference_request", json!([id]));
	assert_eq!(view["state"]["worker"], json!(Alice.to_account_id().to_string()));
	let output = hex::decode(view["outputHex"].as_str().unwrap().trim_start_matches("0x")).unwrap();

	// Bit for bit what the engine computes here.
	let model = cinder_engine::Model::load(&minilm).unwrap();
	let local = model.embed(&ids, 1).unwrap();
	let expected: Vec<u8> = local.vector.iter().flat_map(|v| v.to_le_bytes()).collect();
	assert_eq!(output, expected);

	// Exactly the price for Bob (plus his transaction fee, which went to the
	// treasury with the cut); exactly the worker's share into the staking
	// pot, as Alice's income for the era's payout.
	let settled_at: u32 = view["state"]["at"].as_u64().unwrap() as u32;
	let after = node.block_hash(settled_at).unwrap();
	let treasury1 = node.total_balance_of(&cinder_runtime::configs::TreasuryAccount::get(), after);
	let bob_fee = treasury1 - treasury0 - cut;
	assert_eq!(node.total_balance(Bob, after), bob0 - minilm::PRICE - bob_fee);
	assert_eq!(node.total_balance(Alice, after), alice0);
	let pot = cinder_runtime::configs::StakingPot::get();
	assert_eq!(node.total_balance_of(&pot, after), pot0 + minilm::PRICE - cut);
	assert!(bob_fee > 0 && bob_fee < minilm::PRICE * 100, "a plausible fee: {bob_fee}");
	assert_eq!(node.held_balance(Bob, after), 0);

	// Worker down: the request stays assigned; back up: it is served.
	node.stop();
	node.set_args(&["--dev", "--base-path", &base_arg, "--models-dir", &models_arg, "--no-worker"]);
	node.restart();
	let id = node.rpc("inference_nextRequestId", json!([])).as_u64().unwrap();
	node.submit(Bob, request_call(ids.clone(), minilm::PRICE));
	wait_state(&node, id, "assigned", Duration::from_secs(60));
	node.stop();
	node.set_args(&["--dev", "--base-path", &base_arg, "--models-dir", &models_arg]);
	node.restart();
	let done = wait_state(&node, id, "settled", Duration::from_secs(120));
	assert_eq!(done["state"]["worker"], json!(Alice.to_account_id().to_string()));
	assert_eq!(node.stop().code(), Some(0));
}
