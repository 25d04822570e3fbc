//! The calls' state transitions.

use crate::{crypto, pallet::*, types::*, Refusal, ValidatorStaking};
use alloc::vec::Vec;
use frame_support::{
	ensure,
	pallet_prelude::*,
	traits::{
		fungible::{InspectHold, MutateHold},
		Get,
	},
};
use pallet_models::{ModelId, ModelProvider, ModelTerms, ModelUsage, Task, TaskError};
use sp_core::H256;
use sp_runtime::{
	traits::{Saturating, Zero},
	transaction_validity::{
		InvalidTransaction, TransactionSource, TransactionValidityWithRefund, ValidTransaction,
	},
	DispatchResult, RuntimeAppPublic,
};

impl<T: Config> Pallet<T> {
	pub(crate) fn do_register_worker(
		who: T::AccountId,
		key: crypto::WorkerKey,
		models: Vec<ModelId>,
	) -> DispatchResult {
		ensure!(T::Staking::active_stake(&who).is_some(), Error::<T>::NotValidator);
		if let Some(until) = Banned::<T>::get(&who) {
			let now = frame_system::Pallet::<T>::block_number();
			let expelling = Expelling::<T>::get().contains(&who);
			ensure!(now >= until && !expelling, Error::<T>::Banned);
			Banned::<T>::remove(&who);
		}
		Self::insert_worker(&who, key, &models)
	}

	/// Stores `who`'s worker record and indexes it under each model, replacing
	/// a previous registration. Checks everything but validator status.
	pub(crate) fn insert_worker(
		who: &T::AccountId,
		key: crypto::WorkerKey,
		models: &[ModelId],
	) -> DispatchResult {
		ensure!(!models.is_empty(), Error::<T>::NoModels);
		let bounded: BoundedVec<ModelId, T::MaxModelsPerWorker> =
			models.to_vec().try_into().map_err(|_| Error::<T>::TooManyModels)?;
		for (i, model) in bounded.iter().enumerate() {
			ensure!(!bounded[..i].contains(model), Error::<T>::DuplicateModel);
			ensure!(T::Models::terms(*model).is_some(), Error::<T>::UnknownModel);
		}
		let previous = Workers::<T>::get(who);
		if previous.is_none() {
			ensure!(Workers::<T>::count() < T::MaxWorkers::get(), Error::<T>::TooManyWorkers);
		}
		if let Some(old) = &previous {
			for model in old.models.iter() {
				ModelWorkers::<T>::mutate(model, |list| list.retain(|w| w != who));
			}
		}
		for model in bounded.iter() {
			ModelWorkers::<T>::try_mutate(model, |list| list.try_push(who.clone()))
				.map_err(|_| Error::<T>::TooManyWorkers)?;
		}
		let (demoted_until, missed, served) =
			previous.map(|w| (w.demoted_until, w.missed, w.served)).unwrap_or((Zero::zero(), 0, 0));
		Workers::<T>::insert(
			who,
			WorkerInfo { key: key.clone(), models: bounded, demoted_until, missed, served },
		);
		Self::deposit_event(Event::WorkerRegistered {
			worker: who.clone(),
			key,
			models: models.to_vec(),
		});
		Ok(())
	}

	pub(crate) fn do_deregister_worker(who: T::AccountId) -> DispatchResult {
		ensure!(Self::remove_worker(&who), Error::<T>::NotWorker);
		Self::deposit_event(Event::WorkerDeregistered { worker: who });
		Ok(())
	}

	/// Removes `who`'s worker record and its entries in the model index;
	/// `false` if it had none.
	pub(crate) fn remove_worker(who: &T::AccountId) -> bool {
		let Some(info) = Workers::<T>::take(who) else { return false };
		for model in info.models.iter() {
			ModelWorkers::<T>::mutate_exists(model, |list| {
				if let Some(l) = list {
					l.retain(|w| w != who);
					if l.is_empty() {
						*list = None;
					}
				}
			});
		}
		true
	}

