//! Deliberately faulty workers, for tests of the dispute game: each mode
//! turns an honest result into a wrong one in a way the game must catch.
//! The node refuses them on anything but development and local chains.

use cinder_engine::Trace;
use cinder_kernel::merkle;
use codec::Encode;

/// How a faulty worker lies.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fault {
	/// Posts a changed embedding with the honest trace: the result is not
	/// its trace's last leaf.
	CorruptOutput,
	/// Changes step `N`'s output (the last step if `N` is past it) and
	/// commits to that trace; when it is the last step, the posted result
	/// is the changed tile.
	CorruptStep(u32),
	/// Posts a trace root no trace has.
	RandomRoot,
	/// Never posts a result: its requests time out, go to other workers
	/// and, when none answers, are refunded.
	Silent,
}

impl std::str::FromStr for Fault {
	type Err = String;

	fn from_str(s: &str) -> Result<Self, String> {
		match s {
			"corrupt-output" => Ok(Self::CorruptOutput),
			"random-root" => Ok(Self::RandomRoot),
			"silent" => Ok(Self::Silent),
			_ => s
				.strip_prefix("corrupt-step=")
				.and_then(|n| n.parse().ok())
				.map(Self::CorruptStep)
				.ok_or_else(|| {
					format!(
						"unknown fault {s:?}: corrupt-output, corrupt-step=N, random-root or silent"
					)
				}),
		}
	}
}

impl Fault {
	/// Turns the honest `trace` and `output` of `request` into this fault's
	/// lie, in place: what the worker then posts. `encode` gives the result
	/// bytes of a last tile (an embedding's f32s, a reply's token ids).
	pub fn apply(
		&self,
		request: u64,
		trace: &mut Trace,
		output: &mut Vec<u8>,
		encode: impl Fn(&cinder_kernel::Tile) -> Vec<u8>,
	) {
		match *self {
			Self::CorruptOutput => {
				if let Some(byte) = output.first_mut() {
					*byte ^= 1;
				}
			}
			Self::CorruptStep(n) => {
				let last = trace.outputs.len().saturating_sub(1);
				let step = (n as usize).min(last);
				let (Some(tile), Some(leaf)) =
					(trace.outputs.get_mut(step), trace.leaves.get_mut(step))
				else {
					return;
				};
				if let Some(x) = tile.data.first_mut() {
					*x += 1.0;
				}
				*leaf = merkle::tile_leaf(step as u32, tile);
				trace.root = merkle::root(&trace.leaves);
				if step == last {
					*output = encode(tile);
				}
			}
			Self::RandomRoot => {
				trace.root = sp_io::hashing::blake2_256(
					&(b"cinder/random-root", request, trace.root).encode(),
				);
			}
			// Nothing is posted at all (the worker checks before running).
			Self::Silent => {}
		}
	}
}

#[cfg(test)]
mod tests {
	use super::*;

	fn honest() -> (Trace, Vec<u8>) {
		let dir = tempfile::tempdir().unwrap();
		cinder_engine::testmodel::write(dir.path(), 7).unwrap();
		let model = cinder_engine::Model::load(dir.path()).unwrap();
		let embedding =
			model.embed(&model.tokenize("the cat sat on the mat.").unwrap(), 1).unwrap();
		let output = embedding.vector.iter().flat_map(|v| v.to_le_bytes()).collect();
		(embedding.trace, output)
	}

	fn f32_bytes(tile: &cinder_kernel::Tile) -> Vec<u8> {
		tile.data.iter().flat_map(|v| v.to_le_bytes()).collect()
	}

	fn output_leaf(trace: &Trace, output: &[u8]) -> merkle::Hash {
		let values =
			output.chunks_exact(4).map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])).collect();
		let tile = cinder_kernel::Tile::new(1, (output.len() / 4) as u32, values).unwrap();
		merkle::tile_leaf(trace.leaves.len() as u32 - 1, &tile)
	}

	#[test]
	fn faults_parse_and_refuse_nonsense() {
		assert_eq!("corrupt-output".parse(), Ok(Fault::CorruptOutput));
		assert_eq!("corrupt-step=17".parse(), Ok(Fault::CorruptStep(17)));
		assert_eq!("random-root".parse(), Ok(Fault::RandomRoot));
		assert_eq!("silent".parse(), Ok(Fault::Silent));
		for bad in ["", "corrupt-step=", "corrupt-step=x", "lie"] {
			assert!(bad.parse::<Fault>().is_err(), "{bad}");
		}
	}

	#[test]
	fn faults_run_on_development_and_local_chains_only() {
		use sc_service::ChainType;
		let config = |fault, audit_share| crate::worker::WorkerConfig {
			threads: 1,
			queue: 1,
			fault,
			audit_share,
		};
		let faulty = config(Some(Fault::RandomRoot), None);
		assert!(faulty.clone().for_chain(ChainType::Development).is_ok());
		assert!(faulty.clone().for_chain(ChainType::Local).is_ok());
		assert!(faulty.clone().for_chain(ChainType::Live).is_err());
		assert!(faulty.for_chain(ChainType::Custom("testnet".into())).is_err());
		// Every result is audited on test chains, a tenth elsewhere, unless
		// told otherwise.
		let share = |c: crate::worker::WorkerConfig, t| c.for_chain(t).unwrap().audit_share;
		assert_eq!(share(config(None, None), ChainType::Live), Some(10));
		assert_eq!(share(config(None, None), ChainType::Local), Some(100));
		assert_eq!(share(config(None, Some(0)), ChainType::Development), Some(0));
		assert_eq!(share(config(None, Some(35)), ChainType::Live), Some(35));
		assert!(config(None, Some(101)).for_chain(ChainType::Live).is_err());
	}

	#[test]
	fn each_fault_lies_the_way_it_says() {
		let (honest, honest_output) = honest();
		let consistent = |t: &Trace| merkle::root(&t.leaves) == t.root;
		assert_eq!(output_leaf(&honest, &honest_output), *honest.leaves.last().unwrap());

		// A changed result with the honest trace: not the trace's last leaf.
		let (mut t, mut out) = (honest.clone(), honest_output.clone());
		Fault::CorruptOutput.apply(0, &mut t, &mut out, f32_bytes);
		assert_eq!(t.root, honest.root);
		assert_ne!(out, honest_output);
		assert_ne!(output_leaf(&t, &out), *t.leaves.last().unwrap());

		// One step changed, in a consistent trace whose leaves differ there first.
		let (mut t, mut out) = (honest.clone(), honest_output.clone());
		Fault::CorruptStep(5).apply(0, &mut t, &mut out, f32_bytes);
		assert!(consistent(&t));
		assert_ne!(t.root, honest.root);
		let first = t.leaves.iter().zip(&honest.leaves).position(|(a, b)| a != b);
		assert_eq!(first, Some(5));
		assert_eq!(out, honest_output);

		// Past the end: the last step, and the posted result follows it.
		let (mut t, mut out) = (honest.clone(), honest_output.clone());
		Fault::CorruptStep(u32::MAX).apply(0, &mut t, &mut out, f32_bytes);
		assert!(consistent(&t));
		assert_ne!(out, honest_output);
		assert_eq!(output_leaf(&t, &out), *t.leaves.last().unwrap());

		// A root of no trace.
		let (mut t, mut out) = (honest.clone(), honest_output.clone());
		Fault::RandomRoot.apply(3, &mut t, &mut out, f32_bytes);
		assert!(!consistent(&t));
		assert_eq!(out, honest_output);
	}
}
