//! Benchmarks of the dispute calls and of each kind of per-block work
//! (FRAME benchmarking v2). Worst cases: a reveal of `n` leaves that
//! completes a round (the other party's leaves wait in storage, the two
//! differ at the last leaf, the worker's output proof is checked); a
//! one-step proof of the heaviest steps of all-MiniLM-L6-v2's program at the
//! longest input the chain accepts, each kind of step measured on its own,
//! and of SmolLM2's heaviest generation step (the call is charged the
//! heaviest), that convicts the worker.

use super::*;
use crate::{crypto, types::*};
use alloc::{vec, vec::Vec};
use cinder_kernel::{
	merkle::{self, Hash},
	program::{
		bert::{weight_layout, BertShape, Plan},
		llama::SMOLLM2,
		Op, Resolved,
	},
	quant::WeightFormat,
	QTile, Tile, Weight, ROW_BLOCK,
};
use codec::Encode;
use frame_benchmarking::v2::*;
use frame_support::traits::Get;
use frame_support::{
	pallet_prelude::TransactionSource,
	traits::{fungible::Mutate, Authorize, UnfilteredDispatchable},
};
use frame_system::RawOrigin;
use pallet_inference::{RequestId, ResultDisputes, WorkerKey, WorkerSignature};
use pallet_models::{Architecture, Generation, Generator, ModelId, ModelProvider, Sampling, Task};
use sp_core::H256;
use sp_runtime::{
	traits::{Saturating, Zero},
	RuntimeAppPublic,
};

/// all-MiniLM-L6-v2's shape, as the chain registers it.
fn minilm() -> BertShape {
	BertShape {
		vocab: 30_522,
		hidden: 384,
		layers: 6,
		heads: 12,
		intermediate: 1_536,
		max_positions: 512,
		type_vocab: 2,
		eps: 1e-12f32.to_bits(),
	}
}

fn sign(key: &WorkerKey, payload: &[u8]) -> WorkerSignature {
	key.sign(&payload).unwrap_or_else(|| panic!("benchmark key is in the keystore"))
}

fn owner<T: Config>() -> T::AccountId {
	let who: T::AccountId = account("owner", 0, 0);
	let _ = T::Currency::mint_into(&who, BalanceOf::<T>::from(1_000_000_000u32));
	who
}

/// A deterministic hash standing for leaf `i` of a trace nobody computed.
fn filler(tag: u8, i: u32) -> Hash {
	sp_io::hashing::blake2_256(&(tag, i).encode())
}

/// Disputants of a result: the request, the worker and the challenger.
struct Parties<A> {
	request: RequestId,
	worker: (A, WorkerKey),
	challenger: (A, WorkerKey),
}

/// A result of `steps` leaves on the small sample model whose last leaf is
/// its output; returns the parties and the worker's leaves.
fn posted<T: Config>(steps: u32) -> (Parties<T::AccountId>, Vec<Hash>) {
	let model = T::Models::register_for_benchmark(&owner::<T>(), 1u32.into());
	let terms = T::Models::terms(model).unwrap_or_else(|| panic!("benchmark model"));
	let output = vec![0u8; terms.arch.output_bytes(&Task::Embed) as usize];
	let mut leaves: Vec<Hash> = (0..steps).map(|i| filler(1, i)).collect();
	if let Some(last) = leaves.last_mut() {
		*last = terms.arch.output_leaf(steps, &output).0;
	}
	let root = H256(merkle::root(&leaves));
	let (request, worker, challenger) =
		T::Results::answered_for_benchmark(model, vec![1, 2, 3], Task::Embed, output, root, steps);
	(Parties { request, worker, challenger }, leaves)
}

fn challenge_call<T: Config>(p: &Parties<T::AccountId>, root: H256) -> Call<T> {
	let genesis = pallet_inference::crypto::genesis_hash::<T>();
	let (challenger, key) = &p.challenger;
	let payload = crypto::challenge_payload(genesis, p.request, challenger, &root);
	Call::challenge {
		request: p.request,
		challenger: challenger.clone(),
		root,
		signature: sign(key, &payload),
	}
}

