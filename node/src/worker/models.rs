//! The models a worker serves: every directory under the models directory
//! whose files match a model registered on chain (weights file, weight-tile
//! root, program and tokenizer hashes), loaded once at start: an embedding
//! model's `model.safetensors` with its `config.json` and
//! `tokenizer.json`, or a chat model's one GGUF file (weights and tokenizer
//! in one). A directory whose files do not load, or load but are not a
//! registered model's, is refused with the file at fault named; the others
//! are served.

use std::{
	collections::BTreeMap,
	path::{Path, PathBuf},
	sync::Arc,
	time::Instant,
};

use cinder_engine::{
	chat::ChatModel,
	model::{CONFIG_FILE, TOKENIZER_FILE, WEIGHTS_FILE},
	Model,
};
use pallet_inference_runtime_api::{Architecture, Generator, ModelId, ModelSummary};

/// A model the worker serves (one of each is loaded per model, so the
/// variants' sizes do not matter).
#[allow(clippy::large_enum_variant)]
pub enum Served {
	/// A sentence-embedding model (kernel spec 1).
	Embedder(Model),
	/// A chat model (kernel spec 2).
	Chat(ChatModel),
}

impl Served {
	/// Loads the model in directory `path`: an embedding model's files, or
	/// the one GGUF file of a chat model.
	fn load(path: &Path) -> Result<Self, String> {
		if path.join(WEIGHTS_FILE).exists() {
			return Model::load(path).map(Self::Embedder).map_err(|e| e.to_string());
		}
		let gguf = gguf_file(path).ok_or("no model file (model.safetensors or one .gguf)")?;
		ChatModel::load(&gguf).map(Self::Chat).map_err(|e| e.to_string())
	}

	/// The files of this model that differ from registration `m`'s, by
	/// name; none when it is the registered model.
	fn differences<A, B>(&self, m: &ModelSummary<A, B>) -> Vec<String> {
		let mut files = Vec::new();
		match self {
			Self::Embedder(model) => {
				if m.hashes.weights.0 != model.files.weights
					|| m.hashes.weight_root.0 != model.weights_root
				{
					files.push(WEIGHTS_FILE.to_string());
				}
				if m.hashes.program.0 != model.program_hash() {
					files.push(CONFIG_FILE.to_string());
				}
				if m.hashes.tokenizer.0 != model.files.tokenizer {
					files.push(TOKENIZER_FILE.to_string());
				}
			}
			Self::Chat(model) => {
				let arch = Architecture::Llama(Generator { shape: model.shape, eos: model.eos });
				let file = m.hashes.weights.0 == model.file_hash
					&& m.hashes.tokenizer.0 == model.file_hash
					&& m.hashes.weight_root.0 == model.weights.weight_root
					&& m.hashes.program.0 == model.program_hash()
					&& m.arch == arch;
				if !file {
					let name = model.path.file_name().unwrap_or_default();
					files.push(name.to_string_lossy().into_owned());
				}
			}
		}
		files
	}

	/// Weight tiles, for the log.
	fn tiles(&self) -> usize {
		match self {
			Self::Embedder(m) => m.weights.len(),
			Self::Chat(m) => m.weights.tiles.len(),
		}
	}
}

/// The one `.gguf` file in `dir`, if there is exactly one.
fn gguf_file(dir: &Path) -> Option<PathBuf> {
	let mut found = std::fs::read_dir(dir)
		.ok()?
		.flatten()
		.map(|e| e.path())
		.filter(|p| p.extension().is_some_and(|e| e == "gguf"));
	let first = found.next()?;
	found.next().is_none().then_some(first)
}

