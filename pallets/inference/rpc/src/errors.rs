//! The `inference_*` methods' errors: stable codes, and the one mapping of
//! the pallet's refusals to them.

use jsonrpsee::{
	core::RpcResult,
	types::{error::ErrorObject, ErrorObjectOwned},
};
use pallet_inference_runtime_api::{ModelId, Refusal};

/// Stable error codes of the `inference_*` methods.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(i32)]
pub enum ErrorCode {
	UnknownModel = 8001,
	ModelRetired = 8002,
	UnservableModel = 8003,
	EmptyInput = 8004,
	InputTooLong = 8005,
	TokenOutOfRange = 8006,
	NoEligibleWorker = 8007,
	FeeTooLow = 8008,
	TooManyRequests = 8009,
	NoTokenizer = 8010,
	TokenizerFailed = 8011,
	InsufficientFunds = 8012,
	WrongTask = 8013,
	BadMaxNewTokens = 8014,
	UnknownRequest = 8020,
	NoDispute = 8021,
	RuntimeApi = 8030,
}

impl ErrorCode {
	/// Every code, in order.
	pub const ALL: [ErrorCode; 17] = [
		Self::UnknownModel,
		Self::ModelRetired,
		Self::UnservableModel,
		Self::EmptyInput,
		Self::InputTooLong,
		Self::TokenOutOfRange,
		Self::NoEligibleWorker,
		Self::FeeTooLow,
		Self::TooManyRequests,
		Self::NoTokenizer,
		Self::TokenizerFailed,
		Self::InsufficientFunds,
		Self::WrongTask,
		Self::BadMaxNewTokens,
		Self::UnknownRequest,
		Self::NoDispute,
		Self::RuntimeApi,
	];

	/// The code a JSON-RPC error carries, if it is one of these.
	pub fn of_code(code: i64) -> Option<Self> {
		Self::ALL.into_iter().find(|c| *c as i64 == code)
	}
}

pub(crate) fn error(code: ErrorCode, message: impl Into<String>) -> ErrorObjectOwned {
	ErrorObject::owned(code as i32, message.into(), None::<()>)
}

/// The one mapping of the pallet's refusals (what `request` fails with and
/// the transaction pool rejects) to codes and words: exhaustive, so a new
/// refusal cannot go unmapped.
fn refusal(e: Refusal) -> (ErrorCode, &'static str) {
	match e {
		Refusal::UnknownModel => (ErrorCode::UnknownModel, "unknown model"),
		Refusal::ModelRetired => (ErrorCode::ModelRetired, "the model is retired"),
		Refusal::UnservableModel => {
			(ErrorCode::UnservableModel, "no worker can serve the model's results")
		}
		Refusal::EmptyInput => (ErrorCode::EmptyInput, "the input has no tokens"),
		Refusal::InputTooLong => {
			(ErrorCode::InputTooLong, "the input is longer than the model takes")
		}
		Refusal::TokenOutOfRange => {
			(ErrorCode::TokenOutOfRange, "a token id is outside the model's vocabulary")
		}
		Refusal::NoEligibleWorker => {
			(ErrorCode::NoEligibleWorker, "no eligible worker serves the model now")
		}
		Refusal::FeeTooLow => (ErrorCode::FeeTooLow, "maxFee is below the model's price"),
		Refusal::TooManyRequests => {
			(ErrorCode::TooManyRequests, "the chain has as many open requests as it takes")
		}
		Refusal::InsufficientBalance => {
			(ErrorCode::InsufficientFunds, "the account cannot hold maxFee")
		}
		Refusal::WrongTask => (
			ErrorCode::WrongTask,
			"the model does not do this task (an embedding of a generation model, or the reverse)",
		),
		Refusal::BadMaxNewTokens => (
			ErrorCode::BadMaxNewTokens,
			"maxNewTokens is 0, above the chain's limit, or with the prompt past the model's positions",
		),
	}
}

impl From<Refusal> for ErrorCode {
	fn from(e: Refusal) -> Self {
		refusal(e).0
	}
}

/// A refusal as an RPC error.
pub(crate) fn refused(e: Refusal) -> ErrorObjectOwned {
	let (code, message) = refusal(e);
	error(code, message)
}

/// A [`Tokenizers`] answer as an RPC result: no tokenizer is 8010, a
/// tokenizer failure 8011.
pub(crate) fn tokenizer_result<T>(
	model: ModelId,
	answer: Option<Result<T, String>>,
) -> RpcResult<T> {
	match answer {
		None => Err(error(
			ErrorCode::NoTokenizer,
			format!("no tokenizer for model {model} on this node"),
		)),
		Some(r) => r.map_err(|e| error(ErrorCode::TokenizerFailed, e)),
	}
}

/// An input over `max`: 8005, before any work is done on it.
pub(crate) fn too_long(what: &str, len: usize, max: usize) -> RpcResult<()> {
	if len > max {
		return Err(error(ErrorCode::InputTooLong, format!("{what} of {len}; at most {max}")));
	}
	Ok(())
}

pub(crate) fn api_error(e: impl std::fmt::Display) -> ErrorObjectOwned {
	error(ErrorCode::RuntimeApi, format!("runtime API call failed: {e}"))
}
