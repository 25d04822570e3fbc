//! What a model computes, as far as the chain needs to know to recompile
//! its programs, bound a request's input and output, and open one step of
//! a trace in a dispute.

use alloc::vec::Vec;
use cinder_kernel::{
	merkle,
	program::{bert, llama},
	quant::WeightFormat,
	sampler::Sampling,
	KernelError, Step, KERNEL_SPEC_V1, KERNEL_SPEC_V2,
};
use codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
use scale_info::TypeInfo;
use serde::{Deserialize, Serialize};
use sp_core::H256;

/// Bytes of one generated token id in a generation's result (little-endian
/// u32).
pub const TOKEN_BYTES: u32 = 4;

/// A llama-family decoder and the token that ends its replies.
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
pub struct Generator {
	/// The decoder's shape (its weights are quantized as it says).
	pub shape: llama::LlamaShape,
	/// The end-of-reply token: a generation stops after drawing it.
	pub eos: u32,
}

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
	/// embedding of `hidden` f32 values. Kernel spec v1.
	#[codec(index = 0)]
	Bert(bert::BertShape),
	/// A llama decoder generating text token by token. Kernel spec v2.
	#[codec(index = 1)]
	Llama(Generator),
}

/// What a model's requests ask for.
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
pub enum ModelKind {
	/// One embedding per input.
	Embedding,
	/// A continuation of the input, token by token.
	Generation,
}

/// How a generation request generates.
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
pub struct Generation {
	/// The most tokens the reply may have; the caller's fee covers this
	/// many, and pays for those generated.
	pub max_new_tokens: u32,
	/// How each token is drawn.
	pub sampling: Sampling,
	/// The caller's seed for the draws, if it gave one: the same seed,
	/// prompt and sampling give the same reply. Without one the chain
	/// draws the seed from its randomness when the request is made.
	pub seed: Option<u64>,
}

/// What a request asks its model for, besides running on its input.
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
pub enum Task {
	/// An embedding of the input.
	#[codec(index = 0)]
	Embed,
	/// A reply to the input (the prompt).
	#[codec(index = 1)]
	Generate(Generation),
}

impl Task {
	/// The kind of model that serves this task.
	pub fn kind(&self) -> ModelKind {
		match self {
			Self::Embed => ModelKind::Embedding,
			Self::Generate(_) => ModelKind::Generation,
		}
	}
}

/// Why a task does not suit a model.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum TaskError {
	/// The model is of the other kind.
	WrongKind,
	/// `max_new_tokens` is 0, or with the prompt it passes the model's
	/// positions.
	BadLength,
}

/// One request's program, each step computable on its own.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum ModelPlan {
	/// An encoder's, for one input length.
	Bert(bert::Plan),
	/// A decoder's, for one prompt and reply length.
	Llama(llama::Plan),
}

impl ModelPlan {
	/// Number of steps: the leaf count of the trace.
	pub fn len(&self) -> u32 {
		match self {
			Self::Bert(p) => p.len(),
			Self::Llama(p) => p.len(),
		}
	}

	/// Whether the program has no steps (never for a valid plan).
	pub fn is_empty(&self) -> bool {
		self.len() == 0
	}

	/// Step `i`'s descriptor.
	pub fn step(&self, i: u32) -> Result<Step, KernelError> {
		match self {
			Self::Bert(p) => p.step(i),
			Self::Llama(p) => p.step(i),
		}
	}
}

impl Architecture {
	/// What the model's requests ask for.
	pub fn kind(&self) -> ModelKind {
		match self {
			Self::Bert(_) => ModelKind::Embedding,
			Self::Llama(_) => ModelKind::Generation,
		}
	}

	/// The kernel-spec version the architecture's programs run under.
	pub fn spec_version(&self) -> u32 {
		match self {
			Self::Bert(_) => KERNEL_SPEC_V1,
			Self::Llama(_) => KERNEL_SPEC_V2,
		}
	}

	/// Checks that the architecture compiles within the kernel's limits
	/// (and that a decoder's end token is in its vocabulary).
	pub fn check(&self) -> Result<(), KernelError> {
		match self {
			Self::Bert(shape) => shape.check(),
			Self::Llama(g) => {
				g.shape.check()?;
				// Token ids travel as f32s in the trace: exact below 2²⁴.
				if g.eos >= g.shape.vocab || g.shape.vocab > 1 << 24 || g.shape.max_positions < 2 {
					return Err(KernelError::UnsupportedShape);
				}
				g.shape.weight_count().map(|_| ())
			}
		}
	}

	/// The commitment to the programs this architecture compiles to.
	pub fn program_hash(&self) -> H256 {
		match self {
			Self::Bert(shape) => H256(bert::program_hash(shape)),
			Self::Llama(g) => H256(llama::program_hash(&g.shape)),
		}
	}

	/// The longest input, in tokens (a prompt leaves room for one
	/// generated token).
	pub fn max_input_tokens(&self) -> u32 {
		match self {
			Self::Bert(shape) => shape.max_positions,
			Self::Llama(g) => g.shape.max_positions.saturating_sub(1),
		}
	}

	/// The number of token ids (every input token is below it).
	pub fn vocab(&self) -> u32 {
		match self {
			Self::Bert(shape) => shape.vocab,
			Self::Llama(g) => g.shape.vocab,
		}
	}

