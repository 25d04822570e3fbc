//! Malformed bytes offered to the runtime as `inference`, `models` and
//! `disputes` transactions, the way a node receives them:
//!
//! - random mutations (bit flips, overwritten, inserted and removed bytes,
//!   truncations) of valid transactions, and random bytes, decoded as the
//!   runtime decodes an extrinsic; each that decodes is validated for the
//!   pool and applied in an open block. A mutated transaction must be
//!   invalid, validation and application must answer with a typed
//!   `TransactionValidityError` (no panic), and a refused application
//!   changes no state (but FRAME's note of the extrinsic's bytes, which the
//!   block builder rolls back);
//! - the same through the compiled wasm runtime in the executor the node
//!   uses (`TaggedTransactionQueue_validate_transaction`): a typed
//!   invalidity, or a trap for bytes that do not decode, never a crash of
//!   the host;
//! - blocks carrying a mutated transaction, and random bytes as a block,
//!   imported by the wasm runtime (`Core_execute_block`): refused, while
//!   the block they were made from imports.
//!
//! Mutations are drawn from a fixed seed; the seeds' sr25519 signatures
//! are randomized, so a failure reports the case and the bytes it made.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::{borrow::Cow, cell::RefCell};

use cinder_runtime::{
	genesis_config_presets::minilm, AccountId, Block, Executive, Header, Runtime, RuntimeCall,
	UncheckedExtrinsic,
};
use codec::{Compact, Decode, DecodeLimit, Encode};
use common::{challenge_xt, keyring, made_up_leaves, preset_config, Chain};
use proptest::{
	prelude::*,
	test_runner::{Config, RngAlgorithm, TestRng, TestRunner},
};
use sc_executor::WasmExecutor;
use sp_core::{
	traits::{CallContext, CodeExecutor, RuntimeCode, WrappedRuntimeCode},
	H256,
};
use sp_keyring::Sr25519Keyring;
use sp_runtime::{
	transaction_validity::{TransactionSource, TransactionValidity},
	BuildStorage,
};

/// What a node refuses to decode deeper than (as `frame-executive` does).
const MAX_DEPTH: u32 = 256;

/// One change to a transaction's bytes.
#[derive(Clone, Debug)]
enum Mutation {
	Flip { at: usize, bit: u8 },
	Set { at: usize, byte: u8 },
	Insert { at: usize, bytes: Vec<u8> },
	Remove { at: usize, len: usize },
	Truncate { len: usize },
}

fn mutation() -> impl Strategy<Value = Mutation> {
	prop_oneof![
		3 => (any::<usize>(), 0u8..8).prop_map(|(at, bit)| Mutation::Flip { at, bit }),
		2 => (any::<usize>(), any::<u8>()).prop_map(|(at, byte)| Mutation::Set { at, byte }),
		1 => (any::<usize>(), prop::collection::vec(any::<u8>(), 1..40))
			.prop_map(|(at, bytes)| Mutation::Insert { at, bytes }),
		1 => (any::<usize>(), 1usize..40).prop_map(|(at, len)| Mutation::Remove { at, len }),
		1 => any::<usize>().prop_map(|len| Mutation::Truncate { len }),
	]
}

fn mutate(mut bytes: Vec<u8>, mutations: &[Mutation]) -> Vec<u8> {
	for m in mutations {
		let n = bytes.len().max(1);
		match m {
			Mutation::Flip { at, bit } => {
				if let Some(b) = bytes.get_mut(at % n) {
					*b ^= 1 << bit;
				}
			}
			Mutation::Set { at, byte } => {
				if let Some(b) = bytes.get_mut(at % n) {
					*b = *byte;
				}
			}
			Mutation::Insert { at, bytes: more } => {
				let at = at % (bytes.len() + 1);
				bytes.splice(at..at, more.iter().copied());
			}
			Mutation::Remove { at, len } => {
				let at = at % n;
				let end = (at + len).min(bytes.len());
				if at < end {
					bytes.drain(at..end);
				}
			}
			Mutation::Truncate { len } => bytes.truncate(len % n),
		}
	}
	bytes
}

