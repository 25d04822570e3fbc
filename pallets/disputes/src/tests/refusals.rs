//! Every refusal: a typed error (or an invalid transaction at the pool), and
//! nothing changes.

use super::*;
use frame_support::{assert_noop, assert_ok, traits::fungible::Mutate};
use sp_runtime::transaction_validity::InvalidTransaction;

/// The pool's verdict on `call`.
fn rejected(call: Call<Test>) -> InvalidTransaction {
	match call.authorize(TransactionSource::External) {
		Some(Err(sp_runtime::transaction_validity::TransactionValidityError::Invalid(e))) => e,
		other => panic!("expected a rejection, got {other:?}"),
	}
}

#[test]
fn challenges_are_refused_when_they_cannot_stand() {
	ExtBuilder::default().build_and_execute(|| {
		let (honest, liar) = (Trace::honest(), Trace::lying_at(1, 1.0));
		// No result yet.
		let worker = request();
		let other = [W1, W2, W3].into_iter().find(|w| *w != worker).unwrap();
		assert_noop!(dispatch(challenge_call(0, other, liar.root())), Error::<Test>::NoResult);
		assert_eq!(rejected(challenge_call(0, other, liar.root())), InvalidTransaction::Stale);
		post(0, worker, &honest, honest.output());
		// Not a worker; the worker itself; a signature by another key.
		assert_noop!(dispatch(challenge_call(0, ALICE, liar.root())), Error::<Test>::NotWorker);
		assert_eq!(rejected(challenge_call(0, ALICE, liar.root())), InvalidTransaction::BadProof);
		assert_noop!(dispatch(challenge_call(0, worker, liar.root())), Error::<Test>::OwnResult);
		assert_eq!(rejected(challenge_call(0, worker, liar.root())), InvalidTransaction::Call);
		let Call::challenge { signature, .. } = challenge_call(0, worker, liar.root()) else {
			unreachable!()
		};
		let forged =
			Call::<Test>::challenge { request: 0, challenger: other, root: liar.root(), signature };
		assert_eq!(rejected(forged), InvalidTransaction::BadProof);
		// A bond the challenger cannot hold.
		let free_before = free(other);
		Balances::set_balance(&other, BOND / 2);
		assert_eq!(rejected(challenge_call(0, other, liar.root())), InvalidTransaction::Payment);
		assert_noop!(
			dispatch(challenge_call(0, other, liar.root())),
			Error::<Test>::InsufficientBond
		);
		Balances::set_balance(&other, free_before);
		// One dispute per result.
		assert_ok!(authorized(challenge_call(0, other, liar.root())));
		let third = [W1, W2, W3].into_iter().find(|w| *w != worker && *w != other).unwrap();
		assert_noop!(
			dispatch(challenge_call(0, third, liar.root())),
			Error::<Test>::AlreadyDisputed
		);
		assert_eq!(rejected(challenge_call(0, third, liar.root())), InvalidTransaction::Stale);
		assert_eq!(bond_held(third), 0);
	});
}

#[test]
fn after_the_window_nothing_can_be_challenged() {
	ExtBuilder::default().build_and_execute(|| {
		let (honest, liar) = (Trace::honest(), Trace::lying_at(1, 1.0));
		let (_, other) = answered(&honest);
		// ChallengePeriod 4: answered in block 1, it settles at the start of 5.
		run_to_block(4);
		assert_eq!(
			challenge_call(0, other, liar.root())
				.authorize(TransactionSource::External)
				.map(|r| r.is_ok()),
			Some(true)
		);
		run_to_block(5);
		assert_eq!(rejected(challenge_call(0, other, liar.root())), InvalidTransaction::Stale);
		assert_noop!(dispatch(challenge_call(0, other, liar.root())), Error::<Test>::NoResult);
	});
}

