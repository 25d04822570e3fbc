//! The validator-attached inference worker.
//!
//! At start it loads the models it finds under its models directory that
//! match a model registered on chain. Then it follows the best chain: on
//! every new best block it asks the runtime for the open assignments of each
//! worker key in the node's keystore (key type `cinf`, registered on chain
//! by its validator), queues new ones in a bounded queue, and runs them off
//! the import path on its own thread with the deterministic engine. Each
//! result is signed with the worker key and submitted to the transaction
//! pool as a general `submit_result` transaction. Because assignments are
//! read from state, a restarted worker picks up whatever is still open.

mod fault;
mod metrics;
pub mod models;

pub use fault::Fault;

use std::{
	collections::HashSet,
	sync::{mpsc, Arc, Mutex},
	time::Instant,
};

use codec::{Decode, Encode};
use futures::StreamExt;
use pallet_inference::{crypto::KEY_TYPE, WorkerKey, WorkerSignature};
use pallet_inference_runtime_api::{Assignment, InferenceApi, RequestId};
use sc_client_api::BlockchainEvents;
use sc_transaction_pool_api::{TransactionPool, TransactionSource};
use sp_api::ProvideRuntimeApi;
use sp_blockchain::HeaderBackend;
use sp_core::{sr25519, H256};
use sp_keystore::KeystorePtr;

use cinder_runtime::{opaque::Block, AccountId, Balance, BlockNumber, RuntimeCall};
pub use models::LoadedModels;

/// What the worker needs of the client: the runtime's inference API, the
/// chain's head and its import notifications. The service's full client is
/// one; so is any client that can answer the same questions.
pub trait WorkerClient:
	ProvideRuntimeApi<Block, Api: InferenceApi<Block, AccountId, Balance, BlockNumber>>
	+ HeaderBackend<Block>
	+ BlockchainEvents<Block>
	+ Send
	+ Sync
	+ 'static
{
}

impl<C> WorkerClient for C where
	C: ProvideRuntimeApi<Block, Api: InferenceApi<Block, AccountId, Balance, BlockNumber>>
		+ HeaderBackend<Block>
		+ BlockchainEvents<Block>
		+ Send
		+ Sync
		+ 'static
{
}

/// How the worker runs.
#[derive(Clone, Debug)]
pub struct WorkerConfig {
	/// Threads the engine uses per request.
	pub threads: usize,
	/// Most requests waiting to run; beyond it new ones wait for a later
	/// block.
	pub queue: usize,
	/// A deliberate fault (development and local chains only).
	pub fault: Option<Fault>,
}

impl WorkerConfig {
	/// Refuses a fault on a chain that is not a development or local one.
	pub fn check_chain(&self, chain_type: sc_service::ChainType) -> Result<(), String> {
		use sc_service::ChainType::{Development, Local};
		match self.fault {
			Some(fault) if !matches!(chain_type, Development | Local) => Err(format!(
				"--fault {fault:?} is for development and local chains only, not a {chain_type:?} one"
			)),
			_ => Ok(()),
		}
	}
}

/// One assignment to run.
struct Job {
	key: sr25519::Public,
	assignment: Assignment<BlockNumber>,
}

/// Shared between the follower and the executor thread.
struct Shared<C, P> {
	client: Arc<C>,
	pool: Arc<P>,
	keystore: KeystorePtr,
	models: Arc<LoadedModels>,
	/// Requests queued, running or submitted and not yet seen answered.
	in_flight: Mutex<HashSet<RequestId>>,
	metrics: Option<metrics::Metrics>,
	threads: usize,
	fault: Option<Fault>,
}

/// Starts the worker: the chain follower as a task of `spawn`, the executor
/// on a thread of its own. `models` are the models loaded at start.
pub fn start<C, P>(
	config: &WorkerConfig,
	models: Arc<LoadedModels>,
	client: Arc<C>,
	pool: Arc<P>,
	keystore: KeystorePtr,
	spawn: &sc_service::SpawnTaskHandle,
	registry: Option<&substrate_prometheus_endpoint::Registry>,
) where
	C: WorkerClient,
	P: TransactionPool<Block = Block> + 'static,
{
	let metrics = registry.and_then(|r| match metrics::Metrics::register(r) {
		Ok(m) => Some(m),
		Err(e) => {
			log::warn!(target: "worker", "metrics not registered: {e}");
			None
		}
	});
	let shared = Arc::new(Shared {
		client,
		pool,
		keystore,
		models,
		in_flight: Mutex::new(HashSet::new()),
		metrics,
		threads: config.threads.max(1),
		fault: config.fault,
	});
	let (tx, rx) = mpsc::sync_channel::<Job>(config.queue.max(1));
	let runner = shared.clone();
	let spawned = std::thread::Builder::new().name("cinder-worker".into()).spawn(move || {
		while let Ok(job) = rx.recv() {
			runner.run(job);
		}
	});
	if let Err(e) = spawned {
		log::error!(target: "worker", "cannot start the executor thread: {e}");
		return;
	}
	log::info!(
		target: "worker",
		"⚙️  worker started: serving models {:?}, {} engine threads, queue of {}",
		shared.models.ids(),
		shared.threads,
		config.queue
	);
	spawn.spawn("cinder-worker", Some("worker"), async move {
		let mut blocks = shared.client.import_notification_stream();
		shared.scan(shared.client.info().best_hash, &tx);
		while let Some(block) = blocks.next().await {
			if block.is_new_best {
				shared.scan(block.hash, &tx);
			}
		}
	});
}

