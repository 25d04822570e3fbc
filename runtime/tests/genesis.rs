//! Genesis presets build, and set up the validators and stakers they name.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use cinder_runtime::{
	genesis_config_presets::{preset_names, ENDOWMENT, NOMINATOR_BOND, VALIDATOR_BOND},
	AccountId, Runtime,
};
use frame_support::traits::fungible::{Inspect, InspectHold};
use sp_keyring::{Ed25519Keyring, Sr25519Keyring};

type Balances = pallet_balances::Pallet<Runtime>;

fn acc(k: Sr25519Keyring) -> AccountId {
	k.to_account_id()
}

#[test]
fn every_preset_builds_genesis() {
	let names: Vec<String> =
		preset_names().into_iter().map(|p| String::from_utf8(p.into()).unwrap()).collect();
	assert_eq!(names, vec!["development".to_string(), "local_testnet".to_string()]);
	for name in names {
		let mut ext = common::preset_ext(&name);
		ext.execute_with(|| {
			assert!(!pallet_session::Validators::<Runtime>::get().is_empty(), "{name}");
		});
	}
	assert!(cinder_runtime::genesis_config_presets::get_preset(&"no_such_preset".into()).is_none());
}

#[test]
fn development_has_alice_as_sole_validator() {
	common::preset_ext("development").execute_with(|| {
		let alice = acc(Sr25519Keyring::Alice);
		assert_eq!(pallet_session::Validators::<Runtime>::get(), vec![alice.clone()]);

		let babe: Vec<_> =
			pallet_babe::Authorities::<Runtime>::get().into_iter().map(|(k, _)| k).collect();
		assert_eq!(babe, vec![Sr25519Keyring::Alice.public().into()]);
		let grandpa: Vec<_> =
			pallet_grandpa::Authorities::<Runtime>::get().into_iter().map(|(k, _)| k).collect();
		assert_eq!(grandpa, vec![Ed25519Keyring::Alice.public().into()]);

		let ledger = pallet_staking::Ledger::<Runtime>::get(&alice).expect("Alice is bonded");
		assert_eq!(ledger.stash, alice);
		assert_eq!(ledger.total, VALIDATOR_BOND);
		assert_eq!(ledger.active, VALIDATOR_BOND);
		assert!(pallet_staking::Validators::<Runtime>::contains_key(&alice));
		assert_eq!(pallet_staking::ValidatorCount::<Runtime>::get(), 1);
		assert_eq!(pallet_staking::Nominators::<Runtime>::iter().count(), 0);

		// The bond and the models' registry deposits (MiniLM's and
		// SmolLM2's) are held from Alice's endowment, not taken from it.
		assert_eq!(Balances::total_balance(&alice), ENDOWMENT);
		let staking = pallet_staking::HoldReason::Staking.into();
		assert_eq!(Balances::balance_on_hold(&staking, &alice), VALIDATOR_BOND);
		let deposit = |id| pallet_models::Models::<Runtime>::get(id).expect("a model").deposit;
		assert_eq!(
			Balances::total_balance_on_hold(&alice),
			VALIDATOR_BOND + deposit(0) + deposit(1)
		);

		// Every well-known account is funded.
		for k in Sr25519Keyring::well_known() {
			assert_eq!(Balances::total_balance(&k.to_account_id()), ENDOWMENT, "{k:?}");
		}
		assert_eq!(pallet_sudo::Key::<Runtime>::get(), Some(alice));
	});
}

