//! Re-executed runs, kept briefly: an auditor re-executes a result once and
//! then plays its dispute from the same run; a challenged worker
//! re-executes its own request to defend it (the engine is deterministic,
//! so nothing needs to be kept from the time it answered).

use std::{collections::VecDeque, sync::Arc};

use cinder_engine::Trace;
use cinder_kernel::{Program, Tile};
use pallet_disputes::prover::{Prover, WeightTiles};
use pallet_inference_runtime_api::{RequestId, Task};
use sp_core::H256;

use super::{models::Served, Fault};

/// What a request asks of its model: its input, what to do with it, and
/// (a generation's) sampling seed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Work {
	pub request: RequestId,
	pub input: Vec<u32>,
	pub task: Task,
	pub seed: H256,
}

/// One run of a request: its program, trace and posted bytes.
pub struct Run {
	pub model: Arc<Served>,
	pub input: Vec<u32>,
	pub program: Program,
	pub trace: Trace,
	/// The result's bytes: an embedding's little-endian f32s, or a reply's
	/// little-endian u32 token ids.
	pub output: Vec<u8>,
}

impl Run {
	/// Runs `job` on `model` (with `threads`), turned into `fault`'s lie if
	/// one is given: what this node posts or would post.
	pub fn execute(
		model: Arc<Served>,
		job: &Work,
		threads: usize,
		fault: Option<Fault>,
	) -> Result<Self, String> {
		let (program, mut trace, mut output) = match (&*model, job.task) {
			(Served::Embedder(m), Task::Embed) => {
				let embedding = m.embed(&job.input, threads).map_err(|e| e.to_string())?;
				let output = embedding.vector.iter().flat_map(|v| v.to_le_bytes()).collect();
				(embedding.program, embedding.trace, output)
			}
			(Served::Chat(m), Task::Generate(g)) => {
				let seed = job.seed.0;
				let generation = m
					.generate(&job.input, g.max_new_tokens, g.sampling, &seed, threads)
					.map_err(|e| e.to_string())?;
				let output = generation.tokens.iter().flat_map(|t| t.to_le_bytes()).collect();
				(generation.program, generation.trace, output)
			}
			_ => return Err("the model does not do this task".into()),
		};
		if let Some(fault) = fault {
			let encode = |tile: &Tile| output_bytes(&model, tile);
			fault.apply(job.request, &mut trace, &mut output, encode);
		}
		Ok(Self { model, input: job.input.clone(), program, trace, output })
	}

	/// What proofs are built from.
	pub fn prover(&self) -> Prover<'_, dyn WeightTiles + '_> {
		let (vocab, weights, weight_leaves): (u32, &dyn WeightTiles, _) = match &*self.model {
			Served::Embedder(m) => (m.shape.vocab, &m.weights, &m.weight_leaves[..]),
			Served::Chat(m) => (m.shape.vocab, &m.weights.tiles, &m.weights.weight_leaves[..]),
		};
		Prover {
			input: &self.input,
			vocab,
			outputs: &self.trace.outputs,
			leaves: &self.trace.leaves,
			weights,
			weight_leaves,
		}
	}
}

/// The bytes a result whose last tile is `tile` posts: an embedding's
/// values as f32s, a reply's token ids as u32s.
fn output_bytes(model: &Served, tile: &Tile) -> Vec<u8> {
	match model {
		Served::Embedder(_) => tile.data.iter().flat_map(|v| v.to_le_bytes()).collect(),
		Served::Chat(_) => tile.data.iter().flat_map(|v| (*v as u32).to_le_bytes()).collect(),
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