/// Bytes to offer: a seed mutated, or random bytes behind a length prefix
/// and an extrinsic version byte (so decoding gets past the first bytes).
#[derive(Clone, Debug)]
enum Case {
	/// `relength`: the mutations apply to the extrinsic behind its length
	/// prefix, which is then rewritten to fit (so decoding goes deeper).
	Mutated {
		seed: usize,
		mutations: Vec<Mutation>,
		relength: bool,
	},
	Random {
		version: u8,
		body: Vec<u8>,
	},
}

fn case(seeds: usize) -> impl Strategy<Value = Case> {
	prop_oneof![
		4 => (0..seeds, prop::collection::vec(mutation(), 1..4), any::<bool>())
			.prop_map(|(seed, mutations, relength)| Case::Mutated { seed, mutations, relength }),
		1 => (prop::sample::select(vec![0x04u8, 0x84, 0x05, 0x45, 0x00, 0xff]),
			prop::collection::vec(any::<u8>(), 0..300))
			.prop_map(|(version, body)| Case::Random { version, body }),
	]
}

impl Case {
	fn bytes(&self, seeds: &[Vec<u8>]) -> Vec<u8> {
		match self {
			Case::Mutated { seed, mutations, relength: false } => {
				mutate(seeds[*seed].clone(), mutations)
			}
			Case::Mutated { seed, mutations, relength: true } => {
				let bytes = &seeds[*seed];
				let prefix = Compact::<u32>::decode(&mut &bytes[..]).unwrap().encoded_size();
				prefixed(mutate(bytes[prefix..].to_vec(), mutations))
			}
			Case::Random { version, body } => {
				let mut inner = vec![*version];
				inner.extend(body);
				prefixed(inner)
			}
		}
	}
}

/// `inner` behind its SCALE length prefix, as an extrinsic travels.
fn prefixed(inner: Vec<u8>) -> Vec<u8> {
	let mut out = Compact(inner.len() as u32).encode();
	out.extend(inner);
	out
}

fn signed(who: Sr25519Keyring, call: RuntimeCall) -> UncheckedExtrinsic {
	let nonce = frame_system::Pallet::<Runtime>::account_nonce(who.to_account_id());
	let genesis = frame_system::BlockHash::<Runtime>::get(0);
	cinder_runtime::extrinsic::sign(&who.pair(), nonce, genesis, call)
}

fn request_call() -> RuntimeCall {
	RuntimeCall::Inference(pallet_inference::Call::request {
		model: 0,
		input: INPUT.to_vec(),
		max_fee: minilm::PRICE,
	})
}

const INPUT: [u32; 4] = [101, 7592, 2088, 102];

/// `worker`'s answer to request `id` (of [`INPUT`]), signed with its dev
/// worker key: the right length and step count, made-up values.
fn result_xt(id: u64, worker: &AccountId) -> UncheckedExtrinsic {
	let steps = pallet_models::Architecture::Bert(minilm::SHAPE).trace_len(
		INPUT.len() as u32,
		&pallet_models::Task::Embed,
		0,
	);
	cinder_runtime::extrinsic::submit_result(
		&keyring(worker).pair(),
		frame_system::BlockHash::<Runtime>::get(0),
		id,
		vec![0u8; minilm::SHAPE.hidden as usize * 4],
		H256::repeat_byte(7),
		steps.unwrap(),
	)
}

fn assigned_worker(id: u64) -> AccountId {
	let view = pallet_inference::Pallet::<Runtime>::request_view(id).expect("request exists");
	match view.state {
		pallet_inference::RequestState::Assigned { worker, .. } => worker,
		other => panic!("request {id} is {other:?}"),
	}
}

/// Whether `xt`, mutated from a seed, still carries that seed's call.
fn same_call(case: &Case, xt: &UncheckedExtrinsic, seeds: &[Vec<u8>]) -> bool {
	let Case::Mutated { seed, .. } = case else { return false };
	let seed = UncheckedExtrinsic::decode(&mut &seeds[*seed][..]).unwrap();
	seed.function == xt.function
}

/// The whole state but `frame_system`'s copy of the block's extrinsics: FRAME notes a transaction's bytes there before its
/// authorization runs (the block builder rolls the note back when it is
/// refused, and a block holding it does not import). Everything else —
/// balances, holds, requests, models, disputes — must stay as it was.
fn state() -> Vec<(Vec<u8>, Option<Vec<u8>>)> {
	// `System::ExtrinsicData` (private in FRAME): twox128 of both names.
	let skip =
		[sp_io::hashing::twox_128(b"System"), sp_io::hashing::twox_128(b"ExtrinsicData")].concat();
	let mut all = Vec::new();
	let mut key = Vec::new();
	while let Some(next) = sp_io::storage::next_key(&key) {
		if !next.starts_with(&skip) {
			all.push((next.clone(), sp_io::storage::get(&next).map(|v| v.to_vec())));
		}
		key = next;
	}
	all
}

