//! Prints the inference figures: sentences per second of the canonical path
//! against candle's f32 reference at sequence lengths 16 and 128 (same run,
//! same machine), beside ONNX Runtime's when `--onnx-runtime FILE` names
//! the figures `scripts/onnxruntime-minilm.py` measured just before; the
//! share of time spent hashing the trace, and the program's step count,
//! largest step and multiply-adds. The CPU and the instruction set the
//! engine dispatched to head the table.
//!
//! `cinder-inference-bench [MODEL_DIR] [--threads N] [--seconds S]
//! [--onnx-runtime FILE] [--profile LEN]`; `--profile LEN` runs only the
//! canonical path at `LEN` tokens, for a profiler; `MODEL_DIR` defaults to
//! `$CINDER_MODELS_DIR/all-minilm-l6-v2`.

use std::{path::PathBuf, time::Instant};

use cinder_engine::{bench::runs_per_second, simd::Isa, Model};
use cinder_kernel::{program::Resolved, Op, Tile};

fn arg(name: &str) -> Option<String> {
	let args: Vec<String> = std::env::args().collect();
	args.iter().position(|a| a == name).and_then(|i| args.get(i + 1).cloned())
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

/// The CPU's model name, from `/proc/cpuinfo` where there is one.
fn cpu_model() -> String {
	std::fs::read_to_string("/proc/cpuinfo")
		.ok()
		.and_then(|info| {
			info.lines()
				.find(|l| l.starts_with("model name"))
				.and_then(|l| l.split_once(':'))
				.map(|(_, name)| name.trim().to_string())
		})
		.unwrap_or_else(|| std::env::consts::ARCH.to_string())
}

/// ONNX Runtime's figures as `scripts/onnxruntime-minilm.py` writes them.
#[derive(serde::Deserialize)]
struct OnnxRuntime {
	version: String,
	sentences_per_second: std::collections::HashMap<String, f64>,
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
	cinder_engine::keep_freed_memory();
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
	// `--profile LEN`: the canonical path alone at LEN tokens, for a
	// profiler to watch.
	if let Some(len) = arg("--profile").and_then(|l| l.parse::<usize>().ok()) {
		let ids = ids_of_len(&model, len.max(2));
		let r = runs_per_second(seconds, || {
			let _ = model.embed(&ids, threads);
		});
		println!("{len} tokens on {threads} threads: {r:.1} sent/s");
		return Ok(());
	}
	let ort: Option<OnnxRuntime> = match arg("--onnx-runtime") {
		Some(path) => Some(serde_json::from_slice(&std::fs::read(&path)?)?),
		None => None,
	};
	println!(
		"cpu            {} ({} logical CPUs)",
		cpu_model(),
		std::thread::available_parallelism().map_or(1, |n| n.get())
	);
	println!("engine         {} kernels (widest this CPU runs)", Isa::best().name());
	println!("threads        {threads} (canonical); candle uses its own thread pool");
	if let Some(o) = &ort {
		println!("onnx runtime   {} f32, measured just before on {threads} threads", o.version);
	}
	println!();
	println!("| seq len | canonical sent/s | candle f32 sent/s | ONNX Runtime f32 sent/s | canonical / candle | canonical / ONNX Runtime | hashing share | trace bytes hashed | steps | largest step (in+out) | multiply-adds |");
	println!("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |");
	for len in [16usize, 128] {
		let ids = ids_of_len(&model, len);
		let canonical = runs_per_second(seconds, || {
			let _ = model.embed(&ids, threads);
		});
		let candle = runs_per_second(seconds, || {
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
		let onnx = ort.as_ref().and_then(|o| o.sentences_per_second.get(&len.to_string()).copied());
		println!(
			"| {len} | {canonical:.1} | {candle:.1} | {} | {:.2}× | {} | {:.1}% | {:.1} MB at {hash_rate:.0} MB/s | {} | {:.1} KiB | {:.1} M |",
			onnx.map_or("-".to_string(), |o| format!("{o:.1}")),
			canonical / candle,
			onnx.map_or("-".to_string(), |o| format!("{:.2}×", canonical / o)),
			hashing * 100.0,
			hashed as f64 / 1e6,
			e.trace.steps(),
			largest as f64 / 1024.0,
			macs as f64 / 1e6,
		);
	}
	// How a worker should spend its threads: one request at a time over all
	// of them, or independent requests side by side on one thread each.
	println!();
	println!("| seq len | one request at a time on {threads} threads, req/s | {threads} requests side by side on 1 thread each, req/s |");
	println!("| --- | --- | --- |");
	for len in [17usize, 128] {
		let ids = ids_of_len(&model, len);
		let one = runs_per_second(seconds, || {
			let _ = model.embed(&ids, threads);
		});
		let start = Instant::now();
		let served: u32 = std::thread::scope(|scope| {
			let workers: Vec<_> = (0..threads)
				.map(|_| {
					scope.spawn(|| {
						let mut n = 0u32;
						while start.elapsed().as_secs_f64() < seconds {
							let _ = model.embed(&ids, 1);
							n += 1;
						}
						n
					})
				})
				.collect();
			workers.into_iter().map(|w| w.join().unwrap_or(0)).sum()
		});
		let side_by_side = f64::from(served) / start.elapsed().as_secs_f64();
		println!("| {len} | {one:.1} | {side_by_side:.1} |");
	}
	Ok(())
}
