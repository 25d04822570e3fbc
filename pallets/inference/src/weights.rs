//! Weights of `pallet_inference`, measured by `scripts/bench-weights.sh` with the
//! FRAME benchmark CLI 64.0.0 on 2026-11-22: 50 steps,
//! 20 repeats, Compiled wasm execution, on
//! `AMD EPYC`. Generated: rerun the script instead of editing.

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
	fn end_era(v: u32) -> Weight;
}

/// The measured weights, with database accesses priced by `D`.
pub struct WeightsWith<D>(PhantomData<D>);

/// The measured weights with the runtime's database weights.
pub type SubstrateWeight<T> = WeightsWith<<T as frame_system::Config>::DbWeight>;

impl<D: Get<RuntimeDbWeight>> WeightInfo for WeightsWith<D> {
	/// `m` in `[1, 16]`.
	fn register_worker(m: u32) -> Weight {
		// Proof size: measured 1233, estimated 3614 bytes.
		// Fastest run: 64_341 ns.
		Weight::from_parts(57_043_421, 3614)
			.saturating_add(Weight::from_parts(11_806_827, 0).saturating_mul(m.into()))
			.saturating_add(Weight::from_parts(0, 5689).saturating_mul(m.into()))
			.saturating_add(D::get().reads(4))
			.saturating_add(D::get().reads((2_u64).saturating_mul(m.into())))
			.saturating_add(D::get().writes(1))
			.saturating_add(D::get().writes((1_u64).saturating_mul(m.into())))
	}
	fn deregister_worker() -> Weight {
		// Proof size: measured 1068, estimated 92014 bytes.
		// Fastest run: 95_499 ns.
		Weight::from_parts(99_537_000, 92014)
			.saturating_add(D::get().reads(18))
			.saturating_add(D::get().writes(18))
	}
	/// `n` in `[1, 512]`.
	/// `w` in `[1, 100]`.
	fn request(_n: u32, w: u32) -> Weight {
		// Proof size: measured 1367, estimated 6679 bytes.
		// Fastest run: 149_651 ns.
		Weight::from_parts(227_857_827, 6679)
			.saturating_add(Weight::from_parts(10_606_540, 0).saturating_mul(w.into()))
			.saturating_add(Weight::from_parts(0, 2624).saturating_mul(w.into()))
			.saturating_add(D::get().reads(13))
			.saturating_add(D::get().reads((2_u64).saturating_mul(w.into())))
			.saturating_add(D::get().writes(9))
	}
	fn submit_result() -> Weight {
		// Proof size: measured 836, estimated 5773 bytes.
		// Fastest run: 50_685 ns.
		Weight::from_parts(52_418_000, 5773)
			.saturating_add(D::get().reads(3))
			.saturating_add(D::get().writes(5))
	}
	fn authorize_submit_result() -> Weight {
		// Proof size: measured 646, estimated 5773 bytes.
		// Fastest run: 73_478 ns.
		Weight::from_parts(75_161_000, 5773)
			.saturating_add(D::get().reads(3))
			.saturating_add(D::get().writes(0))
	}
	fn on_initialize_idle() -> Weight {
		// Proof size: measured 66, estimated 8490 bytes.
		// Fastest run: 10_240 ns.
		Weight::from_parts(10_871_000, 8490)
			.saturating_add(D::get().reads(4))
			.saturating_add(D::get().writes(0))
	}
	fn skip_entry() -> Weight {
		// Proof size: measured 66, estimated 5773 bytes.
		// Fastest run: 5_050 ns.
		Weight::from_parts(5_490_000, 5773)
			.saturating_add(D::get().reads(1))
			.saturating_add(D::get().writes(0))
	}
	/// `w` in `[2, 100]`.
	fn expire_reassign(w: u32) -> Weight {
		// Proof size: measured 1237, estimated 6679 bytes.
		// Fastest run: 83_327 ns.
		Weight::from_parts(63_678_172, 6679)
			.saturating_add(Weight::from_parts(10_904_883, 0).saturating_mul(w.into()))
			.saturating_add(Weight::from_parts(0, 2624).saturating_mul(w.into()))
			.saturating_add(D::get().reads(6))
			.saturating_add(D::get().reads((2_u64).saturating_mul(w.into())))
			.saturating_add(D::get().writes(6))
	}
	/// `w` in `[1, 100]`.
	fn expire_refund(w: u32) -> Weight {
		// Proof size: measured 2090, estimated 6679 bytes.
		// Fastest run: 115_617 ns.
		Weight::from_parts(126_707_978, 6679)
			.saturating_add(Weight::from_parts(3_856_155, 0).saturating_mul(w.into()))
			.saturating_add(Weight::from_parts(0, 2452).saturating_mul(w.into()))
			.saturating_add(D::get().reads(11))
			.saturating_add(D::get().reads((1_u64).saturating_mul(w.into())))
			.saturating_add(D::get().writes(10))
	}
	fn settle() -> Weight {
		// Proof size: measured 1172, estimated 8799 bytes.
		// Fastest run: 189_516 ns.
		Weight::from_parts(194_705_000, 8799)
			.saturating_add(D::get().reads(9))
			.saturating_add(D::get().writes(11))
	}
	fn prune() -> Weight {
		// Proof size: measured 0, estimated 0 bytes.
		// Fastest run: 4_358 ns.
		Weight::from_parts(4_678_000, 0)
			.saturating_add(D::get().reads(0))
			.saturating_add(D::get().writes(2))
	}
	/// `v` in `[0, 100]`. NOT MEASURED YET: a deliberate overestimate (10 µs
	/// per record) until `scripts/bench-weights.sh pallet_inference`
	/// regenerates this file from the `end_era` benchmark.
	fn end_era(v: u32) -> Weight {
		Weight::from_parts(10_000_000, 0)
			.saturating_add(Weight::from_parts(10_000_000, 0).saturating_mul(v.into()))
			.saturating_add(D::get().reads(2))
			.saturating_add(D::get().reads((2_u64).saturating_mul(v.into())))
			.saturating_add(D::get().writes(1))
			.saturating_add(D::get().writes((1_u64).saturating_mul(v.into())))
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
	fn end_era(v: u32) -> Weight {
		WeightsWith::<RocksDbWeight>::end_era(v)
	}
}
