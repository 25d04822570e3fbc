//! Runs llama generation programs (kernel spec v2) fast and traced: the
//! quantized linear layers on packed panels ([`crate::qgemm`]), every other
//! operator with the kernel's reference, each token's segment of steps
//! spread over threads by [`executor::run_into`] and every output hashed
//! into the trace. The
//! outputs are the kernel reference's bit for bit, so the trace root is the
//! one the runtime checks steps against, on any thread count.

use cinder_kernel::{
	merkle::{self, Hash},
	program::{
		llama::{weight_layout, LlamaShape, LlamaTensor, Plan},
		Resolved,
	},
	sampler::Sampling,
	verify::decoder::{collected_ids, recompute_with, reference_qlinear, sampled_id, Context},
	Input, KernelError, Program, QTile, Source, Tile, Weight,
};

use crate::{
	executor::{self, Outputs, Trace},
	qgemm::{self, QPanels},
	simd::Isa,
	Result,
};

/// A llama model's weight tiles, the projections' and the output layer's
/// also packed for [`qgemm::linear`].
pub struct PackedLlama {
	pub shape: LlamaShape,
	pub tiles: Vec<Weight>,
	/// Each tile's leaf in the weight tree ([`Weight::leaf`]).
	pub weight_leaves: Vec<Hash>,
	/// The weight tree's root: what the chain registers as the model's
	/// weight root, and step proofs open weight tiles against.
	pub weight_root: Hash,
	panels: Vec<Option<QPanels>>,
}

/// A generation's program, trace and the tokens it sampled.
pub struct Generation {
	pub program: Program,
	pub trace: Trace,
	/// The sampled tokens, in order.
	pub tokens: Vec<u32>,
}

/// The logits each token of a generation program was sampled from (the
/// logit tiles its sample step read, in order), one row per token.
pub fn sampled_logits(program: &Program, outputs: &[Tile]) -> Vec<Vec<f32>> {
	program
		.sample_steps()
		.iter()
		.filter_map(|&s| program.steps.get(s as usize))
		.map(|step| {
			step.inputs
				.iter()
				.filter_map(|source| match source {
					Source::Step(i) => outputs.get(*i as usize),
					_ => None,
				})
				.flat_map(|t| t.data.iter().copied())
				.collect()
		})
		.collect()
}

/// The reply a generation's trace ends with: its last step, the tokens
/// collected.
pub fn reply(outputs: &[Tile], vocab: u32) -> Result<Vec<u32>> {
	outputs
		.last()
		.and_then(|t| collected_ids(t, vocab))
		.ok_or_else(|| KernelError::TokenOutOfRange.into())
}

impl PackedLlama {
	/// Packs every quantized tile a linear step multiplies by (all but the
	/// embedding rows, which are only looked up); `tiles` must be `shape`'s
	/// layout.
	pub fn pack(shape: LlamaShape, tiles: Vec<Weight>) -> Result<Self> {
		let layout = weight_layout(&shape)?;
		if tiles.len() != layout.len() {
			return Err(KernelError::BadSource.into());
		}
		let panels = tiles
			.iter()
			.zip(&layout)
			.map(|(tile, w)| match tile {
				Weight::Quant(q) if w.tensor != LlamaTensor::Embedding => {
					QPanels::pack(q.format, &q.data, q.cols as usize, q.rows as usize).map(Some)
				}
				_ => Ok(None),
			})
			.collect::<std::result::Result<Vec<_>, _>>()?;
		let weight_leaves: Vec<Hash> = tiles.iter().zip(0u32..).map(|(t, i)| t.leaf(i)).collect();
		let weight_root = merkle::root(&weight_leaves);
		Ok(Self { shape, tiles, weight_leaves, weight_root, panels })
	}

