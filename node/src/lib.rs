//! # cinder-node
//!
//! The Cinder validator node: BABE block production and GRANDPA finality over
//! the Cinder runtime, the standard Substrate JSON-RPC plus `inference_*`,
//! and the attached inference worker (`worker`), which serves the models it
//! finds under `--models-dir` with the deterministic engine.
//!
//! `cinder-node --dev` starts a single-validator development chain;
//! `cinder-node --chain local --alice` and friends start the four-validator
//! local testnet (`scripts/local-net.sh` starts all four). See the workspace README for the walkthrough.
//!
//! The crate is a library with a thin binary: [`run`] is the whole command
//! line, [`jsonrpc`] is jsonrpsee's HTTP and WebSocket clients behind the
//! blocking face every client here uses (`cinder-node embed` first)
//! and [`client`] the commands built on it, [`gateway`] the OpenAI-compatible
//! HTTP API, [`load`] the load generator, [`stake`] the token holder's
//! commands; the end-to-end tests share them.

// `sc_cli::Error` and `sc_service::Error` are large, and they are the error
// types of the Substrate APIs this crate plugs into.
#![allow(clippy::result_large_err)]

mod chain_spec;
mod cli;
pub mod client;
mod command;
pub mod gateway;
pub mod generate;
pub mod jsonrpc;
pub mod load;
mod rpc;
mod service;
pub mod stake;
mod worker;

pub use command::run;
