//! Generation requests: bounded by the model and `MaxNewTokens`, paid for
//! the prompt and the tokens generated, their replies checked against the
//! task and their program's length.

use super::*;
use crate::{Refusal, ResultDisputes, Verdict};
use frame_support::{assert_noop, assert_ok};
use pallet_models::{Generation, ModelProvider, Sampling};

const PROMPT: [u32; 5] = [10, 11, 12, 13, 14];

fn task(max_new_tokens: u32) -> Task {
	Task::Generate(Generation { max_new_tokens, sampling: Sampling::Greedy, seed: None })
}

/// The most a generation of `PROMPT` allowed `max_new` tokens pays.
fn max_price(max_new: u32) -> u64 {
	GEN_PRICE + 2 * PROMPT.len() as u64 + 5 * u64::from(max_new)
}

fn generate(who: u64, prompt: Vec<u32>, max_new: u32, max_fee: u64) -> DispatchResult {
	Inference::generate(
		RuntimeOrigin::signed(who),
		GENERATOR,
		prompt,
		max_new,
		Sampling::Greedy,
		None,
		max_fee,
	)
	.map(|_| ())
	.map_err(|e| e.error)
}

fn ids(tokens: &[u32]) -> Vec<u8> {
	tokens.iter().flat_map(|t| t.to_le_bytes()).collect()
}

/// The program length of a reply of `generated` tokens to `PROMPT`.
fn steps(max_new: u32, generated: u32) -> u32 {
	let terms = <Models as ModelProvider<u64, u64>>::terms(GENERATOR).unwrap();
	terms.arch.trace_len(PROMPT.len() as u32, &task(max_new), generated).unwrap()
}

/// Posts `reply` as request `id`'s result, signed by its assignee.
fn answer(id: RequestId, reply: &[u32], steps: u32) -> DispatchResult {
	dispatch_authorized(result_call(id, assignee(id), ids(reply), steps))
}

#[test]
fn a_generation_holds_its_fee_for_max_new_tokens() {
	ExtBuilder::default().build_and_execute(|| {
		assert_ok!(generate(ALICE, PROMPT.to_vec(), 8, 1_000));
		assert_eq!(escrow(ALICE), 1_000);
		let req = Requests::<Test>::get(0).unwrap();
		assert_eq!(req.task, task(8));
		// 20 + 5 prompt tokens · 2 + 8 new tokens · 5.
		assert_eq!(req.price, 70);
		assert_eq!(req.price, max_price(8));
		assert_eq!(req.per_generated, 5);
		let Some(Event::Requested { task: t, price, .. }) =
			events().into_iter().find(|e| matches!(e, Event::Requested { .. }))
		else {
			panic!("requested")
		};
		assert_eq!((t, price), (task(8), 70));
		// The worker sees the task and the seed.
		let assigned = Inference::assignments_of(&assignee(0));
		assert_eq!((assigned[0].task, assigned[0].seed), (task(8), req.seed));
		// Exactly the most it can cost is enough.
		assert_ok!(generate(BOB, PROMPT.to_vec(), 8, 70));
		// Each request draws from its own seed, fixed when it is made.
		let second = Requests::<Test>::get(1).unwrap();
		assert_ne!(second.seed, req.seed);
		assert_eq!(second.seed, Inference::sampling_seed(1, &task(8)));
	});
}

#[test]
fn a_callers_seed_fixes_the_draws_and_no_seed_takes_the_chains() {
	ExtBuilder::default().build_and_execute(|| {
		let seeded = |seed| {
			Inference::generate(
				RuntimeOrigin::signed(BOB),
				GENERATOR,
				PROMPT.to_vec(),
				8,
				Sampling::Greedy,
				seed,
				max_price(8),
			)
			.map(|_| ())
			.map_err(|e| e.error)
		};
		assert_ok!(seeded(Some(7)));
		assert_ok!(seeded(Some(7)));
		assert_ok!(seeded(Some(8)));
		assert_ok!(seeded(None));
		let seed = |id| Requests::<Test>::get(id).unwrap().seed;
		// The same seed, the same stream, whatever the request's id.
		assert_eq!(seed(0), seed(1));
		assert_ne!(seed(0), seed(2));
		// Without one, the chain's: its randomness and the request's id.
		assert_eq!(seed(3), Inference::sampling_seed(3, &task(8)));
		assert_ne!(seed(3), seed(0));
		// The task records the caller's seed for every worker to see.
		let Task::Generate(g) = Requests::<Test>::get(1).unwrap().task else {
			panic!("a generation")
		};
		assert_eq!(g.seed, Some(7));
	});
}

