//! Auditing: every worker re-executes a share of the other workers' results
//! while they are open to challenge, compares the trace root and the
//! result's bytes with its own run, and challenges a mismatch with its own
//! root. Which results a worker audits is a deterministic draw on (request,
//! worker), so a restarted node audits the same ones.

use std::{collections::HashSet, sync::Arc};

use codec::Encode;
use pallet_inference_runtime_api::{InferenceApi, PostedResult, RequestId, RequestState};
use sc_transaction_pool_api::TransactionPool;
use sp_core::{sr25519, H256};

use super::{
	runs::{Run, RunKey, Work},
	Job, Shared, WorkerClient,
};
use cinder_runtime::{opaque::Block, AccountId, BlockNumber, RuntimeCall};

/// Request ids an audit scan looks at per block.
const SCAN: u32 = 1024;

/// Where the auditor is.
#[derive(Default)]
pub struct AuditState {
	/// No request below it needs auditing any more.
	cursor: RequestId,
	/// Results audited or queued, until they leave the window.
	seen: HashSet<RequestId>,
}

/// Whether a worker auditing `share` percent of results audits `request`.
pub fn selected(share: u8, request: RequestId, auditor: &AccountId) -> bool {
	let draw = sp_io::hashing::blake2_256(&(b"cinder/audit", request, auditor).encode());
	u64::from_le_bytes([draw[0], draw[1], draw[2], draw[3], draw[4], draw[5], draw[6], draw[7]])
		% 100 < u64::from(share.min(100))
}

/// What an audit found.
pub enum Finding {
	/// Same root, same bytes.
	Agreed,
	/// This node's run differs: challenged with its root.
	Challenged,
	/// The challenge window closes before a challenge could be included.
	TooLate,
	/// This node's run differs, and another auditor's challenge of it is
	/// already pending.
	AlreadyChallenged,
}

impl<C, P> Shared<C, P>
where
	C: WorkerClient,
	P: TransactionPool<Block = Block> + 'static,
{
	/// Queues audits of the results open to challenge at `hash` that
	/// `auditor` (with worker key `key`) draws and has not audited yet.
	pub(super) fn scan_audits(
		&self,
		hash: H256,
		key: sr25519::Public,
		auditor: &AccountId,
		mine: &[AccountId],
		tx: &std::sync::mpsc::SyncSender<Job>,
	) {
		if self.audit_share == 0 {
			return;
		}
		let api = self.client.runtime_api();
		let Ok(mut state) = self.audits.lock() else { return };
		let results = match api.open_results(hash, state.cursor, SCAN) {
			Ok(r) => r,
			Err(e) => {
				log::warn!(target: "worker", "runtime API: {e}");
				return;
			}
		};
		let open: HashSet<RequestId> = results.iter().map(|(id, _)| *id).collect();
		for (request, result) in results {
			if mine.contains(&result.worker)
				|| state.seen.contains(&request)
				|| !selected(self.audit_share, request, auditor)
				|| self.models.get(result.model).is_none()
			{
				continue;
			}
			match tx.try_send(Job::Audit { key, auditor: auditor.clone(), request, result }) {
				Ok(()) => {
					state.seen.insert(request);
				}
				Err(_) => break,
			}
		}
		state.seen.retain(|id| open.contains(id));
		// Move the cursor past requests that ended: they need no audit.
		let next = api.next_request_id(hash).unwrap_or(state.cursor);
		let mut walked = 0;
		while state.cursor < next && walked < SCAN {
			let finished = match api.request(hash, state.cursor) {
				Ok(Some(view)) => matches!(
					view.state,
					RequestState::Settled { .. } | RequestState::Refunded { .. }
				),
				Ok(None) => true,
				Err(_) => false,
			};
			if !finished {
				break;
			}
			state.cursor += 1;
			walked += 1;
		}
	}

	/// Re-executes `result` and challenges it if this node's run differs.
	pub(super) fn audit(
		&self,
		key: sr25519::Public,
		auditor: &AccountId,
		request: RequestId,
		result: &PostedResult<AccountId, BlockNumber>,
	) -> Result<Finding, String> {
		let model = self.models.get(result.model).ok_or("model not loaded")?;
		let start = std::time::Instant::now();
		let job =
			Work { request, input: result.input.clone(), task: result.task, seed: result.seed };
		let run = Arc::new(Run::execute(model, &job, self.engine_threads(), None)?);
		if let Some(m) = &self.metrics {
			m.audit_seconds.observe(start.elapsed().as_secs_f64());
		}
		let root = H256(run.trace.root);
		if root == result.trace_root && run.output == result.output {
			return Ok(Finding::Agreed);
		}
		let window_end = result.challenge_end.ok_or("already challenged")?;
		if self.client.info().best_number.saturating_add(1) >= window_end {
			return Ok(Finding::TooLate);
		}
		self.runs_put(RunKey { request, own: false }, run);
		log::warn!(
			target: "worker",
			"🔎 request {request}: {}'s result differs from this node's run (root {:?}, ours {root:?}); challenging",
			result.worker,
			result.trace_root,
		);
		let genesis = self.client.info().genesis_hash;
		let payload = pallet_disputes::crypto::challenge_payload(genesis, request, auditor, &root);
		let signature = self.sign(&key, &payload)?;
		match self.submit(RuntimeCall::Disputes(pallet_disputes::Call::challenge {
			request,
			challenger: auditor.clone(),
			root,
			signature,
		})) {
			Ok(()) => Ok(Finding::Challenged),
			Err(super::NotSubmitted::Duplicate) => Ok(Finding::AlreadyChallenged),
			Err(e) => Err(e.into()),
		}
	}
}

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn the_draw_audits_the_share_asked_for() {
		let auditor = AccountId::from([7u8; 32]);
		let count = |share| (0..10_000).filter(|r| selected(share, *r, &auditor)).count();
		assert_eq!(count(0), 0);
		assert_eq!(count(100), 10_000);
		assert_eq!(count(255), 10_000);
		let ten = count(10);
		assert!((800..1200).contains(&ten), "{ten}");
		// Another auditor draws other requests.
		let other = AccountId::from([8u8; 32]);
		let both =
			(0..10_000).filter(|r| selected(10, *r, &auditor) && selected(10, *r, &other)).count();
		assert!(both < 200, "{both}");
	}
}
