//! Prints SmolLM2-135M-Instruct's text generation figures: prompt and
//! generated tokens per second of the canonical path (kernel spec v2, the
//! packed executor, traced) against candle's quantized llama forward on the
//! same GGUF, at prompt lengths 16 and 128 with 64 generated tokens; the
//! share of the canonical run spent hashing the trace; steps per generated
//! token; and the heaviest step's bytes and multiply-adds.
//!
//! `cinder-llama-bench [--threads N] [--runs R]` (default 2 threads, the
//! median of 3 runs of each measurement; candle uses its own pool of all
//! CPUs).

use std::time::Instant;

use cinder_engine::{
	decoder::PackedLlama,
	llama::{self, Llama},
	simd::Isa,
};
use cinder_kernel::{
	program::{
		llama::{compile, LlamaShape},
		Shape,
	},
	sampler::Sampling,
	Op, Program, Source,
};

const GENERATED: u32 = 64;

/// A prompt of exactly `len` tokens: a chat turn, its text repeated to
/// length.
fn prompt_of(model: &Llama, len: usize) -> Result<Vec<u32>, Box<dyn std::error::Error>> {
	let text = "Tell me about the history of the printing press and how it changed Europe. ";
	let mut ids = model.tokenize(&llama::chat_prompt(None, &text.repeat(len / 8 + 2)))?;
	ids.truncate(len);
	Ok(ids)
}

/// The bytes a step reads and writes, and its multiply-adds.
fn weight(shape: &LlamaShape, program: &Program, i: usize) -> (usize, u64) {
	let step = &program.steps[i];
	let tile_bytes = |rows: u32, cols: u32| Shape { rows, cols }.bytes();
	let weight_tile = |w: u32| shape.weight_tile(w).ok().flatten();
	let mut bytes = tile_bytes(step.rows, step.cols);
	// Values of the weight rows read (per output column), and key rows.
	let (mut k, mut step_rows) = (0u64, 0u64);
	for source in &step.inputs {
		match *source {
			Source::Step(j) => {
				let s = &program.steps[j as usize];
				bytes += tile_bytes(s.rows, s.cols);
				step_rows += u64::from(s.rows);
			}
			Source::Weight(w) => {
				let tile = weight_tile(w);
				bytes += tile.map_or(0, |t| t.bytes());
				k = tile.map_or(0, |t| u64::from(t.cols));
			}
			Source::Token { table, .. } | Source::Sampled { table, .. } => {
				bytes += weight_tile(table).map_or(0, |t| t.bytes());
			}
		}
	}
	let (rows, cols) = (u64::from(step.rows), u64::from(step.cols));
	let macs = match step.op {
		Op::QLinear { .. } => rows * cols * k,
		Op::GateUp => 2 * rows * cols * k,
		// Each query row against every key row, scores then values; the
		// inputs are the query rows, then as many key rows as value rows.
		Op::Attend { .. } => 2 * rows * (step_rows - rows) / 2 * cols,
		_ => rows * cols,
	};
	(bytes, macs)
}

/// The median wall time of `runs` calls of `f`.
fn median_seconds(
	runs: usize,
	mut f: impl FnMut() -> cinder_engine::Result<()>,
) -> Result<f64, Box<dyn std::error::Error>> {
	let mut times = Vec::with_capacity(runs);
	for _ in 0..runs.max(1) {
		let start = Instant::now();
		f()?;
		times.push(start.elapsed().as_secs_f64());
	}
	times.sort_by(f64::total_cmp);
	Ok(times[times.len() / 2])
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
	cinder_engine::keep_freed_memory();
	let args: Vec<String> = std::env::args().collect();
	let threads: usize = args
		.iter()
		.position(|a| a == "--threads")
		.and_then(|i| args.get(i + 1))
		.and_then(|s| s.parse().ok())
		.unwrap_or(2);
	let runs: usize = args
		.iter()
		.position(|a| a == "--runs")
		.and_then(|i| args.get(i + 1))
		.and_then(|s| s.parse().ok())
		.unwrap_or(3);
	let Some(path) = llama::installed_smollm2() else {
		return Err("SmolLM2 is not installed: run scripts/fetch-models.sh".into());
	};
	let mut model = Llama::load(&path)?;
	let packed = PackedLlama::pack(model.shape, model.weight_tiles()?)?;
	println!("engine   {} kernels (widest this CPU runs), {threads} threads", Isa::best().name());
	println!(
		"candle   quantized_llama, its own thread pool ({} CPUs)",
		std::thread::available_parallelism().map_or(1, |n| n.get())
	);
	println!();
	println!("| prompt | generated | prompt tok/s: ours | candle | generated tok/s: ours | candle | ours ÷ candle (generated) | hashing |");
	println!("| --- | --- | --- | --- | --- | --- | --- | --- |");
	for len in [16usize, 128] {
		let prompt = prompt_of(&model, len)?;
		let seed = [0u8; 32];
		// Ours: the prompt alone (one token sampled), then with 64 tokens.
		let prefill = median_seconds(runs, || {
			packed.generate(&prompt, 1, Sampling::Greedy, &seed, threads, None).map(drop)
		})?;
		let mut all = None;
		let total = median_seconds(runs, || {
			let run =
				packed.generate(&prompt, GENERATED, Sampling::Greedy, &seed, threads, None)?;
			all = Some(run);
			Ok(())
		})?;
		let all = all.ok_or("no run")?;
		let hashing = all.trace.hashing.as_secs_f64() / (total * threads as f64);
		// candle: the prompt, then the same 63 tokens one at a time.
		let candle_prefill = median_seconds(runs, || model.reference_logits(&prompt).map(drop))?;
		let candle_total =
			median_seconds(runs, || model.reference_logits_along(&prompt, &all.tokens).map(drop))?;
		let decode = f64::from(GENERATED - 1);
		let ours_gen = decode / (total - prefill);
		let candle_gen = decode / (candle_total - candle_prefill);
		println!(
			"| {len} | {GENERATED} | {:.1} | {:.1} | {ours_gen:.1} | {candle_gen:.1} | {:.2}× | {:.1}% |",
			len as f64 / prefill,
			len as f64 / candle_prefill,
			ours_gen / candle_gen,
			100.0 * hashing,
		);
	}
	println!();
	let shape = model.shape;
	let a = compile(&shape, 16, GENERATED, Sampling::Greedy)?;
	let b = compile(&shape, 16, GENERATED - 1, Sampling::Greedy)?;
	let heaviest = (0..a.steps.len())
		.map(|i| weight(&shape, &a, i))
		.fold((0, 0), |m, w| (m.0.max(w.0), m.1.max(w.1)));
	println!(
		"steps: {} for 16 + {GENERATED} tokens; the last generated token's segment {}; heaviest step {} bytes (limit 262144), most multiply-adds in a step {}",
		a.len(),
		a.len() - b.len(),
		heaviest.0,
		heaviest.1
	);
	Ok(())
}
