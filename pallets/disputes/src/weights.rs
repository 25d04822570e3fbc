//! Weights of `pallet_disputes`, measured by `scripts/bench-weights.sh` with the
//! FRAME benchmark CLI 64.0.0 on 2026-11-24: 50 steps,
//! 20 repeats, Compiled wasm execution, on
//! `AMD EPYC`. Generated: rerun the script instead of editing.

#![allow(unused_parens, unused_imports, missing_docs)]

use core::marker::PhantomData;
use frame_support::{
	traits::Get,
	weights::{constants::RocksDbWeight, RuntimeDbWeight, Weight},
};

/// The weight of each call and each kind of per-block work of `pallet_disputes`.
pub trait WeightInfo {
	fn challenge() -> Weight;
	fn authorize_challenge() -> Weight;
	fn reveal(n: u32) -> Weight;
	fn authorize_reveal(n: u32) -> Weight;
	fn prove_step_linear() -> Weight;
	fn prove_step_attention() -> Weight;
	fn prove_step_generation() -> Weight;
	fn authorize_prove_step() -> Weight;
	fn authorize_prove_step_generation() -> Weight;
	fn on_initialize_idle() -> Weight;
	fn skip_deadline() -> Weight;
	fn time_out() -> Weight;
}

/// The measured weights, with database accesses priced by `D`.
pub struct WeightsWith<D>(PhantomData<D>);

/// The measured weights with the runtime's database weights.
pub type SubstrateWeight<T> = WeightsWith<<T as frame_system::Config>::DbWeight>;

impl<D: Get<RuntimeDbWeight>> WeightInfo for WeightsWith<D> {
	fn challenge() -> Weight {
		// Proof size: measured 1160, estimated 7579 bytes.
		// Fastest run: 164_959 ns.
		Weight::from_parts(169_458_000, 7579)
			.saturating_add(D::get().reads(8))
			.saturating_add(D::get().writes(6))
	}
	fn authorize_challenge() -> Weight {
		// Proof size: measured 1065, estimated 7579 bytes.
		// Fastest run: 154_360 ns.
		Weight::from_parts(158_267_000, 7579)
			.saturating_add(D::get().reads(6))
			.saturating_add(D::get().writes(0))
	}
	/// `n` in `[2, 8192]`.
	fn reveal(n: u32) -> Weight {
		// Proof size: measured 1574, estimated 265627 bytes.
		// Fastest run: 97_753 ns.
		Weight::from_parts(76_853_997, 265627)
			.saturating_add(Weight::from_parts(782_277, 0).saturating_mul(n.into()))
			.saturating_add(D::get().reads(5))
			.saturating_add(D::get().writes(3))
	}
	/// `n` in `[2, 8192]`.
	fn authorize_reveal(n: u32) -> Weight {
		// Proof size: measured 1617, estimated 7579 bytes.
		// Fastest run: 167_434 ns.
		Weight::from_parts(222_401_385, 7579)
			.saturating_add(Weight::from_parts(1_012_539, 0).saturating_mul(n.into()))
			.saturating_add(D::get().reads(5))
			.saturating_add(D::get().writes(0))
	}
	fn prove_step_linear() -> Weight {
		// Proof size: measured 6803, estimated 8288 bytes.
		// Fastest run: 2_475_472 ns.
		Weight::from_parts(2_509_896_000, 8288)
			.saturating_add(D::get().reads(23))
			.saturating_add(D::get().writes(20))
	}
	fn prove_step_attention() -> Weight {
		// Proof size: measured 6803, estimated 8288 bytes.
		// Fastest run: 2_858_600 ns.
		Weight::from_parts(2_899_687_000, 8288)
			.saturating_add(D::get().reads(23))
			.saturating_add(D::get().writes(20))
	}
	fn prove_step_generation() -> Weight {
		// Proof size: measured 3298, estimated 7579 bytes.
		// Fastest run: 13_017_217 ns.
		Weight::from_parts(13_132_113_000, 7579)
			.saturating_add(D::get().reads(23))
			.saturating_add(D::get().writes(20))
	}
	fn authorize_prove_step() -> Weight {
		// Proof size: measured 5023, estimated 7579 bytes.
		// Fastest run: 2_274_615 ns.
		Weight::from_parts(2_304_691_000, 7579)
			.saturating_add(D::get().reads(5))
			.saturating_add(D::get().writes(0))
	}
	fn authorize_prove_step_generation() -> Weight {
		// Proof size: measured 1518, estimated 7579 bytes.
		// Fastest run: 1_887_869 ns.
		Weight::from_parts(1_918_407_000, 7579)
			.saturating_add(D::get().reads(5))
			.saturating_add(D::get().writes(0))
	}
	fn on_initialize_idle() -> Weight {
		// Proof size: measured 6, estimated 3493 bytes.
		// Fastest run: 12_033 ns.
		Weight::from_parts(12_904_000, 3493)
			.saturating_add(D::get().reads(2))
			.saturating_add(D::get().writes(1))
	}
	fn skip_deadline() -> Weight {
		// Proof size: measured 58, estimated 5996 bytes.
		// Fastest run: 25_027 ns.
		Weight::from_parts(26_189_000, 5996)
			.saturating_add(D::get().reads(5))
			.saturating_add(D::get().writes(2))
	}
	fn time_out() -> Weight {
		// Proof size: measured 2952, estimated 7579 bytes.
		// Fastest run: 326_923 ns.
		Weight::from_parts(348_343_000, 7579)
			.saturating_add(D::get().reads(25))
			.saturating_add(D::get().writes(22))
	}
}

/// For tests: the measured weights with RocksDB's database weights.
impl WeightInfo for () {
	fn challenge() -> Weight {
		WeightsWith::<RocksDbWeight>::challenge()
	}
	fn authorize_challenge() -> Weight {
		WeightsWith::<RocksDbWeight>::authorize_challenge()
	}
	fn reveal(n: u32) -> Weight {
		WeightsWith::<RocksDbWeight>::reveal(n)
	}
	fn authorize_reveal(n: u32) -> Weight {
		WeightsWith::<RocksDbWeight>::authorize_reveal(n)
	}
	fn prove_step_linear() -> Weight {
		WeightsWith::<RocksDbWeight>::prove_step_linear()
	}
	fn prove_step_attention() -> Weight {
		WeightsWith::<RocksDbWeight>::prove_step_attention()
	}
	fn prove_step_generation() -> Weight {
		WeightsWith::<RocksDbWeight>::prove_step_generation()
	}
	fn authorize_prove_step() -> Weight {
		WeightsWith::<RocksDbWeight>::authorize_prove_step()
	}
	fn authorize_prove_step_generation() -> Weight {
		WeightsWith::<RocksDbWeight>::authorize_prove_step_generation()
	}
	fn on_initialize_idle() -> Weight {
		WeightsWith::<RocksDbWeight>::on_initialize_idle()
	}
	fn skip_deadline() -> Weight {
		WeightsWith::<RocksDbWeight>::skip_deadline()
	}
	fn time_out() -> Weight {
		WeightsWith::<RocksDbWeight>::time_out()
	}
}
