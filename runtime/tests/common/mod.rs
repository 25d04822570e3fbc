//! Helpers shared by the runtime's integration tests.

// Each test crate uses its own part of these.
#![allow(dead_code)]

use cinder_runtime::{
	genesis_config_presets, AccountId, Executive, Header, Runtime, RuntimeCall, RuntimeEvent,
	RuntimeGenesisConfig, UncheckedExtrinsic,
};
use codec::Encode;
use serde_json::Value;
use sp_consensus_babe::{
	digests::{PreDigest, SecondaryPlainPreDigest},
	BABE_ENGINE_ID,
};
use sp_core::H256;
use sp_runtime::BuildStorage;
use sp_runtime::{
	generic::{Digest, DigestItem},
	traits::Header as HeaderT,
};
use std::collections::BTreeMap;

/// Applies a JSON merge patch (RFC 7386 without deletions): objects merge
/// key by key, everything else is replaced.
pub fn merge(base: &mut Value, patch: Value) {
	match (base, patch) {
		(Value::Object(base), Value::Object(patch)) => {
			for (key, value) in patch {
				merge(base.entry(key).or_insert(Value::Null), value);
			}
		}
		(base, patch) => *base = patch,
	}
}

/// The genesis config a preset describes, on top of the defaults: what the
/// node does when it builds a chain spec from the preset.
pub fn preset_config(preset: &str) -> RuntimeGenesisConfig {
	let bytes = genesis_config_presets::get_preset(&preset.into())
		.unwrap_or_else(|| panic!("preset {preset} exists"));
	let patch: Value = serde_json::from_slice(&bytes).expect("a preset is JSON");
	let mut config = serde_json::to_value(RuntimeGenesisConfig::default()).expect("serialises");
	merge(&mut config, patch);
	serde_json::from_value(config).expect("the patched preset is a valid genesis config")
}

/// Genesis state of a preset, ready to execute in.
pub fn preset_ext(preset: &str) -> sp_io::TestExternalities {
	let storage = preset_config(preset).build_storage().expect("genesis builds");
	let mut ext = sp_io::TestExternalities::new(storage);
	ext.execute_with(|| frame_system::Pallet::<cinder_runtime::Runtime>::set_block_number(0));
	ext
}

/// The BABE slot of block 0.
const SLOT: u64 = 600_000_000;

/// Drives blocks in one externalities: BABE pre-digest and timestamp for
/// each, extrinsics applied as an author would. Blocks author in turn among
/// the first `authors` session validators (skipping disabled ones); slots and block numbers can jump
/// ahead (empty slots), so sessions and eras pass in a few blocks.
pub struct Chain {
	parent: H256,
	number: u32,
	slot: u64,
	/// Validators that author in turn (by session index order).
	pub authors: u32,
	/// Validators that do not author: an offender whose block would report
	/// its own offence is disabled within it, and BABE rejects that block.
	pub avoid: Vec<AccountId>,
	/// Staking's authoring points as blocks were opened: 20 per block to
	/// its author, in the era active when the block starts.
	authored: BTreeMap<(u32, AccountId), u32>,
}

impl Chain {
	pub fn new() -> Self {
		Self {
			parent: frame_system::BlockHash::<Runtime>::get(0),
			number: 0,
			slot: SLOT,
			authors: 1,
			avoid: Vec::new(),
			authored: BTreeMap::new(),
		}
	}

	/// The authoring points each validator earned in `era`.
	pub fn authored(&self, era: u32) -> BTreeMap<AccountId, u32> {
		self.authored
			.iter()
			.filter(|((e, _), _)| *e == era)
			.map(|((_, who), points)| (who.clone(), *points))
			.collect()
	}

	/// The number of the last block opened.
	pub fn number(&self) -> u32 {
		self.number
	}

	pub fn open(&mut self) {
		self.number += 1;
		self.slot += 1;
		// In turn, passing over validators disabled for an offence (BABE
		// refuses their blocks) and those to avoid.
		let authors = self.authors.max(1);
		let session = pallet_session::Validators::<Runtime>::get();
		let mut authority_index = self.number % authors;
		for _ in 0..authors {
			use frame_support::traits::DisabledValidators;
			let avoided =
				session.get(authority_index as usize).is_some_and(|v| self.avoid.contains(v));
			if !avoided && !pallet_session::Pallet::<Runtime>::is_disabled(authority_index) {
				break;
			}
			authority_index = (authority_index + 1) % authors;
		}
		// Authorship notes the author before the session can rotate, so the
		// points go to the era active when the block starts.
		if let Some(era) = pallet_staking::ActiveEra::<Runtime>::get() {
			let validators = pallet_session::Validators::<Runtime>::get();
			if let Some(author) = validators.get(authority_index as usize) {
				*self.authored.entry((era.index, author.clone())).or_default() += 20;
			}
		}
		let pre = PreDigest::SecondaryPlain(SecondaryPlainPreDigest {
			authority_index,
			slot: self.slot.into(),
		});
		let digest = Digest { logs: vec![DigestItem::PreRuntime(BABE_ENGINE_ID, pre.encode())] };
		let header =
			Header::new(self.number, Default::default(), Default::default(), self.parent, digest);
		Executive::initialize_block(&header);
		let now = self.slot * cinder_runtime::time::SLOT_DURATION;
		let ts =
			UncheckedExtrinsic::new_bare(RuntimeCall::Timestamp(pallet_timestamp::Call::set {
				now,
			}));
		Executive::apply_extrinsic(ts).unwrap().unwrap();
	}

	pub fn close(&mut self) {
		self.parent = Executive::finalize_block().hash();
	}

