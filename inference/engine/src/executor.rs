//! Runs a program with the canonical kernels and commits to its trace.
//!
//! Steps are grouped into waves: a step's wave is one more than the latest
//! wave among the steps it reads. Steps in one wave are independent, so they
//! run on `threads` threads at once; each step's output (and leaf) depends
//! only on its inputs, never on the schedule, so the trace is the same for
//! any thread count.

use std::time::{Duration, Instant};

use cinder_kernel::{
	merkle::{self, Hash},
	program::{Program, Resolved},
	verify, Tile,
};

use crate::{simd, Result};

/// The result of running a program.
#[derive(Clone, Debug)]
pub struct Trace {
	/// Every step's output tile, in step order.
	pub outputs: Vec<Tile>,
	/// Leaf `i` commits to step `i`'s output.
	pub leaves: Vec<Hash>,
	/// The Merkle root over the leaves: what a worker posts.
	pub root: Hash,
	/// Time spent hashing leaves (summed over threads).
	pub hashing: Duration,
}

impl Trace {
	/// The program's output: the last step's tile.
	pub fn output(&self) -> Option<&Tile> {
		self.outputs.last()
	}

	/// Number of steps.
	pub fn steps(&self) -> u32 {
		self.outputs.len() as u32
	}
}

/// [`merkle::tile_leaf`] without building the encoded tile in memory: the
/// same bytes are fed to blake2b in chunks that stay in L1.
pub fn streamed_leaf(index: u32, tile: &Tile) -> Hash {
	let mut state = blake2b_simd::Params::new().hash_length(32).to_state();
	cinder_kernel::merkle::leaf_preimage(index, tile, |bytes| {
		state.update(bytes);
	});
	let mut out = [0u8; 32];
	out.copy_from_slice(state.finalize().as_bytes());
	out
}

/// Waves of step indices; see the module docs.
pub fn waves(program: &Program) -> Vec<Vec<usize>> {
	let mut wave_of = vec![0usize; program.steps.len()];
	let mut waves: Vec<Vec<usize>> = Vec::new();
	for (i, step) in program.steps.iter().enumerate() {
		let w = step
			.inputs
			.iter()
			.filter_map(|s| match s {
				cinder_kernel::Source::Step(j) => wave_of.get(*j as usize).map(|w| w + 1),
				_ => None,
			})
			.max()
			.unwrap_or(0);
		wave_of[i] = w;
		if waves.len() <= w {
			waves.resize_with(w + 1, Vec::new);
		}
		waves[w].push(i);
	}
	waves
}

/// Runs `program` on token `ids` with `weights` (in layout order) on
/// `threads` threads; returns every output and the trace commitment.
pub fn execute(
	program: &Program,
	weights: &[Tile],
	ids: &[u32],
	vocab: u32,
	threads: usize,
) -> Result<Trace> {
	let threads = threads.max(1);
	let n = program.steps.len();
	let mut outputs: Vec<Option<Tile>> = vec![None; n];
	let mut leaves: Vec<Hash> = vec![[0; 32]; n];
	let mut hashing = Duration::ZERO;

	for wave in waves(program) {
		let done = &outputs;
		let run = |i: usize| -> Result<(usize, Tile, Hash, Duration)> {
			let step = &program.steps[i];
			let inputs = step
				.resolve(ids, vocab)?
				.into_iter()
				.map(|s| match s {
					Resolved::Step(j) => done.get(j as usize).and_then(|t| t.as_ref()),
					Resolved::Weight(j) => weights.get(j as usize),
				})
				.collect::<Option<Vec<&Tile>>>()
				.ok_or(cinder_kernel::KernelError::BadSource)?;
			let out = verify::recompute_with(step, &inputs, simd::linear)?;
			let start = Instant::now();
			let leaf = streamed_leaf(i as u32, &out);
			Ok((i, out, leaf, start.elapsed()))
		};
		let results: Vec<Result<(usize, Tile, Hash, Duration)>> = if threads == 1 || wave.len() == 1
		{
			wave.iter().map(|&i| run(i)).collect()
		} else {
			std::thread::scope(|scope| {
				let handles: Vec<_> = (0..threads)
					.map(|t| {
						let mine: Vec<usize> =
							wave.iter().copied().skip(t).step_by(threads).collect();
						let run = &run;
						scope.spawn(move || mine.into_iter().map(run).collect::<Vec<_>>())
					})
					.collect();
				handles
					.into_iter()
					.flat_map(|h| match h.join() {
						Ok(v) => v,
						Err(_) => vec![Err(crate::EngineError::Weights(
							"executor thread panicked".into(),
						))],
					})
					.collect()
			})
		};
		for r in results {
			let (i, tile, leaf, spent) = r?;
			outputs[i] = Some(tile);
			leaves[i] = leaf;
			hashing += spent;
		}
	}
	let outputs: Vec<Tile> = outputs.into_iter().flatten().collect();
	let root = merkle::root(&leaves);
	Ok(Trace { outputs, leaves, root, hashing })
}