/// The keys (hex) whose values differ between two [`state`]s.
fn changed(a: &[(Vec<u8>, Option<Vec<u8>>)], b: &[(Vec<u8>, Option<Vec<u8>>)]) -> Vec<String> {
	let a: std::collections::BTreeMap<_, _> = a.iter().cloned().collect();
	let b: std::collections::BTreeMap<_, _> = b.iter().cloned().collect();
	a.keys()
		.chain(b.keys())
		.filter(|k| a.get(*k) != b.get(*k))
		.map(|k| sp_core::hexdisplay::HexDisplay::from(k).to_string())
		.collect()
}

fn validate(xt: UncheckedExtrinsic) -> TransactionValidity {
	let parent = frame_system::Pallet::<Runtime>::parent_hash();
	sp_io::storage::start_transaction();
	let v = Executive::validate_transaction(TransactionSource::External, xt, parent);
	sp_io::storage::rollback_transaction();
	v
}

/// The `local` chain three blocks in, with a block open that holds a
/// transaction: request 0 assigned, request 1 answered (open to
/// challenge). Returns the seeds, each valid in
/// that state: a request, request 0's result, a challenge of request 1's,
/// a model's new price by its owner, a retirement of a model that is not
/// there (valid to send, fails in dispatch), a worker registration.
fn setup(ext: &mut sp_io::TestExternalities) -> Vec<Vec<u8>> {
	ext.execute_with(|| {
		let mut chain = Chain::new();
		chain.authors = 4;
		let dapp = Sr25519Keyring::FerdieStash;
		chain.block(vec![signed(dapp, request_call())]);
		chain.block(vec![signed(dapp, request_call())]);
		let answered = assigned_worker(1);
		chain.block(vec![result_xt(1, &answered)]);
		let challenger = [Sr25519Keyring::Alice, Sr25519Keyring::Bob]
			.into_iter()
			.map(|k| k.to_account_id())
			.find(|a| *a != answered)
			.unwrap();
		chain.open();
		// A transaction already in the open block: FRAME marks the block's
		// inherents applied on the first one, which is block bookkeeping,
		// not the transaction's doing.
		let remark = RuntimeCall::System(frame_system::Call::remark { remark: vec![1, 2, 3] });
		Executive::apply_extrinsic(signed(Sr25519Keyring::Charlie, remark)).unwrap().unwrap();
		let steps = pallet_models::Architecture::Bert(minilm::SHAPE)
			.trace_len(INPUT.len() as u32, &pallet_models::Task::Embed, 0)
			.unwrap();
		let seeds = [
			signed(dapp, request_call()),
			result_xt(0, &assigned_worker(0)),
			challenge_xt(1, &challenger, &made_up_leaves(1, steps)),
			signed(
				Sr25519Keyring::Alice,
				RuntimeCall::Models(pallet_models::Call::set_price {
					model: 0,
					price: 1,
					token_prices: Default::default(),
				}),
			),
			signed(
				Sr25519Keyring::Eve,
				RuntimeCall::Models(pallet_models::Call::retire { model: 9 }),
			),
			signed(
				Sr25519Keyring::Eve,
				RuntimeCall::Inference(pallet_inference::Call::deregister_worker {}),
			),
		];
		for (i, xt) in seeds.iter().enumerate() {
			assert!(validate(xt.clone()).is_ok(), "seed {i} is valid: {:?}", validate(xt.clone()));
		}
		seeds.iter().map(Encode::encode).collect()
	})
}

fn runner(cases: u32) -> TestRunner {
	TestRunner::new_with_rng(
		Config { cases, failure_persistence: None, ..Config::default() },
		TestRng::from_seed(RngAlgorithm::ChaCha, &[42; 32]),
	)
}

