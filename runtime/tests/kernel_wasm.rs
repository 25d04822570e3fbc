//! The canonical kernel, built into the runtime's wasm blob, runs in the
//! Substrate executor (wasmtime, configured as the node configures it) and
//! gives the same bits as the native build on fixed vectors.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use cinder_kernel::{
	program::bert::{compile, weight_layout, BertShape},
	verify::{recompute, run_reference},
	KernelError, Tile,
};
use codec::{Decode, Encode};
use pallet_disputes::WeightInfo;
use sc_executor::WasmExecutor;
use sc_executor_common::runtime_blob::RuntimeBlob;

fn shape() -> BertShape {
	BertShape {
		vocab: 40,
		hidden: 32,
		layers: 1,
		heads: 4,
		intermediate: 64,
		max_positions: 32,
		type_vocab: 2,
		eps: 1e-12f32.to_bits(),
	}
}

/// Fixed weights that exercise awkward values: subnormals, signed zeros,
/// large magnitudes.
fn weights(shape: &BertShape) -> Vec<Tile> {
	let specials = [0.0f32, -0.0, 1e-39, -3e-40, 1e10, -1e10, 0.5, -0.25];
	weight_layout(shape)
		.unwrap()
		.iter()
		.zip(0u32..)
		.map(|(t, i)| {
			let data = (0..t.rows * t.cols)
				.map(|j| {
					let x = j.wrapping_mul(2_654_435_761).wrapping_add(i.wrapping_mul(40_503));
					if x % 97 == 0 {
						specials[(x as usize / 97) % specials.len()]
					} else {
						((x >> 8) % 2001) as f32 / 1000.0 - 1.0
					}
				})
				.collect();
			Tile::new(t.rows, t.cols, data).unwrap()
		})
		.collect()
}

/// For each operator, `(step, bytes)` of the step with the most bytes.
fn heaviest_per_operator(
	steps: &[cinder_kernel::Step],
	bytes_of: impl Fn(usize, &cinder_kernel::Step) -> usize,
) -> std::collections::BTreeMap<String, (usize, usize)> {
	let mut heaviest: std::collections::BTreeMap<String, (usize, usize)> = Default::default();
	for (i, step) in steps.iter().enumerate() {
		let bytes = bytes_of(i, step);
		let kind = format!("{:?}", core::mem::discriminant(&step.op));
		let entry = heaviest.entry(kind).or_insert((i, 0));
		if bytes > entry.1 {
			*entry = (i, bytes);
		}
	}
	heaviest
}

fn call_wasm(step: &cinder_kernel::Step, inputs: &[Tile]) -> Result<Vec<u8>, KernelError> {
	let executor = WasmExecutor::<sp_io::SubstrateHostFunctions>::builder().build();
	let blob = RuntimeBlob::uncompress_if_needed(cinder_runtime::WASM_BINARY.unwrap()).unwrap();
	let mut ext = sp_io::TestExternalities::default();
	let mut ext = ext.ext();
	let args = (step.clone(), inputs.iter().map(|t| t.to_bytes()).collect::<Vec<_>>()).encode();
	let out =
		executor.uncached_call(blob, &mut ext, false, "KernelApi_recompute_step", &args).unwrap();
	<Result<Vec<u8>, KernelError>>::decode(&mut &out[..]).unwrap()
}

#[test]
fn every_step_of_a_program_recomputes_to_the_native_bits_in_wasm() {
	let s = shape();
	let w = weights(&s);
	let ids: Vec<u32> = (0..20).map(|i| (i * 11 + 2) % 40).collect();
	let (program, _) = compile(&s, 20).unwrap();
	let outs = run_reference(&program, |i| w.get(i as usize), &ids, s.vocab).unwrap();
	// One step of each operator kind, plus the last (pooling) step.
	let mut seen = std::collections::BTreeSet::new();
	for (i, step) in program.steps.iter().enumerate() {
		let kind = core::mem::discriminant(&step.op);
		if !seen.insert(format!("{kind:?}")) && i + 1 != program.steps.len() {
			continue;
		}
		let inputs: Vec<Tile> = step
			.resolve(&ids, s.vocab)
			.unwrap()
			.into_iter()
			.map(|r| match r {
				cinder_kernel::program::Resolved::Step(j) => outs[j as usize].clone(),
				cinder_kernel::program::Resolved::Weight(j) => w[j as usize].clone(),
			})
			.collect();
		let native = recompute(step, &inputs.iter().collect::<Vec<_>>()).unwrap().to_bytes();
		assert_eq!(native, outs[i].to_bytes());
		let wasm = call_wasm(step, &inputs).unwrap();
		assert_eq!(wasm, native, "step {i} ({:?}) differs in wasm", step.op);
	}
	assert!(seen.len() >= 6, "covered {seen:?}");
}

