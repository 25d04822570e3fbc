//! Runs a program with the canonical kernels and commits to its trace.
//!
//! Steps are grouped into waves: a step's wave is one more than the latest
//! wave among the steps it reads. Steps in one wave are independent; they
//! are handed out wave by wave to `threads` threads (see
//! [`execute_packed`]). Each step's output (and leaf) depends only on its
//! inputs, never on the schedule, so the trace is the same for any thread
//! count.

use std::{
	sync::{
		atomic::{AtomicBool, AtomicUsize, Ordering},
		OnceLock,
	},
	time::{Duration, Instant},
};

use cinder_kernel::{
	merkle::{self, Hash},
	program::{Program, Resolved},
	Op, Source, Tile,
};

use crate::{
	gemm::Panels,
	simd::{self, Isa},
	Result,
};

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

/// [`merkle::tile_leaf`] of every `(index, tile)`, several leaves at a time:
/// each leaf's preimage (head, then the tile's canonical data) is laid out
/// contiguously and the preimages are hashed together with
/// `blake2b_simd::many::hash_many` (four blake2b lanes with AVX2, the final
/// blocks included). This is how tiles of one batch are hashed together.
pub fn leaves(tiles: &[(u32, &Tile)]) -> Vec<Hash> {
	// [`HASH_BATCH`] at a time, so at most that many preimages are held
	// (the model's weights are hashed through here at load).
	let mut buffers = Vec::new();
	tiles.chunks(HASH_BATCH).flat_map(|batch| leaves_with(batch, &mut buffers)).collect()
}

/// [`leaves`] reusing `buffers` for the preimages.
pub fn leaves_with(tiles: &[(u32, &Tile)], buffers: &mut Vec<Vec<u8>>) -> Vec<Hash> {
	if buffers.len() < tiles.len() {
		buffers.resize_with(tiles.len(), Vec::new);
	}
	for (buffer, (index, tile)) in buffers.iter_mut().zip(tiles) {
		buffer.clear();
		buffer.reserve(merkle::LEAF_HEAD_BYTES + tile.encoded_len());
		merkle::leaf_preimage(*index, tile, |bytes| buffer.extend_from_slice(bytes));
	}
	let params = {
		let mut p = blake2b_simd::Params::new();
		p.hash_length(32);
		p
	};
	let mut jobs: Vec<blake2b_simd::many::HashManyJob> = buffers
		.iter()
		.take(tiles.len())
		.map(|b| blake2b_simd::many::HashManyJob::new(&params, b))
		.collect();
	blake2b_simd::many::hash_many(jobs.iter_mut());
	jobs.iter()
		.map(|job| {
			let mut out = [0u8; 32];
			out.copy_from_slice(job.to_hash().as_bytes());
			out
		})
		.collect()
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
				Source::Step(j) | Source::Sampled { step: j, .. } => {
					wave_of.get(*j as usize).map(|w| w + 1)
				}
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
/// `threads` threads; returns every output and the trace commitment. Packs
/// the linear layers' weights first: callers that run a model more than
/// once keep them packed and call [`execute_packed`].
pub fn execute(
	program: &Program,
	weights: &[Tile],
	ids: &[u32],
	vocab: u32,
	threads: usize,
) -> Result<Trace> {
	let panels = pack_linear_weights(program, weights);
	execute_packed(program, weights, &panels, ids, vocab, threads)
}

/// [`Panels`] of every weight tile some linear step of `program` multiplies
/// by (`None` for the others).
pub fn pack_linear_weights(program: &Program, weights: &[Tile]) -> Vec<Option<Panels>> {
	let mut panels: Vec<Option<Panels>> = vec![None; weights.len()];
	for step in &program.steps {
		if let (Op::Linear { .. }, [.., Source::Weight(w), _]) = (step.op, step.inputs.as_slice()) {
			if let (Some(slot @ None), Some(tile)) =
				(panels.get_mut(*w as usize), weights.get(*w as usize))
			{
				*slot = Some(Panels::of_tile(tile));
			}
		}
	}
	panels
}

/// Leaves a thread has computed but not yet hashed, hashed four at a time
/// (`blake2b_simd::many` runs four lanes with AVX2).
const HASH_BATCH: usize = 4;

/// Spins before yielding the CPU while waiting for an input.
const SPINS: u32 = 256;

/// What one thread did: `(step, leaf)` of the steps it ran, and the time it
/// spent hashing.
type Share = (Vec<(usize, Hash)>, Duration);

/// Every step's output, set once by whichever thread computed it, and
/// whether a thread failed (then the others stop).
pub struct Outputs {
	slots: Vec<OnceLock<Tile>>,
	failed: AtomicBool,
}

impl Outputs {
	/// Slots for `n` steps' outputs, none set.
	pub fn new(n: usize) -> Self {
		Self { slots: (0..n).map(|_| OnceLock::new()).collect(), failed: AtomicBool::new(false) }
	}

	/// The first `n` outputs; an error unless all are set.
	pub fn into_outputs(self, n: usize) -> Result<Vec<Tile>> {
		let outputs: Vec<Tile> =
			self.slots.into_iter().take(n).map_while(OnceLock::into_inner).collect();
		if outputs.len() != n {
			return Err(cinder_kernel::KernelError::NoSuchStep.into());
		}
		Ok(outputs)
	}

	/// Waits until step `j`'s output is there (or a thread failed).
	pub fn wait_for(&self, j: usize) -> Option<&Tile> {
		let slot = self.slots.get(j)?;
		let mut spins = 0u32;
		loop {
			if let Some(t) = slot.get() {
				return Some(t);
			}
			if self.failed.load(Ordering::Relaxed) {
				return None;
			}
			if spins < SPINS {
				spins += 1;
				std::hint::spin_loop();
			} else {
				std::thread::yield_now();
			}
		}
	}
}

/// What the threads share while running one program: `compute(i,
/// outputs)` computes step `i`, waiting on `outputs` for what it reads.
struct Run<'a, C> {
	/// Steps in the order they are handed out: wave by wave.
	order: Vec<usize>,
	/// The next position of `order` to hand out.
	next: AtomicUsize,
	outputs: &'a Outputs,
	compute: &'a C,
}

