//! A lying worker loses a dispute in the real runtime, and the fraud
//! becomes a staking slash.
//!
//! On the local testnet genesis (Alice, Bob, Charlie and Dave validate; Eve
//! nominates Alice and Bob, Ferdie Bob, Charlie and Dave), Ferdie asks all-MiniLM-L6-v2
//! for an embedding. The assigned worker posts a trace that is honest except
//! at one step (the heaviest kind: a column block of the output projection,
//! 1,536 inputs); another validator's worker challenges with the honest
//! trace computed by the engine, both reveal their 627 leaves in one round,
//! and the challenger proves the step with the real input tiles and weight
//! tiles. The runtime recomputes it, the liar loses: its challenger gets its
//! bond back, the offence is reported with the challenger as reporter and
//! staking schedules a 10% slash of the liar and its nominators, the liar
//! is expelled, and the request settles with an honest worker's embedding.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

mod common;

use cinder_engine::{installed_minilm, Model};
use cinder_kernel::{merkle, Tile};
use cinder_runtime::{
	configs::TreasuryAccount, extrinsic, genesis_config_presets::minilm, AccountId, Runtime,
	RuntimeCall, RuntimeEvent, UncheckedExtrinsic,
};
use frame_support::traits::fungible::{Inspect, InspectHold};
use pallet_disputes::{crypto, prover::Prover, Ending, Party, Stage};
use pallet_inference::{RequestStatus, WorkerSignature};
use sp_core::{sr25519, Pair, H256};
use sp_keyring::Sr25519Keyring;
use sp_runtime::Perbill;

type Balances = pallet_balances::Pallet<Runtime>;

/// "hello world" in MiniLM's vocabulary, with [CLS] and [SEP].
const HELLO: [u32; 4] = [101, 7592, 2088, 102];
/// Layer 2's output projection, column block 12: 16 columns over 1,536
/// inputs, the widest steps of the program.
const LIE_AT: usize = 300;

fn keyring(who: &AccountId) -> Sr25519Keyring {
	Sr25519Keyring::iter().find(|k| k.to_account_id() == *who).expect("a dev account")
}

fn genesis() -> H256 {
	frame_system::BlockHash::<Runtime>::get(0)
}

fn sign(who: &AccountId, payload: &[u8]) -> WorkerSignature {
	let pair: sr25519::Pair = keyring(who).pair();
	WorkerSignature::from(pair.sign(payload))
}

fn disputes(call: pallet_disputes::Call<Runtime>) -> UncheckedExtrinsic {
	extrinsic::general(RuntimeCall::Disputes(call))
}

/// A trace: every step's output and leaf.
struct Trace {
	outputs: Vec<Tile>,
	leaves: Vec<merkle::Hash>,
}

impl Trace {
	fn root(&self) -> H256 {
		H256(merkle::root(&self.leaves))
	}

	fn output(&self) -> Vec<u8> {
		self.outputs.last().unwrap().data.iter().flat_map(|v| v.to_le_bytes()).collect()
	}

	fn leaves(&self) -> Vec<H256> {
		self.leaves.iter().copied().map(H256).collect()
	}

	fn output_proof(&self) -> Vec<H256> {
		let last = self.leaves.len() as u32 - 1;
		merkle::proof(&self.leaves, last).unwrap().into_iter().map(H256).collect()
	}
}

fn reveal(who: &AccountId, party: Party, trace: &Trace, first: bool) -> UncheckedExtrinsic {
	let dispute = pallet_disputes::Disputes::<Runtime>::get(0).unwrap();
	let Stage::Reveal { level, .. } = dispute.stage else { panic!("revealing") };
	let hashes = trace.leaves();
	let output_proof = if first { trace.output_proof() } else { vec![] };
	let payload =
		crypto::reveal_payload(genesis(), 0, dispute.opened, party, level, &hashes, &output_proof);
	let signature = sign(who, &payload);
	disputes(pallet_disputes::Call::reveal { request: 0, party, hashes, output_proof, signature })
}

