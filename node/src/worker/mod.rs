//! The validator-attached inference worker.
//!
//! At start it loads the models it finds under its models directory that
//! match a model registered on chain. Then it follows the best chain: on
//! every new best block it asks the runtime for the open assignments of each
//! worker key in the node's keystore (key type `cinf`, registered on chain
//! by its validator), queues new ones in a bounded queue, and runs them off
//! the import path with the deterministic engine. Each
//! result is signed with the worker key and submitted to the transaction
//! pool as a general `submit_result` transaction. Because assignments are
//! read from state, a restarted worker picks up whatever is still open.
//!
//! It also keeps the others honest: it re-executes a share of their
//! results while they are open to challenge and challenges a mismatch
//! ([`audit`]), and it plays every dispute it is a party of to the end
//! ([`play`]), re-executing the request to do so. Dispute moves have a
//! queue of their own that the executor empties first ([`queue`]): their
//! deadlines are a few blocks away, a queue of inference is not.
//!
//! Jobs run on as many executor threads as the worker has engine threads,
//! and the engine threads are shared out among the jobs running at once: a
//! lone request runs on all of them, concurrent requests on one each. On 2
//! cores that serves 28% more 17-token requests a second than one request
//! at a time on both (`scripts/bench-inference.sh`: 104 against 81), and
//! costs nothing when requests come one by one. Dispute moves run one at
//! a time.

mod audit;
mod fault;
mod metrics;
pub mod models;
mod play;
mod queue;
mod runs;

pub use fault::Fault;

use std::{
	collections::HashSet,
	sync::{
		atomic::{AtomicUsize, Ordering},
		mpsc, Arc, Mutex,
	},
	time::Instant,
};

use codec::{Decode, Encode};
use futures::StreamExt;
use pallet_inference::{crypto::KEY_TYPE, WorkerKey, WorkerSignature};
use pallet_inference_runtime_api::{
	Assignment, DisputesApi, InferenceApi, Party, PostedResult, RequestId,
};
use sc_client_api::BlockchainEvents;
use sc_transaction_pool_api::{TransactionPool, TransactionSource};
use sp_api::ProvideRuntimeApi;
use sp_blockchain::HeaderBackend;
use sp_core::{sr25519, H256};
use sp_keystore::KeystorePtr;

use cinder_runtime::{opaque::Block, AccountId, Balance, BlockNumber, RuntimeCall};
pub use models::LoadedModels;

/// The runtime APIs the worker calls.
pub trait WorkerApi:
	InferenceApi<Block, AccountId, Balance, BlockNumber>
	+ DisputesApi<Block, AccountId, Balance, BlockNumber>
{
}

impl<A> WorkerApi for A where
	A: InferenceApi<Block, AccountId, Balance, BlockNumber>
		+ DisputesApi<Block, AccountId, Balance, BlockNumber>
{
}

/// What the worker needs of the client: the runtime's inference and
/// dispute APIs, the chain's head and its import notifications. The
/// service's full client is one; so is any client that can answer the same
/// questions.
pub trait WorkerClient:
	ProvideRuntimeApi<Block, Api: WorkerApi>
	+ HeaderBackend<Block>
	+ BlockchainEvents<Block>
	+ Send
	+ Sync
	+ 'static
{
}

impl<C> WorkerClient for C where
	C: ProvideRuntimeApi<Block, Api: WorkerApi>
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
	/// Engine threads, shared among the jobs running at once; as many jobs
	/// run at once.
	pub threads: usize,
	/// Most requests and audits waiting to run (and, separately, dispute
	/// moves); beyond it new ones wait for a later block.
	pub queue: usize,
	/// A deliberate fault (development and local chains only).
	pub fault: Option<Fault>,
	/// Percent of other workers' results to re-execute; `None`: the
	/// chain's default ([`WorkerConfig::for_chain`]).
	pub audit_share: Option<u8>,
}

/// Audit share on chains other than development and local ones: with
/// `n` other workers a result is re-executed by `n / 10` of them on
/// average, at a tenth of each worker's serving load.
pub const LIVE_AUDIT_SHARE: u8 = 10;

