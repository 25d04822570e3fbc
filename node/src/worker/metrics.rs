//! The worker's Prometheus metrics.

use substrate_prometheus_endpoint::{
	register, Counter, CounterVec, Gauge, Histogram, HistogramOpts, Opts, PrometheusError,
	Registry, U64,
};

/// Requests served, failures, queue depth and inference time; audits run,
/// challenges made, disputes won and lost.
#[derive(Clone)]
pub struct Metrics {
	pub served: Counter<U64>,
	pub failures: Counter<U64>,
	pub queue_depth: Gauge<U64>,
	pub inference_seconds: Histogram,
	/// Audits by finding: `agreed`, `challenged`, `already_challenged`,
	/// `too_late`, `failed`.
	pub audits: CounterVec<U64>,
	pub audit_seconds: Histogram,
	/// Disputes this node was a party of, by `won` / `lost`.
	pub disputes: CounterVec<U64>,
}

fn seconds(name: &str, help: &str) -> Result<Histogram, PrometheusError> {
	Histogram::with_opts(
		HistogramOpts::new(name, help).buckets(vec![0.01, 0.03, 0.1, 0.3, 1.0, 3.0, 10.0]),
	)
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
				seconds("cinder_worker_inference_seconds", "Canonical inference time")?,
				registry,
			)?,
			audits: register(
				CounterVec::new(
					Opts::new(
						"cinder_worker_audits_total",
						"Other workers' results re-executed, by finding: agreed, challenged, already_challenged (by another auditor), too_late, failed",
					),
					&["finding"],
				)?,
				registry,
			)?,
			audit_seconds: register(
				seconds("cinder_worker_audit_seconds", "Re-execution time of an audit")?,
				registry,
			)?,
			disputes: register(
				CounterVec::new(
					Opts::new(
						"cinder_worker_disputes_total",
						"Disputes this node's worker was a party of, by outcome",
					),
					&["outcome"],
				)?,
				registry,
			)?,
		})
	}
}
