//! Spec v2's quantized linear layer on packed panels, on every instruction
//! set this CPU runs, against the kernel's scalar reference
//! ([`cinder_kernel::quant::linear`]) bit for bit: random activations with
//! the awkward values (NaN, ±∞, subnormals, −0), random weight blocks with
//! ordinary scales or any bit pattern at all (f16 NaN and ∞ included), and
//! output counts that leave the last panel partly padded.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use cinder_engine::{
	qgemm::{self, QPanels},
	simd::Isa,
};
use cinder_kernel::{
	quant::{self, WeightFormat, BLOCK},
	testing::{any_f32, bits},
	KernelError,
};
use proptest::prelude::*;

fn format() -> impl Strategy<Value = WeightFormat> {
	prop_oneof![Just(WeightFormat::Q4_1), Just(WeightFormat::Q8_0)]
}

/// `n` rows of `k` values in `format`: random bytes, and when `tame` the
/// f16 fields made ordinary scales (magnitudes about 2⁻⁷ to 2, either sign)
/// as a real model has them.
fn weights(format: WeightFormat, k: usize, n: usize, bytes: &[u8], tame: bool) -> Vec<u8> {
	let len = format.row_bytes(k).unwrap() * n;
	let mut w: Vec<u8> = bytes.iter().cycle().take(len).copied().collect();
	if tame {
		let halves = if format == WeightFormat::Q4_1 { 2 } else { 1 };
		for block in w.chunks_exact_mut(format.block_bytes()) {
			for h in 0..halves {
				let raw = u16::from_le_bytes([block[2 * h], block[2 * h + 1]]);
				let tame = (raw & 0x8000) | (0x2000 + (raw & 0x1fff));
				block[2 * h..2 * h + 2].copy_from_slice(&tame.to_le_bytes());
			}
		}
	}
	w
}

/// Every instruction set's bits against the reference's.
fn check(format: WeightFormat, a: &[f32], k: usize, w: &[u8], n: usize) {
	let rows = a.len() / k;
	let mut want = vec![0.0f32; rows * n];
	quant::linear(a, k, format, w, n, &mut want).unwrap();
	let panels = QPanels::pack(format, w, k, n).unwrap();
	for isa in Isa::available() {
		let mut got = vec![f32::NAN; rows * n];
		qgemm::linear(isa, a, &panels, &mut got).unwrap();
		assert_eq!(bits(&got), bits(&want), "{isa:?} {format:?} {rows}×{k}·{n}");
	}
}

proptest! {
	#![proptest_config(ProptestConfig::with_cases(64))]

	#[test]
	fn quantized_linear_equals_the_reference_on_every_isa(
		format in format(),
		rows in 1usize..4,
		blocks in 1usize..7,
		n in 1usize..21,
		tame in any::<bool>(),
		bytes in proptest::collection::vec(any::<u8>(), 64..512),
		seed_a in proptest::collection::vec(any_f32(), 32..64),
	) {
		let k = blocks * BLOCK;
		let a: Vec<f32> = seed_a.iter().cycle().take(rows * k).copied().collect();
		let w = weights(format, k, n, &bytes, tame);
		check(format, &a, k, &w, n);
	}
}

#[test]
fn a_layer_of_smollm2s_shape_is_bit_identical_on_every_isa() {
	// 576 inputs (18 blocks), 100 outputs (the last panel padded), 3 rows
	// of ordinary activations: the shape of the model's projections.
	let mut seed = 0x9e37_79b9_7f4a_7c15u64;
	let mut next = || {
		seed ^= seed << 13;
		seed ^= seed >> 7;
		seed ^= seed << 17;
		seed
	};
	let (k, n) = (576, 100);
	let a: Vec<f32> =
		(0..3 * k).map(|_| (next() >> 40) as f32 / (1u64 << 22) as f32 - 2.0).collect();
	let bytes: Vec<u8> = (0..4096).map(|_| next() as u8).collect();
	for format in [WeightFormat::Q4_1, WeightFormat::Q8_0] {
		check(format, &a, k, &weights(format, k, n, &bytes, true), n);
	}
}

