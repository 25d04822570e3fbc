//! # Cinder runtime
//!
//! The state transition function of the Cinder chain: FRAME's consensus and
//! staking machinery (BABE block production, GRANDPA finality, NPoS staking
//! electing the validator set through `pallet-session`, offences for the slash
//! path) plus Cinder's own inference marketplace pallets.
//!
//! Layout follows the polkadot-sdk templates: this file holds the `#[runtime]`
//! block and the primitive types, [`configs`] the pallet configurations
//! (`configs::rewards`: how inference income reaches stakers through the era
//! payout), [`apis`] the runtime APIs the node calls, [`income`] the token
//! holders' views those APIs return, and [`genesis_config_presets`] the
//! `development` and `local_testnet` presets.

#![cfg_attr(not(feature = "std"), no_std)]
#![deny(clippy::arithmetic_side_effects)]

#[cfg(feature = "std")]
include!(concat!(env!("OUT_DIR"), "/wasm_binary.rs"));

extern crate alloc;

use alloc::vec::Vec;

// Declares `list_benchmarks!`/`add_benchmarks!`, which `apis` uses.
#[cfg(feature = "runtime-benchmarks")]
#[macro_use]
mod benchmarks;
pub mod apis;
pub use apis::RuntimeApi;
pub mod configs;
#[cfg(feature = "std")]
pub mod extrinsic;
pub mod genesis_config_presets;
pub mod income;

use sp_runtime::{
	generic, impl_opaque_keys,
	traits::{BlakeTwo256, IdentifyAccount, Verify},
	MultiAddress, MultiSignature,
};
use sp_version::RuntimeVersion;

pub use frame_support::weights::constants::{
	BlockExecutionWeight, ExtrinsicBaseWeight, RocksDbWeight,
};
pub use pallet_balances::Call as BalancesCall;
pub use pallet_staking::StakerStatus;
pub use sp_runtime::{Perbill, Permill};

/// An index to a block.
pub type BlockNumber = u32;
/// Signature type of an extrinsic.
pub type Signature = MultiSignature;
/// The public key that identifies an account: 32 bytes, the hash of the signer's key.
pub type AccountId = <<Signature as Verify>::Signer as IdentifyAccount>::AccountId;
/// Balance of an account, in plancks (see [`currency`]).
pub type Balance = u128;
/// Index of a transaction in the chain.
pub type Nonce = u32;
/// A hash of some data used by the chain.
pub type Hash = sp_core::H256;
/// Timestamps and durations in milliseconds.
pub type Moment = u64;

/// Token denominations. One `CDR` is 10^12 plancks.
pub mod currency {
	use super::Balance;
	/// One whole token.
	pub const UNITS: Balance = 1_000_000_000_000;
	/// A thousandth of a token.
	pub const MILLI_UNITS: Balance = UNITS / 1_000;
	/// A millionth of a token.
	pub const MICRO_UNITS: Balance = MILLI_UNITS / 1_000;
	/// The smallest balance an account may hold.
	pub const EXISTENTIAL_DEPOSIT: Balance = MILLI_UNITS;
	/// Token symbol, for chain specs and UIs.
	pub const TOKEN_SYMBOL: &str = "CDR";
	/// Decimals of [`UNITS`].
	pub const TOKEN_DECIMALS: u8 = 12;
}

/// Time, in blocks and milliseconds.
pub mod time {
	use super::{BlockNumber, Moment};

	/// Target block time. Three seconds leaves a 2-core validator over a second
	/// to author (our blocks carry at most one second of weight, see
	/// `configs::system`), while a dapp sees its request land in one block.
	pub const MILLI_SECS_PER_BLOCK: Moment = 3_000;
	/// BABE slot duration: one block per slot.
	pub const SLOT_DURATION: Moment = MILLI_SECS_PER_BLOCK;

	pub const MINUTES: BlockNumber = 60_000 / (MILLI_SECS_PER_BLOCK as BlockNumber);
	pub const HOURS: BlockNumber = MINUTES * 60;
	pub const DAYS: BlockNumber = HOURS * 24;

	/// A BABE epoch (and so a session): ten minutes.
	pub const EPOCH_DURATION_IN_BLOCKS: BlockNumber = 10 * MINUTES;
	pub const EPOCH_DURATION_IN_SLOTS: u64 = EPOCH_DURATION_IN_BLOCKS as u64;

	/// BABE's primary slot probability: 1/4 of slots have a VRF-elected
	/// primary author; the rest are filled by the round-robin secondary author.
	pub const PRIMARY_PROBABILITY: (u64, u64) = (1, 4);
}

/// Opaque types: the node knows blocks and extrinsics only as bytes, so it
/// does not depend on the runtime's call enum.
pub mod opaque {
	use super::*;
	pub use sp_runtime::OpaqueExtrinsic as UncheckedExtrinsic;

	/// Opaque block header type.
	pub type Header = generic::Header<BlockNumber, BlakeTwo256>;
	/// Opaque block type.
	pub type Block = generic::Block<Header, UncheckedExtrinsic>;
	/// Opaque block identifier type.
	pub type BlockId = generic::BlockId<Block>;
	/// Opaque block hash type.
	pub type Hash = <BlakeTwo256 as sp_runtime::traits::Hash>::Output;
}

