//! Random sequences of calls and block advances, embeddings and
//! generations (answered with replies of any allowed length, priced per
//! token at prices that change): issuance never changes, every invariant
//! holds after every step, and once the queues drain no funds stay held.

use super::*;
use crate::traits::{ResultDisputes, Verdict};
use frame_support::{assert_ok, traits::fungible::Inspect};
use proptest::prelude::*;

#[derive(Clone, Debug)]
enum Op {
	Request { caller: u64, fee: u64, len: usize },
	Generate { caller: u64, fee: u64, len: usize, max_new: u32 },
	Answer { pick: usize },
	Advance { blocks: u64 },
	Deregister { worker: u64 },
	Register { worker: u64 },
	LeaveValidators { worker: u64 },
	SetPrice { price: u64 },
	SetGeneratorPrices { price: u64, prompt: u64, generated: u64 },
	Freeze { pick: usize },
	Resolve { pick: usize, fraud: bool },
}

fn op() -> impl Strategy<Value = Op> {
	let worker = prop_oneof![Just(W1), Just(W2), Just(W3), Just(V4)];
	prop_oneof![
		4 => (prop_oneof![Just(ALICE), Just(BOB), Just(POOR)], 0u64..400, 0usize..20)
			.prop_map(|(caller, fee, len)| Op::Request { caller, fee, len }),
		3 => (prop_oneof![Just(ALICE), Just(BOB), Just(POOR)], 0u64..400, 0usize..20, 0u32..36)
			.prop_map(|(caller, fee, len, max_new)| Op::Generate { caller, fee, len, max_new }),
		5 => (0usize..64).prop_map(|pick| Op::Answer { pick }),
		3 => (1u64..8).prop_map(|blocks| Op::Advance { blocks }),
		1 => worker.clone().prop_map(|worker| Op::Deregister { worker }),
		1 => worker.clone().prop_map(|worker| Op::Register { worker }),
		1 => worker.prop_map(|worker| Op::LeaveValidators { worker }),
		1 => (0u64..300).prop_map(|price| Op::SetPrice { price }),
		1 => (0u64..100, 0u64..10, 0u64..20).prop_map(|(price, prompt, generated)| {
			Op::SetGeneratorPrices { price, prompt, generated }
		}),
		2 => (0usize..8).prop_map(|pick| Op::Freeze { pick }),
		2 => (0usize..8, any::<bool>()).prop_map(|(pick, fraud)| Op::Resolve { pick, fraud }),
	]
}