fn hashes(leaves: &[Hash]) -> Vec<H256> {
	leaves.iter().copied().map(H256).collect()
}

/// A dispute over a result of `n` leaves in which the challenger has
/// revealed its leaves (differing from the worker's at the last one), and
/// the worker's reveal that completes the round, with its output proof.
fn reveal_round<T: Config>(n: u32) -> (RequestId, Call<T>) {
	let (p, leaves) = posted::<T>(n);
	let mut theirs = leaves.clone();
	if let Some(last) = theirs.last_mut() {
		*last = filler(2, n);
	}
	let their_root = H256(merkle::root(&theirs));
	if let Err(e) = Pallet::<T>::do_challenge(p.request, p.challenger.0.clone(), their_root) {
		panic!("benchmark challenge: {e:?}");
	}
	if let Err(e) = Pallet::<T>::do_reveal(p.request, Party::Challenger, hashes(&theirs), vec![]) {
		panic!("benchmark reveal: {e:?}");
	}
	let Some(dispute) = Disputes::<T>::get(p.request) else { panic!("benchmark dispute") };
	let Stage::Reveal { level, .. } = dispute.stage else { panic!("benchmark round") };
	let proof = merkle::proof(&leaves, n.saturating_sub(1)).unwrap_or_default();
	let (hashes, output_proof) = (hashes(&leaves), hashes(&proof));
	let genesis = pallet_inference::crypto::genesis_hash::<T>();
	let payload = crypto::reveal_payload(
		genesis,
		p.request,
		dispute.opened,
		Party::Worker,
		level,
		&hashes,
		&output_proof,
	);
	let signature = sign(&p.worker.1, &payload);
	(
		p.request,
		Call::reveal { request: p.request, party: Party::Worker, hashes, output_proof, signature },
	)
}

/// Made-up values for tile `k` of a proof: in [-0.5, 0.5).
fn made_up(rows: u32, cols: u32, k: usize) -> Tile {
	let data = (0..rows.saturating_mul(cols))
		.map(|i| {
			((i.wrapping_mul(2_654_435_761).wrapping_add(k as u32) % 1_000) as f32) * 1e-3 - 0.5
		})
		.collect();
	Tile::new(rows, cols, data).unwrap_or_else(|e| panic!("benchmark tile: {e:?}"))
}

/// Made-up quantized blocks for tile `k`: scales near 0.01, quants spread.
fn made_up_quant(format: WeightFormat, rows: u32, cols: u32, k: usize) -> QTile {
	let blocks = rows.saturating_mul(cols) / 32;
	let mut data = Vec::new();
	for b in 0..blocks {
		let q = (0..32u32)
			.map(|i| (i.wrapping_mul(37).wrapping_add(b).wrapping_add(k as u32) % 251) as u8);
		match format {
			WeightFormat::Q4_1 => {
				data.extend_from_slice(&[0x1f, 0x21, 0x1f, 0xa1]);
				data.extend(q.take(16));
			}
			WeightFormat::Q8_0 => {
				data.extend_from_slice(&[0x1f, 0x21]);
				data.extend(q);
			}
		}
	}
	QTile::new(format, rows, cols, data).unwrap_or_else(|e| panic!("benchmark tile: {e:?}"))
}

/// One input of a proven step: where it is, its encoding and its leaf.
struct Opened {
	source: Resolved,
	bytes: Vec<u8>,
	leaf: Hash,
}

