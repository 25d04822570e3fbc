//! Prints the inference figures: sentences per second of the canonical path
//! against candle's f32 reference at sequence lengths 16 and 128 (same run,
//! same machine), beside ONNX Runtime's when `--onnx-runtime FILE` names
//! the figures `scripts/onnxruntime-minilm.py` measured just before; the
//! share of time spent hashing the trace, and the program's step count,
//! largest step and multiply-adds. The CPU and the instruction set the
//! engine dispatched to head the table.
//!
//! A last table gives what bounds the linear layers: one thread's
//! multiply-adds per second on one MiniLM linear step (16 × 384 by 384 ×
//! 64, everything in cache) for each instruction set's kernel, beside a
//! fused multiply-add kernel of the same shape that spec v1 does not allow
//! (one rounding per term, as ONNX Runtime's kernels compute), and what
//! ONNX Runtime sustains per thread over the whole model.
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
	let mut model_macs = Vec::new();
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
		model_macs.push((len, macs, onnx));
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
	ceiling(seconds, threads, &model_macs);
	Ok(())
}

/// The last table: see the crate docs.
fn ceiling(seconds: f64, threads: usize, model_macs: &[(usize, u64, Option<f64>)]) {
	let (rows, k, n) = (16usize, 384usize, 64usize);
	let macs = (rows * k * n) as f64;
	let a: Vec<f32> = (0..rows * k).map(|i| ((i * 7919) % 1000) as f32 * 1e-3 - 0.5).collect();
	let w: Vec<f32> = (0..k * n).map(|i| ((i * 104_729) % 1000) as f32 * 1e-3 - 0.5).collect();
	let tiles = (
		Tile { rows: rows as u32, cols: k as u32, data: a.clone() },
		Tile { rows: k as u32, cols: n as u32, data: w.clone() },
		Tile { rows: 1, cols: n as u32, data: vec![0.0; n] },
	);
	let panels = cinder_engine::gemm::Panels::of_tile(&tiles.1);
	let step = cinder_kernel::Step {
		op: Op::Linear { gelu: false },
		inputs: Vec::new(),
		rows: rows as u32,
		cols: n as u32,
	};
	println!();
	println!("| linear step 16 × 384 · 384 × 64, one thread, in cache | G multiply-adds/s |");
	println!("| --- | --- |");
	for isa in Isa::available() {
		let inputs = [&tiles.0, &tiles.1, &tiles.2];
		let rate = runs_per_second(seconds / 2.0, || {
			let _ = cinder_engine::simd::compute(isa, &step, &inputs, Some(&panels));
		});
		println!("| canonical, {} kernel | {:.1} |", isa.name(), rate * macs / 1e9);
	}
	if let Some(rate) = fused::rate(seconds / 2.0, &a, &w, rows, k, n) {
		println!(
			"| fused multiply-add (not spec v1: one rounding per term), AVX2 + FMA | {:.1} |",
			rate * macs / 1e9
		);
	}
	for (len, macs, onnx) in model_macs {
		if let Some(o) = onnx {
			println!(
				"| ONNX Runtime over the whole model at {len} tokens, per thread | {:.1} |",
				o * *macs as f64 / threads as f64 / 1e9
			);
		}
	}
}

/// A fused multiply-add kernel of the canonical kernels' shape (four rows
/// by 16 columns over the same packed panels), for the ceiling table only:
/// spec v1 rounds every product before adding it, which this does not.
mod fused {
	use cinder_engine::bench::runs_per_second;

	/// Runs per second of `a · w` (`rows × k` by `k × n`), or `None` where
	/// the CPU has no AVX2 and FMA.
	pub fn rate(
		seconds: f64,
		a: &[f32],
		w: &[f32],
		rows: usize,
		k: usize,
		n: usize,
	) -> Option<f64> {
		#[cfg(target_arch = "x86_64")]
		if std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma")
		{
			let panels = pack(w, k, n);
			let mut out = vec![0.0f32; rows * n];
			return Some(runs_per_second(seconds, || {
				// SAFETY: the CPU has AVX2 and FMA (checked above); `a` is
				// `rows × k`, `panels` `n / 16` panels of `k × 16`, `out`
				// `rows × n`.
				#[allow(unsafe_code)]
				unsafe {
					x86::gemm(a, &panels, rows, k, n, &mut out)
				};
				std::hint::black_box(&out);
			}));
		}
		let _ = (seconds, a, w, rows, k, n);
		None
	}

	/// `w` (`k × n`, `n` a multiple of 16) in `k`-major panels of 16.
	fn pack(w: &[f32], k: usize, n: usize) -> Vec<f32> {
		let mut p = Vec::with_capacity(k * n);
		for j0 in (0..n).step_by(16) {
			for row in w.chunks_exact(n).take(k) {
				p.extend_from_slice(&row[j0..j0 + 16]);
			}
		}
		p
	}

	#[cfg(target_arch = "x86_64")]
	#[allow(unsafe_code)]
	mod x86 {
		use core::arch::x86_64::*;

		/// # Safety
		/// AVX2 and FMA; shapes as [`super::rate`] says, `rows` a multiple
		/// of 4.
		#[target_feature(enable = "avx2,fma")]
		pub unsafe fn gemm(
			a: &[f32],
			panels: &[f32],
			rows: usize,
			k: usize,
			n: usize,
			out: &mut [f32],
		) {
			for p in 0..n / 16 {
				let w = panels[p * k * 16..].as_ptr();
				for r0 in (0..rows).step_by(4) {
					// SAFETY: in bounds by the shapes (the caller's promise).
					unsafe {
						let row = |m: usize| a.as_ptr().add((r0 + m) * k);
						let (a0, a1, a2, a3) = (row(0), row(1), row(2), row(3));
						let mut c = [_mm256_setzero_ps(); 8];
						for kk in 0..k {
							let w0 = _mm256_loadu_ps(w.add(kk * 16));
							let w1 = _mm256_loadu_ps(w.add(kk * 16 + 8));
							for (m, ap) in [a0, a1, a2, a3].into_iter().enumerate() {
								let x = _mm256_broadcast_ss(&*ap.add(kk));
								c[2 * m] = _mm256_fmadd_ps(x, w0, c[2 * m]);
								c[2 * m + 1] = _mm256_fmadd_ps(x, w1, c[2 * m + 1]);
							}
						}
						for (m, pair) in c.chunks_exact(2).enumerate() {
							let o = out.as_mut_ptr().add((r0 + m) * n + p * 16);
							_mm256_storeu_ps(o, pair[0]);
							_mm256_storeu_ps(o.add(8), pair[1]);
						}
					}
				}
			}
		}
	}
}
