//! OpenAI's request and response shapes, as the gateway reads and writes
//! them (the fields an OpenAI client sends and reads; unknown request
//! fields are ignored, as OpenAI's own API does), plus the `cinder` field
//! every answer carries.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use cinder_runtime::{AccountId, BlockNumber};
use pallet_inference_rpc::{Amount, DisputeInfo};

/// `POST /v1/embeddings`.
#[derive(Debug, Deserialize)]
pub struct EmbeddingsRequest {
	pub model: String,
	pub input: EmbeddingInput,
	/// `float` (the default) or `base64` (little-endian f32s, what the
	/// official Python client asks for).
	#[serde(default)]
	pub encoding_format: Option<String>,
	/// Must be the model's width if given: the chain's embeddings are not
	/// truncated.
	#[serde(default)]
	pub dimensions: Option<u32>,
}

/// An embeddings request's input: one text, several, or token ids.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub enum EmbeddingInput {
	Text(String),
	Texts(Vec<String>),
	Tokens(Vec<u32>),
	TokenLists(Vec<Vec<u32>>),
}

/// One input of an embeddings request.
#[derive(Clone, Debug)]
pub enum Input {
	Text(String),
	Tokens(Vec<u32>),
}

impl EmbeddingInput {
	/// The inputs, one request each.
	pub fn into_inputs(self) -> Vec<Input> {
		match self {
			Self::Text(t) => vec![Input::Text(t)],
			Self::Texts(ts) => ts.into_iter().map(Input::Text).collect(),
			Self::Tokens(ids) => vec![Input::Tokens(ids)],
			Self::TokenLists(lists) => lists.into_iter().map(Input::Tokens).collect(),
		}
	}
}

/// `POST /v1/chat/completions`.
#[derive(Debug, Deserialize)]
pub struct ChatRequest {
	pub model: String,
	pub messages: Vec<Message>,
	/// The reply's most tokens (`max_completion_tokens` is OpenAI's newer
	/// name; either is read).
	#[serde(default)]
	pub max_tokens: Option<u32>,
	#[serde(default)]
	pub max_completion_tokens: Option<u32>,
	/// OpenAI's default is 1; 0 is greedy decoding.
	#[serde(default)]
	pub temperature: Option<f32>,
	#[serde(default)]
	pub top_p: Option<f32>,
	/// The draws' seed: the same seed, messages and sampling give the same
	/// reply. Without one, the chain draws it when the request is made.
	#[serde(default)]
	pub seed: Option<i64>,
	#[serde(default)]
	pub stream: Option<bool>,
	#[serde(default)]
	pub stream_options: Option<StreamOptions>,
	/// More than one choice is refused (one request, one reply).
	#[serde(default)]
	pub n: Option<u32>,
	/// Stop sequences are refused: the program runs to the end token or
	/// `max_tokens`, and what it computes is what is paid for.
	#[serde(default)]
	pub stop: Option<Value>,
}

#[derive(Debug, Default, Deserialize)]
pub struct StreamOptions {
	#[serde(default)]
	pub include_usage: bool,
}

/// One turn of a conversation.
#[derive(Debug, Deserialize)]
pub struct Message {
	pub role: String,
	#[serde(default)]
	pub content: Content,
}

/// A message's content: a string, or parts of which the text ones count.
#[derive(Debug, Default, Deserialize)]
#[serde(untagged)]
pub enum Content {
	#[default]
	Empty,
	Text(String),
	Parts(Vec<Part>),
}

#[derive(Debug, Deserialize)]
pub struct Part {
	#[serde(rename = "type")]
	pub kind: String,
	#[serde(default)]
	pub text: Option<String>,
}

/// What every answer says about its requests on chain, under `cinder`
/// (OpenAI clients ignore it).
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CinderInfo {
	/// The on-chain request id.
	pub request: u64,
	/// `assigned`, `answered`, `frozen` (challenged), `settled` or
	/// `refunded`.
	pub state: String,
	/// The model asked.
	pub model: u32,
	/// The block the request was made in (when the gateway made it).
	pub requested_in: Option<u64>,
	/// The block the result was posted in, once answered.
	pub answered_in: Option<u64>,
	/// The worker that answered (or is assigned).
	pub worker: Option<String>,
	/// The root of the answer's execution trace, what a dispute is about.
	pub trace_root: Option<String>,
	/// Execution steps of the answer's trace.
	pub steps: Option<u32>,
	/// The block after which an unchallenged answer settles.
	pub challenge_end: Option<u64>,
	/// Held from the paying account while the request is open.
	pub fee_held: Option<Amount>,
	/// What the account pays if the answer settles (a generation's, for
	/// the tokens it generated); the rest of the hold is released.
	pub price: Option<Amount>,
	/// Paid, once settled.
	pub fee_paid: Option<Amount>,
	pub settled: bool,
	pub settled_in: Option<u64>,
	/// The account that paid.
	pub account: String,
	/// The dispute over the answer, if it was challenged.
	pub dispute: Option<DisputeInfo<AccountId, BlockNumber>>,
}

#[derive(Debug, Serialize)]
pub struct Usage {
	pub prompt_tokens: u64,
	#[serde(skip_serializing_if = "Option::is_none")]
	pub completion_tokens: Option<u64>,
	pub total_tokens: u64,
}

impl Usage {
	/// A chat completion's: the prompt's tokens and the reply's.
	pub fn of_chat(prompt_tokens: usize, info: &crate::client::RequestOf) -> Self {
		let prompt = prompt_tokens as u64;
		let completion = info.tokens.as_ref().map_or(0, Vec::len) as u64;
		Self {
			prompt_tokens: prompt,
			completion_tokens: Some(completion),
			total_tokens: prompt.saturating_add(completion),
		}
	}
}

/// An error in OpenAI's shape.
#[derive(Debug, Serialize)]
pub struct ErrorBody {
	pub error: ErrorDetail,
}

#[derive(Debug, Serialize)]
pub struct ErrorDetail {
	pub message: String,
	#[serde(rename = "type")]
	pub kind: &'static str,
	pub param: Option<&'static str>,
	pub code: Option<&'static str>,
	/// The chain's own error code (`inference_*`'s), when it gave one.
	#[serde(skip_serializing_if = "Option::is_none")]
	pub cinder_code: Option<i64>,
	/// The request, when the error came after it was made (refunded, timed
	/// out).
	#[serde(skip_serializing_if = "Option::is_none")]
	pub cinder: Option<CinderInfo>,
}
