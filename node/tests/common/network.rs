//! The four-validator network of `scripts/local-net.sh`, in a test: the
//! genesis validators of the `local` chains (Alice, Bob, Charlie, Dave),
//! each a separate `cinder-node` process on loopback with a worker, a
//! persistent base path in the test's directory and a fixed node key,
//! Alice the bootnode. Plus what the fault tests watch it with: a steady
//! stream of requests, the chain's events, and the sum of every balance.

use std::{
	path::Path,
	sync::{
		atomic::{AtomicBool, Ordering},
		Arc, Mutex,
	},
	thread::JoinHandle,
	time::{Duration, Instant},
};

use cinder_runtime::{genesis_config_presets::minilm, Balance, Runtime, RuntimeCall, RuntimeEvent};
use serde_json::{json, Value};
use sp_core::H256;
use sp_keyring::Sr25519Keyring;

use super::{start_validator, Node};

/// The genesis validators of `local` and `local-fast`: node name, the
/// dev-key flag, the node-key seed byte (as in `scripts/local-net.sh`).
pub const VALIDATORS: [(&str, &str, u8); 4] = [
	("alice", "--alice", 1),
	("bob", "--bob", 2),
	("charlie", "--charlie", 3),
	("dave", "--dave", 4),
];

/// Starts the four validators of `chain` (with `extra(name)` more flags
/// each) and waits until every one has found the other three.
pub fn start_network(dir: &Path, chain: &str, extra: impl Fn(&str) -> Vec<String>) -> Vec<Node> {
	let mut nodes: Vec<Node> = Vec::new();
	let mut boot: Option<String> = None;
	for (name, flag, key) in VALIDATORS {
		let more = extra(name);
		let more: Vec<&str> = more.iter().map(String::as_str).collect();
		let node = start_validator(dir, chain, name, flag, key, &more, boot.as_deref());
		if boot.is_none() {
			boot = Some(node.multiaddr());
		}
		nodes.push(node);
	}
	for n in &nodes {
		n.wait_until("three peers", Duration::from_secs(90), |n| n.peers() >= 3);
	}
	nodes
}

/// A dapp sending one MiniLM request every `every` through one node's RPC,
/// from a thread, until stopped; paid by Ferdie's stash (no stake, so its
/// balance moves only by what it pays).
pub struct RequestStream {
	stop: Arc<AtomicBool>,
	/// The extrinsics the node accepted, hex-encoded, in order.
	sent: Arc<Mutex<Vec<String>>>,
	thread: Option<JoinHandle<()>>,
	/// The first request id of the stream.
	pub first: u64,
}

/// The account the stream pays from.
pub const DAPP: Sr25519Keyring = Sr25519Keyring::FerdieStash;

const TEXTS: [&str; 4] = [
	"Validators run the model and post the result.",
	"A node killed mid-block loses nothing it finalized.",
	"Requests are reassigned when a worker misses its deadline.",
	"Every escrow is paid out or refunded.",
];

impl RequestStream {
	pub fn start(node: &Node, every: Duration) -> Self {
		let inputs: Vec<Vec<u32>> = TEXTS
			.iter()
			.map(|t| serde_json::from_value(node.rpc("inference_tokenize", json!([0, t]))).unwrap())
			.collect();
		let first = next_request_id(node, None);
		let stop = Arc::new(AtomicBool::new(false));
		let sent = Arc::new(Mutex::new(Vec::new()));
		let port = node.rpc_port;
		let (stop2, sent2) = (stop.clone(), sent.clone());
		let thread = std::thread::spawn(move || {
			let node = Node::attach("stream", port);
			// The stream counts its own nonces, as a wallet does: the node's
			// next index is read only at the start and after a refusal (it
			// comes from one fork's view of the pool and may be ahead of
			// what gets included, which would leave a gap nothing fills).
			let mut nonce: Option<u32> = None;
			let mut i = 0usize;
			while !stop2.load(Ordering::SeqCst) {
				let call = RuntimeCall::Inference(pallet_inference::Call::request {
					model: 0,
					input: inputs[i % inputs.len()].clone(),
					max_fee: minilm::PRICE,
				});
				let next = match nonce {
					Some(n) => Ok(n),
					None => node
						.try_rpc(
							"system_accountNextIndex",
							json!([DAPP.to_account_id().to_string()]),
						)
						.map(|v| v.as_u64().unwrap() as u32),
				};
				// A node busy importing may refuse a call; the next one tries
				// again with the nonce read afresh.
				match next.and_then(|n| node.try_submit_with_nonce(DAPP, n, call).map(|xt| (n, xt)))
				{
					Ok((n, xt)) => {
						sent2.lock().unwrap().push(xt);
						nonce = Some(n + 1);
					}
					Err(_) => nonce = None,
				}
				i += 1;
				std::thread::sleep(every);
			}
		});
		Self { stop, sent, thread: Some(thread), first }
	}

	/// Requests submitted so far.
	pub fn sent(&self) -> u64 {
		self.sent.lock().unwrap().len() as u64
	}

	/// Stops sending; returns the extrinsics submitted (hex), in order.
	pub fn stop(mut self) -> Vec<String> {
		self.stop.store(true, Ordering::SeqCst);
		if let Some(t) = self.thread.take() {
			t.join().unwrap();
		}
		std::mem::take(&mut *self.sent.lock().unwrap())
	}
}

impl Drop for RequestStream {
	fn drop(&mut self) {
		self.stop.store(true, Ordering::SeqCst);
	}
}

/// The state name of request `id` (`assigned`, `answered`, `frozen`,
/// `settled`, `refunded`), or `None` if the node does not know it.
pub fn request_state(node: &Node, id: u64) -> Option<(String, Value)> {
	let view = node.try_rpc("inference_request", json!([id])).ok()?;
	let state = view["state"]["state"].as_str()?.to_string();
	Some((state, view))
}