#[test]
fn reveals_that_do_not_fit_are_refused() {
	ExtBuilder::default().build_and_execute(|| {
		let (honest, liar) = (Trace::honest(), Trace::lying_at(10, 1.0));
		let (_, challenger) = answered(&honest);
		assert_noop!(dispatch(prove_call_for_absent_dispute()), Error::<Test>::NoDispute);
		assert_ok!(authorized(challenge_call(0, challenger, liar.root())));
		let mut nodes = honest.round(4, 0);
		let proof = honest.output_proof();
		// Hashes that do not rebuild the party's root; the wrong count.
		let mut wrong = nodes.clone();
		wrong[1] = H256::repeat_byte(9);
		assert_noop!(
			dispatch(reveal_call(Party::Worker, wrong.clone(), proof.clone())),
			Error::<Test>::RevealMismatch
		);
		// The pool refuses what dispatch would: a failing reveal takes no
		// block space.
		assert_eq!(
			rejected(reveal_call(Party::Worker, wrong, proof.clone())),
			InvalidTransaction::Call
		);
		assert_eq!(
			rejected(reveal_call(Party::Worker, honest.round(4, 0), vec![])),
			InvalidTransaction::Call
		);
		assert_noop!(
			dispatch(reveal_call(Party::Challenger, nodes.clone(), vec![])),
			Error::<Test>::RevealMismatch
		);
		nodes.pop();
		assert_noop!(
			dispatch(reveal_call(Party::Worker, nodes, proof.clone())),
			Error::<Test>::WrongRevealLength
		);
		// The worker's first reveal binds its output; only it carries a proof.
		assert_noop!(
			dispatch(reveal_call(Party::Worker, honest.round(4, 0), vec![])),
			Error::<Test>::OutputNotInTrace
		);
		let mut bad_proof = proof.clone();
		bad_proof[0] = H256::repeat_byte(1);
		assert_noop!(
			dispatch(reveal_call(Party::Worker, honest.round(4, 0), bad_proof)),
			Error::<Test>::OutputNotInTrace
		);
		assert_noop!(
			dispatch(reveal_call(Party::Challenger, liar.round(4, 0), proof.clone())),
			Error::<Test>::UnexpectedOutputProof
		);
		// A reveal signed by the other party's key.
		let Call::reveal { signature, .. } =
			reveal_call(Party::Challenger, honest.round(4, 0), proof.clone())
		else {
			unreachable!()
		};
		let forged = Call::<Test>::reveal {
			request: 0,
			party: Party::Worker,
			hashes: honest.round(4, 0),
			output_proof: proof,
			signature,
		};
		assert_eq!(rejected(forged), InvalidTransaction::BadProof);
		// Twice in a round; proving while revealing; after the deadline.
		assert_ok!(reveal(Party::Worker, &honest));
		assert_eq!(
			rejected(reveal_call(Party::Worker, honest.round(4, 0), vec![])),
			InvalidTransaction::Stale
		);
		assert_noop!(
			dispatch(reveal_call(Party::Worker, honest.round(4, 0), vec![])),
			Error::<Test>::AlreadyRevealed
		);
		assert_noop!(
			dispatch(prove_call(Party::Worker, honest.step_proof(10))),
			Error::<Test>::NotProving
		);
		System::set_block_number(5);
		assert_noop!(
			dispatch(reveal_call(Party::Challenger, liar.round(4, 0), vec![])),
			Error::<Test>::DeadlinePassed
		);
	});
}

/// A proof call for request 0 before any dispute exists.
fn prove_call_for_absent_dispute() -> Call<Test> {
	Call::prove_step {
		request: 0,
		party: Party::Worker,
		tiles: vec![],
		signature: pair(W1).sign(b"nothing"),
	}
}

#[test]
fn proofs_that_do_not_hold_are_refused() {
	ExtBuilder::default().build_and_execute(|| {
		// Step 4 (the key projection of head 1) reads the embeddings (step 0),
		// a weight tile and a bias tile.
		let (liar, honest) = (Trace::lying_at(4, 1.0), Trace::honest());
		let (_, challenger) = answered(&liar);
		assert_ok!(authorized(challenge_call(0, challenger, honest.root())));
		reveal_all(&liar, &honest);
		assert_eq!(step_to_prove(), 4);
		let good = honest.step_proof(4);
		let refused = |tiles: Vec<TileProof>, error: Error<Test>| {
			assert_eq!(
				rejected(prove_call(Party::Challenger, tiles.clone())),
				InvalidTransaction::Call
			);
			assert_noop!(dispatch(prove_call(Party::Challenger, tiles)), error);
		};
		// An input tile whose data is not the agreed step output.
		let mut tiles = good.clone();
		let mut tile = Tile::from_bytes(&tiles[0].tile).unwrap();
		tile.data[0] += 1.0;
		tiles[0].tile = tile.to_bytes();
		refused(tiles, Error::<Test>::BadTileProof);
		// A weight tile with a broken Merkle proof.
		let mut tiles = good.clone();
		let last = tiles.len() - 1;
		tiles[last].siblings[0] = H256::repeat_byte(3);
		refused(tiles, Error::<Test>::BadTileProof);
		// Bytes that are no tile.
		let mut tiles = good.clone();
		tiles[0].tile.pop();
		refused(tiles, Error::<Test>::MalformedTile);
		// The proof of another step.
		refused(honest.step_proof(3), Error::<Test>::BadTileProof);
		refused(honest.step_proof(15), Error::<Test>::WrongTileCount);
		refused(vec![], Error::<Test>::WrongTileCount);
		// A proof signed by the wrong party's key.
		let Call::prove_step { signature, .. } = prove_call(Party::Worker, good.clone()) else {
			unreachable!()
		};
		let forged = Call::<Test>::prove_step {
			request: 0,
			party: Party::Challenger,
			tiles: good.clone(),
			signature,
		};
		assert_eq!(rejected(forged), InvalidTransaction::BadProof);
		// After the deadline.
		let Stage::Prove { deadline, .. } = dispute().stage else { unreachable!() };
		System::set_block_number(deadline + 1);
		assert_eq!(
			rejected(prove_call(Party::Challenger, good.clone())),
			InvalidTransaction::Stale
		);
		assert_noop!(dispatch(prove_call(Party::Challenger, good)), Error::<Test>::DeadlinePassed);
	});
}
