//! Builds the runtime to wasm (the blob the node executes and puts on chain).

fn main() {
	#[cfg(feature = "std")]
	substrate_wasm_builder::WasmBuilder::build_using_defaults();
}
