//! Weights of `pallet_models`, measured by `scripts/bench-weights.sh` with the
//! FRAME benchmark CLI 64.0.0 on 2026-11-22: 50 steps,
//! 20 repeats, Compiled wasm execution, on
//! `AMD EPYC`. Generated: rerun the script instead of editing.

#![allow(unused_parens, unused_imports, missing_docs)]

use core::marker::PhantomData;
use frame_support::{
	traits::Get,
	weights::{constants::RocksDbWeight, RuntimeDbWeight, Weight},
};

/// The weight of each call and each kind of per-block work of `pallet_models`.
pub trait WeightInfo {
	fn register(n: u32, m: u32) -> Weight;
	fn set_price() -> Weight;
	fn retire() -> Weight;
	fn remove() -> Weight;
}

/// The measured weights, with database accesses priced by `D`.
pub struct WeightsWith<D>(PhantomData<D>);

/// The measured weights with the runtime's database weights.
pub type SubstrateWeight<T> = WeightsWith<<T as frame_system::Config>::DbWeight>;

impl<D: Get<RuntimeDbWeight>> WeightInfo for WeightsWith<D> {
	/// `n` in `[1, 64]`.
	/// `m` in `[0, 512]`.
	fn register(n: u32, m: u32) -> Weight {
		// Proof size: measured 297, estimated 4295 bytes.
		// Fastest run: 84_168 ns.
		Weight::from_parts(87_466_198, 4295)
			.saturating_add(Weight::from_parts(448, 0).saturating_mul(n.into()))
			.saturating_add(Weight::from_parts(1_094, 0).saturating_mul(m.into()))
			.saturating_add(D::get().reads(5))
			.saturating_add(D::get().writes(5))
	}
	fn set_price() -> Weight {
		// Proof size: measured 431, estimated 4295 bytes.
		// Fastest run: 24_816 ns.
		Weight::from_parts(26_370_000, 4295)
			.saturating_add(D::get().reads(1))
			.saturating_add(D::get().writes(1))
	}
	fn retire() -> Weight {
		// Proof size: measured 431, estimated 4295 bytes.
		// Fastest run: 24_846 ns.
		Weight::from_parts(26_450_000, 4295)
			.saturating_add(D::get().reads(1))
			.saturating_add(D::get().writes(1))
	}
	fn remove() -> Weight {
		// Proof size: measured 693, estimated 4295 bytes.
		// Fastest run: 75_472 ns.
		Weight::from_parts(78_848_000, 4295)
			.saturating_add(D::get().reads(5))
			.saturating_add(D::get().writes(4))
	}
}

/// For tests: the measured weights with RocksDB's database weights.
impl WeightInfo for () {
	fn register(n: u32, m: u32) -> Weight {
		WeightsWith::<RocksDbWeight>::register(n, m)
	}
	fn set_price() -> Weight {
		WeightsWith::<RocksDbWeight>::set_price()
	}
	fn retire() -> Weight {
		WeightsWith::<RocksDbWeight>::retire()
	}
	fn remove() -> Weight {
		WeightsWith::<RocksDbWeight>::remove()
	}
}
