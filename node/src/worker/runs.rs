//! Re-executed runs, kept briefly: an auditor re-executes a result once and
//! then plays its dispute from the same run; a challenged worker
//! re-executes its own request to defend it (the engine is deterministic,
//! so nothing needs to be kept from the time it answered).

use std::{collections::VecDeque, sync::Arc};

use cinder_engine::{Model, Trace};
use cinder_kernel::Program;
use pallet_disputes::prover::Prover;
use pallet_inference_runtime_api::RequestId;

use super::Fault;

/// One run of a request: its program, trace and posted bytes.
pub struct Run {
	pub model: Arc<Model>,
	pub input: Vec<u32>,
	pub program: Program,
	pub trace: Trace,
	/// The result's bytes: the embedding, little-endian f32.
	pub output: Vec<u8>,
}

impl Run {
	/// Runs `input` on `model` (with `threads`), turned into `fault`'s lie
	/// if one is given: what this node posts or would post.
	pub fn execute(
		model: Arc<Model>,
		request: RequestId,
		input: &[u32],
		threads: usize,
		fault: Option<Fault>,
	) -> Result<Self, String> {
		let embedding = model.embed(input, threads).map_err(|e| e.to_string())?;
		let mut trace = embedding.trace;
		let mut output: Vec<u8> = embedding.vector.iter().flat_map(|v| v.to_le_bytes()).collect();
		if let Some(fault) = fault {
			fault.apply(request, &mut trace, &mut output);
		}
		Ok(Self { model, input: input.to_vec(), program: embedding.program, trace, output })
	}

	/// What proofs are built from.
	pub fn prover(&self) -> Prover<'_> {
		Prover {
			input: &self.input,
			vocab: self.model.shape.vocab,
			outputs: &self.trace.outputs,
			leaves: &self.trace.leaves,
			weights: &self.model.weights,
			weight_leaves: &self.model.weight_leaves,
		}
	}
}

/// Which run: a request's honest run, or this node's own (possibly
/// faulty) one. The request fixes the model and input.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct RunKey {
	pub request: RequestId,
	pub own: bool,
}

/// The last few runs (traces of long inputs are tens of megabytes).
pub struct Runs {
	cap: usize,
	runs: VecDeque<(RunKey, Arc<Run>)>,
}

impl Runs {
	pub fn new(cap: usize) -> Self {
		Self { cap: cap.max(1), runs: VecDeque::new() }
	}

	pub fn get(&self, key: RunKey) -> Option<Arc<Run>> {
		self.runs.iter().find(|(k, _)| *k == key).map(|(_, r)| r.clone())
	}

	pub fn put(&mut self, key: RunKey, run: Arc<Run>) {
		self.runs.retain(|(k, _)| *k != key);
		if self.runs.len() >= self.cap {
			self.runs.pop_front();
		}
		self.runs.push_back((key, run));
	}
}