#[test]
fn nan_and_infinity_inputs_give_the_native_bits_in_wasm() {
	let s = shape();
	let w = weights(&s);
	let ids: Vec<u32> = (0..5).collect();
	let (program, _) = compile(&s, 5).unwrap();
	let outs = run_reference(&program, |i| w.get(i as usize), &ids, s.vocab).unwrap();
	let (i, step) = program
		.steps
		.iter()
		.enumerate()
		.find(|(_, st)| matches!(st.op, cinder_kernel::Op::Linear { gelu: true }))
		.unwrap();
	let mut inputs: Vec<Tile> = step
		.inputs
		.iter()
		.map(|src| match *src {
			cinder_kernel::Source::Step(j) => outs[j as usize].clone(),
			cinder_kernel::Source::Weight(j) => w[j as usize].clone(),
			cinder_kernel::Source::Token { .. } | cinder_kernel::Source::Sampled { .. } => {
				unreachable!()
			}
		})
		.collect();
	inputs[0].data[0] = f32::NAN;
	inputs[0].data[1] = f32::INFINITY;
	inputs[0].data[2] = f32::from_bits(0x7f80_0001); // signalling NaN
	let native = recompute(step, &inputs.iter().collect::<Vec<_>>()).unwrap().to_bytes();
	assert_eq!(call_wasm(step, &inputs).unwrap(), native, "step {i}");
	// And malformed input is the same typed error on both sides.
	inputs.pop();
	let err = recompute(step, &inputs.iter().collect::<Vec<_>>()).unwrap_err();
	assert_eq!(call_wasm(step, &inputs).unwrap_err(), err);
}