/// Loaded models by on-chain id, and the directories refused.
#[derive(Default)]
pub struct LoadedModels {
	models: BTreeMap<ModelId, Arc<Served>>,
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
			if !path.join(WEIGHTS_FILE).exists() && gguf_file(&path).is_none() {
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
	) -> Result<(ModelId, Served), String> {
		log::info!(target: "worker", "🧠 loading model from {} …", path.display());
		let start = Instant::now();
		// The files are whatever is on disk: a parser that panics on one
		// refuses that model, not the node.
		let model = std::panic::catch_unwind(|| Served::load(path))
			.map_err(|_| "the loader panicked on its files".to_string())??;
		// The registered model it is closest to: fewest files differing.
		let closest =
			registered.iter().map(|m| (m, model.differences(m))).min_by_key(|(_, d)| d.len());
		match closest {
			None => Err("no model is registered on chain".into()),
			Some((m, d)) if d.is_empty() => {
				log::info!(
					target: "worker",
					"🧠 model {} ({}) loaded in {:.1}s: {} weight tiles, commitments match the chain",
					m.id,
					String::from_utf8_lossy(&m.name),
					start.elapsed().as_secs_f64(),
					model.tiles(),
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
	pub fn get(&self, id: ModelId) -> Option<Arc<Served>> {
		self.models.get(&id).cloned()
	}

	/// Ids of the loaded models.
	pub fn ids(&self) -> Vec<ModelId> {
		self.models.keys().copied().collect()
	}
}

impl pallet_inference_rpc::Tokenizers for LoadedModels {
	fn tokenize(&self, model: ModelId, text: &str) -> Option<Result<Vec<u32>, String>> {
		self.models.get(&model).map(|m| {
			match &**m {
				Served::Embedder(m) => m.tokenize(text),
				Served::Chat(m) => m.tokenize(text),
			}
			.map_err(|e| e.to_string())
		})
	}

	fn detokenize(&self, model: ModelId, ids: &[u32]) -> Option<Result<String, String>> {
		self.models.get(&model).map(|m| {
			match &**m {
				Served::Embedder(m) => m.detokenize(ids),
				Served::Chat(m) => m.detokenize(ids),
			}
			.map_err(|e| e.to_string())
		})
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
		let Served::Embedder(served) = &*loaded.get(0).unwrap() else { panic!("an embedder") };
		assert_eq!(served.dir, good);
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

	/// A tiny chat model (seed `seed`) in `root/name/tiny.gguf`.
	fn chat_dir(root: &Path, name: &str, seed: u64) -> PathBuf {
		let dir = root.join(name);
		std::fs::create_dir_all(&dir).unwrap();
		cinder_engine::testllama::write(&dir.join("tiny.gguf"), seed).unwrap();
		dir
	}

	/// The registry entry of the chat model in `dir`, with id `id`.
	fn registered_chat(dir: &Path, id: ModelId) -> ModelSummary<u64, u128> {
		let model = ChatModel::load(&gguf_file(dir).unwrap()).unwrap();
		ModelSummary {
			id,
			owner: 1,
			name: b"tiny-chat".to_vec(),
			metadata: Vec::new(),
			arch: Architecture::Llama(Generator { shape: model.shape, eos: model.eos }),
			hashes: ModelHashes {
				weights: H256(model.file_hash),
				weight_root: H256(model.weights.weight_root),
				program: H256(model.program_hash()),
				tokenizer: H256(model.file_hash),
			},
			spec_version: 2,
			price: 1,
			token_prices: Default::default(),
			kind: pallet_models::ModelKind::Generation,
			active: true,
		}
	}

	#[test]
	fn a_chat_model_is_served_beside_an_embedder_and_only_its_own_file() {
		let root = tempfile::tempdir().unwrap();
		let bert = model_dir(root.path(), "bert", 7, |_| {});
		let chat = chat_dir(root.path(), "chat", 3);
		let other = chat_dir(root.path(), "other-chat", 4);
		let mut wrong_eos = registered_chat(&chat, 2);
		if let Architecture::Llama(g) = &mut wrong_eos.arch {
			g.eos += 1;
		}
		// Registered: the embedder (0), the chat model (1), and under id 2
		// the chat model with another end token (so `other-chat`, a
		// different file, matches neither 1 nor 2).
		let registry = vec![registered(&bert, 0), registered_chat(&chat, 1), wrong_eos];
		let loaded = LoadedModels::load(root.path(), &registry);
		assert_eq!(loaded.ids(), vec![0, 1]);
		assert!(matches!(&*loaded.get(1).unwrap(), Served::Chat(_)));
		assert_eq!(loaded.refused.len(), 1, "{:#?}", loaded.refused);
		assert_eq!(loaded.refused[0].dir, other);
		assert!(loaded.refused[0].reason.contains("tiny.gguf"), "{}", loaded.refused[0].reason);

		// It generates: the reply is the trace's collected tokens, and a
		// fault at the last step posts the changed tokens, bound to its trace.
		use super::super::runs::{Run, Work};
		use pallet_inference_runtime_api::{Generation, Sampling, Task};
		let model = loaded.get(1).unwrap();
		let Served::Chat(m) = &*model else { unreachable!() };
		let task = Task::Generate(Generation {
			max_new_tokens: 4,
			sampling: Sampling::Greedy,
			seed: None,
		});
		let work =
			Work { request: 9, input: m.tokenize("hello").unwrap(), task, seed: H256::zero() };
		let honest = Run::execute(model.clone(), &work, 1, None).unwrap();
		let tokens: Vec<u32> = honest
			.output
			.chunks_exact(4)
			.map(|c| u32::from_le_bytes(c.try_into().unwrap()))
			.collect();
		assert!(!tokens.is_empty() && tokens.len() <= 4);
		let arch = Architecture::Llama(Generator { shape: m.shape, eos: m.eos });
		let steps = honest.trace.leaves.len() as u32;
		assert_eq!(arch.check_output(&task, &honest.output), Some(tokens.len() as u32));
		assert_eq!(arch.output_leaf(steps, &honest.output).0, *honest.trace.leaves.last().unwrap());
		assert_eq!(arch.trace_len(work.input.len() as u32, &task, tokens.len() as u32), Ok(steps));
		let lie = Run::execute(model, &work, 1, Some(super::super::Fault::CorruptStep(u32::MAX)))
			.unwrap();
		assert_ne!(lie.output, honest.output);
		assert_eq!(arch.output_leaf(steps, &lie.output).0, *lie.trace.leaves.last().unwrap());
		// An embedding asked of it is refused.
		let embed = Work { task: Task::Embed, ..work };
		assert!(Run::execute(loaded.get(1).unwrap(), &embed, 1, None).is_err());
	}
}