impl_opaque_keys! {
	/// The keys a validator registers with `session.set_keys`. `inference`
	/// is the worker key (`cinf`): listing it here makes `author_rotateKeys`
	/// (and `--dev`) generate it in the node's keystore; the validator then
	/// names it in `inference.register_worker`.
	pub struct SessionKeys {
		pub babe: Babe,
		pub grandpa: Grandpa,
		pub inference: Inference,
	}
}

#[sp_version::runtime_version]
pub const VERSION: RuntimeVersion = RuntimeVersion {
	spec_name: alloc::borrow::Cow::Borrowed("cinder"),
	impl_name: alloc::borrow::Cow::Borrowed("cinder-node"),
	authoring_version: 1,
	// 101: generation requests (pallet-models' llama architecture and token
	// prices, `inference.generate`, the request record's task and seed, the
	// inference API's task-aware quotes). Only chains started from genesis
	// run it: there are no migrations from 100.
	spec_version: 101,
	impl_version: 1,
	apis: apis::RUNTIME_API_VERSIONS,
	// 2: `models.register`/`set_price` take token prices and
	// `inference.generate` is new, so signed payloads of 1 do not decode.
	transaction_version: 2,
	system_version: 1,
};

/// The BABE epoch configuration at genesis.
pub const BABE_GENESIS_EPOCH_CONFIG: sp_consensus_babe::BabeEpochConfiguration =
	sp_consensus_babe::BabeEpochConfiguration {
		c: time::PRIMARY_PROBABILITY,
		allowed_slots: sp_consensus_babe::AllowedSlots::PrimaryAndSecondaryVRFSlots,
	};

/// The address format for describing accounts.
pub type Address = MultiAddress<AccountId, ()>;
/// Block header type as expected by this runtime.
pub type Header = generic::Header<BlockNumber, BlakeTwo256>;
/// Block type as expected by this runtime.
pub type Block = generic::Block<Header, UncheckedExtrinsic>;
/// A block with its justifications.
pub type SignedBlock = generic::SignedBlock<Block>;
/// BlockId type as expected by this runtime.
pub type BlockId = generic::BlockId<Block>;

/// The transaction extensions every signed extrinsic carries, in order.
pub type TxExtension = (
	frame_system::AuthorizeCall<Runtime>,
	frame_system::CheckNonZeroSender<Runtime>,
	frame_system::CheckSpecVersion<Runtime>,
	frame_system::CheckTxVersion<Runtime>,
	frame_system::CheckGenesis<Runtime>,
	frame_system::CheckEra<Runtime>,
	frame_system::CheckNonce<Runtime>,
	frame_system::CheckWeight<Runtime>,
	// Before the fee: a request the pallet would refuse is not valid, so
	// it is never included and never paid for.
	pallet_inference::CheckRequest<Runtime>,
	pallet_transaction_payment::ChargeTransactionPayment<Runtime>,
	frame_system::WeightReclaim<Runtime>,
);

/// Unchecked extrinsic type as expected by this runtime.
pub type UncheckedExtrinsic =
	generic::UncheckedExtrinsic<Address, RuntimeCall, Signature, TxExtension>;
/// The payload being signed in transactions.
pub type SignedPayload = generic::SignedPayload<RuntimeCall, TxExtension>;

/// Migrations to run on a runtime upgrade.
type Migrations = ();

/// Executive: handles dispatch to the various modules.
pub type Executive = frame_executive::Executive<
	Runtime,
	Block,
	frame_system::ChainContext<Runtime>,
	Runtime,
	AllPalletsWithSystem,
	Migrations,
>;

#[frame_support::runtime]
mod runtime {
	#[runtime::runtime]
	#[runtime::derive(
		RuntimeCall,
		RuntimeEvent,
		RuntimeError,
		RuntimeOrigin,
		RuntimeFreezeReason,
		RuntimeHoldReason,
		RuntimeSlashReason,
		RuntimeLockId,
		RuntimeTask,
		RuntimeViewFunction
	)]
	pub struct Runtime;

	#[runtime::pallet_index(0)]
	pub type System = frame_system;
	#[runtime::pallet_index(1)]
	pub type Babe = pallet_babe;
	#[runtime::pallet_index(2)]
	pub type Timestamp = pallet_timestamp;
	#[runtime::pallet_index(3)]
	pub type Balances = pallet_balances;
	#[runtime::pallet_index(4)]
	pub type TransactionPayment = pallet_transaction_payment;
	#[runtime::pallet_index(5)]
	pub type Authorship = pallet_authorship;
	#[runtime::pallet_index(6)]
	pub type Staking = pallet_staking;
	#[runtime::pallet_index(7)]
	pub type Offences = pallet_offences;
	#[runtime::pallet_index(8)]
	pub type Historical = pallet_session::historical;
	#[runtime::pallet_index(9)]
	pub type Session = pallet_session;
	#[runtime::pallet_index(10)]
	pub type Grandpa = pallet_grandpa;
	#[runtime::pallet_index(11)]
	pub type Sudo = pallet_sudo;
	#[runtime::pallet_index(12)]
	pub type Models = pallet_models;
	#[runtime::pallet_index(13)]
	pub type Inference = pallet_inference;
	#[runtime::pallet_index(14)]
	pub type Disputes = pallet_disputes;
}
