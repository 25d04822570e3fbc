//! The cross-machine check: trace roots pinned as hex constants, for the
//! seeded test model and for all-MiniLM-L6-v2. The machines Cinder runs on
//! differ (AVX-512 Xeons, AVX2-only EPYCs, wasm in the runtime); every one
//! must compute these bits, so a machine whose engine computes others fails
//! here. The constants were computed once and must never move.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use cinder_engine::{installed_minilm, testmodel, Model};
use cinder_kernel::{merkle, verify};

/// `(text, trace root)` for the test model written from seed 7.
const SEEDED: &[(&str, &str)] = &[
	("the cat sat on the mat.", "e6f20f7b109e4763f446486f305030637208e2b20befafb5dc572ee2fa719680"),
	(
		"the sun and the moon and the star in the sky over the sea and the river by the hill",
		"ee9e7a23cded61ee447c7da893588aebf3bfe751be42c78876d635edf2d0e151",
	),
];

/// `(text, trace root)` for all-MiniLM-L6-v2.
const MINILM: &[(&str, &str)] = &[
	("A man is eating food.", "51977eae74c615a9a55e90bd4576e0c0c4a831314f010528c12b8c88827eba7c"),
	(
		"Cinder is a Substrate chain for decentralized AI inference, where optimistic fraud \
		 proofs keep the workers honest and token holders stake behind validators.",
		"dca1f1be2725a6ea7a305bddb218cf0e1eb46f034a1cb0cd15d88c42514be952",
	),
];

fn hex(bytes: &[u8]) -> String {
	bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Every pinned root: the engine's on one thread and on two (the widest
/// vector unit this CPU has), and the scalar reference executor's (the
/// arithmetic the runtime recomputes a step with).
fn check(model: &Model, pins: &[(&str, &str)]) {
	let mut wrong = Vec::new();
	for (text, pinned) in pins {
		let ids = model.tokenize(text).unwrap();
		let mut roots = Vec::new();
		for threads in [1, 2] {
			let embedding = model.embed(&ids, threads).unwrap();
			roots.push((format!("{threads} threads"), hex(&embedding.trace.root)));
			if threads == 1 {
				let weight = |i: u32| model.weights.get(i as usize);
				let outputs =
					verify::run_reference(&embedding.program, weight, &ids, model.shape.vocab)
						.unwrap();
				roots.push((
					"reference".into(),
					hex(&merkle::root(&merkle::trace_leaves(&outputs))),
				));
			}
		}
		for (how, root) in roots {
			if root != *pinned {
				wrong.push(format!("{text:?} ({} tokens, {how}): {root}", ids.len()));
			}
		}
	}
	assert!(wrong.is_empty(), "trace roots moved:\n{}", wrong.join("\n"));
}

#[test]
fn seeded_test_model_trace_roots_are_pinned() {
	let dir = tempfile::tempdir().unwrap();
	testmodel::write(dir.path(), 7).unwrap();
	check(&Model::load(dir.path()).unwrap(), SEEDED);
}

#[test]
fn minilm_trace_roots_are_pinned() {
	let Some(dir) = installed_minilm() else { return };
	check(&Model::load(dir).unwrap(), MINILM);
}
