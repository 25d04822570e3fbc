//! The calls' state transitions and how a dispute ends.

use crate::{pallet::*, types::*, ReportFraud};
use alloc::vec::Vec;
use cinder_kernel::{merkle, program::Resolved, verify, Tile, Weight};
use frame_support::{
	ensure,
	pallet_prelude::*,
	traits::{
		fungible::MutateHold,
		tokens::{Fortitude, Precision, Restriction},
		Get,
	},
};
use frame_system::pallet_prelude::BlockNumberFor;
use pallet_inference::{RequestId, ResultDisputes, Verdict};
use pallet_models::ModelProvider;
use sp_core::H256;
use sp_runtime::{
	traits::{Saturating, Zero},
	DispatchResult,
};

impl<T: Config> Pallet<T> {
	/// Levels a reveal round opens: the largest `k` with `2^k` nodes within
	/// `MaxRevealHashes` (at least one level).
	pub fn round_depth() -> u32 {
		T::MaxRevealHashes::get().max(2).ilog2()
	}

	pub(crate) fn do_challenge(
		request: RequestId,
		challenger: T::AccountId,
		root: H256,
	) -> DispatchResult {
		let challenger_key = T::Results::worker_key(&challenger).ok_or(Error::<T>::NotWorker)?;
		ensure!(!Disputes::<T>::contains_key(request), Error::<T>::AlreadyDisputed);
		let posted = T::Results::result(request).ok_or(Error::<T>::NoResult)?;
		let window_end = posted.challenge_end.ok_or(Error::<T>::AlreadyDisputed)?;
		let now = frame_system::Pallet::<T>::block_number();
		// The request settles at the start of block `window_end`.
		ensure!(now < window_end, Error::<T>::WindowClosed);
		ensure!(challenger != posted.worker, Error::<T>::OwnResult);
		// The same root as the worker's is allowed: it wins only if the
		// worker's result is not its own trace's last leaf (the worker cannot
		// then reveal); otherwise the trees agree and the challenger loses.
		// A worker that left the marketplace since answering has no key to
		// sign its defence with: it loses by silence.
		let worker_key = T::Results::worker_key(&posted.worker);

		let bond = T::ChallengeBond::get();
		T::Currency::hold(&HoldReason::ChallengeBond.into(), &challenger, bond)
			.map_err(|_| Error::<T>::InsufficientBond)?;
		T::Results::freeze(request)?;

		let steps = posted.steps;
		let level = merkle::depth(steps);
		let stage = Self::open_node(request, level, 0, posted.trace_root, root, now);
		let reveal_deadline = stage.deadline();
		let dispute = Dispute {
			worker: posted.worker.clone(),
			worker_key,
			challenger: challenger.clone(),
			challenger_key,
			bond,
			worker_root: posted.trace_root,
			challenger_root: root,
			steps,
			output_bound: false,
			opened: now,
			stage,
		};
		Disputes::<T>::insert(request, dispute);
		Self::deposit_event(Event::Challenged {
			request,
			worker: posted.worker,
			challenger,
			worker_root: posted.trace_root,
			challenger_root: root,
			bond,
			reveal_deadline,
		});
		Ok(())
	}

	/// The stage that opens node `index` of `level`, where the parties'
	/// trees (with these hashes of it) first differ: a reveal round above the
	/// leaves, the proof of that step at a leaf. Schedules its deadline.
	fn open_node(
		request: RequestId,
		level: u32,
		index: u32,
		worker_node: H256,
		challenger_node: H256,
		now: BlockNumberFor<T>,
	) -> Stage<BlockNumberFor<T>> {
		let stage = if level == 0 {
			let deadline = now.saturating_add(T::ProofPeriod::get());
			Self::deposit_event(Event::StepFound { request, step: index, deadline });
			Stage::Prove {
				step: index,
				worker_leaf: worker_node,
				challenger_leaf: challenger_node,
				deadline,
			}
		} else {
			let deadline = now.saturating_add(T::RevealPeriod::get());
			Stage::Reveal { level, index, worker_node, challenger_node, revealed: None, deadline }
		};
		Self::schedule(stage.deadline(), request);
		stage
	}

