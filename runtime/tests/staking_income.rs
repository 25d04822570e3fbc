//! Token holders in the real runtime: inference fees reach validators and
//! nominators through `pallet-staking`'s era payout, exactly as FRAME's
//! rules split it, without minting; a proven fraud slashes the validator
//! and its nominators after the deferral (or nobody, once root cancels it);
//! re-nominating and unbonding move future income.
//!
//! On the local testnet genesis (Alice, Bob, Charlie and Dave validate with
//! 100,000 CDR each; Eve nominates Alice and Bob, Ferdie Bob, Charlie and
//! Dave, with 50,000 each), sessions are jumped to (empty slots), so an era passes
//! in six blocks; blocks are authored in turn by the four validators. The
//! requests are paid by Ferdie's stash, an account with no stake.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

mod common;

use std::collections::BTreeMap;

use cinder_runtime::{
	configs::{rewards::POINTS_SCALE, StakingPot, TreasuryAccount},
	extrinsic,
	genesis_config_presets::minilm,
	AccountId, Balance, Runtime, RuntimeCall, RuntimeEvent, RuntimeOrigin,
};
use common::{active_era, keyring, Chain};
use frame_support::traits::fungible::Inspect;
use pallet_inference::RequestStatus;
use pallet_staking::ValidatorPrefs;
use sp_core::{sr25519, H256};
use sp_keyring::Sr25519Keyring;
use sp_runtime::Perbill;

type Balances = pallet_balances::Pallet<Runtime>;
type Staking = pallet_staking::Pallet<Runtime>;

/// "hello world" in MiniLM's vocabulary, with [CLS] and [SEP].
const HELLO: [u32; 4] = [101, 7592, 2088, 102];
/// MiniLM's program length at four tokens.
const STEPS: u32 = 627;

fn genesis() -> H256 {
	frame_system::BlockHash::<Runtime>::get(0)
}

fn alice() -> AccountId {
	Sr25519Keyring::Alice.to_account_id()
}
fn bob() -> AccountId {
	Sr25519Keyring::Bob.to_account_id()
}
fn charlie() -> AccountId {
	Sr25519Keyring::Charlie.to_account_id()
}
fn dave() -> AccountId {
	Sr25519Keyring::Dave.to_account_id()
}
fn eve() -> AccountId {
	Sr25519Keyring::Eve.to_account_id()
}
fn ferdie() -> AccountId {
	Sr25519Keyring::Ferdie.to_account_id()
}
fn validators() -> [AccountId; 4] {
	[alice(), bob(), charlie(), dave()]
}

/// Everything an account has, free and held.
fn total(who: &AccountId) -> Balance {
	Balances::total_balance(who)
}

fn assigned(id: u64) -> AccountId {
	match pallet_inference::Requests::<Runtime>::get(id).map(|r| r.status) {
		Some(RequestStatus::Assigned { worker, .. }) => worker,
		other => panic!("request {id} not assigned: {other:?}"),
	}
}

/// A dapp (Ferdie's stash) asks for `n` embeddings in one block; returns
/// their ids.
fn request(chain: &mut Chain, n: u64) -> Vec<u64> {
	let dapp = Sr25519Keyring::FerdieStash;
	let nonce = frame_system::Pallet::<Runtime>::account_nonce(dapp.to_account_id());
	let first = pallet_inference::NextRequestId::<Runtime>::get();
	let xts = (0..n)
		.map(|i| {
			let call = RuntimeCall::Inference(pallet_inference::Call::request {
				model: 0,
				input: HELLO.to_vec(),
				max_fee: minilm::PRICE,
			});
			extrinsic::sign(&dapp.pair(), nonce + i as u32, genesis(), call)
		})
		.collect();
	chain.block(xts);
	(first..first + n).collect()
}

/// The assignees answer every request in `ids` in one block (results no
/// one audits here: their content does not matter).
fn answer(chain: &mut Chain, ids: &[u64]) {
	let xts = ids
		.iter()
		.map(|id| {
			let pair: sr25519::Pair = keyring(&assigned(*id)).pair();
			extrinsic::submit_result(
				&pair,
				genesis(),
				*id,
				vec![0u8; 1536],
				H256::repeat_byte(7),
				STEPS,
			)
		})
		.collect();
	chain.block(xts);
}

/// `n` requests answered and settled (the challenge window is 10 blocks).
fn serve(chain: &mut Chain, n: u64) {
	let ids = request(chain, n);
	answer(chain, &ids);
	for _ in 0..11 {
		chain.block(vec![]);
	}
	for id in ids {
		assert!(pallet_inference::Requests::<Runtime>::get(id).is_none(), "request {id} settled");
	}
}

