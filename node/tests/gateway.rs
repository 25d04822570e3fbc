//! End to end, the OpenAI-compatible gateway (`cinder-node gateway`) in
//! front of a `--dev` chain serving MiniLM and SmolLM2, spoken to over HTTP
//! with hyper's client:
//! - bearer keys: none or an unknown one gets 401; each key pays from its
//!   own account;
//! - 16 embedding requests at once from two keys all land, each once, with
//!   this machine's embedding of its text, and each account's nonces run
//!   on without a gap;
//! - a batch keeps its order; `?wait=settled` answers after settlement with
//!   the fee paid;
//! - a chat completion gives SmolLM2's greedy reply, and streamed it gives
//!   the same text in OpenAI's chunks, the first as soon as the request is
//!   on chain; a `seed` makes sampled replies repeat;
//! - refusals in OpenAI's error shape with the chain's reason and nothing
//!   held: unknown model, wrong kind, too long, unaffordable;
//! - a request nobody answers (the worker turned `--fault silent`, and the
//!   node restarted while the gateway follows it) is refunded on chain and
//!   is an error, never an empty answer;
//! - the official `openai` Python package and a headless chromium on the
//!   playground page get what they ask for.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::{
	io::{BufRead, BufReader},
	process::{Child, Command, Stdio},
	time::{Duration, Instant},
};

use common::{test_dir, Node};
use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper_util::{client::legacy::Client, rt::TokioExecutor};
use serde_json::{json, Value};
use sp_core::{crypto::Ss58Codec, Pair};
use sp_keyring::Sr25519Keyring::{Bob, Charlie};

const MINILM: &str = "all-MiniLM-L6-v2";
const SMOLLM2: &str = "SmolLM2-135M-Instruct";

/// The gateway process, killed when dropped.
struct Gateway {
	child: Child,
	base: String,
}

impl Drop for Gateway {
	fn drop(&mut self) {
		let _ = self.child.kill();
		let _ = self.child.wait();
	}
}

impl Gateway {
	fn start(node: &Node, keys: &std::path::Path) -> Gateway {
		let mut child = Command::new(env!("CARGO_BIN_EXE_cinder-node"))
			.args(["gateway", "--listen", "127.0.0.1:0", "--timeout", "600"])
			.args(["--url", &format!("http://127.0.0.1:{}", node.rpc_port)])
			.arg("--keys")
			.arg(keys)
			.stdout(Stdio::piped())
			.stderr(Stdio::inherit())
			.spawn()
			.unwrap();
		let mut line = String::new();
		BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
		let base = line
			.trim()
			.strip_prefix("gateway listening on ")
			.unwrap_or_else(|| panic!("the gateway's first line: {line:?}"))
			.to_string();
		Gateway { child, base }
	}
}

/// An HTTP client of the gateway.
struct Http {
	runtime: tokio::runtime::Runtime,
	base: String,
}

/// An answer: its status, and each `data:` of a streamed one (else the
/// one JSON body).
struct Answer {
	status: u16,
	body: Value,
	events: Vec<Value>,
	done: bool,
}

impl Http {
	fn new(base: &str) -> Http {
		let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
		Http { runtime, base: base.into() }
	}

	async fn send(base: String, path: &str, key: Option<&str>, body: Option<Value>) -> Answer {
		let client = Client::builder(TokioExecutor::new()).build_http::<Full<Bytes>>();
		let mut request = hyper::Request::builder()
			.method(if body.is_some() { "POST" } else { "GET" })
			.uri(format!("{base}{path}"))
			.header("content-type", "application/json");
		if let Some(key) = key {
			request = request.header("authorization", format!("Bearer {key}"));
		}
		let bytes = body.map(|b| b.to_string()).unwrap_or_default();
		let response =
			client.request(request.body(Full::new(Bytes::from(bytes))).unwrap()).await.unwrap();
		let status = response.status().as_u16();
		let streamed = response
			.headers()
			.get("content-type")
			.is_some_and(|v| v.as_bytes().starts_with(b"text/event-stream"));
		let bytes = response.into_body().collect().await.unwrap().to_bytes();
		let text = String::from_utf8(bytes.to_vec()).unwrap();
		if !streamed {
			let body = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text}"));
			return Answer { status, body, events: Vec::new(), done: false };
		}
		let data: Vec<&str> = text.lines().filter_map(|l| l.strip_prefix("data: ")).collect();
		let done = data.last() == Some(&"[DONE]");
		let events = data
			.iter()
			.filter(|d| **d != "[DONE]")
			.map(|d| serde_json::from_str(d).unwrap())
			.collect();
		Answer { status, body: Value::Null, events, done }
	}

	fn call(&self, path: &str, key: Option<&str>, body: Option<Value>) -> Answer {
		self.runtime.block_on(Self::send(self.base.clone(), path, key, body))
	}

	/// `requests` sent all at once.
	fn all(&self, requests: Vec<(&str, Option<&str>, Option<Value>)>) -> Vec<Answer> {
		let base = self.base.clone();
		self.runtime.block_on(futures::future::join_all(requests.into_iter().map(
			|(path, key, body)| {
				let base = base.clone();
				let path = path.to_string();
				let key = key.map(str::to_string);
				async move { Self::send(base, &path, key.as_deref(), body).await }
			},
		)))
	}
}

