//! The models a worker serves: every directory under the models directory
//! whose files match a model registered on chain (weights file, weight-tile
//! root, program and tokenizer hashes), loaded once at start. A directory
//! whose files do not load, or load but are not a registered model's, is
//! refused with the file at fault named; the others are served.

use std::{
	collections::BTreeMap,
	path::{Path, PathBuf},
	sync::Arc,
	time::Instant,
};

use cinder_engine::{
	model::{CONFIG_FILE, TOKENIZER_FILE, WEIGHTS_FILE},
	Model,
};
use pallet_inference_runtime_api::{ModelId, ModelSummary};

/// Loaded models by on-chain id, and the directories refused.
#[derive(Default)]
pub struct LoadedModels {
	models: BTreeMap<ModelId, Arc<Model>>,
	/// Model directories not served, each with the file at fault and why.
	pub refused: Vec<Refusal>,
}

/// A model directory the worker does not serve.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Refusal {
	pub dir: PathBuf,
	/// Why, naming the file at fault.
	pub reason: String,
}

impl LoadedModels {
	/// Loads every model directory in `dir` that matches one of `registered`.
	/// A directory that does not load, or matches no registered model, is
	/// refused with a log line naming the file and why; the others are
	/// served.
	pub fn load<A, B>(dir: &Path, registered: &[ModelSummary<A, B>]) -> Self {
		let mut loaded = Self::default();
		let entries = match std::fs::read_dir(dir) {
			Ok(e) => e,
			Err(e) => {
				log::error!(
					target: "worker",
					"models directory {} unreadable ({e}): this worker serves no model",
					dir.display()
				);
				return loaded;
			}
		};
		let mut dirs: Vec<_> = entries.flatten().map(|e| e.path()).filter(|p| p.is_dir()).collect();
		dirs.sort();
		for path in dirs {
			if !path.join(WEIGHTS_FILE).exists() {
				continue;
			}
			match Self::load_one(&path, registered) {
				Ok((id, model)) => {
					loaded.models.insert(id, Arc::new(model));
				}
				Err(reason) => {
					log::error!(target: "worker", "🚫 {}: refused: {reason}", path.display());
					loaded.refused.push(Refusal { dir: path, reason });
				}
			}
		}
		loaded
	}

