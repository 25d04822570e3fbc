//! The dispute game over a generation (kernel spec 2), played with real
//! traces of a small llama decoder with seeded quantized weights: a lie at
//! each new kind of step (a quantized projection, the fused SiLU gate,
//! attention, the sampler, a generated token's embedding lookup, the
//! collected reply) is proven by the honest party and convicts the liar.

use super::*;
use cinder_kernel::{
	merkle,
	program::llama::LlamaShape,
	testing::random_llama_weights,
	verify::decoder::{collected_ids, run_reference, Context},
	Op, Program, Weight,
};
use frame_support::assert_ok;
use pallet_models::{
	sample_generator_spec, Architecture, Generation, ModelPlan, ModelProvider, Sampling,
	TokenPrices,
};

/// The generation model, registered after the mock's BERT model.
const MODEL: u32 = 1;
const PROMPT: [u32; 6] = [5, 17, 42, 9, 33, 60];
const MAX_NEW: u32 = 5;

fn task() -> Task {
	let sampling = Sampling::TopP { temperature: 4.0f32.to_bits(), top_p: 0.99f32.to_bits() };
	Task::Generate(Generation { max_new_tokens: MAX_NEW, sampling, seed: None })
}

fn shape() -> LlamaShape {
	match sample_generator_spec::<u64, u64>(OWNER, 0, Default::default()).arch {
		Architecture::Llama(g) => g.shape,
		Architecture::Bert(_) => unreachable!(),
	}
}

/// The generation model registered with its seeded weights' root, the
/// workers serving both models, and Alice's generation request 0 on it.
fn requested(weights: &[Weight]) {
	let leaves: Vec<Hash> = weights.iter().enumerate().map(|(i, w)| w.leaf(i as u32)).collect();
	let mut spec = sample_generator_spec(OWNER, PRICE, TokenPrices { prompt: 1, generated: 2 });
	spec.hashes.weight_root = H256(merkle::root(&leaves));
	assert_eq!(Models::do_register(spec), Ok(MODEL));
	for w in [W1, W2, W3] {
		assert_ok!(pallet_inference::Pallet::<Test>::register_worker(
			RuntimeOrigin::signed(w),
			pair(w).public(),
			vec![0, MODEL],
		));
	}
	let Task::Generate(g) = task() else { unreachable!() };
	assert_ok!(pallet_inference::Pallet::<Test>::generate(
		RuntimeOrigin::signed(ALICE),
		MODEL,
		PROMPT.to_vec(),
		g.max_new_tokens,
		g.sampling,
		g.seed,
		1_000,
	));
}

/// The honest generation of request 0: its program (to the end token or
/// `MAX_NEW` tokens), trace and reply.
fn honest(weights: &[Weight]) -> (ModelPlan, Trace, Vec<u32>) {
	let seed = Requests::<Test>::get(0).unwrap().seed.0;
	let run = |n: u32| {
		let arch = <Models as ModelProvider<u64, u64>>::terms(MODEL).unwrap().arch;
		let plan = arch.plan(PROMPT.len() as u32, &task(), n).unwrap();
		let steps = (0..plan.len()).map(|i| plan.step(i).unwrap()).collect();
		let program = Program { seq_len: PROMPT.len() as u32, steps };
		let weight = |i: u32| weights.get(i as usize).map(Weight::input);
		let context = Context { seed: &seed };
		let outputs = run_reference(&program, weight, &PROMPT, 64, context).unwrap();
		let reply = collected_ids(outputs.last().unwrap(), 64).unwrap();
		let leaves = merkle::trace_leaves(&outputs);
		(plan, Trace { outputs, leaves }, reply)
	};
	let (plan, trace, reply) = run(MAX_NEW);
	// The sample model's end token is 2: a reply stops after it.
	match reply.iter().position(|&t| t == 2) {
		Some(end) if end + 1 < reply.len() => run(end as u32 + 1),
		_ => (plan, trace, reply),
	}
}

fn ids(tokens: &[u32]) -> Vec<u8> {
	tokens.iter().flat_map(|t| t.to_le_bytes()).collect()
}

/// `trace` with step `step`'s first value changed: to another token for
/// the sampler and the collected reply (a lie still in the vocabulary, not
/// the end token), else by `0.5`.
fn lie(trace: &Trace, plan: &ModelPlan, step: u32) -> Trace {
	let mut t = trace.clone();
	let out = &mut t.outputs[step as usize];
	out.data[0] = match plan.step(step).unwrap().op {
		// Another token, never the end token (a reply must not stop early).
		Op::Sample { .. } | Op::Collect => {
			let other = (out.data[0] + 1.0) % 64.0;
			if other == 2.0 {
				3.0
			} else {
				other
			}
		}
		_ => out.data[0] + 0.5,
	};
	t.leaves[step as usize] = merkle::tile_leaf(step, out);
	t
}

/// The first step of `plan` that `pick` accepts, after `after`.
fn first(plan: &ModelPlan, after: u32, pick: impl Fn(&cinder_kernel::Step) -> bool) -> u32 {
	(after..plan.len()).find(|&i| pick(&plan.step(i).unwrap())).unwrap()
}

