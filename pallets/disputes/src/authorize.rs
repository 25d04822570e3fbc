//! Authorization of the dispute calls: the party's worker key signs each,
//! and the transaction pool keeps only calls the dispute still wants. Run by
//! the pool and again when a block is built and imported; dispatch re-checks
//! everything with typed errors.

use crate::{crypto, pallet::*, types::*};
use alloc::vec::Vec;
use codec::Encode;
use frame_support::{
	ensure,
	pallet_prelude::*,
	traits::{
		fungible::Inspect,
		tokens::{Fortitude, Preservation},
	},
};
use frame_system::pallet_prelude::BlockNumberFor;
use pallet_inference::{RequestId, ResultDisputes, WorkerKey, WorkerSignature};
use sp_core::H256;
use sp_runtime::{
	traits::Saturating,
	transaction_validity::{
		InvalidTransaction, TransactionSource, TransactionValidityWithRefund, ValidTransaction,
	},
	RuntimeAppPublic,
};

/// Valid until the end of `deadline`, deduplicated by `tag`.
fn valid<T: Config>(
	prefix: &'static str,
	tag: impl Encode,
	deadline: BlockNumberFor<T>,
) -> TransactionValidityWithRefund {
	let now = frame_system::Pallet::<T>::block_number();
	let longevity: u64 =
		deadline.saturating_sub(now).saturating_add(1u32.into()).try_into().unwrap_or(u64::MAX);
	let validity = ValidTransaction::with_tag_prefix(prefix)
		.priority(u64::MAX / 2)
		.and_provides(tag)
		.longevity(longevity)
		.propagate(true)
		.build()?;
	Ok((validity, Weight::zero()))
}

fn check(key: Option<&WorkerKey>, payload: &[u8], signature: &WorkerSignature) -> bool {
	key.is_some_and(|k| k.verify(&payload, signature))
}

impl<T: Config> Pallet<T> {
	// The signatures are the calls' arguments by reference, as `authorize`
	// wants them.
	#[allow(clippy::ptr_arg)]
	pub(crate) fn authorize_challenge(
		_source: TransactionSource,
		request: &RequestId,
		challenger: &T::AccountId,
		root: &H256,
		signature: &WorkerSignature,
	) -> TransactionValidityWithRefund {
		let stale = InvalidTransaction::Stale;
		ensure!(!Disputes::<T>::contains_key(request), stale);
		let posted = T::Results::result(*request).ok_or(stale)?;
		let window_end = posted.challenge_end.ok_or(stale)?;
		ensure!(frame_system::Pallet::<T>::block_number() < window_end, stale);
		ensure!(*challenger != posted.worker, InvalidTransaction::Call);
		// The bond must be holdable, or dispatch would fail.
		let free =
			T::Currency::reducible_balance(challenger, Preservation::Preserve, Fortitude::Polite);
		ensure!(free >= T::ChallengeBond::get(), InvalidTransaction::Payment);
		let key = T::Results::worker_key(challenger);
		let genesis = pallet_inference::crypto::genesis_hash::<T>();
		let payload = crypto::challenge_payload(genesis, *request, challenger, root);
		ensure!(check(key.as_ref(), &payload, signature), InvalidTransaction::BadProof);
		valid::<T>("CinderChallenge", request, window_end)
	}

	#[allow(clippy::ptr_arg)]
	pub(crate) fn authorize_reveal(
		_source: TransactionSource,
		request: &RequestId,
		party: &Party,
		hashes: &Vec<H256>,
		output_proof: &Vec<H256>,
		signature: &WorkerSignature,
	) -> TransactionValidityWithRefund {
		let stale = InvalidTransaction::Stale;
		let dispute = Disputes::<T>::get(request).ok_or(stale)?;
		let Stage::Reveal { level, revealed, deadline, .. } = dispute.stage else {
			return Err(stale.into());
		};
		ensure!(revealed != Some(*party), stale);
		ensure!(frame_system::Pallet::<T>::block_number() <= deadline, stale);
		let genesis = pallet_inference::crypto::genesis_hash::<T>();
		let payload = crypto::reveal_payload(
			genesis,
			*request,
			dispute.opened,
			*party,
			level,
			hashes,
			output_proof,
		);
		ensure!(check(dispute.key(*party), &payload, signature), InvalidTransaction::BadProof);
		// A reveal that would fail never takes block space (it carries no fee).
		Self::check_reveal(*request, &dispute, *party, hashes, output_proof)
			.map_err(|_| InvalidTransaction::Call)?;
		valid::<T>("CinderReveal", (request, party, level), deadline)
	}

	#[allow(clippy::ptr_arg)]
	pub(crate) fn authorize_prove_step(
		_source: TransactionSource,
		request: &RequestId,
		party: &Party,
		tiles: &Vec<TileProof>,
		signature: &WorkerSignature,
	) -> TransactionValidityWithRefund {
		let stale = InvalidTransaction::Stale;
		let dispute = Disputes::<T>::get(request).ok_or(stale)?;
		let Stage::Prove { step, deadline, .. } = dispute.stage else {
			return Err(stale.into());
		};
		ensure!(frame_system::Pallet::<T>::block_number() <= deadline, stale);
		ensure!(
			tiles.len() <= T::MaxProofTiles::get() as usize,
			InvalidTransaction::ExhaustsResources
		);
		let genesis = pallet_inference::crypto::genesis_hash::<T>();
		let payload = crypto::proof_payload(genesis, *request, dispute.opened, *party, tiles);
		ensure!(check(dispute.key(*party), &payload, signature), InvalidTransaction::BadProof);
		// Tiles that fail their proofs never take block space.
		Self::proven_inputs(*request, &dispute, step, tiles)
			.map_err(|_| InvalidTransaction::Call)?;
		valid::<T>("CinderProof", (request, party), deadline)
	}
}
