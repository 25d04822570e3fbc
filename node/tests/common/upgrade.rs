//! A runtime upgrade for the upgrade test: the runtime this node runs,
//! with its `spec_version` one higher.

use codec::{Decode, Encode};
use serde_json::json;

use super::Node;

/// The runtime this node runs with its `spec_version` one higher: the same
/// code with the version in its `runtime_version` section bumped, which
/// is what `system.set_code` checks and what nodes report and cache the
/// code by. (A second build of the runtime would cost the suite a full
/// wasm build; the upgrade path — code replaced in a block, every node
/// compiling and switching to it, the version moving — is the same.)
pub fn bumped_runtime() -> (Vec<u8>, u32) {
	let compressed = cinder_runtime::WASM_BINARY.expect("built with the wasm runtime");
	let wasm = sp_maybe_compressed_blob::decompress(compressed, 64 << 20).unwrap().into_owned();
	assert_eq!(&wasm[..8], b"\0asm\x01\0\0\0");
	let mut out = wasm[..8].to_vec();
	let mut rest = &wasm[8..];
	let mut bumped = None;
	while !rest.is_empty() {
		let id = rest[0];
		let (size, used) = leb128(&rest[1..]);
		let body = &rest[1 + used..1 + used + size];
		let mut section = body.to_vec();
		if id == 0 {
			let (len, n) = leb128(body);
			if &body[n..n + len] == b"runtime_version" {
				let mut version =
					sp_version::RuntimeVersion::decode(&mut &body[n + len..]).unwrap();
				version.spec_version += 1;
				bumped = Some(version.spec_version);
				section = body[..n + len].to_vec();
				section.extend(version.encode());
			}
		}
		out.push(id);
		push_leb128(&mut out, section.len());
		out.extend(section);
		rest = &rest[1 + used + size..];
	}
	let code = sp_maybe_compressed_blob::compress_weakly(&out, 64 << 20).unwrap();
	(code, bumped.expect("the runtime has a runtime_version section"))
}

fn leb128(bytes: &[u8]) -> (usize, usize) {
	let (mut value, mut shift) = (0usize, 0);
	for (i, b) in bytes.iter().enumerate() {
		value |= usize::from(b & 0x7f) << shift;
		if b & 0x80 == 0 {
			return (value, i + 1);
		}
		shift += 7;
	}
	panic!("truncated LEB128");
}

fn push_leb128(out: &mut Vec<u8>, mut value: usize) {
	loop {
		let byte = (value & 0x7f) as u8;
		value >>= 7;
		if value == 0 {
			out.push(byte);
			return;
		}
		out.push(byte | 0x80);
	}
}

pub fn spec_version(node: &Node) -> u64 {
	node.rpc("state_getRuntimeVersion", json!([]))["specVersion"].as_u64().unwrap()
}