impl<C, P> Shared<C, P>
where
	C: WorkerClient,
	P: TransactionPool<Block = Block> + 'static,
{
	/// Queues the new assignments of every local worker key at `hash`.
	fn scan(&self, hash: H256, tx: &mpsc::SyncSender<Job>) {
		let api = self.client.runtime_api();
		let mut open: HashSet<RequestId> = HashSet::new();
		for key in self.keystore.sr25519_public_keys(KEY_TYPE) {
			let worker = match api.worker_by_key(hash, WorkerKey::from(key)) {
				Ok(Some(w)) => w,
				Ok(None) => continue,
				Err(e) => {
					log::warn!(target: "worker", "runtime API: {e}");
					return;
				}
			};
			let assignments = match api.assignments(hash, worker.clone()) {
				Ok(a) => a,
				Err(e) => {
					log::warn!(target: "worker", "runtime API: {e}");
					return;
				}
			};
			for assignment in assignments {
				open.insert(assignment.request);
				self.offer(key, &worker, assignment, tx);
			}
		}
		// Whatever is no longer assigned was answered, reassigned or refunded.
		if let Ok(mut in_flight) = self.in_flight.lock() {
			in_flight.retain(|id| open.contains(id));
		}
	}

	fn offer(
		&self,
		key: sr25519::Public,
		worker: &AccountId,
		assignment: Assignment<BlockNumber>,
		tx: &mpsc::SyncSender<Job>,
	) {
		let id = assignment.request;
		let Ok(mut in_flight) = self.in_flight.lock() else { return };
		if in_flight.contains(&id) {
			return;
		}
		if self.models.get(assignment.model).is_none() {
			log::warn!(
				target: "worker",
				"request {id} for model {} assigned to {worker}, which this node does not serve",
				assignment.model
			);
			in_flight.insert(id);
			return;
		}
		log::info!(
			target: "worker",
			"📥 request {id}: model {}, {} tokens, deadline #{}",
			assignment.model,
			assignment.input.len(),
			assignment.deadline
		);
		match tx.try_send(Job { key, assignment }) {
			Ok(()) => {
				in_flight.insert(id);
				if let Some(m) = &self.metrics {
					m.queue_depth.inc();
				}
			}
			Err(mpsc::TrySendError::Full(_)) => {
				log::info!(target: "worker", "queue full; request {id} waits for a later block")
			}
			Err(mpsc::TrySendError::Disconnected(_)) => {
				log::error!(target: "worker", "the executor thread is gone")
			}
		}
	}

	/// Runs one job and submits its result; on failure the request becomes
	/// eligible again at the next scan.
	fn run(&self, job: Job) {
		if let Some(m) = &self.metrics {
			m.queue_depth.dec();
		}
		let id = job.assignment.request;
		match self.execute_and_submit(&job) {
			Ok(seconds) => {
				log::info!(target: "worker", "📤 request {id}: result submitted ({seconds:.3}s inference)");
				if let Some(m) = &self.metrics {
					m.served.inc();
				}
			}
			Err(e) => {
				log::warn!(target: "worker", "request {id} failed: {e}");
				if let Some(m) = &self.metrics {
					m.failures.inc();
				}
				if let Ok(mut in_flight) = self.in_flight.lock() {
					in_flight.remove(&id);
				}
			}
		}
	}

	fn execute_and_submit(&self, job: &Job) -> Result<f64, String> {
		let a = &job.assignment;
		let model = self.models.get(a.model).ok_or("model not loaded")?;
		let start = Instant::now();
		let mut embedding = model.embed(&a.input, self.threads).map_err(|e| e.to_string())?;
		let seconds = start.elapsed().as_secs_f64();
		if let Some(m) = &self.metrics {
			m.inference_seconds.observe(seconds);
		}
		let mut output: Vec<u8> = embedding.vector.iter().flat_map(|v| v.to_le_bytes()).collect();
		if let Some(fault) = self.fault {
			fault.apply(a.request, &mut embedding.trace, &mut output);
			log::warn!(target: "worker", "😈 request {}: posting a wrong result ({fault:?})", a.request);
		}
		let steps = u32::try_from(embedding.program.steps.len()).map_err(|e| e.to_string())?;
		let trace_root = H256(embedding.trace.root);
		let genesis = self.client.info().genesis_hash;
		let payload = pallet_inference::crypto::result_payload(
			genesis,
			a.request,
			&output,
			&trace_root,
			steps,
		);
		let signature = self
			.keystore
			.sr25519_sign(KEY_TYPE, &job.key, &payload)
			.map_err(|e| e.to_string())?
			.ok_or("the worker key left the keystore")?;
		let call = RuntimeCall::Inference(pallet_inference::Call::submit_result {
			request: a.request,
			output,
			trace_root,
			steps,
			signature: WorkerSignature::from(signature),
		});
		let xt = cinder_runtime::extrinsic::general(call);
		let opaque = sp_runtime::OpaqueExtrinsic::decode(&mut &xt.encode()[..])
			.map_err(|e| e.to_string())?;
		let best = self.client.info().best_hash;
		futures::executor::block_on(self.pool.submit_one(best, TransactionSource::Local, opaque))
			.map_err(|e| format!("transaction pool: {e}"))?;
		Ok(seconds)
	}
}

/// The models to serve (and tokenize for over RPC), loaded from `dir` and
/// matched against the registry at the best block.
pub fn load_models<C: WorkerClient>(client: &C, dir: &std::path::Path) -> LoadedModels {
	let best = client.info().best_hash;
	match client.runtime_api().models(best) {
		Ok(registered) => LoadedModels::load(dir, &registered),
		Err(e) => {
			log::warn!(target: "worker", "cannot read the model registry: {e}");
			LoadedModels::default()
		}
	}
}
