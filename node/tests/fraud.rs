//! End to end, the fraud-proof game on a live network: Alice, Bob, Charlie
//! and Dave validate the `local` chain as four processes, each with a
//! worker auditing every result; Charlie's worker lies
//! (`--fault corrupt-step=300`: step 300's output changed, the trace
//! committed to the lie). Ferdie's requests that land on Charlie are
//! audited and challenged by the others without anyone's help (those
//! Charlie had not answered yet when it was expelled go to honest workers
//! undisputed); Charlie defends with its own trace and loses at step 300;
//! the offence is
//! reported and staking schedules the slash of Charlie and its nominator
//! (exact amounts); Charlie gets no further assignments; every request
//! settles with the embedding this machine's engine computes, and no honest
//! result is ever challenged successfully. The second test plays the same
//! game over SmolLM2 chat replies (kernel spec 2: quantized weights,
//! sampled tokens, a trace of some 14,000 steps revealed in two rounds).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::{collections::BTreeMap, time::Duration};

use cinder_runtime::{genesis_config_presets::minilm, AccountId, Balance, RuntimeCall};
use codec::Encode;
use common::{test_dir, Node};
use serde_json::{json, Value};
use sp_io::hashing::{twox_128, twox_64};
use sp_keyring::Sr25519Keyring::{Alice, Bob, Charlie, Dave, Ferdie};
use sp_runtime::Perbill;

const MINUTE: Duration = Duration::from_secs(60);
const LIE_AT: u64 = 300;

const TEXTS: [&str; 8] = [
	"Validators run the model and post the result.",
	"A wrong answer is caught by another worker.",
	"The runtime recomputes one step of the trace.",
	"Whoever lied loses its stake or its bond.",
	"Nominators share the fees and the slashes.",
	"Sentence embeddings for decentralized search.",
	"The challenge window is ten blocks long.",
	"Requests are reassigned when a worker is expelled.",
];

fn state(view: &Value) -> String {
	view["state"]["state"].as_str().unwrap_or_default().to_string()
}

fn worker_of(view: &Value) -> Option<String> {
	view["state"]["worker"].as_str().map(str::to_string)
}

/// Ferdie requests an embedding of each of `inputs` through `node`.
fn send(node: &Node, inputs: &[Vec<u32>]) {
	for input in inputs {
		let call = RuntimeCall::Inference(pallet_inference::Call::request {
			model: 0,
			input: input.clone(),
			max_fee: minilm::PRICE,
		});
		node.submit(Ferdie, call);
	}
}

/// Storage key of `pallet.item` under `suffix` (already hashed).
fn key(pallet: &str, item: &str, suffix: &[u8]) -> Vec<u8> {
	[&twox_128(pallet.as_bytes())[..], &twox_128(item.as_bytes())[..], suffix].concat()
}

/// A `Twox64Concat` key part.
fn twox64_concat(data: &[u8]) -> Vec<u8> {
	[&twox_64(data)[..], data].concat()
}

/// Ferdie sends batches (`send` makes one, of `inputs.len()` requests,
/// after `watch` has seen each id) until at least one request is assigned
/// to Charlie (assignment is stake-weighted at random): every request's
/// input by id, and the ids Charlie was assigned.
fn until_charlie_is_assigned(
	alice: &Node,
	inputs: &[Vec<u32>],
	batches: usize,
	mut watch: impl FnMut(u64),
	send: impl Fn(&Node, &[Vec<u32>]),
) -> (BTreeMap<u64, Vec<u32>>, Vec<u64>) {
	let charlie_id = Charlie.to_account_id().to_string();
	let mut requests = BTreeMap::new();
	let mut lied_to = Vec::new();
	for _batch in 0..batches {
		let first = alice.rpc("inference_nextRequestId", json!([])).as_u64().unwrap();
		let ids: Vec<u64> = (first..first + inputs.len() as u64).collect();
		ids.iter().for_each(|id| watch(*id));
		send(alice, inputs);
		// Charlie is assigned at request time; it answers at once.
		alice.wait_until("the batch is assigned", 2 * MINUTE, |n| {
			ids.iter().all(|id| n.try_rpc("inference_request", json!([id])).is_ok())
		});
		for (id, input) in ids.iter().zip(inputs) {
			requests.insert(*id, input.clone());
			let view = alice.rpc("inference_request", json!([id]));
			if worker_of(&view).as_deref() == Some(&charlie_id) {
				lied_to.push(*id);
			}
		}
		if !lied_to.is_empty() {
			break;
		}
	}
	assert!(!lied_to.is_empty(), "no request was assigned to Charlie in {batches} batches");
	(requests, lied_to)
}

