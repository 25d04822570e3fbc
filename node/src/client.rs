//! `cinder-node embed`: a dapp's round trip from the shell. Tokenizes text
//! over RPC, signs and submits `inference.request` from a dev or given key,
//! waits for the worker's result and the settlement, and prints the
//! embedding (and, for two texts, their cosine similarity).

use std::time::{Duration, Instant};

use codec::{Decode, Encode};
use serde_json::{json, Value};
use sp_core::{crypto::Ss58Codec, sr25519, Pair, H256};

use pallet_inference_rpc::{ModelInfo, RequestInfo};
use pallet_inference_runtime_api::RequestState;

use crate::jsonrpc::{CallError, HttpClient};

/// `inference_request`'s answer, typed.
pub(crate) type RequestOf = RequestInfo<cinder_runtime::AccountId, cinder_runtime::BlockNumber>;

/// `value` read as `T`, or what was wrong with it.
pub(crate) fn typed<T: jsonrpsee::core::DeserializeOwned>(what: &str, value: Value) -> Result<T> {
	serde_json::from_value(value).map_err(|e| ClientError::Other(format!("{what}: {e}")))
}

/// Run a model on text through the chain and print the result.
#[derive(Debug, Clone, clap::Args)]
pub struct EmbedCmd {
	/// The texts to embed (one request each).
	#[arg(required = true, num_args = 1..=2)]
	pub texts: Vec<String>,

	/// The node's HTTP JSON-RPC endpoint.
	#[arg(long, default_value = "http://127.0.0.1:9944")]
	pub url: String,

	/// Model id or name.
	#[arg(long, default_value = "0")]
	pub model: String,

	/// Secret URI of the paying account (a dev name such as `//Bob`, or a
	/// mnemonic).
	#[arg(long, default_value = "//Bob")]
	pub suri: String,

	/// Most to hold, in plancks; default: the model's price.
	#[arg(long)]
	pub max_fee: Option<u128>,

	/// Give up after this many seconds.
	#[arg(long, default_value_t = 120)]
	pub timeout: u64,

	/// Print only the JSON summary.
	#[arg(long)]
	pub json: bool,
}

/// What can go wrong, with what to tell the user.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
	#[error(transparent)]
	Node(#[from] CallError),
	#[error("unknown model {0:?}; `inference_models` lists the registered ones")]
	UnknownModel(String),
	#[error(
		"insufficient funds: {account} has {free} free, the request holds {needed} (plus fees)"
	)]
	InsufficientFunds { account: String, free: u128, needed: u128 },
	#[error("bad secret URI: {0}")]
	BadKey(String),
	#[error("{0}")]
	Other(String),
}

pub(crate) type Result<T> = std::result::Result<T, ClientError>;

/// The node's endpoint; a call waits at most a minute for its answer.
pub(crate) fn connect(url: &str) -> Result<HttpClient> {
	Ok(HttpClient::new(url, Duration::from_secs(60))?)
}

pub(crate) fn hex_decode(s: &str) -> Result<Vec<u8>> {
	sp_core::bytes::from_hex(s).map_err(|e| ClientError::Other(format!("bad hex {s}: {e}")))
}

pub(crate) fn hex_encode(bytes: &[u8]) -> String {
	sp_core::bytes::to_hex(bytes, false)
}

/// A signing account connected to a node: what `embed`, `load` and `stake`
/// submit transactions with. Tracks the nonce locally, so transactions can
/// be sent back to back.
pub(crate) struct Payer {
	pub(crate) rpc: HttpClient,
	pair: sr25519::Pair,
	pub(crate) account: cinder_runtime::AccountId,
	genesis: H256,
	nonce: u32,
}

impl Payer {
	pub(crate) fn connect(url: &str, suri: &str) -> Result<Self> {
		let rpc = connect(url)?;
		let pair = sr25519::Pair::from_string(suri, None)
			.map_err(|e| ClientError::BadKey(format!("{e:?}")))?;
		let account = cinder_runtime::AccountId::from(pair.public());
		let genesis: H256 =
			typed("chain_getBlockHash", rpc.call("chain_getBlockHash", json!([0]))?)?;
		let nonce = next_nonce(&rpc, &account)?;
		Ok(Self { rpc, pair, account, genesis, nonce })
	}

	/// Takes the account's next nonce from the node again (after a
	/// transaction the pool refused or dropped).
	pub(crate) fn resync(&mut self) -> Result<()> {
		self.nonce = next_nonce(&self.rpc, &self.account)?;
		Ok(())
	}

	/// Signs `call` with the next nonce and submits it; returns its
	/// encoding and the transaction hash.
	pub(crate) fn submit(&mut self, call: cinder_runtime::RuntimeCall) -> Result<(Vec<u8>, Value)> {
		let xt = cinder_runtime::extrinsic::sign(&self.pair, self.nonce, self.genesis, call);
		let bytes = xt.encode();
		let hash = self.rpc.call("author_submitExtrinsic", json!([hex_encode(&bytes)]))?;
		self.nonce += 1;
		Ok((bytes, hash))
	}

