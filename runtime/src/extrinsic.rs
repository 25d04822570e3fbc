//! Building signed extrinsics off chain, as a wallet or the node's worker
//! does. Only compiled natively (`std`).

use codec::Encode;
use sp_core::{sr25519, Pair, H256};
use sp_runtime::{generic::Era, MultiSignature};

use crate::{Nonce, Runtime, RuntimeCall, SignedPayload, TxExtension, UncheckedExtrinsic, VERSION};

/// The transaction extensions of an immortal transaction with `nonce` and `tip`.
pub fn tx_extension(nonce: Nonce, tip: crate::Balance) -> TxExtension {
	(
		frame_system::AuthorizeCall::<Runtime>::new(),
		frame_system::CheckNonZeroSender::<Runtime>::new(),
		frame_system::CheckSpecVersion::<Runtime>::new(),
		frame_system::CheckTxVersion::<Runtime>::new(),
		frame_system::CheckGenesis::<Runtime>::new(),
		frame_system::CheckEra::<Runtime>::from(Era::Immortal),
		frame_system::CheckNonce::<Runtime>::from(nonce),
		frame_system::CheckWeight::<Runtime>::new(),
		pallet_inference::CheckRequest::<Runtime>::new(),
		pallet_transaction_payment::ChargeTransactionPayment::<Runtime>::from(tip),
		frame_system::WeightReclaim::<Runtime>::new(),
	)
}

/// Signs `call` as `signer` with `nonce` for the chain whose genesis hash is
/// `genesis`. The transaction is immortal and carries no tip.
pub fn sign(
	signer: &sr25519::Pair,
	nonce: Nonce,
	genesis: H256,
	call: RuntimeCall,
) -> UncheckedExtrinsic {
	let tx_ext = tx_extension(nonce, 0);
	// What each extension adds to the signed payload without putting it in
	// the extrinsic: spec and transaction version, genesis hash (twice: once
	// for `CheckGenesis`, once as the immortal era's birth block).
	let implicit = (
		(),
		(),
		VERSION.spec_version,
		VERSION.transaction_version,
		genesis,
		genesis,
		(),
		(),
		(),
		(),
		(),
	);
	let payload = SignedPayload::from_raw(call.clone(), tx_ext.clone(), implicit);
	let signature = payload.using_encoded(|bytes| signer.sign(bytes));
	UncheckedExtrinsic::new_signed(
		call,
		sp_runtime::AccountId32::from(signer.public()).into(),
		MultiSignature::Sr25519(signature),
		tx_ext,
	)
}

/// A general (unsigned-preamble) transaction carrying `call`: for calls
/// authorized by their own arguments, like a worker's signed result.
pub fn general(call: RuntimeCall) -> UncheckedExtrinsic {
	UncheckedExtrinsic::new_transaction(call, tx_extension(0, 0))
}

/// The `submit_result` transaction for `request`, signed with the worker
/// key `worker` over [`pallet_inference::crypto::result_payload`].
pub fn submit_result(
	worker: &sr25519::Pair,
	genesis: H256,
	request: u64,
	output: alloc::vec::Vec<u8>,
	trace_root: H256,
	steps: u32,
) -> UncheckedExtrinsic {
	let payload =
		pallet_inference::crypto::result_payload(genesis, request, &output, &trace_root, steps);
	let signature = pallet_inference::WorkerSignature::from(worker.sign(&payload));
	general(RuntimeCall::Inference(pallet_inference::Call::submit_result {
		request,
		output,
		trace_root,
		steps,
		signature,
	}))
}