	/// Checks that `task` on a prompt of `prompt` tokens suits the model.
	pub fn check_task(&self, prompt: u32, task: &Task) -> Result<(), TaskError> {
		match (self, task) {
			(Self::Bert(_), Task::Embed) => Ok(()),
			(Self::Llama(g), Task::Generate(gen)) => {
				let total = prompt.checked_add(gen.max_new_tokens);
				match total {
					Some(t) if gen.max_new_tokens > 0 && t <= g.shape.max_positions => Ok(()),
					_ => Err(TaskError::BadLength),
				}
			}
			_ => Err(TaskError::WrongKind),
		}
	}

	/// The longest result of `task`, in bytes: an embedding's f32s, or
	/// `max_new_tokens` token ids (0 for a task of the other kind).
	pub fn output_bytes(&self, task: &Task) -> u32 {
		match (self, task) {
			(Self::Bert(shape), Task::Embed) => shape.hidden.saturating_mul(4),
			(Self::Llama(_), Task::Generate(gen)) => gen.max_new_tokens.saturating_mul(TOKEN_BYTES),
			_ => 0,
		}
	}

	/// Checks that `output` is a well-formed result of `task` and returns
	/// how many tokens it generated (0 for an embedding). An embedding has
	/// exactly the model's width; a reply is 1 to `max_new_tokens` token
	/// ids in the vocabulary that stops at the first end token, or at
	/// `max_new_tokens`.
	pub fn check_output(&self, task: &Task, output: &[u8]) -> Option<u32> {
		match (self, task) {
			(Self::Bert(shape), Task::Embed) => {
				(output.len() == shape.hidden.saturating_mul(4) as usize).then_some(0)
			}
			(Self::Llama(g), Task::Generate(gen)) => {
				let ids = token_ids(output)?;
				let n = u32::try_from(ids.len()).ok()?;
				let (last, before) = ids.split_last()?;
				let well_formed = n <= gen.max_new_tokens
					&& ids.iter().all(|&t| t < g.shape.vocab)
					&& !before.contains(&g.eos)
					&& (*last == g.eos || n == gen.max_new_tokens);
				well_formed.then_some(n)
			}
			_ => None,
		}
	}

	/// The program of `task` on a prompt of `prompt` tokens that generated
	/// `generated` tokens (0 for an embedding).
	pub fn plan(&self, prompt: u32, task: &Task, generated: u32) -> Result<ModelPlan, KernelError> {
		match (self, task) {
			(Self::Bert(shape), Task::Embed) if generated == 0 => {
				bert::Plan::new(shape, prompt).map(ModelPlan::Bert)
			}
			(Self::Llama(g), Task::Generate(gen)) => {
				llama::Plan::new(&g.shape, prompt, generated, gen.sampling).map(ModelPlan::Llama)
			}
			(Self::Bert(_), Task::Embed) => Err(KernelError::BadSequenceLength),
			_ => Err(KernelError::OtherSpec),
		}
	}

	/// The number of steps of [`Self::plan`]'s program (and so the leaf
	/// count of its trace), in closed form.
	pub fn trace_len(&self, prompt: u32, task: &Task, generated: u32) -> Result<u32, KernelError> {
		self.plan(prompt, task, generated).map(|p| p.len())
	}

	/// How many weight tiles the model lays out: the leaf count of its
	/// weight tree.
	pub fn weight_count(&self) -> Result<u32, KernelError> {
		match self {
			Self::Bert(shape) => bert::Plan::new(shape, 1).map(|p| p.weight_count()),
			Self::Llama(g) => g.shape.weight_count(),
		}
	}

	/// The format weight tile `index` is stored in: quantized blocks, or
	/// f32 (`None`, every tile of an encoder).
	pub fn weight_format(&self, index: u32) -> Result<Option<WeightFormat>, KernelError> {
		match self {
			Self::Bert(_) => Ok(None),
			Self::Llama(g) => {
				g.shape.weight_tile(index)?.map(|w| w.format).ok_or(KernelError::BadSource)
			}
		}
	}

	/// The leaf a trace of `steps` steps ends with if its result is
	/// `output`: the program's output is its last step's tile, so a result
	/// is bound to its trace by this leaf. An embedding's tile is one row
	/// of little-endian f32s, hashed as the bytes given (a non-canonical
	/// NaN does not match); a reply's is one row of its token ids as f32s
	/// (exact: every id is below 2²⁴).
	pub fn output_leaf(&self, steps: u32, output: &[u8]) -> H256 {
		let row = match self {
			Self::Bert(_) => output.to_vec(),
			Self::Llama(_) => {
				let ids = token_ids(output).unwrap_or_default();
				ids.iter().flat_map(|&t| (t as f32).to_le_bytes()).collect()
			}
		};
		let cols = (row.len() / 4) as u32;
		let mut tile = Vec::with_capacity(row.len().saturating_add(8));
		tile.extend_from_slice(&1u32.to_le_bytes());
		tile.extend_from_slice(&cols.to_le_bytes());
		tile.extend_from_slice(&row);
		H256(merkle::leaf_hash(steps.saturating_sub(1), &tile))
	}
}

/// A reply's token ids from its little-endian bytes; none when the length
/// is not a whole number of ids.
pub fn token_ids(output: &[u8]) -> Option<Vec<u32>> {
	if !output.len().is_multiple_of(TOKEN_BYTES as usize) {
		return None;
	}
	Some(
		output
			.chunks_exact(TOKEN_BYTES as usize)
			.map(|c| u32::from_le_bytes(c.try_into().unwrap_or_default()))
			.collect(),
	)
}
