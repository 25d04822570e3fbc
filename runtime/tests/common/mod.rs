//! Helpers shared by the runtime's integration tests.

// Each test crate uses its own part of these.
#![allow(dead_code)]

use cinder_runtime::{
	genesis_config_presets, Executive, Header, Runtime, RuntimeCall, RuntimeEvent,
	RuntimeGenesisConfig, UncheckedExtrinsic,
};
use codec::Encode;
use serde_json::Value;
use sp_consensus_babe::{
	digests::{PreDigest, SecondaryPlainPreDigest},
	BABE_ENGINE_ID,
};
use sp_core::H256;
use sp_runtime::BuildStorage;
use sp_runtime::{
	generic::{Digest, DigestItem},
	traits::Header as HeaderT,
};

/// Applies a JSON merge patch (RFC 7386 without deletions): objects merge
/// key by key, everything else is replaced.
pub fn merge(base: &mut Value, patch: Value) {
	match (base, patch) {
		(Value::Object(base), Value::Object(patch)) => {
			for (key, value) in patch {
				merge(base.entry(key).or_insert(Value::Null), value);
			}
		}
		(base, patch) => *base = patch,
	}
}

/// The genesis config a preset describes, on top of the defaults: what the
/// node does when it builds a chain spec from the preset.
pub fn preset_config(preset: &str) -> RuntimeGenesisConfig {
	let bytes = genesis_config_presets::get_preset(&preset.into())
		.unwrap_or_else(|| panic!("preset {preset} exists"));
	let patch: Value = serde_json::from_slice(&bytes).expect("a preset is JSON");
	let mut config = serde_json::to_value(RuntimeGenesisConfig::default()).expect("serialises");
	merge(&mut config, patch);
	serde_json::from_value(config).expect("the patched preset is a valid genesis config")
}

/// Genesis state of a preset, ready to execute in.
pub fn preset_ext(preset: &str) -> sp_io::TestExternalities {
	let storage = preset_config(preset).build_storage().expect("genesis builds");
	let mut ext = sp_io::TestExternalities::new(storage);
	ext.execute_with(|| frame_system::Pallet::<cinder_runtime::Runtime>::set_block_number(0));
	ext
}

/// The BABE slot of block 0.
const SLOT: u64 = 600_000_000;

/// Drives blocks in one externalities: BABE pre-digest and timestamp for
/// each, extrinsics applied as an author would.
pub struct Chain {
	parent: H256,
	number: u32,
}

impl Chain {
	pub fn new() -> Self {
		Self { parent: frame_system::BlockHash::<Runtime>::get(0), number: 0 }
	}

	/// The number of the last block opened.
	pub fn number(&self) -> u32 {
		self.number
	}

	pub fn open(&mut self) {
		self.number += 1;
		let slot = SLOT + u64::from(self.number);
		let pre = PreDigest::SecondaryPlain(SecondaryPlainPreDigest {
			authority_index: 0,
			slot: slot.into(),
		});
		let digest = Digest { logs: vec![DigestItem::PreRuntime(BABE_ENGINE_ID, pre.encode())] };
		let header =
			Header::new(self.number, Default::default(), Default::default(), self.parent, digest);
		Executive::initialize_block(&header);
		let now = slot * cinder_runtime::time::SLOT_DURATION;
		let ts =
			UncheckedExtrinsic::new_bare(RuntimeCall::Timestamp(pallet_timestamp::Call::set {
				now,
			}));
		Executive::apply_extrinsic(ts).unwrap().unwrap();
	}

	pub fn close(&mut self) {
		self.parent = Executive::finalize_block().hash();
	}

	/// One block holding `xts`, each of which must apply and dispatch.
	pub fn block(&mut self, xts: Vec<UncheckedExtrinsic>) -> Vec<RuntimeEvent> {
		self.open();
		for xt in xts {
			Executive::apply_extrinsic(xt).expect("valid").expect("dispatches");
		}
		let events =
			frame_system::Pallet::<Runtime>::events().into_iter().map(|r| r.event).collect();
		self.close();
		events
	}
}