fn set_commission(chain: &mut Chain, who: &AccountId, percent: u32) {
	let prefs = ValidatorPrefs { commission: Perbill::from_percent(percent), blocked: false };
	chain.with(|| Staking::validate(RuntimeOrigin::signed(who.clone()), prefs).unwrap());
}

/// Pays out `era` for every validator (Ferdie's stash calls it); returns what each
/// staker received.
fn payout(chain: &mut Chain, era: u32) -> BTreeMap<AccountId, Balance> {
	let caller = Sr25519Keyring::FerdieStash.to_account_id();
	let (_, events) = chain.with(|| {
		for v in validators() {
			Staking::payout_stakers(RuntimeOrigin::signed(caller.clone()), v, era).unwrap();
		}
	});
	let mut paid = BTreeMap::new();
	for e in events {
		if let RuntimeEvent::Staking(pallet_staking::Event::Rewarded { stash, amount, .. }) = e {
			*paid.entry(stash).or_default() += amount;
		}
	}
	paid
}

/// What FRAME's `payout_stakers` pays each staker of `era` from the era's
/// reward: the validator's part by points, commission off the top, the
/// rest by exposure.
fn frame_split(era: u32) -> BTreeMap<AccountId, Balance> {
	let reward = pallet_staking::ErasValidatorReward::<Runtime>::get(era).unwrap();
	let points = pallet_staking::ErasRewardPoints::<Runtime>::get(era);
	let mut out: BTreeMap<AccountId, Balance> = BTreeMap::new();
	for v in validators() {
		let Some(p) = points.individual.get(&v).copied() else { continue };
		let part = Perbill::from_rational(p, points.total) * reward;
		let commission = pallet_staking::ErasValidatorPrefs::<Runtime>::get(era, &v).commission;
		let exposure = pallet_staking::EraInfo::<Runtime>::get_full_exposure(era, &v);
		let cut = commission * part;
		let leftover = part - cut;
		*out.entry(v.clone()).or_default() +=
			Perbill::from_rational(exposure.own, exposure.total) * leftover + cut;
		for n in exposure.others {
			*out.entry(n.who).or_default() +=
				Perbill::from_rational(n.value, exposure.total) * leftover;
		}
	}
	out.retain(|_, amount| *amount > 0);
	out
}

/// What era ends minted to the treasury (the curve's remainder).
fn remainders(events: &[RuntimeEvent]) -> Balance {
	events
		.iter()
		.filter_map(|e| match e {
			RuntimeEvent::Staking(pallet_staking::Event::EraPaid { remainder, .. }) => {
				Some(*remainder)
			}
			_ => None,
		})
		.sum()
}

/// The incomes of `era` by validator.
fn incomes(era: u32) -> BTreeMap<AccountId, Balance> {
	pallet_inference::Pallet::<Runtime>::era_work(era)
		.into_iter()
		.map(|(v, w)| (v, w.income))
		.filter(|(_, i)| *i > 0)
		.collect()
}