fn chat(content: &str, extra: Value) -> Value {
	let mut body = json!({
		"model": SMOLLM2,
		"messages": [{"role": "user", "content": content}],
		"temperature": 0,
		"max_tokens": 24,
	});
	for (k, v) in extra.as_object().unwrap() {
		body[k] = v.clone();
	}
	body
}

fn amount(v: &Value) -> u128 {
	v.as_str().and_then(|s| s.parse().ok()).unwrap_or_else(|| panic!("an amount: {v}"))
}

#[test]
fn openai_clients_are_served_through_the_chain() {
	let Some(minilm) = cinder_engine::installed_minilm() else { return };
	if cinder_engine::llama::installed_smollm2().is_none() {
		return;
	}
	let models = cinder_engine::models_dir();
	let dir = test_dir("gateway");
	let base = dir.path().join("chain");
	let (models_arg, base_arg) = (models.display().to_string(), base.display().to_string());
	let args = ["--dev", "--base-path", &base_arg, "--models-dir", &models_arg];
	let mut node = Node::start("dev", dir.path(), &args);
	node.wait_until("block #1", Duration::from_secs(120), |n| n.best_number() >= 1);

	let keys = dir.path().join("keys.json");
	let (poor, thin) = ("//gateway-test-poor", "//gateway-test-thin");
	let keys_json =
		json!({"sk-bob": "//Bob", "sk-charlie": "//Charlie", "sk-poor": poor, "sk-thin": thin});
	std::fs::write(&keys, keys_json.to_string()).unwrap();
	// The thin account can hold one MiniLM request (10 mCDR), not three.
	let thin_account: cinder_runtime::AccountId =
		sp_core::sr25519::Pair::from_string(thin, None).unwrap().public().into();
	let milli = cinder_runtime::currency::MILLI_UNITS;
	node.submit(
		sp_keyring::Sr25519Keyring::Alice,
		cinder_runtime::RuntimeCall::Balances(pallet_balances::Call::transfer_keep_alive {
			dest: thin_account.clone().into(),
			value: 25 * milli,
		}),
	);
	let gateway = Gateway::start(&node, &keys);
	let http = Http::new(&gateway.base);

	// Keys: none, or one the gateway does not have, is 401.
	for key in [None, Some("sk-nobody")] {
		let a = http.call("/v1/models", key, None);
		assert_eq!(a.status, 401, "{}", a.body);
		assert_eq!(a.body["error"]["code"], json!("invalid_api_key"));
	}
	let listed = http.call("/v1/models", Some("sk-bob"), None);
	assert_eq!(listed.status, 200);
	let names: Vec<&str> =
		listed.body["data"].as_array().unwrap().iter().map(|m| m["id"].as_str().unwrap()).collect();
	assert_eq!(names, [MINILM, SMOLLM2]);
	assert_eq!(listed.body["data"][1]["cinder"]["kind"], json!("chat"));

	// Sixteen at once from two keys.
	let engine = cinder_engine::Model::load(&minilm).unwrap();
	let nonces = (node.nonce(Bob), node.nonce(Charlie));
	let texts: Vec<String> =
		(0..16).map(|i| format!("Request number {i} goes through the gateway.")).collect();
	let answers = http.all(
		texts
			.iter()
			.enumerate()
			.map(|(i, text)| {
				let key = if i % 2 == 0 { "sk-bob" } else { "sk-charlie" };
				("/v1/embeddings", Some(key), Some(json!({"model": MINILM, "input": text})))
			})
			.collect(),
	);
	let mut ids = Vec::new();
	for (i, (answer, text)) in answers.iter().zip(&texts).enumerate() {
		assert_eq!(answer.status, 200, "{}", answer.body);
		let payer = if i % 2 == 0 { Bob } else { Charlie };
		let cinder = &answer.body["cinder"][0];
		assert_eq!(cinder["account"], json!(payer.to_account_id().to_ss58check()));
		assert!(matches!(cinder["state"].as_str(), Some("answered" | "settled")), "{cinder}");
		let got: Vec<f32> =
			serde_json::from_value(answer.body["data"][0]["embedding"].clone()).unwrap();
		let want = engine.embed(&engine.tokenize(text).unwrap(), 1).unwrap().vector;
		assert_eq!(got, want, "request {i}'s embedding");
		let tokens = engine.tokenize(text).unwrap().len() as u64;
		assert_eq!(answer.body["usage"]["prompt_tokens"].as_u64(), Some(tokens));
		ids.push(cinder["request"].as_u64().unwrap());
	}
	ids.sort_unstable();
	ids.dedup();
	assert_eq!(ids.len(), 16, "one request each");
	assert_eq!((node.nonce(Bob), node.nonce(Charlie)), (nonces.0 + 8, nonces.1 + 8));

	// A batch keeps its order; `?wait=settled` answers once it is paid.
	let batch = http.call(
		"/v1/embeddings?wait=settled",
		Some("sk-bob"),
		Some(
			json!({"model": MINILM, "input": ["first", "second", "third"], "encoding_format": "base64"}),
		),
	);
	assert_eq!(batch.status, 200, "{}", batch.body);
	for (i, text) in ["first", "second", "third"].iter().enumerate() {
		let item = &batch.body["data"][i];
		assert_eq!(item["index"], json!(i));
		let bytes = base64_decode(item["embedding"].as_str().unwrap());
		let got: Vec<f32> =
			bytes.chunks_exact(4).map(|b| f32::from_le_bytes(b.try_into().unwrap())).collect();
		assert_eq!(got, engine.embed(&engine.tokenize(text).unwrap(), 1).unwrap().vector);
		let cinder = &batch.body["cinder"][i];
		assert_eq!(cinder["settled"], json!(true), "{cinder}");
		assert_eq!(
			amount(&cinder["feePaid"]),
			cinder_runtime::genesis_config_presets::minilm::PRICE
		);
	}

	// A chat completion, then the same streamed.
	let question = "What is the capital of France?";
	let reply =
		http.call("/v1/chat/completions", Some("sk-charlie"), Some(chat(question, json!({}))));
	assert_eq!(reply.status, 200, "{}", reply.body);
	let choice = &reply.body["choices"][0];
	assert_eq!(choice["message"]["content"], json!("The capital of France is Paris."));
	assert_eq!(choice["finish_reason"], json!("stop"));
	assert_eq!(reply.body["object"], json!("chat.completion"));
	let usage = &reply.body["usage"];
	assert_eq!(usage["completion_tokens"], json!(8));
	let cinder = &reply.body["cinder"];
	let prompt_tokens = usage["prompt_tokens"].as_u64().unwrap() as u128;
	let smollm2 = |generated: u128| {
		use cinder_runtime::genesis_config_presets::smollm2::{PRICE, TOKEN_PRICES};
		PRICE + TOKEN_PRICES.prompt * prompt_tokens + TOKEN_PRICES.generated * generated
	};
	assert_eq!(amount(&cinder["feeHeld"]), smollm2(24));
	assert_eq!(amount(&cinder["price"]), smollm2(8));
	assert!(cinder["traceRoot"].as_str().is_some_and(|r| r.len() == 66), "{cinder}");

	let streamed = http.call(
		"/v1/chat/completions",
		Some("sk-bob"),
		Some(chat(question, json!({"stream": true, "stream_options": {"include_usage": true}}))),
	);
	assert_eq!(streamed.status, 200);
	assert!(streamed.done, "the stream ends with [DONE]");
	let first = &streamed.events[0];
	assert_eq!(first["object"], json!("chat.completion.chunk"));
	assert_eq!(first["choices"][0]["delta"]["role"], json!("assistant"));
	assert_eq!(first["cinder"]["state"], json!("assigned"), "sent once the request is on chain");
	let text: String = streamed
		.events
		.iter()
		.filter_map(|e| e["choices"][0]["delta"]["content"].as_str())
		.collect();
	assert_eq!(text, "The capital of France is Paris.");
	let finishes: Vec<&Value> = streamed
		.events
		.iter()
		.map(|e| &e["choices"][0]["finish_reason"])
		.filter(|f| !f.is_null())
		.collect();
	assert_eq!(finishes, [&json!("stop")]);
	assert_eq!(streamed.events.last().unwrap()["usage"]["completion_tokens"], json!(8));

	// A seed fixes the draws: two requests with the same seed, sampled at
	// temperature 1.5, reply alike; the chain's own seeds would differ.
	let haiku = |seed: u64| {
		let extra = json!({"temperature": 1.5, "top_p": 1.0, "seed": seed, "max_tokens": 16});
		("/v1/chat/completions", Some("sk-bob"), Some(chat("Write a haiku about the sea.", extra)))
	};
	let seeded = http.all(vec![haiku(42), haiku(42)]);
	let content =
		|a: &Answer| a.body["choices"][0]["message"]["content"].as_str().unwrap().to_string();
	assert!(seeded.iter().all(|a| a.status == 200), "{}", seeded[0].body);
	assert_ne!(seeded[0].body["cinder"]["request"], seeded[1].body["cinder"]["request"]);
	assert_eq!(content(&seeded[0]), content(&seeded[1]));

	// Refusals: OpenAI's shape, the chain's reason, nothing held.
	let held_before = node.held_balance(Bob, node.block_hash(node.best_number()).unwrap());
	let refused = http.all(vec![
		("/v1/embeddings", Some("sk-bob"), Some(json!({"model": "no-such-model", "input": "x"}))),
		("/v1/embeddings", Some("sk-bob"), Some(json!({"model": SMOLLM2, "input": "x"}))),
		(
			"/v1/embeddings",
			Some("sk-bob"),
			Some(json!({"model": MINILM, "input": "word ".repeat(700)})),
		),
		("/v1/chat/completions", Some("sk-bob"), Some(chat(question, json!({"max_tokens": 500})))),
		("/v1/embeddings", Some("sk-poor"), Some(json!({"model": MINILM, "input": "x"}))),
		("/v1/chat/completions", Some("sk-bob"), Some(json!({"model": SMOLLM2, "messages": "x"}))),
	]);
	let expected = [
		(404, "model_not_found"),
		(400, "wrong_model_kind"),
		(400, "context_length_exceeded"),
		(400, "invalid_max_tokens"),
		(402, "insufficient_funds"),
		(400, ""),
	];
	for (answer, (status, code)) in refused.iter().zip(expected) {
		assert_eq!(answer.status, status, "{}", answer.body);
		assert!(answer.body["error"]["message"].as_str().is_some_and(|m| !m.is_empty()));
		if !code.is_empty() {
			assert_eq!(answer.body["error"]["code"], json!(code), "{}", answer.body);
		}
	}
	let now = node.block_hash(node.best_number()).unwrap();
	assert_eq!(node.held_balance(Bob, now), held_before, "refusals hold nothing");

	// A batch is checked whole: three requests the thin account cannot
	// hold at once are refused before any is made.
	let next = node.rpc("inference_nextRequestId", json!([]));
	let now = node.block_hash(node.best_number()).unwrap();
	assert!(node.total_balance_of(&thin_account, now) >= 20 * milli, "the thin account is funded");
	let batch = json!({"model": MINILM, "input": ["one", "two", "three"]});
	let thin_batch = http.call("/v1/embeddings", Some("sk-thin"), Some(batch));
	assert_eq!(thin_batch.status, 402, "{}", thin_batch.body);
	assert_eq!(thin_batch.body["error"]["code"], json!("insufficient_funds"));
	assert_eq!(node.rpc("inference_nextRequestId", json!([])), next, "no request was made");
	let now = node.block_hash(node.best_number()).unwrap();
	assert_eq!(node.held_balance_of(&thin_account, now), 0);

	// Nobody answers: the worker falls silent and the node restarts while
	// the gateway follows the request; it is refunded, and that is an error.
	node.stop();
	let mut silent = args.to_vec();
	silent.extend(["--fault", "silent"]);
	node.set_args(&silent);
	node.restart();
	let base_url = gateway.base.clone();
	let waiting = std::thread::spawn(move || {
		let http = Http::new(&base_url);
		http.call("/v1/chat/completions", Some("sk-charlie"), Some(chat("Still there?", json!({}))))
	});
	node.wait_until("the request is assigned", Duration::from_secs(60), |n| {
		!n.log_lines("not answering (silent)").is_empty()
	});
	node.stop();
	std::thread::sleep(Duration::from_secs(5));
	node.restart();
	let start = Instant::now();
	let refunded = waiting.join().unwrap();
	assert_eq!(refunded.status, 502, "{}", refunded.body);
	let error = &refunded.body["error"];
	assert_eq!(error["code"], json!("request_refunded"), "{}", refunded.body);
	assert_eq!(error["cinder"]["state"], json!("refunded"));
	let id = error["cinder"]["request"].as_u64().unwrap();
	let view = node.rpc("inference_request", json!([id]));
	assert_eq!(view["state"]["state"], json!("refunded"), "{view}");
	let now = node.block_hash(node.best_number()).unwrap();
	// Charlie's earlier chat has settled by now: the refund leaves nothing
	// held.
	assert_eq!(node.held_balance(Charlie, now), 0, "the refund releases the hold");
	eprintln!("refunded {:.0} s after the restart", start.elapsed().as_secs_f64());
	drop(gateway);
	node.stop();
}

