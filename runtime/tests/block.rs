//! A block carrying a signed transfer is built through the runtime's block
//! builder API and then imported (executed and state-root checked) on a
//! fresh copy of genesis, as a node does.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use cinder_runtime::{
	currency::UNITS, genesis_config_presets::ENDOWMENT, Block, Executive, Header, Runtime,
	RuntimeCall, UncheckedExtrinsic,
};
use codec::Encode;
use frame_support::traits::fungible::Inspect;
use sp_consensus_babe::{
	digests::{PreDigest, SecondaryPlainPreDigest},
	BABE_ENGINE_ID,
};
use sp_keyring::Sr25519Keyring;
use sp_runtime::{
	generic::{Digest, DigestItem},
	traits::{Block as BlockT, Header as HeaderT},
};

type Balances = pallet_balances::Pallet<Runtime>;

const SLOT: u64 = 600_000_000;

fn signed(sender: Sr25519Keyring, nonce: u32, call: RuntimeCall) -> UncheckedExtrinsic {
	let genesis = common::preset_ext("development")
		.execute_with(|| frame_system::BlockHash::<Runtime>::get(0));
	cinder_runtime::extrinsic::sign(&sender.pair(), nonce, genesis, call)
}

fn babe_digest() -> Digest {
	let pre = PreDigest::SecondaryPlain(SecondaryPlainPreDigest {
		authority_index: 0,
		slot: SLOT.into(),
	});
	Digest { logs: vec![DigestItem::PreRuntime(BABE_ENGINE_ID, pre.encode())] }
}

/// Authors block 1 on the development genesis with `extrinsics` after the
/// timestamp inherent; returns the sealed-less block.
fn author_block(extrinsics: Vec<UncheckedExtrinsic>) -> Block {
	let mut ext = common::preset_ext("development");
	ext.execute_with(|| {
		let parent = frame_system::BlockHash::<Runtime>::get(0);
		let header = Header::new(1, Default::default(), Default::default(), parent, babe_digest());
		Executive::initialize_block(&header);

		let now = SLOT * cinder_runtime::time::SLOT_DURATION;
		let timestamp =
			UncheckedExtrinsic::new_bare(RuntimeCall::Timestamp(pallet_timestamp::Call::set {
				now,
			}));
		let mut all = vec![timestamp];
		all.extend(extrinsics);
		for xt in &all {
			Executive::apply_extrinsic(xt.clone())
				.expect("valid transaction")
				.expect("dispatch succeeds");
		}
		let header = Executive::finalize_block();
		Block::new(header, all)
	})
}

#[test]
fn signed_transfer_in_a_block_is_imported_and_moves_funds() {
	let alice = Sr25519Keyring::Alice;
	let bob = Sr25519Keyring::Bob;
	let amount = 12_345 * UNITS;
	let transfer = signed(
		alice,
		0,
		RuntimeCall::Balances(pallet_balances::Call::transfer_keep_alive {
			dest: bob.to_account_id().into(),
			value: amount,
		}),
	);
	let block = author_block(vec![transfer]);
	assert_eq!(block.extrinsics().len(), 2);
	assert_eq!(*block.header().number(), 1);

	// Import: a fresh node executes the block and checks its state root.
	let mut ext = common::preset_ext("development");
	ext.execute_with(|| {
		let issuance = Balances::total_issuance();
		Executive::execute_block(block.clone().into());

		let bob_balance = Balances::total_balance(&bob.to_account_id());
		assert_eq!(bob_balance, ENDOWMENT + amount);
		let alice_balance = Balances::total_balance(&alice.to_account_id());
		assert!(alice_balance < ENDOWMENT - amount, "Alice paid the amount and a fee");
		assert!(alice_balance > ENDOWMENT - amount - UNITS, "the fee is small");
		assert_eq!(frame_system::Pallet::<Runtime>::account_nonce(alice.to_account_id()), 1);

		// The fee went to the treasury account, so issuance is unchanged.
		let fee = ENDOWMENT - amount - alice_balance;
		let treasury = cinder_runtime::configs::TreasuryAccount::get();
		let ed = cinder_runtime::currency::EXISTENTIAL_DEPOSIT;
		assert_eq!(Balances::total_balance(&treasury), ed + fee);
		assert_eq!(Balances::total_issuance(), issuance);
	});
}

#[test]
fn a_tampered_block_is_rejected_on_import() {
	let transfer = signed(
		Sr25519Keyring::Alice,
		0,
		RuntimeCall::Balances(pallet_balances::Call::transfer_keep_alive {
			dest: Sr25519Keyring::Bob.to_account_id().into(),
			value: UNITS,
		}),
	);
	let block = author_block(vec![transfer]);
	let (mut header, extrinsics) = block.deconstruct();
	header.set_state_root(Default::default());
	let tampered = Block::new(header, extrinsics);

	let mut ext = common::preset_ext("development");
	let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
		ext.execute_with(|| Executive::execute_block(tampered.into()))
	}));
	assert!(outcome.is_err(), "a block with a wrong state root must not import");
}

#[test]
fn a_transfer_signed_by_the_wrong_key_is_invalid() {
	let mut xt = signed(
		Sr25519Keyring::Alice,
		0,
		RuntimeCall::Balances(pallet_balances::Call::transfer_keep_alive {
			dest: Sr25519Keyring::Bob.to_account_id().into(),
			value: UNITS,
		}),
	);
	// Claim the transaction comes from Charlie, keep Alice's signature.
	if let sp_runtime::generic::Preamble::Signed(ref mut who, _, _) = xt.preamble {
		*who = Sr25519Keyring::Charlie.to_account_id().into();
	}
	let mut ext = common::preset_ext("development");
	ext.execute_with(|| {
		let parent = frame_system::BlockHash::<Runtime>::get(0);
		let header = Header::new(1, Default::default(), Default::default(), parent, babe_digest());
		Executive::initialize_block(&header);
		let result = Executive::apply_extrinsic(xt);
		assert!(result.is_err(), "bad signature must be rejected: {result:?}");
		assert_eq!(Balances::total_balance(&Sr25519Keyring::Charlie.to_account_id()), ENDOWMENT);
	});
}
