//! The MiniLM record the genesis presets register matches the files
//! `scripts/fetch-models.sh` installs, as the engine loads them: shape,
//! weights file, weight-tile root, program and tokenizer.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use cinder_runtime::genesis_config_presets::minilm;

#[test]
fn genesis_minilm_matches_the_model_files() {
	let Some(dir) = cinder_engine::installed_minilm() else { return };
	let model = cinder_engine::Model::load(&dir).unwrap();
	assert_eq!(model.shape, minilm::SHAPE);
	assert_eq!(model.files.weights, minilm::HASHES.weights.0);
	assert_eq!(model.weights_root, minilm::HASHES.weight_root.0);
	assert_eq!(model.program_hash(), minilm::HASHES.program.0);
	assert_eq!(model.files.tokenizer, minilm::HASHES.tokenizer.0);
}