	/// Every check a reveal must pass, without changing anything: run by
	/// authorization too, so a reveal that would fail never takes block
	/// space. Returns the first revealed node's index and level, and whether
	/// the reveal binds the worker's output.
	pub(crate) fn check_reveal(
		request: RequestId,
		dispute: &DisputeOf<T>,
		party: Party,
		hashes: &[H256],
		output_proof: &[H256],
	) -> Result<(u32, u32, bool), DispatchError> {
		let Stage::Reveal { level, index, worker_node, challenger_node, revealed, deadline } =
			dispute.stage
		else {
			return Err(Error::<T>::NotRevealing.into());
		};
		let now = frame_system::Pallet::<T>::block_number();
		ensure!(now <= deadline, Error::<T>::DeadlinePassed);
		ensure!(revealed != Some(party), Error::<T>::AlreadyRevealed);
		let depth = Self::round_depth().min(level);
		let (start, end) = merkle::children(dispute.steps, level, index, depth)
			.ok_or(Error::<T>::WrongRevealLength)?;
		let expected = end.saturating_sub(start) as usize;
		ensure!(hashes.len() == expected, Error::<T>::WrongRevealLength);
		let node = match party {
			Party::Worker => worker_node,
			Party::Challenger => challenger_node,
		};
		let raw: Vec<merkle::Hash> = hashes.iter().map(|h| h.0).collect();
		ensure!(H256(merkle::root(&raw)) == node, Error::<T>::RevealMismatch);
		let binds_output = party == Party::Worker && !dispute.output_bound;
		if binds_output {
			Self::check_output(request, dispute, output_proof)?;
		} else {
			ensure!(output_proof.is_empty(), Error::<T>::UnexpectedOutputProof);
		}
		Ok((start, level.saturating_sub(depth), binds_output))
	}

	pub(crate) fn do_reveal(
		request: RequestId,
		party: Party,
		hashes: Vec<H256>,
		output_proof: Vec<H256>,
	) -> DispatchResult {
		let mut dispute = Disputes::<T>::get(request).ok_or(Error::<T>::NoDispute)?;
		let (start, child_level, binds_output) =
			Self::check_reveal(request, &dispute, party, &hashes, &output_proof)?;
		dispute.output_bound |= binds_output;
		// `check_reveal` made sure this is a reveal round.
		let Stage::Reveal { revealed, .. } = &mut dispute.stage else {
			return Err(Error::<T>::NotRevealing.into());
		};
		let now = frame_system::Pallet::<T>::block_number();
		Self::deposit_event(Event::Revealed {
			request,
			party,
			level: child_level,
			count: hashes.len() as u32,
		});

		let Some(first) = *revealed else {
			*revealed = Some(party);
			let bounded: BoundedVec<H256, T::MaxRevealHashes> =
				hashes.try_into().map_err(|_| Error::<T>::WrongRevealLength)?;
			Reveals::<T>::insert(request, bounded);
			Disputes::<T>::insert(request, dispute);
			return Ok(());
		};
		// Both have revealed: find where they first differ.
		let theirs = Reveals::<T>::take(request).unwrap_or_default();
		let (worker_nodes, challenger_nodes) = match first {
			Party::Worker => (theirs.as_slice(), hashes.as_slice()),
			Party::Challenger => (hashes.as_slice(), theirs.as_slice()),
		};
		let differ = worker_nodes
			.iter()
			.zip(challenger_nodes)
			.zip(0u32..)
			.find(|((w, c), _)| w != c)
			.map(|((w, c), at)| (*w, *c, at));
		match differ {
			// Both rebuild their (different) nodes from equal children: only
			// a hash collision could do it. The challenger carries the burden.
			None => Self::conclude(request, dispute, Ending::NoDifference, false, true),
			Some((w, c, at)) => {
				let next = start.saturating_add(at);
				dispute.stage = Self::open_node(request, child_level, next, w, c, now);
				if let Stage::Reveal { deadline, .. } = dispute.stage {
					Self::deposit_event(Event::Narrowed {
						request,
						level: child_level,
						index: next,
						deadline,
					});
				}
				Disputes::<T>::insert(request, dispute);
			}
		}
		Ok(())
	}

	/// Checks that the worker's result is the last leaf of its trace.
	fn check_output(
		request: RequestId,
		dispute: &DisputeOf<T>,
		siblings: &[H256],
	) -> DispatchResult {
		let posted = T::Results::result(request).ok_or(Error::<T>::NoResult)?;
		let terms = T::Models::terms(posted.model).ok_or(Error::<T>::BadProgram)?;
		let leaf = terms.arch.output_leaf(dispute.steps, &posted.output);
		let last = dispute.steps.saturating_sub(1);
		let siblings: Vec<merkle::Hash> = siblings.iter().map(|h| h.0).collect();
		ensure!(
			merkle::verify(&dispute.worker_root.0, leaf.0, last, dispute.steps, &siblings),
			Error::<T>::OutputNotInTrace
		);
		Ok(())
	}

