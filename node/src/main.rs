//! # cinder-node
//!
//! The Cinder validator node: BABE block production and GRANDPA finality over
//! the Cinder runtime, the standard Substrate JSON-RPC, and (in later
//! milestones) the attached inference worker.
//!
//! `cinder-node --dev` starts a single-validator development chain;
//! `cinder-node --chain local --alice` and friends start the three-validator
//! local testnet. See the workspace README for the walkthrough.

mod chain_spec;
mod cli;
mod command;
mod rpc;
mod service;

fn main() -> sc_cli::Result<()> {
	command::run()
}