	/// The checks a request must pass that do not depend on the caller.
	pub(crate) fn check_request(
		model: ModelId,
		input: &[u32],
		task: &Task,
	) -> Result<ModelTerms<BalanceOf<T>>, Refusal> {
		let terms = T::Models::terms(model).ok_or(Refusal::UnknownModel)?;
		ensure!(terms.active, Refusal::ModelRetired);
		ensure!(terms.kind == task.kind(), Refusal::WrongTask);
		ensure!(!input.is_empty(), Refusal::EmptyInput);
		let limit = terms.max_input_tokens.min(T::MaxInputTokens::get());
		ensure!(input.len() <= limit as usize, Refusal::InputTooLong);
		ensure!(input.iter().all(|t| *t < terms.vocab), Refusal::TokenOutOfRange);
		if let Task::Generate(g) = task {
			ensure!(g.max_new_tokens <= T::MaxNewTokens::get(), Refusal::BadMaxNewTokens);
		}
		terms.arch.check_task(input.len() as u32, task).map_err(|e| match e {
			TaskError::WrongKind => Refusal::WrongTask,
			TaskError::BadLength => Refusal::BadMaxNewTokens,
		})?;
		ensure!(
			terms.arch.output_bytes(task) <= T::MaxOutputBytes::get(),
			Refusal::UnservableModel
		);
		Ok(terms)
	}

	/// What a request of `task` on `prompt` tokens pays at most under
	/// `terms`: an embedding's fee, or a generation's at `max_new_tokens`.
	pub fn max_price(terms: &ModelTerms<BalanceOf<T>>, prompt: u32, task: &Task) -> BalanceOf<T> {
		let generated = match task {
			Task::Embed => 0,
			Task::Generate(g) => g.max_new_tokens,
		};
		terms.fee(prompt, generated)
	}

	/// The checks of a new request that are its caller's doing: the model
	/// and the input, `max_fee` against the price, and whether `who` can
	/// hold `max_fee`. The transaction pool runs these
	/// ([`crate::CheckRequest`]): a request failing them is never included.
	pub(crate) fn check_caller_request(
		who: &T::AccountId,
		model: ModelId,
		input: &[u32],
		task: &Task,
		max_fee: BalanceOf<T>,
	) -> Result<ModelTerms<BalanceOf<T>>, Refusal> {
		let terms = Self::check_request(model, input, task)?;
		ensure!(max_fee >= Self::max_price(&terms, input.len() as u32, task), Refusal::FeeTooLow);
		ensure!(
			T::Currency::can_hold(&HoldReason::Escrow.into(), who, max_fee),
			Refusal::InsufficientBalance
		);
		Ok(terms)
	}

	/// Every check a new request passes before anything is held: with a
	/// payer, [`Self::check_caller_request`], else the model and the input
	/// alone; then the chain's state of the moment: room for one more open
	/// request and a worker to assign. (The pool leaves these to the block:
	/// they come and go, and a transaction dropped from the pool for them
	/// would leave a gap in its sender's nonces.) `request` and the quotes
	/// run this, so both refuse alike.
	pub(crate) fn admit(
		payer: Option<(&T::AccountId, BalanceOf<T>)>,
		model: ModelId,
		input: &[u32],
		task: &Task,
	) -> Result<Admission<T::AccountId, BalanceOf<T>>, Refusal> {
		let terms = match payer {
			Some((who, max_fee)) => Self::check_caller_request(who, model, input, task, max_fee)?,
			None => Self::check_request(model, input, task)?,
		};
		ensure!(Requests::<T>::count() < T::MaxOpenRequests::get(), Refusal::TooManyRequests);
		let now = frame_system::Pallet::<T>::block_number();
		let worker = Self::select_worker(model, NextRequestId::<T>::get(), &[], now)
			.ok_or(Refusal::NoEligibleWorker)?;
		Ok(Admission { terms, worker })
	}