	pub(crate) fn do_prove_step(
		request: RequestId,
		party: Party,
		tiles: Vec<TileProof>,
	) -> DispatchResult {
		let dispute = Disputes::<T>::get(request).ok_or(Error::<T>::NoDispute)?;
		let Stage::Prove { step, worker_leaf, challenger_leaf, deadline } = dispute.stage else {
			return Err(Error::<T>::NotProving.into());
		};
		let now = frame_system::Pallet::<T>::block_number();
		ensure!(now <= deadline, Error::<T>::DeadlinePassed);
		let proven = Self::proven_inputs(request, &dispute, step, &tiles)?;
		let out = proven.recompute().map_err(|_| Error::<T>::StepFailed)?;
		let leaf = H256(merkle::tile_leaf(step, &out));
		Self::deposit_event(Event::StepProved { request, by: party, step, leaf });
		let worker_lied = leaf != worker_leaf;
		let challenger_lied = leaf != challenger_leaf;
		Self::conclude(request, dispute, Ending::Proved, worker_lied, challenger_lied);
		Ok(())
	}

	/// Step `step`'s descriptor and its input tiles, each checked against
	/// the agreed trace or the model's weight tree: everything a proof must
	/// pass before the step is recomputed (authorization runs it too).
	///
	/// A step that reads sampled tokens (a generated token's embedding
	/// lookup) is proven with the output tile of each sample step it reads
	/// first, in the order it reads them, each checked against the agreed
	/// trace: the token it drew picks the embedding row that follows.
	pub(crate) fn proven_inputs(
		request: RequestId,
		dispute: &DisputeOf<T>,
		step: u32,
		tiles: &[TileProof],
	) -> Result<ProvenStep, DispatchError> {
		ensure!(tiles.len() <= T::MaxProofTiles::get() as usize, Error::<T>::WrongTileCount);
		let posted = T::Results::result(request).ok_or(Error::<T>::NoResult)?;
		let terms = T::Models::terms(posted.model).ok_or(Error::<T>::BadProgram)?;
		let arch = terms.arch;
		let generated =
			arch.check_output(&posted.task, &posted.output).ok_or(Error::<T>::BadProgram)?;
		let prompt = posted.input.len() as u32;
		let plan =
			arch.plan(prompt, &posted.task, generated).map_err(|_| Error::<T>::BadProgram)?;
		let descriptor = plan.step(step).map_err(|_| Error::<T>::BadProgram)?;
		let roots = [dispute.worker_root.0, dispute.challenger_root.0];
		// An earlier step's output: its leaf is agreed, so it sits in both
		// trees; either will do.
		let in_trace = |j: u32, tile: &Tile, proof: &TileProof| {
			let siblings: Vec<merkle::Hash> = proof.siblings.iter().map(|h| h.0).collect();
			let leaf = merkle::tile_leaf(j, tile);
			roots.iter().any(|r| merkle::verify(r, leaf, j, dispute.steps, &siblings))
		};

		let sampled_steps = sampled_steps(&descriptor);
		let (sampled_proofs, tiles) =
			tiles.split_at_checked(sampled_steps.len()).ok_or(Error::<T>::WrongTileCount)?;
		let mut sampled = Vec::with_capacity(sampled_steps.len());
		for (&j, proof) in sampled_steps.iter().zip(sampled_proofs) {
			let tile = Tile::from_bytes(&proof.tile).map_err(|_| Error::<T>::MalformedTile)?;
			ensure!(in_trace(j, &tile, proof), Error::<T>::BadTileProof);
			let id =
				verify::decoder::sampled_id(&tile, terms.vocab).ok_or(Error::<T>::BadTileProof)?;
			sampled.push((j, id));
		}
		let sources = descriptor
			.resolve_with(&posted.input, terms.vocab, |j| {
				sampled.iter().find(|(s, _)| *s == j).map(|(_, id)| *id)
			})
			.map_err(|_| Error::<T>::BadProgram)?;
		ensure!(sources.len() == tiles.len(), Error::<T>::WrongTileCount);
		let weight_count = arch.weight_count().map_err(|_| Error::<T>::BadProgram)?;
		let mut inputs = Vec::with_capacity(tiles.len());
		for (source, proof) in sources.into_iter().zip(tiles) {
			let (input, proven) = match source {
				Resolved::Step(j) => {
					let tile =
						Tile::from_bytes(&proof.tile).map_err(|_| Error::<T>::MalformedTile)?;
					let proven = in_trace(j, &tile, proof);
					(Weight::F32(tile), proven)
				}
				Resolved::Weight(w) => {
					let format = arch.weight_format(w).map_err(|_| Error::<T>::BadProgram)?;
					let weight = Weight::from_bytes(format, &proof.tile)
						.map_err(|_| Error::<T>::MalformedTile)?;
					let siblings: Vec<merkle::Hash> = proof.siblings.iter().map(|h| h.0).collect();
					let leaf = weight.leaf(w);
					let proven =
						merkle::verify(&terms.weight_root.0, leaf, w, weight_count, &siblings);
					(weight, proven)
				}
			};
			ensure!(proven, Error::<T>::BadTileProof);
			inputs.push(input);
		}
		Ok(ProvenStep { step: descriptor, inputs, spec: arch.spec_version(), seed: posted.seed.0 })
	}

