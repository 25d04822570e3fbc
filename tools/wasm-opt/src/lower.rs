//! Sign-extension lowering: each `*.extendN_s` operator becomes a left shift
//! and an arithmetic right shift by the bits above N, which leave the same
//! value on the stack and need no local.

use wasmparser::{BinaryReaderError, FunctionBody, Operator};

const I32_CONST: u8 = 0x41;
const I64_CONST: u8 = 0x42;
const I32_SHL: u8 = 0x74;
const I32_SHR_S: u8 = 0x75;
const I64_SHL: u8 = 0x86;
const I64_SHR_S: u8 = 0x87;

/// The MVP instructions for a sign-extension operator, else `None`. The
/// shift amounts are below 64, so each is one signed-LEB128 byte.
fn replacement(op: &Operator<'_>) -> Option<[u8; 6]> {
	let (konst, shl, shr_s, shift) = match op {
		Operator::I32Extend8S => (I32_CONST, I32_SHL, I32_SHR_S, 24),
		Operator::I32Extend16S => (I32_CONST, I32_SHL, I32_SHR_S, 16),
		Operator::I64Extend8S => (I64_CONST, I64_SHL, I64_SHR_S, 56),
		Operator::I64Extend16S => (I64_CONST, I64_SHL, I64_SHR_S, 48),
		Operator::I64Extend32S => (I64_CONST, I64_SHL, I64_SHR_S, 32),
		_ => return None,
	};
	Some([konst, shift, shl, konst, shift, shr_s])
}

/// `body` (locals and operators, without its size) with its sign-extension
/// operators lowered, or `None` when it has none.
pub(crate) fn body(body: &FunctionBody<'_>) -> Result<Option<Vec<u8>>, BinaryReaderError> {
	let bytes = body.as_bytes();
	let base = body.range().start;
	let slice = |from: usize, to: usize| {
		bytes.get(from.saturating_sub(base)..to.saturating_sub(base)).unwrap_or_default()
	};
	let mut ops = body.get_operators_reader()?;
	let mut out = slice(base, ops.original_position()).to_vec();
	let mut changed = false;
	while !ops.eof() {
		let start = ops.original_position();
		let op = ops.read()?;
		match replacement(&op) {
			Some(mvp) => {
				out.extend_from_slice(&mvp);
				changed = true;
			}
			None => out.extend_from_slice(slice(start, ops.original_position())),
		}
	}
	Ok(changed.then_some(out))
}
