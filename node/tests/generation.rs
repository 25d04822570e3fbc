//! End to end on `--dev` with SmolLM2-135M-Instruct: a chat request over
//! JSON-RPC is served by Alice's worker with the canonical decoder, settles
//! with the reply this machine's engine generates (the same tokens, so the
//! same text) and costs exactly the price per request, per prompt token and
//! per generated token; an over-long prompt and a `max_new_tokens` past the
//! chain's limit are refused with their codes, before the pool, with
//! nothing held.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::Duration;

use cinder_runtime::{genesis_config_presets::smollm2, RuntimeCall};
use common::{test_dir, Node};
use pallet_inference_runtime_api::{Generation, Sampling, Task};
use serde_json::{json, Value};
use sp_keyring::Sr25519Keyring::{Alice, Bob, Charlie};

const MODEL: u32 = 1;
const MAX_NEW: u32 = 12;

fn generate_call(prompt: Vec<u32>, max_new_tokens: u32, max_fee: u128) -> RuntimeCall {
	RuntimeCall::Inference(pallet_inference::Call::generate {
		model: MODEL,
		prompt,
		max_new_tokens,
		sampling: Sampling::Greedy,
		seed: None,
		max_fee,
	})
}

fn amount(v: &Value) -> u128 {
	v.as_str().and_then(|s| s.parse().ok()).unwrap_or_else(|| panic!("an amount: {v}"))
}

#[test]
fn a_chat_request_settles_with_its_reply_and_pays_per_token() {
	let Some(path) = cinder_engine::llama::installed_smollm2() else { return };
	let models = cinder_engine::models_dir();
	let dir = test_dir("generation");
	let base = dir.path().join("chain");
	let (models_arg, base_arg) = (models.display().to_string(), base.display().to_string());
	let node = Node::start(
		"dev",
		dir.path(),
		&["--dev", "--base-path", &base_arg, "--models-dir", &models_arg],
	);
	node.wait_until("block #1", Duration::from_secs(120), |n| n.best_number() >= 1);

	let listed = node.rpc("inference_models", json!([]));
	assert_eq!(listed[1]["name"], json!(smollm2::NAME));
	assert_eq!(listed[1]["kind"], json!("Generation"));
	assert_eq!(
		listed[1]["generatedTokenPrice"],
		json!(smollm2::TOKEN_PRICES.generated.to_string())
	);

	let prompt = cinder_engine::llama::chat_prompt(None, "What is the capital of France?");
	let ids: Vec<u32> =
		serde_json::from_value(node.rpc("inference_tokenize", json!([MODEL, prompt]))).unwrap();
	let most = smollm2::PRICE
		+ smollm2::TOKEN_PRICES.prompt * ids.len() as u128
		+ smollm2::TOKEN_PRICES.generated * u128::from(MAX_NEW);
	let quote = node.rpc("inference_estimateFee", json!([MODEL, ids, null, null, null, MAX_NEW]));
	assert_eq!(amount(&quote["price"]), most);

	// Refused before anything is held: too long a prompt, too many new
	// tokens, an embedding asked of a chat model, too low a fee.
	let long = vec![28u32; 600];
	let code = |params: Value| node.rpc_error_code("inference_estimateFee", params);
	assert_eq!(code(json!([MODEL, long, null, null, null, 4])), 8005);
	assert_eq!(code(json!([MODEL, ids, null, null, null, 129])), 8014);
	assert_eq!(code(json!([MODEL, ids, null, null, null, 0])), 8014);
	assert_eq!(code(json!([MODEL, ids])), 8013);
	let next: u64 = node.rpc("inference_nextRequestId", json!([])).as_u64().unwrap();
	for (call, refusal) in [
		(generate_call(vec![28; 600], 4, most), pallet_inference::Refusal::InputTooLong),
		(
			generate_call(ids.clone(), 129, u128::MAX / 4),
			pallet_inference::Refusal::BadMaxNewTokens,
		),
		(generate_call(ids.clone(), MAX_NEW, most - 1), pallet_inference::Refusal::FeeTooLow),
	] {
		node.assert_refused_by_pool(Charlie, call, refusal);
	}
	let best = node.block_hash(node.best_number()).unwrap();
	assert_eq!(node.held_balance(Charlie, best), 0);
	assert_eq!(node.rpc("inference_nextRequestId", json!([])).as_u64(), Some(next));

	// The real request, paid by Bob holding twice the most it can cost.
	let id = next;
	let max_fee = 2 * most;
	let before = node.block_hash(node.best_number()).unwrap();
	let bob0 = node.total_balance(Bob, before);
	let treasury = cinder_runtime::configs::TreasuryAccount::get();
	let treasury0 = node.total_balance_of(&treasury, before);
	node.submit(Bob, generate_call(ids.clone(), MAX_NEW, max_fee));
	let mut view = Value::Null;
	node.wait_until(&format!("request {id} settled"), Duration::from_secs(240), |n| {
		view = n.try_rpc("inference_request", json!([id])).unwrap_or(Value::Null);
		view["state"]["state"] == json!("settled")
	});
	assert_eq!(view["state"]["worker"], json!(Alice.to_account_id().to_string()));
	let tokens: Vec<u32> = serde_json::from_value(view["tokens"].clone()).unwrap();

	// The reply this machine's engine generates, token for token.
	let chat = cinder_engine::chat::ChatModel::load(&path).unwrap();
	let local = chat.generate(&ids, MAX_NEW, Sampling::Greedy, &[0; 32], 2).unwrap();
	assert_eq!(tokens, local.tokens);
	assert!(tokens.len() as u32 <= MAX_NEW);
	let text = chat.detokenize(&local.tokens).unwrap();
	assert_eq!(view["text"], json!(text), "the reply's text in the request's view");
	assert_eq!(node.rpc("inference_detokenize", json!([MODEL, tokens])), json!(text));
	eprintln!("reply: {text}");

	// Paid exactly for the prompt and the tokens generated; the rest of the
	// hold came back.
	let paid = smollm2::PRICE
		+ smollm2::TOKEN_PRICES.prompt * ids.len() as u128
		+ smollm2::TOKEN_PRICES.generated * tokens.len() as u128;
	let share = amount(&view["state"]["workerShare"]);
	let cut = amount(&view["state"]["protocolCut"]);
	assert_eq!(share + cut, paid);
	let settled_at = view["state"]["at"].as_u64().unwrap() as u32;
	let after = node.block_hash(settled_at).unwrap();
	let bob_fee = node.total_balance_of(&treasury, after) - treasury0 - cut;
	assert_eq!(node.total_balance(Bob, after), bob0 - paid - bob_fee);
	assert_eq!(node.held_balance(Bob, after), 0);
	let task = serde_json::to_value(Task::Generate(Generation {
		max_new_tokens: MAX_NEW,
		sampling: Sampling::Greedy,
		seed: None,
	}))
	.unwrap();
	assert_eq!(view["task"], task);
}