#[test]
fn a_generation_outside_its_bounds_is_refused_and_holds_nothing() {
	ExtBuilder::default().build_and_execute(|| {
		let err = |r: Refusal| Error::<Test>::from(r);
		assert_noop!(generate(ALICE, PROMPT.to_vec(), 8, 69), err(Refusal::FeeTooLow));
		assert_noop!(generate(ALICE, PROMPT.to_vec(), 0, 1_000), err(Refusal::BadMaxNewTokens));
		// Above MaxNewTokens (32).
		assert_noop!(generate(ALICE, PROMPT.to_vec(), 33, 1_000), err(Refusal::BadMaxNewTokens));
		// Prompt and reply past the model's 64 positions.
		assert_noop!(generate(ALICE, vec![1; 40], 25, 1_000), err(Refusal::BadMaxNewTokens));
		assert_noop!(generate(ALICE, vec![1; 64], 1, 1_000), err(Refusal::InputTooLong));
		assert_noop!(generate(ALICE, vec![], 4, 1_000), err(Refusal::EmptyInput));
		assert_noop!(generate(ALICE, vec![64], 4, 1_000), err(Refusal::TokenOutOfRange));
		assert_noop!(generate(POOR, PROMPT.to_vec(), 8, 1_000), err(Refusal::InsufficientBalance));
		// Each model does its own kind of task.
		assert_noop!(
			Inference::generate(
				RuntimeOrigin::signed(ALICE),
				0,
				vec![1],
				4,
				Sampling::Greedy,
				None,
				999
			)
			.map_err(|e| e.error),
			err(Refusal::WrongTask)
		);
		assert_noop!(
			Inference::request(RuntimeOrigin::signed(ALICE), GENERATOR, vec![1], 999)
				.map_err(|e| e.error),
			err(Refusal::WrongTask)
		);
		assert_eq!(Inference::quote(GENERATOR, &PROMPT, &Task::Embed), Err(Refusal::WrongTask));
		assert_eq!(Inference::quote(GENERATOR, &PROMPT, &task(8)).map(|q| q.price), Ok(70));
		assert_eq!(escrow(ALICE), 0);
		assert_eq!(NextRequestId::<Test>::get(), 0);
	});
}

#[test]
fn a_reply_settles_for_the_tokens_it_generated() {
	ExtBuilder::default().build_and_execute(|| {
		assert_ok!(generate(ALICE, PROMPT.to_vec(), 8, 1_000));
		let worker = assignee(0);
		// Three tokens, the last the end token.
		assert_ok!(answer(0, &[7, 8, EOS], steps(8, 3)));
		let price = GEN_PRICE + 10 + 3 * 5;
		assert_eq!(Requests::<Test>::get(0).unwrap().price, price);
		let before = free(ALICE);
		run_to_block(1 + 4 + 1);
		let cut = Cut::get().mul_floor(price);
		assert!(events().contains(&Event::Settled {
			request: 0,
			worker,
			worker_share: price - cut,
			era: Some(1),
			protocol_cut: cut,
			released: 1_000 - price,
		}));
		assert_eq!(escrow(ALICE), 0);
		assert_eq!(free(ALICE), before + 1_000 - price);
		// A reply that ran to max_new_tokens pays for all of them.
		assert_ok!(generate(BOB, PROMPT.to_vec(), 4, 1_000));
		assert_ok!(answer(1, &[7, 8, 9, 10], steps(4, 4)));
		assert_eq!(Requests::<Test>::get(1).unwrap().price, max_price(4));
	});
}

#[test]
fn a_reply_that_is_not_the_tasks_is_refused() {
	ExtBuilder::default().build_and_execute(|| {
		assert_ok!(generate(ALICE, PROMPT.to_vec(), 4, 1_000));
		assert_noop!(answer(0, &[7, 8], steps(4, 2)), Error::<Test>::BadOutput); // stopped early
		assert_noop!(answer(0, &[7, EOS, 9], steps(4, 3)), Error::<Test>::BadOutput); // ran past the end
		assert_noop!(answer(0, &[7, 8, 9, 10, EOS], steps(4, 4)), Error::<Test>::BadOutput); // too long
		assert_noop!(answer(0, &[], steps(4, 1)), Error::<Test>::BadOutput);
		assert_noop!(answer(0, &[7, 64], steps(4, 2)), Error::<Test>::BadOutput); // outside the vocabulary
																			// The trace's length is the program's for the reply's length.
		assert_noop!(answer(0, &[7, EOS], steps(4, 3)), Error::<Test>::BadStepCount);
		assert_noop!(answer(0, &[7, EOS], steps(4, 2) + 1), Error::<Test>::BadStepCount);
		assert_ok!(answer(0, &[7, EOS], steps(4, 2)));
	});
}

#[test]
fn a_rejected_reply_is_priced_afresh_for_the_next_worker() {
	ExtBuilder::default().build_and_execute(|| {
		assert_ok!(generate(ALICE, PROMPT.to_vec(), 4, 1_000));
		assert_ok!(answer(0, &[EOS], steps(4, 1)));
		assert_eq!(Requests::<Test>::get(0).unwrap().price, max_price(4) - 3 * 5);
		assert_ok!(Inference::freeze(0));
		assert_ok!(Inference::resolve(0, Verdict::Fraud, &V4));
		// Back to the most it can cost; the next worker's reply sets it.
		assert_eq!(Requests::<Test>::get(0).unwrap().price, max_price(4));
		assert_ok!(answer(0, &[7, 8, EOS], steps(4, 3)));
		assert_eq!(Requests::<Test>::get(0).unwrap().price, max_price(4) - 5);
	});
}
