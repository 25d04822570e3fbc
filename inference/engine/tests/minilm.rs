//! The real all-MiniLM-L6-v2 (fetched by `scripts/fetch-models.sh`, which the
//! test script runs): the canonical embedding matches candle's f32 forward
//! pass with cosine ≥ 0.9999 on 24 sentences, and similar sentences score
//! higher than unrelated ones.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use cinder_engine::{model::cosine, Model};

const SENTENCES: &[&str] = &[
	"A man is eating food.",
	"A man is eating a piece of bread.",
	"The girl is carrying a baby.",
	"A man is riding a horse.",
	"A woman is playing violin.",
	"Two men pushed carts through the woods.",
	"A man is riding a white horse on an enclosed ground.",
	"A monkey is playing drums.",
	"Someone in a gorilla costume is playing a set of drums.",
	"The quick brown fox jumps over the lazy dog.",
	"Validators stake tokens to secure the network.",
	"Blockchains record transactions in blocks linked by hashes.",
	"Fraud proofs let anyone challenge an incorrect result.",
	"It is raining heavily in the city tonight.",
	"The weather forecast predicts snow tomorrow.",
	"I love reading books about history.",
	"She enjoys novels about ancient Rome.",
	"Python and Rust are programming languages.",
	"The stock market fell sharply on Monday.",
	"Interest rates were raised by the central bank.",
	"A cat sleeps on the warm windowsill.",
	"Dogs are loyal companions.",
	"The recipe calls for two cups of flour and a pinch of salt.",
	"Quantum computers exploit superposition and entanglement to solve certain problems faster than \
	 classical machines, although building reliable qubits remains a major engineering challenge \
	 that researchers around the world are working on.",
];

#[test]
fn canonical_minilm_matches_candle_on_24_sentences() {
	let Some(dir) = cinder_engine::installed_minilm() else { return };
	let m = Model::load(&dir).unwrap();
	assert_eq!((m.shape.hidden, m.shape.layers, m.shape.vocab), (384, 6, 30522));
	// BERT uncased WordPiece ids, [CLS] … [SEP], and no padding.
	assert_eq!(
		m.tokenize("A man is riding a horse.").unwrap(),
		vec![101, 1037, 2158, 2003, 5559, 1037, 3586, 1012, 102]
	);
	let mut worst = 1.0f32;
	for text in SENTENCES {
		let ids = m.tokenize(text).unwrap();
		let canonical = m.embed(&ids, 2).unwrap().vector;
		let reference = m.reference_embedding(&ids).unwrap();
		let c = cosine(&canonical, &reference);
		worst = worst.min(c);
		assert!(c >= 0.9999, "{text:?}: cosine {c}");
	}
	eprintln!("worst cosine canonical vs candle over {} sentences: {worst}", SENTENCES.len());
}

#[test]
fn similar_sentences_score_higher_than_unrelated_ones() {
	let Some(dir) = cinder_engine::installed_minilm() else { return };
	let m = Model::load(&dir).unwrap();
	let e = |t: &str| m.embed(&m.tokenize(t).unwrap(), 2).unwrap().vector;
	let pairs = [
		(SENTENCES[0], SENTENCES[1], SENTENCES[9]),
		(SENTENCES[3], SENTENCES[6], SENTENCES[18]),
		(SENTENCES[7], SENTENCES[8], SENTENCES[13]),
		(SENTENCES[13], SENTENCES[14], SENTENCES[21]),
		(SENTENCES[15], SENTENCES[16], SENTENCES[17]),
		(SENTENCES[18], SENTENCES[19], SENTENCES[20]),
	];
	for (a, similar, unrelated) in pairs {
		let (ea, es, eu) = (e(a), e(similar), e(unrelated));
		let (s, u) = (cosine(&ea, &es), cosine(&ea, &eu));
		assert!(s > u + 0.1, "{a:?}: similar {s} vs unrelated {u}");
	}
}