/// A result of `model` on `input` for `task` whose trace of `steps` leaves
/// holds `opened`'s step outputs (every other leaf made up, the one at
/// `index` wrong), with the model's weights in a tree of `weight_count`
/// leaves holding `opened`'s weight tiles; challenged by an honest
/// challenger, the game already at the proof of `index`. Returns the
/// request and the challenger's proof, which convicts the worker.
#[allow(clippy::too_many_arguments)]
fn dispute_at_step<T: Config>(
	arch: Architecture,
	input: Vec<u32>,
	task: Task,
	output: Vec<u8>,
	steps: u32,
	weight_count: u32,
	index: u32,
	opened: Vec<Opened>,
) -> (RequestId, Call<T>) {
	let mut trace: Vec<Hash> = (0..steps).map(|i| filler(3, i)).collect();
	let mut weights: Vec<Hash> = (0..weight_count).map(|i| filler(4, i)).collect();
	for o in &opened {
		let (tree, j) = match o.source {
			Resolved::Step(j) => (&mut trace, j),
			Resolved::Weight(w) => (&mut weights, w),
		};
		if let Some(leaf) = tree.get_mut(j as usize) {
			*leaf = o.leaf;
		}
	}
	let model: ModelId = T::Models::register_arch_for_benchmark(
		&owner::<T>(),
		1u32.into(),
		arch,
		H256(merkle::root(&weights)),
	);
	let worker_root = H256(merkle::root(&trace));
	let (request, worker, challenger) =
		T::Results::answered_for_benchmark(model, input, task, output, worker_root, steps);
	let mut honest = trace.clone();
	if let Some(leaf) = honest.get_mut(index as usize) {
		*leaf = filler(5, index);
	}
	let challenger_root = H256(merkle::root(&honest));
	if let Err(e) = Pallet::<T>::do_challenge(request, challenger.0.clone(), challenger_root) {
		panic!("benchmark challenge: {e:?}");
	}
	// Skip the reveal rounds: the game is at the proof of `index`.
	let Some(mut dispute) = Disputes::<T>::get(request) else { panic!("benchmark dispute") };
	let now = frame_system::Pallet::<T>::block_number();
	dispute.stage = Stage::Prove {
		step: index,
		worker_leaf: H256(trace.get(index as usize).copied().unwrap_or_default()),
		challenger_leaf: H256(honest.get(index as usize).copied().unwrap_or_default()),
		deadline: now.saturating_add(T::ProofPeriod::get()),
	};
	Pallet::<T>::schedule(dispute.stage.deadline(), request);
	let opened_at = dispute.opened;
	Disputes::<T>::insert(request, dispute);
	let proofs: Vec<TileProof> = opened
		.into_iter()
		.map(|o| {
			let siblings = match o.source {
				Resolved::Step(j) => merkle::proof(&trace, j),
				Resolved::Weight(w) => merkle::proof(&weights, w),
			}
			.unwrap_or_default();
			TileProof { tile: o.bytes, siblings: hashes(&siblings) }
		})
		.collect();
	let genesis = pallet_inference::crypto::genesis_hash::<T>();
	let payload = crypto::proof_payload(genesis, request, opened_at, Party::Challenger, &proofs);
	let signature = sign(&challenger.1, &payload);
	drop(worker);
	(request, Call::prove_step { request, party: Party::Challenger, tiles: proofs, signature })
}

/// A dispute at the proof of the heaviest step of kind `kind` (the one
/// reading the most input bytes) of MiniLM at the longest input the chain
/// accepts, with the challenger's proof: real tiles (of made-up values) in
/// trees whose other leaves nobody computed. The worker's leaf at the step
/// is wrong, so the proof convicts it.
fn proof_at_heaviest<T: Config>(kind: fn(&Op) -> bool) -> (RequestId, Call<T>) {
	let shape = minilm();
	let arch = Architecture::Bert(shape);
	let len = T::Results::max_input_tokens().min(shape.max_positions);
	let input: Vec<u32> = (0..len).map(|i| 1_000u32.saturating_add(i)).collect();
	let plan = Plan::new(&shape, len).unwrap_or_else(|e| panic!("benchmark plan: {e:?}"));
	let layout = weight_layout(&shape).unwrap_or_else(|e| panic!("benchmark layout: {e:?}"));
	let step_shape = |j: u32| plan.step(j).map(|s| (s.rows, s.cols)).unwrap_or((1, 1));
	let source_shape = |r: &Resolved| match *r {
		Resolved::Step(j) => step_shape(j),
		Resolved::Weight(w) => layout.get(w as usize).map(|t| (t.rows, t.cols)).unwrap_or((1, 1)),
	};
	// The step of this kind whose inputs are the most bytes.
	let (mut index, mut most) = (0u32, 0u64);
	for i in 0..plan.len() {
		let Ok(step) = plan.step(i) else { continue };
		if !kind(&step.op) {
			continue;
		}
		let Ok(sources) = step.resolve(&input, shape.vocab) else { continue };
		let bytes: u64 = sources
			.iter()
			.map(source_shape)
			.map(|(r, c)| u64::from(r).saturating_mul(u64::from(c)))
			.sum();
		if bytes > most {
			(index, most) = (i, bytes);
		}
	}
	let step = plan.step(index).unwrap_or_else(|e| panic!("benchmark step: {e:?}"));
	let sources = step.resolve(&input, shape.vocab).unwrap_or_default();
	let opened = sources
		.into_iter()
		.enumerate()
		.map(|(k, source)| {
			let (rows, cols) = source_shape(&source);
			let tile = made_up(rows, cols, k);
			let at = match source {
				Resolved::Step(j) | Resolved::Weight(j) => j,
			};
			Opened { source, bytes: tile.to_bytes(), leaf: merkle::tile_leaf(at, &tile) }
		})
		.collect();
	let output = vec![0u8; arch.output_bytes(&Task::Embed) as usize];
	let (steps, weight_count) = (plan.len(), plan.weight_count());
	dispute_at_step::<T>(arch, input, Task::Embed, output, steps, weight_count, index, opened)
}

