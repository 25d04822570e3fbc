//! # cinder-engine
//!
//! The worker-facing inference engine (std):
//!
//! - [`model::Model`] loads a BERT sentence-embedding model (safetensors
//!   weights, `tokenizer.json`, `config.json`) with candle, tiles its weights
//!   in the kernel's layout and commits to them (the weight-tile root the
//!   chain registers), and tokenises text with the `tokenizers` crate;
//! - [`executor`] runs a compiled [`cinder_kernel::Program`] with the
//!   canonical kernels, handing steps to threads as their inputs are ready,
//!   and returns the output, every trace leaf and the trace root;
//! - [`simd`] computes one step on the widest instruction set the CPU has
//!   (AVX-512, AVX2, AVX2 on a 128-bit datapath, or portable, chosen at run
//!   time), bit-identical to the
//!   kernel's scalar reference: linear layers as packed GEMM ([`gemm`]:
//!   weights packed at load, register-blocked micro-kernels), attention as
//!   two GEMMs and a softmax ([`attention`]), and `expf`/`erff`/GELU eight
//!   lanes at a time ([`vmath`]);
//! - [`qgemm`] computes kernel spec v2's quantized linear layers (GGUF Q4_1
//!   and Q8_0 weights packed at load into panels of eight outputs; exact
//!   integer block dots, AVX2 or portable), bit-identical to
//!   [`cinder_kernel::quant::linear`];
//! - [`model::Model::reference_embedding`] runs candle-transformers' own
//!   f32 BERT on the same weights: the accuracy reference and speed baseline;
//! - [`llama::Llama`] loads a llama-family chat model (SmolLM2) from one
//!   GGUF file ([`gguf`]): its shape from the metadata, a byte-level BPE
//!   tokenizer built from the file's own vocabulary ([`bpe`]), and candle's
//!   quantized llama forward as the reference for text generation;
//!   [`llama_tiles`] cuts its tensors into the kernel's weight tiles;
//!   [`decoder::PackedLlama`] runs generation programs (kernel spec v2)
//!   fast and traced, one token's segment at a time, stopping at the
//!   end-of-reply token, with the weight root the chain registers;
//!   [`chat::ChatModel`] is what a worker serves: the file read once into
//!   packed tiles, no candle model;
//!   [`testllama`] writes a tiny llama GGUF from a fixed seed;
//! - [`bench`] is the benchmark binaries' timing loop;
//! - [`testmodel`] writes a small BERT-shaped model from a fixed seed, in the
//!   same files, so tests need no download.

pub mod attention;
pub mod bench;
pub mod bpe;
pub mod chat;
pub mod decoder;
pub mod executor;
pub mod gemm;
pub mod gguf;
pub mod llama;
pub mod llama_tiles;
pub mod model;
pub mod qgemm;
pub mod simd;
pub mod testllama;
pub mod testmodel;
pub mod vmath;

pub use executor::{execute, Trace};

/// Keeps the memory a finished run frees for the next run, instead of
/// handing it back to the kernel at once. A trace's outputs (14 MB for
/// MiniLM at 128 tokens) are freed when it is dropped; with glibc's default
/// (trim the heap's top past 128 KiB) every run then faults them back in a
/// page at a time, about 4% of a 128-token run on a 2-core Zen 1. Retained
/// memory stays below 256 MiB. Workers and benchmarks call it once at
/// start; elsewhere than on glibc it does nothing.
#[allow(unsafe_code)]
pub fn keep_freed_memory() {
	#[cfg(all(target_os = "linux", target_env = "gnu"))]
	// SAFETY: `mallopt` only sets the allocator's trim threshold; any value
	// is valid, and it is called before the threads that run models start.
	unsafe {
		libc::mallopt(libc::M_TRIM_THRESHOLD, 256 << 20);
	}
}

/// Where model directories live: `$CINDER_MODELS_DIR`, else
/// `~/.cache/cinder/models` (what `scripts/fetch-models.sh` fills).
pub fn models_dir() -> std::path::PathBuf {
	std::env::var_os("CINDER_MODELS_DIR").map(Into::into).unwrap_or_else(|| {
		std::path::PathBuf::from(std::env::var_os("HOME").unwrap_or_default())
			.join(".cache/cinder/models")
	})
}

/// The directory name of all-MiniLM-L6-v2 under [`models_dir`].
pub const MINILM_DIR: &str = "all-minilm-l6-v2";

/// The directory name of SmolLM2-135M-Instruct under [`models_dir`].
pub const SMOLLM2_DIR: &str = "smollm2-135m-instruct";

/// all-MiniLM-L6-v2's directory if it is installed; otherwise says on
/// stderr that the caller (a test needing the real model) is skipped.
pub fn installed_minilm() -> Option<std::path::PathBuf> {
	let dir = models_dir().join(MINILM_DIR);
	if dir.join("model.safetensors").exists() {
		Some(dir)
	} else {
		eprintln!(
			"SKIPPED: all-MiniLM-L6-v2 not found in {}; run scripts/fetch-models.sh",
			dir.display()
		);
		None
	}
}
pub use model::{Embedding, Model};

/// Everything that can go wrong loading or running a model.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
	/// A model file could not be read or written.
	#[error("{path}: {source}")]
	Io { path: String, source: std::io::Error },
	/// `config.json` is not a BERT config this engine runs.
	#[error("config: {0}")]
	Config(String),
	/// A model file was read but is not what it must be (truncated,
	/// corrupted, or of another shape): which file, and why.
	#[error("{path}: {reason}")]
	BadFile { path: String, reason: String },
	/// candle failed to load or run the model.
	#[error("candle: {0}")]
	Candle(#[from] candle_core::Error),
	/// The tokenizer failed to load, encode or decode.
	#[error("tokenizer: {0}")]
	Tokenizer(String),
	/// A tensor the layout needs is missing or has the wrong shape.
	#[error("weights: {0}")]
	Weights(String),
	/// The kernel rejected the program or a step.
	#[error("kernel: {0}")]
	Kernel(#[from] cinder_kernel::KernelError),
	/// The input is empty or longer than the model accepts.
	#[error("input of {len} tokens; the model takes 1 to {max}")]
	InputLength { len: usize, max: usize },
}

/// Crate result type.
pub type Result<T> = std::result::Result<T, EngineError>;