	/// One block holding `xts`, each of which must apply and dispatch.
	pub fn block(&mut self, xts: Vec<UncheckedExtrinsic>) -> Vec<RuntimeEvent> {
		self.open();
		for xt in xts {
			Executive::apply_extrinsic(xt).expect("valid").expect("dispatches");
		}
		let events =
			frame_system::Pallet::<Runtime>::events().into_iter().map(|r| r.event).collect();
		self.close();
		events
	}

	/// One block holding those of `xts` that are valid when it is built
	/// (an author skips what has gone stale, as the pool would have); a
	/// call's dispatch may fail.
	pub fn block_best_effort(&mut self, xts: Vec<UncheckedExtrinsic>) -> Vec<RuntimeEvent> {
		self.open();
		for xt in xts {
			let _ = Executive::apply_extrinsic(xt);
		}
		let events =
			frame_system::Pallet::<Runtime>::events().into_iter().map(|r| r.event).collect();
		self.close();
		events
	}

	/// One block in which `f` runs after the timestamp; returns what `f`
	/// returned and the block's events.
	pub fn with<R>(&mut self, f: impl FnOnce() -> R) -> (R, Vec<RuntimeEvent>) {
		self.open();
		let r = f();
		let events =
			frame_system::Pallet::<Runtime>::events().into_iter().map(|r| r.event).collect();
		self.close();
		(r, events)
	}

	/// Empty blocks until block `n` has been built.
	pub fn run_to(&mut self, n: u32) {
		while self.number < n {
			self.block(vec![]);
		}
	}

	/// Skips `blocks` block numbers and as many slots, as if the chain had
	/// been idle (the next block follows the last skipped one).
	pub fn skip(&mut self, blocks: u32) {
		self.number += blocks;
		self.slot += u64::from(blocks);
		frame_system::Pallet::<Runtime>::set_block_number(self.number);
	}

	/// Jumps to the first slot of the next BABE epoch and builds that
	/// block, in which the session rotates. Returns its events.
	pub fn next_session(&mut self) -> Vec<RuntimeEvent> {
		let start: u64 = pallet_babe::Pallet::<Runtime>::current_epoch_start().into();
		let next = start + cinder_runtime::configs::EpochDuration::get();
		if self.slot + 1 < next {
			self.slot = next - 1;
		}
		self.block(vec![])
	}

	/// Sessions until the active era changes; returns the events of every
	/// block built (the era payout's `EraPaid` among them).
	pub fn next_era(&mut self) -> Vec<RuntimeEvent> {
		let era = active_era();
		let mut events = Vec::new();
		while active_era() == era {
			events.extend(self.next_session());
		}
		events
	}
}

/// The dev keyring entry of `who`.
pub fn keyring(who: &AccountId) -> sp_keyring::Sr25519Keyring {
	sp_keyring::Sr25519Keyring::iter().find(|k| k.to_account_id() == *who).expect("a dev account")
}

/// A made-up trace of `steps` leaves for request `id`: what a challenger in
/// a test commits to and reveals when the worker is to stay silent.
pub fn made_up_leaves(id: u64, steps: u32) -> Vec<[u8; 32]> {
	(0..steps).map(|i| sp_io::hashing::blake2_256(&(id, i).encode())).collect()
}

fn sign_as(who: &AccountId, payload: &[u8]) -> pallet_inference::WorkerSignature {
	use sp_core::Pair;
	let pair: sp_core::sr25519::Pair = keyring(who).pair();
	pallet_inference::WorkerSignature::from(pair.sign(payload))
}

/// `challenger`'s challenge of request `id` with the root of `leaves`,
/// signed with its dev worker key.
pub fn challenge_xt(id: u64, challenger: &AccountId, leaves: &[[u8; 32]]) -> UncheckedExtrinsic {
	let genesis = frame_system::BlockHash::<Runtime>::get(0);
	let root = H256(cinder_kernel::merkle::root(leaves));
	let payload = pallet_disputes::crypto::challenge_payload(genesis, id, challenger, &root);
	let call = pallet_disputes::Call::challenge {
		request: id,
		challenger: challenger.clone(),
		root,
		signature: sign_as(challenger, &payload),
	};
	cinder_runtime::extrinsic::general(RuntimeCall::Disputes(call))
}

/// `challenger`'s reveal of every leaf of `leaves` in the open round of the
/// dispute over request `id`; `None` if no dispute is open.
pub fn reveal_xt(
	id: u64,
	challenger: &AccountId,
	leaves: &[[u8; 32]],
) -> Option<UncheckedExtrinsic> {
	use pallet_disputes::{Party, Stage};
	let genesis = frame_system::BlockHash::<Runtime>::get(0);
	let dispute = pallet_disputes::Disputes::<Runtime>::get(id)?;
	let Stage::Reveal { level, .. } = dispute.stage else { return None };
	let hashes: Vec<H256> = leaves.iter().copied().map(H256).collect();
	let payload = pallet_disputes::crypto::reveal_payload(
		genesis,
		id,
		dispute.opened,
		Party::Challenger,
		level,
		&hashes,
		&[],
	);
	let call = pallet_disputes::Call::reveal {
		request: id,
		party: Party::Challenger,
		hashes,
		output_proof: vec![],
		signature: sign_as(challenger, &payload),
	};
	Some(cinder_runtime::extrinsic::general(RuntimeCall::Disputes(call)))
}

/// The active staking era.
pub fn active_era() -> u32 {
	pallet_staking::ActiveEra::<Runtime>::get().map(|a| a.index).unwrap_or(0)
}