#[test]
fn mutated_and_random_transactions_are_refused_with_typed_errors_and_write_nothing() {
	let mut ext = common::preset_ext("local_testnet");
	let seeds = setup(&mut ext);
	let ext = RefCell::new(ext);
	// undecodable, invalid, refused in a block, valid, valid re-encodings
	let counts = RefCell::new([0u32; 5]);
	let started = std::time::Instant::now();
	runner(3000)
		.run(&case(seeds.len()), |case| {
			let bytes = case.bytes(&seeds);
			let Ok(xt) =
				UncheckedExtrinsic::decode_all_with_depth_limit(MAX_DEPTH, &mut &bytes[..])
			else {
				counts.borrow_mut()[0] += 1;
				return Ok(());
			};
			let mutated = !seeds.contains(&bytes);
			ext.borrow_mut().execute_with(|| {
				let v = validate(xt.clone());
				prop_assert!(v.is_ok() || mutated, "a seed stays valid");
				if v.is_ok() && mutated {
					// Only bytes no signature covers may change (a general
					// transaction's extension fields): the call is the seed's.
					prop_assert!(
						same_call(&case, &xt, &seeds),
						"{case:?} passed validation: {xt:?}"
					);
					counts.borrow_mut()[4] += 1;
				}
				// In the open block, as an author applies it.
				sp_io::storage::start_transaction();
				let before = state();
				let applied = Executive::apply_extrinsic(xt.clone());
				let after = state();
				sp_io::storage::rollback_transaction();
				match (&v, applied) {
					(Err(_), Err(_)) => {
						prop_assert!(
							before == after,
							"a refused transaction wrote {:?}",
							changed(&before, &after)
						);
						counts.borrow_mut()[1] += 1;
					}
					(Err(_), Ok(_)) => {
						prop_assert!(false, "{case:?}: invalid in the pool, applied in a block")
					}
					(Ok(_), Err(e)) => {
						prop_assert!(
							before == after,
							"a refused transaction wrote {:?}",
							changed(&before, &after)
						);
						prop_assert!(!mutated, "{case:?}: {e:?}");
						counts.borrow_mut()[2] += 1;
					}
					(Ok(_), Ok(_)) => counts.borrow_mut()[3] += 1,
				}
				Ok(())
			})
		})
		.unwrap();
	let [undecodable, invalid, refused, valid, reencoded] = *counts.borrow();
	eprintln!(
		"native: 3000 cases in {:.1} s: {undecodable} undecodable, {invalid} invalid (typed, \
		 nothing written), {refused} valid in the pool but refused in a block, {valid} valid \
		 (seeds, or {reencoded} with a seed's call and other unsigned extension bytes)",
		started.elapsed().as_secs_f64()
	);
	assert!(undecodable > 0 && invalid > 0, "both kinds of refusal were exercised");
}

/// The compiled runtime in the node's executor, with its code cached.
struct Wasm {
	executor: WasmExecutor<sp_io::SubstrateHostFunctions>,
	code: Vec<u8>,
	hash: Vec<u8>,
}

impl Wasm {
	fn new() -> Self {
		let code = cinder_runtime::WASM_BINARY.expect("built with the wasm runtime").to_vec();
		let hash = sp_io::hashing::blake2_256(&code).to_vec();
		Self { executor: WasmExecutor::builder().build(), code, hash }
	}

	/// Calls `method` on `ext`: the encoded answer, or the executor's error
	/// (a trap) as text.
	fn call(
		&self,
		ext: &mut sp_io::TestExternalities,
		method: &str,
		data: &[u8],
	) -> Result<Vec<u8>, String> {
		let fetch = WrappedRuntimeCode(Cow::Borrowed(&self.code));
		let code = RuntimeCode { code_fetcher: &fetch, heap_pages: None, hash: self.hash.clone() };
		let answer = self
			.executor
			.call(&mut ext.ext(), &code, method, data, CallContext::Offchain)
			.0
			.map_err(|e| e.to_string());
		// As the node does, nothing a call wrote outlives it.
		ext.reset_overlay();
		answer
	}
}

