//! A chat model as a worker serves it: one GGUF file read once into the
//! kernel's weight tiles, packed for the fast executor, with its tokenizer
//! and end-of-reply token from the file's own metadata. No candle model is
//! built (that is [`crate::llama::Llama`], the accuracy reference).

use std::path::{Path, PathBuf};

use cinder_kernel::{
	merkle::Hash,
	program::llama::{program_hash, LlamaShape},
	sampler::Sampling,
};
use tokenizers::Tokenizer;

use crate::{
	bpe,
	decoder::{Generation, PackedLlama},
	llama::{hash_file, open_chat, OpenedChat},
	Result,
};

/// A loaded chat model.
pub struct ChatModel {
	pub path: PathBuf,
	/// The kernel's shape: what the chain registers.
	pub shape: LlamaShape,
	/// The token that ends a reply (`tokenizer.ggml.eos_token_id`).
	pub eos: u32,
	pub tokenizer: Tokenizer,
	/// blake2-256 of the GGUF file, which holds the weights and the
	/// tokenizer: what the chain registers as both.
	pub file_hash: Hash,
	/// The weight tiles, packed.
	pub weights: PackedLlama,
}

impl ChatModel {
	/// Loads the GGUF file at `path`: metadata, tokenizer and every weight
	/// tile in one pass over the file, then packs the tiles.
	pub fn load(path: &Path) -> Result<Self> {
		let OpenedChat { mut gguf, shape, tokenizer, eos } = open_chat(path)?;
		let tiles = crate::llama_tiles::weight_tiles(&mut gguf, &shape)?;
		let weights = PackedLlama::pack(shape, tiles)?;
		let file_hash = hash_file(path)?;
		Ok(Self { path: path.to_path_buf(), shape, eos, tokenizer, file_hash, weights })
	}

	/// The commitment to the programs the model compiles to.
	pub fn program_hash(&self) -> Hash {
		program_hash(&self.shape)
	}

	/// `text`'s token ids (special tokens in it recognised, none added).
	pub fn tokenize(&self, text: &str) -> Result<Vec<u32>> {
		bpe::encode(&self.tokenizer, text)
	}

	/// The text of `ids`.
	pub fn detokenize(&self, ids: &[u32]) -> Result<String> {
		bpe::decode(&self.tokenizer, self.shape.vocab, ids)
	}

	/// Up to `max_new` tokens after `prompt`, drawn by `sampling` from the
	/// stream `seed` keys, on `threads` threads, stopping after the end
	/// token: the program, trace and reply the chain checks.
	pub fn generate(
		&self,
		prompt: &[u32],
		max_new: u32,
		sampling: Sampling,
		seed: &[u8; 32],
		threads: usize,
	) -> Result<Generation> {
		self.weights.generate(prompt, max_new, sampling, seed, threads, Some(self.eos))
	}
}
