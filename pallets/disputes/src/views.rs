//! Disputes as the node (its dispute driver) and RPC clients see them: what
//! each party has to do next, and by when.

use crate::{pallet::*, types::*};
use alloc::vec::Vec;
use codec::{Decode, Encode};
use frame_system::pallet_prelude::BlockNumberFor;
use pallet_inference::{RequestId, ResultDisputes};
use scale_info::TypeInfo;
use sp_core::H256;

/// Where a dispute is, with what the next move needs.
#[derive(Clone, PartialEq, Eq, Encode, Decode, TypeInfo, Debug)]
pub enum StageView<BlockNumber> {
	/// A reveal round opens node `node_index` of tree level `node_level`:
	/// each party reveals its nodes `start..end` of `level` (0: the leaves)
	/// until `deadline`; the worker's first reveal also proves its output.
	Reveal {
		node_level: u32,
		node_index: u32,
		level: u32,
		start: u32,
		end: u32,
		/// Who has revealed this round.
		revealed: Option<Party>,
		/// Whether the worker has already proved its output.
		output_bound: bool,
		deadline: BlockNumber,
	},
	/// `step` is the first differing step: either party proves it until
	/// `deadline`.
	Prove { step: u32, deadline: BlockNumber },
}

/// An open dispute.
#[derive(Clone, PartialEq, Eq, Encode, Decode, TypeInfo, Debug)]
pub struct DisputeView<AccountId, Balance, BlockNumber> {
	/// The request whose result is disputed.
	pub request: RequestId,
	/// Its model.
	pub model: pallet_models::ModelId,
	/// Its token ids: with the model, the task and the seed, all a party
	/// needs to re-execute it.
	pub input: Vec<u32>,
	/// An embedding, or a generation and its limits.
	pub task: pallet_models::Task,
	/// A generation's sampling seed.
	pub seed: H256,
	/// The worker that posted it.
	pub worker: AccountId,
	/// The worker that challenged it.
	pub challenger: AccountId,
	/// The worker's trace root.
	pub worker_root: H256,
	/// The challenger's trace root.
	pub challenger_root: H256,
	/// Held from the challenger.
	pub bond: Balance,
	/// Leaves in each trace.
	pub steps: u32,
	/// Block the challenge was made in (dispute signatures commit to it).
	pub opened: BlockNumber,
	/// What happens next.
	pub stage: StageView<BlockNumber>,
}

/// A dispute view of this runtime's types.
pub type DisputeViewOf<T> =
	DisputeView<<T as frame_system::Config>::AccountId, BalanceOf<T>, BlockNumberFor<T>>;

impl<T: Config> Pallet<T> {
	/// The open dispute over `request`'s result.
	pub fn dispute_view(request: RequestId) -> Option<DisputeViewOf<T>> {
		Disputes::<T>::get(request).map(|d| Self::view(request, d))
	}

	/// How `request`'s last dispute ended, while kept.
	pub fn resolution(request: RequestId) -> Option<ResolutionOf<T>> {
		Resolutions::<T>::get(request)
	}

	/// The open disputes `who` is a party of, by request. Iterates the open
	/// disputes (at most one per open request): for the node, not blocks.
	pub fn disputes_of(who: &T::AccountId) -> Vec<DisputeViewOf<T>> {
		let mut out: Vec<_> = Disputes::<T>::iter()
			.filter(|(_, d)| d.worker == *who || d.challenger == *who)
			.map(|(request, d)| Self::view(request, d))
			.collect();
		out.sort_by_key(|v| v.request);
		out
	}

	fn view(request: RequestId, d: DisputeOf<T>) -> DisputeViewOf<T> {
		let stage = match d.stage {
			Stage::Reveal { level, index, revealed, deadline, .. } => {
				let depth = Self::round_depth().min(level);
				let (start, end) =
					cinder_kernel::merkle::children(d.steps, level, index, depth).unwrap_or((0, 0));
				StageView::Reveal {
					node_level: level,
					node_index: index,
					level: level.saturating_sub(depth),
					start,
					end,
					revealed,
					output_bound: d.output_bound,
					deadline,
				}
			}
			Stage::Prove { step, deadline, .. } => StageView::Prove { step, deadline },
		};
		let (model, input, task, seed) = T::Results::result(request)
			.map(|r| (r.model, r.input, r.task, r.seed))
			.unwrap_or((0, Vec::new(), pallet_models::Task::Embed, H256::zero()));
		DisputeView {
			request,
			model,
			input,
			task,
			seed,
			worker: d.worker,
			challenger: d.challenger,
			worker_root: d.worker_root,
			challenger_root: d.challenger_root,
			bond: d.bond,
			steps: d.steps,
			opened: d.opened,
			stage,
		}
	}
}
