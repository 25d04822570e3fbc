//! Random histories of requests, answers, settlements, frauds proven in
//! disputes, nominations, era changes and payouts in the real runtime:
//!
//! - after every step, balances add up to issuance, the marketplace's and
//!   the dispute game's invariants hold, and issuance moved only by staking
//!   inflation (the curve's remainder minted to the treasury and payouts
//!   minted beyond what the staking pot covered); fees only ever left the
//!   pot to pay stakers (slashes move funds, they mint and burn nothing);
//! - at the end, once every request has finished and every era is paid
//!   out, no hold is left behind, the pot is back to its existential
//!   deposit, and what staking minted is exactly the inflation part of the
//!   era rewards paid.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

mod common;

use cinder_runtime::{
	configs::StakingPot, extrinsic, genesis_config_presets::minilm, AccountId, Balance, Runtime,
	RuntimeCall, RuntimeEvent, RuntimeOrigin,
};
use common::{active_era, keyring, Chain};
use frame_support::traits::fungible::{Inspect, InspectHold};
use pallet_inference::RequestStatus;
use proptest::prelude::*;
use sp_core::{sr25519, H256};
use sp_keyring::Sr25519Keyring;

type Balances = pallet_balances::Pallet<Runtime>;
type Staking = pallet_staking::Pallet<Runtime>;

const HELLO: [u32; 4] = [101, 7592, 2088, 102];
const STEPS: u32 = 627;

#[derive(Clone, Debug)]
enum Op {
	Request(u64),
	AnswerAll,
	Blocks(u32),
	Fraud(usize),
	Nominate(u8),
	NextEra,
	PayAll,
}

fn op() -> impl Strategy<Value = Op> {
	prop_oneof![
		4 => (1u64..4).prop_map(Op::Request),
		4 => Just(Op::AnswerAll),
		3 => (1u32..12).prop_map(Op::Blocks),
		1 => (0usize..8).prop_map(Op::Fraud),
		1 => (1u8..16).prop_map(Op::Nominate),
		2 => Just(Op::NextEra),
		1 => Just(Op::PayAll),
	]
}

fn genesis() -> H256 {
	frame_system::BlockHash::<Runtime>::get(0)
}

fn validators() -> [AccountId; 4] {
	[Sr25519Keyring::Alice, Sr25519Keyring::Bob, Sr25519Keyring::Charlie, Sr25519Keyring::Dave]
		.map(|k| k.to_account_id())
}

/// What the history did to issuance, from the events.
#[derive(Default)]
struct Ledger {
	/// The curve's remainders minted to the treasury at era ends.
	remainders: Balance,
	/// Payouts minted by staking.
	rewarded: Balance,
	/// Worker shares paid into the pot.
	routed: Balance,
	/// Era rewards set (inflation + fees), by era.
	eras: Vec<(u32, Balance)>,
}

impl Ledger {
	fn note(&mut self, events: &[RuntimeEvent]) {
		for e in events {
			match e {
				RuntimeEvent::Staking(pallet_staking::Event::EraPaid {
					era_index,
					validator_payout,
					remainder,
				}) => {
					self.remainders += remainder;
					self.eras.push((*era_index, *validator_payout));
				}
				RuntimeEvent::Staking(pallet_staking::Event::Rewarded { amount, .. }) => {
					self.rewarded += amount;
				}
				RuntimeEvent::Inference(pallet_inference::Event::Settled {
					worker_share,
					era: Some(_),
					..
				}) => self.routed += worker_share,
				_ => {}
			}
		}
	}
}

struct World {
	chain: Chain,
	ledger: Ledger,
	issuance: Balance,
	pot: Balance,
	/// Fees settled per era, from the pallet's records before they end.
	fees: std::collections::BTreeMap<u32, Balance>,
}

impl World {
	/// A block of `xts`; calls the chain refuses (no worker left for a
	/// request, a result past its deadline) are part of the history.
	fn block(&mut self, xts: Vec<cinder_runtime::UncheckedExtrinsic>) {
		let events = self.chain.block_best_effort(xts);
		self.ledger.note(&events);
	}

