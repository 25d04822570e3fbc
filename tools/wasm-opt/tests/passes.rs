//! The passes on small modules built here: lowered code computes what the
//! original did (both run in wasmtime), stripped sections go and the others
//! stay byte for byte, bad input is refused and nothing is written.

use std::borrow::Cow;

use wasm_encoder::{
	CodeSection, CustomSection, ExportKind, ExportSection, Function, FunctionSection, Instruction,
	MemorySection, MemoryType, Module, TypeSection, ValType,
};
use wasm_opt::{ApplyError, OptimizationOptions, Pass};
use wasmtime::{Engine, Instance, Store};

/// The five sign-extension operators, each an exported function of one
/// parameter, with the given extra sections.
fn signext_module(extra: &[(&str, &[u8])]) -> Vec<u8> {
	let ops = [
		("i32_extend8_s", ValType::I32, Instruction::I32Extend8S),
		("i32_extend16_s", ValType::I32, Instruction::I32Extend16S),
		("i64_extend8_s", ValType::I64, Instruction::I64Extend8S),
		("i64_extend16_s", ValType::I64, Instruction::I64Extend16S),
		("i64_extend32_s", ValType::I64, Instruction::I64Extend32S),
	];
	let mut types = TypeSection::new();
	types.ty().function([ValType::I32], [ValType::I32]);
	types.ty().function([ValType::I64], [ValType::I64]);
	let mut functions = FunctionSection::new();
	let mut exports = ExportSection::new();
	let mut code = CodeSection::new();
	for (index, (name, ty, op)) in ops.iter().enumerate() {
		functions.function(if *ty == ValType::I32 { 0 } else { 1 });
		exports.export(name, ExportKind::Func, index as u32);
		// A local and a use of it around the operator, so lowering must keep
		// the locals and the bytes either side.
		let mut f = Function::new([(1, *ty)]);
		f.instruction(&Instruction::LocalGet(0))
			.instruction(&Instruction::LocalSet(1))
			.instruction(&Instruction::LocalGet(1))
			.instruction(op)
			.instruction(&Instruction::End);
		code.function(&f);
	}
	let mut module = Module::new();
	module.section(&types).section(&functions).section(&exports).section(&code);
	for (name, data) in extra {
		module.section(&CustomSection { name: Cow::Borrowed(name), data: Cow::Borrowed(data) });
	}
	module.finish()
}

fn compact() -> OptimizationOptions {
	let mut options = OptimizationOptions::new_opt_level_0();
	options
		.mvp_features_only()
		.debug_info(true)
		.add_pass(Pass::StripDwarf)
		.add_pass(Pass::SignextLowering);
	options
}

/// The custom sections of `module`, by name and content, in order.
fn custom_sections(module: &[u8]) -> Vec<(String, Vec<u8>)> {
	wasmparser::Parser::new(0)
		.parse_all(module)
		.filter_map(|payload| match payload {
			Ok(wasmparser::Payload::CustomSection(reader)) => {
				Some((reader.name().to_owned(), reader.data().to_vec()))
			}
			_ => None,
		})
		.collect()
}

/// Values around every sign boundary, and more from a fixed-seed generator.
fn samples() -> Vec<i64> {
	let mut values = vec![0, 1, -1, i64::MIN, i64::MAX];
	for bit in [7, 8, 15, 16, 31, 32, 63] {
		let edge = 1i64.wrapping_shl(bit);
		values.extend([edge, edge.wrapping_sub(1), edge.wrapping_add(1), edge.wrapping_neg()]);
	}
	let mut state = 0x9e37_79b9_7f4a_7c15_u64;
	for _ in 0..2000 {
		state =
			state.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
		values.push(state as i64);
	}
	values
}

#[test]
fn lowered_operators_compute_what_the_originals_did() -> wasmtime::Result<()> {
	let original = signext_module(&[]);
	let lowered = compact().apply(&original)?;
	assert_ne!(lowered, original, "the code section must have changed");
	// apply validated the output with the MVP features; check that it would
	// have refused the original.
	assert!(wasmparser::Validator::new_with_features(wasmparser::WasmFeatures::WASM1)
		.validate_all(&original)
		.is_err());

	let engine = Engine::default();
	let mut store = Store::new(&engine, ());
	let before = Instance::new(&mut store, &wasmtime::Module::new(&engine, &original)?, &[])?;
	let after = Instance::new(&mut store, &wasmtime::Module::new(&engine, &lowered)?, &[])?;
	let mut checked = 0;
	for name in ["i32_extend8_s", "i32_extend16_s"] {
		let f = before.get_typed_func::<i32, i32>(&mut store, name)?;
		let g = after.get_typed_func::<i32, i32>(&mut store, name)?;
		for x in samples() {
			assert_eq!(f.call(&mut store, x as i32)?, g.call(&mut store, x as i32)?, "{name}({x})");
			checked += 1;
		}
	}
	for name in ["i64_extend8_s", "i64_extend16_s", "i64_extend32_s"] {
		let f = before.get_typed_func::<i64, i64>(&mut store, name)?;
		let g = after.get_typed_func::<i64, i64>(&mut store, name)?;
		for x in samples() {
			assert_eq!(f.call(&mut store, x)?, g.call(&mut store, x)?, "{name}({x})");
			checked += 1;
		}
	}
	assert_eq!(checked, 5 * samples().len());
	Ok(())
}

