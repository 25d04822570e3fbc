//! Prints the inference figures: sentences per second of the canonical path
//! against candle's f32 reference at sequence lengths 16 and 128 (same run,
//! same machine), the share of time spent hashing the trace, and the
//! program's step count, largest step and multiply-adds.
//!
//! `cinder-inference-bench [MODEL_DIR] [--threads N] [--seconds S]`;
//! `MODEL_DIR` defaults to `$CINDER_MODELS_DIR/all-minilm-l6-v2`.

use std::{path::PathBuf, time::Instant};

use cinder_engine::Model;
use cinder_kernel::{program::Resolved, Op, Tile};

fn arg(name: &str) -> Option<String> {
	let args: Vec<String> = std::env::args().collect();
	args.iter().position(|a| a == name).and_then(|i| args.get(i + 1).cloned())
}

/// Runs `f` repeatedly for about `seconds`; returns runs per second.
fn rate(seconds: f64, mut f: impl FnMut()) -> f64 {
	f();
	let start = Instant::now();
	let mut n = 0u32;
	while start.elapsed().as_secs_f64() < seconds || n < 3 {
		f();
		n += 1;
	}
	f64::from(n) / start.elapsed().as_secs_f64()
}

/// Tokens of a sentence padded/cut to exactly `len` tokens ([CLS] … [SEP]).
fn ids_of_len(model: &Model, len: usize) -> Vec<u32> {
	let text = "Validators run the model and post the result; anyone can challenge a wrong \
	            answer with a fraud proof that the runtime checks step by step. "
		.repeat(16);
	let mut ids = model.tokenize(&text).unwrap_or_default();
	let sep = ids.last().copied().unwrap_or(0);
	ids.truncate(len - 1);
	ids.push(sep);
	ids
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
	let dir = std::env::args()
		.nth(1)
		.filter(|a| !a.starts_with("--"))
		.map(PathBuf::from)
		.unwrap_or_else(|| cinder_engine::models_dir().join(cinder_engine::MINILM_DIR));
	let threads: usize = arg("--threads").and_then(|t| t.parse().ok()).unwrap_or(2);
	let seconds: f64 = arg("--seconds").and_then(|t| t.parse().ok()).unwrap_or(5.0);

	let load = Instant::now();
	let model = Model::load(&dir)?;
	println!(
		"model          {} ({} weight tiles, loaded in {:.1}s)",
		dir.display(),
		model.weights.len(),
		load.elapsed().as_secs_f64()
	);
	println!("threads        {threads} (canonical); candle uses its own thread pool");
	println!();
	println!("| seq len | canonical sent/s | candle f32 sent/s | ratio | hashing share | trace bytes hashed | steps | largest step (in+out) | multiply-adds |");
	println!("| --- | --- | --- | --- | --- | --- | --- | --- | --- |");
	for len in [16usize, 128] {
		let ids = ids_of_len(&model, len);
		let canonical = rate(seconds, || {
			let _ = model.embed(&ids, threads);
		});
		let candle = rate(seconds, || {
			let _ = model.reference_embedding(&ids);
		});
		// Hashing share: time in leaf hashing over wall time, on one thread,
		// summed over several runs.
		let (mut wall, mut hashing, mut runs) = (0.0f64, 0.0f64, 0u32);
		let mut e = model.embed(&ids, 1)?;
		while wall < seconds || runs < 3 {
			let start = Instant::now();
			e = model.embed(&ids, 1)?;
			wall += start.elapsed().as_secs_f64();
			hashing += e.trace.hashing.as_secs_f64();
			runs += 1;
		}
		let hashed: usize = e.trace.outputs.iter().map(|t| t.encoded_len()).sum();
		let hash_rate = hashed as f64 * f64::from(runs) / hashing / 1e6;
		let hashing = hashing / wall;

		let mut largest = 0usize;
		let mut macs = 0u64;
		for (i, step) in e.program.steps.iter().enumerate() {
			let inputs: Vec<&Tile> = step
				.resolve(&ids, model.shape.vocab)?
				.into_iter()
				.map(|s| match s {
					Resolved::Step(j) => &e.trace.outputs[j as usize],
					Resolved::Weight(j) => &model.weights[j as usize],
				})
				.collect();
			let bytes: usize = inputs.iter().map(|t| t.encoded_len()).sum::<usize>()
				+ e.trace.outputs[i].encoded_len();
			largest = largest.max(bytes);
			if let Op::Linear { .. } = step.op {
				let w = inputs[inputs.len() - 2];
				macs += u64::from(step.rows) * u64::from(w.rows) * u64::from(w.cols);
			}
			if let Op::Attention { .. } = step.op {
				let keys: u64 = inputs[1..].iter().map(|t| u64::from(t.rows)).sum::<u64>() / 2;
				macs += 2 * u64::from(step.rows) * keys * u64::from(step.cols);
			}
		}
		println!(
			"| {len} | {canonical:.1} | {candle:.1} | {:.2}× | {:.1}% | {:.1} MB at {hash_rate:.0} MB/s | {} | {:.1} KiB | {:.1} M |",
			canonical / candle,
			hashing * 100.0,
			hashed as f64 / 1e6,
			e.trace.steps(),
			largest as f64 / 1024.0,
			macs as f64 / 1e6,
		);
	}
	Ok(())
}
