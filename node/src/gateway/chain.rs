//! What the gateway asks of the chain, over the node's JSON-RPC: models,
//! tokens, quotes, requests made and followed. Blocking calls, run on
//! tokio's blocking pool; each paying account signs under its own lock,
//! so one account's nonces stay in sequence however many clients share it.

use std::{
	sync::Mutex,
	time::{Duration, Instant},
};

use serde_json::json;
use sp_core::crypto::Ss58Codec;

use cinder_runtime::{AccountId, RuntimeCall, RuntimeError, RuntimeEvent};
use pallet_inference_rpc::{Amount, ErrorCode, FeeInfo, ModelInfo, ValidatorInfo};
use pallet_inference_runtime_api::RequestState;

use super::{error::ApiError, openai::CinderInfo};
use crate::{
	client::{
		self, account_data, best_block, dispatch_failure, find_model, next_request_id, typed,
		wait_for_request, wait_included, ClientError, Payer, RequestOf,
	},
	jsonrpc::HttpClient,
};

pub type Model = ModelInfo<AccountId>;

/// An account the gateway pays from.
pub struct Account {
	payer: Mutex<Payer>,
	pub id: AccountId,
}

impl Account {
	pub fn connect(url: &str, suri: &str) -> Result<Self, ClientError> {
		let payer = Payer::connect(url, suri)?;
		let id = payer.account.clone();
		Ok(Self { payer: Mutex::new(payer), id })
	}
}

/// A request the chain took: its id and the block it was made in.
#[derive(Clone, Copy, Debug)]
pub struct Made {
	pub id: u64,
	pub block: u64,
}

/// A signed request in the node's pool.
pub struct Submitted {
	bytes: Vec<u8>,
	/// The best block when it was sent: it lands after this one.
	from: u64,
}

/// How far to follow a request before answering.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Wait {
	/// Until its result is on chain (or it is refunded).
	Answered,
	/// Until its challenge window has closed and it settled (or was
	/// refunded).
	Settled,
}

/// The node the gateway talks to.
#[derive(Clone)]
pub struct Chain {
	rpc: HttpClient,
	/// How long a request is followed before the client is told to look
	/// for it later.
	timeout: Duration,
}

impl Chain {
	pub fn new(rpc: HttpClient, timeout: Duration) -> Self {
		Self { rpc, timeout }
	}

	pub fn models(&self) -> Result<Vec<Model>, ApiError> {
		Ok(typed("inference_models", self.rpc.call("inference_models", json!([]))?)?)
	}

	/// The model `name` names (its name, or its id): the CLI's lookup, whose
	/// unknown model becomes a 404.
	pub fn model(&self, name: &str) -> Result<Model, ApiError> {
		Ok(find_model(&self.rpc, name)?)
	}

	pub fn tokenize(&self, model: u32, text: &str) -> Result<Vec<u32>, ApiError> {
		Ok(client::tokenize(&self.rpc, model, text)?)
	}

	pub fn detokenize(&self, model: u32, ids: &[u32]) -> Result<String, ApiError> {
		Ok(client::detokenize(&self.rpc, model, ids)?)
	}

	/// The most a request for `ids` (a generation of up to `max_new` tokens
	/// after them, if given) can cost, after the checks the transaction
	/// pool runs for `who` holding it: the chain's refusal (unknown model,
	/// input too long, insufficient funds, …) if it would be refused.
	pub fn quote(
		&self,
		model: u32,
		ids: &[u32],
		who: &Account,
		max_new: Option<u32>,
	) -> Result<u128, ApiError> {
		let price: FeeInfo = typed(
			"inference_estimateFee",
			self.rpc
				.call("inference_estimateFee", json!([model, ids, null, null, null, max_new]))?,
		)?;
		// The same request, now with the account that would hold it.
		let checked: FeeInfo = typed(
			"inference_estimateFee",
			self.rpc.call(
				"inference_estimateFee",
				json!([model, ids, null, who.id, price.price, max_new]),
			)?,
		)?;
		Ok(checked.price.0)
	}

	/// Whether `who` has `amount` free to hold (else the chain's
	/// insufficient-funds refusal, 402).
	pub fn can_hold(&self, who: &Account, amount: u128) -> Result<(), ApiError> {
		let free = account_data(&self.rpc, &who.id, None)?.free;
		if free < amount {
			return Err(ClientError::InsufficientFunds {
				account: who.id.to_ss58check(),
				free,
				needed: amount,
			}
			.into());
		}
		Ok(())
	}

	/// Signs `call` from `who` and hands it to the node's pool.
	pub fn submit(&self, who: &Account, call: RuntimeCall) -> Result<Submitted, ApiError> {
		let from = best_block(&self.rpc)?;
		let mut payer = who.payer.lock().map_err(|_| {
			ApiError::from(ClientError::Other("an account's signer panicked".into()))
		})?;
		match payer.submit(call) {
			Ok((bytes, _)) => Ok(Submitted { bytes, from }),
			Err(e) => {
				// The pool refused it, so the nonce was not used; take the
				// node's count again in case the pool had dropped others.
				let _ = payer.resync();
				Err(e.into())
			}
		}
	}

	/// Waits for the block that makes the request `submitted` carries.
	pub fn land(&self, submitted: Submitted) -> Result<Made, ApiError> {
		let Submitted { bytes, from } = submitted;
		let deadline = Instant::now() + self.timeout;
		let included = wait_included(&self.rpc, &bytes, from, deadline)?;
		if let Some(error) = dispatch_failure(&included.events) {
			return Err(refused_in_block(error));
		}
		included
			.events
			.iter()
			.find_map(|e| match e {
				RuntimeEvent::Inference(pallet_inference::Event::Requested { request, .. }) => {
					Some(Made { id: *request, block: included.block })
				}
				_ => None,
			})
			.ok_or_else(|| {
				ClientError::Other(format!(
					"block {} holds the request but not its Requested event",
					included.block
				))
				.into()
			})
	}