/// Waits until every one of `requests` has settled.
/// Asserts that `d`, request `id`'s dispute, ended with Charlie's result
/// proven wrong at `step` by one of the `honest` workers; shows every
/// node's request log if not.
fn assert_proven_at(id: u64, d: &Value, step: u64, honest: &[String], nodes: &[Node]) {
	let ok = d["worker"] == json!(Charlie.to_account_id().to_string())
		&& honest.contains(&d["challenger"].as_str().unwrap_or_default().to_string())
		&& d["stage"] == "ended"
		&& d["firstDifferingStep"] == json!(step)
		&& d["outcome"]["ending"] == "proved"
		&& d["outcome"]["workerLied"] == true
		&& d["outcome"]["challengerLied"] == false;
	let logs: Vec<String> = nodes.iter().map(|n| n.log_lines("request")).collect();
	assert!(
		ok,
		"request {id}'s dispute: {d}\nnode logs (Alice, Bob, Charlie, Dave):\n{}",
		logs.join("\n---\n")
	);
}

fn wait_settled(alice: &Node, requests: &BTreeMap<u64, Vec<u32>>, timeout: Duration) {
	for id in requests.keys() {
		alice.wait_until(&format!("request {id} settled"), timeout, |n| {
			let view = n.try_rpc("inference_request", json!([id])).unwrap_or(Value::Null);
			state(&view) == "settled"
		});
	}
}

