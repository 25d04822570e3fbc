//! # cinder-node
//!
//! The Cinder validator node: BABE block production and GRANDPA finality over
//! the Cinder runtime, the standard Substrate JSON-RPC plus `inference_*`,
//! and the attached inference worker (`worker`), which serves the models it
//! finds under `--models-dir` with the deterministic engine.
//!
//! `cinder-node --dev` starts a single-validator development chain;
//! `cinder-node --chain local --alice` and friends start the three-validator
//! local testnet. See the workspace README for the walkthrough.

mod chain_spec;
mod cli;
mod client;
mod command;
mod rpc;
mod service;
mod worker;

fn main() -> sc_cli::Result<()> {
	command::run()
}
