//! Weights of `pallet_disputes`, measured by `scripts/bench-weights.sh` with the
//! FRAME benchmark CLI 64.0.0 on 2026-11-22: 50 steps,
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
	fn authorize_prove_step() -> Weight;
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
		// Proof size: measured 1111, estimated 7579 bytes.
		// Fastest run: 118_052 ns.
		Weight::from_parts(121_679_000, 7579)
			.saturating_add(D::get().reads(8))
			.saturating_add(D::get().writes(6))
	}
	fn authorize_challenge() -> Weight {
		// Proof size: measured 1016, estimated 7579 bytes.
		// Fastest run: 91_231 ns.
		Weight::from_parts(93_456_000, 7579)
			.saturating_add(D::get().reads(6))
			.saturating_add(D::get().writes(0))
	}
	/// `n` in `[2, 8192]`.
	fn reveal(n: u32) -> Weight {
		// Proof size: measured 1459, estimated 265627 bytes.
		// Fastest run: 72_265 ns.
		Weight::from_parts(86_545_455, 265627)
			.saturating_add(Weight::from_parts(1_144_539, 0).saturating_mul(n.into()))
			.saturating_add(D::get().reads(5))
			.saturating_add(D::get().writes(3))
	}
	/// `n` in `[2, 8192]`.
	fn authorize_reveal(n: u32) -> Weight {
		// Proof size: measured 1502, estimated 7579 bytes.
		// Fastest run: 101_551 ns.
		Weight::from_parts(117_015_123, 7579)
			.saturating_add(Weight::from_parts(1_346_727, 0).saturating_mul(n.into()))
			.saturating_add(D::get().reads(5))
			.saturating_add(D::get().writes(0))
	}
	fn prove_step_linear() -> Weight {
		// Proof size: measured 6622, estimated 8107 bytes.
		// Fastest run: 2_821_575 ns.
		Weight::from_parts(2_849_829_000, 8107)
			.saturating_add(D::get().reads(20))
			.saturating_add(D::get().writes(18))
	}
	fn prove_step_attention() -> Weight {
		// Proof size: measured 6622, estimated 8107 bytes.
		// Fastest run: 3_232_938 ns.
		Weight::from_parts(3_293_832_000, 8107)
			.saturating_add(D::get().reads(20))
			.saturating_add(D::get().writes(18))
	}
	fn authorize_prove_step() -> Weight {
		// Proof size: measured 4908, estimated 7579 bytes.
		// Fastest run: 2_740_173 ns.
		Weight::from_parts(2_767_665_000, 7579)
			.saturating_add(D::get().reads(5))
			.saturating_add(D::get().writes(0))
	}
	fn on_initialize_idle() -> Weight {
		// Proof size: measured 6, estimated 3493 bytes.
		// Fastest run: 7_614 ns.
		Weight::from_parts(8_225_000, 3493)
			.saturating_add(D::get().reads(2))
			.saturating_add(D::get().writes(1))
	}
	fn skip_deadline() -> Weight {
		// Proof size: measured 58, estimated 5996 bytes.
		// Fastest run: 16_651 ns.
		Weight::from_parts(17_613_000, 5996)
			.saturating_add(D::get().reads(5))
			.saturating_add(D::get().writes(2))
	}
	fn time_out() -> Weight {
		// Proof size: measured 2702, estimated 6679 bytes.
		// Fastest run: 217_538 ns.
		Weight::from_parts(225_644_000, 6679)
			.saturating_add(D::get().reads(21))
			.saturating_add(D::get().writes(20))
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
	fn authorize_prove_step() -> Weight {
		WeightsWith::<RocksDbWeight>::authorize_prove_step()
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