#[test]
fn a_lying_validator_is_challenged_proven_wrong_slashed_and_replaced() {
	let Some(minilm_dir) = cinder_engine::installed_minilm() else { return };
	let dir = test_dir("fraud");
	let fault = |name: &str| match name {
		"charlie" => vec!["--fault".to_string(), format!("corrupt-step={LIE_AT}")],
		_ => Vec::new(),
	};
	let nodes = common::network::start_network(dir.path(), "local", fault);
	let [alice, bob, charlie, dave] = &nodes[..] else { unreachable!() };
	alice.wait_until("block #2", 2 * MINUTE, |n| n.best_number() >= 2);

	let engine = cinder_engine::Model::load(&minilm_dir).unwrap();
	let tokens: Vec<Vec<u32>> = TEXTS.iter().map(|t| engine.tokenize(t).unwrap()).collect();
	let charlie_id = Charlie.to_account_id().to_string();
	let honest = [Alice, Bob, Dave].map(|k| k.to_account_id().to_string());

	// Ferdie sends batches of requests until at least one is assigned to
	// Charlie; each request is watched from before it exists.
	let mut watched = BTreeMap::new();
	let watch = |id| {
		watched.insert(id, bob.subscribe("inference_subscribeRequest", json!([id])));
	};
	let (requests, lied_to) = until_charlie_is_assigned(alice, &tokens, 5, watch, send);

	// Every request settles, Charlie's after a dispute and a rerun.
	wait_settled(alice, &requests, 6 * MINUTE);
	// What each request's subscription told the dapp, in order: its state,
	// the worker holding it and the stage of its dispute.
	let mut told: BTreeMap<u64, Vec<(String, String, String)>> = BTreeMap::new();
	for id in &lied_to {
		let mut sub = watched.remove(id).unwrap();
		let seen = told.entry(*id).or_default();
		while let Some(n) = sub.notification(Duration::from_secs(5)) {
			let worker = worker_of(&n).unwrap_or_default();
			let stage = n["dispute"]["stage"].as_str().unwrap_or("-").to_string();
			let entry = (state(&n), worker, stage);
			if seen.last() != Some(&entry) {
				seen.push(entry);
			}
		}
	}

	let mut challengers = Vec::new();
	let mut disputed = Vec::new();
	for (id, input) in &requests {
		let view = alice.rpc("inference_request", json!([id]));
		let worker = worker_of(&view).unwrap();
		assert!(honest.contains(&worker), "request {id} paid {worker}, not an honest worker");
		let output = hex::decode(view["outputHex"].as_str().unwrap().trim_start_matches("0x"));
		let expected: Vec<u8> =
			engine.embed(input, 1).unwrap().vector.iter().flat_map(|v| v.to_le_bytes()).collect();
		assert_eq!(output.unwrap(), expected, "request {id}'s embedding");

		let dispute = alice.try_rpc("inference_dispute", json!([id]));
		let answered_by_charlie = told.get(id).is_some_and(|seen| {
			seen.iter().any(|(s, w, _)| *w == charlie_id && (s == "answered" || s == "frozen"))
		});
		match (lied_to.contains(id), dispute) {
			(true, Ok(d)) => {
				// Charlie's lie was challenged by an honest worker and proven at
				// the step it changed.
				assert_proven_at(*id, &d, LIE_AT, &honest, &nodes);
				challengers.push(d["challenger"].as_str().unwrap().to_string());
				disputed.push(*id);
			}
			(true, Err(_)) => {
				// Charlie was expelled (another of its lies was proven) before it
				// posted this result: the assignment went to an honest worker
				// without a dispute. Every lie Charlie posted is disputed.
				assert!(
					!answered_by_charlie,
					"request {id}: Charlie's posted result was never disputed: {:?}",
					told.get(id)
				);
			}
			(false, dispute) => {
				// No honest result was challenged at all.
				assert!(dispute.is_err(), "request {id}: honest result disputed: {dispute:?}");
			}
		}
	}
	assert!(!disputed.is_empty(), "none of Charlie's requests {lied_to:?} was disputed");

	// The subscription told the dapp: the result was challenged (frozen,
	// with its dispute), the dispute moved through its stages in order and
	// ended, and the request settled. (It reports the state at each new
	// best block; when the chain switches forks it reports the new tip's,
	// so a stage that lasted one block may go untold. Asking for both the
	// reveal and the proof stage failed one run here.)
	let seen: Vec<(String, String)> =
		told[&disputed[0]].iter().map(|(s, _, d)| (s.clone(), d.clone())).collect();
	let stages: Vec<&str> =
		seen.iter().filter(|(s, _)| s == "frozen").map(|(_, d)| d.as_str()).collect();
	let order = |d: &str| ["reveal", "prove"].iter().position(|x| *x == d);
	assert!(
		!stages.is_empty()
			&& stages.iter().all(|d| order(d).is_some())
			&& stages.windows(2).all(|w| order(w[0]) <= order(w[1])),
		"notifications: {seen:?}"
	);
	assert_eq!(
		seen.last(),
		Some(&("settled".to_string(), "ended".to_string())),
		"notifications: {seen:?}"
	);

	// The honest workers counted audits and won every dispute; Charlie lost.
	let disputes = |n: &Node, outcome: &str| {
		n.metric("cinder_worker_disputes_total", &[("outcome", outcome)]).unwrap_or(0.0)
	};
	for n in [alice, bob, dave] {
		assert_eq!(disputes(n, "lost"), 0.0, "{} lost a dispute", n.name);
		let agreed =
			n.metric("cinder_worker_audits_total", &[("finding", "agreed")]).unwrap_or(0.0);
		assert!(agreed >= 1.0, "{} audited nothing", n.name);
	}
	let won: f64 = [alice, bob, dave].iter().map(|n| disputes(n, "won")).sum();
	assert_eq!(won, disputed.len() as f64);
	assert_eq!(disputes(charlie, "lost"), disputed.len() as f64);
	for n in [alice, bob, dave] {
		let sum = n.metric("cinder_worker_audit_seconds_sum", &[]).unwrap_or(0.0);
		let count = n.metric("cinder_worker_audit_seconds_count", &[]).unwrap_or(0.0);
		let serve = n.metric("cinder_worker_inference_seconds_sum", &[]).unwrap_or(0.0)
			/ n.metric("cinder_worker_inference_seconds_count", &[]).unwrap_or(1.0);
		eprintln!(
			"{}: {count} audits, {:.1} ms of re-execution each (serving: {:.1} ms a request)",
			n.name,
			1000.0 * sum / count.max(1.0),
			1000.0 * serve
		);
	}

	// Charlie is out of the marketplace: new requests go to the others.
	let first = alice.rpc("inference_nextRequestId", json!([])).as_u64().unwrap();
	send(alice, &tokens);
	let last = first + tokens.len() as u64 - 1;
	alice.wait_until("the last batch is assigned", 2 * MINUTE, |n| {
		n.try_rpc("inference_request", json!([last])).is_ok()
	});
	for id in first..=last {
		let view = alice.rpc("inference_request", json!([id]));
		assert_ne!(worker_of(&view), Some(charlie_id.clone()), "request {id} went to Charlie");
	}

	// Staking scheduled the slash: 10% of Charlie's own stake and of its
	// nominator's exposure, 7 eras after era 0, a challenger
	// reporting it.
	let charlie_acc = Charlie.to_account_id();
	let era = 0u32;
	let overview: sp_staking::PagedExposureMetadata<Balance> = alice
		.storage(
			&key(
				"Staking",
				"ErasStakersOverview",
				&[twox64_concat(&era.encode()), twox64_concat(&charlie_acc.encode())].concat(),
			),
			None,
		)
		.expect("Charlie's exposure in era 0");
	let page: sp_staking::ExposurePage<AccountId, Balance> = alice
		.storage(
			&key(
				"Staking",
				"ErasStakersPaged",
				&[
					twox64_concat(&era.encode()),
					twox64_concat(&charlie_acc.encode()),
					twox64_concat(&0u32.encode()),
				]
				.concat(),
			),
			None,
		)
		.expect("Charlie's nominators in era 0");
	assert!(!page.others.is_empty(), "Charlie has a nominator");
	let slashes: Vec<pallet_staking::UnappliedSlash<AccountId, Balance>> = alice
		.storage(&key("Staking", "UnappliedSlashes", &twox64_concat(&(era + 7 + 1).encode())), None)
		.unwrap_or_default();
	let charlies: Vec<_> = slashes.iter().filter(|s| s.validator == charlie_acc).collect();
	assert!(!charlies.is_empty(), "no slash scheduled for Charlie: {slashes:?}");
	let fraction = Perbill::from_percent(10);
	assert_eq!(charlies.iter().map(|s| s.own).sum::<Balance>(), fraction * overview.own);
	for nominator in &page.others {
		let slashed: Balance = charlies
			.iter()
			.flat_map(|s| s.others.iter())
			.filter(|(who, _)| *who == nominator.who)
			.map(|(_, v)| *v)
			.sum();
		assert_eq!(slashed, fraction * nominator.value, "nominator {}", nominator.who);
	}
	// Reported by the challenger whose dispute ended first.
	let challengers: Vec<AccountId> = challengers.iter().map(|c| c.parse().unwrap()).collect();
	assert_eq!(charlies[0].reporters.len(), 1, "{:?}", charlies[0].reporters);
	assert!(charlies.iter().flat_map(|s| &s.reporters).all(|r| challengers.contains(r)));
}

