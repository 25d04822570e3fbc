//! Genesis presets: `development` (Alice the sole validator) and
//! `local_testnet` (Alice, Bob and Charlie validating, Dave and Eve nominating).

use alloc::{vec, vec::Vec};
use frame_support::build_struct_json_patch;
use serde_json::Value;
use sp_consensus_babe::AuthorityId as BabeId;
use sp_consensus_grandpa::AuthorityId as GrandpaId;
use sp_genesis_builder::{PresetId, DEV_RUNTIME_PRESET, LOCAL_TESTNET_RUNTIME_PRESET};
use sp_keyring::{Ed25519Keyring, Sr25519Keyring};
use sp_runtime::Perbill;

use crate::{
	configs::TreasuryAccount,
	currency::{EXISTENTIAL_DEPOSIT, UNITS},
	AccountId, BabeConfig, Balance, BalancesConfig, RuntimeGenesisConfig, SessionConfig,
	SessionKeys, StakerStatus, StakingConfig, SudoConfig, BABE_GENESIS_EPOCH_CONFIG,
};

/// What every well-known dev account starts with.
pub const ENDOWMENT: Balance = 1_000_000 * UNITS;
/// What each genesis validator bonds.
pub const VALIDATOR_BOND: Balance = 100_000 * UNITS;
/// What each genesis nominator bonds.
pub const NOMINATOR_BOND: Balance = 50_000 * UNITS;

/// A genesis validator: its stash account and its session keys.
#[derive(Clone)]
pub struct Authority {
	pub stash: AccountId,
	pub keys: SessionKeys,
}

impl Authority {
	/// The dev authority for a well-known name: the sr25519 account is the
	/// stash and the BABE key, the ed25519 key of the same seed is GRANDPA's.
	pub fn dev(sr: Sr25519Keyring, ed: Ed25519Keyring) -> Self {
		Self {
			stash: sr.to_account_id(),
			keys: SessionKeys {
				babe: BabeId::from(sr.public()),
				grandpa: GrandpaId::from(ed.public()),
			},
		}
	}
}

/// Builds a genesis config patch: `authorities` validate, each `nominators`
/// entry nominates the listed validators, `endowed` accounts get
/// [`ENDOWMENT`], `root` is the sudo key.
pub fn cinder_genesis(
	authorities: Vec<Authority>,
	nominators: Vec<(AccountId, Vec<AccountId>)>,
	endowed: Vec<AccountId>,
	root: AccountId,
) -> Value {
	let validator_count = authorities.len() as u32;
	let mut stakers: Vec<(AccountId, AccountId, Balance, StakerStatus<AccountId>)> = authorities
		.iter()
		.map(|a| (a.stash.clone(), a.stash.clone(), VALIDATOR_BOND, StakerStatus::Validator))
		.collect();
	stakers.extend(nominators.into_iter().map(|(who, targets)| {
		(who.clone(), who, NOMINATOR_BOND, StakerStatus::Nominator(targets))
	}));

	// The treasury account exists from genesis, so fees smaller than the
	// existential deposit are kept rather than burned.
	let mut balances: Vec<(AccountId, Balance)> =
		endowed.into_iter().map(|who| (who, ENDOWMENT)).collect();
	balances.push((TreasuryAccount::get(), EXISTENTIAL_DEPOSIT));

	build_struct_json_patch!(RuntimeGenesisConfig {
		balances: BalancesConfig { balances },
		babe: BabeConfig { epoch_config: BABE_GENESIS_EPOCH_CONFIG },
		session: SessionConfig {
			keys: authorities
				.iter()
				.map(|a| (a.stash.clone(), a.stash.clone(), a.keys.clone()))
				.collect::<Vec<_>>(),
		},
		staking: StakingConfig {
			validator_count,
			minimum_validator_count: 1,
			invulnerables: authorities.iter().map(|a| a.stash.clone()).collect::<Vec<_>>(),
			slash_reward_fraction: Perbill::from_percent(10),
			stakers,
		},
		sudo: SudoConfig { key: Some(root) },
	})
}

fn well_known_accounts() -> Vec<AccountId> {
	Sr25519Keyring::well_known().map(|k| k.to_account_id()).collect()
}

/// `development`: Alice validates alone; every well-known account is funded.
pub fn development_config_genesis() -> Value {
	cinder_genesis(
		vec![Authority::dev(Sr25519Keyring::Alice, Ed25519Keyring::Alice)],
		vec![],
		well_known_accounts(),
		Sr25519Keyring::Alice.to_account_id(),
	)
}

/// `local_testnet`: Alice, Bob and Charlie validate; Dave and Eve nominate.
pub fn local_testnet_genesis() -> Value {
	let alice = Sr25519Keyring::Alice.to_account_id();
	let bob = Sr25519Keyring::Bob.to_account_id();
	let charlie = Sr25519Keyring::Charlie.to_account_id();
	cinder_genesis(
		vec![
			Authority::dev(Sr25519Keyring::Alice, Ed25519Keyring::Alice),
			Authority::dev(Sr25519Keyring::Bob, Ed25519Keyring::Bob),
			Authority::dev(Sr25519Keyring::Charlie, Ed25519Keyring::Charlie),
		],
		vec![
			(Sr25519Keyring::Dave.to_account_id(), vec![alice.clone(), bob.clone()]),
			(Sr25519Keyring::Eve.to_account_id(), vec![bob, charlie]),
		],
		well_known_accounts(),
		alice,
	)
}

/// The preset for `id`, as JSON bytes.
pub fn get_preset(id: &PresetId) -> Option<Vec<u8>> {
	let patch = match id.as_ref() {
		DEV_RUNTIME_PRESET => development_config_genesis(),
		LOCAL_TESTNET_RUNTIME_PRESET => local_testnet_genesis(),
		_ => return None,
	};
	serde_json::to_string(&patch).ok().map(|s| s.into_bytes())
}

/// The names of the presets this runtime offers.
pub fn preset_names() -> Vec<PresetId> {
	vec![PresetId::from(DEV_RUNTIME_PRESET), PresetId::from(LOCAL_TESTNET_RUNTIME_PRESET)]
}
