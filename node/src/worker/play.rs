//! The dispute driver: every block, for each open dispute this node's
//! worker is a party of, it makes the move the stage asks for — reveal the
//! round's nodes (with the output proof on the worker's first reveal) or
//! prove the first differing step — from a re-execution of the request,
//! once per move. When a dispute ends it reads the resolution and counts
//! the dispute won or lost.

use std::{
	collections::{HashMap, HashSet},
	sync::Arc,
};

use pallet_inference_runtime_api::{
	DisputeView, DisputesApi, Party, RequestId, Resolution, StageView,
};
use sc_transaction_pool_api::TransactionPool;
use sp_core::{sr25519, H256};

use super::{
	runs::{Run, RunKey, Work},
	Job, Shared, WorkerClient,
};
use cinder_runtime::{opaque::Block, AccountId, Balance, BlockNumber, RuntimeCall};

/// A dispute view of this runtime.
pub type View = DisputeView<AccountId, Balance, BlockNumber>;

/// One move of one dispute: a reveal round or the proof.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct Move {
	request: RequestId,
	opened: BlockNumber,
	/// The node a reveal round opens, or the step to prove (level 0).
	level: u32,
	index: u32,
	prove: bool,
}

/// What the driver remembers between blocks.
#[derive(Default)]
pub struct Playing {
	/// Moves queued or made.
	moves: HashSet<Move>,
	/// Open disputes this node is a party of, with its side and account.
	parties: HashMap<RequestId, (Party, AccountId)>,
}

/// The move `party` owes in `view`, if any.
fn due(view: &View, party: Party) -> Option<Move> {
	let (level, index, prove) = match view.stage {
		StageView::Reveal { node_level, node_index, revealed, .. } => {
			if revealed == Some(party) {
				return None;
			}
			(node_level, node_index, false)
		}
		StageView::Prove { step, .. } => (0, step, true),
	};
	Some(Move { request: view.request, opened: view.opened, level, index, prove })
}