impl<C: Fn(usize, &Outputs) -> Result<Tile> + Sync> Run<'_, C> {
	/// One thread's share: takes the next step until none is left, publishes
	/// each output at once (others may be waiting on it) and hashes the
	/// leaves in batches. Returns `(step, leaf)` pairs and the hashing time.
	fn work(&self) -> Result<Share> {
		let mut leaves = Vec::new();
		let mut pending: Vec<usize> = Vec::with_capacity(HASH_BATCH);
		let mut hashing = Duration::ZERO;
		let mut buffers = Vec::new();
		let mut flush = |pending: &mut Vec<usize>, leaves: &mut Vec<(usize, Hash)>| -> Duration {
			let start = Instant::now();
			let tiles: Vec<(u32, &Tile)> = pending
				.iter()
				.filter_map(|&i| self.outputs.slots.get(i)?.get().map(|t| (i as u32, t)))
				.collect();
			leaves.extend(pending.drain(..).zip(leaves_with(&tiles, &mut buffers)));
			start.elapsed()
		};
		loop {
			let position = self.next.fetch_add(1, Ordering::Relaxed);
			let Some(&i) = self.order.get(position) else { break };
			match (self.compute)(i, self.outputs) {
				Ok(tile) => {
					let _ = self.outputs.slots.get(i).map(|slot| slot.set(tile));
				}
				Err(e) => {
					self.outputs.failed.store(true, Ordering::Relaxed);
					return Err(e);
				}
			}
			pending.push(i);
			if pending.len() == HASH_BATCH {
				hashing += flush(&mut pending, &mut leaves);
			}
		}
		hashing += flush(&mut pending, &mut leaves);
		Ok((leaves, hashing))
	}
}