	/// Ends a dispute: the bond goes back or is split, the liar is reported,
	/// the result is upheld or rejected, and the dispute's storage is freed.
	pub(crate) fn conclude(
		request: RequestId,
		dispute: DisputeOf<T>,
		ending: Ending,
		worker_lied: bool,
		challenger_lied: bool,
	) {
		let reason = HoldReason::ChallengeBond.into();
		let (mut to_worker, mut to_treasury) = (Zero::zero(), Zero::zero());
		if challenger_lied {
			let share = if worker_lied {
				Zero::zero()
			} else {
				T::BondToWorker::get().mul_floor(dispute.bond)
			};
			let pay = |to: &T::AccountId, amount: BalanceOf<T>| {
				if amount.is_zero() {
					return Zero::zero();
				}
				T::Currency::transfer_on_hold(
					&reason,
					&dispute.challenger,
					to,
					amount,
					Precision::BestEffort,
					Restriction::Free,
					Fortitude::Polite,
				)
				.unwrap_or_else(|_| Zero::zero())
			};
			to_worker = pay(&dispute.worker, share);
			to_treasury = pay(&T::Treasury::get(), dispute.bond.saturating_sub(share));
		}
		// Whatever was not paid out (all of it when the challenger was right)
		// goes back: a bond is never lost.
		let rest = dispute.bond.saturating_sub(to_worker).saturating_sub(to_treasury);
		if !rest.is_zero() {
			let _ = T::Currency::release(&reason, &dispute.challenger, rest, Precision::BestEffort);
		}
		if worker_lied {
			let reporter = (!challenger_lied).then_some(&dispute.challenger);
			T::Fraud::report(request, &dispute.worker, reporter);
		}
		let verdict = if worker_lied { Verdict::Fraud } else { Verdict::Upheld };
		if let Err(e) = T::Results::resolve(request, verdict, &dispute.challenger) {
			log::error!(target: "runtime::disputes", "request {request}: resolve failed: {e:?}");
		}
		let now = frame_system::Pallet::<T>::block_number();
		let expires = now.saturating_add(T::ResolutionRetention::get());
		let step = match dispute.stage {
			Stage::Prove { step, .. } => Some(step),
			Stage::Reveal { .. } => None,
		};
		Resolutions::<T>::insert(
			request,
			Resolution {
				worker: dispute.worker.clone(),
				challenger: dispute.challenger.clone(),
				worker_root: dispute.worker_root,
				challenger_root: dispute.challenger_root,
				step,
				ending,
				worker_lied,
				challenger_lied,
				at: now,
				expires,
			},
		);
		Self::schedule(expires, request);
		Reveals::<T>::remove(request);
		Disputes::<T>::remove(request);
		Self::deposit_event(Event::Resolved {
			request,
			ending,
			worker_lied,
			challenger_lied,
			bond_to_worker: to_worker,
			bond_to_treasury: to_treasury,
		});
	}
}

/// The sample steps whose drawn token `step` reads, each once, in the order
/// it first reads them: the tiles a proof of `step` opens before its inputs.
pub fn sampled_steps(step: &cinder_kernel::Step) -> Vec<u32> {
	let mut steps = Vec::new();
	for source in &step.inputs {
		if let cinder_kernel::Source::Sampled { step: j, .. } = source {
			if !steps.contains(j) {
				steps.push(*j);
			}
		}
	}
	steps
}

/// A step whose inputs have passed their proofs, ready to recompute.
pub struct ProvenStep {
	/// Its descriptor.
	pub step: cinder_kernel::Step,
	/// Its input tiles, in order.
	pub inputs: Vec<Weight>,
	/// The kernel spec its model runs under.
	pub spec: u32,
	/// The request's sampling seed (spec 2's sampler).
	pub seed: [u8; 32],
}

impl ProvenStep {
	/// The step's output, recomputed under its model's kernel spec.
	pub fn recompute(&self) -> Result<Tile, cinder_kernel::KernelError> {
		if self.spec == cinder_kernel::KERNEL_SPEC_V1 {
			let tiles =
				self.inputs.iter().map(|w| w.input().f32()).collect::<Result<Vec<_>, _>>()?;
			verify::recompute(&self.step, &tiles)
		} else {
			let inputs: Vec<cinder_kernel::Input> = self.inputs.iter().map(Weight::input).collect();
			let context = verify::decoder::Context { seed: &self.seed };
			verify::decoder::recompute(&self.step, &inputs, context)
		}
	}
}