impl<C, P> Shared<C, P>
where
	C: WorkerClient,
	P: TransactionPool<Block = Block> + 'static,
{
	/// Queues the moves owed at `hash` in the disputes of the local worker
	/// `accounts` (key, account), and settles the score of those that ended.
	pub(super) fn scan_disputes(
		&self,
		hash: H256,
		accounts: &[(sr25519::Public, AccountId)],
		tx: &std::sync::mpsc::SyncSender<Job>,
	) {
		let api = self.client.runtime_api();
		let Ok(mut playing) = self.playing.lock() else { return };
		let mut open = HashSet::new();
		for (key, me) in accounts {
			let views = match api.disputes_of(hash, me.clone()) {
				Ok(v) => v,
				Err(e) => {
					log::warn!(target: "worker", "runtime API: {e}");
					return;
				}
			};
			for view in views {
				let party = if view.worker == *me { Party::Worker } else { Party::Challenger };
				open.insert(view.request);
				playing.parties.entry(view.request).or_insert_with(|| {
					log::info!(
						target: "worker",
						"⚔️  request {}: in a dispute as the {party:?}",
						view.request
					);
					(party, me.clone())
				});
				let Some(step) = due(&view, party) else { continue };
				if playing.moves.contains(&step) {
					continue;
				}
				if tx.try_send(Job::Play { key: *key, party, view, step }).is_ok() {
					playing.moves.insert(step);
				}
			}
		}
		let ended: Vec<_> = playing.parties.keys().filter(|r| !open.contains(r)).copied().collect();
		for request in ended {
			let Some((party, _)) = playing.parties.remove(&request) else { continue };
			match api.resolution(hash, request) {
				Ok(Some(resolution)) => self.score(request, party, &resolution),
				Ok(None) => {
					log::warn!(target: "worker", "request {request}: dispute ended, no record")
				}
				Err(e) => log::warn!(target: "worker", "runtime API: {e}"),
			}
		}
		playing.moves.retain(|m| open.contains(&m.request));
	}

	fn score(&self, request: RequestId, party: Party, r: &Resolution<AccountId, BlockNumber>) {
		let lost = match party {
			Party::Worker => r.worker_lied,
			Party::Challenger => r.challenger_lied,
		};
		let word = if lost { "lost" } else { "won" };
		log::info!(
			target: "worker",
			"🏁 request {request}: dispute {word} as the {party:?} ({:?}{})",
			r.ending,
			r.step.map(|s| format!(" at step {s}")).unwrap_or_default(),
		);
		if let Some(m) = &self.metrics {
			m.disputes.with_label_values(&[word]).inc();
		}
	}

	/// Forgets that move `step` was made (it failed), so the next block
	/// tries it again.
	pub(super) fn retry(&self, step: Move) {
		if let Ok(mut playing) = self.playing.lock() {
			playing.moves.remove(&step);
		}
	}

	/// [`Self::play`], one move at a time across the executor threads (two
	/// moves of one dispute must not race).
	pub(super) fn play_alone(
		&self,
		key: sr25519::Public,
		party: Party,
		view: &View,
	) -> Result<&'static str, String> {
		let _alone = self.moving.lock().map_err(|_| "a dispute move panicked".to_string())?;
		self.play(key, party, view)
	}

	/// Makes the move `view` asks of `party`; returns what it did.
	pub(super) fn play(
		&self,
		key: sr25519::Public,
		party: Party,
		view: &View,
	) -> Result<&'static str, String> {
		let run = self.run_for(party, view)?;
		let mine = match party {
			Party::Worker => view.worker_root,
			Party::Challenger => view.challenger_root,
		};
		if H256(run.trace.root) != mine {
			return Err(format!(
				"cannot play: this node's run has root {:?}, not the {mine:?} it committed to",
				H256(run.trace.root)
			));
		}
		let prover = run.prover();
		let genesis = self.client.info().genesis_hash;
		let (call, what) = match view.stage {
			StageView::Reveal { node_level, level, start, end, output_bound, .. } => {
				let hashes = prover.nodes(level, start, end).map_err(|e| format!("{e:?}"))?;
				let output_proof = if party == Party::Worker && !output_bound {
					prover.output_proof().map_err(|e| format!("{e:?}"))?
				} else {
					Vec::new()
				};
				let payload = pallet_disputes::crypto::reveal_payload(
					genesis,
					view.request,
					view.opened,
					party,
					node_level,
					&hashes,
					&output_proof,
				);
				let signature = self.sign(&key, &payload)?;
				let call = pallet_disputes::Call::reveal {
					request: view.request,
					party,
					hashes,
					output_proof,
					signature,
				};
				(call, "revealed")
			}
			StageView::Prove { step, .. } => {
				let descriptor = run.program.steps.get(step as usize).ok_or("no such step")?;
				let tiles = prover.step_proof(descriptor).map_err(|e| format!("{e:?}"))?;
				let payload = pallet_disputes::crypto::proof_payload(
					genesis,
					view.request,
					view.opened,
					party,
					&tiles,
				);
				let signature = self.sign(&key, &payload)?;
				let call = pallet_disputes::Call::prove_step {
					request: view.request,
					party,
					tiles,
					signature,
				};
				(call, "proved its step")
			}
		};
		match self.submit(RuntimeCall::Disputes(call)) {
			Ok(()) => Ok(what),
			Err(super::NotSubmitted::Duplicate) => Ok("found its move already pending"),
			Err(e) => Err(e.into()),
		}
	}

	/// The run `party` plays `view`'s dispute from: the worker re-executes
	/// what it posted (its fault included), a challenger the honest run.
	fn run_for(&self, party: Party, view: &View) -> Result<Arc<Run>, String> {
		let own = party == Party::Worker;
		let key = RunKey { request: view.request, own };
		if let Some(run) = self.runs.lock().ok().and_then(|r| r.get(key)) {
			return Ok(run);
		}
		let model = self.models.get(view.model).ok_or("model not loaded")?;
		let fault = if own { self.fault } else { None };
		let job = Work {
			request: view.request,
			input: view.input.clone(),
			task: view.task,
			seed: view.seed,
		};
		let run = Arc::new(Run::execute(model, &job, self.engine_threads(), fault)?);
		self.runs_put(key, run.clone());
		Ok(run)
	}
}

#[cfg(test)]
mod tests {
	use super::*;

	fn view(stage: StageView<BlockNumber>) -> View {
		DisputeView {
			request: 7,
			model: 0,
			input: vec![101, 102],
			task: pallet_inference_runtime_api::Task::Embed,
			seed: H256::zero(),
			worker: AccountId::from([1u8; 32]),
			challenger: AccountId::from([2u8; 32]),
			worker_root: H256::repeat_byte(1),
			challenger_root: H256::repeat_byte(2),
			bond: 100,
			steps: 627,
			opened: 30,
			stage,
		}
	}

	fn reveal(revealed: Option<Party>, node_index: u32) -> StageView<BlockNumber> {
		StageView::Reveal {
			node_level: 10,
			node_index,
			level: 0,
			start: 0,
			end: 627,
			revealed,
			output_bound: false,
			deadline: 40,
		}
	}

	#[test]
	fn each_party_owes_each_move_once() {
		// Nobody has revealed: both owe the same round, once each.
		let round = due(&view(reveal(None, 0)), Party::Worker).unwrap();
		assert_eq!(due(&view(reveal(None, 0)), Party::Challenger), Some(round));
		assert!(!round.prove);
		// The challenger revealed: only the worker still owes the round.
		assert_eq!(due(&view(reveal(Some(Party::Challenger), 0)), Party::Challenger), None);
		assert_eq!(due(&view(reveal(Some(Party::Challenger), 0)), Party::Worker), Some(round));
		// The next round, at another node, is another move.
		assert_ne!(due(&view(reveal(None, 3)), Party::Worker), Some(round));
		// The proof is a move of either party, keyed by the step.
		let prove = due(&view(StageView::Prove { step: 300, deadline: 45 }), Party::Worker);
		assert_eq!(prove.map(|m| (m.prove, m.index)), Some((true, 300)));
		assert_ne!(prove, Some(round));
	}
}