#[test]
fn a_lie_at_any_kind_of_generation_step_is_proven() {
	let weights = random_llama_weights(&shape());
	// Steps to lie at, found on the honest program: after the prompt (the
	// first sample), so a generated token's segment is disputed.
	let (plan, _, reply) = ExtBuilder::default().build().execute_with(|| {
		requested(&weights);
		honest(&weights)
	});
	assert!(reply.len() >= 2, "a reply of at least two tokens: {reply:?}");
	let first_sample = first(&plan, 0, |s| matches!(s.op, Op::Sample { .. }));
	let sampled_lookup = first(&plan, first_sample, |s| {
		s.inputs.iter().any(|i| matches!(i, cinder_kernel::Source::Sampled { .. }))
	});
	let kinds: [(&str, u32); 6] = [
		("lookup of a sampled token", sampled_lookup),
		(
			"quantized projection",
			first(&plan, sampled_lookup, |s| matches!(s.op, Op::QLinear { .. })),
		),
		("gate and up", first(&plan, sampled_lookup, |s| matches!(s.op, Op::GateUp))),
		("attention", first(&plan, sampled_lookup, |s| matches!(s.op, Op::Attend { .. }))),
		("sampler", first(&plan, sampled_lookup, |s| matches!(s.op, Op::Sample { .. }))),
		("collected reply", plan.len() - 1),
	];
	for (kind, step) in kinds {
		for by in [Party::Worker, Party::Challenger] {
			ExtBuilder::default().build_and_execute(|| {
				requested(&weights);
				let (plan, honest, reply) = honest(&weights);
				let liar = lie(&honest, &plan, step);
				// The liar posts the reply its trace ends with.
				let posted = if step == plan.len() - 1 {
					collected_ids(liar.outputs.last().unwrap(), 64).unwrap()
				} else {
					reply.clone()
				};
				posted_and_challenged(&liar, &posted, &honest);
				assert_eq!(step_to_prove(), step, "{kind}");
				let trace = if by == Party::Worker { &liar } else { &honest };
				let tiles = generation_proof(trace, &plan, &weights, step);
				assert_ok!(authorized(prove_call(by, tiles)));
				let Event::Resolved { worker_lied, challenger_lied, .. } = resolved() else {
					unreachable!()
				};
				assert_eq!(
					(worker_lied, challenger_lied),
					(true, false),
					"{kind} proven by {by:?}"
				);
			});
		}
	}
}

#[test]
fn a_proof_with_a_forged_sampled_token_is_refused() {
	let weights = random_llama_weights(&shape());
	ExtBuilder::default().build_and_execute(|| {
		requested(&weights);
		let (plan, honest, reply) = honest(&weights);
		let first_sample = first(&plan, 0, |s| matches!(s.op, Op::Sample { .. }));
		let step = first(&plan, first_sample, |s| {
			s.inputs.iter().any(|i| matches!(i, cinder_kernel::Source::Sampled { .. }))
		});
		let liar = lie(&honest, &plan, step);
		posted_and_challenged(&liar, &reply, &honest);
		// The liar opens another token's embedding row, claiming the
		// sampler drew it: the sample step's tile is not in the agreed trace.
		let mut forged = honest.clone();
		let sample = first_sample as usize;
		forged.outputs[sample].data[0] = (forged.outputs[sample].data[0] + 1.0) % 64.0;
		let tiles = generation_proof(&forged, &plan, &weights, step);
		let call = prove_call(Party::Worker, tiles);
		assert!(matches!(call.authorize(TransactionSource::External), Some(Err(_))));
		assert_eq!(dispatch(call), Err(Error::<Test>::BadTileProof.into()));
		assert_eq!(step_to_prove(), step);
	});
}

/// Request 0's assignee posts `reply` with `liar`'s trace; another worker
/// challenges it with `honest`'s root, and both reveal until the first
/// differing step.
fn posted_and_challenged(liar: &Trace, reply: &[u32], honest: &Trace) {
	let worker = match Requests::<Test>::get(0).map(|r| r.status) {
		Some(RequestStatus::Assigned { worker, .. }) => worker,
		other => panic!("not assigned: {other:?}"),
	};
	post(0, worker, liar, ids(reply));
	let challenger = [W1, W2, W3].into_iter().find(|w| *w != worker).unwrap();
	assert_ok!(authorized(challenge_call(0, challenger, honest.root())));
	reveal_all(liar, honest);
}

/// A one-step proof of `step` of a generation from `trace`'s tiles (its
/// leaves as given: a forged output keeps its honest leaf).
fn generation_proof(
	trace: &Trace,
	plan: &ModelPlan,
	weights: &[Weight],
	step: u32,
) -> Vec<TileProof> {
	let weight_leaves: Vec<Hash> =
		weights.iter().enumerate().map(|(i, w)| w.leaf(i as u32)).collect();
	let weights = weights.to_vec();
	let prover = crate::prover::Prover {
		input: &PROMPT,
		vocab: 64,
		outputs: &trace.outputs,
		leaves: &trace.leaves,
		weights: &weights,
		weight_leaves: &weight_leaves,
	};
	prover.step_proof(&plan.step(step).unwrap()).unwrap()
}
