//! `inference_*` JSON-RPC methods: see the crate README for the table of
//! methods and error codes.

mod amount;
mod answers;
mod dispute;
mod errors;
mod staking;

pub use amount::Amount;
pub use answers::{FeeInfo, ModelInfo, NotMadeYet, RequestInfo, RequestUpdate};
pub use dispute::{DisputeInfo, OutcomeInfo, RevealInfo};
pub use errors::ErrorCode;
pub use staking::{BackingInfo, EraIncomeInfo, NominatorInfo, ValidatorInfo};

use std::sync::Arc;

use codec::Codec;
use futures::StreamExt;
use jsonrpsee::{
	core::{async_trait, RpcResult, SubscriptionResult},
	proc_macros::rpc,
	PendingSubscriptionSink, SubscriptionMessage,
};
use pallet_inference_runtime_api::{
	DisputesApi, Generation, InferenceApi as RuntimeInferenceApi, ModelId, ModelKind, Refusal,
	RequestId, Sampling, Task, TOKEN_BYTES,
};
use sc_client_api::BlockchainEvents;
use serde::Serialize;
use sp_api::ProvideRuntimeApi;

use answers::hex;
use errors::{api_error, error, refused, tokenizer_result, too_long};
use sp_blockchain::HeaderBackend;
use sp_runtime::traits::Block as BlockT;

/// Tokenizers the node holds, by model id (the node checks each against the
/// model's registered tokenizer hash when it loads it).
pub trait Tokenizers: Send + Sync {
	/// Token ids of `text` for `model`, or `None` if the node has no
	/// tokenizer for it.
	fn tokenize(&self, model: ModelId, text: &str) -> Option<Result<Vec<u32>, String>>;
	/// Text of `ids` for `model`.
	fn detokenize(&self, model: ModelId, ids: &[u32]) -> Option<Result<String, String>>;
}

#[rpc(server)]
pub trait InferenceApi<BlockHash, AccountId, Balance, BlockNumber> {
	/// Every registered model with its price.
	#[method(name = "inference_models")]
	fn models(&self, at: Option<BlockHash>) -> RpcResult<Vec<ModelInfo<AccountId>>>;

	/// What a request would cost, or the error it would get; with `who`,
	/// also whether `who` may make it holding `max_fee` (default: the
	/// price): the checks the transaction pool runs (8008 fee too low,
	/// 8012 insufficient funds). With `max_new_tokens`, a generation of
	/// that many tokens after `tokens`, priced at its most; without, an
	/// embedding.
	#[method(name = "inference_estimateFee")]
	fn estimate_fee(
		&self,
		model: ModelId,
		tokens: Vec<u32>,
		at: Option<BlockHash>,
		who: Option<AccountId>,
		max_fee: Option<Amount>,
		max_new_tokens: Option<u32>,
	) -> RpcResult<FeeInfo>;

	/// Token ids of `text` with the model's tokenizer, special tokens
	/// included: refused when the text is empty or blank (8004) or comes to
	/// more tokens than the model takes (8005), never cut.
	#[method(name = "inference_tokenize")]
	fn tokenize(&self, model: ModelId, text: String) -> RpcResult<Vec<u32>>;

	/// Text of token ids with the model's tokenizer; an id outside the
	/// model's vocabulary is refused (8006).
	#[method(name = "inference_detokenize")]
	fn detokenize(&self, model: ModelId, tokens: Vec<u32>) -> RpcResult<String>;

	/// A request's state and result.
	#[method(name = "inference_request")]
	fn request(
		&self,
		id: RequestId,
		at: Option<BlockHash>,
	) -> RpcResult<RequestInfo<AccountId, BlockNumber>>;

	/// The id the next request will get.
	#[method(name = "inference_nextRequestId")]
	fn next_request_id(&self, at: Option<BlockHash>) -> RpcResult<RequestId>;

	/// The dispute over a request's result: open, or how it ended (kept for
	/// the chain's retention period).
	#[method(name = "inference_dispute")]
	fn dispute(
		&self,
		id: RequestId,
		at: Option<BlockHash>,
	) -> RpcResult<DisputeInfo<AccountId, BlockNumber>>;

	/// Every validator of the active era: commission, own and total stake,
	/// and its worker's inference income and record this era and the last.
	#[method(name = "inference_validators")]
	fn validators(&self, at: Option<BlockHash>) -> RpcResult<Vec<ValidatorInfo<AccountId>>>;

	/// A nominator's bond and targets, and its expected share of the
	/// inference income of each validator it backs, this era and the last.
	#[method(name = "inference_nominator")]
	fn nominator(
		&self,
		who: AccountId,
		at: Option<BlockHash>,
	) -> RpcResult<NominatorInfo<AccountId>>;