	fn with<R>(&mut self, f: impl FnOnce() -> R) -> R {
		let (r, events) = self.chain.with(f);
		self.ledger.note(&events);
		r
	}

	fn open_requests(&self, assigned: bool) -> Vec<(u64, AccountId)> {
		pallet_inference::Requests::<Runtime>::iter()
			.filter_map(|(id, r)| match r.status {
				RequestStatus::Assigned { worker, .. } if assigned => Some((id, worker)),
				RequestStatus::Answered { worker, .. } if !assigned => Some((id, worker)),
				_ => None,
			})
			.collect()
	}

	fn apply(&mut self, op: &Op) {
		match op {
			Op::Request(n) => {
				let dapp = Sr25519Keyring::FerdieStash;
				let nonce = frame_system::Pallet::<Runtime>::account_nonce(dapp.to_account_id());
				let xts = (0..*n)
					.map(|i| {
						let call = RuntimeCall::Inference(pallet_inference::Call::request {
							model: 0,
							input: HELLO.to_vec(),
							max_fee: minilm::PRICE + 7,
						});
						extrinsic::sign(&dapp.pair(), nonce + i as u32, genesis(), call)
					})
					.collect();
				self.block(xts);
			}
			Op::AnswerAll => {
				let xts = self
					.open_requests(true)
					.into_iter()
					.map(|(id, worker)| {
						let pair: sr25519::Pair = keyring(&worker).pair();
						extrinsic::submit_result(
							&pair,
							genesis(),
							id,
							vec![0u8; 1536],
							H256::repeat_byte(7),
							STEPS,
						)
					})
					.collect();
				self.block(xts);
			}
			Op::Blocks(n) => {
				for _ in 0..*n {
					self.block(vec![]);
				}
			}
			Op::Fraud(pick) => {
				let answered = self.open_requests(false);
				let Some((id, worker)) = answered.get(pick % answered.len().max(1)).cloned() else {
					return;
				};
				let Some(challenger) = validators().into_iter().find(|v| {
					*v != worker && pallet_inference::Workers::<Runtime>::contains_key(v)
				}) else {
					return;
				};
				// The liar stops authoring (its block would report its own
				// offence, and BABE rejects a disabled author's block); two
				// validators always keep authoring.
				if !self.chain.avoid.contains(&worker) {
					if self.chain.avoid.len() >= 2 {
						return;
					}
					self.chain.avoid.push(worker.clone());
				}
				let leaves = common::made_up_leaves(id, STEPS);
				self.block(vec![common::challenge_xt(id, &challenger, &leaves)]);
				// The window may have closed as the block began: no dispute.
				if let Some(reveal) = common::reveal_xt(id, &challenger, &leaves) {
					self.block(vec![reveal]);
				}
			}
			Op::Nominate(mask) => {
				let targets: Vec<_> = validators()
					.into_iter()
					.enumerate()
					.filter(|(i, _)| mask & (1 << i) != 0)
					.map(|(_, v)| v.into())
					.collect();
				let eve = Sr25519Keyring::Eve.to_account_id();
				self.with(|| Staking::nominate(RuntimeOrigin::signed(eve), targets).unwrap());
			}
			Op::NextEra => {
				let era = active_era();
				let events = self.chain.next_era();
				self.ledger.note(&events);
				// The era's records as its payout read them: work settled in
				// the block that ended it already counts in the next era.
				let fees: Balance = pallet_inference::Pallet::<Runtime>::era_work(era)
					.into_iter()
					.map(|(_, w)| w.income)
					.sum();
				self.fees.insert(era, fees);
			}
			Op::PayAll => self.pay_all(),
		}
	}