/// The step Charlie changes in its chat replies' traces (the last step, for
/// a reply whose trace is shorter).
const GEN_LIE_AT: u64 = 9_000;

const QUESTIONS: [&str; 4] = [
	"What is the capital of France?",
	"Name three primary colors.",
	"What do bees make?",
	"How many legs does a spider have?",
];

/// The same game over SmolLM2 chat replies: Charlie's worker commits to a
/// trace with step 9,000 changed (its replies' tokens are right: only the
/// trace lies); the honest workers audit its reply by regenerating it,
/// challenge, reveal level by level down to the step and prove it in the
/// runtime, with the quantized weights opened against the model's weight
/// root. Every request then settles with this machine's greedy reply.
#[test]
fn a_lying_chat_reply_is_challenged_and_proven_wrong() {
	let Some(path) = cinder_engine::llama::installed_smollm2() else { return };
	use cinder_runtime::genesis_config_presets::smollm2;
	use pallet_inference_runtime_api::Sampling;
	const MAX_NEW: u32 = 8;
	let dir = test_dir("fraud-generation");
	let fault = |name: &str| match name {
		"charlie" => vec!["--fault".to_string(), format!("corrupt-step={GEN_LIE_AT}")],
		_ => Vec::new(),
	};
	let nodes = common::network::start_network(dir.path(), "local", fault);
	let alice = &nodes[0];
	alice.wait_until("block #2", 2 * MINUTE, |n| n.best_number() >= 2);

	let chat = cinder_engine::chat::ChatModel::load(&path).unwrap();
	let prompts: Vec<Vec<u32>> = QUESTIONS
		.iter()
		.map(|q| chat.tokenize(&cinder_engine::llama::chat_prompt(None, q)).unwrap())
		.collect();
	let honest = [Alice, Bob, Dave].map(|k| k.to_account_id().to_string());

	// Ferdie asks until a reply is assigned to Charlie.
	let ask = |alice: &Node, prompts: &[Vec<u32>]| {
		for prompt in prompts {
			let max_fee = smollm2::PRICE
				+ smollm2::TOKEN_PRICES.prompt * prompt.len() as u128
				+ smollm2::TOKEN_PRICES.generated * u128::from(MAX_NEW);
			let call = RuntimeCall::Inference(pallet_inference::Call::generate {
				model: 1,
				prompt: prompt.clone(),
				max_new_tokens: MAX_NEW,
				sampling: Sampling::Greedy,
				seed: None,
				max_fee,
			});
			alice.submit(Ferdie, call);
		}
	};
	let (requests, lied_to) = until_charlie_is_assigned(alice, &prompts, 6, |_| {}, ask);
	wait_settled(alice, &requests, 8 * MINUTE);
	let mut disputed = 0;
	for (id, prompt) in &requests {
		let view = alice.rpc("inference_request", json!([id]));
		let worker = worker_of(&view).unwrap();
		assert!(honest.contains(&worker), "request {id} paid {worker}, not an honest worker");
		let local = chat.generate(prompt, MAX_NEW, Sampling::Greedy, &[0; 32], 1).unwrap();
		let tokens: Vec<u32> = serde_json::from_value(view["tokens"].clone()).unwrap();
		assert_eq!(tokens, local.tokens, "request {id}'s reply");
		// A request with no dispute was answered honestly (Charlie may have
		// been expelled before it posted one assigned to it).
		let Ok(d) = alice.try_rpc("inference_dispute", json!([id])) else { continue };
		// Only Charlie's replies are challenged, each proven at the step it
		// changed.
		let lie = GEN_LIE_AT.min(local.trace.leaves.len() as u64 - 1);
		assert!(lied_to.contains(id), "request {id}, never assigned to Charlie, was disputed: {d}");
		assert_proven_at(*id, &d, lie, &honest, &nodes);
		eprintln!(
			"request {id}: {} steps, Charlie's lie at step {lie} proven by {}",
			local.trace.leaves.len(),
			d["challenger"]
		);
		disputed += 1;
	}
	assert!(disputed >= 1, "none of Charlie's replies {lied_to:?} was disputed");
}
