//! Chain specifications: `dev` and `local` are built from the runtime's
//! genesis presets, `local-fast` is `local` with one-minute sessions and an
//! era every session (for tests of staking payouts); anything else is read
//! as a chain spec JSON file.

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

/// Alice, Bob, Charlie and Dave validating, Eve and Ferdie nominating.
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

/// Blocks in a session on `local-fast`: a minute.
pub const FAST_EPOCH_BLOCKS: u64 = 20;

/// `local` with eras a minute long: BABE epochs (and so sessions) of
/// [`FAST_EPOCH_BLOCKS`] blocks, set in the genesis storage of the runtime's
/// `EpochDuration` parameter, and staking forced to start a new era every
/// session (`forceEra: ForceAlways`). Everything else is as on `local`
/// (slash deferral and bonding duration count eras, so they pass 60 times
/// faster too).
pub fn local_fast_chain_spec() -> Result<ChainSpec, String> {
	use codec::Encode;
	use sc_service::ChainSpec as _;
	let mut genesis = cinder_runtime::genesis_config_presets::local_testnet_genesis();
	if let Some(staking) = genesis.get_mut("staking").and_then(|s| s.as_object_mut()) {
		staking.insert("forceEra".into(), json!("ForceAlways"));
	}
	let mut spec = ChainSpec::builder(wasm()?, None)
		.with_name("Cinder Local Testnet (fast eras)")
		.with_id("cinder_local_fast")
		.with_protocol_id("cinder")
		.with_chain_type(ChainType::Local)
		.with_genesis_config_patch(genesis)
		.with_properties(properties())
		.build();
	let mut storage = spec.as_storage_builder().build_storage()?;
	storage
		.top
		.insert(cinder_runtime::configs::EpochDuration::key().to_vec(), FAST_EPOCH_BLOCKS.encode());
	spec.set_storage(storage);
	Ok(spec)
}

/// Resolves `--chain`: `dev`, `local`, `local-fast`, or a path to a chain
/// spec file.
pub fn load_spec(id: &str) -> Result<Box<dyn sc_service::ChainSpec>, String> {
	Ok(match id {
		"dev" => Box::new(development_chain_spec()?),
		"" | "local" => Box::new(local_chain_spec()?),
		"local-fast" => Box::new(local_fast_chain_spec()?),
		path => Box::new(ChainSpec::from_json_file(std::path::PathBuf::from(path))?),
	})
}