#[test]
fn the_heaviest_minilm_steps_at_512_tokens_give_the_engines_leaves_in_wasm() {
	let Some(dir) = cinder_engine::installed_minilm() else { return };
	let model = cinder_engine::Model::load(dir).unwrap();
	// The longest input the chain accepts: [CLS], 510 word pieces, [SEP].
	let mut ids: Vec<u32> = (0..510u32).map(|i| 1996 + (i * 7919) % 20_000).collect();
	ids.insert(0, 101);
	ids.push(102);
	let embedding = model.embed(&ids, 2).unwrap();
	let (program, trace) = (&embedding.program, &embedding.trace);
	assert_eq!(program.steps.len(), 20_033);
	let inputs_of = |step: &cinder_kernel::Step| -> Vec<&Tile> {
		step.resolve(&ids, model.shape.vocab)
			.unwrap()
			.into_iter()
			.map(|r| match r {
				cinder_kernel::program::Resolved::Step(j) => &trace.outputs[j as usize],
				cinder_kernel::program::Resolved::Weight(j) => &model.weights[j as usize],
			})
			.collect()
	};
	// For each operator, the step whose tiles are the most bytes: the
	// output projection (1,536 inputs) is the largest proof, attention over
	// all 512 keys the most arithmetic.
	let heaviest = heaviest_per_operator(&program.steps, |i, step| {
		inputs_of(step).iter().map(|t| t.encoded_len()).sum::<usize>()
			+ trace.outputs[i].encoded_len()
	});
	assert_eq!(heaviest.len(), 6);
	// The heaviest proof fits one block: by weight as the runtime charges
	// it, by length with room for the call's other fields.
	let weights = cinder_runtime::configs::RuntimeBlockWeights::get();
	let normal = weights.get(frame_support::dispatch::DispatchClass::Normal);
	// As `prove_step` is weighed: at the heaviest step of any model.
	type W = pallet_disputes::weights::SubstrateWeight<cinder_runtime::Runtime>;
	let charged =
		W::prove_step_linear().max(W::prove_step_attention()).max(W::prove_step_generation());
	let max_extrinsic = normal.max_extrinsic.unwrap_or(weights.max_block);
	assert!(charged.all_lte(max_extrinsic), "prove_step {charged:?} over {max_extrinsic:?}");
	eprintln!(
		"prove_step is charged {:.1} ms of compute and {} bytes of proof: {:.1}% of a block's time",
		charged.ref_time() as f64 / 1e9,
		charged.proof_size(),
		100.0 * charged.ref_time() as f64 / weights.max_block.ref_time() as f64
	);
	let max_length = *cinder_runtime::configs::RuntimeBlockLength::get()
		.max
		.get(frame_support::dispatch::DispatchClass::Normal);
	for (i, bytes) in heaviest.into_values() {
		let step = &program.steps[i];
		let inputs: Vec<Tile> = inputs_of(step).into_iter().cloned().collect();
		// What `prove_step` carries for it: each tile with its Merkle siblings.
		let proofs = pallet_disputes::prover::Prover {
			input: &ids,
			vocab: model.shape.vocab,
			outputs: &trace.outputs,
			leaves: &trace.leaves,
			weights: &model.weights,
			weight_leaves: &model.weight_leaves,
		}
		.step_proof(step)
		.unwrap();
		let proof_bytes = proofs.encode().len();
		assert!(proof_bytes + 1024 < max_length as usize, "step {i}: {proof_bytes} bytes");
		let wasm = Tile::from_bytes(&call_wasm(step, &inputs).unwrap()).unwrap();
		assert_eq!(
			cinder_kernel::merkle::tile_leaf(i as u32, &wasm),
			trace.leaves[i],
			"step {i} ({:?}, {bytes} bytes) differs in wasm",
			step.op
		);
		eprintln!(
			"step {i} ({:?}): {} input tiles, {bytes} bytes with its output, {proof_bytes} bytes of proof; same leaf in wasm",
			step.op,
			inputs.len()
		);
	}
}

/// Calls the runtime's spec v2 recompute on `inputs` (f32 or quantized).
fn call_wasm_v2(
	step: &cinder_kernel::Step,
	inputs: &[cinder_kernel::Input],
	seed: [u8; 32],
) -> Result<Vec<u8>, KernelError> {
	let executor = WasmExecutor::<sp_io::SubstrateHostFunctions>::builder().build();
	let blob = RuntimeBlob::uncompress_if_needed(cinder_runtime::WASM_BINARY.unwrap()).unwrap();
	let mut ext = sp_io::TestExternalities::default();
	let mut ext = ext.ext();
	let encoded: Vec<(Option<cinder_kernel::quant::WeightFormat>, Vec<u8>)> = inputs
		.iter()
		.map(|input| match input {
			cinder_kernel::Input::F32(t) => (None, t.to_bytes()),
			cinder_kernel::Input::Quant(q) => (Some(q.format), q.to_bytes()),
		})
		.collect();
	let args = (step.clone(), encoded, seed).encode();
	let out = executor
		.uncached_call(blob, &mut ext, false, "KernelApi_recompute_step_v2", &args)
		.unwrap();
	<Result<Vec<u8>, KernelError>>::decode(&mut &out[..]).unwrap()
}

