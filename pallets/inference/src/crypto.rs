//! The worker key: an sr25519 key of its own key type (`cinf`), kept in the
//! node's keystore, that signs results. A validator registers it with
//! `register_worker`; the runtime checks every result against it.

use codec::Encode;
use sp_core::H256;

/// Key type of worker keys in the keystore.
pub const KEY_TYPE: sp_application_crypto::KeyTypeId = sp_application_crypto::KeyTypeId(*b"cinf");

mod app {
	use sp_application_crypto::{app_crypto, sr25519};
	app_crypto!(sr25519, super::KEY_TYPE);
}

#[cfg(feature = "std")]
pub use app::Pair as WorkerPair;
pub use app::{Public as WorkerKey, Signature as WorkerSignature};

/// The bytes a worker signs to submit a result: domain tag, the chain's
/// genesis hash (no replay across chains), the request, the hash of the
/// output, the trace root and the step count.
pub fn result_payload(
	genesis: H256,
	request: u64,
	output: &[u8],
	trace_root: &H256,
	steps: u32,
) -> alloc::vec::Vec<u8> {
	let output_hash = sp_io::hashing::blake2_256(output);
	(b"cinder/result/v1", genesis, request, output_hash, trace_root, steps).encode()
}

/// The chain's genesis hash, which worker signatures commit to.
pub fn genesis_hash<T: frame_system::Config>() -> H256 {
	use sp_runtime::traits::Zero;
	let hash = frame_system::Pallet::<T>::block_hash(
		frame_system::pallet_prelude::BlockNumberFor::<T>::zero(),
	);
	H256::from_slice(hash.as_ref())
}

/// The worker key is a session key: `author_rotateKeys` and `--dev` put one
/// in the node's keystore. The session's key changes do not re-register a
/// worker; `register_worker` names the key explicitly.
impl<T: crate::Config> sp_runtime::BoundToRuntimeAppPublic for crate::Pallet<T> {
	type Public = WorkerKey;
}

impl<T: crate::Config> frame_support::traits::OneSessionHandler<T::AccountId> for crate::Pallet<T> {
	type Key = WorkerKey;

	fn on_genesis_session<'a, I>(_validators: I)
	where
		I: Iterator<Item = (&'a T::AccountId, WorkerKey)> + 'a,
	{
	}

	fn on_new_session<'a, I>(_changed: bool, _validators: I, _queued: I)
	where
		I: Iterator<Item = (&'a T::AccountId, WorkerKey)> + 'a,
	{
	}

	fn on_disabled(_validator_index: u32) {}
}
