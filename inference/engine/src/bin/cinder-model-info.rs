//! Prints what the chain registers for a model directory, as JSON in the
//! shape of `pallet_models::ModelSpec` (without owner and price): the BERT
//! shape, and the weights, weight-tile root, program and tokenizer hashes.
//! An operator runs it before `models.register`; the dev genesis was made
//! with it.
//!
//! `cinder-model-info [MODEL_DIR]`; `MODEL_DIR` defaults to
//! all-minilm-l6-v2 under [`cinder_engine::models_dir`].

use std::path::PathBuf;

use cinder_engine::Model;

fn hex(bytes: &[u8]) -> String {
	let digits: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
	format!("0x{digits}")
}

fn main() {
	let dir = std::env::args()
		.nth(1)
		.map(PathBuf::from)
		.unwrap_or_else(|| cinder_engine::models_dir().join(cinder_engine::MINILM_DIR));
	let model = match Model::load(&dir) {
		Ok(m) => m,
		Err(e) => {
			eprintln!("cannot load {}: {e}", dir.display());
			std::process::exit(1);
		}
	};
	let s = model.shape;
	let info = serde_json::json!({
		"arch": { "Bert": {
			"vocab": s.vocab, "hidden": s.hidden, "layers": s.layers, "heads": s.heads,
			"intermediate": s.intermediate, "max_positions": s.max_positions,
			"type_vocab": s.type_vocab, "eps": s.eps,
		}},
		"hashes": {
			"weights": hex(&model.files.weights),
			"weight_root": hex(&model.weights_root),
			"program": hex(&model.program_hash()),
			"tokenizer": hex(&model.files.tokenizer),
		},
		"spec_version": cinder_kernel::KERNEL_SPEC_V1,
	});
	println!("{info:#}");
}