	/// Notifies each change of a request's state on the best chain (a
	/// challenge, each move of its dispute and the outcome included), and
	/// ends after it settles or is refunded. A request not made yet is
	/// reported at once with the state `unknown`, then as soon as it is.
	#[subscription(
		name = "inference_subscribeRequest" => "inference_requestChanged",
		unsubscribe = "inference_unsubscribeRequest",
		item = RequestUpdate<AccountId, BlockNumber>
	)]
	async fn subscribe_request(&self, id: RequestId) -> SubscriptionResult;
}

/// The `inference_*` methods over a client.
pub struct Inference<C, B> {
	client: Arc<C>,
	tokenizers: Arc<dyn Tokenizers>,
	_block: std::marker::PhantomData<B>,
}

impl<C, B> Inference<C, B> {
	pub fn new(client: Arc<C>, tokenizers: Arc<dyn Tokenizers>) -> Self {
		Self { client, tokenizers, _block: Default::default() }
	}
}

/// Longest text `inference_tokenize` takes, in bytes, and most token ids
/// `inference_estimateFee` and `inference_detokenize` take: far above any
/// model's input (hundreds of tokens), low enough that no call ties up the
/// node for long.
pub const MAX_TEXT_BYTES: usize = 64 * 1024;
pub const MAX_TOKENS: usize = 16 * 1024;
/// How far past the next request id `inference_subscribeRequest` watches.
pub const SUBSCRIBE_AHEAD: RequestId = 4096;

impl<C, Block> Inference<C, Block>
where
	Block: BlockT,
	C: HeaderBackend<Block>,
{
	fn at(&self, at: Option<Block::Hash>) -> Block::Hash {
		at.unwrap_or_else(|| self.client.info().best_hash)
	}
}

impl<C, Block> Inference<C, Block>
where
	Block: BlockT,
	C: ProvideRuntimeApi<Block>,
{
	/// The dispute of request `id` at `hash`: the open one, else the kept
	/// resolution.
	fn dispute_at<AccountId, Balance, BlockNumber>(
		&self,
		hash: Block::Hash,
		id: RequestId,
	) -> RpcResult<Option<DisputeInfo<AccountId, BlockNumber>>>
	where
		C::Api: DisputesApi<Block, AccountId, Balance, BlockNumber>,
		AccountId: Codec,
		Balance: Codec + Into<u128>,
		BlockNumber: Codec,
	{
		let api = self.client.runtime_api();
		if let Some(view) = api.dispute(hash, id).map_err(api_error)? {
			return Ok(Some(DisputeInfo::open(view)));
		}
		Ok(api.resolution(hash, id).map_err(api_error)?.map(DisputeInfo::ended))
	}

	/// Request `id` at `hash` with its dispute.
	fn request_at<AccountId, Balance, BlockNumber>(
		&self,
		hash: Block::Hash,
		id: RequestId,
	) -> RpcResult<Option<RequestInfo<AccountId, BlockNumber>>>
	where
		C::Api: RuntimeInferenceApi<Block, AccountId, Balance, BlockNumber>
			+ DisputesApi<Block, AccountId, Balance, BlockNumber>,
		AccountId: Codec,
		Balance: Codec + Into<u128>,
		BlockNumber: Codec,
	{
		let Some(view) = self.client.runtime_api().request(hash, id).map_err(api_error)? else {
			return Ok(None);
		};
		let dispute = self.dispute_at::<AccountId, Balance, BlockNumber>(hash, id)?;
		let mut info = RequestInfo::from_view(view, dispute);
		// A reply's text, when this node has the model's tokenizer.
		if let Some(tokens) = &info.tokens {
			info.text = self.tokenizers.detokenize(info.view.model, tokens).and_then(|t| t.ok());
		}
		Ok(Some(info))
	}

	/// Whether request `id` may be watched from `hash`: one not made yet
	/// may (a dapp subscribes before its transaction is in a block), but
	/// only among the next [`SUBSCRIBE_AHEAD`] ids; one made before and gone
	/// from state never changes again. Either is refused (8020) rather than
	/// watched forever.
	fn watchable<AccountId, Balance, BlockNumber>(
		&self,
		hash: Block::Hash,
		id: RequestId,
	) -> RpcResult<()>
	where
		C::Api: RuntimeInferenceApi<Block, AccountId, Balance, BlockNumber>,
		AccountId: Codec,
		Balance: Codec,
		BlockNumber: Codec,
	{
		let api = self.client.runtime_api();
		let next = api.next_request_id(hash).map_err(api_error)?;
		if id >= next.saturating_add(SUBSCRIBE_AHEAD) {
			return Err(error(
				ErrorCode::UnknownRequest,
				format!("no request {id}: the next is {next}; at most {SUBSCRIBE_AHEAD} ahead may be watched"),
			));
		}
		if id < next && api.request(hash, id).map_err(api_error)?.is_none() {
			return Err(error(
				ErrorCode::UnknownRequest,
				format!("no request {id} (past retention)"),
			));
		}
		Ok(())
	}

	/// `(longest input in tokens, vocabulary size)` of registered model
	/// `model` at the best block (8001 for a model not registered).
	fn limits<AccountId, Balance, BlockNumber>(&self, model: ModelId) -> RpcResult<(u32, u32)>
	where
		C: HeaderBackend<Block>,
		C::Api: RuntimeInferenceApi<Block, AccountId, Balance, BlockNumber>,
		AccountId: Codec,
		Balance: Codec,
		BlockNumber: Codec,
	{
		let best = self.client.info().best_hash;
		let models = self.client.runtime_api().models(best).map_err(api_error)?;
		let found = models.into_iter().find(|m| m.id == model);
		found.map(|m| (m.arch.max_input_tokens(), m.arch.vocab())).ok_or_else(|| {
			error(ErrorCode::UnknownModel, format!("no model {model}; inference_models lists them"))
		})
	}
}

