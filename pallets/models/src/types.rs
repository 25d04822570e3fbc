//! Records of the model registry.

pub use crate::architecture::{
	token_ids, Architecture, Generation, Generator, ModelKind, ModelPlan, Task, TaskError,
	TOKEN_BYTES,
};
use cinder_kernel::{program::bert::BertShape, KERNEL_SPEC_V1, KERNEL_SPEC_V2};
use codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
use frame_support::{traits::Get, BoundedVec};
use scale_info::TypeInfo;
use serde::{Deserialize, Serialize};
use sp_core::H256;

/// Identifies a model; assigned in registration order.
pub type ModelId = u32;

/// The kernel-spec versions this runtime can recompute a step of.
pub const SUPPORTED_SPECS: [u32; 2] = [KERNEL_SPEC_V1, KERNEL_SPEC_V2];

/// Prices per token, on top of the price per request: a request pays
/// `price + prompt · prompt tokens + generated · generated tokens`.
#[derive(
	Clone,
	Copy,
	PartialEq,
	Eq,
	Default,
	Encode,
	Decode,
	DecodeWithMemTracking,
	MaxEncodedLen,
	TypeInfo,
	Debug,
	Serialize,
	Deserialize,
)]
pub struct TokenPrices<Balance> {
	/// Per input (prompt) token.
	pub prompt: Balance,
	/// Per generated token (a generation model's).
	pub generated: Balance,
}

impl<Balance: sp_runtime::traits::AtLeast32BitUnsigned + Copy> TokenPrices<Balance> {
	/// What a request of `prompt` input tokens that generated `generated`
	/// tokens pays, with `price` per request; saturating.
	pub fn fee(&self, price: Balance, prompt: u32, generated: u32) -> Balance {
		self.prompt
			.saturating_mul(prompt.into())
			.saturating_add(self.generated.saturating_mul(generated.into()))
			.saturating_add(price)
	}
}

/// Content commitments of a model: what a worker loads and a fraud proof
/// opens. All are blake2-256.
#[derive(
	Clone,
	Copy,
	PartialEq,
	Eq,
	Default,
	Encode,
	Decode,
	DecodeWithMemTracking,
	MaxEncodedLen,
	TypeInfo,
	Debug,
	Serialize,
	Deserialize,
)]
pub struct ModelHashes {
	/// Hash of the weights file as distributed (e.g. `model.safetensors`).
	pub weights: H256,
	/// Merkle root of the weight tiles in the kernel's layout.
	pub weight_root: H256,
	/// Hash of the compiled program (see [`Architecture::program_hash`]).
	pub program: H256,
	/// Hash of the tokenizer file.
	pub tokenizer: H256,
}

/// Whether a model takes new requests.
#[derive(Clone, Copy, PartialEq, Eq, Encode, Decode, MaxEncodedLen, TypeInfo, Debug)]
pub enum ModelStatus {
	/// Takes new requests.
	Active,
	/// Takes no new requests; open ones finish.
	Retired,
}

/// A registered model.
#[derive(Clone, PartialEq, Eq, Encode, Decode, MaxEncodedLen, TypeInfo, Debug)]
#[scale_info(skip_type_params(NameLen, MetaLen))]
pub struct ModelInfo<AccountId, Balance, NameLen: Get<u32>, MetaLen: Get<u32>> {
	/// Who registered the model, may change its price and retire it, and
	/// whose deposit is held.
	pub owner: AccountId,
	/// Human-readable name, e.g. `all-MiniLM-L6-v2`.
	pub name: BoundedVec<u8, NameLen>,
	/// Free-form metadata (licence, source, pooling), bounded.
	pub metadata: BoundedVec<u8, MetaLen>,
	/// What the model computes.
	pub arch: Architecture,
	/// Content commitments.
	pub hashes: ModelHashes,
	/// Kernel-spec version its program is executed under.
	pub spec_version: u32,
	/// Price of one request.
	pub price: Balance,
	/// Prices per token, on top of `price`.
	pub token_prices: TokenPrices<Balance>,
	/// Storage deposit held from the owner.
	pub deposit: Balance,
	/// Active or retired.
	pub status: ModelStatus,
}

/// A model's registration parameters, as the genesis config and the
/// `register` call take them.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct ModelSpec<AccountId, Balance> {
	pub owner: AccountId,
	pub name: alloc::vec::Vec<u8>,
	pub metadata: alloc::vec::Vec<u8>,
	pub arch: Architecture,
	pub hashes: ModelHashes,
	pub spec_version: u32,
	pub price: Balance,
	/// Prices per token (none when left out).
	#[serde(default)]
	pub token_prices: TokenPrices<Balance>,
}

/// A small, valid BERT model (64-token vocabulary, 32 wide, one layer) with
/// `name` and `meta` bytes of name and metadata: for tests and benchmarks.
pub fn sample_spec<AccountId, Balance: Default>(
	owner: AccountId,
	name: u32,
	meta: u32,
	price: Balance,
) -> ModelSpec<AccountId, Balance> {
	let arch = Architecture::Bert(BertShape {
		vocab: 64,
		hidden: 32,
		layers: 1,
		heads: 2,
		intermediate: 64,
		max_positions: 16,
		type_vocab: 2,
		eps: 1e-12f32.to_bits(),
	});
	let hashes = ModelHashes { program: arch.program_hash(), ..Default::default() };
	ModelSpec {
		owner,
		name: alloc::vec![b'm'; name as usize],
		metadata: alloc::vec![b'x'; meta as usize],
		arch,
		hashes,
		spec_version: KERNEL_SPEC_V1,
		price,
		token_prices: TokenPrices::default(),
	}
}

/// A small, valid llama decoder (64-token vocabulary, 64 wide, one layer,
/// 64 positions, end token 2) with prices `price` per request and
/// `token_prices`: for tests and benchmarks.
pub fn sample_generator_spec<AccountId, Balance>(
	owner: AccountId,
	price: Balance,
	token_prices: TokenPrices<Balance>,
) -> ModelSpec<AccountId, Balance> {
	use cinder_kernel::{program::llama::LlamaShape, quant::WeightFormat};
	let arch = Architecture::Llama(Generator {
		shape: LlamaShape {
			vocab: 64,
			hidden: 64,
			layers: 1,
			heads: 2,
			kv_heads: 1,
			intermediate: 128,
			max_positions: 64,
			rope_theta: 10_000.0f32.to_bits(),
			eps: 1e-5f32.to_bits(),
			linear: WeightFormat::Q4_1,
			embedding: WeightFormat::Q8_0,
		},
		eos: 2,
	});
	let hashes = ModelHashes { program: arch.program_hash(), ..Default::default() };
	ModelSpec {
		owner,
		name: alloc::vec![b'g'; 8],
		metadata: alloc::vec::Vec::new(),
		arch,
		hashes,
		spec_version: KERNEL_SPEC_V2,
		price,
		token_prices,
	}
}

/// A model as RPC clients see it.
#[derive(Clone, PartialEq, Eq, Encode, Decode, TypeInfo, Debug, Serialize, Deserialize)]
pub struct ModelSummary<AccountId, Balance> {
	pub id: ModelId,
	pub owner: AccountId,
	/// UTF-8 name.
	pub name: alloc::vec::Vec<u8>,
	pub metadata: alloc::vec::Vec<u8>,
	pub arch: Architecture,
	pub hashes: ModelHashes,
	pub spec_version: u32,
	pub price: Balance,
	/// Prices per token, on top of `price`.
	pub token_prices: TokenPrices<Balance>,
	/// Embedding or generation.
	pub kind: ModelKind,
	/// Whether it takes new requests.
	pub active: bool,
}
