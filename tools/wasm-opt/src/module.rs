//! A module's sections, copied or rewritten one by one.

use wasmparser::{BinaryReader, BinaryReaderError, CodeSectionReader};

use crate::{lower, ApplyError};

/// What to change.
pub(crate) struct Plan {
	/// Drop custom sections named `.debug_*`.
	pub strip_dwarf: bool,
	/// Drop the `name` custom section.
	pub strip_names: bool,
	/// Lower sign-extension operators in the code section.
	pub lower_signext: bool,
}

const CUSTOM: u8 = 0;
const CODE: u8 = 10;
/// `\0asm` and version 1.
const HEADER: usize = 8;

/// `input` (a validated module) with `plan` carried out. When lowering
/// changes the code, the DWARF sections go too: their code offsets would be
/// wrong.
pub(crate) fn rewrite(input: &[u8], plan: &Plan) -> Result<Vec<u8>, ApplyError> {
	let mut sections = Vec::new();
	let mut reader = BinaryReader::new(input.get(HEADER..).unwrap_or_default(), HEADER);
	while !reader.eof() {
		let start = reader.original_position();
		let id = reader.read_u8()?;
		let content = reader.read_reader()?;
		let whole = input.get(start..reader.original_position()).unwrap_or_default();
		sections.push((id, content, whole));
	}
	// A valid module has at most one code section.
	let lowered = match sections.iter().find(|(id, ..)| *id == CODE) {
		Some((_, content, _)) if plan.lower_signext => lower_code(content.clone())?,
		_ => None,
	};
	let strip_dwarf = plan.strip_dwarf || lowered.is_some();

	let mut output = Vec::with_capacity(input.len());
	output.extend_from_slice(input.get(..HEADER).unwrap_or(input));
	for (id, content, whole) in sections {
		match (id, &lowered) {
			(CUSTOM, _) if dropped(content, strip_dwarf, plan.strip_names)? => {}
			(CODE, Some(section)) => {
				output.push(CODE);
				write_u32(&mut output, section.len())?;
				output.extend_from_slice(section);
			}
			_ => output.extend_from_slice(whole),
		}
	}
	Ok(output)
}

/// Whether the custom section in `content` goes.
fn dropped(
	mut content: BinaryReader<'_>,
	dwarf: bool,
	names: bool,
) -> Result<bool, BinaryReaderError> {
	let name = content.read_string()?;
	Ok((dwarf && name.starts_with(".debug_")) || (names && name == "name"))
}

/// The code section's content with every body lowered, or `None` when no
/// body has anything to lower.
fn lower_code(content: BinaryReader<'_>) -> Result<Option<Vec<u8>>, ApplyError> {
	let bodies = CodeSectionReader::new(content)?;
	let mut section = Vec::new();
	write_u32(&mut section, bodies.count() as usize)?;
	let mut changed = false;
	for body in bodies {
		let body = body?;
		let lowered = lower::body(&body)?;
		changed |= lowered.is_some();
		let bytes = lowered.as_deref().unwrap_or(body.as_bytes());
		write_u32(&mut section, bytes.len())?;
		section.extend_from_slice(bytes);
	}
	Ok(changed.then_some(section))
}

/// `value` as unsigned LEB128, refused past `u32::MAX` (a module's limit).
fn write_u32(out: &mut Vec<u8>, value: usize) -> Result<(), ApplyError> {
	let mut value = u32::try_from(value).map_err(|_| ApplyError::TooLarge)?;
	loop {
		let byte = (value & 0x7f) as u8;
		value >>= 7;
		if value == 0 {
			out.push(byte);
			return Ok(());
		}
		out.push(byte | 0x80);
	}
}
