//! Tests of the dispute game, played with real traces of the mock's small
//! BERT model: honest ones from the kernel's reference executor, and lying
//! ones that change one step's output. Each test ends with every pallet's
//! try-state (`ExtBuilder::build_and_execute`).

#![allow(clippy::arithmetic_side_effects, clippy::indexing_slicing)]

mod game;
mod generation;
mod refusals;

use crate::{crypto, mock::*, pallet::*, prover::Prover, types::*, StageView};
use cinder_kernel::{
	merkle::{self, Hash},
	verify::run_reference,
	Tile,
};
use frame_support::{
	dispatch::DispatchResult,
	pallet_prelude::TransactionSource,
	traits::{fungible::InspectHold, Authorize, UnfilteredDispatchable},
};
use pallet_inference::{RequestStatus, Requests};
use pallet_models::Task;
use sp_core::{Pair, H256};

/// A run of the model on [`INPUT`]: every step's output and its leaf.
#[derive(Clone)]
pub struct Trace {
	pub outputs: Vec<Tile>,
	pub leaves: Vec<Hash>,
}

impl Trace {
	/// What an honest worker computes.
	pub fn honest() -> Self {
		let Ok(plan) = arch().plan(INPUT.len() as u32, &Task::Embed, 0) else { panic!("plan") };
		let steps = (0..plan.len()).map(|i| plan.step(i).unwrap()).collect();
		let program = cinder_kernel::Program { seq_len: INPUT.len() as u32, steps };
		let w = weights();
		let outputs = run_reference(&program, |i| w.get(i as usize), &INPUT, 64).unwrap();
		let leaves = merkle::trace_leaves(&outputs);
		Self { outputs, leaves }
	}

	/// An honest trace with step `step`'s output changed by `delta`.
	pub fn lying_at(step: usize, delta: f32) -> Self {
		let mut t = Self::honest();
		t.outputs[step].data[0] += delta;
		t.leaves[step] = merkle::tile_leaf(step as u32, &t.outputs[step]);
		t
	}

	pub fn steps(&self) -> u32 {
		self.leaves.len() as u32
	}

	pub fn root(&self) -> H256 {
		H256(merkle::root(&self.leaves))
	}

	/// The result this trace stands for: its last tile's bytes.
	pub fn output(&self) -> Vec<u8> {
		self.outputs.last().unwrap().data.iter().flat_map(|v| v.to_le_bytes()).collect()
	}

	/// What proofs are built from: this trace and the model's weights.
	fn prover<'a>(&'a self, weights: &'a [Tile], weight_leaves: &'a [Hash]) -> Prover<'a> {
		Prover {
			input: &INPUT,
			vocab: 64,
			outputs: &self.outputs,
			leaves: &self.leaves,
			weights,
			weight_leaves,
		}
	}

	/// The nodes a round at (`level`, `index`) reveals.
	pub fn round(&self, level: u32, index: u32) -> Vec<H256> {
		let depth = DisputeGame::round_depth().min(level);
		let (start, end) = merkle::children(self.steps(), level, index, depth).unwrap();
		self.prover(&[], &[]).nodes(level - depth, start, end).unwrap()
	}

	/// The siblings of the last leaf: the worker's output proof.
	pub fn output_proof(&self) -> Vec<H256> {
		self.prover(&[], &[]).output_proof().unwrap()
	}

	/// A one-step proof of `step` from this trace's tiles.
	pub fn step_proof(&self, step: u32) -> Vec<TileProof> {
		let plan = arch().plan(INPUT.len() as u32, &Task::Embed, 0).unwrap();
		let (weights, weight_leaves) = (weights(), weight_leaves());
		let prover = self.prover(&weights, &weight_leaves);
		prover.step_proof(&plan.step(step).unwrap()).unwrap()
	}
}

/// Dispatches `call` as an authorized general transaction: it must pass
/// authorization first.
pub fn authorized<C: Authorize + UnfilteredDispatchable<RuntimeOrigin = RuntimeOrigin>>(
	call: C,
) -> DispatchResult {
	match call.authorize(TransactionSource::External) {
		Some(Ok(_)) => {}
		other => panic!("call not authorized: {other:?}"),
	}
	call.dispatch_bypass_filter(frame_system::RawOrigin::Authorized.into())
		.map(|_| ())
		.map_err(|e| e.error)
}

/// Dispatches `call` without authorization (to reach dispatch's own checks).
pub fn dispatch<C: UnfilteredDispatchable<RuntimeOrigin = RuntimeOrigin>>(
	call: C,
) -> DispatchResult {
	call.dispatch_bypass_filter(frame_system::RawOrigin::Authorized.into())
		.map(|_| ())
		.map_err(|e| e.error)
}