	/// Signs and submits `inference.request`; returns its encoding and the
	/// transaction hash.
	pub(crate) fn request(
		&mut self,
		model: u32,
		input: Vec<u32>,
		max_fee: u128,
	) -> Result<(Vec<u8>, Value)> {
		let call = cinder_runtime::RuntimeCall::Inference(pallet_inference::Call::request {
			model,
			input,
			max_fee,
		});
		self.submit(call)
	}
}

/// The account's next nonce, counting its transactions in the node's pool.
fn next_nonce(rpc: &HttpClient, account: &cinder_runtime::AccountId) -> Result<u32> {
	let next = rpc.call("system_accountNextIndex", json!([account.to_ss58check()]))?;
	let n = next.as_u64().ok_or_else(|| ClientError::Other(format!("unreadable nonce {next}")))?;
	u32::try_from(n).map_err(|e| ClientError::Other(format!("nonce {n}: {e}")))
}

/// The SCALE value under storage `key` (at block `at`, or the best block).
pub(crate) fn storage<T: Decode>(
	rpc: &HttpClient,
	key: &[u8],
	at: Option<H256>,
) -> Result<Option<T>> {
	let at = at.map(|h| format!("{h:?}"));
	let value = rpc.call("state_getStorage", json!([hex_encode(key), at]))?;
	let Some(hex) = value.as_str() else { return Ok(None) };
	T::decode(&mut &hex_decode(hex)?[..])
		.map(Some)
		.map_err(|e| ClientError::Other(format!("undecodable storage value: {e}")))
}

/// The storage key of `System::Events` (the storage item is private to
/// `frame-system`): a block's events, as `Vec<EventRecord<RuntimeEvent,
/// H256>>`.
pub fn events_key() -> Vec<u8> {
	[sp_io::hashing::twox_128(b"System"), sp_io::hashing::twox_128(b"Events")].concat()
}

/// A transaction in a block: the block's number and the events the
/// transaction raised.
pub(crate) struct Included {
	pub(crate) block: u64,
	pub(crate) events: Vec<cinder_runtime::RuntimeEvent>,
}

/// Waits for the first block after `from` that holds the extrinsic `bytes`
/// and returns its events; fails at `deadline`. A node that cannot be
/// reached for a while (restarting) is waited for.
pub(crate) fn wait_included(
	rpc: &HttpClient,
	bytes: &[u8],
	from: u64,
	deadline: Instant,
) -> Result<Included> {
	let mut next = from.saturating_add(1);
	loop {
		match best_block(rpc) {
			Ok(best) => {
				while next <= best {
					if let Some(events) = events_of_extrinsic(rpc, next, bytes)? {
						return Ok(Included { block: next, events });
					}
					next += 1;
				}
			}
			Err(ClientError::Node(CallError::Transport { .. })) => {}
			Err(e) => return Err(e),
		}
		if Instant::now() > deadline {
			return Err(ClientError::Other(format!(
				"the transaction was not in a block by the timeout (searched to block {})",
				next.saturating_sub(1)
			)));
		}
		std::thread::sleep(Duration::from_millis(500));
	}
}

/// The events of the extrinsic `bytes` if block `number` holds it.
fn events_of_extrinsic(
	rpc: &HttpClient,
	number: u64,
	bytes: &[u8],
) -> Result<Option<Vec<cinder_runtime::RuntimeEvent>>> {
	let (at, extrinsics) = block_extrinsics(rpc, number)?;
	let Some(index) = extrinsics.iter().position(|x| x[..] == bytes[..]) else {
		return Ok(None);
	};
	let records: Vec<frame_system::EventRecord<cinder_runtime::RuntimeEvent, H256>> =
		storage(rpc, &events_key(), Some(at))?.unwrap_or_default();
	Ok(Some(
		records
			.into_iter()
			.filter(|r| r.phase == frame_system::Phase::ApplyExtrinsic(index as u32))
			.map(|r| r.event)
			.collect(),
	))
}

/// The error a failed extrinsic's events report, if it failed.
pub(crate) fn dispatch_failure(
	events: &[cinder_runtime::RuntimeEvent],
) -> Option<sp_runtime::DispatchError> {
	events.iter().find_map(|event| match event {
		cinder_runtime::RuntimeEvent::System(frame_system::Event::ExtrinsicFailed {
			dispatch_error,
			..
		}) => Some(*dispatch_error),
		_ => None,
	})
}

