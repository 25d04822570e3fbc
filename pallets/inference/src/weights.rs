//! Weights of `pallet_inference`, measured by `scripts/bench-weights.sh` with the
//! FRAME benchmark CLI 64.0.0 on 2026-11-23: 50 steps,
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
	fn check_request(n: u32) -> Weight;
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
		// Fastest run: 67_176 ns.
		Weight::from_parts(76_103_828, 3614)
			.saturating_add(Weight::from_parts(20_953_196, 0).saturating_mul(m.into()))
			.saturating_add(Weight::from_parts(0, 5689).saturating_mul(m.into()))
			.saturating_add(D::get().reads(4))
			.saturating_add(D::get().reads((2_u64).saturating_mul(m.into())))
			.saturating_add(D::get().writes(1))
			.saturating_add(D::get().writes((1_u64).saturating_mul(m.into())))
	}
	fn deregister_worker() -> Weight {
		// Proof size: measured 1068, estimated 92014 bytes.
		// Fastest run: 101_490 ns.
		Weight::from_parts(177_300_000, 92014)
			.saturating_add(D::get().reads(18))
			.saturating_add(D::get().writes(18))
	}
	/// `n` in `[1, 512]`.
	/// `w` in `[1, 100]`.
	fn request(_n: u32, w: u32) -> Weight {
		// Proof size: measured 1367, estimated 6679 bytes.
		// Fastest run: 161_281 ns.
		Weight::from_parts(299_115_081, 6679)
			.saturating_add(Weight::from_parts(16_559_498, 0).saturating_mul(w.into()))
			.saturating_add(Weight::from_parts(0, 2624).saturating_mul(w.into()))
			.saturating_add(D::get().reads(13))
			.saturating_add(D::get().reads((2_u64).saturating_mul(w.into())))
			.saturating_add(D::get().writes(9))
	}
	/// `n` in `[1, 512]`.
	fn check_request(n: u32) -> Weight {
		// Proof size: measured 538, estimated 4295 bytes.
		// Fastest run: 23_012 ns.
		Weight::from_parts(38_107_254, 4295)
			.saturating_add(Weight::from_parts(706, 0).saturating_mul(n.into()))
			.saturating_add(D::get().reads(3))
			.saturating_add(D::get().writes(0))
	}
	fn submit_result() -> Weight {
		// Proof size: measured 836, estimated 5773 bytes.
		// Fastest run: 55_523 ns.
		Weight::from_parts(110_636_000, 5773)
			.saturating_add(D::get().reads(3))
			.saturating_add(D::get().writes(5))
	}
	fn authorize_submit_result() -> Weight {
		// Proof size: measured 646, estimated 5773 bytes.
		// Fastest run: 76_973 ns.
		Weight::from_parts(106_820_000, 5773)
			.saturating_add(D::get().reads(3))
			.saturating_add(D::get().writes(0))
	}
	fn on_initialize_idle() -> Weight {
		// Proof size: measured 66, estimated 8490 bytes.
		// Fastest run: 10_279 ns.
		Weight::from_parts(16_370_000, 8490)
			.saturating_add(D::get().reads(4))
			.saturating_add(D::get().writes(0))
	}
	fn skip_entry() -> Weight {
		// Proof size: measured 66, estimated 5773 bytes.
		// Fastest run: 4_969 ns.
		Weight::from_parts(9_719_000, 5773)
			.saturating_add(D::get().reads(1))
			.saturating_add(D::get().writes(0))
	}
	/// `w` in `[2, 100]`.
	fn expire_reassign(w: u32) -> Weight {
		// Proof size: measured 1268, estimated 6679 bytes.
		// Fastest run: 147_866 ns.
		Weight::from_parts(157_243_810, 6679)
			.saturating_add(Weight::from_parts(14_507_089, 0).saturating_mul(w.into()))
			.saturating_add(Weight::from_parts(0, 2624).saturating_mul(w.into()))
			.saturating_add(D::get().reads(8))
			.saturating_add(D::get().reads((2_u64).saturating_mul(w.into())))
			.saturating_add(D::get().writes(7))
	}
	/// `w` in `[1, 100]`.
	fn expire_refund(w: u32) -> Weight {
		// Proof size: measured 2094, estimated 6679 bytes.
		// Fastest run: 171_189 ns.
		Weight::from_parts(229_145_853, 6679)
			.saturating_add(Weight::from_parts(4_575_218, 0).saturating_mul(w.into()))
			.saturating_add(Weight::from_parts(0, 2567).saturating_mul(w.into()))
			.saturating_add(D::get().reads(13))
			.saturating_add(D::get().reads((1_u64).saturating_mul(w.into())))
			.saturating_add(D::get().writes(11))
	}
	fn settle() -> Weight {
		// Proof size: measured 1785, estimated 8799 bytes.
		// Fastest run: 221_814 ns.
		Weight::from_parts(385_769_000, 8799)
			.saturating_add(D::get().reads(12))
			.saturating_add(D::get().writes(12))
	}
	fn prune() -> Weight {
		// Proof size: measured 0, estimated 0 bytes.
		// Fastest run: 4_288 ns.
		Weight::from_parts(8_316_000, 0)
			.saturating_add(D::get().reads(0))
			.saturating_add(D::get().writes(2))
	}
	/// `v` in `[0, 100]`.
	fn end_era(v: u32) -> Weight {
		// Proof size: measured 428, estimated 3549 bytes.
		// Fastest run: 14_286 ns.
		Weight::from_parts(17_546_859, 3549)
			.saturating_add(Weight::from_parts(8_352_022, 0).saturating_mul(v.into()))
			.saturating_add(Weight::from_parts(0, 5118).saturating_mul(v.into()))
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
	fn check_request(n: u32) -> Weight {
		WeightsWith::<RocksDbWeight>::check_request(n)
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
