//! What the `inference_*` methods answer: models, quotes and requests, with
//! amounts as decimal strings.

use pallet_inference_runtime_api::{
	FeeQuote, ModelId, ModelKind, RequestId, RequestState, RequestView, Task,
};
use serde::{Deserialize, Serialize};

use crate::{Amount, DisputeInfo};

/// A model as `inference_models` returns it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ModelInfo<AccountId> {
	pub id: ModelId,
	pub name: String,
	pub owner: AccountId,
	/// `"Embedding"` or `"Generation"`.
	pub kind: ModelKind,
	/// Per request, in plancks.
	pub price: Amount,
	/// Per input (prompt) token, on top of `price`.
	pub prompt_token_price: Amount,
	/// Per generated token, on top of `price`.
	pub generated_token_price: Amount,
	pub active: bool,
	pub spec_version: u32,
	/// Longest input, in tokens.
	pub max_input_tokens: u32,
	/// Token ids run from 0 to `vocab_size − 1`.
	pub vocab_size: u32,
	/// Length of an embedding, in bytes; of one generated token id (4,
	/// little-endian u32) for a generation model.
	pub output_bytes: u32,
	pub metadata: String,
	/// `0x`-hex blake2-256 commitments.
	pub weights_hash: String,
	pub weight_root: String,
	pub program_hash: String,
	pub tokenizer_hash: String,
}

/// What a request would cost: `inference_estimateFee`'s answer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FeeInfo {
	/// What the caller pays (the least `maxFee` accepted).
	pub price: Amount,
	/// Of which the worker gets this,
	pub worker_share: Amount,
	/// and the treasury this.
	pub protocol_cut: Amount,
}

impl<B: Into<u128>> From<FeeQuote<B>> for FeeInfo {
	fn from(q: FeeQuote<B>) -> Self {
		Self {
			price: Amount::of(q.price),
			worker_share: Amount::of(q.worker_share),
			protocol_cut: Amount::of(q.protocol_cut),
		}
	}
}

/// A request as `inference_request` returns it: the runtime's view (its
/// amounts as decimal strings; `output` is always `null` here, the result
/// being in `outputHex`), the result as hex and typed: an embedding's f32s,
/// or a generation's token ids; and its dispute, while open or kept after
/// it ended.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(
	rename_all = "camelCase",
	bound(deserialize = "AccountId: Deserialize<'de>, BlockNumber: Deserialize<'de>")
)]
pub struct RequestInfo<AccountId, BlockNumber> {
	#[serde(flatten)]
	pub view: RequestView<AccountId, Amount, BlockNumber>,
	pub output_hex: Option<String>,
	/// An embedding request's result.
	pub embedding: Option<Vec<f32>>,
	/// A generation request's result: the generated token ids.
	#[serde(default)]
	pub tokens: Option<Vec<u32>>,
	/// Their text (the end token's included), when the node answering has
	/// the model's tokenizer.
	#[serde(default)]
	pub text: Option<String>,
	#[serde(default)]
	pub dispute: Option<DisputeInfo<AccountId, BlockNumber>>,
}

/// `state` with its amounts as [`Amount`]s.
fn state_amounts<A, B: Into<u128>, N>(state: RequestState<A, B, N>) -> RequestState<A, Amount, N> {
	match state {
		RequestState::Assigned { worker, deadline, attempt } => {
			RequestState::Assigned { worker, deadline, attempt }
		}
		RequestState::Answered { worker, trace_root, steps, challenge_end } => {
			RequestState::Answered { worker, trace_root, steps, challenge_end }
		}
		RequestState::Frozen { worker, trace_root, steps } => {
			RequestState::Frozen { worker, trace_root, steps }
		}
		RequestState::Settled { worker, worker_share, protocol_cut, at } => RequestState::Settled {
			worker,
			worker_share: Amount::of(worker_share),
			protocol_cut: Amount::of(protocol_cut),
			at,
		},
		RequestState::Refunded { amount, at } => {
			RequestState::Refunded { amount: Amount::of(amount), at }
		}
	}
}

impl<A, N> RequestInfo<A, N> {
	pub(crate) fn from_view<B: Into<u128>>(
		view: RequestView<A, B, N>,
		dispute: Option<DisputeInfo<A, N>>,
	) -> Self {
		let RequestView { id, caller, model, task, max_fee, price, state, output } = view;
		let words = |o: &Vec<u8>| -> Option<Vec<[u8; 4]>> {
			o.len()
				.is_multiple_of(4)
				.then(|| o.chunks_exact(4).map(|c| [c[0], c[1], c[2], c[3]]).collect())
		};
		let (embedding, tokens) = match task {
			Task::Embed => {
				let values = output.as_ref().and_then(words);
				(values.map(|w| w.into_iter().map(f32::from_le_bytes).collect()), None)
			}
			Task::Generate(_) => {
				let ids = output.as_ref().and_then(words);
				(None, ids.map(|w| w.into_iter().map(u32::from_le_bytes).collect()))
			}
		};
		let view = RequestView {
			id,
			caller,
			model,
			task,
			max_fee: max_fee.map(Amount::of),
			price: price.map(Amount::of),
			state: state_amounts(state),
			output: None,
		};
		Self {
			view,
			output_hex: output.as_deref().map(hex),
			embedding,
			tokens,
			text: None,
			dispute,
		}
	}

	/// Whether the request has finished (settled or refunded).
	pub fn is_final(&self) -> bool {
		matches!(self.view.state, RequestState::Settled { .. } | RequestState::Refunded { .. })
	}
}

/// What `inference_subscribeRequest` notifies: the request, or, when it is
/// not made yet, `{"id", "state": {"state": "unknown", "nextRequestId"}}`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum RequestUpdate<AccountId, BlockNumber> {
	Known(Box<RequestInfo<AccountId, BlockNumber>>),
	NotMadeYet { id: RequestId, state: NotMadeYet },
}

/// The state of a request not made yet.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "camelCase")]
pub enum NotMadeYet {
	/// No request has this id yet: the next one made gets `next_request_id`.
	#[serde(rename_all = "camelCase")]
	Unknown { next_request_id: RequestId },
}

pub(crate) fn hex(bytes: &[u8]) -> String {
	sp_core::bytes::to_hex(bytes, false)
}
