//! Records of the model registry.

use cinder_kernel::{
	merkle,
	program::bert::{BertShape, Plan},
	KernelError, KERNEL_SPEC_V1,
};
use codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
use frame_support::{traits::Get, BoundedVec};
use scale_info::TypeInfo;
use serde::{Deserialize, Serialize};
use sp_core::H256;

/// Identifies a model; assigned in registration order.
pub type ModelId = u32;

/// The kernel-spec versions this runtime can recompute a step of.
pub const SUPPORTED_SPECS: [u32; 1] = [KERNEL_SPEC_V1];

/// What the model is, as far as the chain needs to know to recompile its
/// program and bound its inputs and outputs.
#[derive(
	Clone,
	Copy,
	PartialEq,
	Eq,
	Encode,
	Decode,
	DecodeWithMemTracking,
	MaxEncodedLen,
	TypeInfo,
	Debug,
	Serialize,
	Deserialize,
)]
pub enum Architecture {
	/// A BERT encoder with mean pooling and L2 normalisation: a sentence
	/// embedding of `hidden` f32 values.
	Bert(BertShape),
}

impl Architecture {
	/// Checks that the architecture compiles within the kernel's limits.
	pub fn check(&self) -> Result<(), KernelError> {
		match self {
			Self::Bert(shape) => shape.check(),
		}
	}

	/// The commitment to the program this architecture compiles to.
	pub fn program_hash(&self) -> H256 {
		match self {
			Self::Bert(shape) => H256(cinder_kernel::program::bert::program_hash(shape)),
		}
	}

	/// The longest input, in tokens.
	pub fn max_input_tokens(&self) -> u32 {
		match self {
			Self::Bert(shape) => shape.max_positions,
		}
	}

	/// The number of token ids (every input token is below it).
	pub fn vocab(&self) -> u32 {
		match self {
			Self::Bert(shape) => shape.vocab,
		}
	}

	/// The number of steps of the program for an input of `tokens` tokens
	/// (and so the leaf count of its trace), in closed form.
	pub fn trace_len(&self, tokens: u32) -> Result<u32, KernelError> {
		self.plan(tokens).map(|p| p.len())
	}

	/// The program for an input of `tokens` tokens, each step computable on
	/// its own.
	pub fn plan(&self, tokens: u32) -> Result<Plan, KernelError> {
		match self {
			Self::Bert(shape) => Plan::new(shape, tokens),
		}
	}

	/// The leaf a trace of `steps` steps ends with if its result is
	/// `output`: the program's output is its last step's tile, so a result
	/// is bound to its trace by this leaf. For an embedding, the tile is one
	/// row of little-endian f32s, hashed as the bytes given (a non-canonical
	/// NaN does not match).
	pub fn output_leaf(&self, steps: u32, output: &[u8]) -> H256 {
		match self {
			Self::Bert(_) => {
				let cols = (output.len() / 4) as u32;
				let mut tile = alloc::vec::Vec::with_capacity(output.len().saturating_add(8));
				tile.extend_from_slice(&1u32.to_le_bytes());
				tile.extend_from_slice(&cols.to_le_bytes());
				tile.extend_from_slice(output);
				H256(merkle::leaf_hash(steps.saturating_sub(1), &tile))
			}
		}
	}

	/// The length of a result in bytes (little-endian f32s for an embedding).
	pub fn output_bytes(&self) -> u32 {
		match self {
			Self::Bert(shape) => shape.hidden.saturating_mul(4),
		}
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
}

/// A small, valid BERT model (64-token vocabulary, 32 wide, one layer) with
/// `name` and `meta` bytes of name and metadata: for tests and benchmarks.
pub fn sample_spec<AccountId, Balance>(
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
	/// Whether it takes new requests.
	pub active: bool,
}
