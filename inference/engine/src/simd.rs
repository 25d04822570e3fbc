//! Computes a step on the widest vector unit the CPU has, bit-identical to
//! [`cinder_kernel::verify::recompute`].
//!
//! The fast operators ([`crate::gemm`], [`crate::vmath`],
//! [`crate::attention`]) keep every output's order of operations, so
//! compiling them for AVX-512 or AVX2 changes speed, not bits: one source,
//! instantiated per instruction set with `#[target_feature]` and chosen at
//! run time. The tests compare each instance the CPU can run with the scalar
//! reference on random inputs, and pinned trace roots on real models.
#![allow(unsafe_code)]

use cinder_kernel::{ops, verify, KernelError, Op, Step, Tile, MAX_STEP_BYTES};

use crate::{
	attention,
	gemm::{self, Panels},
	vmath,
};

/// The instruction sets the engine has kernels for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Isa {
	/// Whatever the target's baseline is (SSE2 on x86_64, SIMD128-less wasm).
	Portable,
	/// x86_64 AVX2.
	Avx2,
	/// x86_64 AVX2 in 128-bit instructions, for cores whose vector unit is
	/// 128 bits wide (AMD Zen 1: every 256-bit operation runs as two).
	Avx2Narrow,
	/// x86_64 AVX-512F.
	Avx512,
}

impl Isa {
	/// The widest instruction set this CPU runs.
	pub fn best() -> Self {
		#[cfg(target_arch = "x86_64")]
		{
			if std::arch::is_x86_feature_detected!("avx512f") {
				return Isa::Avx512;
			}
			if std::arch::is_x86_feature_detected!("avx2") {
				return if narrow_datapath() { Isa::Avx2Narrow } else { Isa::Avx2 };
			}
		}
		Isa::Portable
	}

	/// Whether this instruction set runs on `avx2` (so `expf`, GELU and the
	/// quantized kernels take their AVX2 paths).
	pub fn avx2(self) -> bool {
		matches!(self, Isa::Avx2 | Isa::Avx2Narrow)
	}

	/// Every instruction set this CPU runs, narrowest first.
	pub fn available() -> Vec<Self> {
		let mut all = vec![Isa::Portable];
		#[cfg(target_arch = "x86_64")]
		{
			if std::arch::is_x86_feature_detected!("avx2") {
				all.push(Isa::Avx2);
				all.push(Isa::Avx2Narrow);
			}
			if std::arch::is_x86_feature_detected!("avx512f") {
				all.push(Isa::Avx512);
			}
		}
		all
	}

	/// Its name, as the benchmark prints it.
	pub fn name(self) -> &'static str {
		match self {
			Isa::Portable => "portable",
			Isa::Avx2 => "avx2",
			Isa::Avx2Narrow => "avx2 (128-bit datapath)",
			Isa::Avx512 => "avx512f",
		}
	}
}

/// Whether the CPU's vector unit is 128 bits wide: AMD family 17h below
/// model 30h (Zen and Zen+; Zen 2 is 30h and up) and Hygon's family 18h,
/// read from `cpuid`.
#[cfg(target_arch = "x86_64")]
fn narrow_datapath() -> bool {
	use core::arch::x86_64::__cpuid;
	// Leaf 0 is on every x86_64 CPU; leaf 1 (family and model) too.
	let vendor = __cpuid(0);
	let amd = (vendor.ebx, vendor.edx, vendor.ecx) == (0x6874_7541, 0x6974_6e65, 0x444d_4163);
	let hygon = (vendor.ebx, vendor.edx, vendor.ecx) == (0x6f67_7948, 0x6e65_476e, 0x656e_6975);
	let signature = __cpuid(1).eax;
	let family = ((signature >> 8) & 0xf) + ((signature >> 20) & 0xff);
	let model = ((signature >> 4) & 0xf) | ((signature >> 12) & 0xf0);
	(amd && family == 0x17 && model < 0x30) || (hygon && family == 0x18)
}

