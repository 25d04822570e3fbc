//! The part of the [`wasm-opt`](https://crates.io/crates/wasm-opt) crate's API
//! that `substrate-wasm-builder` calls, written over `wasmparser`.
//!
//! The builder runs binaryen once per runtime build, at optimisation level
//! 0, for three things: strip the DWARF sections, lower the sign-extension
//! operators to MVP instructions, and refuse anything beyond the MVP feature
//! set. The crates.io crate compiles all of binaryen's C++ for that, 17 of
//! the 51 minutes of a cold 2-core build and on its critical path. This
//! crate does the same three things in Rust; the workspace puts it in place
//! of the crates.io one with `[patch.crates-io]`.
//!
//! It rewrites no more than it must: sections are copied byte for byte,
//! except the stripped ones and, when a function uses a sign-extension
//! operator, the code section. Every output is validated before it is
//! written, against the MVP features when those are asked for.

mod lower;
mod module;

use std::path::{Path, PathBuf};

use wasmparser::{Validator, WasmFeatures};

/// A binaryen pass this crate implements.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Pass {
	/// Lower `i32.extend8_s` and its kin to a pair of shifts.
	SignextLowering,
	/// Drop the custom sections named `.debug_*` (DWARF).
	StripDwarf,
}

/// What [`OptimizationOptions::run`] does, built as with the crates.io crate.
#[derive(Clone, Debug)]
pub struct OptimizationOptions {
	passes: Vec<Pass>,
	debug_info: bool,
	mvp_only: bool,
}

/// Why a run wrote nothing.
#[derive(Debug, thiserror::Error)]
pub enum OptimizationError {
	/// The input could not be read.
	#[error("reading {path}: {source}")]
	Read { path: PathBuf, source: std::io::Error },
	/// The input is not a valid WebAssembly module.
	#[error("{path} is not a valid wasm module: {source}")]
	InvalidInput { path: PathBuf, source: wasmparser::BinaryReaderError },
	/// The rewritten module fails validation with the features asked for
	/// (for instance a bulk-memory operator under `mvp_features_only`).
	#[error("the module from {path} is invalid with the features asked for: {source}")]
	InvalidOutput { path: PathBuf, source: wasmparser::BinaryReaderError },
	/// A rewritten section or function passed the format's 4 GiB limit.
	#[error("{path}: a rewritten section or function is over 4 GiB")]
	TooLarge { path: PathBuf },
	/// The output could not be written.
	#[error("writing {path}: {source}")]
	Write { path: PathBuf, source: std::io::Error },
}

impl OptimizationOptions {
	/// No optimisation: only the passes added run.
	pub fn new_opt_level_0() -> Self {
		Self { passes: Vec::new(), debug_info: false, mvp_only: false }
	}

	/// Runs `pass` too.
	pub fn add_pass(&mut self, pass: Pass) -> &mut Self {
		self.passes.push(pass);
		self
	}

	/// Keeps the `name` section (binaryen's debug info) when `keep`.
	pub fn debug_info(&mut self, keep: bool) -> &mut Self {
		self.debug_info = keep;
		self
	}

	/// The output must validate with the MVP features alone (plus mutable
	/// globals, which every wasm32 target emits).
	pub fn mvp_features_only(&mut self) -> &mut Self {
		self.mvp_only = true;
		self
	}

	/// Reads `infile`, runs the passes and writes `outfile`, which may be
	/// `infile`. On an error nothing is written.
	pub fn run(
		&self,
		infile: impl AsRef<Path>,
		outfile: impl AsRef<Path>,
	) -> Result<(), OptimizationError> {
		let (infile, outfile) = (infile.as_ref(), outfile.as_ref());
		let input = std::fs::read(infile)
			.map_err(|source| OptimizationError::Read { path: infile.into(), source })?;
		let output = self.apply(&input).map_err(|e| e.at(infile))?;
		std::fs::write(outfile, output)
			.map_err(|source| OptimizationError::Write { path: outfile.into(), source })
	}

	/// The passes over a module in memory.
	pub fn apply(&self, input: &[u8]) -> Result<Vec<u8>, ApplyError> {
		Validator::new_with_features(WasmFeatures::default())
			.validate_all(input)
			.map_err(ApplyError::Input)?;
		let output = module::rewrite(
			input,
			&module::Plan {
				strip_dwarf: self.passes.contains(&Pass::StripDwarf),
				strip_names: !self.debug_info,
				lower_signext: self.passes.contains(&Pass::SignextLowering),
			},
		)?;
		let features = if self.mvp_only { WasmFeatures::WASM1 } else { WasmFeatures::default() };
		Validator::new_with_features(features).validate_all(&output).map_err(ApplyError::Output)?;
		Ok(output)
	}
}

/// Why [`OptimizationOptions::apply`] gave no module.
#[derive(Debug, thiserror::Error)]
pub enum ApplyError {
	/// The input is not a valid module.
	#[error("invalid input: {0}")]
	Input(#[from] wasmparser::BinaryReaderError),
	/// A rewritten size passed the format's `u32` limit.
	#[error("a rewritten section or function is over 4 GiB")]
	TooLarge,
	/// The output fails validation with the features asked for.
	#[error("invalid output: {0}")]
	Output(wasmparser::BinaryReaderError),
}

impl ApplyError {
	fn at(self, path: &Path) -> OptimizationError {
		match self {
			Self::Input(source) => OptimizationError::InvalidInput { path: path.into(), source },
			Self::Output(source) => OptimizationError::InvalidOutput { path: path.into(), source },
			Self::TooLarge => OptimizationError::TooLarge { path: path.into() },
		}
	}
}
