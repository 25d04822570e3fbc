//! Helpers shared by the runtime's integration tests.

use cinder_runtime::{genesis_config_presets, RuntimeGenesisConfig};
use serde_json::Value;
use sp_runtime::BuildStorage;

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
