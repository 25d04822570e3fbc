//! The worker's Prometheus metrics.

use substrate_prometheus_endpoint::{
	register, Counter, Gauge, Histogram, HistogramOpts, Opts, PrometheusError, Registry, U64,
};

/// Requests served, failures, queue depth and inference time.
#[derive(Clone)]
pub struct Metrics {
	pub served: Counter<U64>,
	pub failures: Counter<U64>,
	pub queue_depth: Gauge<U64>,
	pub inference_seconds: Histogram,
}

impl Metrics {
	pub fn register(registry: &Registry) -> Result<Self, PrometheusError> {
		Ok(Self {
			served: register(
				Counter::new("cinder_worker_requests_served_total", "Results submitted")?,
				registry,
			)?,
			failures: register(
				Counter::new("cinder_worker_failures_total", "Requests that could not be served")?,
				registry,
			)?,
			queue_depth: register(
				Gauge::with_opts(Opts::new("cinder_worker_queue_depth", "Jobs waiting to run"))?,
				registry,
			)?,
			inference_seconds: register(
				Histogram::with_opts(
					HistogramOpts::new(
						"cinder_worker_inference_seconds",
						"Canonical inference time",
					)
					.buckets(vec![0.01, 0.03, 0.1, 0.3, 1.0, 3.0, 10.0]),
				)?,
				registry,
			)?,
		})
	}
}