/// Computes `step` from `inputs` (as [`verify::recompute`] takes them) on
/// `isa`, which the CPU must support (use [`Isa::best`] or one of
/// [`Isa::available`]; others fall back to the portable code). `panels` is
/// the packed weight of a linear step, when the caller has it.
pub fn compute(
	isa: Isa,
	step: &Step,
	inputs: &[&Tile],
	panels: Option<&Panels>,
) -> Result<Tile, KernelError> {
	#[cfg(target_arch = "x86_64")]
	{
		if isa == Isa::Avx512 && std::arch::is_x86_feature_detected!("avx512f") {
			// SAFETY: the CPU supports AVX-512F (checked just above).
			return unsafe { x86::compute_avx512(step, inputs, panels) };
		}
		if isa == Isa::Avx2 && std::arch::is_x86_feature_detected!("avx2") {
			// SAFETY: the CPU supports AVX2 (checked just above).
			return unsafe { x86::compute_avx2(step, inputs, panels) };
		}
		if isa == Isa::Avx2Narrow && std::arch::is_x86_feature_detected!("avx2") {
			// SAFETY: the CPU supports AVX2 (checked just above).
			return unsafe { x86::compute_avx2_narrow(step, inputs, panels) };
		}
	}
	let _ = isa;
	compute_any::<gemm::Portable>(step, inputs, panels)
}

/// The linear layer of [`ops::linear`] on `isa` (for tests and callers that
/// hold plain matrices): `a` is `r × k`, `w` is `k × n`.
#[allow(clippy::too_many_arguments)]
pub fn linear(
	isa: Isa,
	a: &[f32],
	k: usize,
	w: &[f32],
	n: usize,
	b: &[f32],
	gelu: bool,
	out: &mut [f32],
) {
	let rows = a.len().checked_div(k).unwrap_or(0);
	let step =
		Step { op: Op::Linear { gelu }, inputs: Vec::new(), rows: rows as u32, cols: n as u32 };
	let tiles = (
		Tile { rows: rows as u32, cols: k as u32, data: a.to_vec() },
		Tile { rows: k as u32, cols: n as u32, data: w.to_vec() },
		Tile { rows: 1, cols: n as u32, data: b.to_vec() },
	);
	if let Ok(t) = compute(isa, &step, &[&tiles.0, &tiles.1, &tiles.2], None) {
		out.copy_from_slice(&t.data);
	}
}

/// [`vmath::gelu_in_place`] on `isa`.
pub fn gelu_in_place(isa: Isa, data: &mut [f32]) {
	#[cfg(target_arch = "x86_64")]
	{
		if isa == Isa::Avx512 && std::arch::is_x86_feature_detected!("avx512f") {
			// SAFETY: the CPU supports AVX-512F (checked just above).
			return unsafe { x86::gelu_avx512(data) };
		}
		if isa.avx2() && std::arch::is_x86_feature_detected!("avx2") {
			// SAFETY: the CPU supports AVX2 (checked just above).
			return unsafe { x86::gelu_avx2(data) };
		}
	}
	let _ = isa;
	vmath::gelu_in_place(data)
}

/// [`vmath::exp_shifted_in_place`] on `isa`.
pub fn exp_shifted_in_place(isa: Isa, data: &mut [f32], m: f32) {
	#[cfg(target_arch = "x86_64")]
	{
		if isa == Isa::Avx512 && std::arch::is_x86_feature_detected!("avx512f") {
			// SAFETY: the CPU supports AVX-512F (checked just above).
			return unsafe { x86::exp_avx512(data, m) };
		}
		if isa.avx2() && std::arch::is_x86_feature_detected!("avx2") {
			// SAFETY: the CPU supports AVX2 (checked just above).
			return unsafe { x86::exp_avx2(data, m) };
		}
	}
	let _ = isa;
	vmath::exp_shifted_in_place(data, m)
}

#[cfg(target_arch = "x86_64")]
mod x86 {
	use super::*;

	#[target_feature(enable = "avx2")]
	pub fn gelu_avx2(data: &mut [f32]) {
		vmath::gelu_in_place(data)
	}

	#[target_feature(enable = "avx512f")]
	pub fn gelu_avx512(data: &mut [f32]) {
		vmath::gelu_in_place(data)
	}