#[test]
fn fees_reach_validators_and_nominators_through_the_era_payout_without_minting() {
	common::preset_ext("local_testnet").execute_with(|| {
		let mut chain = Chain::new();
		chain.authors = 4;
		// Different commissions; Phragmén gives different exposures.
		set_commission(&mut chain, &bob(), 10);
		set_commission(&mut chain, &charlie(), 5);
		chain.next_era();
		assert_eq!(active_era(), 1);

		// Era 1: forty requests, assigned by stake.
		for _ in 0..4 {
			serve(&mut chain, 10);
		}
		let income = incomes(1);
		let fees: Balance = income.values().sum();
		let (share, _) = pallet_inference::Pallet::<Runtime>::split_price(minilm::PRICE);
		assert_eq!(fees, 40 * share);
		assert!(income.len() >= 2, "work spread over validators: {income:?}");
		let pot = StakingPot::get();
		let ed = Balances::minimum_balance();
		assert_eq!(Balances::balance(&pot), ed + fees);

		// The era ends: the payout is the curve's inflation plus the fees.
		let events = chain.next_era();
		let paid_event = events.iter().find_map(|e| match e {
			RuntimeEvent::Staking(pallet_staking::Event::EraPaid {
				era_index: 1,
				validator_payout,
				..
			}) => Some(*validator_payout),
			_ => None,
		});
		let reward = paid_event.expect("era 1 paid");
		assert_eq!(pallet_staking::ErasValidatorReward::<Runtime>::get(1), Some(reward));
		let inflation = reward - fees;
		assert!(inflation > 0);
		// Each validator's part is its authoring share of the inflation plus
		// exactly its own income, to the Perbill precision staking splits with.
		let points = pallet_staking::ErasRewardPoints::<Runtime>::get(1);
		assert!(u128::from(points.total) <= POINTS_SCALE);
		let authored = chain.authored(1);
		let authored_total: u32 = authored.values().sum();
		for v in validators() {
			let part = Perbill::from_rational(
				points.individual.get(&v).copied().unwrap_or(0),
				points.total,
			) * reward;
			let a = u128::from(authored.get(&v).copied().unwrap_or(0));
			let want =
				inflation * a / u128::from(authored_total) + income.get(&v).copied().unwrap_or(0);
			let tolerance = reward / 1_000_000_000 * 4 + 4;
			assert!(part.abs_diff(want) <= tolerance, "{v}: part {part}, want {want}");
		}

		// Payouts: each staker gets exactly FRAME's split, and issuance grows
		// by the inflation only: the fees came out of the pot.
		let before: BTreeMap<AccountId, Balance> =
			[alice(), bob(), charlie(), dave(), eve(), ferdie()]
				.map(|a| (a.clone(), total(&a)))
				.into();
		let issuance = Balances::total_issuance();
		let paid = payout(&mut chain, 1);
		assert_eq!(paid, frame_split(1));
		for (who, amount) in &paid {
			assert_eq!(total(who), before[who] + amount, "{who} was paid {amount}");
		}
		let paid_total: Balance = paid.values().sum();
		assert!(
			paid_total.abs_diff(reward) <= reward / 100_000_000 + 10,
			"rounding moves only dust"
		);
		assert_eq!(Balances::balance(&pot), ed);
		assert_eq!(Balances::total_issuance(), issuance + paid_total - fees);
		// Every nominator earned from the fees of the validators it backed.
		assert!(paid[&eve()] > 0 && paid[&ferdie()] > 0);
	});
}

#[test]
fn an_era_without_inference_pays_the_curve_by_blocks_authored() {
	common::preset_ext("local_testnet").execute_with(|| {
		let mut chain = Chain::new();
		chain.authors = 4;
		chain.next_era();
		chain.next_era();
		let authored = chain.authored(1);
		// Points are untouched: 20 per block authored.
		let points = pallet_staking::ErasRewardPoints::<Runtime>::get(1);
		assert_eq!(points.individual.into_iter().collect::<BTreeMap<_, _>>(), authored);
		let issuance = Balances::total_issuance();
		let paid = payout(&mut chain, 1);
		assert_eq!(paid, frame_split(1));
		assert_eq!(Balances::total_issuance(), issuance + paid.values().sum::<Balance>());
	});
}

#[test]
fn renominating_and_unbonding_move_future_income() {
	common::preset_ext("local_testnet").execute_with(|| {
		let mut chain = Chain::new();
		chain.authors = 4;
		// Eve moves to Charlie alone; Ferdie unbonds everything and chills.
		chain.with(|| {
			Staking::nominate(RuntimeOrigin::signed(eve()), vec![charlie().into()]).unwrap();
			Staking::chill(RuntimeOrigin::signed(ferdie())).unwrap();
			Staking::unbond(
				RuntimeOrigin::signed(ferdie()),
				50_000 * cinder_runtime::currency::UNITS,
			)
			.unwrap();
		});
		chain.next_era();
		assert_eq!(active_era(), 1);
		for _ in 0..3 {
			serve(&mut chain, 10);
		}
		chain.next_era();
		let exposure = |v: AccountId| pallet_staking::EraInfo::<Runtime>::get_full_exposure(1, &v);
		// Era 1's exposures: Eve behind Charlie only, Ferdie behind nobody.
		assert!(exposure(alice()).others.is_empty());
		assert!(exposure(bob()).others.is_empty());
		assert_eq!(
			exposure(charlie()).others.iter().map(|n| n.who.clone()).collect::<Vec<_>>(),
			vec![eve()]
		);
		let paid = payout(&mut chain, 1);
		assert_eq!(paid, frame_split(1));
		assert!(!paid.contains_key(&ferdie()), "an unbonded nominator earns nothing");
		let charlie_part = paid[&charlie()] + paid[&eve()];
		// Eve's whole reward comes from Charlie's part, in proportion.
		let e = exposure(charlie());
		let reward = pallet_staking::ErasValidatorReward::<Runtime>::get(1).unwrap();
		let points = pallet_staking::ErasRewardPoints::<Runtime>::get(1);
		let part = Perbill::from_rational(points.individual[&charlie()], points.total) * reward;
		// (Each Perbill share floors to a billionth of the part.)
		assert!(part.abs_diff(charlie_part) <= part / 500_000_000 + 2);
		assert_eq!(paid[&eve()], Perbill::from_rational(e.others[0].value, e.total) * part);
		// The RPC's view of what Eve may expect from era 1's income.
		let view = cinder_runtime::income::nominator(eve());
		let last: Vec<_> = view.backings.iter().filter(|b| b.era == 1).collect();
		assert_eq!(last.len(), 1);
		assert_eq!(last[0].validator, charlie());
		assert_eq!(
			last[0].share,
			Perbill::from_rational(e.others[0].value, e.total)
				* incomes(1).get(&charlie()).copied().unwrap_or(0)
		);
	});
}