#[async_trait]
impl<C, Block, AccountId, Balance, BlockNumber>
	InferenceApiServer<Block::Hash, AccountId, Balance, BlockNumber> for Inference<C, Block>
where
	Block: BlockT,
	C: ProvideRuntimeApi<Block>
		+ HeaderBackend<Block>
		+ BlockchainEvents<Block>
		+ Send
		+ Sync
		+ 'static,
	C::Api: RuntimeInferenceApi<Block, AccountId, Balance, BlockNumber>
		+ DisputesApi<Block, AccountId, Balance, BlockNumber>,
	AccountId:
		Codec + Clone + PartialEq + Send + Sync + Serialize + serde::de::DeserializeOwned + 'static,
	Balance:
		Codec + Clone + PartialEq + Send + Sync + Serialize + Into<u128> + TryFrom<u128> + 'static,
	BlockNumber: Codec + Clone + Send + Sync + Serialize + PartialEq + 'static,
{
	fn models(&self, at: Option<Block::Hash>) -> RpcResult<Vec<ModelInfo<AccountId>>> {
		let models = self.client.runtime_api().models(self.at(at)).map_err(api_error)?;
		Ok(models
			.into_iter()
			.map(|m| {
				let pallet_inference_runtime_api::ModelSummary {
					id,
					owner,
					name,
					metadata,
					arch,
					hashes,
					spec_version,
					price,
					token_prices,
					kind,
					active,
				} = m;
				ModelInfo {
					id,
					name: String::from_utf8_lossy(&name).into_owned(),
					owner,
					kind,
					price: Amount::of(price),
					prompt_token_price: Amount::of(token_prices.prompt),
					generated_token_price: Amount::of(token_prices.generated),
					active,
					spec_version,
					max_input_tokens: arch.max_input_tokens(),
					vocab_size: arch.vocab(),
					output_bytes: match kind {
						ModelKind::Embedding => arch.output_bytes(&Task::Embed),
						ModelKind::Generation => TOKEN_BYTES,
					},
					metadata: String::from_utf8_lossy(&metadata).into_owned(),
					weights_hash: hex(hashes.weights.as_bytes()),
					weight_root: hex(hashes.weight_root.as_bytes()),
					program_hash: hex(hashes.program.as_bytes()),
					tokenizer_hash: hex(hashes.tokenizer.as_bytes()),
				}
			})
			.collect())
	}

	fn estimate_fee(
		&self,
		model: ModelId,
		tokens: Vec<u32>,
		at: Option<Block::Hash>,
		who: Option<AccountId>,
		max_fee: Option<Amount>,
		max_new_tokens: Option<u32>,
	) -> RpcResult<FeeInfo> {
		too_long("tokens", tokens.len(), MAX_TOKENS)?;
		let (api, at) = (self.client.runtime_api(), self.at(at));
		// Sampling does not change the price: greedy stands for any.
		let task = match max_new_tokens {
			None => Task::Embed,
			Some(max_new_tokens) => Task::Generate(Generation {
				max_new_tokens,
				sampling: Sampling::Greedy,
				seed: None,
			}),
		};
		let quote =
			|tokens| api.quote(at, model, tokens, task).map_err(api_error)?.map_err(refused);
		let Some(who) = who else { return quote(tokens).map(FeeInfo::from) };
		let max_fee = match max_fee {
			Some(Amount(fee)) => {
				Balance::try_from(fee).map_err(|_| refused(Refusal::InsufficientBalance))?
			}
			// The price is what a request without `maxFee` would hold.
			None => quote(tokens.clone())?.price,
		};
		let checked = api.check(at, who, model, tokens, task, max_fee).map_err(api_error)?;
		checked.map(FeeInfo::from).map_err(refused)
	}

	fn tokenize(&self, model: ModelId, text: String) -> RpcResult<Vec<u32>> {
		too_long("text bytes", text.len(), MAX_TEXT_BYTES)?;
		let (max, _) = self.limits::<AccountId, Balance, BlockNumber>(model)?;
		if text.trim().is_empty() {
			return Err(error(ErrorCode::EmptyInput, "the text is empty"));
		}
		let ids = tokenizer_result(model, self.tokenizers.tokenize(model, &text))?;
		if ids.len() > max as usize {
			return Err(error(
				ErrorCode::InputTooLong,
				format!("the text is {} tokens; model {model} takes at most {max}", ids.len()),
			));
		}
		Ok(ids)
	}

	fn detokenize(&self, model: ModelId, tokens: Vec<u32>) -> RpcResult<String> {
		too_long("tokens", tokens.len(), MAX_TOKENS)?;
		let (_, vocab) = self.limits::<AccountId, Balance, BlockNumber>(model)?;
		if let Some(bad) = tokens.iter().find(|&&t| t >= vocab) {
			return Err(error(
				ErrorCode::TokenOutOfRange,
				format!("token {bad} is outside model {model}'s vocabulary of {vocab}"),
			));
		}
		tokenizer_result(model, self.tokenizers.detokenize(model, &tokens))
	}

	fn request(
		&self,
		id: RequestId,
		at: Option<Block::Hash>,
	) -> RpcResult<RequestInfo<AccountId, BlockNumber>> {
		self.request_at::<AccountId, Balance, BlockNumber>(self.at(at), id)?.ok_or_else(|| {
			error(ErrorCode::UnknownRequest, format!("no request {id} (or past retention)"))
		})
	}

	fn next_request_id(&self, at: Option<Block::Hash>) -> RpcResult<RequestId> {
		self.client.runtime_api().next_request_id(self.at(at)).map_err(api_error)
	}

	fn dispute(
		&self,
		id: RequestId,
		at: Option<Block::Hash>,
	) -> RpcResult<DisputeInfo<AccountId, BlockNumber>> {
		self.dispute_at::<AccountId, Balance, BlockNumber>(self.at(at), id)?.ok_or_else(|| {
			error(
				ErrorCode::NoDispute,
				format!(
					"request {id} has no dispute (none was opened, or it ended past retention)"
				),
			)
		})
	}

	fn validators(&self, at: Option<Block::Hash>) -> RpcResult<Vec<ValidatorInfo<AccountId>>> {
		let list = self.client.runtime_api().validators(self.at(at)).map_err(api_error)?;
		Ok(list.into_iter().map(Into::into).collect())
	}

	fn nominator(
		&self,
		who: AccountId,
		at: Option<Block::Hash>,
	) -> RpcResult<NominatorInfo<AccountId>> {
		let view = self.client.runtime_api().nominator(self.at(at), who).map_err(api_error)?;
		Ok(view.into())
	}

	async fn subscribe_request(
		&self,
		pending: PendingSubscriptionSink,
		id: RequestId,
	) -> SubscriptionResult {
		let mut hash = self.client.info().best_hash;
		if let Err(e) = self.watchable::<AccountId, Balance, BlockNumber>(hash, id) {
			pending.reject(e).await;
			return Ok(());
		}
		let sink = pending.accept().await?;
		let mut blocks = self.client.import_notification_stream();
		let mut last: Option<RequestInfo<AccountId, BlockNumber>> = None;
		let mut first = true;
		loop {
			match self.request_at::<AccountId, Balance, BlockNumber>(hash, id)? {
				Some(info) if last.as_ref() != Some(&info) => {
					let done = info.is_final();
					let update = RequestUpdate::Known(Box::new(info.clone()));
					sink.send(SubscriptionMessage::from_json(&update)?).await?;
					if done {
						return Ok(());
					}
					last = Some(info);
				}
				None if first => {
					let next =
						self.client.runtime_api().next_request_id(hash).map_err(api_error)?;
					let update: RequestUpdate<AccountId, BlockNumber> = RequestUpdate::NotMadeYet {
						id,
						state: NotMadeYet::Unknown { next_request_id: next },
					};
					sink.send(SubscriptionMessage::from_json(&update)?).await?;
				}
				_ => {}
			}
			first = false;
			loop {
				let Some(block) = blocks.next().await else { return Ok(()) };
				if block.is_new_best {
					hash = block.hash;
					break;
				}
			}
		}
	}
}