/// A dispute at the proof of SmolLM2's heaviest generation step, the fused
/// gate and up projection of a full block of 16 prompt rows (237,600 bytes
/// of input, 4.7 M multiply-adds), with the challenger's proof of made-up
/// values, as [`proof_at_heaviest`] does for MiniLM.
fn proof_at_gate_up<T: Config>() -> (RequestId, Call<T>) {
	let shape = SMOLLM2;
	let arch = Architecture::Llama(Generator { shape, eos: 2 });
	let prompt: Vec<u32> = (0..ROW_BLOCK).map(|i| 1_000u32.saturating_add(i)).collect();
	let task =
		Task::Generate(Generation { max_new_tokens: 1, sampling: Sampling::Greedy, seed: None });
	let plan = arch.plan(ROW_BLOCK, &task, 1).unwrap_or_else(|e| panic!("benchmark plan: {e:?}"));
	let index = (0..plan.len())
		.find(|&i| plan.step(i).is_ok_and(|s| matches!(s.op, Op::GateUp)))
		.unwrap_or_else(|| panic!("a gate and up step"));
	let step = plan.step(index).unwrap_or_else(|e| panic!("benchmark step: {e:?}"));
	let sources = step.resolve(&prompt, shape.vocab).unwrap_or_default();
	let opened = sources
		.into_iter()
		.enumerate()
		.map(|(k, source)| match source {
			Resolved::Step(j) => {
				let (rows, cols) = plan.step(j).map(|s| (s.rows, s.cols)).unwrap_or((1, 1));
				let tile = made_up(rows, cols, k);
				Opened { source, bytes: tile.to_bytes(), leaf: merkle::tile_leaf(j, &tile) }
			}
			Resolved::Weight(w) => {
				let Ok(Some(t)) = shape.weight_tile(w) else { panic!("benchmark weight {w}") };
				let weight = match t.format {
					None => Weight::F32(made_up(t.rows, t.cols, k)),
					Some(f) => Weight::Quant(made_up_quant(f, t.rows, t.cols, k)),
				};
				Opened { source, bytes: weight.to_bytes(), leaf: weight.leaf(w) }
			}
		})
		.collect();
	let output = 5u32.to_le_bytes().to_vec();
	let weight_count = shape.weight_count().unwrap_or_else(|e| panic!("benchmark layout: {e:?}"));
	dispute_at_step::<T>(arch, prompt, task, output, plan.len(), weight_count, index, opened)
}

fn is_linear(op: &Op) -> bool {
	matches!(op, Op::Linear { .. })
}

fn is_attention(op: &Op) -> bool {
	matches!(op, Op::Attention { .. })
}

fn dispatch<T: Config>(call: Call<T>) {
	if let Err(e) = call.dispatch_bypass_filter(RawOrigin::Authorized.into()) {
		panic!("benchmark call: {e:?}");
	}
}

