//! # cinder-kernel
//!
//! The deterministic half of Cinder's inference: what every honest worker
//! and the runtime itself must compute bit for bit alike.
//!
//! - [`ops`]: the operators of **kernel spec v1** (f32). Every output's
//!   reduction runs in a fixed order (sequential over `k`), multiply and add
//!   are separate IEEE operations (Rust never fuses them), transcendentals
//!   come from `libm` built with soft floats, and every NaN an operator
//!   outputs is canonicalised to [`tile::CANONICAL_NAN`]. Such arithmetic is
//!   identical on x86_64, aarch64 and wasm32. [`ops::fast`] holds
//!   vectorisable variants that keep each output's order, so they are
//!   bit-identical to the reference (tests check it).
//! - [`quant`]: the arithmetic of **kernel spec v2**: weights in GGUF's
//!   Q4_1 and Q8_0 blocks, activations quantized to 8 bits per block of 32
//!   by one rounding rule, each block pair's dot product an exact integer
//!   (so SIMD width, threads and wasm cannot change it), blocks combined in
//!   f32 in ascending order.
//! - [`decoder`]: the f32 operators of llama-family decoders under spec v2
//!   (RMSNorm, interleaved RoPE from `libm`, the SiLU gate, causal
//!   attention over key blocks combined in a fixed order); [`sampler`]:
//!   greedy or temperature/top-p sampling with a counter-based random
//!   stream keyed by a seed the chain fixes.
//! - [`program`]: a model compiles to a [`program::Program`], a flat,
//!   topologically ordered list of [`program::Step`]s, each one operator on
//!   bounded tiles naming the tiles it reads (earlier steps' outputs, weight
//!   tiles, input tokens). [`program::bert`] compiles BERT encoders; its
//!   [`program::bert::Plan`] gives any one step in closed form, which is how
//!   the runtime learns the step a dispute is about without compiling the
//!   whole program. [`program::llama`] compiles a llama decoder's text
//!   generation (prompt in row blocks, one segment per generated token,
//!   the reply collected last) with its own closed-form
//!   [`program::llama::Plan`], and lays out its weights as tiles, quantized
//!   ones kept as GGUF stores them ([`qtile::QTile`]).
//! - [`verify`]: recomputes one step from its input tiles — the one-step
//!   fraud proof the runtime checks ([`verify::decoder`] for spec v2's
//!   steps, whose inputs may be quantized and whose sampler reads the
//!   request's seed).
//! - [`merkle`]: trace commitments. Leaf `i` is `blake2_256(0x00 ‖ i ‖
//!   tile bytes)`, inner nodes `blake2_256(0x01 ‖ left ‖ right)`, with the
//!   same `blake2_256` as the chain's hashing host function.
//!
//! Only this crate of `inference/` may be a runtime dependency.

#![cfg_attr(not(feature = "std"), no_std)]
// Code here reads tiles and proofs that challengers supply: it must return a
// typed error, never panic, on any input.
#![deny(
	clippy::arithmetic_side_effects,
	clippy::indexing_slicing,
	clippy::panic,
	clippy::unreachable,
	clippy::todo,
	clippy::unimplemented
)]

extern crate alloc;

pub mod decoder;
pub mod merkle;
pub mod ops;
pub mod program;
pub mod qtile;
pub mod quant;
pub mod sampler;
#[cfg(feature = "testing")]
pub mod testing;
pub mod tile;
pub mod verify;

pub use merkle::Hash;
pub use program::{Op, Program, Source, Step};
pub use qtile::{Input, QTile, Weight};
pub use tile::Tile;

/// Kernel spec v1: f32, fixed reduction order, no FMA, libm transcendentals.
pub const KERNEL_SPEC_V1: u32 = 1;

/// Kernel spec v2: quantized weights (GGUF Q4_1 and Q8_0 blocks), activations
/// quantized to 8 bits per block of 32, exact integer block dot products
/// combined in f32 in a fixed order ([`quant`]); everything else as v1.
pub const KERNEL_SPEC_V2: u32 = 2;

/// A step's inputs plus its output must fit in this many bytes, so a whole
/// one-step proof fits in one extrinsic.
pub const MAX_STEP_BYTES: usize = 256 * 1024;

/// Rows per activation tile: a sequence is processed in blocks of this many
/// tokens.
pub const ROW_BLOCK: u32 = 16;

/// Why a step could not be computed or a structure is malformed.
#[derive(
	Clone,
	Debug,
	PartialEq,
	Eq,
	thiserror::Error,
	codec::Encode,
	codec::Decode,
	codec::DecodeWithMemTracking,
	scale_info::TypeInfo,
)]
pub enum KernelError {
	/// A tile's data length does not match its shape, or its bytes are cut.
	#[error("malformed tile")]
	MalformedTile,
	/// A step got the wrong number of input tiles.
	#[error("expected {expected} input tiles, got {got}")]
	InputCount { expected: u32, got: u32 },
	/// An input tile's shape does not fit the operator.
	#[error("input tile shapes do not fit the operator")]
	ShapeMismatch,
	/// A step's inputs and output exceed [`MAX_STEP_BYTES`].
	#[error("step exceeds the per-step byte limit")]
	StepTooLarge,
	/// The model shape cannot be tiled within the limits.
	#[error("model shape cannot be tiled")]
	UnsupportedShape,
	/// The sequence is empty or longer than the model's positions.
	#[error("bad sequence length")]
	BadSequenceLength,
	/// A token id is not in the vocabulary.
	#[error("token id outside the vocabulary")]
	TokenOutOfRange,
	/// A step names a source that does not exist (a later step, a missing
	/// weight tile or token).
	#[error("step names a source that does not exist")]
	BadSource,
	/// A step index past the program's end.
	#[error("no such step")]
	NoSuchStep,
	/// A step's operator belongs to another kernel spec than the call that
	/// was asked to compute it.
	#[error("operator of another kernel spec")]
	OtherSpec,
}