#[test]
fn a_lying_worker_is_proven_wrong_slashed_and_replaced() {
	let Some(dir) = installed_minilm() else { return };
	let model = Model::load(dir).unwrap();
	common::preset_ext("local_testnet").execute_with(|| {
		let ferdie = Sr25519Keyring::Ferdie.to_account_id();
		let treasury = TreasuryAccount::get();
		let mut chain = common::Chain::new();

		// Block 1: Ferdie asks.
		let request = extrinsic::sign(
			&Sr25519Keyring::Ferdie.pair(),
			0,
			genesis(),
			RuntimeCall::Inference(pallet_inference::Call::request {
				model: 0,
				input: HELLO.to_vec(),
				max_fee: minilm::PRICE,
			}),
		);
		chain.block(vec![request]);
		let assigned = |id| match pallet_inference::Requests::<Runtime>::get(id).map(|r| r.status) {
			Some(RequestStatus::Assigned { worker, .. }) => worker,
			other => panic!("not assigned: {other:?}"),
		};
		let liar = assigned(0);
		let challenger = [
			Sr25519Keyring::Alice,
			Sr25519Keyring::Bob,
			Sr25519Keyring::Charlie,
			Sr25519Keyring::Dave,
		]
		.map(|k| k.to_account_id())
			.into_iter()
			.find(|v| *v != liar)
			.unwrap();

		// The honest trace, and the liar's: one step's output changed.
		let honest = model.embed(&HELLO, 2).unwrap();
		let honest = Trace { outputs: honest.trace.outputs, leaves: honest.trace.leaves };
		assert_eq!(honest.leaves.len(), 627);
		let mut lie = Trace { outputs: honest.outputs.clone(), leaves: honest.leaves.clone() };
		lie.outputs[LIE_AT].data[0] += 0.5;
		lie.leaves[LIE_AT] = merkle::tile_leaf(LIE_AT as u32, &lie.outputs[LIE_AT]);

		// Block 2: the liar posts (its output is the honest one: it lied
		// earlier in the trace).
		let liar_pair: sr25519::Pair = keyring(&liar).pair();
		let result =
			extrinsic::submit_result(&liar_pair, genesis(), 0, lie.output(), lie.root(), 627);
		chain.block(vec![result]);

		// Block 3: the challenge, with the honest root.
		let (challenger_free, liar_free) = (Balances::balance(&challenger), Balances::balance(&liar));
		let root = honest.root();
		let payload = crypto::challenge_payload(genesis(), 0, &challenger, &root);
		let challenge = disputes(pallet_disputes::Call::challenge {
			request: 0,
			challenger: challenger.clone(),
			root,
			signature: sign(&challenger, &payload),
		});
		chain.block(vec![challenge]);
		let bond = cinder_runtime::configs::ChallengeBond::get();
		assert_eq!(Balances::balance(&challenger), challenger_free - bond);
		// What the runtime API shows the parties: reveal all 627 leaves (the
		// root is at level 10) by block 13.
		let view = cinder_runtime::Disputes::dispute_view(0).unwrap();
		assert_eq!((view.worker.clone(), view.challenger.clone(), view.steps), (liar.clone(), challenger.clone(), 627));
		assert_eq!(view.input, HELLO.to_vec());
		assert_eq!(
			view.stage,
			pallet_disputes::StageView::Reveal {
				node_level: 10,
				node_index: 0,
				level: 0,
				start: 0,
				end: 627,
				revealed: None,
				output_bound: false,
				deadline: 13,
			}
		);
		assert_eq!(cinder_runtime::Disputes::disputes_of(&liar), vec![view]);

		// Block 4: both reveal every leaf in one round; the first differing
		// step is found.
		let reveals = vec![
			reveal(&liar, Party::Worker, &lie, true),
			reveal(&challenger, Party::Challenger, &honest, false),
		];
		let events = chain.block(reveals);
		assert!(events.iter().any(|e| matches!(
			e,
			RuntimeEvent::Disputes(pallet_disputes::Event::StepFound { step, .. }) if *step == LIE_AT as u32
		)));

		// Block 5: the challenger proves the step with the real tiles.
		let plan = minilm_arch().plan(HELLO.len() as u32, &pallet_models::Task::Embed, 0).unwrap();
		let prover = Prover {
			input: &HELLO,
			vocab: model.shape.vocab,
			outputs: &honest.outputs,
			leaves: &honest.leaves,
			weights: &model.weights,
			weight_leaves: &model.weight_leaves,
		};
		let tiles = prover.step_proof(&plan.step(LIE_AT as u32).unwrap()).unwrap();
		assert_eq!(tiles.len(), 24 + 2);
		let dispute = pallet_disputes::Disputes::<Runtime>::get(0).unwrap();
		let payload = crypto::proof_payload(genesis(), 0, dispute.opened, Party::Challenger, &tiles);
		let prove = disputes(pallet_disputes::Call::prove_step {
			request: 0,
			party: Party::Challenger,
			tiles,
			signature: sign(&challenger, &payload),
		});
		let events = chain.block(vec![prove]);

		// The runtime's leaf is the honest one: the liar lost.
		assert!(events.contains(&RuntimeEvent::Disputes(pallet_disputes::Event::Resolved {
			request: 0,
			ending: Ending::Proved,
			worker_lied: true,
			challenger_lied: false,
			bond_to_worker: 0,
			bond_to_treasury: 0,
		})));
		assert!(events.iter().any(|e| matches!(
			e,
			RuntimeEvent::Disputes(pallet_disputes::Event::StepProved { leaf, .. }) if leaf.0 == honest.leaves[LIE_AT]
		)));
		assert_eq!(Balances::balance(&challenger), challenger_free);
		assert_eq!(
			Balances::balance_on_hold(&pallet_disputes::HoldReason::ChallengeBond.into(), &challenger),
			0
		);

		// The offence is reported and staking schedules the slash: 10% of the
		// liar's own stake and of each nominator's exposure to it, deferred
		// 7 eras, with the challenger as reporter.
		assert!(events.iter().any(|e| matches!(
			e,
			RuntimeEvent::Staking(pallet_staking::Event::SlashReported { validator, fraction, slash_era: 0 })
				if *validator == liar && *fraction == Perbill::from_percent(10)
		)));
		let exposure = pallet_staking::EraInfo::<Runtime>::get_full_exposure(0, &liar);
		let fraction = Perbill::from_percent(10);
		let slashes = pallet_staking::UnappliedSlashes::<Runtime>::get(8);
		assert_eq!(slashes.len(), 1);
		let slash = &slashes[0];
		assert_eq!(slash.validator, liar);
		assert_eq!(slash.own, fraction * exposure.own);
		let mut expected: Vec<(AccountId, u128)> =
			exposure.others.iter().map(|n| (n.who.clone(), fraction * n.value)).collect();
		let mut others = slash.others.clone();
		expected.sort();
		others.sort();
		assert_eq!(others, expected);
		assert!(!expected.is_empty(), "the liar has nominators");
		assert_eq!(slash.reporters, vec![challenger.clone()]);
		let reward = |x: u128| Perbill::from_percent(50) * (Perbill::from_percent(10) * x);
		assert_eq!(slash.payout, reward(slash.own) + expected.iter().map(|(_, v)| reward(*v)).sum::<u128>());

		// The liar is out and unpaid; the request went to another validator
		// with Ferdie's escrow still held.
		assert!(pallet_inference::Workers::<Runtime>::get(&liar).is_none());
		let next = assigned(0);
		assert_ne!(next, liar);
		assert_eq!(
			Balances::balance_on_hold(&pallet_inference::HoldReason::Escrow.into(), &ferdie),
			minilm::PRICE
		);

		// The honest worker answers and is paid after the window (into the
		// staking pot, as its income for the era's payout).
		let next_pair: sr25519::Pair = keyring(&next).pair();
		let pot = cinder_runtime::configs::StakingPot::get();
		let (pot_free, treasury_free) = (Balances::balance(&pot), Balances::balance(&treasury));
		let result =
			extrinsic::submit_result(&next_pair, genesis(), 0, honest.output(), honest.root(), 627);
		chain.block(vec![result]);
		for _ in 0..10 {
			chain.block(vec![]);
		}
		let (share, cut) = pallet_inference::Pallet::<Runtime>::split_price(minilm::PRICE);
		assert_eq!(Balances::balance(&pot), pot_free + share);
		assert_eq!(pallet_inference::ErasWork::<Runtime>::get(0, &next).income, share);
		assert_eq!(Balances::balance(&treasury), treasury_free + cut);
		assert_eq!(Balances::balance(&liar), liar_free);
		assert_eq!(
			pallet_inference::Outputs::<Runtime>::get(0).unwrap().to_vec(),
			honest.output()
		);
	});
}

fn minilm_arch() -> pallet_models::Architecture {
	use pallet_models::ModelProvider;
	pallet_models::Pallet::<Runtime>::terms(0).unwrap().arch
}
