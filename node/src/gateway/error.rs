//! The gateway's errors: an HTTP status and OpenAI's error shape, with the
//! chain's reason. The chain's refusals arrive as the `inference_*` error
//! codes (`inference_estimateFee` runs the pool's checks first), so this is
//! the one place they become HTTP.

use hyper::StatusCode;
use pallet_inference_rpc::ErrorCode;

use super::openai::{CinderInfo, ErrorBody, ErrorDetail};
use crate::{client::ClientError, jsonrpc::CallError};

/// A failed call to the gateway.
#[derive(Debug)]
pub struct ApiError {
	pub status: StatusCode,
	pub body: ErrorBody,
}

impl ApiError {
	fn new(
		status: StatusCode,
		kind: &'static str,
		code: Option<&'static str>,
		message: impl Into<String>,
	) -> Self {
		Self {
			status,
			body: ErrorBody {
				error: ErrorDetail {
					message: message.into(),
					kind,
					param: None,
					code,
					cinder_code: None,
					cinder: None,
				},
			},
		}
	}

	/// A malformed or unsupported request (400).
	pub fn invalid(message: impl Into<String>, param: Option<&'static str>) -> Self {
		let mut e = Self::new(StatusCode::BAD_REQUEST, "invalid_request_error", None, message);
		e.body.error.param = param;
		e
	}

	/// No or an unknown API key (401).
	pub fn unauthorized() -> Self {
		Self::new(
			StatusCode::UNAUTHORIZED,
			"invalid_request_error",
			Some("invalid_api_key"),
			"Incorrect API key provided: pass one of the gateway's keys as `Authorization: Bearer KEY`",
		)
	}

	/// No such route (404).
	pub fn not_found(path: &str) -> Self {
		Self::new(
			StatusCode::NOT_FOUND,
			"invalid_request_error",
			Some("unknown_url"),
			format!(
				"no route {path}: the gateway serves /v1/models, /v1/embeddings, \
				 /v1/chat/completions, /v1/cinder/requests/ID, /v1/cinder/overview and / (the \
				 playground)"
			),
		)
	}

	/// A model name the chain does not have (404).
	pub fn unknown_model(name: &str) -> Self {
		let mut e = Self::new(
			StatusCode::NOT_FOUND,
			"invalid_request_error",
			Some("model_not_found"),
			format!("The model `{name}` does not exist on this chain: GET /v1/models lists them"),
		);
		e.body.error.param = Some("model");
		e.body.error.cinder_code = Some(ErrorCode::UnknownModel as i64);
		e
	}

	/// A model asked for what it does not do: an embedding of a chat model,
	/// or the reverse (400).
	pub fn wrong_task(message: impl Into<String>) -> Self {
		let mut e = Self::chain(ErrorCode::WrongTask as i64, message.into());
		e.body.error.param = Some("model");
		e
	}

	/// The chain gave no answer: every worker's result was proven wrong or
	/// none came in time, and the fee was refunded (502).
	pub fn refunded(info: CinderInfo) -> Self {
		let mut e = Self::new(
			StatusCode::BAD_GATEWAY,
			"server_error",
			Some("request_refunded"),
			format!(
				"request {} was refunded on chain: no result stood (no worker answered in time, \
				 or every answer was proven wrong); nothing was charged but the transaction fee",
				info.request
			),
		);
		e.body.error.cinder = Some(info);
		e
	}

