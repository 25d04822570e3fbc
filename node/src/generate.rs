//! `cinder-node generate`: a chat reply through the chain from the shell.
//! Applies the chat template if asked (the chain sees token ids only),
//! tokenizes over RPC, signs and submits `inference.generate` holding the
//! most the reply can cost, prints the reply as soon as the worker's result
//! is on chain, then the fee paid and what was released at settlement.

use std::time::{Duration, Instant};

use serde_json::json;
use sp_core::crypto::Ss58Codec;

use pallet_inference_rpc::FeeInfo;
use pallet_inference_runtime_api::{ModelKind, RequestState, Sampling};

use crate::client::{
	self, account_data, find_model, find_requests, next_request_id, typed, wait_for_request,
	ClientError, Payer, Result,
};

/// Generate a reply with a chat model through a running chain.
#[derive(Debug, Clone, clap::Args)]
pub struct GenerateCmd {
	/// The prompt (with `--chat`, the user's message).
	pub text: String,

	/// Wrap the text in the model's chat template (ChatML: a user turn,
	/// then the assistant's).
	#[arg(long)]
	pub chat: bool,

	/// Most tokens the reply may have; the fee held covers them all.
	#[arg(long = "max-tokens", default_value_t = 64)]
	pub max_tokens: u32,

	/// Sampling temperature; without it (and without `--top-p`) the reply is
	/// greedy.
	#[arg(long)]
	pub temperature: Option<f32>,

	/// Nucleus sampling: draw from the smallest set of tokens holding this
	/// share of the probability (default 1 when `--temperature` is given).
	#[arg(long = "top-p")]
	pub top_p: Option<f32>,

	/// Seed the draws: the same seed, prompt and sampling give the same
	/// reply (without it, the chain draws a seed when the request is made).
	#[arg(long)]
	pub seed: Option<u64>,

	/// The node's HTTP JSON-RPC endpoint.
	#[arg(long, default_value = "http://127.0.0.1:9944")]
	pub url: String,

	/// Model id or name.
	#[arg(long, default_value = "SmolLM2-135M-Instruct")]
	pub model: String,

	/// Secret URI of the paying account.
	#[arg(long, default_value = "//Bob")]
	pub suri: String,

	/// Most to hold, in plancks; default: what the prompt and `--max-tokens`
	/// generated tokens cost.
	#[arg(long)]
	pub max_fee: Option<u128>,

	/// Give up after this many seconds.
	#[arg(long, default_value_t = 180)]
	pub timeout: u64,

	/// Print only the JSON summary.
	#[arg(long)]
	pub json: bool,
}

impl GenerateCmd {
	/// The sampling the flags ask for.
	fn sampling(&self) -> Sampling {
		match (self.temperature, self.top_p) {
			(None, None) => Sampling::Greedy,
			(t, p) => Sampling::TopP {
				temperature: t.unwrap_or(1.0).to_bits(),
				top_p: p.unwrap_or(1.0).to_bits(),
			},
		}
	}

	pub fn run(&self) -> Result<()> {
		let mut payer = Payer::connect(&self.url, &self.suri)?;
		let account = payer.account.clone();
		let model = find_model(&payer.rpc, &self.model)?;
		if model.kind != ModelKind::Generation {
			return Err(ClientError::Other(format!(
				"model {} ({}) makes embeddings: `cinder-node embed` asks it",
				model.id, model.name
			)));
		}
		let model_id = model.id;
		let prompt = if self.chat {
			cinder_engine::llama::chat_prompt(None, &self.text)
		} else {
			self.text.clone()
		};
		let ids = client::tokenize(&payer.rpc, model_id, &prompt)?;
		// The most it can cost: the prompt and every allowed token.
		let quote = payer.rpc.call(
			"inference_estimateFee",
			json!([model_id, ids, null, null, null, self.max_tokens]),
		)?;
		let most = typed::<FeeInfo>("inference_estimateFee", quote)?.price.0;
		let max_fee = self.max_fee.unwrap_or(most);
		let free = account_data(&payer.rpc, &account, None)?.free;
		if free < max_fee {
			return Err(ClientError::InsufficientFunds {
				account: account.to_ss58check(),
				free,
				needed: max_fee,
			});
		}
		let first_id = next_request_id(&payer.rpc)?;
		let tokens = ids.len();
		let call = cinder_runtime::RuntimeCall::Inference(pallet_inference::Call::generate {
			model: model_id,
			prompt: ids,
			max_new_tokens: self.max_tokens,
			sampling: self.sampling(),
			seed: self.seed,
			max_fee,
		});
		let (_, hash) = payer.submit(call)?;
		if !self.json {
			println!("submitted a generation of up to {} tokens after {tokens} prompt tokens, holding {max_fee}: {hash}", self.max_tokens);
		}
		let deadline = Instant::now() + Duration::from_secs(self.timeout);
		let found = find_requests(&payer.rpc, first_id, &account, model_id, 1, deadline)?;
		let id = found.first().map(|(id, _)| *id).unwrap_or(first_id);
		let poll = Duration::from_millis(500);
		let answered = |s: &str| matches!(s, "answered" | "frozen" | "settled" | "refunded");
		let info = wait_for_request(&payer.rpc, id, deadline, poll, answered)?;
		let reply = info.tokens.clone().unwrap_or_default();
		let text = match info.text {
			Some(text) => text,
			// A node that did not put the text in the request's view.
			None => client::detokenize(&payer.rpc, model_id, &reply)?,
		};
		let text = text.trim_end_matches(cinder_engine::llama::CHAT_TURN_END).to_string();
		if !self.json {
			println!("request {id}: answered");
			println!("  reply: {text}");
			println!("  tokens ({}): {reply:?}", reply.len());
		}
		let finished = |s: &str| s == "settled" || s == "refunded";
		let info = wait_for_request(&payer.rpc, id, deadline, poll, finished)?;
		if self.json {
			println!("{}", json!({"id": id, "reply": text, "tokens": reply, "view": info}));
			return Ok(());
		}
		match info.view.state {
			RequestState::Settled { worker, worker_share, protocol_cut, at } => {
				let paid = worker_share.0 + protocol_cut.0;
				println!(
					"  settled in block {at}: paid {paid} of {max_fee} held ({} to worker {worker}, {} protocol cut), {} released",
					worker_share.0,
					protocol_cut.0,
					max_fee.saturating_sub(paid),
				);
			}
			RequestState::Refunded { amount, at } => {
				println!("  refunded {} in block {at}: no result stood", amount.0);
			}
			_ => println!("  not finished"),
		}
		Ok(())
	}
}