fn authorized<T: Config>(call: &Call<T>) {
	assert!(matches!(call.authorize(TransactionSource::External), Some(Ok(_))));
}

#[benchmarks]
mod benchmarks {
	use super::*;

	#[benchmark]
	fn challenge() {
		let (p, _) = posted::<T>(64);
		let call = challenge_call::<T>(&p, H256::repeat_byte(9));
		#[block]
		{
			dispatch::<T>(call);
		}
		assert!(Disputes::<T>::contains_key(p.request));
	}

	#[benchmark]
	fn authorize_challenge() {
		let (p, _) = posted::<T>(64);
		let call = challenge_call::<T>(&p, H256::repeat_byte(9));
		#[block]
		{
			authorized::<T>(&call);
		}
	}

	#[benchmark]
	fn reveal(n: Linear<2, { T::MaxRevealHashes::get() }>) {
		let (request, call) = reveal_round::<T>(n);
		#[block]
		{
			dispatch::<T>(call);
		}
		let stage = Disputes::<T>::get(request).map(|d| d.stage);
		assert!(matches!(stage, Some(Stage::Prove { .. })));
	}

	#[benchmark]
	fn authorize_reveal(n: Linear<2, { T::MaxRevealHashes::get() }>) {
		let (_, call) = reveal_round::<T>(n);
		#[block]
		{
			authorized::<T>(&call);
		}
	}

	#[benchmark]
	fn prove_step_linear() {
		let (request, call) = proof_at_heaviest::<T>(is_linear);
		#[block]
		{
			dispatch::<T>(call);
		}
		assert!(Resolutions::<T>::get(request).is_some_and(|r| r.worker_lied));
	}

	#[benchmark]
	fn prove_step_attention() {
		let (request, call) = proof_at_heaviest::<T>(is_attention);
		#[block]
		{
			dispatch::<T>(call);
		}
		assert!(Resolutions::<T>::get(request).is_some_and(|r| r.worker_lied));
	}

	#[benchmark]
	fn prove_step_generation() {
		let (request, call) = proof_at_gate_up::<T>();
		#[block]
		{
			dispatch::<T>(call);
		}
		assert!(Resolutions::<T>::get(request).is_some_and(|r| r.worker_lied));
	}

	#[benchmark]
	fn authorize_prove_step() {
		let (_, call) = proof_at_heaviest::<T>(is_linear);
		#[block]
		{
			authorized::<T>(&call);
		}
	}

	#[benchmark]
	fn authorize_prove_step_generation() {
		let (_, call) = proof_at_gate_up::<T>();
		#[block]
		{
			authorized::<T>(&call);
		}
	}

	#[benchmark]
	fn on_initialize_idle() {
		let now = frame_system::Pallet::<T>::block_number();
		#[block]
		{
			Pallet::<T>::process_deadlines(now);
		}
	}

	#[benchmark]
	fn skip_deadline() {
		let now = frame_system::Pallet::<T>::block_number();
		Deadlines::<T>::insert(now, RequestId::MAX, ());
		#[block]
		{
			Pallet::<T>::process_deadlines(now);
		}
	}

	#[benchmark]
	fn time_out() {
		// Both silent at the first reveal: the bond goes to the treasury,
		// the worker is reported and expelled, the request reassigned.
		let (p, _) = posted::<T>(64);
		if let Err(e) = Pallet::<T>::do_challenge(p.request, p.challenger.0.clone(), H256::zero()) {
			panic!("benchmark challenge: {e:?}");
		}
		let due = Disputes::<T>::get(p.request)
			.map(|d| d.stage.deadline())
			.unwrap_or_else(Zero::zero)
			.saturating_add(1u32.into());
		frame_system::Pallet::<T>::set_block_number(due);
		DeadlineCursor::<T>::put(due);
		#[block]
		{
			Pallet::<T>::process_deadlines(due);
		}
		assert!(!Disputes::<T>::contains_key(p.request));
	}

	impl_benchmark_test_suite!(
		Pallet,
		crate::mock::ExtBuilder::without_workers().build(),
		crate::mock::Test
	);
}
