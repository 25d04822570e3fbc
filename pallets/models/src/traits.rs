//! How other pallets see the registry.

use crate::types::{Architecture, ModelId, ModelKind, TokenPrices};
use sp_core::H256;

/// The terms under which a model is served: all another pallet needs to
/// accept, bound and price a request.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct ModelTerms<Balance> {
	/// Price of one request.
	pub price: Balance,
	/// Prices per token, on top of `price`.
	pub token_prices: TokenPrices<Balance>,
	/// Embedding or generation.
	pub kind: ModelKind,
	/// Whether the model takes new requests.
	pub active: bool,
	/// Number of token ids; every input token must be below it.
	pub vocab: u32,
	/// Longest input, in tokens.
	pub max_input_tokens: u32,
	/// What the model computes: its programs, step by step.
	pub arch: Architecture,
	/// Merkle root of its weight tiles, which a fraud proof opens.
	pub weight_root: H256,
}

impl<Balance: sp_runtime::traits::AtLeast32BitUnsigned + Copy> ModelTerms<Balance> {
	/// What a request of `prompt` input tokens that generated `generated`
	/// tokens pays under these terms.
	pub fn fee(&self, prompt: u32, generated: u32) -> Balance {
		self.token_prices.fee(self.price, prompt, generated)
	}
}

/// Read access to registered models.
pub trait ModelProvider<AccountId, Balance> {
	/// The terms of model `id`, if it exists.
	fn terms(id: ModelId) -> Option<ModelTerms<Balance>>;

	/// Registers an active model owned by `owner` (funding the deposit), for
	/// another pallet's benchmarks.
	#[cfg(any(feature = "benchmark-helpers", test))]
	fn register_for_benchmark(owner: &AccountId, price: Balance) -> ModelId;

	/// Registers an active model of architecture `arch` whose weight tiles
	/// have Merkle root `weight_root`, owned by `owner`, for another
	/// pallet's benchmarks.
	#[cfg(any(feature = "benchmark-helpers", test))]
	fn register_arch_for_benchmark(
		owner: &AccountId,
		price: Balance,
		arch: Architecture,
		weight_root: H256,
	) -> ModelId;
}

/// Whether open work still refers to a model, so it must not be removed.
pub trait ModelUsage {
	/// `true` while anything open refers to model `id`.
	fn in_use(id: ModelId) -> bool;
}

impl ModelUsage for () {
	fn in_use(_: ModelId) -> bool {
		false
	}
}
