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

/// [`merkle::tile_leaf`] of every `(index, tile)`, without building the
/// encodings in memory: each leaf's head is buffered in its blake2b state
/// and the tiles' data, borrowed where memory already holds the encoding,
/// is hashed several leaves at a time (`blake2b_simd::many`: four lanes
/// with AVX2), which is how tiles of one wave are hashed together.
pub fn leaves(tiles: &[(u32, &Tile)]) -> Vec<Hash> {
	let mut states: Vec<blake2b_simd::State> = tiles
		.iter()
		.map(|(index, tile)| {
			let mut state = blake2b_simd::Params::new().hash_length(32).to_state();
			state.update(&merkle::leaf_head(*index, tile));
			state
		})
		.collect();
	let mut borrowed = Vec::with_capacity(tiles.len());
	for (state, (_, tile)) in states.iter_mut().zip(tiles) {
		match tile.data_bytes() {
			Some(bytes) => borrowed.push((state, bytes)),
			None => tile.encode_data(|bytes| {
				state.update(bytes);
			}),
		}
	}
	blake2b_simd::many::update_many(borrowed);
	states
		.iter_mut()
		.map(|state| {
			let mut out = [0u8; 32];
			out.copy_from_slice(state.finalize().as_bytes());
			out
		})
		.collect()
}

/// Steps one thread ran in a wave: `(step, output, leaf)`, and the time it
/// spent hashing their leaves.
type Batch = (Vec<(usize, Tile, Hash)>, Duration);

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
	let mut leaves_of: Vec<Hash> = vec![[0; 32]; n];
	let mut hashing = Duration::ZERO;

	for wave in waves(program) {
		let done = &outputs;
		// Computes steps `mine` of this wave, then hashes their leaves
		// together; returns them with the time spent hashing.
		let run = |mine: Vec<usize>| -> Result<Batch> {
			let mut tiles = Vec::with_capacity(mine.len());
			for i in mine {
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
				tiles.push((i, verify::recompute_with(step, &inputs, simd::linear)?));
			}
			let start = Instant::now();
			let indexed: Vec<(u32, &Tile)> = tiles.iter().map(|(i, t)| (*i as u32, t)).collect();
			let hashes = leaves(&indexed);
			let spent = start.elapsed();
			let batch = tiles.into_iter().zip(hashes).map(|((i, t), h)| (i, t, h)).collect();
			Ok((batch, spent))
		};
		let results: Vec<Result<Batch>> = if threads == 1 || wave.len() == 1 {
			vec![run(wave)]
		} else {
			std::thread::scope(|scope| {
				let handles: Vec<_> = (0..threads)
					.map(|t| {
						let mine: Vec<usize> =
							wave.iter().copied().skip(t).step_by(threads).collect();
						let run = &run;
						scope.spawn(move || run(mine))
					})
					.collect();
				handles
					.into_iter()
					.map(|h| {
						h.join().unwrap_or_else(|_| {
							Err(crate::EngineError::Weights("executor thread panicked".into()))
						})
					})
					.collect()
			})
		};
		for r in results {
			let (batch, spent) = r?;
			hashing += spent;
			for (i, tile, leaf) in batch {
				outputs[i] = Some(tile);
				leaves_of[i] = leaf;
			}
		}
	}
	let outputs: Vec<Tile> = outputs.into_iter().flatten().collect();
	let root = merkle::root(&leaves_of);
	Ok(Trace { outputs, leaves: leaves_of, root, hashing })
}
