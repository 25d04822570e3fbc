//! The pallets whose FRAME benchmarks this runtime runs (`scripts/bench-weights.sh`
//! regenerates their `weights.rs` from them).

frame_benchmarking::define_benchmarks!(
	[frame_system, SystemBench::<Runtime>]
	[pallet_models, Models]
	[pallet_inference, Inference]
	[pallet_disputes, Disputes]
);

impl frame_system_benchmarking::Config for crate::Runtime {}
