//! Weights of `pallet_inference`, measured by `scripts/bench-weights.sh` with the
//! FRAME benchmark CLI 64.0.0 on 2026-11-22: 20 steps,
//! 10 repeats, Compiled wasm execution, on
//! `Intel(R) Xeon(R) Processor`. Generated: rerun the script instead of editing.

#![allow(unused_parens, unused_imports, missing_docs)]

use core::marker::PhantomData;
use frame_support::{
	traits::Get,
	weights::{constants::RocksDbWeight, RuntimeDbWeight, Weight},
};

/// The weight of each call and each kind of per-block work of `pallet_inference`.
pub trait WeightInfo {
	fn register_worker(m: u32) -> Weight;
	fn deregister_worker() -> Weight;
	fn request(n: u32, w: u32) -> Weight;
	fn submit_result() -> Weight;
	fn authorize_submit_result() -> Weight;
	fn on_initialize_idle() -> Weight;
	fn skip_entry() -> Weight;
	fn expire_reassign(w: u32) -> Weight;
	fn expire_refund(w: u32) -> Weight;
	fn settle() -> Weight;
	fn prune() -> Weight;
}

/// The measured weights, with database accesses priced by `D`.
pub struct WeightsWith<D>(PhantomData<D>);

/// The measured weights with the runtime's database weights.
pub type SubstrateWeight<T> = WeightsWith<<T as frame_system::Config>::DbWeight>;

impl<D: Get<RuntimeDbWeight>> WeightInfo for WeightsWith<D> {
	/// `m` in `[1, 16]`.
	fn register_worker(m: u32) -> Weight {
		// Proof size: measured 1246, estimated 3614 bytes.
		// Fastest run: 105_601 ns.
		Weight::from_parts(127_629_527, 3614)
			.saturating_add(Weight::from_parts(24_107_189, 0).saturating_mul(m.into()))
			.saturating_add(Weight::from_parts(0, 5689).saturating_mul(m.into()))
			.saturating_add(D::get().reads(3))
			.saturating_add(D::get().reads((2_u64).saturating_mul(m.into())))
			.saturating_add(D::get().writes(1))
			.saturating_add(D::get().writes((1_u64).saturating_mul(m.into())))
	}
	fn deregister_worker() -> Weight {
		// Proof size: measured 1068, estimated 92014 bytes.
		// Fastest run: 112_701 ns.
		Weight::from_parts(216_533_000, 92014)
			.saturating_add(D::get().reads(18))
			.saturating_add(D::get().writes(18))
	}
	/// `n` in `[1, 512]`.
	/// `w` in `[1, 100]`.
	fn request(n: u32, w: u32) -> Weight {
		// Proof size: measured 1383, estimated 6679 bytes.
		// Fastest run: 308_842 ns.
		Weight::from_parts(317_692_000, 6679)
			.saturating_add(Weight::from_parts(314_815, 0).saturating_mul(n.into()))
			.saturating_add(Weight::from_parts(20_199_377, 0).saturating_mul(w.into()))
			.saturating_add(Weight::from_parts(0, 2624).saturating_mul(w.into()))
			.saturating_add(D::get().reads(13))
			.saturating_add(D::get().reads((2_u64).saturating_mul(w.into())))
			.saturating_add(D::get().writes(8))
	}
	fn submit_result() -> Weight {
		// Proof size: measured 836, estimated 5773 bytes.
		// Fastest run: 65_024 ns.
		Weight::from_parts(137_236_000, 5773)
			.saturating_add(D::get().reads(3))
			.saturating_add(D::get().writes(4))
	}
	fn authorize_submit_result() -> Weight {
		// Proof size: measured 612, estimated 5773 bytes.
		// Fastest run: 95_360 ns.
		Weight::from_parts(163_763_000, 5773)
			.saturating_add(D::get().reads(3))
			.saturating_add(D::get().writes(0))
	}
	fn on_initialize_idle() -> Weight {
		// Proof size: measured 66, estimated 8490 bytes.
		// Fastest run: 11_607 ns.
		Weight::from_parts(19_949_000, 8490)
			.saturating_add(D::get().reads(3))
			.saturating_add(D::get().writes(0))
	}
	fn skip_entry() -> Weight {
		// Proof size: measured 66, estimated 5773 bytes.
		// Fastest run: 6_068 ns.
		Weight::from_parts(10_127_000, 5773)
			.saturating_add(D::get().reads(1))
			.saturating_add(D::get().writes(0))
	}
	/// `w` in `[2, 100]`.
	fn expire_reassign(w: u32) -> Weight {
		// Proof size: measured 1215, estimated 6679 bytes.
		// Fastest run: 160_475 ns.
		Weight::from_parts(121_553_335, 6679)
			.saturating_add(Weight::from_parts(22_897_128, 0).saturating_mul(w.into()))
			.saturating_add(Weight::from_parts(0, 2624).saturating_mul(w.into()))
			.saturating_add(D::get().reads(6))
			.saturating_add(D::get().reads((2_u64).saturating_mul(w.into())))
			.saturating_add(D::get().writes(4))
	}
	/// `w` in `[1, 100]`.
	fn expire_refund(w: u32) -> Weight {
		// Proof size: measured 2049, estimated 13825 bytes.
		// Fastest run: 221_643 ns.
		Weight::from_parts(269_517_517, 13825)
			.saturating_add(Weight::from_parts(7_530_087, 0).saturating_mul(w.into()))
			.saturating_add(Weight::from_parts(0, 2341).saturating_mul(w.into()))
			.saturating_add(D::get().reads(11))
			.saturating_add(D::get().reads((1_u64).saturating_mul(w.into())))
			.saturating_add(D::get().writes(9))
	}
	fn settle() -> Weight {
		// Proof size: measured 1172, estimated 8799 bytes.
		// Fastest run: 226_529 ns.
		Weight::from_parts(412_605_000, 8799)
			.saturating_add(D::get().reads(9))
			.saturating_add(D::get().writes(11))
	}
	fn prune() -> Weight {
		// Proof size: measured 0, estimated 0 bytes.
		// Fastest run: 4_811 ns.
		Weight::from_parts(9_612_000, 0)
			.saturating_add(D::get().reads(0))
			.saturating_add(D::get().writes(2))
	}
}

/// For tests: the measured weights with RocksDB's database weights.
impl WeightInfo for () {
	fn register_worker(m: u32) -> Weight {
		WeightsWith::<RocksDbWeight>::register_worker(m)
	}
	fn deregister_worker() -> Weight {
		WeightsWith::<RocksDbWeight>::deregister_worker()
	}
	fn request(n: u32, w: u32) -> Weight {
		WeightsWith::<RocksDbWeight>::request(n, w)
	}
	fn submit_result() -> Weight {
		WeightsWith::<RocksDbWeight>::submit_result()
	}
	fn authorize_submit_result() -> Weight {
		WeightsWith::<RocksDbWeight>::authorize_submit_result()
	}
	fn on_initialize_idle() -> Weight {
		WeightsWith::<RocksDbWeight>::on_initialize_idle()
	}
	fn skip_entry() -> Weight {
		WeightsWith::<RocksDbWeight>::skip_entry()
	}
	fn expire_reassign(w: u32) -> Weight {
		WeightsWith::<RocksDbWeight>::expire_reassign(w)
	}
	fn expire_refund(w: u32) -> Weight {
		WeightsWith::<RocksDbWeight>::expire_refund(w)
	}
	fn settle() -> Weight {
		WeightsWith::<RocksDbWeight>::settle()
	}
	fn prune() -> Weight {
		WeightsWith::<RocksDbWeight>::prune()
	}
}