/// For each spec v2 operator of a generation, the step with the most input
/// and output bytes: recomputed in wasm, it gives the trace's leaf.
fn heaviest_v2_steps_match_in_wasm(
	model: &cinder_engine::llama::Llama,
	packed: &cinder_engine::decoder::PackedLlama,
	prompt: &[u32],
	generated: u32,
	sampling: cinder_kernel::sampler::Sampling,
) -> usize {
	let seed = [5u8; 32];
	let run = packed.generate(prompt, generated, sampling, &seed, 2, None).unwrap();
	let (program, trace) = (&run.program, &run.trace);
	let vocab = model.shape.vocab;
	let inputs_of = |step: &cinder_kernel::Step| -> Vec<cinder_kernel::Input> {
		step.resolve_with(prompt, vocab, |s| {
			cinder_kernel::verify::decoder::sampled_id(&trace.outputs[s as usize], vocab)
		})
		.unwrap()
		.into_iter()
		.map(|r| match r {
			cinder_kernel::program::Resolved::Step(j) => {
				cinder_kernel::Input::F32(&trace.outputs[j as usize])
			}
			cinder_kernel::program::Resolved::Weight(j) => packed.tiles[j as usize].input(),
		})
		.collect()
	};
	let heaviest = heaviest_per_operator(&program.steps, |i, step| {
		inputs_of(step).iter().map(|t| t.encoded_len()).sum::<usize>()
			+ trace.outputs[i].encoded_len()
	});
	for &(i, bytes) in heaviest.values() {
		let step = &program.steps[i];
		let wasm = Tile::from_bytes(&call_wasm_v2(step, &inputs_of(step), seed).unwrap()).unwrap();
		assert_eq!(
			cinder_kernel::merkle::tile_leaf(i as u32, &wasm),
			trace.leaves[i],
			"step {i} ({:?}, {bytes} bytes) differs in wasm",
			step.op
		);
		eprintln!("step {i} ({:?}): {bytes} bytes with its output; same leaf in wasm", step.op);
	}
	heaviest.len()
}

#[test]
fn every_spec_v2_operator_of_the_tiny_llama_gives_the_native_leaf_in_wasm() {
	let path = std::env::temp_dir().join(format!("cinder-wasm-tiny-{}.gguf", std::process::id()));
	cinder_engine::testllama::write(&path, 7).unwrap();
	let model = cinder_engine::llama::Llama::load(&path).unwrap();
	let packed =
		cinder_engine::decoder::PackedLlama::pack(model.shape, model.weight_tiles().unwrap())
			.unwrap();
	std::fs::remove_file(&path).unwrap();
	// 40 prompt tokens (3 row blocks) and 20 generated: the later tokens'
	// attention reads more than 16 key tiles, so partials and combines run.
	let prompt: Vec<u32> = (0..40).map(|i| (i * 13 + 3) % model.shape.vocab).collect();
	let top_p = cinder_kernel::sampler::Sampling::TopP {
		temperature: 0.7f32.to_bits(),
		top_p: 0.9f32.to_bits(),
	};
	// Lookup, RmsNorm, QLinear, GateUp, Attend, Combine, Sample, Collect.
	assert_eq!(heaviest_v2_steps_match_in_wasm(&model, &packed, &prompt, 20, top_p), 8);
	// A wrongly typed input is the same typed error on both sides.
	let step = cinder_kernel::Step {
		op: cinder_kernel::Op::GateUp,
		inputs: vec![cinder_kernel::Source::Weight(0); 3],
		rows: 1,
		cols: 4,
	};
	let x = Tile::zeros(1, 64);
	let inputs = [cinder_kernel::Input::F32(&x); 3];
	let native = cinder_kernel::verify::decoder::recompute(
		&step,
		&inputs,
		cinder_kernel::verify::decoder::Context { seed: &[0; 32] },
	)
	.unwrap_err();
	assert_eq!(call_wasm_v2(&step, &inputs, [0; 32]).unwrap_err(), native);
}

#[test]
fn the_heaviest_smollm2_steps_give_the_engines_leaves_in_wasm() {
	let Some(path) = cinder_engine::llama::installed_smollm2() else { return };
	let model = cinder_engine::llama::Llama::load(&path).unwrap();
	let packed =
		cinder_engine::decoder::PackedLlama::pack(model.shape, model.weight_tiles().unwrap())
			.unwrap();
	let prompt = model
		.tokenize(&cinder_engine::llama::chat_prompt(None, "What is the capital of France?"))
		.unwrap();
	let greedy = cinder_kernel::sampler::Sampling::Greedy;
	// 8 generated tokens: attention in one step (Combine is covered above).
	assert_eq!(heaviest_v2_steps_match_in_wasm(&model, &packed, &prompt, 8, greedy), 7);
}