/// Clients nobody here wrote, against one gateway: the official `openai`
/// Python package (`scripts/setup-openai.sh` installs it) runs
/// `clients/openai/check_gateway.py` (models, single and batch embeddings,
/// a chat completion, the same streamed, errors), then Debian's chromium,
/// driven by puppeteer-core (`scripts/setup-browser.sh`), uses the
/// playground as a person would (`clients/playground/check_playground.cjs`),
/// saving screenshots under `$CARGO_TARGET_DIR/screenshots`. A client that
/// is not installed is skipped, and says so.
#[test]
fn the_official_openai_client_and_a_browser_are_served() {
	let cache = std::path::PathBuf::from(std::env::var_os("HOME").unwrap_or_default())
		.join(".cache/cinder");
	let python = cache.join("openai-venv/bin/python");
	let puppeteer = cache.join("browser/node_modules");
	if cinder_engine::installed_minilm().is_none()
		|| cinder_engine::llama::installed_smollm2().is_none()
	{
		eprintln!("skipped: run scripts/fetch-models.sh");
		return;
	}
	let models = cinder_engine::models_dir().display().to_string();
	let dir = test_dir("gateway-clients");
	let node = Node::start("dev", dir.path(), &["--dev", "--tmp", "--models-dir", &models]);
	node.wait_until("block #1", Duration::from_secs(120), |n| n.best_number() >= 1);
	let keys = dir.path().join("keys.json");
	std::fs::write(&keys, json!({"sk-dapp": "//Dave", "sk-web": "//Eve"}).to_string()).unwrap();
	let gateway = Gateway::start(&node, &keys);
	let clients = concat!(env!("CARGO_MANIFEST_DIR"), "/../clients");
	let run = |mut command: Command| -> Value {
		let out = command.output().unwrap();
		let stdout = String::from_utf8_lossy(&out.stdout);
		assert!(
			out.status.success(),
			"{command:?} failed:\n{stdout}\n{}",
			String::from_utf8_lossy(&out.stderr)
		);
		let summary: Value =
			serde_json::from_str(stdout.lines().last().unwrap_or_default()).unwrap();
		eprintln!("{summary}");
		summary
	};
	let caller = |request: &Value| {
		let view = node.rpc("inference_request", json!([request.as_u64().unwrap()]));
		view["caller"].as_str().unwrap().to_string()
	};

	if python.exists() {
		let mut command = Command::new(&python);
		command.args([&format!("{clients}/openai/check_gateway.py"), &gateway.base, "sk-dapp"]);
		let summary = run(command);
		assert_eq!(summary["chat"]["reply"], json!("The capital of France is Paris."));
		assert_eq!(summary["stream"]["text"], summary["chat"]["reply"]);
		// Dave's key: Dave's request on chain.
		assert_eq!(
			caller(&summary["chat"]["request"]),
			sp_keyring::Sr25519Keyring::Dave.to_account_id().to_ss58check()
		);
	} else {
		eprintln!("skipped the openai package: run scripts/setup-openai.sh");
	}

	if puppeteer.exists() {
		let shots = std::path::PathBuf::from(
			std::env::var_os("CARGO_TARGET_DIR").unwrap_or_else(|| "target".into()),
		)
		.join("screenshots");
		std::fs::create_dir_all(&shots).unwrap();
		let mut command = Command::new("node");
		command
			.env("NODE_PATH", &puppeteer)
			.arg(format!("{clients}/playground/check_playground.cjs"))
			.args([&gateway.base, "sk-web"])
			.arg(&shots);
		let summary = run(command);
		assert_eq!(summary["reply"], json!("The capital of France is Paris."));
		assert_eq!(
			caller(&summary["chat"]["request"]),
			sp_keyring::Sr25519Keyring::Eve.to_account_id().to_ss58check()
		);
		for stage in ["embeddings", "chat", "settled", "chain"] {
			let shot = shots.join(format!("playground-{stage}.png"));
			assert!(std::fs::metadata(&shot).is_ok_and(|m| m.len() > 10_000), "{}", shot.display());
		}
		eprintln!("screenshots in {}", shots.display());
	} else {
		eprintln!("skipped the browser: run scripts/setup-browser.sh");
	}
}

fn base64_decode(text: &str) -> Vec<u8> {
	use base64::Engine as _;
	base64::engine::general_purpose::STANDARD.decode(text).unwrap()
}
