//! The runtime APIs the node (and RPC clients, through `state_call`) use.

use alloc::vec::Vec;
use frame_support::{
	genesis_builder_helper::{build_state, get_preset},
	weights::Weight,
};
use pallet_grandpa::AuthorityId as GrandpaId;
use sp_api::impl_runtime_apis;
use sp_core::{crypto::KeyTypeId, OpaqueMetadata};
use sp_runtime::{
	traits::{Block as BlockT, NumberFor},
	transaction_validity::{TransactionSource, TransactionValidity},
	ApplyExtrinsicResult,
};
use sp_version::RuntimeVersion;

use crate::{
	AccountId, Babe, Balance, Block, BlockNumber, Executive, Grandpa, Historical, InherentDataExt,
	Nonce, Runtime, RuntimeCall, RuntimeGenesisConfig, SessionKeys, System, TransactionPayment,
	BABE_GENESIS_EPOCH_CONFIG, VERSION,
};

sp_api::decl_runtime_apis! {
	/// Cinder's canonical inference kernel, as the runtime runs it.
	pub trait KernelApi {
		/// Recomputes one program step from its input tiles (canonical byte
		/// encoding, in source order) with kernel spec v1, exactly as a
		/// dispute does; returns the output tile's bytes.
		fn recompute_step(
			step: cinder_kernel::Step,
			inputs: Vec<Vec<u8>>,
		) -> Result<Vec<u8>, cinder_kernel::KernelError>;

		/// Recomputes one step of kernel spec v2 (llama-family decoders)
		/// from its inputs, each its encoding and, for a quantized weight
		/// tile, the format it is in; `seed` keys a sample step's random
		/// stream. Returns the output tile's bytes.
		fn recompute_step_v2(
			step: cinder_kernel::Step,
			inputs: Vec<(Option<cinder_kernel::quant::WeightFormat>, Vec<u8>)>,
			seed: [u8; 32],
		) -> Result<Vec<u8>, cinder_kernel::KernelError>;
	}
}