/// The number of the block with hash `hash` (the best block if `null`).
fn block_number(rpc: &HttpClient, hash: Value) -> Result<u64> {
	let header: cinder_runtime::Header =
		typed("chain_getHeader", rpc.call("chain_getHeader", json!([hash]))?)?;
	Ok(header.number.into())
}

/// `chain_getBlock`'s answer, as far as a client reads it.
#[derive(serde::Deserialize)]
struct BlockAnswer {
	block: BlockBody,
}

#[derive(serde::Deserialize)]
struct BlockBody {
	extrinsics: Vec<sp_core::Bytes>,
}

/// Block `number`'s hash and its extrinsics, encoded.
pub(crate) fn block_extrinsics(rpc: &HttpClient, number: u64) -> Result<(H256, Vec<Vec<u8>>)> {
	let hash: Option<H256> =
		typed("chain_getBlockHash", rpc.call("chain_getBlockHash", json!([number]))?)?;
	let hash = hash.ok_or_else(|| ClientError::Other(format!("no block #{number} yet")))?;
	let block: BlockAnswer = typed("chain_getBlock", rpc.call("chain_getBlock", json!([hash]))?)?;
	Ok((hash, block.block.extrinsics.into_iter().map(|b| b.0).collect()))
}

/// The id the next request will get.
pub(crate) fn next_request_id(rpc: &HttpClient) -> Result<u64> {
	typed("inference_nextRequestId", rpc.call("inference_nextRequestId", json!([]))?)
}

/// `text` in model `model`'s tokens, by the node's tokenizer.
pub(crate) fn tokenize(rpc: &HttpClient, model: u32, text: &str) -> Result<Vec<u32>> {
	typed("inference_tokenize", rpc.call("inference_tokenize", json!([model, text]))?)
}

/// The text of model `model`'s tokens `ids`, by the node's tokenizer.
pub(crate) fn detokenize(rpc: &HttpClient, model: u32, ids: &[u32]) -> Result<String> {
	typed("inference_detokenize", rpc.call("inference_detokenize", json!([model, ids]))?)
}

/// The name of a request's state, as `state.state` spells it in JSON.
pub(crate) fn state_name<A, B, N>(state: &RequestState<A, B, N>) -> &'static str {
	match state {
		RequestState::Assigned { .. } => "assigned",
		RequestState::Answered { .. } => "answered",
		RequestState::Frozen { .. } => "frozen",
		RequestState::Settled { .. } => "settled",
		RequestState::Refunded { .. } => "refunded",
	}
}

/// The best block's number.
pub(crate) fn best_block(rpc: &HttpClient) -> Result<u64> {
	block_number(rpc, Value::Null)
}

/// The finalized block's number.
pub(crate) fn finalized_block(rpc: &HttpClient) -> Result<u64> {
	let hash = rpc.call("chain_getFinalizedHead", json!([]))?;
	block_number(rpc, hash)
}

/// The balances of `who` (at block `at`, or the best block), read from
/// `System::Account` storage.
pub fn account_data(
	rpc: &HttpClient,
	who: &cinder_runtime::AccountId,
	at: Option<H256>,
) -> Result<pallet_balances::AccountData<cinder_runtime::Balance>> {
	let key = frame_system::Account::<cinder_runtime::Runtime>::hashed_key_for(who);
	let info: Option<
		frame_system::AccountInfo<
			cinder_runtime::Nonce,
			pallet_balances::AccountData<cinder_runtime::Balance>,
		>,
	> = storage(rpc, &key, at)?;
	Ok(info.map(|i| i.data).unwrap_or_default())
}

/// Polls request `id` until `done` holds for its state name (`assigned`,
/// `answered`, `frozen`, `settled`, `refunded`); returns its view. A request
/// not on chain yet, or a node that cannot be reached for a while
/// (restarting), is waited for; an answer that is not a request, or
/// `deadline`, ends it.
pub(crate) fn wait_for_request(
	rpc: &HttpClient,
	id: u64,
	deadline: Instant,
	poll: Duration,
	done: impl Fn(&str) -> bool,
) -> Result<RequestOf> {
	loop {
		let state = match rpc.call("inference_request", json!([id])) {
			Ok(view) => {
				let info: RequestOf = typed("inference_request", view)?;
				let state = state_name(&info.view.state);
				if done(state) {
					return Ok(info);
				}
				state.to_string()
			}
			Err(CallError::Rpc { .. }) => "not on chain yet".into(),
			// The node may be restarting: the request is still on chain.
			Err(CallError::Transport { .. }) => "unknown (the node is unreachable)".into(),
		};
		if Instant::now() > deadline {
			return Err(ClientError::Other(format!("request {id} still {state} at the timeout")));
		}
		std::thread::sleep(poll);
	}
}