impl WorkerConfig {
	/// This configuration for a chain of `chain_type`: refuses a fault on a
	/// chain that is not a development or local one, and fills in the
	/// audit share (every result on development and local chains,
	/// [`LIVE_AUDIT_SHARE`] percent elsewhere).
	pub fn for_chain(mut self, chain_type: sc_service::ChainType) -> Result<Self, String> {
		use sc_service::ChainType::{Development, Local};
		let test_chain = matches!(chain_type, Development | Local);
		if let Some(fault) = self.fault.filter(|_| !test_chain) {
			return Err(format!(
				"--fault {fault:?} is for development and local chains only, not a {chain_type:?} one"
			));
		}
		if self.audit_share.is_some_and(|s| s > 100) {
			return Err("--audit-share is a percentage: 0 to 100".into());
		}
		self.audit_share =
			Some(self.audit_share.unwrap_or(if test_chain { 100 } else { LIVE_AUDIT_SHARE }));
		Ok(self)
	}
}

/// Why a transaction was not submitted.
#[derive(Debug)]
enum NotSubmitted {
	/// The pool already holds one that provides the same (the same move
	/// sent before, or another auditor's challenge of the same result).
	Duplicate,
	Failed(String),
}

impl std::fmt::Display for NotSubmitted {
	fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
		match self {
			Self::Duplicate => f.write_str("an equivalent transaction is already in the pool"),
			Self::Failed(e) => f.write_str(e),
		}
	}
}

impl From<NotSubmitted> for String {
	fn from(e: NotSubmitted) -> String {
		e.to_string()
	}
}