	/// Pays out every era that ended in the history for every validator
	/// (already paid ones are refused and change nothing).
	fn pay_all(&mut self) {
		let eras: Vec<u32> = self.ledger.eras.iter().map(|(era, _)| *era).collect();
		let caller = Sr25519Keyring::FerdieStash.to_account_id();
		self.with(|| {
			for era in eras {
				for v in validators() {
					let _ = Staking::payout_stakers(RuntimeOrigin::signed(caller.clone()), v, era);
				}
			}
		});
	}

	fn check(&self) {
		let issuance = Balances::total_issuance();
		let sum: Balance = frame_system::Account::<Runtime>::iter()
			.map(|(_, info)| info.data.free + info.data.reserved)
			.sum();
		assert_eq!(sum, issuance, "balances add up to issuance");
		pallet_inference::Pallet::<Runtime>::do_try_state().unwrap();
		pallet_disputes::Pallet::<Runtime>::do_try_state().unwrap();
		let pot = Balances::balance(&StakingPot::get());
		assert!(pot >= Balances::minimum_balance(), "the pot keeps its deposit");
		let drawn = self.pot + self.ledger.routed - pot;
		assert!(drawn <= self.ledger.routed, "fees leave the pot only to pay stakers");
		assert_eq!(
			issuance,
			self.issuance + self.ledger.remainders + self.ledger.rewarded - drawn,
			"issuance moves by inflation only"
		);
	}
}

proptest! {
	#![proptest_config(ProptestConfig { cases: 24, failure_persistence: None, ..ProptestConfig::default() })]

	#[test]
	fn fees_are_moved_never_minted_and_nothing_is_left_held(ops in prop::collection::vec(op(), 1..40)) {
		common::preset_ext("local_testnet").execute_with(|| {
			let mut chain = Chain::new();
			chain.authors = 4;
			chain.next_era();
			let mut world = World {
				chain,
				ledger: Ledger::default(),
				issuance: Balances::total_issuance(),
				pot: Balances::balance(&StakingPot::get()),
				fees: Default::default(),
			};
			for op in &ops {
				world.apply(op);
				world.check();
			}

			// Drain: every request finishes (unanswered ones time out and are
			// refunded after three workers), every dispute ends.
			for _ in 0..200 {
				if pallet_inference::Requests::<Runtime>::count() == 0
					&& pallet_disputes::Disputes::<Runtime>::iter().next().is_none()
				{
					break;
				}
				world.apply(&Op::AnswerAll);
				world.apply(&Op::Blocks(3));
			}
			assert_eq!(pallet_inference::Requests::<Runtime>::count(), 0);
			world.apply(&Op::NextEra);
			world.apply(&Op::NextEra);
			world.apply(&Op::PayAll);
			world.check();

			// No hold left: escrow and challenge bonds are all released.
			for (who, _) in frame_system::Account::<Runtime>::iter() {
				assert_eq!(Balances::balance_on_hold(&pallet_inference::HoldReason::Escrow.into(), &who), 0);
				assert_eq!(Balances::balance_on_hold(&pallet_disputes::HoldReason::ChallengeBond.into(), &who), 0);
			}
			// Every fee was paid out of the pot: it keeps its deposit and at
			// most what payouts round away (staking splits by Perbill, a
			// billionth of an era's reward per validator, and floors).
			let pot = Balances::balance(&StakingPot::get());
			let ed = Balances::minimum_balance();
			let dust: Balance = world.ledger.eras.iter().map(|(_, reward)| reward / 100_000_000 + 10).sum();
			assert!(pot - ed <= dust, "pot keeps {} beyond its deposit", pot - ed);
			// What staking minted is the inflation of the eras paid: their
			// rewards minus their fees, less rounding dust.
			let drawn = world.pot + world.ledger.routed - pot;
			let minted = world.ledger.rewarded - drawn;
			let inflation: Balance = world
				.ledger
				.eras
				.iter()
				.map(|(era, reward)| reward - world.fees.get(era).copied().unwrap_or(0))
				.sum();
			assert!(inflation.abs_diff(minted) <= dust, "minted {minted} for inflation {inflation}");
		});
	}
}
