//! The models a worker serves: every directory under the models directory
//! whose files match a model registered on chain (weights file, weight-tile
//! root, program and tokenizer hashes), loaded once at start.

use std::{collections::BTreeMap, path::Path, sync::Arc, time::Instant};

use cinder_engine::Model;
use pallet_inference_runtime_api::{ModelId, ModelSummary};

/// Loaded models by on-chain id.
#[derive(Default)]
pub struct LoadedModels {
	models: BTreeMap<ModelId, Arc<Model>>,
}

impl LoadedModels {
	/// Loads every model directory in `dir` that matches one of `registered`.
	/// Directories that do not load or match nothing are reported and skipped.
	pub fn load<A, B>(dir: &Path, registered: &[ModelSummary<A, B>]) -> Self {
		let mut models = BTreeMap::new();
		let entries = match std::fs::read_dir(dir) {
			Ok(e) => e,
			Err(e) => {
				log::warn!(target: "worker", "models directory {} unreadable: {e}", dir.display());
				return Self { models };
			}
		};
		let mut dirs: Vec<_> = entries.flatten().map(|e| e.path()).filter(|p| p.is_dir()).collect();
		dirs.sort();
		for path in dirs {
			if !path.join("model.safetensors").exists() {
				continue;
			}
			log::info!(target: "worker", "🧠 loading model from {} …", path.display());
			let start = Instant::now();
			let model = match Model::load(&path) {
				Ok(m) => m,
				Err(e) => {
					log::warn!(target: "worker", "{}: does not load: {e}", path.display());
					continue;
				}
			};
			let program = model.program_hash();
			let found = registered.iter().find(|m| {
				m.hashes.weights.0 == model.files.weights
					&& m.hashes.weight_root.0 == model.weights_root
					&& m.hashes.program.0 == program
					&& m.hashes.tokenizer.0 == model.files.tokenizer
			});
			match found {
				Some(m) => {
					log::info!(
						target: "worker",
						"🧠 model {} ({}) loaded in {:.1}s: {} weight tiles, commitments match the chain",
						m.id,
						String::from_utf8_lossy(&m.name),
						start.elapsed().as_secs_f64(),
						model.weights.len(),
					);
					models.insert(m.id, Arc::new(model));
				}
				None => log::warn!(
					target: "worker",
					"{}: loaded, but no registered model has its hashes; not serving it",
					path.display()
				),
			}
		}
		Self { models }
	}

	/// The model with on-chain id `id`, if loaded.
	pub fn get(&self, id: ModelId) -> Option<Arc<Model>> {
		self.models.get(&id).cloned()
	}

	/// Ids of the loaded models.
	pub fn ids(&self) -> Vec<ModelId> {
		self.models.keys().copied().collect()
	}
}

impl pallet_inference_rpc::Tokenizers for LoadedModels {
	fn tokenize(&self, model: ModelId, text: &str) -> Option<Result<Vec<u32>, String>> {
		self.models.get(&model).map(|m| m.tokenize(text).map_err(|e| e.to_string()))
	}

	fn detokenize(&self, model: ModelId, ids: &[u32]) -> Option<Result<String, String>> {
		self.models.get(&model).map(|m| m.detokenize(ids).map_err(|e| e.to_string()))
	}
}