/// Work for the executor thread.
enum Job {
	/// Answer an assignment.
	Serve { key: sr25519::Public, assignment: Assignment<BlockNumber> },
	/// Re-execute another worker's result.
	Audit {
		key: sr25519::Public,
		auditor: AccountId,
		request: RequestId,
		result: PostedResult<AccountId, BlockNumber>,
	},
	/// Make the next move of a dispute.
	Play { key: sr25519::Public, party: Party, view: play::View, step: play::Move },
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
	/// Jobs running right now (their engine threads share `threads`).
	busy: AtomicUsize,
	/// Held while a dispute move runs: moves go one at a time.
	moving: Mutex<()>,
	fault: Option<Fault>,
	/// Percent of other workers' results audited.
	audit_share: u8,
	audits: Mutex<audit::AuditState>,
	playing: Mutex<play::Playing>,
	/// Recent runs, for disputes.
	runs: Mutex<runs::Runs>,
	/// Every (worker key, account) pair seen registered.
	known: Mutex<Vec<(sr25519::Public, AccountId)>>,
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
		busy: AtomicUsize::new(0),
		moving: Mutex::new(()),
		fault: config.fault,
		audit_share: config.audit_share.unwrap_or(0).min(100),
		audits: Mutex::new(audit::AuditState::default()),
		playing: Mutex::new(play::Playing::default()),
		// A trace at 512 tokens is tens of megabytes: keep four.
		runs: Mutex::new(runs::Runs::new(4)),
		known: Mutex::new(Vec::new()),
	});
	let (tx, rx) = queue::channels::<Job>(config.queue);
	let rx = Arc::new(Mutex::new(rx));
	for executor in 0..shared.threads {
		let (runner, rx) = (shared.clone(), rx.clone());
		let spawned = std::thread::Builder::new().name(format!("cinder-worker-{executor}")).spawn(
			move || {
				// One executor waits on the queues at a time; the others
				// wait for it to take a job.
				while let Some(job) = rx.lock().ok().and_then(|rx| rx.next()) {
					runner.run(job);
				}
			},
		);
		if let Err(e) = spawned {
			log::error!(target: "worker", "cannot start executor thread {executor}: {e}");
			return;
		}
	}
	log::info!(
		target: "worker",
		"⚙️  worker started: serving models {:?}, {} engine threads, queue of {}, auditing {}% of results",
		shared.models.ids(),
		shared.threads,
		config.queue,
		shared.audit_share,
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
	/// At best block `hash`: queues the new assignments of every local
	/// worker key, the moves its disputes owe and the audits it draws.
	fn scan(&self, hash: H256, tx: &queue::Senders<Job>) {
		let api = self.client.runtime_api();
		let mut accounts = Vec::new();
		for key in self.keystore.sr25519_public_keys(KEY_TYPE) {
			match api.worker_by_key(hash, WorkerKey::from(key)) {
				Ok(Some(worker)) => accounts.push((key, worker)),
				Ok(None) => {}
				Err(e) => {
					log::warn!(target: "worker", "runtime API: {e}");
					return;
				}
			}
		}
		// Disputes first: their moves have the shortest deadlines. A worker
		// expelled by one dispute still defends the others it is in (its
		// key was recorded when they opened), so accounts once seen stay.
		let known: Vec<_> = match self.known.lock() {
			Ok(mut known) => {
				for (key, account) in &accounts {
					if !known.contains(&(*key, account.clone())) {
						known.push((*key, account.clone()));
					}
				}
				known.clone()
			}
			Err(_) => accounts.clone(),
		};
		self.scan_disputes(hash, &known, &tx.moves);
		self.scan_assignments(hash, &accounts, &tx.work);
		let mine: Vec<AccountId> = accounts.iter().map(|(_, a)| a.clone()).collect();
		if let Some((key, auditor)) = accounts.first() {
			self.scan_audits(hash, *key, auditor, &mine, &tx.work);
		}
	}

	/// Queues the new assignments of the local worker `accounts`.
	fn scan_assignments(
		&self,
		hash: H256,
		accounts: &[(sr25519::Public, AccountId)],
		tx: &mpsc::SyncSender<Job>,
	) {
		let api = self.client.runtime_api();
		let mut open: HashSet<RequestId> = HashSet::new();
		for (key, worker) in accounts {
			let assignments = match api.assignments(hash, worker.clone()) {
				Ok(a) => a,
				Err(e) => {
					log::warn!(target: "worker", "runtime API: {e}");
					return;
				}
			};
			for assignment in assignments {
				open.insert(assignment.request);
				self.offer(*key, worker, assignment, tx);
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
			// Registered for a model it cannot run (its files gone or
			// refused at start): the deadline will pass, the request be
			// reassigned and this worker demoted. Said once per request.
			log::error!(
				target: "worker",
				"request {id} for model {} assigned to {worker}, but this node does not serve it \
				 (not loaded from the models directory): it will miss its deadline #{} and be \
				 demoted; restore the model's files and restart, or register the worker without it",
				assignment.model,
				assignment.deadline,
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
		match tx.try_send(Job::Serve { key, assignment }) {
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

	/// Engine threads for a job starting now: the worker's threads shared
	/// among the jobs running.
	fn engine_threads(&self) -> usize {
		(self.threads / self.busy.load(Ordering::Relaxed).max(1)).max(1)
	}

	/// Runs one job.
	fn run(&self, job: Job) {
		self.busy.fetch_add(1, Ordering::Relaxed);
		self.run_job(job);
		self.busy.fetch_sub(1, Ordering::Relaxed);
	}

	fn run_job(&self, job: Job) {
		match job {
			Job::Serve { key, assignment } => self.serve(key, assignment),
			Job::Audit { key, auditor, request, result } => {
				let finding = self.audit(key, &auditor, request, &result);
				let label = match &finding {
					Ok(audit::Finding::Agreed) => "agreed",
					Ok(audit::Finding::Challenged) => "challenged",
					Ok(audit::Finding::TooLate) => "too_late",
					Ok(audit::Finding::AlreadyChallenged) => "already_challenged",
					Err(e) => {
						log::warn!(target: "worker", "audit of request {request} failed: {e}");
						"failed"
					}
				};
				log::debug!(target: "worker", "🔎 request {request}: audit {label}");
				if let Some(m) = &self.metrics {
					m.audits.with_label_values(&[label]).inc();
				}
			}
			Job::Play { key, party, view, step } => match self.play_alone(key, party, &view) {
				Ok(what) => {
					log::info!(target: "worker", "⚔️  request {}: {what} as the {party:?}", view.request)
				}
				Err(e) => {
					log::warn!(
						target: "worker",
						"request {}: dispute move failed (retried next block): {e}",
						view.request
					);
					self.retry(step);
				}
			},
		}
	}

	/// Answers one assignment; on failure the request becomes eligible again
	/// at the next scan.
	fn serve(&self, key: sr25519::Public, assignment: Assignment<BlockNumber>) {
		if let Some(m) = &self.metrics {
			m.queue_depth.dec();
		}
		let id = assignment.request;
		match self.execute_and_submit(key, &assignment) {
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

	fn execute_and_submit(
		&self,
		key: sr25519::Public,
		a: &Assignment<BlockNumber>,
	) -> Result<f64, String> {
		if self.fault == Some(Fault::Silent) {
			log::warn!(target: "worker", "😈 request {}: not answering (silent)", a.request);
			return Err("a silent worker posts nothing".into());
		}
		let model = self.models.get(a.model).ok_or("model not loaded")?;
		let start = Instant::now();
		let job =
			runs::Work { request: a.request, input: a.input.clone(), task: a.task, seed: a.seed };
		let run = runs::Run::execute(model, &job, self.engine_threads(), self.fault)?;
		let seconds = start.elapsed().as_secs_f64();
		if let Some(m) = &self.metrics {
			m.inference_seconds.observe(seconds);
		}
		if let Some(fault) = self.fault {
			log::warn!(target: "worker", "😈 request {}: posting a wrong result ({fault:?})", a.request);
		}
		let steps = u32::try_from(run.program.steps.len()).map_err(|e| e.to_string())?;
		let trace_root = H256(run.trace.root);
		let genesis = self.client.info().genesis_hash;
		let payload = pallet_inference::crypto::result_payload(
			genesis,
			a.request,
			&run.output,
			&trace_root,
			steps,
		);
		let signature = self.sign(&key, &payload)?;
		self.submit(RuntimeCall::Inference(pallet_inference::Call::submit_result {
			request: a.request,
			output: run.output,
			trace_root,
			steps,
			signature,
		}))?;
		Ok(seconds)
	}

	/// `payload` signed with worker key `key`.
	fn sign(&self, key: &sr25519::Public, payload: &[u8]) -> Result<WorkerSignature, String> {
		let signature = self
			.keystore
			.sr25519_sign(KEY_TYPE, key, payload)
			.map_err(|e| e.to_string())?
			.ok_or("the worker key left the keystore")?;
		Ok(WorkerSignature::from(signature))
	}

	/// Submits `call` as a general (worker-key authorized) transaction.
	fn submit(&self, call: RuntimeCall) -> Result<(), NotSubmitted> {
		use sc_transaction_pool_api::error::{Error as PoolError, IntoPoolError};
		let xt = cinder_runtime::extrinsic::general(call);
		let opaque = sp_runtime::OpaqueExtrinsic::decode(&mut &xt.encode()[..])
			.map_err(|e| NotSubmitted::Failed(e.to_string()))?;
		let best = self.client.info().best_hash;
		futures::executor::block_on(self.pool.submit_one(best, TransactionSource::Local, opaque))
			.map(|_| ())
			.map_err(|e| match e.into_pool_error() {
				Ok(PoolError::AlreadyImported(_) | PoolError::TooLowPriority { .. }) => {
					NotSubmitted::Duplicate
				}
				Ok(e) => NotSubmitted::Failed(format!("transaction pool: {e}")),
				Err(e) => NotSubmitted::Failed(format!("transaction pool: {e}")),
			})
	}

	/// Keeps `run` for the dispute it may lead to.
	fn runs_put(&self, key: runs::RunKey, run: Arc<runs::Run>) {
		if let Ok(mut runs) = self.runs.lock() {
			runs.put(key, run);
		}
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
