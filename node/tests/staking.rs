//! End to end, a token holder's view on a live network: Alice, Bob, Charlie
//! and Dave validate the `local-fast` chain (the local testnet with
//! one-minute sessions and an era every session) as four processes with
//! workers. Eve nominates Alice and Bob from genesis. A dapp's requests are
//! served in an era; when it ends, `cinder-node stake payout` pays Alice's
//! and Bob's stakers, Eve receives exactly what staking's split of the
//! era's reward gives her, and `inference_validators`, `inference_nominator`
//! and `cinder-node stake income` show the income and Eve's share of it.
//! Eve then re-nominates Charlie alone with `stake nominate`; refused
//! calls are reported in words.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::{process::Command, time::Duration};

use cinder_runtime::{genesis_config_presets::minilm, AccountId, Balance, Runtime, RuntimeCall};
use common::{test_dir, Node};
use pallet_inference_rpc::{NominatorInfo, ValidatorInfo};
use serde_json::{json, Value};
use sp_keyring::Sr25519Keyring::{Alice, Bob, Charlie, Dave, Eve};
use sp_runtime::Perbill;

const MINUTE: Duration = Duration::from_secs(60);

/// Runs `cinder-node stake …` against `node`; returns (success, output).
fn stake(node: &Node, args: &[&str]) -> (bool, String) {
	let url = format!("http://127.0.0.1:{}", node.rpc_port);
	let out = Command::new(env!("CARGO_BIN_EXE_cinder-node"))
		.arg("stake")
		.args(args)
		.args(["--url", &url])
		.output()
		.expect("cinder-node runs");
	let text =
		format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
	(out.status.success(), text)
}

/// The active era at the best block.
fn active_era(node: &Node) -> u32 {
	common::network::active_era(node, None)
}

fn nominator(node: &Node, who: &AccountId) -> NominatorInfo<AccountId> {
	serde_json::from_value(node.rpc("inference_nominator", json!([who.to_string()]))).unwrap()
}

/// What staking pays `who` for `era`, by FRAME's split, read from the
/// chain: each validator's part by points, commission first, then by
/// exposure.
fn expected_reward(node: &Node, era: u32, who: &AccountId, from: &[AccountId]) -> Balance {
	let reward: Balance = node
		.storage(&pallet_staking::ErasValidatorReward::<Runtime>::hashed_key_for(era), None)
		.unwrap();
	let points: pallet_staking::EraRewardPoints<AccountId> = node
		.storage(&pallet_staking::ErasRewardPoints::<Runtime>::hashed_key_for(era), None)
		.unwrap();
	let mut total = 0;
	for v in from {
		let Some(p) = points.individual.get(v) else { continue };
		let part = Perbill::from_rational(*p, points.total) * reward;
		let prefs: pallet_staking::ValidatorPrefs = node
			.storage(&pallet_staking::ErasValidatorPrefs::<Runtime>::hashed_key_for(era, v), None)
			.unwrap();
		let overview: sp_staking::PagedExposureMetadata<Balance> = node
			.storage(&pallet_staking::ErasStakersOverview::<Runtime>::hashed_key_for(era, v), None)
			.unwrap();
		let page: sp_staking::ExposurePage<AccountId, Balance> = node
			.storage(
				&pallet_staking::ErasStakersPaged::<Runtime>::hashed_key_for((era, v, 0u32)),
				None,
			)
			.unwrap();
		let leftover = part - prefs.commission * part;
		if let Some(n) = page.others.iter().find(|n| n.who == *who) {
			total += Perbill::from_rational(n.value, overview.total) * leftover;
		}
	}
	total
}

