//! How `inference_dispute` (and the `dispute` field of a request) shows a
//! dispute: who, which roots, where the game is and by when, the first
//! differing step once found, and how it ended.

use pallet_inference_runtime_api::{DisputeView, Ending, Party, Resolution, StageView};
use serde::{Deserialize, Serialize};
use sp_core::H256;

use crate::Amount;

/// A request's dispute, open or ended (kept for the chain's retention).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DisputeInfo<AccountId, BlockNumber> {
	/// The worker whose result was challenged.
	pub worker: AccountId,
	/// The challenging worker.
	pub challenger: AccountId,
	pub worker_root: H256,
	pub challenger_root: H256,
	/// `reveal`, `prove` or `ended`.
	pub stage: String,
	/// While open: the challenger's bond held.
	pub bond: Option<Amount>,
	/// While open: leaves in each trace.
	pub steps: Option<u32>,
	/// While open: the block the challenge was made in.
	pub opened: Option<BlockNumber>,
	/// While open: the last block of the current stage.
	pub deadline: Option<BlockNumber>,
	/// In a reveal round: the tree level revealed (0: leaves), the node
	/// range, and who has revealed.
	pub reveal: Option<RevealInfo>,
	/// Once found: the first step where the traces differ.
	pub first_differing_step: Option<u32>,
	/// Once ended.
	pub outcome: Option<OutcomeInfo<BlockNumber>>,
}

/// A reveal round.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RevealInfo {
	pub level: u32,
	pub start: u32,
	pub end: u32,
	/// `worker` or `challenger`, if one has revealed.
	pub revealed: Option<String>,
}

/// How a dispute ended.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OutcomeInfo<BlockNumber> {
	/// `silence`, `outputNotInTrace`, `noDifference`, `proved` or `noProof`.
	pub ending: String,
	/// The worker's result was wrong (it was slashed and replaced).
	pub worker_lied: bool,
	/// The challenger's claim was wrong (it lost its bond).
	pub challenger_lied: bool,
	/// The block it ended in.
	pub at: BlockNumber,
}

fn party(p: Party) -> String {
	match p {
		Party::Worker => "worker".into(),
		Party::Challenger => "challenger".into(),
	}
}

fn ending(e: Ending) -> String {
	match e {
		Ending::Silence => "silence",
		Ending::OutputNotInTrace => "outputNotInTrace",
		Ending::NoDifference => "noDifference",
		Ending::Proved => "proved",
		Ending::NoProof => "noProof",
	}
	.into()
}

impl<A, N> DisputeInfo<A, N> {
	/// An open dispute.
	pub fn open<B: Into<u128>>(view: DisputeView<A, B, N>) -> Self {
		let (stage, deadline, reveal, step) = match view.stage {
			StageView::Reveal { level, start, end, revealed, deadline, .. } => (
				"reveal",
				deadline,
				Some(RevealInfo { level, start, end, revealed: revealed.map(party) }),
				None,
			),
			StageView::Prove { step, deadline } => ("prove", deadline, None, Some(step)),
		};
		Self {
			worker: view.worker,
			challenger: view.challenger,
			worker_root: view.worker_root,
			challenger_root: view.challenger_root,
			stage: stage.into(),
			bond: Some(Amount::of(view.bond)),
			steps: Some(view.steps),
			opened: Some(view.opened),
			deadline: Some(deadline),
			reveal,
			first_differing_step: step,
			outcome: None,
		}
	}

	/// An ended dispute.
	pub fn ended(r: Resolution<A, N>) -> Self {
		Self {
			worker: r.worker,
			challenger: r.challenger,
			worker_root: r.worker_root,
			challenger_root: r.challenger_root,
			stage: "ended".into(),
			bond: None,
			steps: None,
			opened: None,
			deadline: None,
			reveal: None,
			first_differing_step: r.step,
			outcome: Some(OutcomeInfo {
				ending: ending(r.ending),
				worker_lied: r.worker_lied,
				challenger_lied: r.challenger_lied,
				at: r.at,
			}),
		}
	}
}

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn disputes_read_as_documented() {
		let view = DisputeView {
			request: 4,
			model: 0,
			input: vec![101, 102],
			task: pallet_inference_runtime_api::Task::Embed,
			seed: H256::zero(),
			worker: 1u64,
			challenger: 2u64,
			worker_root: H256::repeat_byte(1),
			challenger_root: H256::repeat_byte(2),
			bond: 100u128,
			steps: 627,
			opened: 10u32,
			stage: StageView::Reveal {
				node_level: 10,
				node_index: 0,
				level: 0,
				start: 0,
				end: 627,
				revealed: Some(Party::Challenger),
				output_bound: false,
				deadline: 20,
			},
		};
		let json = serde_json::to_value(DisputeInfo::open(view)).unwrap();
		assert_eq!(json["stage"], "reveal");
		assert_eq!(json["deadline"], 20);
		assert_eq!(json["bond"], "100");
		assert_eq!(json["reveal"]["revealed"], "challenger");
		assert_eq!(json["reveal"]["end"], 627);
		assert_eq!(json["firstDifferingStep"], serde_json::Value::Null);
		assert_eq!(json["workerRoot"], format!("0x{}", "01".repeat(32)));

		let ended = Resolution {
			worker: 1u64,
			challenger: 2u64,
			worker_root: H256::repeat_byte(1),
			challenger_root: H256::repeat_byte(2),
			step: Some(312),
			ending: Ending::Proved,
			worker_lied: true,
			challenger_lied: false,
			at: 25u32,
			expires: 625,
		};
		let json = serde_json::to_value(DisputeInfo::ended(ended)).unwrap();
		assert_eq!(json["stage"], "ended");
		assert_eq!(json["firstDifferingStep"], 312);
		assert_eq!(json["outcome"]["ending"], "proved");
		assert_eq!(json["outcome"]["workerLied"], true);
		assert_eq!(json["outcome"]["at"], 25);
	}
}