impl_runtime_apis! {
	impl self::KernelApi<Block> for Runtime {
		fn recompute_step(
			step: cinder_kernel::Step,
			inputs: Vec<Vec<u8>>,
		) -> Result<Vec<u8>, cinder_kernel::KernelError> {
			let tiles = inputs
				.iter()
				.map(|bytes| cinder_kernel::Tile::from_bytes(bytes))
				.collect::<Result<Vec<_>, _>>()?;
			let refs: Vec<&cinder_kernel::Tile> = tiles.iter().collect();
			cinder_kernel::verify::recompute(&step, &refs).map(|tile| tile.to_bytes())
		}

		fn recompute_step_v2(
			step: cinder_kernel::Step,
			inputs: Vec<(Option<cinder_kernel::quant::WeightFormat>, Vec<u8>)>,
			seed: [u8; 32],
		) -> Result<Vec<u8>, cinder_kernel::KernelError> {
			let tiles = inputs
				.iter()
				.map(|(format, bytes)| cinder_kernel::Weight::from_bytes(*format, bytes))
				.collect::<Result<Vec<_>, _>>()?;
			let refs: Vec<cinder_kernel::Input> = tiles.iter().map(cinder_kernel::Weight::input).collect();
			let context = cinder_kernel::verify::decoder::Context { seed: &seed };
			cinder_kernel::verify::decoder::recompute(&step, &refs, context).map(|tile| tile.to_bytes())
		}
	}

	impl sp_api::Core<Block> for Runtime {
		fn version() -> RuntimeVersion {
			VERSION
		}

		fn execute_block(block: <Block as BlockT>::LazyBlock) {
			Executive::execute_block(block);
		}

		fn initialize_block(header: &<Block as BlockT>::Header) -> sp_runtime::ExtrinsicInclusionMode {
			Executive::initialize_block(header)
		}
	}

	impl sp_api::Metadata<Block> for Runtime {
		fn metadata() -> OpaqueMetadata {
			OpaqueMetadata::new(Runtime::metadata().into())
		}

		fn metadata_at_version(version: u32) -> Option<OpaqueMetadata> {
			Runtime::metadata_at_version(version)
		}

		fn metadata_versions() -> Vec<u32> {
			Runtime::metadata_versions()
		}
	}

	impl sp_block_builder::BlockBuilder<Block> for Runtime {
		fn apply_extrinsic(extrinsic: <Block as BlockT>::Extrinsic) -> ApplyExtrinsicResult {
			Executive::apply_extrinsic(extrinsic)
		}

		fn finalize_block() -> <Block as BlockT>::Header {
			Executive::finalize_block()
		}

		fn inherent_extrinsics(data: sp_inherents::InherentData) -> Vec<<Block as BlockT>::Extrinsic> {
			data.create_extrinsics()
		}

		fn check_inherents(
			block: <Block as BlockT>::LazyBlock,
			data: sp_inherents::InherentData,
		) -> sp_inherents::CheckInherentsResult {
			data.check_extrinsics(&block)
		}
	}

	impl sp_transaction_pool::runtime_api::TaggedTransactionQueue<Block> for Runtime {
		fn validate_transaction(
			source: TransactionSource,
			tx: <Block as BlockT>::Extrinsic,
			block_hash: <Block as BlockT>::Hash,
		) -> TransactionValidity {
			Executive::validate_transaction(source, tx, block_hash)
		}
	}

	impl sp_offchain::OffchainWorkerApi<Block> for Runtime {
		fn offchain_worker(header: &<Block as BlockT>::Header) {
			Executive::offchain_worker(header)
		}
	}

	impl sp_consensus_babe::BabeApi<Block> for Runtime {
		fn configuration() -> sp_consensus_babe::BabeConfiguration {
			let epoch_config = Babe::epoch_config().unwrap_or(BABE_GENESIS_EPOCH_CONFIG);
			sp_consensus_babe::BabeConfiguration {
				slot_duration: Babe::slot_duration(),
				epoch_length: crate::configs::EpochDuration::get(),
				c: epoch_config.c,
				authorities: Babe::authorities().to_vec(),
				randomness: Babe::randomness(),
				allowed_slots: epoch_config.allowed_slots,
			}
		}

		fn current_epoch_start() -> sp_consensus_babe::Slot {
			Babe::current_epoch_start()
		}

		fn current_epoch() -> sp_consensus_babe::Epoch {
			Babe::current_epoch()
		}

		fn next_epoch() -> sp_consensus_babe::Epoch {
			Babe::next_epoch()
		}

		fn generate_key_ownership_proof(
			_slot: sp_consensus_babe::Slot,
			authority_id: sp_consensus_babe::AuthorityId,
		) -> Option<sp_consensus_babe::OpaqueKeyOwnershipProof> {
			use codec::Encode;
			use frame_support::traits::KeyOwnerProofSystem;

			Historical::prove((sp_consensus_babe::KEY_TYPE, authority_id))
				.map(|p| p.encode())
				.map(sp_consensus_babe::OpaqueKeyOwnershipProof::new)
		}

		fn submit_report_equivocation_unsigned_extrinsic(
			equivocation_proof: sp_consensus_babe::EquivocationProof<<Block as BlockT>::Header>,
			key_owner_proof: sp_consensus_babe::OpaqueKeyOwnershipProof,
		) -> Option<()> {
			let key_owner_proof = key_owner_proof.decode()?;
			Babe::submit_unsigned_equivocation_report(equivocation_proof, key_owner_proof)
		}
	}

	impl sp_consensus_grandpa::GrandpaApi<Block> for Runtime {
		fn grandpa_authorities() -> sp_consensus_grandpa::AuthorityList {
			Grandpa::grandpa_authorities()
		}

		fn current_set_id() -> sp_consensus_grandpa::SetId {
			Grandpa::current_set_id()
		}

		fn submit_report_equivocation_unsigned_extrinsic(
			equivocation_proof: sp_consensus_grandpa::EquivocationProof<
				<Block as BlockT>::Hash,
				NumberFor<Block>,
			>,
			key_owner_proof: sp_consensus_grandpa::OpaqueKeyOwnershipProof,
		) -> Option<()> {
			let key_owner_proof = key_owner_proof.decode()?;
			Grandpa::submit_unsigned_equivocation_report(equivocation_proof, key_owner_proof)
		}

		fn generate_key_ownership_proof(
			_set_id: sp_consensus_grandpa::SetId,
			authority_id: GrandpaId,
		) -> Option<sp_consensus_grandpa::OpaqueKeyOwnershipProof> {
			use codec::Encode;
			use frame_support::traits::KeyOwnerProofSystem;

			Historical::prove((sp_consensus_grandpa::KEY_TYPE, authority_id))
				.map(|p| p.encode())
				.map(sp_consensus_grandpa::OpaqueKeyOwnershipProof::new)
		}
	}

	impl sp_session::SessionKeys<Block> for Runtime {
		fn generate_session_keys(
			owner: Vec<u8>,
			seed: Option<Vec<u8>>,
		) -> sp_session::OpaqueGeneratedSessionKeys {
			SessionKeys::generate(&owner, seed).into()
		}

		fn decode_session_keys(encoded: Vec<u8>) -> Option<Vec<(Vec<u8>, KeyTypeId)>> {
			SessionKeys::decode_into_raw_public_keys(&encoded)
		}
	}

	impl frame_system_rpc_runtime_api::AccountNonceApi<Block, AccountId, Nonce> for Runtime {
		fn account_nonce(account: AccountId) -> Nonce {
			System::account_nonce(account)
		}
	}

	impl pallet_transaction_payment_rpc_runtime_api::TransactionPaymentApi<Block, Balance> for Runtime {
		fn query_info(
			uxt: <Block as BlockT>::Extrinsic,
			len: u32,
		) -> pallet_transaction_payment_rpc_runtime_api::RuntimeDispatchInfo<Balance> {
			TransactionPayment::query_info(uxt, len)
		}

		fn query_fee_details(
			uxt: <Block as BlockT>::Extrinsic,
			len: u32,
		) -> pallet_transaction_payment::FeeDetails<Balance> {
			TransactionPayment::query_fee_details(uxt, len)
		}

		fn query_weight_to_fee(weight: Weight) -> Balance {
			TransactionPayment::weight_to_fee(weight)
		}

		fn query_length_to_fee(length: u32) -> Balance {
			TransactionPayment::length_to_fee(length)
		}
	}

	impl pallet_transaction_payment_rpc_runtime_api::TransactionPaymentCallApi<Block, Balance, RuntimeCall>
		for Runtime
	{
		fn query_call_info(
			call: RuntimeCall,
			len: u32,
		) -> pallet_transaction_payment::RuntimeDispatchInfo<Balance> {
			TransactionPayment::query_call_info(call, len)
		}

		fn query_call_fee_details(
			call: RuntimeCall,
			len: u32,
		) -> pallet_transaction_payment::FeeDetails<Balance> {
			TransactionPayment::query_call_fee_details(call, len)
		}

		fn query_weight_to_fee(weight: Weight) -> Balance {
			TransactionPayment::weight_to_fee(weight)
		}

		fn query_length_to_fee(length: u32) -> Balance {
			TransactionPayment::length_to_fee(length)
		}
	}

	impl sp_genesis_builder::GenesisBuilder<Block> for Runtime {
		fn build_state(config: Vec<u8>) -> sp_genesis_builder::Result {
			build_state::<RuntimeGenesisConfig>(config)
		}

		fn get_preset(id: &Option<sp_genesis_builder::PresetId>) -> Option<Vec<u8>> {
			get_preset::<RuntimeGenesisConfig>(id, crate::genesis_config_presets::get_preset)
		}

		fn preset_names() -> Vec<sp_genesis_builder::PresetId> {
			crate::genesis_config_presets::preset_names()
		}
	}

	impl pallet_inference_runtime_api::InferenceApi<Block, AccountId, Balance, BlockNumber> for Runtime {
		fn models() -> Vec<pallet_models::ModelSummary<AccountId, Balance>> {
			crate::Models::summaries()
		}

		fn request(
			id: pallet_inference::RequestId,
		) -> Option<pallet_inference::RequestView<AccountId, Balance, BlockNumber>> {
			crate::Inference::request_view(id)
		}

		fn quote(
			model: pallet_models::ModelId,
			input: Vec<u32>,
			task: pallet_models::Task,
		) -> Result<pallet_inference::FeeQuote<Balance>, pallet_inference::Refusal> {
			crate::Inference::quote(model, &input, &task)
		}

		fn check(
			who: AccountId,
			model: pallet_models::ModelId,
			input: Vec<u32>,
			task: pallet_models::Task,
			max_fee: Balance,
		) -> Result<pallet_inference::FeeQuote<Balance>, pallet_inference::Refusal> {
			crate::Inference::check(&who, model, &input, &task, max_fee)
		}

		fn assignments(worker: AccountId) -> Vec<pallet_inference::Assignment<BlockNumber>> {
			crate::Inference::assignments_of(&worker)
		}

		fn next_request_id() -> pallet_inference::RequestId {
			pallet_inference::NextRequestId::<Runtime>::get()
		}

		fn worker_by_key(key: pallet_inference::WorkerKey) -> Option<AccountId> {
			crate::Inference::worker_by_key(&key)
		}

		fn open_results(
			from: pallet_inference::RequestId,
			limit: u32,
		) -> Vec<(pallet_inference::RequestId, pallet_inference::PostedResult<AccountId, BlockNumber>)> {
			crate::Inference::open_results(from, limit)
		}

		fn validators() -> Vec<pallet_inference::ValidatorView<AccountId, Balance>> {
			crate::income::validators()
		}

		fn nominator(who: AccountId) -> pallet_inference::NominatorView<AccountId, Balance> {
			crate::income::nominator(who)
		}
	}

	impl pallet_inference_runtime_api::DisputesApi<Block, AccountId, Balance, BlockNumber> for Runtime {
		fn dispute(
			request: pallet_inference::RequestId,
		) -> Option<pallet_disputes::DisputeView<AccountId, Balance, BlockNumber>> {
			crate::Disputes::dispute_view(request)
		}

		fn disputes_of(
			who: AccountId,
		) -> Vec<pallet_disputes::DisputeView<AccountId, Balance, BlockNumber>> {
			crate::Disputes::disputes_of(&who)
		}

		fn resolution(
			request: pallet_inference::RequestId,
		) -> Option<pallet_disputes::Resolution<AccountId, BlockNumber>> {
			crate::Disputes::resolution(request)
		}
	}

	#[cfg(feature = "runtime-benchmarks")]
	impl frame_benchmarking::Benchmark<Block> for Runtime {
		fn benchmark_metadata(extra: bool) -> (
			Vec<frame_benchmarking::BenchmarkList>,
			Vec<frame_support::traits::StorageInfo>,
		) {
			use crate::{AllPalletsWithSystem, Disputes, Inference, Models};
			use frame_benchmarking::BenchmarkList;
			use frame_support::traits::StorageInfoTrait;
			use frame_system_benchmarking::Pallet as SystemBench;

			let mut list = Vec::<BenchmarkList>::new();
			list_benchmarks!(list, extra);
			(list, AllPalletsWithSystem::storage_info())
		}

		fn dispatch_benchmark(
			config: frame_benchmarking::BenchmarkConfig,
		) -> Result<Vec<frame_benchmarking::BenchmarkBatch>, alloc::string::String> {
			use crate::{AllPalletsWithSystem, Disputes, Inference, Models};
			use frame_benchmarking::{BenchmarkBatch, __private::TrackedStorageKey};
			use frame_support::traits::WhitelistedStorageKeys;
			use frame_system_benchmarking::Pallet as SystemBench;

			let whitelist: Vec<TrackedStorageKey> = AllPalletsWithSystem::whitelisted_storage_keys();
			let mut batches = Vec::<BenchmarkBatch>::new();
			let params = (&config, &whitelist);
			add_benchmarks!(params, batches);
			Ok(batches)
		}
	}

	#[cfg(feature = "try-runtime")]
	impl frame_try_runtime::TryRuntime<Block> for Runtime {
		fn on_runtime_upgrade(checks: frame_try_runtime::UpgradeCheckSelect) -> (Weight, Weight) {
			let weight = Executive::try_runtime_upgrade(checks)
				.unwrap_or_else(|e| panic!("runtime upgrade checks failed: {e:?}"));
			(weight, crate::configs::RuntimeBlockWeights::get().max_block)
		}

		fn execute_block(
			block: <Block as BlockT>::LazyBlock,
			state_root_check: bool,
			signature_check: bool,
			select: frame_try_runtime::TryStateSelect,
		) -> Weight {
			Executive::try_execute_block(block, state_root_check, signature_check, select)
				.unwrap_or_else(|e| panic!("try_execute_block failed: {e:?}"))
		}
	}
}