#[test]
fn dwarf_goes_and_other_sections_stay_byte_for_byte() -> Result<(), ApplyError> {
	let extra: [(&str, &[u8]); 4] = [
		(".debug_info", b"dwarf"),
		("runtime_version", b"\x01\x02\x03"),
		(".debug_line", b"lines"),
		("name", b"\x00\x00"),
	];
	let original = signext_module(&extra);

	let kept = compact().apply(&original)?;
	assert_eq!(
		custom_sections(&kept),
		vec![("runtime_version".to_owned(), vec![1, 2, 3]), ("name".to_owned(), vec![0, 0])],
	);

	// Without debug info the name section goes too; without lowering or
	// stripping the module comes out as it went in.
	let mut plain = OptimizationOptions::new_opt_level_0();
	let no_names = plain.apply(&original)?;
	assert_eq!(custom_sections(&no_names).len(), 3);
	assert_eq!(plain.debug_info(true).apply(&original)?, original);
	Ok(())
}

#[test]
fn lowering_drops_dwarf_that_would_point_at_old_offsets() -> Result<(), ApplyError> {
	let original = signext_module(&[(".debug_info", b"dwarf")]);
	let mut options = OptimizationOptions::new_opt_level_0();
	let lowered = options.debug_info(true).add_pass(Pass::SignextLowering).apply(&original)?;
	assert!(custom_sections(&lowered).is_empty());
	Ok(())
}

#[test]
fn a_module_without_signext_keeps_its_code_section() -> Result<(), ApplyError> {
	let mut module = Module::new();
	let mut types = TypeSection::new();
	types.ty().function([ValType::I32], [ValType::I32]);
	let mut functions = FunctionSection::new();
	functions.function(0);
	let mut code = CodeSection::new();
	let mut f = Function::new([]);
	f.instruction(&Instruction::LocalGet(0))
		.instruction(&Instruction::I32Const(-300))
		.instruction(&Instruction::I32Add)
		.instruction(&Instruction::End);
	code.function(&f);
	module.section(&types).section(&functions).section(&code);
	let original = module.finish();
	assert_eq!(compact().apply(&original)?, original);
	Ok(())
}

#[test]
fn features_beyond_the_mvp_are_refused() {
	let mut module = Module::new();
	let mut types = TypeSection::new();
	types.ty().function([], []);
	let mut functions = FunctionSection::new();
	functions.function(0);
	let mut memories = MemorySection::new();
	memories.memory(MemoryType {
		minimum: 1,
		maximum: None,
		memory64: false,
		shared: false,
		page_size_log2: None,
	});
	let mut code = CodeSection::new();
	let mut f = Function::new([]);
	// memory.fill(0, 0, 0): bulk memory, not MVP.
	f.instruction(&Instruction::I32Const(0))
		.instruction(&Instruction::I32Const(0))
		.instruction(&Instruction::I32Const(0))
		.instruction(&Instruction::MemoryFill(0))
		.instruction(&Instruction::End);
	code.function(&f);
	module.section(&types).section(&functions).section(&memories).section(&code);
	let bulk = module.finish();

	assert!(matches!(compact().apply(&bulk), Err(ApplyError::Output(_))));
	assert!(OptimizationOptions::new_opt_level_0().apply(&bulk).is_ok());
}

#[test]
fn bad_input_is_refused_and_nothing_is_written() -> std::io::Result<()> {
	let dir = std::env::temp_dir().join(format!("wasm-opt-test-{}", std::process::id()));
	std::fs::create_dir_all(&dir)?;
	let (infile, outfile) = (dir.join("in.wasm"), dir.join("out.wasm"));

	let mut truncated = signext_module(&[]);
	truncated.truncate(truncated.len() - 3);
	for bad in [b"not wasm at all".to_vec(), truncated] {
		std::fs::write(&infile, &bad)?;
		let error = compact().run(&infile, &outfile);
		assert!(
			matches!(error, Err(wasm_opt::OptimizationError::InvalidInput { .. })),
			"{error:?}"
		);
		assert!(!outfile.exists());
	}
	let missing = compact().run(dir.join("missing.wasm"), &outfile);
	assert!(matches!(missing, Err(wasm_opt::OptimizationError::Read { .. })), "{missing:?}");

	// In place, as the builder calls it without compaction.
	std::fs::write(&infile, signext_module(&[]))?;
	let mut in_place = OptimizationOptions::new_opt_level_0();
	in_place.add_pass(Pass::SignextLowering).debug_info(true);
	assert!(in_place.run(&infile, &infile).is_ok());
	let lowered = std::fs::read(&infile)?;
	assert!(wasmparser::Validator::new_with_features(wasmparser::WasmFeatures::WASM1)
		.validate_all(&lowered)
		.is_ok());
	std::fs::remove_dir_all(&dir)
}