#[test]
fn a_nominator_is_paid_its_share_of_inference_income() {
	let Some(minilm_dir) = cinder_engine::installed_minilm() else { return };
	let dir = test_dir("staking");
	let nodes = common::network::start_network(dir.path(), "local-fast", |_| Vec::new());
	let alice = &nodes[0];
	// Sessions are a minute: era 1 starts after one.
	alice.wait_until("era 1", 3 * MINUTE, |n| active_era(n) >= 1);
	let era = active_era(alice);

	// The dapp's requests, served and settled within the era.
	let engine = cinder_engine::Model::load(&minilm_dir).unwrap();
	let input = engine.tokenize("Nominators share the fees of the validators they back.").unwrap();
	let first = alice.rpc("inference_nextRequestId", json!([])).as_u64().unwrap();
	for _ in 0..6 {
		let call = RuntimeCall::Inference(pallet_inference::Call::request {
			model: 0,
			input: input.clone(),
			max_fee: minilm::PRICE,
		});
		alice.submit(common::network::DAPP, call);
	}
	alice.wait_until("six requests settled", 2 * MINUTE, |n| {
		(first..first + 6).all(|id| {
			let view = n.try_rpc("inference_request", json!([id])).unwrap_or(Value::Null);
			view["state"]["state"] == "settled"
		})
	});
	// The requests settled in `era` or (if the era turned meanwhile) the
	// next; wait for both to end.
	let settled_era = active_era(alice);
	alice.wait_until("the era of the requests ended", 3 * MINUTE, |n| active_era(n) > settled_era);

	// The RPC shows each validator's income in its last era; the eras
	// between `era` and `settled_era` hold the six requests' fees.
	let (share, _) = pallet_inference::Pallet::<Runtime>::split_price(minilm::PRICE);
	let work = |e: u32, who: &AccountId, at| -> pallet_inference::EraWork<Balance> {
		alice
			.storage(&pallet_inference::ErasWork::<Runtime>::hashed_key_for(e, who), at)
			.unwrap_or_default()
	};
	let fees: Balance = (era..=settled_era)
		.flat_map(|e| [Alice, Bob, Charlie, Dave].map(|v| work(e, &v.to_account_id(), None).income))
		.sum();
	assert_eq!(fees, 6 * share, "every request's worker share is income of its era");
	// The RPC's figures are the chain's records, this era's and the last.
	let at = alice.block_hash(alice.best_number()).unwrap();
	let list: Vec<ValidatorInfo<AccountId>> =
		serde_json::from_value(alice.rpc("inference_validators", json!([format!("{at:?}")])))
			.unwrap();
	assert_eq!(list.len(), 4);
	let active: pallet_staking::ActiveEraInfo =
		alice.storage(&pallet_staking::ActiveEra::<Runtime>::hashed_key(), Some(at)).unwrap();
	for v in &list {
		assert_eq!(v.current.era, active.index);
		assert_eq!(v.current.income.0, work(active.index, &v.stash, Some(at)).income);
		let previous = v.previous.as_ref().unwrap();
		assert_eq!(previous.income.0, work(active.index - 1, &v.stash, Some(at)).income);
		assert_eq!(v.own.0, cinder_runtime::genesis_config_presets::VALIDATOR_BOND);
		assert!(v.worker);
	}

	// Eve backs Alice and Bob: the RPC gives her share of their income.
	let eve = Eve.to_account_id();
	let view = nominator(alice, &eve);
	assert_eq!(view.targets.len(), 2);
	let backed: Vec<AccountId> = view.backings.iter().map(|b| b.validator.clone()).collect();
	assert!(backed.contains(&Alice.to_account_id()) && backed.contains(&Bob.to_account_id()));

	// Payouts through the CLI: Eve receives exactly FRAME's split of each
	// era's reward from Alice and Bob.
	let backed_validators = [Alice.to_account_id(), Bob.to_account_id()];
	for e in era..=settled_era {
		let expected = expected_reward(alice, e, &eve, &backed_validators);
		// Balances are read at the finalized head: a payout included in a
		// block that a fork then replaced is included again, later.
		let finalized_balance = || {
			let head = alice.block_hash(alice.finalized_number()).unwrap();
			alice.total_balance(Eve, head)
		};
		let before = finalized_balance();
		for v in ["//Alice", "//Bob"] {
			let (ok, out) =
				stake(alice, &["payout", v, "--era", &e.to_string(), "--suri", "//Ferdie"]);
			assert!(ok, "payout of era {e} for {v}: {out}");
			assert!(out.contains(&format!("paid out era {e}")), "{out}");
		}
		let deadline = std::time::Instant::now() + MINUTE;
		while finalized_balance() - before != expected && std::time::Instant::now() < deadline {
			std::thread::sleep(Duration::from_secs(1));
		}
		assert_eq!(finalized_balance() - before, expected, "Eve's reward for era {e}");
		assert!(expected > 0);
		// What the RPC said Eve could expect from the income is within it.
		let from_income: Balance =
			nominator(alice, &eve).backings.iter().filter(|b| b.era == e).map(|b| b.share.0).sum();
		assert!(from_income <= expected, "era {e}: income share {from_income} of {expected}");
	}
	// Paying twice is refused, in words.
	let (ok, out) =
		stake(alice, &["payout", "//Alice", "--era", &era.to_string(), "--suri", "//Ferdie"]);
	assert!(!ok);
	assert!(out.contains("already paid"), "{out}");

	// `stake income` prints Eve's backings and shares.
	let (ok, out) = stake(alice, &["income", "//Eve"]);
	assert!(ok, "{out}");
	assert!(out.contains("nominator") && out.contains("your share"), "{out}");
	let (ok, out) = stake(alice, &["income", "//Alice"]);
	assert!(ok && out.contains("validator") && out.contains("income"), "{out}");

	// Eve moves to Charlie alone (from the next election on; the runtime
	// tests follow such a move through the eras).
	let (ok, out) = stake(alice, &["nominate", "//Charlie", "--suri", "//Eve"]);
	assert!(ok, "{out}");
	assert!(out.contains("from the next era"), "{out}");
	assert_eq!(nominator(alice, &eve).targets, vec![Charlie.to_account_id()]);
	// Nominating someone who is not a validator is refused before sending.
	let (ok, out) = stake(alice, &["nominate", "//Ferdie", "--suri", "//Eve"]);
	assert!(!ok && out.contains("is not a validator"), "{out}");
}