	/// Validates a request, holds `max_fee`, stores it and assigns a worker.
	pub fn do_request(
		caller: T::AccountId,
		model: ModelId,
		input: Vec<u32>,
		task: Task,
		max_fee: BalanceOf<T>,
	) -> Result<RequestId, DispatchError> {
		let Admission { terms, worker } =
			Self::admit(Some((&caller, max_fee)), model, &input, &task)
				.map_err(Error::<T>::from)?;
		let price = Self::max_price(&terms, input.len() as u32, &task);
		let input: BoundedVec<u32, T::MaxInputTokens> =
			input.try_into().map_err(|_| Error::<T>::InputTooLong)?;

		let id = NextRequestId::<T>::get();
		let now = frame_system::Pallet::<T>::block_number();
		T::Currency::hold(&HoldReason::Escrow.into(), &caller, max_fee)
			.map_err(|_| Error::<T>::InsufficientBalance)?;

		NextRequestId::<T>::put(id.saturating_add(1));
		OpenPerModel::<T>::mutate(model, |n| *n = n.saturating_add(1));
		let mut request = Request {
			caller: caller.clone(),
			model,
			input,
			task,
			seed: Self::sampling_seed(id, &task),
			max_fee,
			price,
			per_generated: terms.token_prices.generated,
			created: now,
			tried: BoundedVec::new(),
			status: RequestStatus::Assigned { worker: worker.clone(), deadline: now },
		};
		Self::deposit_event(Event::Requested { request: id, caller, model, task, max_fee, price });
		Self::assign(id, &mut request, worker, now)?;
		Requests::<T>::insert(id, request);
		Ok(id)
	}

	/// The seed of request `id`'s sampler: the caller's, as
	/// `blake2_256("cinder/caller-seed" ‖ seed)`, if its generation names
	/// one; else `blake2_256("cinder/seed" ‖ randomness ‖ id)`, with
	/// randomness of the block it is made in that no worker (nor block
	/// author alone) chooses.
	pub(crate) fn sampling_seed(id: RequestId, task: &Task) -> H256 {
		use frame_support::traits::Randomness;
		if let Task::Generate(pallet_models::Generation { seed: Some(seed), .. }) = task {
			return H256(sp_io::hashing::blake2_256(&(b"cinder/caller-seed", seed).encode()));
		}
		let (random, _) = T::Randomness::random(&(b"cinder/seed", id).encode());
		H256(sp_io::hashing::blake2_256(&(b"cinder/seed", random, id).encode()))
	}

	/// How a price splits: `(worker share, protocol cut)`. The cut rounds
	/// down, so the worker keeps any remainder and nothing is lost.
	pub fn split_price(price: BalanceOf<T>) -> (BalanceOf<T>, BalanceOf<T>) {
		let cut = T::ProtocolCut::get().mul_floor(price);
		(price.saturating_sub(cut), cut)
	}

	/// Checks a result's signature and that it is still wanted: the
	/// authorization of `submit_result`, run by the transaction pool and again
	/// when the block is built and imported.
	// The signature is the call's arguments by reference, as `authorize` wants.
	#[allow(clippy::ptr_arg)]
	pub(crate) fn authorize_result(
		_source: TransactionSource,
		request: &RequestId,
		output: &Vec<u8>,
		trace_root: &H256,
		steps: &u32,
		signature: &crypto::WorkerSignature,
	) -> TransactionValidityWithRefund {
		let stale = InvalidTransaction::Stale;
		let req = Requests::<T>::get(request).ok_or(stale)?;
		let RequestStatus::Assigned { worker, deadline } = req.status else {
			return Err(stale.into());
		};
		let now = frame_system::Pallet::<T>::block_number();
		ensure!(now <= deadline, stale);
		let key = Workers::<T>::get(&worker).ok_or(InvalidTransaction::BadSigner)?.key;
		let payload =
			crypto::result_payload(Self::genesis_hash(), *request, output, trace_root, *steps);
		ensure!(key.verify(&payload, signature), InvalidTransaction::BadProof);
		let longevity: u64 =
			deadline.saturating_sub(now).saturating_add(1u32.into()).try_into().unwrap_or(u64::MAX);
		let validity = ValidTransaction::with_tag_prefix("CinderResult")
			.priority(u64::MAX / 2)
			.and_provides(request)
			.longevity(longevity)
			.propagate(true)
			.build()?;
		Ok((validity, Weight::zero()))
	}