/// The order steps are handed out in: wave by wave, and within a wave the
/// linear steps that multiply by the same weight tile (one per row block)
/// one after the other, so that tile is still in cache for its next use.
pub fn handout_order(program: &Program) -> Vec<usize> {
	let weight_of = |i: &usize| match program.steps.get(*i).map(|s| (s.op, s.inputs.as_slice())) {
		Some((Op::Linear { .. }, [.., Source::Weight(w), _])) => Some(*w),
		_ => None,
	};
	waves(program)
		.into_iter()
		.flat_map(|mut wave| {
			wave.sort_by_key(|i| (weight_of(i), *i));
			wave
		})
		.collect()
}

/// [`execute`] with the linear weights already packed
/// ([`pack_linear_weights`]), steps run by [`run_steps`] in
/// [`handout_order`].
pub fn execute_packed(
	program: &Program,
	weights: &[Tile],
	panels: &[Option<Panels>],
	ids: &[u32],
	vocab: u32,
	threads: usize,
) -> Result<Trace> {
	let isa = Isa::best();
	let compute = |i: usize, outputs: &Outputs| -> Result<Tile> {
		let step = program.steps.get(i).ok_or(cinder_kernel::KernelError::NoSuchStep)?;
		let resolved = step.resolve(ids, vocab)?;
		let mut inputs = Vec::with_capacity(resolved.len());
		for s in &resolved {
			let tile = match *s {
				Resolved::Step(j) => outputs.wait_for(j as usize),
				Resolved::Weight(j) => weights.get(j as usize),
			};
			inputs.push(tile.ok_or(cinder_kernel::KernelError::BadSource)?);
		}
		let panels = match (step.op, resolved.as_slice()) {
			(Op::Linear { .. }, [.., Resolved::Weight(w), _]) => {
				panels.get(*w as usize).and_then(Option::as_ref)
			}
			_ => None,
		};
		Ok(simd::compute(isa, step, &inputs, panels)?)
	};
	run_steps(program.steps.len(), handout_order(program), threads, &compute)
}

/// Runs `n` steps handed out in `order` on `threads` threads, step `i`
/// computed by `compute(i, outputs)`, and commits to every output.
///
/// Steps are handed out one at a time to whichever thread is free; a
/// thread whose step reads an output still being computed waits for that
/// output alone, so there is no barrier between waves. An output depends
/// only on its inputs and a leaf only on its output, so the trace is the
/// same for any thread count and any schedule. `order` must list every
/// step after the steps it reads ([`waves`] order does).
pub fn run_steps<C>(n: usize, order: Vec<usize>, threads: usize, compute: &C) -> Result<Trace>
where
	C: Fn(usize, &Outputs) -> Result<Tile> + Sync,
{
	let outputs = Outputs::new(n);
	let mut leaves = vec![[0; 32]; n];
	let hashing = run_into(&outputs, &mut leaves, order, threads, compute)?;
	let outputs = outputs.into_outputs(n)?;
	let root = merkle::root(&leaves);
	Ok(Trace { outputs, leaves, root, hashing })
}

/// Runs the steps in `order` as [`run_steps`] does, into `outputs` (whose
/// other slots hold earlier steps' outputs, or are left empty), writing
/// each step's leaf into `leaves`; returns the time spent hashing. Called
/// again with more steps, it carries a program on from where it stopped.
pub fn run_into<C>(
	outputs: &Outputs,
	leaves: &mut [Hash],
	order: Vec<usize>,
	threads: usize,
	compute: &C,
) -> Result<Duration>
where
	C: Fn(usize, &Outputs) -> Result<Tile> + Sync,
{
	let run = Run { order, next: AtomicUsize::new(0), outputs, compute };
	let results: Vec<Result<Share>> = std::thread::scope(|scope| {
		let helpers: Vec<_> = (1..threads.max(1)).map(|_| scope.spawn(|| run.work())).collect();
		let mut results = vec![run.work()];
		for h in helpers {
			results.push(h.join().unwrap_or_else(|_| {
				Err(crate::EngineError::Weights("executor thread panicked".into()))
			}));
		}
		results
	});
	let mut hashing = Duration::ZERO;
	for r in results {
		let (done, spent) = r?;
		hashing += spent;
		for (i, leaf) in done {
			if let Some(slot) = leaves.get_mut(i) {
				*slot = leaf;
			}
		}
	}
	Ok(hashing)
}