#[test]
fn the_wasm_runtime_refuses_malformed_transactions_and_blocks() {
	let wasm = Wasm::new();
	let mut ext = common::preset_ext("local_testnet");
	let seeds = setup(&mut ext);
	let parent = ext.execute_with(frame_system::Pallet::<Runtime>::parent_hash);
	let started = std::time::Instant::now();

	// Pool validation, as the node's transaction pool calls it.
	ext.commit_all().unwrap();
	let validate = |ext: &mut sp_io::TestExternalities, bytes: &[u8]| {
		// `bytes` is the extrinsic as it travels (length prefix included).
		let mut data = TransactionSource::External.encode();
		data.extend(bytes);
		data.extend(parent.encode());
		wasm.call(ext, "TaggedTransactionQueue_validate_transaction", &data)
	};
	for seed in &seeds {
		let answer = validate(&mut ext, seed).unwrap();
		let validity = TransactionValidity::decode(&mut &answer[..]).unwrap();
		assert!(validity.is_ok(), "a seed is valid in wasm too: {validity:?}");
	}
	let (traps, invalid) = (std::cell::Cell::new(0u32), std::cell::Cell::new(0u32));
	let ext = RefCell::new(ext);
	runner(300)
		.run(&case(seeds.len()), |case| {
			let bytes = case.bytes(&seeds);
			if seeds.contains(&bytes) {
				return Ok(());
			}
			match validate(&mut ext.borrow_mut(), &bytes) {
				Err(_) => traps.set(traps.get() + 1),
				Ok(answer) => {
					let validity = TransactionValidity::decode(&mut &answer[..]);
					let reencoded = matches!(validity, Ok(Ok(_)))
						&& UncheckedExtrinsic::decode(&mut &bytes[..])
							.is_ok_and(|xt| same_call(&case, &xt, &seeds));
					prop_assert!(
						matches!(validity, Ok(Err(_))) || reencoded,
						"{case:?}: {validity:?}"
					);
					invalid.set(invalid.get() + 1);
				}
			}
			Ok(())
		})
		.unwrap();

	// Import: block 1 of `local` with a request, then the same block with the
	// request's bytes mutated, and random bytes as a block.
	let genesis = preset_config("local_testnet").build_storage().unwrap();
	let fresh = || sp_io::TestExternalities::new(genesis.clone());
	let (header, extrinsics) = {
		let mut author = fresh();
		author.execute_with(|| {
			frame_system::Pallet::<Runtime>::set_block_number(0);
			let mut chain = Chain::new();
			chain.authors = 4;
			chain.open();
			let xt = signed(Sr25519Keyring::FerdieStash, request_call());
			Executive::apply_extrinsic(xt.clone()).unwrap().unwrap();
			let header: Header = Executive::finalize_block();
			let inherent =
				UncheckedExtrinsic::new_bare(RuntimeCall::Timestamp(pallet_timestamp::Call::set {
					now: pallet_timestamp::Now::<Runtime>::get(),
				}));
			(header, vec![inherent.encode(), xt.encode()])
		})
	};
	let block_bytes = |request: &[u8]| {
		let mut out = header.encode();
		out.extend(Compact(2u32).encode());
		out.extend(&extrinsics[0]);
		out.extend(request);
		out
	};
	let good = block_bytes(&extrinsics[1]);
	assert!(Block::decode(&mut &good[..]).is_ok());
	wasm.call(&mut fresh(), "Core_execute_block", &good).expect("the unmutated block imports");
	let refused_blocks = std::cell::Cell::new(0u32);
	runner(40)
		.run(&prop::collection::vec(mutation(), 1..4), |mutations| {
			let request = mutate(extrinsics[1].clone(), &mutations);
			if request == extrinsics[1] {
				return Ok(());
			}
			let result = wasm.call(&mut fresh(), "Core_execute_block", &block_bytes(&request));
			prop_assert!(result.is_err(), "a block with a mutated transaction imported");
			refused_blocks.set(refused_blocks.get() + 1);
			Ok(())
		})
		.unwrap();
	runner(20)
		.run(&prop::collection::vec(any::<u8>(), 0..2000), |bytes| {
			prop_assert!(wasm.call(&mut fresh(), "Core_execute_block", &bytes).is_err());
			refused_blocks.set(refused_blocks.get() + 1);
			Ok(())
		})
		.unwrap();
	eprintln!(
		"wasm: 300 transactions in the executor ({} undecodable: trapped, {} typed invalid), {} \
		 malformed blocks refused, the unmutated block imported; {:.1} s",
		traps.get(),
		invalid.get(),
		refused_blocks.get(),
		started.elapsed().as_secs_f64()
	);
}