	/// Generates up to `max_new` tokens after `prompt` with `sampling` (the
	/// sampler's stream keyed by `seed`) on `threads` threads, stopping
	/// after the token `stop` if it comes: the trace is then the program's
	/// for the tokens generated, to the last leaf (the reply collected).
	/// Tokens are generated one segment at a time, each segment's steps
	/// spread over the threads.
	pub fn generate(
		&self,
		prompt: &[u32],
		max_new: u32,
		sampling: Sampling,
		seed: &[u8; 32],
		threads: usize,
		stop: Option<u32>,
	) -> Result<Generation> {
		let prompt_len = u32::try_from(prompt.len()).map_err(|_| KernelError::BadSequenceLength)?;
		let plan = Plan::new(&self.shape, prompt_len, max_new, sampling)?;
		let program = plan.program()?;
		let samples = plan.sample_steps();
		// Each segment's steps (up to its sample step) in wave order.
		let mut segments: Vec<Vec<usize>> = vec![Vec::new(); samples.len()];
		for i in executor::waves(&program).into_iter().flatten() {
			let segment = samples.partition_point(|&s| (s as usize) < i);
			if let Some(steps) = segments.get_mut(segment) {
				steps.push(i);
			}
		}
		let outputs = Outputs::new(program.steps.len());
		let mut leaves = vec![[0u8; 32]; program.steps.len()];
		let mut hashing = std::time::Duration::ZERO;
		let mut generated = max_new;
		for (k, (&sample, order)) in samples.iter().zip(segments).enumerate() {
			hashing += self.run(&program, prompt, seed, &outputs, &mut leaves, order, threads)?;
			let token =
				outputs.wait_for(sample as usize).and_then(|t| sampled_id(t, self.shape.vocab));
			if token.is_some() && token == stop {
				generated = k as u32 + 1;
				break;
			}
		}
		// The program for the tokens generated is this one's steps up to
		// its last sample step, then their collection in the next slot.
		let done = Plan::new(&self.shape, prompt_len, generated, sampling)?;
		let n = done.len() as usize;
		let mut program = program;
		program.steps.truncate(n - 1);
		program.steps.push(done.step(done.len() - 1)?);
		program.seq_len = prompt_len.saturating_add(generated);
		hashing += self.run(&program, prompt, seed, &outputs, &mut leaves, vec![n - 1], threads)?;
		leaves.truncate(n);
		let outputs = outputs.into_outputs(n)?;
		let root = merkle::root(&leaves);
		let trace = Trace { outputs, leaves, root, hashing };
		let tokens = reply(&trace.outputs, self.shape.vocab)?;
		Ok(Generation { program, trace, tokens })
	}

	/// Runs the steps of `program` in `order` into `outputs` and `leaves`;
	/// returns the time spent hashing.
	#[allow(clippy::too_many_arguments)]
	fn run(
		&self,
		program: &Program,
		prompt: &[u32],
		seed: &[u8; 32],
		outputs: &Outputs,
		leaves: &mut [Hash],
		order: Vec<usize>,
		threads: usize,
	) -> Result<std::time::Duration> {
		let vocab = self.shape.vocab;
		let isa = Isa::best();
		let compute = |i: usize, outputs: &Outputs| -> Result<Tile> {
			let step = program.steps.get(i).ok_or(KernelError::NoSuchStep)?;
			let resolved = step.resolve_with(prompt, vocab, |s| {
				outputs.wait_for(s as usize).and_then(|t| sampled_id(t, vocab))
			})?;
			let mut inputs = Vec::with_capacity(resolved.len());
			for s in &resolved {
				let input = match *s {
					Resolved::Step(j) => outputs.wait_for(j as usize).map(Input::F32),
					Resolved::Weight(j) => self.tiles.get(j as usize).map(Weight::input),
				};
				inputs.push(input.ok_or(KernelError::BadSource)?);
			}
			let linear = |input: usize, a: &Tile, w: &QTile, out: &mut [f32]| {
				let packed = match resolved.get(input) {
					Some(Resolved::Weight(j)) => {
						self.panels.get(*j as usize).and_then(Option::as_ref)
					}
					_ => None,
				};
				match packed {
					Some(p) if p.k == a.cols as usize && p.n == w.rows as usize => {
						qgemm::linear(isa, &a.data, p, out)
					}
					_ => reference_qlinear(input, a, w, out),
				}
			};
			Ok(recompute_with(step, &inputs, Context { seed }, &linear)?)
		};
		executor::run_into(outputs, leaves, order, threads, &compute)
	}
}
