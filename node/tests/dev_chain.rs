//! End to end: a `--dev --tmp` node produces and finalizes blocks, takes a
//! signed transfer over JSON-RPC, finalizes it with the balances changed, and
//! stops cleanly on SIGINT; and every `inference_*` method, called with
//! random, oversized and wrongly typed parameters, answers each with a
//! documented error code while the node runs on.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::{Duration, Instant};

use cinder_node::jsonrpc::CallError;
use cinder_runtime::{currency::UNITS, RuntimeCall};
use common::{test_dir, Node};
use serde_json::{json, Value};
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

/// A deterministic stream of random choices (xorshift64*): the same cases
/// on every run, so a failure names a case that can be replayed.
struct Rng(u64);

impl Rng {
	fn next(&mut self) -> u64 {
		self.0 ^= self.0 >> 12;
		self.0 ^= self.0 << 25;
		self.0 ^= self.0 >> 27;
		self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
	}
	fn below(&mut self, n: u64) -> u64 {
		self.next() % n
	}
	fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
		&items[self.below(items.len() as u64) as usize]
	}
}

/// What one parameter of an `inference_*` method is.
#[derive(Clone, Copy, Debug)]
enum Param {
	Model,
	Text,
	Tokens,
	Request,
	/// An optional block hash (`null` is a value).
	At,
	Account,
}

/// The codes the `inference_*` methods document (their README).
const DOCUMENTED: [i64; 13] =
	[8001, 8002, 8003, 8004, 8005, 8006, 8007, 8010, 8011, 8013, 8014, 8020, 8021];
const RUNTIME_API: i64 = 8030;
const INVALID_PARAMS: i64 = -32602;

impl Param {
	/// A value of the right type, random.
	fn valid(self, rng: &mut Rng, genesis: &str) -> Value {
		match self {
			Param::Model => {
				let any = rng.next() as u32;
				json!(*rng.pick(&[0, 0, 1, 7, u32::MAX, any]))
			}
			Param::Text => {
				let len = *rng.pick(&[0, 1, 5, 40, 300]);
				let text: String = (0..len)
					.map(|_| char::from_u32(rng.below(0x3000) as u32).unwrap_or('?'))
					.collect();
				json!(text)
			}
			Param::Tokens => {
				let len = *rng.pick(&[0u64, 1, 3, 17, 600]);
				let top = *rng.pick(&[120, 30_522, u64::from(u32::MAX)]);
				json!((0..len).map(|_| rng.below(top + 1) as u32).collect::<Vec<_>>())
			}
			Param::Request => {
				let any = rng.next();
				json!(*rng.pick(&[0, 1, 1000, u64::MAX, any]))
			}
			Param::At => {
				let random = format!("0x{:016x}{:048x}", rng.next(), 0);
				json!(*rng.pick(&[None, Some(genesis.to_string()), Some(random)]))
			}
			Param::Account => {
				let bytes: [u8; 32] = std::array::from_fn(|_| rng.next() as u8);
				json!(sp_core::crypto::AccountId32::from(bytes).to_string())
			}
		}
	}

	/// A value of a type this parameter does not take.
	fn wrong(self, rng: &mut Rng) -> Value {
		let numbers = [json!(-1), json!(1.5), json!(18_446_744_073_709_551_615u64), json!(1e300)];
		let others = [json!("7"), json!([]), json!({"a": 1}), json!(true)];
		match self {
			Param::Model | Param::Request => {
				let out_of_range =
					if matches!(self, Param::Model) { json!(4_294_967_296u64) } else { json!(-7) };
				rng.pick(&[
					numbers[0].clone(),
					numbers[1].clone(),
					out_of_range,
					others[0].clone(),
					others[1].clone(),
					others[2].clone(),
					others[3].clone(),
					Value::Null,
				])
				.clone()
			}
			Param::Text => {
				rng.pick(&[json!(5), json!([]), json!({}), Value::Null, json!(true)]).clone()
			}
			Param::Tokens => rng
				.pick(&[
					json!("0x01"),
					json!([-1]),
					json!([1.5]),
					json!([4_294_967_296u64]),
					json!([null]),
					json!(7),
					json!({}),
				])
				.clone(),
			Param::At => {
				rng.pick(&[json!(42), json!("0x12"), json!("zz"), json!([]), json!({})]).clone()
			}
			Param::Account => rng
				.pick(&[json!("not-an-account"), json!(5), json!("0x1234"), json!([]), Value::Null])
				.clone(),
		}
	}
}

