//! Prints kernel spec v2's quantized linear layer ([`cinder_engine::qgemm`])
//! against candle's quantized matmul on SmolLM2-135M's shapes: Q4_1
//! projections (576 → 576, 576 → 1536, 1536 → 576) and the Q8_0 output
//! layer (576 → 49152), for one row (a generated token) and sixteen (a
//! block of prompt), with the weight bytes streamed per second. Ours runs
//! on one thread (a generation's steps are what the executor spreads over
//! threads); candle's matmul uses its own pool of all CPUs.
//!
//! `cinder-qgemm-bench [--seconds S]`

use candle_core::{
	quantized::{GgmlDType, QMatMul, QTensor},
	Device, Module, Tensor,
};
use cinder_engine::{
	bench::runs_per_second,
	qgemm::{self, QPanels},
	simd::Isa,
};
use cinder_kernel::quant::WeightFormat;

fn main() -> Result<(), Box<dyn std::error::Error>> {
	let args: Vec<String> = std::env::args().collect();
	let seconds: f64 = args
		.iter()
		.position(|a| a == "--seconds")
		.and_then(|i| args.get(i + 1))
		.and_then(|s| s.parse().ok())
		.unwrap_or(1.0);
	let isa = Isa::best();
	println!("engine   {} kernels (widest this CPU runs)", isa.name());
	println!();
	println!(
		"candle   its own thread pool ({} CPUs); ours one thread",
		std::thread::available_parallelism().map_or(1, |n| n.get())
	);
	println!();
	println!("| layer | format | rows | ours, µs | candle, µs | speed, ours ÷ candle | weight GB/s (ours) |");
	println!("| --- | --- | --- | --- | --- | --- | --- |");
	let mut seed = 0x5eed_u64;
	let cpu = Device::Cpu;
	for (name, format, dtype, k, n) in [
		("q, o", WeightFormat::Q4_1, GgmlDType::Q4_1, 576, 576),
		("gate, up", WeightFormat::Q4_1, GgmlDType::Q4_1, 576, 1536),
		("down", WeightFormat::Q4_1, GgmlDType::Q4_1, 1536, 576),
		("output", WeightFormat::Q8_0, GgmlDType::Q8_0, 576, 49152),
	] {
		let mut uniform = || {
			seed ^= seed << 13;
			seed ^= seed >> 7;
			seed ^= seed << 17;
			(seed >> 40) as f32 / (1u64 << 23) as f32 - 1.0
		};
		let w: Vec<f32> = (0..n * k).map(|_| 0.05 * uniform()).collect();
		let q = QTensor::quantize(&Tensor::from_vec(w, (n, k), &cpu)?, dtype)?;
		let bytes = q.data()?.to_vec();
		let panels = QPanels::pack(format, &bytes, k, n)?;
		let matmul = QMatMul::from_qtensor(q)?;
		for rows in [1usize, 16] {
			let a: Vec<f32> = (0..rows * k).map(|_| uniform()).collect();
			let at = Tensor::from_vec(a.clone(), (rows, k), &cpu)?;
			let mut out = vec![0.0f32; rows * n];
			let one = 1.0
				/ runs_per_second(seconds, || {
					let _ = qgemm::linear(isa, &a, &panels, &mut out);
				});
			let candle = 1.0
				/ runs_per_second(seconds, || {
					let _ = matmul.forward(&at);
				});
			println!(
				"| {name} {k}→{n} | {format:?} | {rows} | {:.1} | {:.1} | {:.2}× | {:.1} |",
				one * 1e6,
				candle * 1e6,
				candle / one,
				bytes.len() as f64 / one / 1e9,
			);
		}
	}
	Ok(())
}
