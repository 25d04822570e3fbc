//! What a party's worker key signs to authorize its dispute calls. Every
//! payload carries a domain tag, the chain's genesis hash (no replay across
//! chains) and the request; bulky arguments enter as their blake2-256.

use crate::types::{Party, TileProof};
use alloc::vec::Vec;
use codec::Encode;
use sp_core::H256;

/// Signed by the challenger's worker key to open a dispute.
pub fn challenge_payload<AccountId: Encode>(
	genesis: H256,
	request: u64,
	challenger: &AccountId,
	root: &H256,
) -> Vec<u8> {
	(b"cinder/challenge/v1", genesis, request, challenger, root).encode()
}

/// Signed by `party` to reveal `hashes` (and, the worker's first time, the
/// proof that its result is its trace's last leaf) in the round at `level`
/// of the dispute opened in block `opened`.
pub fn reveal_payload<BlockNumber: Encode>(
	genesis: H256,
	request: u64,
	opened: BlockNumber,
	party: Party,
	level: u32,
	hashes: &[H256],
	output_proof: &[H256],
) -> Vec<u8> {
	let data = sp_io::hashing::blake2_256(&(hashes, output_proof).encode());
	(b"cinder/reveal/v1", genesis, request, opened, party, level, data).encode()
}

/// Signed by `party` to submit a one-step proof with input `tiles`.
pub fn proof_payload<BlockNumber: Encode>(
	genesis: H256,
	request: u64,
	opened: BlockNumber,
	party: Party,
	tiles: &[TileProof],
) -> Vec<u8> {
	let data = sp_io::hashing::blake2_256(&tiles.encode());
	(b"cinder/prove/v1", genesis, request, opened, party, data).encode()
}