/// The id the next request gets, at block `at` (the best if `None`).
pub fn next_request_id(node: &Node, at: Option<H256>) -> u64 {
	let at = at.map(|h| format!("{h:?}"));
	node.rpc("inference_nextRequestId", json!([at])).as_u64().unwrap()
}

/// The positions in `sent` of the extrinsics not on `node`'s best chain
/// from block `from` on.
pub fn missing_from_chain(node: &Node, sent: &[String], from: u32) -> Vec<usize> {
	let mut on_chain = std::collections::HashSet::new();
	for n in from..=node.best_number() {
		on_chain.extend(node.block_extrinsics(node.block_hash(n).unwrap()));
	}
	sent.iter().enumerate().filter(|(_, x)| !on_chain.contains(*x)).map(|(i, _)| i).collect()
}

/// Why some of the stream's extrinsics `sent` are not on `node`'s best
/// chain (searched from block `from`): which are missing (by position in
/// the stream), the dapp's nonce on chain and in the pool, what the pool
/// holds, and the dapp's failed extrinsics.
pub fn missing_report(node: &Node, sent: &[String], from: u32) -> String {
	let best = node.best_number();
	let mut failed = Vec::new();
	for n in from..=best {
		for e in events(node, node.block_hash(n).unwrap()) {
			if let RuntimeEvent::System(frame_system::Event::ExtrinsicFailed {
				dispatch_error,
				..
			}) = e
			{
				failed.push((n, dispatch_error));
			}
		}
	}
	let missing = missing_from_chain(node, sent, from);
	let account = frame_system::Account::<Runtime>::hashed_key_for(DAPP.to_account_id());
	let info: Option<
		frame_system::AccountInfo<cinder_runtime::Nonce, pallet_balances::AccountData<Balance>>,
	> = node.storage(&account, None);
	let pending = node.rpc("author_pendingExtrinsics", json!([]));
	format!(
		"{} of {} sent not in #{from}..=#{best}, at positions {missing:?}; the dapp's nonce on \
		 chain {:?}, in the pool {}; {} extrinsics pending; failed extrinsics: {failed:?}",
		missing.len(),
		sent.len(),
		info.map(|i| i.nonce),
		node.nonce(DAPP),
		pending.as_array().map_or(0, Vec::len),
	)
}

/// Waits until every request in `ids` is settled or refunded; returns
/// (settled, refunded).
pub fn wait_all_finished(node: &Node, ids: std::ops::Range<u64>, timeout: Duration) -> (u64, u64) {
	let deadline = Instant::now() + timeout;
	loop {
		let states: Vec<Option<String>> =
			ids.clone().map(|id| request_state(node, id).map(|(s, _)| s)).collect();
		let count = |s: &str| states.iter().filter(|x| x.as_deref() == Some(s)).count() as u64;
		let (settled, refunded) = (count("settled"), count("refunded"));
		if settled + refunded == ids.end - ids.start {
			return (settled, refunded);
		}
		if Instant::now() > deadline {
			let open: Vec<(u64, Option<String>)> = ids
				.clone()
				.zip(states)
				.filter(|(_, s)| !matches!(s.as_deref(), Some("settled" | "refunded")))
				.collect();
			panic!("requests still open at the timeout: {open:?}\n{}", node.log_tail());
		}
		std::thread::sleep(Duration::from_secs(1));
	}
}

/// The runtime events of block `hash`.
pub fn events(node: &Node, hash: H256) -> Vec<RuntimeEvent> {
	let key = cinder_node::client::events_key();
	let records: Vec<frame_system::EventRecord<RuntimeEvent, H256>> =
		node.storage(&key, Some(hash)).unwrap_or_default();
	records.into_iter().map(|r| r.event).collect()
}

/// The events of blocks `from..=to` of the node's best chain.
pub fn events_between(node: &Node, from: u32, to: u32) -> Vec<(u32, RuntimeEvent)> {
	(from..=to)
		.flat_map(|n| {
			let hash = node.block_hash(n).unwrap();
			events(node, hash).into_iter().map(move |e| (n, e))
		})
		.collect()
}

/// At block `at`: (the sum of every account's free and held balance,
/// total issuance).
pub fn balances_and_issuance(node: &Node, at: H256) -> (Balance, Balance) {
	let prefix =
		[sp_io::hashing::twox_128(b"System"), sp_io::hashing::twox_128(b"Account")].concat();
	let at_hex = format!("{at:?}");
	let mut sum: Balance = 0;
	let mut start: Option<String> = None;
	loop {
		let keys = node.rpc(
			"state_getKeysPaged",
			json!([format!("0x{}", hex::encode(&prefix)), 512, start, at_hex]),
		);
		let keys: Vec<String> = serde_json::from_value(keys).unwrap();
		for k in &keys {
			let bytes = hex::decode(k.trim_start_matches("0x")).unwrap();
			let info: frame_system::AccountInfo<
				cinder_runtime::Nonce,
				pallet_balances::AccountData<Balance>,
			> = node.storage(&bytes, Some(at)).unwrap();
			sum += info.data.free + info.data.reserved;
		}
		if keys.len() < 512 {
			break;
		}
		start = keys.last().cloned();
	}
	let issuance: Balance =
		node.storage(&pallet_balances::TotalIssuance::<Runtime>::hashed_key(), Some(at)).unwrap();
	(sum, issuance)
}

/// The active era at block `at`.
pub fn active_era(node: &Node, at: Option<H256>) -> u32 {
	let key = pallet_staking::ActiveEra::<Runtime>::hashed_key();
	node.storage::<pallet_staking::ActiveEraInfo>(&key, at).map(|a| a.index).unwrap_or(0)
}
