//! The node's own JSON-RPC methods, added to the standard Substrate set
//! (system, chain, state, author, ...) that `sc-service` serves.

use std::sync::Arc;

use cinder_runtime::{opaque::Block, AccountId, Balance, BlockNumber, Nonce};
use jsonrpsee::RpcModule;
use sc_transaction_pool_api::TransactionPool;
use sp_api::ProvideRuntimeApi;
use sp_block_builder::BlockBuilder;
use sp_blockchain::{Error as BlockChainError, HeaderBackend, HeaderMetadata};

/// What the RPC extensions need.
pub struct Deps<C, P> {
	/// The client.
	pub client: Arc<C>,
	/// The transaction pool.
	pub pool: Arc<P>,
	/// Tokenizers of the models this node has, for `inference_tokenize`.
	pub tokenizers: Arc<dyn pallet_inference_rpc::Tokenizers>,
}

impl<C, P> Clone for Deps<C, P> {
	fn clone(&self) -> Self {
		Self {
			client: self.client.clone(),
			pool: self.pool.clone(),
			tokenizers: self.tokenizers.clone(),
		}
	}
}

/// Builds the RPC extensions: account nonces (`system_accountNextIndex`,
/// `system_dryRun`), fee queries (`payment_queryInfo`,
/// `payment_queryFeeDetails`) and the marketplace (`inference_*`).
pub fn create_full<C, P>(
	deps: Deps<C, P>,
) -> Result<RpcModule<()>, Box<dyn std::error::Error + Send + Sync>>
where
	C: ProvideRuntimeApi<Block>
		+ HeaderBackend<Block>
		+ HeaderMetadata<Block, Error = BlockChainError>
		+ sc_client_api::BlockchainEvents<Block>
		+ Send
		+ Sync
		+ 'static,
	C::Api: pallet_inference_runtime_api::InferenceApi<Block, AccountId, Balance, BlockNumber>,
	C::Api: pallet_inference_runtime_api::DisputesApi<Block, AccountId, Balance, BlockNumber>,
	C::Api: substrate_frame_rpc_system::AccountNonceApi<Block, AccountId, Nonce>,
	C::Api: pallet_transaction_payment_rpc::TransactionPaymentRuntimeApi<Block, Balance>,
	C::Api: BlockBuilder<Block>,
	P: TransactionPool + 'static,
{
	use pallet_transaction_payment_rpc::{TransactionPayment, TransactionPaymentApiServer};
	use substrate_frame_rpc_system::{System, SystemApiServer};

	use pallet_inference_rpc::{Inference, InferenceApiServer};

	let Deps { client, pool, tokenizers } = deps;
	let mut module = RpcModule::new(());
	module.merge(System::new(client.clone(), pool).into_rpc())?;
	module.merge(TransactionPayment::new(client.clone()).into_rpc())?;
	module.merge(Inference::<C, Block>::new(client, tokenizers).into_rpc())?;
	Ok(module)
}