/// Opens a dispute over request `id` by `challenger` with a made-up trace,
/// reveals it, and lets the worker stay silent: the worker loses.
fn prove_fraud(chain: &mut Chain, id: u64, challenger: &AccountId) -> Vec<RuntimeEvent> {
	let leaves = common::made_up_leaves(id, STEPS);
	chain.block(vec![common::challenge_xt(id, challenger, &leaves)]);
	chain.block(vec![common::reveal_xt(id, challenger, &leaves).expect("a dispute is open")]);
	let mut events = Vec::new();
	for _ in 0..11 {
		events.extend(chain.block(vec![]));
	}
	events
}

/// A request answered by `liar` (others answer theirs), challenged by
/// another validator, lost by the liar's silence. Returns the liar's slash
/// era and the challenger.
fn fraud_by(chain: &mut Chain, liar: &AccountId) -> (u32, AccountId) {
	loop {
		let ids = request(chain, 1);
		if assigned(ids[0]) == *liar {
			answer(chain, &ids);
			let challenger = validators().into_iter().find(|v| v != liar).unwrap();
			chain.avoid = vec![liar.clone()];
			let events = prove_fraud(chain, ids[0], &challenger);
			assert!(events.iter().any(|e| matches!(
				e,
				RuntimeEvent::Inference(pallet_inference::Event::WorkerExpelled { worker }) if worker == liar
			)));
			return (active_era(), challenger);
		}
		answer(chain, &ids);
	}
}

#[test]
fn a_proven_fraud_slashes_the_validator_and_its_nominators_after_the_deferral() {
	common::preset_ext("local_testnet").execute_with(|| {
		let mut chain = Chain::new();
		chain.authors = 4;
		chain.next_era();
		let liar = bob();
		let (era, challenger) = fraud_by(&mut chain, &liar);
		assert_eq!(pallet_inference::ErasWork::<Runtime>::get(era, &liar).disputes_lost, 1);
		assert_eq!(pallet_inference::ErasWork::<Runtime>::get(era, &challenger).disputes_won, 1);

		// FRAME's rules: 10% of the liar's own exposure and of each
		// nominator's exposure to it, applied 7 eras after the slash era
		// (era + 8), part of it to the reporter, the rest to the treasury.
		let exposure = pallet_staking::EraInfo::<Runtime>::get_full_exposure(era, &liar);
		assert!(exposure.others.len() == 2, "Eve and Ferdie back Bob");
		let tenth = Perbill::from_percent(10);
		let apply_at = era + 8;
		let slashes = pallet_staking::UnappliedSlashes::<Runtime>::get(apply_at);
		assert_eq!(slashes.len(), 1);
		let reporter_reward = slashes[0].payout;
		let mut expected: BTreeMap<AccountId, Balance> =
			exposure.others.iter().map(|n| (n.who.clone(), tenth * n.value)).collect();
		expected.insert(liar.clone(), tenth * exposure.own);
		let watched = [alice(), bob(), charlie(), dave(), eve(), ferdie()];
		let bonded = |who: &AccountId| pallet_staking::Ledger::<Runtime>::get(who).unwrap().active;
		let before: BTreeMap<AccountId, (Balance, Balance)> =
			watched.iter().map(|a| (a.clone(), (total(a), bonded(a)))).collect();
		let treasury = total(&TreasuryAccount::get());
		let issuance = Balances::total_issuance();

		// Nothing happens before the deferral ends. (Each era end mints the
		// curve's remainder to the treasury; rewards are not claimed here.)
		let mut minted = 0;
		while active_era() < apply_at - 1 {
			minted += remainders(&chain.next_era());
		}
		for who in &watched {
			assert_eq!(bonded(who), before[who].1, "{who} untouched before era {apply_at}");
		}
		minted += remainders(&chain.next_era());
		assert_eq!(active_era(), apply_at);
		for who in &watched {
			let lost = expected.get(who).copied().unwrap_or(0);
			assert_eq!(bonded(who), before[who].1 - lost, "{who} bonded");
			let gained = if *who == challenger { reporter_reward } else { 0 };
			assert_eq!(total(who), before[who].0 - lost + gained, "{who} total");
		}
		let slashed: Balance = expected.values().sum();
		assert_eq!(total(&TreasuryAccount::get()), treasury + slashed - reporter_reward + minted);
		// Slashes move funds to the treasury and the reporter: issuance only
		// grew by the minted remainders.
		assert_eq!(Balances::total_issuance(), issuance + minted);

		// The slashed worker is out until it registers again (after its ban).
		assert!(pallet_inference::Workers::<Runtime>::get(&liar).is_none());
		let register = || {
			pallet_inference::Pallet::<Runtime>::register_worker(
				RuntimeOrigin::signed(liar.clone()),
				pallet_inference::WorkerKey::from(keyring(&liar).public()),
				vec![0],
			)
		};
		let (banned, _) = chain.with(register);
		assert_eq!(banned, Err(pallet_inference::Error::<Runtime>::Banned.into()));
		chain.skip(cinder_runtime::time::DAYS);
		let (again, _) = chain.with(register);
		assert_eq!(again, Ok(()));
		assert!(pallet_inference::ModelWorkers::<Runtime>::get(0).contains(&liar));
	});
}