	/// Loads the model in `path` and finds it in the registry.
	fn load_one<A, B>(
		path: &Path,
		registered: &[ModelSummary<A, B>],
	) -> Result<(ModelId, Model), String> {
		log::info!(target: "worker", "🧠 loading model from {} …", path.display());
		let start = Instant::now();
		// The files are whatever is on disk: a parser that panics on one
		// refuses that model, not the node.
		let model = std::panic::catch_unwind(|| Model::load(path))
			.map_err(|_| "the loader panicked on its files".to_string())?
			.map_err(|e| e.to_string())?;
		let program = model.program_hash();
		let differences = |m: &ModelSummary<A, B>| {
			let mut files = Vec::new();
			if m.hashes.weights.0 != model.files.weights
				|| m.hashes.weight_root.0 != model.weights_root
			{
				files.push(WEIGHTS_FILE);
			}
			if m.hashes.program.0 != program {
				files.push(CONFIG_FILE);
			}
			if m.hashes.tokenizer.0 != model.files.tokenizer {
				files.push(TOKENIZER_FILE);
			}
			files
		};
		// The registered model it is closest to: fewest files differing.
		let closest = registered.iter().map(|m| (m, differences(m))).min_by_key(|(_, d)| d.len());
		match closest {
			None => Err("no model is registered on chain".into()),
			Some((m, d)) if d.is_empty() => {
				log::info!(
					target: "worker",
					"🧠 model {} ({}) loaded in {:.1}s: {} weight tiles, commitments match the chain",
					m.id,
					String::from_utf8_lossy(&m.name),
					start.elapsed().as_secs_f64(),
					model.weights.len(),
				);
				Ok((m.id, model))
			}
			Some((m, d)) => Err(format!(
				"{} {} not the registered file{} of model {} ({}) nor of any other registered model",
				d.join(", "),
				if d.len() == 1 { "is" } else { "are" },
				if d.len() == 1 { "" } else { "s" },
				m.id,
				String::from_utf8_lossy(&m.name),
			)),
		}
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

#[cfg(test)]
mod tests {
	use super::*;
	use cinder_engine::testmodel;
	use pallet_models::{Architecture, ModelHashes};
	use sp_core::H256;

	/// The registry entry of the model in `dir`, with id `id`.
	fn registered(dir: &Path, id: ModelId) -> ModelSummary<u64, u128> {
		let model = Model::load(dir).unwrap();
		ModelSummary {
			id,
			owner: 1,
			name: b"test-bert".to_vec(),
			metadata: Vec::new(),
			arch: Architecture::Bert(model.shape),
			hashes: ModelHashes {
				weights: H256(model.files.weights),
				weight_root: H256(model.weights_root),
				program: H256(model.program_hash()),
				tokenizer: H256(model.files.tokenizer),
			},
			spec_version: 1,
			price: 1,
			token_prices: Default::default(),
			kind: pallet_models::ModelKind::Embedding,
			active: true,
		}
	}

	/// A copy of the test model (seed 7) in `root/name`, with `spoil`
	/// applied to its files.
	fn model_dir(root: &Path, name: &str, seed: u64, spoil: impl FnOnce(&Path)) -> PathBuf {
		let dir = root.join(name);
		std::fs::create_dir_all(&dir).unwrap();
		testmodel::write(&dir, seed).unwrap();
		spoil(&dir);
		dir
	}

	fn rewrite(path: PathBuf, f: impl FnOnce(Vec<u8>) -> Vec<u8>) {
		let bytes = std::fs::read(&path).unwrap();
		std::fs::write(&path, f(bytes)).unwrap();
	}

	#[test]
	fn bad_model_files_are_refused_by_name_and_the_good_model_is_served() {
		let root = tempfile::tempdir().unwrap();
		let good = model_dir(root.path(), "a-good", 7, |_| {});
		let other = model_dir(root.path(), "b-other", 8, |_| {});
		let registry = vec![registered(&good, 0), registered(&other, 1)];
		std::fs::remove_dir_all(&other).unwrap();

		// A directory name, what spoils its files, what the refusal must say.
		type Case = (&'static str, Box<dyn FnOnce(&Path)>, &'static str);
		let cases: Vec<Case> = vec![
			(
				"truncated-weights",
				Box::new(|d| rewrite(d.join(WEIGHTS_FILE), |b| b[..b.len() / 2].to_vec())),
				"model.safetensors:",
			),
			(
				"garbage-weights",
				Box::new(|d| rewrite(d.join(WEIGHTS_FILE), |b| vec![0xff; b.len()])),
				"model.safetensors:",
			),
			(
				// One weight flipped: the file loads, its hashes are not the registry's.
				"flipped-weight",
				Box::new(|d| {
					rewrite(d.join(WEIGHTS_FILE), |mut b| {
						let last = b.len() - 1;
						b[last] ^= 0x01;
						b
					})
				}),
				"model.safetensors is not the registered file of model 0",
			),
			(
				"truncated-tokenizer",
				Box::new(|d| rewrite(d.join(TOKENIZER_FILE), |b| b[..b.len() / 3].to_vec())),
				"tokenizer.json:",
			),
			(
				// Valid JSON, another vocabulary order: loads, is not registered.
				"other-tokenizer",
				Box::new(|d| {
					rewrite(d.join(TOKENIZER_FILE), |b| {
						String::from_utf8(b).unwrap().replacen("\"cat\"", "\"cow\"", 1).into_bytes()
					})
				}),
				"tokenizer.json is not the registered file of model 0",
			),
			(
				"config-not-json",
				Box::new(|d| std::fs::write(d.join(CONFIG_FILE), b"{ hidden_size: ").unwrap()),
				"config.json:",
			),
			(
				// A valid config of another depth: the weights miss its layers.
				"deeper-config",
				Box::new(|d| {
					rewrite(d.join(CONFIG_FILE), |b| {
						let mut c: serde_json::Value = serde_json::from_slice(&b).unwrap();
						c["num_hidden_layers"] = serde_json::json!(3);
						serde_json::to_vec(&c).unwrap()
					})
				}),
				"model.safetensors: ",
			),
			(
				"no-tokenizer",
				Box::new(|d| std::fs::remove_file(d.join(TOKENIZER_FILE)).unwrap()),
				"tokenizer.json: No such file",
			),
		];
		let mut expected = Vec::new();
		for (name, spoil, why) in cases {
			let dir = model_dir(root.path(), name, 7, spoil);
			expected.push((dir, why));
		}

		let loaded = LoadedModels::load(root.path(), &registry);
		assert_eq!(loaded.ids(), vec![0], "the good model is served, nothing else");
		assert_eq!(loaded.get(0).unwrap().dir, good);
		assert_eq!(loaded.refused.len(), expected.len(), "{:#?}", loaded.refused);
		for (dir, why) in expected {
			let refusal = loaded.refused.iter().find(|r| r.dir == dir).unwrap();
			assert!(
				refusal.reason.contains(why),
				"{}: {:?} lacks {why:?}",
				dir.display(),
				refusal.reason
			);
		}
	}

	#[test]
	fn a_missing_models_directory_serves_nothing() {
		let root = tempfile::tempdir().unwrap();
		let registry: Vec<ModelSummary<u64, u128>> = Vec::new();
		let loaded = LoadedModels::load(&root.path().join("gone"), &registry);
		assert!(loaded.ids().is_empty() && loaded.refused.is_empty());
		let only = model_dir(root.path(), "only", 7, |_| {});
		let loaded = LoadedModels::load(root.path(), &registry);
		assert_eq!(
			loaded.refused,
			vec![Refusal { dir: only, reason: "no model is registered on chain".into() }]
		);
	}
}