/// Every `inference_*` method called over HTTP (and the subscription over
/// WebSocket) with hand-picked bad inputs, random values of the right
/// types and values of the wrong types: each gets an answer, promptly, and
/// every error carries a documented code (-32602 for a malformed
/// parameter, 8001–8030 for the rest); the node produces blocks throughout
/// and after.
#[test]
fn inference_rpc_answers_bad_parameters_with_documented_codes() {
	use Param::*;
	let dir = test_dir("rpc-fuzz");
	let node = Node::start("fuzz", dir.path(), &["--dev", "--tmp"]);
	node.wait_until("block #1", Duration::from_secs(120), |n| n.best_number() >= 1);
	let genesis = format!("{:?}", node.block_hash(0).unwrap());
	let start_block = node.best_number();
	let started = Instant::now();
	let mut cases = 0u32;
	let mut slowest = Duration::ZERO;
	let mut call = |method: &str, params: Value| {
		let t = Instant::now();
		let answer = node.try_rpc(method, params.clone());
		slowest = slowest.max(t.elapsed());
		cases += 1;
		match answer {
			Ok(_) => None,
			Err(CallError::Rpc { code, .. }) => Some(code),
			Err(e) => panic!("{method}({params}): no JSON-RPC answer: {e}"),
		}
	};

	// Hand-picked: each bad input and the code it must get.
	let too_long_text = "a".repeat(pallet_inference_rpc::MAX_TEXT_BYTES + 1);
	let many = vec![0u32; pallet_inference_rpc::MAX_TOKENS + 1];
	let unknown_at = format!("0x{}", "ab".repeat(32));
	let exact: Vec<(&str, Value, i64)> = vec![
		("inference_estimateFee", json!([7777, [101, 102]]), 8001),
		("inference_estimateFee", json!([0, []]), 8004),
		("inference_estimateFee", json!([0, vec![101u32; 600]]), 8005),
		("inference_estimateFee", json!([0, many]), 8005),
		("inference_estimateFee", json!([0, [101, u32::MAX, 102]]), 8006),
		// An embedding of the chat model, a reply of the embedder, a reply
		// of no tokens or of more than the chain allows.
		("inference_estimateFee", json!([1, [28, 29]]), 8013),
		("inference_estimateFee", json!([0, [101], null, null, null, 4]), 8013),
		("inference_estimateFee", json!([1, [28, 29], null, null, null, 0]), 8014),
		("inference_estimateFee", json!([1, [28, 29], null, null, null, 129]), 8014),
		("inference_tokenize", json!([7777, "hello"]), 8001),
		("inference_tokenize", json!([0, ""]), 8004),
		("inference_tokenize", json!([0, too_long_text]), 8005),
		("inference_detokenize", json!([7777, [101]]), 8001),
		("inference_detokenize", json!([0, [101, u32::MAX]]), 8006),
		("inference_detokenize", json!([0, many]), 8005),
		("inference_request", json!([u64::MAX]), 8020),
		("inference_dispute", json!([u64::MAX]), 8021),
		("inference_models", json!([unknown_at]), RUNTIME_API),
		("inference_validators", json!([unknown_at]), RUNTIME_API),
		("inference_nextRequestId", json!([unknown_at]), RUNTIME_API),
		("inference_estimateFee", json!([0, [101], unknown_at]), RUNTIME_API),
		(
			"inference_nominator",
			json!([Alice.to_account_id().to_string(), unknown_at]),
			RUNTIME_API,
		),
		("inference_tokenize", json!([0]), INVALID_PARAMS),
		("inference_request", json!([]), INVALID_PARAMS),
		("inference_nominator", json!(["5Grw"]), INVALID_PARAMS),
		("inference_noSuchMethod", json!([]), -32601),
	];
	for (method, params, code) in &exact {
		assert_eq!(call(method, params.clone()), Some(*code), "{method}({params})");
	}

	// Random: each method, each parameter in turn of a wrong type (-32602),
	// or all of the right type (an answer, or a documented error).
	let methods: [(&str, &[Param]); 9] = [
		("inference_models", &[At]),
		("inference_estimateFee", &[Model, Tokens, At]),
		("inference_tokenize", &[Model, Text]),
		("inference_detokenize", &[Model, Tokens]),
		("inference_request", &[Request, At]),
		("inference_nextRequestId", &[At]),
		("inference_dispute", &[Request, At]),
		("inference_validators", &[At]),
		("inference_nominator", &[Account, At]),
	];
	let mut rng = Rng(0x5eed_c1de);
	let (mut answered, mut refused) = (0u32, 0u32);
	for round in 0..80 {
		for (method, params) in methods {
			let mut values: Vec<Value> =
				params.iter().map(|p| p.valid(&mut rng, &genesis)).collect();
			let broken = rng.below(params.len() as u64 + 1) as usize;
			if broken < params.len() {
				values[broken] = params[broken].wrong(&mut rng);
				let code = call(method, json!(values));
				assert_eq!(code, Some(INVALID_PARAMS), "round {round}: {method}({values:?})");
				refused += 1;
				continue;
			}
			match call(method, json!(values)) {
				None => answered += 1,
				Some(code) => {
					assert!(
						DOCUMENTED.contains(&code) || code == RUNTIME_API,
						"round {round}: {method}({values:?}) got undocumented code {code}"
					);
					refused += 1;
				}
			}
		}
	}

	// The subscription: refused for an id that cannot come, accepted for
	// the next one.
	for (id, ok) in [(u64::MAX, false), (1_000_000, false), (0, true)] {
		match node.try_subscribe("inference_subscribeRequest", json!([id])) {
			Ok(_) => assert!(ok, "subscribe({id}) was accepted"),
			Err(CallError::Rpc { code, .. }) => {
				assert!(!ok && code == 8020, "subscribe({id}) refused with {code}")
			}
			Err(e) => panic!("subscribe({id}): {e}"),
		}
		cases += 1;
	}

	// Bodies that are not JSON-RPC at all, and one over the size limit.
	for (body, want) in [
		("{not json".to_string(), "-32700"),
		("[]".to_string(), "-32600"),
		// Parameters that are neither positional nor named.
		(
			r#"{"jsonrpc":"2.0","id":1,"method":"inference_tokenize","params":"0, hello"}"#
				.to_string(),
			"-32602",
		),
		(format!("{{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"inference_tokenize\",\"params\":[0,\"{}\"]}}", "x".repeat(16 << 20)), "413"),
	] {
		let reply = raw_post(node.rpc_port, &body);
		assert!(reply.contains(want), "{}…: {reply}", &body[..body.len().min(60)]);
		cases += 1;
	}

	// The polkadot.js definitions the RPC crate ships list exactly the
	// `inference_*` methods the node serves.
	let served: std::collections::BTreeSet<String> = node.rpc("rpc_methods", json!([]))["methods"]
		.as_array()
		.unwrap()
		.iter()
		.filter_map(|m| m.as_str()?.strip_prefix("inference_").map(str::to_string))
		.collect();
	let file = concat!(
		env!("CARGO_MANIFEST_DIR"),
		"/../pallets/inference/rpc/polkadot-js-definitions.json"
	);
	let definitions: Value = serde_json::from_str(&std::fs::read_to_string(file).unwrap()).unwrap();
	let mut defined = std::collections::BTreeSet::new();
	for (name, def) in definitions["inference"].as_object().unwrap() {
		defined.insert(name.clone());
		if let Some(pubsub) = def["pubsub"].as_array() {
			// [notification, subscribe, unsubscribe]: the last two are methods.
			defined.extend(pubsub.iter().skip(1).filter_map(|m| m.as_str().map(str::to_string)));
		}
	}
	assert_eq!(defined, served, "polkadot-js-definitions.json against rpc_methods");

	let seconds = started.elapsed().as_secs_f64();
	node.wait_until("blocks after the calls", Duration::from_secs(60), |n| {
		n.best_number() > start_block + 1
	});
	eprintln!(
		"inference_* RPC: {cases} calls in {seconds:.1} s ({answered} answered, {refused} \
		 refused with documented codes, slowest {:.0} ms); the node produced blocks throughout",
		slowest.as_secs_f64() * 1000.0
	);
}

/// POSTs `body` to the node's RPC port as it is: the status line and body
/// of the answer.
fn raw_post(port: u16, body: &str) -> String {
	use std::io::{Read, Write};
	let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
	stream.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
	let head = format!(
		"POST / HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: application/json\r\n\
		 Content-Length: {}\r\nConnection: close\r\n\r\n",
		body.len()
	);
	stream.write_all(head.as_bytes()).unwrap();
	// The node may answer (and close) before taking the whole of a body
	// over its limit.
	let _ = stream.write_all(body.as_bytes());
	let mut reply = String::new();
	let _ = stream.read_to_string(&mut reply);
	reply
}