#[test]
fn root_cancels_a_deferred_slash_and_nobody_is_slashed() {
	common::preset_ext("local_testnet").execute_with(|| {
		let mut chain = Chain::new();
		chain.authors = 4;
		chain.next_era();
		let liar = charlie();
		let (era, _) = fraud_by(&mut chain, &liar);
		let apply_at = era + 8;
		assert_eq!(pallet_staking::UnappliedSlashes::<Runtime>::get(apply_at).len(), 1);
		chain.with(|| {
			Staking::cancel_deferred_slash(RuntimeOrigin::root(), apply_at, vec![0]).unwrap()
		});
		assert!(pallet_staking::UnappliedSlashes::<Runtime>::get(apply_at).is_empty());
		let watched = [alice(), bob(), charlie(), dave(), eve(), ferdie()];
		let before: Vec<Balance> = watched.iter().map(total).collect();
		while active_era() < apply_at + 1 {
			chain.next_era();
		}
		let after: Vec<Balance> = watched.iter().map(total).collect();
		assert_eq!(after, before);
	});
}

#[test]
fn the_readme_worked_example_holds() {
	use cinder_runtime::{configs::rewards::combined_points, currency::UNITS};
	let inflation = 100 * UNITS;
	let share = 9 * UNITS / 1000;
	// Three validators (the README's example), 400 points each.
	let authored: BTreeMap<AccountId, u32> =
		[alice(), bob(), charlie()].into_iter().map(|v| (v, 400)).collect();
	let income = vec![(alice(), 300 * share), (bob(), 500 * share), (charlie(), 200 * share)];
	let (points, total) = combined_points(&authored, inflation, &income);
	assert_eq!(points[&alice()], 330_581_039);
	assert_eq!(points[&bob()], 347_094_801);
	assert_eq!(points[&charlie()], 322_324_159);
	assert_eq!(total, 999_999_999);
	let reward = inflation + 9 * UNITS;
	let part = |v: &AccountId| Perbill::from_rational(points[v], total) * reward;
	assert_eq!(part(&alice()), 36_033_333_251_000);
	assert_eq!(part(&bob()), 37_833_333_309_000);
	assert_eq!(part(&charlie()), 35_133_333_331_000);
	// Bob: 10% commission, 100,000 own, 25,000 each from Eve and Ferdie.
	let bob_part = part(&bob());
	let cut = Perbill::from_percent(10) * bob_part;
	let leftover = bob_part - cut;
	let of = |stake: u128| Perbill::from_rational(stake * UNITS, 150_000 * UNITS) * leftover;
	assert_eq!(cut, 3_783_333_330_900);
	assert_eq!(of(100_000) + cut, 26_483_333_293_600);
	assert_eq!(of(25_000), 5_674_999_973_650);
	let from_income = cinder_runtime::income::nominator_share(
		500 * share,
		Perbill::from_percent(10),
		25_000 * UNITS,
		150_000 * UNITS,
	);
	assert_eq!(from_income, 674_999_997_300);
}