	#[target_feature(enable = "avx2")]
	pub fn exp_avx2(data: &mut [f32], m: f32) {
		vmath::exp_shifted_in_place(data, m)
	}

	#[target_feature(enable = "avx512f")]
	pub fn exp_avx512(data: &mut [f32], m: f32) {
		vmath::exp_shifted_in_place(data, m)
	}

	#[target_feature(enable = "avx2")]
	pub fn compute_avx2(
		step: &Step,
		inputs: &[&Tile],
		panels: Option<&Panels>,
	) -> Result<Tile, KernelError> {
		compute_any::<gemm::Avx2>(step, inputs, panels)
	}

	#[target_feature(enable = "avx2")]
	pub fn compute_avx2_narrow(
		step: &Step,
		inputs: &[&Tile],
		panels: Option<&Panels>,
	) -> Result<Tile, KernelError> {
		compute_any::<gemm::Avx2Narrow>(step, inputs, panels)
	}

	#[target_feature(enable = "avx512f")]
	pub fn compute_avx512(
		step: &Step,
		inputs: &[&Tile],
		panels: Option<&Panels>,
	) -> Result<Tile, KernelError> {
		compute_any::<gemm::Avx512>(step, inputs, panels)
	}
}

/// The reference's step-size check: inputs plus output within
/// [`MAX_STEP_BYTES`], and every tile's data matching its shape.
fn check_sizes(step: &Step, inputs: &[&Tile]) -> Result<(), KernelError> {
	let total = inputs.iter().fold(0usize, |acc, t| acc.saturating_add(t.encoded_len()));
	let out = Tile { rows: step.rows, cols: step.cols, data: Vec::new() }.encoded_len();
	let out = out.saturating_add((step.rows as usize).saturating_mul(step.cols as usize) * 4);
	if total.saturating_add(out) > MAX_STEP_BYTES {
		return Err(KernelError::StepTooLarge);
	}
	if inputs.iter().any(|t| t.data.len() != (t.rows as usize).saturating_mul(t.cols as usize)) {
		return Err(KernelError::MalformedTile);
	}
	Ok(())
}

#[inline(always)]
fn compute_any<K: gemm::Micro>(
	step: &Step,
	inputs: &[&Tile],
	panels: Option<&Panels>,
) -> Result<Tile, KernelError> {
	match step.op {
		Op::Linear { gelu } => {
			check_sizes(step, inputs)?;
			let [a @ .., w, b] = inputs else {
				return Err(KernelError::InputCount { expected: 3, got: inputs.len() as u32 });
			};
			if a.is_empty() {
				return Err(KernelError::InputCount { expected: 3, got: inputs.len() as u32 });
			}
			let (rows, cols) = (step.rows, step.cols);
			let k = a.iter().try_fold(0u32, |acc, t| acc.checked_add(t.cols));
			if a.iter().any(|t| t.rows != rows)
				|| k != Some(w.rows)
				|| w.cols != cols
				|| b.rows != 1
				|| b.cols != cols
			{
				return Err(KernelError::ShapeMismatch);
			}
			let owned;
			let panels = match panels {
				Some(p) if p.k == w.rows as usize && p.n == w.cols as usize => p,
				_ => {
					owned = Panels::of_tile(w);
					&owned
				}
			};
			let data: Vec<&[f32]> = a.iter().map(|t| t.data.as_slice()).collect();
			let widths: Vec<usize> = a.iter().map(|t| t.cols as usize).collect();
			let segments = gemm::Segments { tiles: &data, widths: &widths, rows: rows as usize };
			let mut out = Tile::zeros(rows, cols);
			if !gemm::linear::<K>(&segments, panels, Some(&b.data), &mut out.data) {
				return Err(KernelError::ShapeMismatch);
			}
			if gelu {
				vmath::gelu_in_place(&mut out.data);
			}
			out.canonicalize();
			Ok(out)
		}
		Op::Attention { first, causal } => {
			check_sizes(step, inputs)?;
			attention::compute::<K>(step, first, causal, inputs)
		}
		_ => verify::recompute_with(step, inputs, ops::fast::linear),
	}
}