	/// The chain's refusal with code `code` (an `inference_*` error code).
	fn chain(code: i64, message: String) -> Self {
		use ErrorCode as C;
		let known = ErrorCode::of_code(code);
		let (status, kind, name) = match known {
			Some(C::UnknownModel) => {
				(StatusCode::NOT_FOUND, "invalid_request_error", "model_not_found")
			}
			Some(C::ModelRetired) => {
				(StatusCode::NOT_FOUND, "invalid_request_error", "model_retired")
			}
			Some(C::UnservableModel | C::NoEligibleWorker) => {
				(StatusCode::SERVICE_UNAVAILABLE, "server_error", "no_worker")
			}
			Some(C::EmptyInput) => {
				(StatusCode::BAD_REQUEST, "invalid_request_error", "empty_input")
			}
			Some(C::InputTooLong) => {
				(StatusCode::BAD_REQUEST, "invalid_request_error", "context_length_exceeded")
			}
			Some(C::TokenOutOfRange) => {
				(StatusCode::BAD_REQUEST, "invalid_request_error", "token_out_of_range")
			}
			Some(C::FeeTooLow) => (StatusCode::BAD_REQUEST, "invalid_request_error", "fee_too_low"),
			Some(C::TooManyRequests) => {
				(StatusCode::TOO_MANY_REQUESTS, "rate_limit_error", "chain_full")
			}
			Some(C::NoTokenizer | C::TokenizerFailed) => {
				(StatusCode::BAD_GATEWAY, "server_error", "tokenizer_unavailable")
			}
			Some(C::InsufficientFunds) => {
				(StatusCode::PAYMENT_REQUIRED, "insufficient_quota", "insufficient_funds")
			}
			Some(C::WrongTask) => {
				(StatusCode::BAD_REQUEST, "invalid_request_error", "wrong_model_kind")
			}
			Some(C::BadMaxNewTokens) => {
				(StatusCode::BAD_REQUEST, "invalid_request_error", "invalid_max_tokens")
			}
			Some(C::UnknownRequest) => {
				(StatusCode::NOT_FOUND, "invalid_request_error", "request_not_found")
			}
			Some(C::NoDispute | C::RuntimeApi) | None => {
				(StatusCode::BAD_GATEWAY, "server_error", "chain_error")
			}
		};
		let mut e = Self::new(status, kind, Some(name), message);
		e.body.error.cinder_code = Some(code);
		e
	}
}

impl From<ClientError> for ApiError {
	fn from(e: ClientError) -> Self {
		match e {
			ClientError::Node(CallError::Rpc { code, message, data, method }) => {
				let detail = data.map(|d| format!(" ({d})")).unwrap_or_default();
				if code == 1010 {
					// The transaction pool's refusal: the runtime's
					// `CheckRequest` extension reports the pallet's refusal
					// as `Custom(100 + index)`.
					let refusal =
						data_custom_code(&detail).and_then(pallet_inference::refusal_of_code);
					if let Some(r) = refusal {
						return Self::chain(
							ErrorCode::from(r) as i64,
							format!("the transaction pool refused the request: {r:?}"),
						);
					}
				}
				Self::chain(code, format!("the chain refused {method}: {message}{detail}"))
			}
			ClientError::Node(e @ CallError::Transport { .. }) => Self::new(
				StatusCode::BAD_GATEWAY,
				"server_error",
				Some("node_unreachable"),
				e.to_string(),
			),
			ClientError::UnknownModel(name) => Self::unknown_model(&name),
			e @ ClientError::InsufficientFunds { .. } => {
				Self::chain(ErrorCode::InsufficientFunds as i64, e.to_string())
			}
			e @ ClientError::BadKey(_) => {
				Self::new(StatusCode::INTERNAL_SERVER_ERROR, "server_error", None, e.to_string())
			}
			ClientError::Other(message) => {
				Self::new(StatusCode::BAD_GATEWAY, "server_error", Some("chain_error"), message)
			}
		}
	}
}

impl From<CallError> for ApiError {
	fn from(e: CallError) -> Self {
		ClientError::Node(e).into()
	}
}

/// The number in a pool refusal's `Custom error: N`.
fn data_custom_code(detail: &str) -> Option<u8> {
	let rest = detail.split("Custom error: ").nth(1)?;
	let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
	digits.parse().ok()
}

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn chain_refusals_get_openai_statuses() {
		let node = |code, data: Option<serde_json::Value>| {
			ApiError::from(ClientError::Node(CallError::Rpc {
				method: "author_submitExtrinsic".into(),
				code,
				message: "refused".into(),
				data,
			}))
		};
		let e = node(8012, None);
		assert_eq!(e.status, StatusCode::PAYMENT_REQUIRED);
		assert_eq!(e.body.error.code, Some("insufficient_funds"));
		assert_eq!(node(8005, None).body.error.code, Some("context_length_exceeded"));
		assert_eq!(node(8001, None).status, StatusCode::NOT_FOUND);
		assert_eq!(node(8007, None).status, StatusCode::SERVICE_UNAVAILABLE);
		// A pool refusal reads the pallet's refusal back from its custom
		// code: 100 + the index of `FeeTooLow` (7).
		let pool = node(1010, Some(serde_json::json!("Custom error: 107")));
		assert_eq!(pool.body.error.code, Some("fee_too_low"));
		assert_eq!(pool.body.error.cinder_code, Some(8008));
		// An unknown code is the chain's error, never mislabelled.
		assert_eq!(node(9999, None).body.error.code, Some("chain_error"));
	}
}