	/// The chain's genesis hash, which result signatures commit to.
	pub fn genesis_hash() -> H256 {
		crypto::genesis_hash::<T>()
	}

	pub(crate) fn do_submit_result(
		id: RequestId,
		output: Vec<u8>,
		trace_root: H256,
		steps: u32,
	) -> DispatchResult {
		let req = Requests::<T>::get(id).ok_or(Error::<T>::UnknownRequest)?;
		let RequestStatus::Assigned { worker, deadline } = req.status.clone() else {
			return Err(Error::<T>::NotAssigned.into());
		};
		let now = frame_system::Pallet::<T>::block_number();
		ensure!(now <= deadline, Error::<T>::DeadlinePassed);
		let terms = T::Models::terms(req.model).ok_or(Error::<T>::UnknownModel)?;
		let generated = terms.arch.check_output(&req.task, &output).ok_or(Error::<T>::BadOutput)?;
		// The trace is bound to the program: its leaf count is the program's
		// length for this input (and reply length), which a dispute relies on.
		let program_len = terms.arch.trace_len(req.input.len() as u32, &req.task, generated);
		ensure!(program_len == Ok(steps), Error::<T>::BadStepCount);
		let output: OutputOf<T> = output.try_into().map_err(|_| Error::<T>::BadOutput)?;
		// The caller pays for the tokens generated, not the ones allowed.
		let mut req = req;
		req.price = req.price.saturating_sub(Self::unused_tokens_price(&req, output.len()));
		Self::record_answer(id, req, worker, output, trace_root, steps);
		Ok(())
	}

	/// What the tokens a generation was allowed but did not use cost, for
	/// an answer of `output_bytes`; 0 for an embedding. Taken off `price`
	/// when the answer is posted, put back if it is rejected as fraud.
	pub(crate) fn unused_tokens_price(req: &RequestOf<T>, output_bytes: usize) -> BalanceOf<T> {
		match req.task {
			Task::Embed => Zero::zero(),
			Task::Generate(g) => {
				let generated =
					output_bytes.checked_div(pallet_models::types::TOKEN_BYTES as usize);
				let generated = generated.unwrap_or_default();
				let generated = u32::try_from(generated).unwrap_or(u32::MAX);
				let unused = g.max_new_tokens.saturating_sub(generated);
				req.per_generated.saturating_mul(unused.into())
			}
		}
	}

	/// Records `worker`'s answer to request `id` (checked by the caller):
	/// the request waits out its challenge window, then settles.
	pub(crate) fn record_answer(
		id: RequestId,
		mut req: RequestOf<T>,
		worker: T::AccountId,
		output: OutputOf<T>,
		trace_root: H256,
		steps: u32,
	) {
		let now = frame_system::Pallet::<T>::block_number();
		let challenge_end = now.saturating_add(T::ChallengePeriod::get());
		req.status =
			RequestStatus::Answered { worker: worker.clone(), trace_root, steps, challenge_end };
		Requests::<T>::insert(id, req);
		WorkerAssignments::<T>::remove(&worker, id);
		Outputs::<T>::insert(id, output);
		Self::enqueue(QueueKind::Settlement, challenge_end, id);
		Self::deposit_event(Event::ResultSubmitted {
			request: id,
			worker,
			trace_root,
			steps,
			challenge_end,
		});
	}
}

impl<T: Config> ModelUsage for Pallet<T> {
	fn in_use(id: ModelId) -> bool {
		OpenPerModel::<T>::get(id) > 0
	}
}

/// What a new request passed [`Pallet::admit`] with.
pub(crate) struct Admission<AccountId, Balance> {
	/// The model's terms.
	pub terms: ModelTerms<Balance>,
	/// The worker it goes to.
	pub worker: AccountId,
}