#[test]
fn local_testnet_has_four_validators_and_nominators() {
	common::preset_ext("local_testnet").execute_with(|| {
		let [alice, bob, charlie, dave, eve, ferdie] = [
			Sr25519Keyring::Alice,
			Sr25519Keyring::Bob,
			Sr25519Keyring::Charlie,
			Sr25519Keyring::Dave,
			Sr25519Keyring::Eve,
			Sr25519Keyring::Ferdie,
		]
		.map(acc);

		let mut validators = pallet_session::Validators::<Runtime>::get();
		validators.sort();
		let mut expected = vec![alice.clone(), bob.clone(), charlie.clone(), dave.clone()];
		expected.sort();
		assert_eq!(validators, expected);
		assert_eq!(pallet_babe::Authorities::<Runtime>::get().len(), 4);
		assert_eq!(pallet_grandpa::Authorities::<Runtime>::get().len(), 4);
		assert_eq!(pallet_staking::ValidatorCount::<Runtime>::get(), 4);

		for v in [&alice, &bob, &charlie, &dave] {
			let ledger = pallet_staking::Ledger::<Runtime>::get(v).expect("validator is bonded");
			assert_eq!(ledger.active, VALIDATOR_BOND);
			assert!(pallet_staking::Validators::<Runtime>::contains_key(v));
		}
		let eve_targets = pallet_staking::Nominators::<Runtime>::get(&eve).unwrap().targets;
		assert_eq!(eve_targets.into_inner(), vec![alice.clone(), bob.clone()]);
		let ferdie_targets = pallet_staking::Nominators::<Runtime>::get(&ferdie).unwrap().targets;
		assert_eq!(ferdie_targets.into_inner(), vec![bob.clone(), charlie.clone(), dave.clone()]);
		for n in [&eve, &ferdie] {
			assert_eq!(pallet_staking::Ledger::<Runtime>::get(n).unwrap().active, NOMINATOR_BOND);
		}

		// The genesis election (era 0) backs every validator with its own bond
		// and spreads the nominators' stake over their targets: every
		// validator has a nominator behind it.
		let mut backed = 0u128;
		for v in [&alice, &bob, &charlie, &dave] {
			let overview = pallet_staking::ErasStakersOverview::<Runtime>::get(0, v)
				.expect("validator is exposed in era 0");
			assert_eq!(overview.own, VALIDATOR_BOND);
			assert!(overview.total > overview.own, "{v} is nominated");
			backed += overview.total;
		}
		assert_eq!(backed, 4 * VALIDATOR_BOND + 2 * NOMINATOR_BOND);
	});
}

#[test]
fn presets_register_minilm_and_every_validators_worker() {
	use cinder_runtime::genesis_config_presets::{minilm, smollm2};
	for (preset, validators) in [("development", 1usize), ("local_testnet", 4)] {
		common::preset_ext(preset).execute_with(|| {
			let model = pallet_models::Models::<Runtime>::get(0).expect("MiniLM is model 0");
			assert_eq!(model.name.to_vec(), minilm::NAME.as_bytes().to_vec());
			assert_eq!(model.price, minilm::PRICE);
			assert_eq!(model.hashes, minilm::HASHES);
			assert_eq!(model.status, pallet_models::ModelStatus::Active);
			let workers = pallet_inference::ModelWorkers::<Runtime>::get(0);
			assert_eq!(workers.len(), validators, "{preset}");
			for who in workers.iter() {
				use pallet_inference::ValidatorStaking;
				let stake = cinder_runtime::configs::StakingAdapter::active_stake(who);
				assert!(stake.is_some(), "{preset}: a genesis worker is an active validator");
			}
			// SmolLM2 is model 1, served by the same workers.
			let chat = pallet_models::Models::<Runtime>::get(1).expect("SmolLM2 is model 1");
			assert_eq!(chat.name.to_vec(), smollm2::NAME.as_bytes().to_vec());
			assert_eq!(chat.spec_version, cinder_kernel::KERNEL_SPEC_V2);
			assert_eq!(chat.token_prices, smollm2::TOKEN_PRICES);
			assert_eq!(chat.arch.kind(), pallet_models::ModelKind::Generation);
			assert_eq!(chat.hashes.weight_root, smollm2::WEIGHT_ROOT);
			assert_eq!(pallet_inference::ModelWorkers::<Runtime>::get(1), workers, "{preset}");
			pallet_models::Pallet::<Runtime>::do_try_state().unwrap();
			pallet_inference::Pallet::<Runtime>::do_try_state().unwrap();
		});
	}
}
