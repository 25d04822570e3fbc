//! Chain specifications: `dev` and `local` are built from the runtime's
//! genesis presets; anything else is read as a chain spec JSON file.

use cinder_runtime::{currency, WASM_BINARY};
use sc_service::ChainType;
use serde_json::json;

/// Cinder's chain spec (no client extensions).
pub type ChainSpec = sc_service::GenericChainSpec;

fn properties() -> sc_service::Properties {
	let props = json!({
		"tokenSymbol": currency::TOKEN_SYMBOL,
		"tokenDecimals": currency::TOKEN_DECIMALS,
		"ss58Format": 42,
	});
	match props {
		serde_json::Value::Object(map) => map,
		_ => Default::default(),
	}
}

fn wasm() -> Result<&'static [u8], String> {
	WASM_BINARY.ok_or_else(|| {
		"the runtime's wasm binary is missing: build without SKIP_WASM_BUILD".to_string()
	})
}

/// Single validator (Alice) development chain.
pub fn development_chain_spec() -> Result<ChainSpec, String> {
	Ok(ChainSpec::builder(wasm()?, None)
		.with_name("Cinder Development")
		.with_id("cinder_dev")
		.with_protocol_id("cinder")
		.with_chain_type(ChainType::Development)
		.with_genesis_config_preset_name(sp_genesis_builder::DEV_RUNTIME_PRESET)
		.with_properties(properties())
		.build())
}

/// Alice, Bob and Charlie validating, Dave and Eve nominating.
pub fn local_chain_spec() -> Result<ChainSpec, String> {
	Ok(ChainSpec::builder(wasm()?, None)
		.with_name("Cinder Local Testnet")
		.with_id("cinder_local")
		.with_protocol_id("cinder")
		.with_chain_type(ChainType::Local)
		.with_genesis_config_preset_name(sp_genesis_builder::LOCAL_TESTNET_RUNTIME_PRESET)
		.with_properties(properties())
		.build())
}

/// Resolves `--chain`: `dev`, `local`, or a path to a chain spec file.
pub fn load_spec(id: &str) -> Result<Box<dyn sc_service::ChainSpec>, String> {
	Ok(match id {
		"dev" => Box::new(development_chain_spec()?),
		"" | "local" => Box::new(local_chain_spec()?),
		path => Box::new(ChainSpec::from_json_file(std::path::PathBuf::from(path))?),
	})
}
