//! Picks the widest vector unit the CPU has for the canonical linear layer.
//!
//! [`cinder_kernel::ops::fast::linear`] keeps every output's reduction order,
//! so compiling it for AVX-512 or AVX2 changes speed, not bits; the tests
//! compare it with the scalar reference on random inputs.
#![allow(unsafe_code)]

use cinder_kernel::ops;

/// Linear layer, bit-identical to [`ops::linear`], on the best vector unit.
pub fn linear(a: &[f32], k: usize, w: &[f32], n: usize, b: &[f32], gelu: bool, out: &mut [f32]) {
	#[cfg(target_arch = "x86_64")]
	{
		if std::arch::is_x86_feature_detected!("avx512f") {
			// SAFETY: the CPU supports AVX-512F (checked just above).
			return unsafe { x86::linear_avx512(a, k, w, n, b, gelu, out) };
		}
		if std::arch::is_x86_feature_detected!("avx2") {
			// SAFETY: the CPU supports AVX2 (checked just above).
			return unsafe { x86::linear_avx2(a, k, w, n, b, gelu, out) };
		}
	}
	ops::fast::linear(a, k, w, n, b, gelu, out)
}

/// The portable vectorisable variant, without runtime feature dispatch.
pub fn linear_portable(
	a: &[f32],
	k: usize,
	w: &[f32],
	n: usize,
	b: &[f32],
	gelu: bool,
	out: &mut [f32],
) {
	ops::fast::linear(a, k, w, n, b, gelu, out)
}

#[cfg(target_arch = "x86_64")]
mod x86 {
	use cinder_kernel::ops;

	#[target_feature(enable = "avx2")]
	pub fn linear_avx2(
		a: &[f32],
		k: usize,
		w: &[f32],
		n: usize,
		b: &[f32],
		g: bool,
		out: &mut [f32],
	) {
		ops::fast::linear(a, k, w, n, b, g, out)
	}

	#[target_feature(enable = "avx512f")]
	pub fn linear_avx512(
		a: &[f32],
		k: usize,
		w: &[f32],
		n: usize,
		b: &[f32],
		g: bool,
		out: &mut [f32],
	) {
		ops::fast::linear(a, k, w, n, b, g, out)
	}
}
