//! Test harness for end-to-end node tests: starts `cinder-node` processes on
//! free loopback ports, talks JSON-RPC to them over HTTP and subscribes over
//! WebSocket with the node crate's clients (jsonrpsee's), and signs
//! extrinsics the way a wallet would.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::{
	fs::File,
	io::{Read, Write},
	net::{TcpListener, TcpStream},
	path::{Path, PathBuf},
	process::{Child, Command, ExitStatus, Stdio},
	time::{Duration, Instant},
};

use cinder_node::jsonrpc::{CallError, HttpClient};
use cinder_runtime::RuntimeCall;
use codec::Encode;
use serde_json::{json, Value};
use sp_core::H256;
use sp_keyring::Sr25519Keyring;

pub mod network;
pub mod upgrade;

/// A port nobody listens on right now.
pub fn free_port() -> u16 {
	TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// A running `cinder-node` process.
pub struct Node {
	pub name: String,
	pub rpc_port: u16,
	pub p2p_port: u16,
	pub prometheus_port: u16,
	pub log: PathBuf,
	args: Vec<String>,
	child: Option<Child>,
}

impl Node {
	/// Starts `cinder-node` with `args` plus its own ports; its output goes
	/// to `<dir>/<name>.log`.
	pub fn start(name: &str, dir: &Path, args: &[&str]) -> Node {
		let mut node = Node {
			name: name.into(),
			rpc_port: free_port(),
			p2p_port: free_port(),
			prometheus_port: free_port(),
			log: dir.join(format!("{name}.log")),
			args: args.iter().map(|s| s.to_string()).collect(),
			child: None,
		};
		node.spawn();
		node
	}

	/// A handle on a node someone else runs, for its RPC alone.
	pub fn attach(name: &str, rpc_port: u16) -> Node {
		Node {
			name: name.into(),
			rpc_port,
			p2p_port: 0,
			prometheus_port: 0,
			log: PathBuf::new(),
			args: Vec::new(),
			child: None,
		}
	}

	fn spawn(&mut self) {
		let log = File::options().create(true).append(true).open(&self.log).unwrap();
		let child = Command::new(env!("CARGO_BIN_EXE_cinder-node"))
			.args(&self.args)
			.args(["--rpc-port", &self.rpc_port.to_string()])
			.args(["--prometheus-port", &self.prometheus_port.to_string()])
			.args(["--no-telemetry", "--no-mdns", "--listen-addr"])
			.arg(format!("/ip4/127.0.0.1/tcp/{}", self.p2p_port))
			.stdin(Stdio::null())
			.stdout(log.try_clone().unwrap())
			.stderr(log)
			.spawn()
			.expect("cinder-node starts");
		self.child = Some(child);
		self.wait_for_rpc();
	}

	/// Replaces the command-line arguments used by the next [`Node::restart`].
	pub fn set_args(&mut self, args: &[&str]) {
		self.args = args.iter().map(|s| s.to_string()).collect();
	}

	/// Starts the same process again after [`Node::stop`], with the same ports.
	pub fn restart(&mut self) {
		assert!(self.child.is_none(), "{} is still running", self.name);
		self.spawn();
	}

	fn wait_for_rpc(&mut self) {
		let deadline = Instant::now() + Duration::from_secs(120);
		while Instant::now() < deadline {
			if let Some(status) = self.child.as_mut().unwrap().try_wait().unwrap() {
				panic!("{} exited early with {status}:\n{}", self.name, self.log_tail());
			}
			if self.try_rpc("system_health", json!([])).is_ok() {
				return;
			}
			std::thread::sleep(Duration::from_millis(250));
		}
		panic!("{}'s RPC did not come up:\n{}", self.name, self.log_tail());
	}

	/// The lines of the node's log that contain `pattern`.
	pub fn log_lines(&self, pattern: &str) -> String {
		let text = std::fs::read_to_string(&self.log).unwrap_or_default();
		text.lines().filter(|l| l.contains(pattern)).collect::<Vec<_>>().join("\n")
	}

	/// The last lines of the node's log, for failure messages.
	pub fn log_tail(&self) -> String {
		let text = std::fs::read_to_string(&self.log).unwrap_or_default();
		let lines: Vec<&str> = text.lines().collect();
		lines[lines.len().saturating_sub(40)..].join("\n")
	}

	/// The node's libp2p identity, read from its log.
	pub fn peer_id(&self) -> String {
		let deadline = Instant::now() + Duration::from_secs(30);
		while Instant::now() < deadline {
			let text = std::fs::read_to_string(&self.log).unwrap_or_default();
			if let Some(line) = text.lines().find(|l| l.contains("Local node identity is: ")) {
				let id = line.rsplit("Local node identity is: ").next().unwrap();
				return id.split_whitespace().next().unwrap().to_string();
			}
			std::thread::sleep(Duration::from_millis(100));
		}
		panic!("{} never logged its identity", self.name)
	}

	/// This node as a bootnode address for others.
	pub fn multiaddr(&self) -> String {
		format!("/ip4/127.0.0.1/tcp/{}/p2p/{}", self.p2p_port, self.peer_id())
	}

	/// Sends SIGINT and waits for the process to exit; returns its status.
	pub fn stop(&mut self) -> ExitStatus {
		let mut child = self.child.take().expect("node is running");
		let pid = child.id().to_string();
		Command::new("kill").args(["-INT", &pid]).status().unwrap();
		let deadline = Instant::now() + Duration::from_secs(60);
		loop {
			if let Some(status) = child.try_wait().unwrap() {
				return status;
			}
			if Instant::now() > deadline {
				let _ = child.kill();
				panic!("{} did not stop within 60 s:\n{}", self.name, self.log_tail());
			}
			std::thread::sleep(Duration::from_millis(100));
		}
	}

	/// Kills the process with SIGKILL (no shutdown at all: a crash, or
	/// `kill -9`) and reaps it. [`Node::restart`] starts it again.
	pub fn kill(&mut self) {
		let mut child = self.child.take().expect("node is running");
		child.kill().unwrap();
		child.wait().unwrap();
	}

	/// The process id, while running.
	pub fn pid(&self) -> Option<u32> {
		self.child.as_ref().map(Child::id)
	}

	/// One JSON-RPC call over HTTP.
	pub fn try_rpc(&self, method: &str, params: Value) -> Result<Value, CallError> {
		let url = format!("http://127.0.0.1:{}", self.rpc_port);
		HttpClient::new(&url, Duration::from_secs(30))?.call(method, params)
	}

	/// The error code of a JSON-RPC call that must fail.
	pub fn rpc_error_code(&self, method: &str, params: Value) -> i64 {
		match self.try_rpc(method, params) {
			Err(CallError::Rpc { code, .. }) => code,
			other => panic!("{method} should fail with a JSON-RPC error, got {other:?}"),
		}
	}

	/// Subscribes with `method` over a WebSocket of its own (jsonrpsee's
	/// client); `inference_subscribeRequest`'s subscriptions end with
	/// `inference_unsubscribeRequest`.
	pub fn subscribe(&self, method: &str, params: Value) -> Subscription {
		self.try_subscribe(method, params)
			.unwrap_or_else(|e| panic!("subscription refused on {}: {e}", self.name))
	}

	/// Subscribes with `method`, or the node's refusal.
	pub fn try_subscribe(&self, method: &str, params: Value) -> Result<Subscription, CallError> {
		let url = format!("ws://127.0.0.1:{}", self.rpc_port);
		let unsubscribe = method.replace("subscribe", "unsubscribe");
		Ok(Subscription {
			inner: cinder_node::jsonrpc::Subscription::open(&url, method, params, &unsubscribe)?,
		})
	}

	/// A JSON-RPC call that must succeed.
	pub fn rpc(&self, method: &str, params: Value) -> Value {
		self.try_rpc(method, params)
			.unwrap_or_else(|e| panic!("{method} failed on {}: {e}", self.name))
	}

	pub fn block_hash(&self, number: u32) -> Option<H256> {
		let v = self.rpc("chain_getBlockHash", json!([number]));
		v.as_str().map(parse_h256)
	}

	pub fn header_number(&self, hash: Option<H256>) -> u32 {
		let params = match hash {
			Some(h) => json!([format!("{h:?}")]),
			None => json!([]),
		};
		let header = self.rpc("chain_getHeader", params);
		let hex = header["number"].as_str().unwrap().trim_start_matches("0x");
		u32::from_str_radix(hex, 16).unwrap()
	}

	pub fn best_number(&self) -> u32 {
		self.header_number(None)
	}

	pub fn finalized_number(&self) -> u32 {
		let hash = parse_h256(self.rpc("chain_getFinalizedHead", json!([])).as_str().unwrap());
		self.header_number(Some(hash))
	}

	pub fn peers(&self) -> u64 {
		self.rpc("system_health", json!([]))["peers"].as_u64().unwrap()
	}

	/// Polls `check` every half second until it holds or `timeout` passes.
	pub fn wait_until(&self, what: &str, timeout: Duration, mut check: impl FnMut(&Node) -> bool) {
		let deadline = Instant::now() + timeout;
		while Instant::now() < deadline {
			if check(self) {
				return;
			}
			std::thread::sleep(Duration::from_millis(500));
		}
		panic!("{}: timed out waiting for {what}:\n{}", self.name, self.log_tail());
	}

	/// The extrinsics of block `hash`, as hex strings.
	pub fn block_extrinsics(&self, hash: H256) -> Vec<String> {
		let block = self.rpc("chain_getBlock", json!([format!("{hash:?}")]));
		block["block"]["extrinsics"]
			.as_array()
			.unwrap()
			.iter()
			.map(|x| x.as_str().unwrap().to_string())
			.collect()
	}

	/// Free + reserved (held) balance of `who` at block `at`.
	pub fn total_balance(&self, who: Sr25519Keyring, at: H256) -> u128 {
		self.total_balance_of(&who.to_account_id(), at)
	}

	/// Free + reserved (held) balance of any account at block `at`.
	pub fn total_balance_of(&self, who: &cinder_runtime::AccountId, at: H256) -> u128 {
		let data = self.account_data(who, at);
		data.free + data.reserved
	}

	/// Held (reserved) balance of `who` at block `at`.
	pub fn held_balance(&self, who: Sr25519Keyring, at: H256) -> u128 {
		self.held_balance_of(&who.to_account_id(), at)
	}

	/// Held (reserved) balance of any account at block `at`.
	pub fn held_balance_of(&self, who: &cinder_runtime::AccountId, at: H256) -> u128 {
		self.account_data(who, at).reserved
	}

	fn account_data(
		&self,
		who: &cinder_runtime::AccountId,
		at: H256,
	) -> pallet_balances::AccountData<cinder_runtime::Balance> {
		let url = format!("http://127.0.0.1:{}", self.rpc_port);
		let rpc = HttpClient::new(&url, Duration::from_secs(30)).unwrap();
		cinder_node::client::account_data(&rpc, who, Some(at))
			.unwrap_or_else(|e| panic!("account data on {}: {e}", self.name))
	}

	/// The SCALE value under storage `key` at block `at` (best if `None`).
	pub fn storage<T: codec::Decode>(&self, key: &[u8], at: Option<H256>) -> Option<T> {
		let at = at.map(|h| format!("{h:?}"));
		let value = self.rpc("state_getStorage", json!([format!("0x{}", hex::encode(key)), at]));
		let bytes = hex::decode(value.as_str()?.trim_start_matches("0x")).unwrap();
		Some(T::decode(&mut &bytes[..]).unwrap())
	}

	/// The value of Prometheus metric `name` with (at least) `labels`, if
	/// the node exposes it.
	pub fn metric(&self, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
		let mut stream = TcpStream::connect(("127.0.0.1", self.prometheus_port)).ok()?;
		write!(stream, "GET /metrics HTTP/1.0\r\nHost: localhost\r\n\r\n").ok()?;
		let mut text = String::new();
		stream.read_to_string(&mut text).ok()?;
		let wanted: Vec<String> = labels.iter().map(|(k, v)| format!("{k}=\"{v}\"")).collect();
		text.lines().find_map(|line| {
			let rest = line.strip_prefix(name)?;
			let (set, value) = match rest.strip_prefix('{') {
				Some(r) => r.split_once("} ")?,
				None => ("", rest.strip_prefix(' ')?),
			};
			let have: Vec<&str> = set.split(',').collect();
			wanted.iter().all(|w| have.contains(&w.as_str())).then(|| value.trim().parse().ok())?
		})
	}

	pub fn nonce(&self, who: Sr25519Keyring) -> u32 {
		let ss58 = who.to_account_id().to_string();
		self.rpc("system_accountNextIndex", json!([ss58])).as_u64().unwrap() as u32
	}

	/// Signs `call` as `sender` against this chain and submits it; returns
	/// the extrinsic's hex encoding.
	pub fn submit(&self, sender: Sr25519Keyring, call: RuntimeCall) -> String {
		self.try_submit(sender, call).unwrap_or_else(|e| panic!("submit on {}: {e}", self.name))
	}

	/// Submits `call` as `sender` and asserts the transaction pool rejects
	/// it as an invalid transaction for `refusal` (never included, no fee).
	pub fn assert_refused_by_pool(
		&self,
		sender: Sr25519Keyring,
		call: RuntimeCall,
		refusal: pallet_inference::Refusal,
	) {
		match self.try_submit(sender, call) {
			Err(CallError::Rpc { code, data, .. }) => {
				assert_eq!(code, 1010, "an invalid transaction");
				let custom = format!("Custom error: {}", pallet_inference::refusal_code(refusal));
				assert!(data.is_some_and(|d| d.to_string().contains(&custom)), "{refusal:?}");
			}
			other => panic!("{refusal:?}: accepted by the pool: {other:?}"),
		}
	}

	/// [`Node::submit`], with the node's refusal as an error.
	pub fn try_submit(
		&self,
		sender: Sr25519Keyring,
		call: RuntimeCall,
	) -> Result<String, CallError> {
		let ss58 = sender.to_account_id().to_string();
		let nonce = self.try_rpc("system_accountNextIndex", json!([ss58]))?.as_u64().unwrap_or(0);
		self.try_submit_with_nonce(sender, nonce as u32, call)
	}

	/// [`Node::try_submit`] with the sender's nonce given.
	pub fn try_submit_with_nonce(
		&self,
		sender: Sr25519Keyring,
		nonce: u32,
		call: RuntimeCall,
	) -> Result<String, CallError> {
		let genesis = self.block_hash(0).unwrap();
		let xt = cinder_runtime::extrinsic::sign(&sender.pair(), nonce, genesis, call);
		let hex = format!("0x{}", hex::encode(xt.encode()));
		self.try_rpc("author_submitExtrinsic", json!([hex.clone()]))?;
		Ok(hex)
	}

	/// Finds the finalized block that includes extrinsic `xt` (hex),
	/// scanning from block `from`; waits up to `timeout` for it.
	pub fn wait_finalized_inclusion(&self, xt: &str, from: u32, timeout: Duration) -> H256 {
		let deadline = Instant::now() + timeout;
		let mut next = from;
		while Instant::now() < deadline {
			let finalized = self.finalized_number();
			while next <= finalized {
				let hash = self.block_hash(next).unwrap();
				if self.block_extrinsics(hash).iter().any(|x| x == xt) {
					return hash;
				}
				next += 1;
			}
			std::thread::sleep(Duration::from_millis(500));
		}
		panic!("{}: extrinsic not finalized in time:\n{}", self.name, self.log_tail());
	}
}

impl Drop for Node {
	fn drop(&mut self) {
		if let Some(mut child) = self.child.take() {
			let _ = child.kill();
			let _ = child.wait();
		}
	}
}

/// A validator of `chain` with a worker serving the installed models on one
/// thread: `who` is `--alice` and friends, `p2p_key` its node key (so its
/// peer id is known), `extra` more flags, `boot` a bootnode address.
pub fn start_validator(
	dir: &Path,
	chain: &str,
	name: &str,
	who: &str,
	p2p_key: u8,
	extra: &[&str],
	boot: Option<&str>,
) -> Node {
	let models = cinder_engine::models_dir().display().to_string();
	let base = dir.join(name).display().to_string();
	let node_key = format!("{p2p_key:064x}");
	let mut args = vec![
		"--chain",
		chain,
		who,
		"--base-path",
		&base,
		"--node-key",
		&node_key,
		"--worker",
		"--worker-threads",
		"1",
	];
	// The installed models, unless `extra` names another directory.
	if !extra.contains(&"--models-dir") {
		args.extend_from_slice(&["--models-dir", &models]);
	}
	args.extend_from_slice(extra);
	if let Some(boot) = boot {
		args.extend_from_slice(&["--bootnodes", boot]);
	}
	Node::start(name, dir, &args)
}

pub fn parse_h256(s: &str) -> H256 {
	let bytes = hex::decode(s.trim_start_matches("0x")).unwrap();
	H256::from_slice(&bytes)
}

/// A fresh directory for one test's node data and logs; kept after the
/// test (its path printed) when `CINDER_KEEP_TEST_DIRS` is set.
pub fn test_dir(name: &str) -> tempfile::TempDir {
	let mut dir = tempfile::Builder::new().prefix(&format!("cinder-{name}-")).tempdir().unwrap();
	if std::env::var_os("CINDER_KEEP_TEST_DIRS").is_some() {
		dir.disable_cleanup(true);
		eprintln!("{name}: node data and logs kept in {}", dir.path().display());
	}
	dir
}

/// A subscription's notifications.
pub struct Subscription {
	inner: cinder_node::jsonrpc::Subscription,
}

impl Subscription {
	/// The next notification's `result`, within `timeout`.
	pub fn notification(&mut self, timeout: Duration) -> Option<Value> {
		self.inner.next(timeout)
	}
}