	/// Follows request `made` until `wait`; a refunded request is an error.
	pub fn follow(&self, made: Made, wait: Wait) -> Result<RequestOf, ApiError> {
		let deadline = Instant::now() + self.timeout;
		let done = |state: &str| match wait {
			Wait::Answered => matches!(state, "answered" | "frozen" | "settled" | "refunded"),
			Wait::Settled => matches!(state, "settled" | "refunded"),
		};
		let info = wait_for_request(&self.rpc, made.id, deadline, Duration::from_millis(250), done)
			.map_err(|e| {
				ApiError::from(ClientError::Other(format!(
					"{e}; it stays on chain: GET it again later as request {}",
					made.id
				)))
			})?;
		if matches!(info.view.state, RequestState::Refunded { .. }) {
			return Err(ApiError::refunded(self.info(made, &info)));
		}
		Ok(info)
	}

	/// What the answer says about request `made` on chain.
	pub fn info(&self, made: Made, info: &RequestOf) -> CinderInfo {
		describe(made.id, Some(made.block), info)
	}

	/// Request `id` as it stands.
	pub fn status(&self, id: u64) -> Result<CinderInfo, ApiError> {
		let info: RequestOf =
			typed("inference_request", self.rpc.call("inference_request", json!([id]))?)?;
		Ok(describe(id, None, &info))
	}

	/// The id the next request gets.
	pub fn next_request_id(&self) -> Result<u64, ApiError> {
		Ok(next_request_id(&self.rpc)?)
	}

	/// The validators of the active era, their workers and income.
	pub fn validators(&self) -> Result<Vec<ValidatorInfo<AccountId>>, ApiError> {
		Ok(typed("inference_validators", self.rpc.call("inference_validators", json!([]))?)?)
	}
}

/// Request `id`'s view as the gateway's `cinder` field.
fn describe(id: u64, requested_in: Option<u64>, info: &RequestOf) -> CinderInfo {
	let period: u64 =
		<cinder_runtime::Runtime as pallet_inference::Config>::ChallengePeriod::get().into();
	let mut c = CinderInfo {
		request: id,
		model: info.view.model,
		state: String::new(),
		requested_in,
		answered_in: None,
		worker: None,
		trace_root: None,
		steps: None,
		challenge_end: None,
		fee_held: info.view.max_fee,
		price: info.view.price,
		fee_paid: None,
		settled: false,
		settled_in: None,
		account: info.view.caller.to_ss58check(),
		dispute: info.dispute.clone(),
	};
	c.state = match &info.view.state {
		RequestState::Assigned { worker, .. } => {
			c.worker = Some(worker.to_ss58check());
			"assigned"
		}
		RequestState::Answered { worker, trace_root, steps, challenge_end } => {
			c.worker = Some(worker.to_ss58check());
			c.trace_root = Some(format!("{trace_root:?}"));
			c.steps = Some(*steps);
			c.challenge_end = Some((*challenge_end).into());
			c.answered_in = Some(u64::from(*challenge_end).saturating_sub(period));
			"answered"
		}
		RequestState::Frozen { worker, trace_root, steps } => {
			c.worker = Some(worker.to_ss58check());
			c.trace_root = Some(format!("{trace_root:?}"));
			c.steps = Some(*steps);
			"frozen"
		}
		RequestState::Settled { worker, worker_share, protocol_cut, at } => {
			c.worker = Some(worker.to_ss58check());
			c.fee_paid = Some(Amount(worker_share.0.saturating_add(protocol_cut.0)));
			c.settled = true;
			c.settled_in = Some((*at).into());
			"settled"
		}
		RequestState::Refunded { at, .. } => {
			c.settled_in = Some((*at).into());
			"refunded"
		}
	}
	.into();
	c
}

/// A request the chain took into a block and refused there (room and
/// workers are checked in the block: they come and go).
fn refused_in_block(error: sp_runtime::DispatchError) -> ApiError {
	use pallet_inference::{Error as E, Refusal as R};
	let refusal = match RuntimeError::from_dispatch_error(error) {
		Some(RuntimeError::Inference(e)) => match e {
			E::UnknownModel => Some(R::UnknownModel),
			E::ModelRetired => Some(R::ModelRetired),
			E::UnservableModel => Some(R::UnservableModel),
			E::EmptyInput => Some(R::EmptyInput),
			E::InputTooLong => Some(R::InputTooLong),
			E::TokenOutOfRange => Some(R::TokenOutOfRange),
			E::FeeTooLow => Some(R::FeeTooLow),
			E::WrongTask => Some(R::WrongTask),
			E::BadMaxNewTokens => Some(R::BadMaxNewTokens),
			E::TooManyRequests => Some(R::TooManyRequests),
			E::NoEligibleWorker => Some(R::NoEligibleWorker),
			E::InsufficientBalance => Some(R::InsufficientBalance),
			_ => None,
		},
		_ => None,
	};
	match refusal {
		Some(r) => ApiError::from(ClientError::Node(crate::jsonrpc::CallError::Rpc {
			method: "inference.request".into(),
			code: ErrorCode::from(r) as i64,
			message: format!("refused in its block: {r:?}"),
			data: None,
		})),
		None => ClientError::Other(format!("the chain refused the request: {error:?}")).into(),
	}
}
