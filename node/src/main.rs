//! The `cinder-node` binary; everything lives in the `cinder_node` library.

#[allow(clippy::result_large_err)] // sc_cli::Error is what Substrate returns
fn main() -> sc_cli::Result<()> {
	cinder_node::run()
}