/// Alice requests [`INPUT`] (request 0); returns its assignee.
pub fn request() -> u64 {
	assert!(pallet_inference::Pallet::<Test>::request(
		RuntimeOrigin::signed(ALICE),
		0,
		INPUT.to_vec(),
		PRICE
	)
	.is_ok());
	match Requests::<Test>::get(0).map(|r| r.status) {
		Some(RequestStatus::Assigned { worker, .. }) => worker,
		other => panic!("request 0 not assigned: {other:?}"),
	}
}

/// `worker` posts `output` with `trace`'s root for request `id`.
pub fn post(id: u64, worker: u64, trace: &Trace, output: Vec<u8>) {
	let root = trace.root();
	let steps = trace.steps();
	let genesis = pallet_inference::Pallet::<Test>::genesis_hash();
	let payload = pallet_inference::crypto::result_payload(genesis, id, &output, &root, steps);
	let signature = pair(worker).sign(&payload);
	let call = pallet_inference::Call::<Test>::submit_result {
		request: id,
		output,
		trace_root: root,
		steps,
		signature,
	};
	assert_eq!(authorized(call), Ok(()));
}

/// A request answered by its assignee with `trace`; returns the worker and
/// another worker to challenge it.
pub fn answered(trace: &Trace) -> (u64, u64) {
	let worker = request();
	post(0, worker, trace, trace.output());
	let other = [W1, W2, W3].into_iter().find(|w| *w != worker).unwrap();
	(worker, other)
}

pub fn challenge_call(id: u64, by: u64, root: H256) -> Call<Test> {
	let genesis = pallet_inference::Pallet::<Test>::genesis_hash();
	let signature = pair(by).sign(&crypto::challenge_payload(genesis, id, &by, &root));
	Call::challenge { request: id, challenger: by, root, signature }
}

/// The dispute of request 0.
pub fn dispute() -> DisputeOf<Test> {
	Disputes::<Test>::get(0).unwrap()
}

pub fn reveal_call(party: Party, hashes: Vec<H256>, output_proof: Vec<H256>) -> Call<Test> {
	let d = dispute();
	let Stage::Reveal { level, .. } = d.stage else { panic!("not revealing") };
	let genesis = pallet_inference::Pallet::<Test>::genesis_hash();
	let payload =
		crypto::reveal_payload(genesis, 0, d.opened, party, level, &hashes, &output_proof);
	let signature = pair(*d.account(party)).sign(&payload);
	Call::reveal { request: 0, party, hashes, output_proof, signature }
}

/// `party` reveals the current round of request 0's dispute from `trace`
/// (with the output proof when it is the worker's first reveal).
pub fn reveal(party: Party, trace: &Trace) -> DispatchResult {
	let d = dispute();
	let Stage::Reveal { level, index, .. } = d.stage else { panic!("not revealing") };
	let proof =
		if party == Party::Worker && !d.output_bound { trace.output_proof() } else { Vec::new() };
	authorized(reveal_call(party, trace.round(level, index), proof))
}

pub fn prove_call(party: Party, tiles: Vec<TileProof>) -> Call<Test> {
	let d = dispute();
	let genesis = pallet_inference::Pallet::<Test>::genesis_hash();
	let payload = crypto::proof_payload(genesis, 0, d.opened, party, &tiles);
	let signature = pair(*d.account(party)).sign(&payload);
	Call::prove_step { request: 0, party, tiles, signature }
}

/// The step request 0's dispute must prove.
pub fn step_to_prove() -> u32 {
	match dispute().stage {
		Stage::Prove { step, .. } => step,
		other => panic!("not proving: {other:?}"),
	}
}

/// Both reveal every round until the first differing step is found.
pub fn reveal_all(worker: &Trace, challenger: &Trace) {
	while let Some(Stage::Reveal { .. }) = Disputes::<Test>::get(0).map(|d| d.stage) {
		assert_eq!(reveal(Party::Worker, worker), Ok(()));
		check_invariants();
		assert_eq!(reveal(Party::Challenger, challenger), Ok(()));
		check_invariants();
	}
}

pub fn bond_held(who: u64) -> u64 {
	Balances::balance_on_hold(&HoldReason::ChallengeBond.into(), &who)
}

pub fn free(who: u64) -> u64 {
	<Balances as frame_support::traits::fungible::Inspect<u64>>::balance(&who)
}

pub fn events() -> Vec<Event<Test>> {
	System::events()
		.into_iter()
		.filter_map(|r| match r.event {
			RuntimeEvent::DisputeGame(e) => Some(e),
			_ => None,
		})
		.collect()
}

/// The last `Resolved` event.
pub fn resolved() -> Event<Test> {
	events()
		.into_iter()
		.rev()
		.find(|e| matches!(e, Event::Resolved { .. }))
		.unwrap_or_else(|| panic!("no dispute resolved"))
}