fn apply(op: &Op) {
	match op {
		Op::Request { caller, fee, len } => {
			let input = (0..*len as u32).map(|t| t % 70).collect();
			let _ = Inference::request(RuntimeOrigin::signed(*caller), 0, input, *fee);
		}
		Op::Generate { caller, fee, len, max_new } => {
			let prompt = (0..*len as u32).map(|t| t % 70).collect();
			let origin = RuntimeOrigin::signed(*caller);
			let greedy = pallet_models::Sampling::Greedy;
			let _ = Inference::generate(origin, GENERATOR, prompt, *max_new, greedy, None, *fee);
		}
		Op::Answer { pick } => {
			let open: Vec<(RequestId, u64, RequestOf<Test>)> = Requests::<Test>::iter()
				.filter_map(|(id, r)| match r.status {
					RequestStatus::Assigned { worker, .. } => Some((id, worker, r)),
					_ => None,
				})
				.collect();
			if let Some((id, worker, req)) = open.get(pick % open.len().max(1)) {
				let (output, steps) = match req.task {
					Task::Embed => (vec![1u8; OUTPUT], STEPS),
					// A reply of 1..=max_new tokens, ended by the end token
					// when shorter.
					Task::Generate(g) => {
						let n = (*pick as u32 % g.max_new_tokens) + 1;
						let mut reply: Vec<u32> = (0..n).map(|i| 5 + i % 50).collect();
						if n < g.max_new_tokens {
							reply[n as usize - 1] = EOS;
						}
						let terms =
							<Models as pallet_models::ModelProvider<u64, u64>>::terms(GENERATOR)
								.unwrap();
						let prompt = req.input.len() as u32;
						let steps = terms.arch.trace_len(prompt, &req.task, n).unwrap();
						(reply.iter().flat_map(|t| t.to_le_bytes()).collect(), steps)
					}
				};
				let call = result_call(*id, *worker, output, steps);
				if let Some(Ok(_)) = call.authorize(TransactionSource::External) {
					assert!(dispatch_authorized(call).is_ok(), "an authorized result dispatches");
				}
			}
		}
		Op::Advance { blocks } => {
			for _ in 0..*blocks {
				run_to_block(System::block_number() + 1);
				check_invariants();
			}
		}
		Op::Deregister { worker } => {
			let _ = Inference::deregister_worker(RuntimeOrigin::signed(*worker));
		}
		Op::Register { worker } => {
			let key = pair(*worker).public();
			let models = vec![0, GENERATOR];
			let _ = Inference::register_worker(RuntimeOrigin::signed(*worker), key, models);
		}
		Op::LeaveValidators { worker } => Stakes::mutate(|s| {
			s.remove(worker);
		}),
		Op::SetPrice { price } => {
			let _ = Models::set_price(RuntimeOrigin::signed(OWNER), 0, *price, Default::default());
		}
		Op::SetGeneratorPrices { price, prompt, generated } => {
			let tokens = pallet_models::TokenPrices { prompt: *prompt, generated: *generated };
			let origin = RuntimeOrigin::signed(OWNER);
			let _ = Models::set_price(origin, GENERATOR, *price, tokens);
		}
		Op::Freeze { pick } => {
			if let Some(id) = pick_request(*pick, |s| matches!(s, RequestStatus::Answered { .. })) {
				assert_ok!(Inference::freeze(id));
			}
		}
		Op::Resolve { pick, fraud } => {
			if let Some(id) = pick_request(*pick, |s| matches!(s, RequestStatus::Frozen { .. })) {
				let verdict = if *fraud { Verdict::Fraud } else { Verdict::Upheld };
				assert_ok!(Inference::resolve(id, verdict, &V4));
			}
		}
	}
}

/// One of the open requests whose status passes `filter`.
fn pick_request(
	pick: usize,
	filter: impl Fn(&RequestStatus<u64, u64>) -> bool,
) -> Option<RequestId> {
	let ids: Vec<RequestId> =
		Requests::<Test>::iter().filter(|(_, r)| filter(&r.status)).map(|(id, _)| id).collect();
	ids.get(pick % ids.len().max(1)).copied()
}

proptest! {
	#![proptest_config(ProptestConfig::with_cases(48))]

	#[test]
	fn funds_add_up_over_random_histories(ops in prop::collection::vec(op(), 1..60), salt in any::<u64>()) {
		ExtBuilder::default().build_and_execute(|| {
			Salt::set(salt);
			let issuance = Balances::total_issuance();
			let accounts = [ALICE, BOB, POOR, OWNER, TREASURY, POT, W1, W2, W3, V4];
			let total = || accounts.iter().map(Balances::total_balance).sum::<u64>();
			let before = total();
			for op in &ops {
				apply(op);
				check_invariants();
				assert_eq!(Balances::total_issuance(), issuance);
				assert_eq!(total(), before);
			}
			// Disputes end (the dispute game's deadlines guarantee it); then
			// every deadline, retry and window ends within this many blocks.
			while let Some(id) = pick_request(0, |s| matches!(s, RequestStatus::Frozen { .. })) {
				assert_ok!(Inference::resolve(id, Verdict::Upheld, &V4));
			}
			run_to_block(System::block_number() + 40);
			assert_eq!(Requests::<Test>::count(), 0);
			for who in [ALICE, BOB, POOR] {
				assert_eq!(escrow(who), 0);
			}
			assert_eq!(total(), before);
		});
	}
}
