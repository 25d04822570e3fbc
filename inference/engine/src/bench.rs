//! Timing for the benchmark binaries: figures, never test assertions.

use std::time::Instant;

/// Runs `f` once to warm up, then repeatedly for at least `seconds` and
/// three runs; returns runs per second.
pub fn runs_per_second(seconds: f64, mut f: impl FnMut()) -> f64 {
	f();
	let start = Instant::now();
	let mut n = 0u32;
	while start.elapsed().as_secs_f64() < seconds || n < 3 {
		f();
		n += 1;
	}
	f64::from(n) / start.elapsed().as_secs_f64()
}
