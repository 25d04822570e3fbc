//! Weights of `pallet_disputes`.
//!
//! Not generated yet: these are estimates, to be replaced by
//! `scripts/bench-weights.sh` once the pallet's benchmarks exist. The
//! heaviest one-step proof (all-MiniLM-L6-v2's output projection: 16 × 16
//! outputs over 1,536 inputs, 26 tile proofs, about 400 k multiply-adds in
//! wasm) is put at 60 ms, 6% of a block; a reveal at 2 µs a hash plus a
//! fixed part. Until they are measured the runtime charges these.

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

/// Estimated weights, with database accesses priced by `D`.
pub struct WeightsWith<D>(PhantomData<D>);

/// The weights with the runtime's database weights.
pub type SubstrateWeight<T> = WeightsWith<<T as frame_system::Config>::DbWeight>;

/// Per revealed hash: decoding, a Merkle node's share of the rebuild, the
/// comparison and the storage of a waiting reveal.
const PER_HASH: u64 = 2_000_000;
/// Bytes of proof per revealed hash.
const PER_HASH_PROOF: u64 = 40;

impl<D: Get<RuntimeDbWeight>> WeightInfo for WeightsWith<D> {
	fn challenge() -> Weight {
		Weight::from_parts(400_000_000, 20_000)
			.saturating_add(D::get().reads(8))
			.saturating_add(D::get().writes(6))
	}
	fn authorize_challenge() -> Weight {
		Weight::from_parts(300_000_000, 10_000).saturating_add(D::get().reads(5))
	}
	fn reveal(n: u32) -> Weight {
		Weight::from_parts(400_000_000, 20_000)
			.saturating_add(Weight::from_parts(PER_HASH, PER_HASH_PROOF).saturating_mul(n.into()))
			.saturating_add(D::get().reads(8))
			.saturating_add(D::get().writes(6))
	}
	fn authorize_reveal(n: u32) -> Weight {
		Weight::from_parts(300_000_000, 10_000)
			.saturating_add(Weight::from_parts(20_000, 0).saturating_mul(n.into()))
			.saturating_add(D::get().reads(2))
	}
	fn prove_step_linear() -> Weight {
		Weight::from_parts(60_000_000_000, 300_000)
			.saturating_add(D::get().reads(12))
			.saturating_add(D::get().writes(12))
	}
	fn prove_step_attention() -> Weight {
		Weight::from_parts(60_000_000_000, 300_000)
			.saturating_add(D::get().reads(12))
			.saturating_add(D::get().writes(12))
	}
	fn authorize_prove_step() -> Weight {
		Weight::from_parts(2_000_000_000, 10_000).saturating_add(D::get().reads(2))
	}
	fn on_initialize_idle() -> Weight {
		Weight::from_parts(5_000_000, 1_000).saturating_add(D::get().reads(2))
	}
	fn skip_deadline() -> Weight {
		Weight::from_parts(10_000_000, 10_000).saturating_add(D::get().reads_writes(1, 1))
	}
	fn time_out() -> Weight {
		Weight::from_parts(500_000_000, 20_000)
			.saturating_add(D::get().reads(12))
			.saturating_add(D::get().writes(12))
	}
}

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