/// The first `count` requests from `first_id` on that `account` made of
/// `model`, with their views, as they land; fails at `deadline`.
pub(crate) fn find_requests(
	rpc: &HttpClient,
	first_id: u64,
	account: &cinder_runtime::AccountId,
	model: u32,
	count: usize,
	deadline: Instant,
) -> Result<Vec<(u64, RequestOf)>> {
	let mut found: Vec<(u64, RequestOf)> = Vec::new();
	let mut next = first_id;
	while found.len() < count {
		if Instant::now() > deadline {
			return Err(ClientError::Other("timed out waiting for the request to land".into()));
		}
		match rpc.call("inference_request", json!([next])) {
			Ok(view) => {
				let info: RequestOf = typed("inference_request", view)?;
				if info.view.caller == *account && info.view.model == model {
					found.push((next, info));
				}
				next += 1;
			}
			Err(CallError::Rpc { .. }) => std::thread::sleep(Duration::from_millis(500)),
			Err(e) => return Err(e.into()),
		}
	}
	Ok(found)
}

/// The registered model `wanted` names, by id or by name.
pub(crate) fn find_model(
	rpc: &HttpClient,
	wanted: &str,
) -> Result<ModelInfo<cinder_runtime::AccountId>> {
	let models: Vec<ModelInfo<cinder_runtime::AccountId>> =
		typed("inference_models", rpc.call("inference_models", json!([]))?)?;
	models
		.into_iter()
		.find(|m| wanted.parse::<u32>().ok() == Some(m.id) || m.name == wanted)
		.ok_or_else(|| ClientError::UnknownModel(wanted.to_string()))
}

impl EmbedCmd {
	pub fn run(&self) -> Result<()> {
		let mut payer = Payer::connect(&self.url, &self.suri)?;
		let account = payer.account.clone();
		let model = find_model(&payer.rpc, &self.model)?;
		let (model_id, price) = (model.id, model.price.0);
		let max_fee = self.max_fee.unwrap_or(price);
		let needed = max_fee.saturating_mul(self.texts.len() as u128);
		let free = account_data(&payer.rpc, &account, None)?.free;
		if free < needed {
			return Err(ClientError::InsufficientFunds {
				account: account.to_ss58check(),
				free,
				needed,
			});
		}
		let first_id = next_request_id(&payer.rpc)?;

		let mut pending = Vec::new();
		for text in &self.texts {
			let ids = tokenize(&payer.rpc, model_id, text)?;
			payer.rpc.call("inference_estimateFee", json!([model_id, ids]))?;
			let tokens = ids.len();
			let (_, hash) = payer.request(model_id, ids, max_fee)?;
			if !self.json {
				println!("submitted request for {text:?} ({tokens} tokens): {hash}");
			}
			pending.push(text.clone());
		}

		// Find our requests among the ones made since, and wait for them.
		let deadline = Instant::now() + Duration::from_secs(self.timeout);
		let found =
			find_requests(&payer.rpc, first_id, &account, model_id, pending.len(), deadline)?;
		let mut results = Vec::new();
		for (id, _) in &found {
			let finished = |state: &str| state == "settled" || state == "refunded";
			let view =
				wait_for_request(&payer.rpc, *id, deadline, Duration::from_millis(500), finished)?;
			results.push((*id, view));
		}

		let infos: Vec<&RequestOf> = results.iter().map(|(_, info)| info).collect();
		let vectors: Vec<Vec<f32>> =
			infos.iter().map(|i| i.embedding.clone().unwrap_or_default()).collect();
		let similarity = (vectors.len() == 2 && !vectors[0].is_empty() && !vectors[1].is_empty())
			.then(|| cinder_engine::model::cosine(&vectors[0], &vectors[1]));
		if self.json {
			let out = json!({
				"requests": results.iter().map(|(id, v)| json!({"id": id, "view": v})).collect::<Vec<_>>(),
				"cosine": similarity,
			});
			println!("{out}");
			return Ok(());
		}
		for (((id, _), info), (text, vector)) in
			results.iter().zip(infos).zip(pending.iter().zip(&vectors))
		{
			match &info.view.state {
				RequestState::Settled { worker, worker_share, protocol_cut, at } => {
					println!("request {id} for {text:?}: settled");
					let head: Vec<String> =
						vector.iter().take(8).map(|x| format!("{x:+.4}")).collect();
					println!("  embedding ({} dims): [{}, …]", vector.len(), head.join(", "));
					println!(
						"  worker {worker} paid {} (protocol cut {}), settled in block {at}",
						worker_share.0, protocol_cut.0
					);
				}
				RequestState::Refunded { amount, at } => {
					println!("request {id} for {text:?}: refunded");
					println!("  no result ({} refunded in block {at})", amount.0);
				}
				_ => println!("request {id} for {text:?}: not finished"),
			}
		}
		if let Some(c) = similarity {
			println!("cosine similarity: {c:.4}");
		}
		Ok(())
	}
}