#[test]
fn packing_refuses_a_weight_of_another_shape() {
	let row = WeightFormat::Q4_1.row_bytes(64).unwrap();
	let w = vec![0u8; 2 * row];
	assert!(QPanels::pack(WeightFormat::Q4_1, &w, 64, 2).is_ok());
	for (k, n) in [(64, 3), (32, 2), (60, 2), (0, 2), (64, 0)] {
		assert_eq!(
			QPanels::pack(WeightFormat::Q4_1, &w, k, n),
			Err(KernelError::ShapeMismatch),
			"k {k} n {n}"
		);
	}
	let panels = QPanels::pack(WeightFormat::Q4_1, &w, 64, 2).unwrap();
	let mut out = [0.0f32; 3];
	for isa in Isa::available() {
		assert_eq!(
			qgemm::linear(isa, &[0.0; 64], &panels, &mut out),
			Err(KernelError::ShapeMismatch)
		);
		assert_eq!(
			qgemm::linear(isa, &[0.0; 63], &panels, &mut out[..2]),
			Err(KernelError::ShapeMismatch)
		);
	}
}

/// The reference's reading of GGUF blocks is candle's (and so llama.cpp's):
/// a weight quantized by candle, multiplied by spec v2, stays within the
/// error activation quantization allows of the exact product with candle's
/// own dequantization of it (which ours equals bit for bit), and close to
/// candle's quantized matmul.
#[test]
fn spec_v2_reads_gguf_blocks_as_candle_writes_them() {
	use candle_core::{
		quantized::{GgmlDType, QMatMul, QTensor},
		Device, Module, Tensor,
	};
	let mut seed = 0x0123_4567_89ab_cdefu64;
	let mut uniform = || {
		seed ^= seed << 13;
		seed ^= seed >> 7;
		seed ^= seed << 17;
		(seed >> 40) as f32 / (1u64 << 23) as f32 - 1.0
	};
	let (rows, k, n) = (3, 256, 24);
	let w: Vec<f32> = (0..n * k).map(|_| uniform()).collect();
	let a: Vec<f32> = (0..rows * k).map(|_| 3.0 * uniform()).collect();
	let cpu = Device::Cpu;
	for (dtype, format) in
		[(GgmlDType::Q4_1, WeightFormat::Q4_1), (GgmlDType::Q8_0, WeightFormat::Q8_0)]
	{
		let q =
			QTensor::quantize(&Tensor::from_vec(w.clone(), (n, k), &cpu).unwrap(), dtype).unwrap();
		let bytes = q.data().unwrap().to_vec();
		let deq: Vec<f32> = q.dequantize(&cpu).unwrap().flatten_all().unwrap().to_vec1().unwrap();
		// Dequantization is candle's, bit for bit.
		let mut mine = vec![0.0f32; n * k];
		for (row, out) in bytes.chunks_exact(bytes.len() / n).zip(mine.chunks_exact_mut(k)) {
			quant::dequantize_row(format, row, out).unwrap();
		}
		assert_eq!(bits(&mine), bits(&deq), "{format:?} dequantized");
		let mut ours = vec![0.0f32; rows * n];
		quant::linear(&a, k, format, &bytes, n, &mut ours).unwrap();
		let at = Tensor::from_vec(a.clone(), (rows, k), &cpu).unwrap();
		let theirs: Vec<f32> = QMatMul::from_qtensor(q)
			.unwrap()
			.forward(&at)
			.unwrap()
			.flatten_all()
			.unwrap()
			.to_vec1()
			.unwrap();
		for r in 0..rows {
			let a_row = &a[r * k..(r + 1) * k];
			let blocks = quant::quantize_row(a_row).unwrap();
			for j in 0..n {
				let w_row = &deq[j * k..(j + 1) * k];
				let exact: f64 =
					a_row.iter().zip(w_row).map(|(x, y)| f64::from(*x) * f64::from(*y)).sum();
				let magnitude: f64 = a_row
					.iter()
					.zip(w_row)
					.map(|(x, y)| (f64::from(*x) * f64::from(*y)).abs())
					.sum();
				// Each activation moved by at most half its block's step.
				let moved: f64 = blocks
					.iter()
					.zip(w_row.chunks_exact(BLOCK))
					.map(|(b, ws)| {
						f64::from(b.d) / 2.0 * ws.iter().map(|v| f64::from(v.abs())).sum::<f64>()
					})
					.sum();
				let ours = f64::from(ours[r * n + j]);
				let theirs = f64::from(theirs[r * n + j]);
				let slack = 1e-4 * magnitude;
				assert!(
					(ours - exact).abs() <= moved + slack,
					"{format:?} [{r}][{j}]: {ours} vs exact {exact} (allowed {moved})"
				);
				assert!(
					(ours - theirs).abs() <= 2.0 * moved + 1e-2 * magnitude,
					"{format:?} [{r}][{j}]: {ours} vs candle {theirs}"
				);
			}
		}
	}
}
