//! Reading a GGUF file: its metadata by key, typed, and each tensor's raw
//! bytes as the file stores them (quantized blocks stay blocks), through
//! candle's GGUF parser.

use std::{
	fs::File,
	io::{Read, Seek, SeekFrom},
	path::{Path, PathBuf},
};

use candle_core::quantized::{gguf_file, GgmlDType};

use crate::{EngineError, Result};

/// An open GGUF file.
pub struct Gguf {
	pub path: PathBuf,
	pub content: gguf_file::Content,
	file: File,
}

/// One tensor as stored: its GGUF type, its dimensions (outermost first,
/// as candle gives them: a `rows × cols` matrix is `[rows, cols]`) and its
/// bytes.
pub struct RawTensor {
	pub dtype: GgmlDType,
	pub dims: Vec<usize>,
	pub bytes: Vec<u8>,
}

impl Gguf {
	/// Opens and parses `path`'s header (metadata and tensor index).
	pub fn open(path: &Path) -> Result<Self> {
		let io = |source| EngineError::Io { path: path.display().to_string(), source };
		let mut file = File::open(path).map_err(io)?;
		let content = gguf_file::Content::read(&mut file).map_err(|e| self::bad(path, e))?;
		Ok(Self { path: path.to_path_buf(), content, file })
	}

	/// The error for this file being malformed: which file and why.
	pub fn bad(&self, reason: impl std::fmt::Display) -> EngineError {
		bad(&self.path, reason)
	}

	fn value(&self, key: &str) -> Result<&gguf_file::Value> {
		self.content.metadata.get(key).ok_or_else(|| self.bad(format!("no metadata `{key}`")))
	}

	/// An unsigned integer metadata value (any width that fits `u32`).
	pub fn u32(&self, key: &str) -> Result<u32> {
		use gguf_file::Value::*;
		let v = self.value(key)?;
		let wide: Option<u64> = match v {
			U8(x) => Some((*x).into()),
			U16(x) => Some((*x).into()),
			U32(x) => Some((*x).into()),
			U64(x) => Some(*x),
			I8(x) => u64::try_from(*x).ok(),
			I16(x) => u64::try_from(*x).ok(),
			I32(x) => u64::try_from(*x).ok(),
			I64(x) => u64::try_from(*x).ok(),
			_ => None,
		};
		wide.and_then(|x| u32::try_from(x).ok())
			.ok_or_else(|| self.bad(format!("`{key}` is {v:?}, not a u32")))
	}

	/// A float metadata value.
	pub fn f32(&self, key: &str) -> Result<f32> {
		match self.value(key)? {
			gguf_file::Value::F32(x) => Ok(*x),
			gguf_file::Value::F64(x) => Ok(*x as f32),
			v => Err(self.bad(format!("`{key}` is {v:?}, not a float"))),
		}
	}

	/// A string metadata value.
	pub fn string(&self, key: &str) -> Result<&str> {
		self.value(key)?
			.to_string()
			.map(String::as_str)
			.map_err(|_| self.bad(format!("`{key}` is not a string")))
	}

	/// An array of strings.
	pub fn strings(&self, key: &str) -> Result<Vec<&str>> {
		let items =
			self.value(key)?.to_vec().map_err(|_| self.bad(format!("`{key}` is not an array")))?;
		items
			.iter()
			.map(|v| v.to_string().map(String::as_str))
			.collect::<std::result::Result<_, _>>()
			.map_err(|_| self.bad(format!("`{key}` holds a non-string")))
	}

	/// An array of integers, each as `i64`.
	pub fn integers(&self, key: &str) -> Result<Vec<i64>> {
		use gguf_file::Value::*;
		let items =
			self.value(key)?.to_vec().map_err(|_| self.bad(format!("`{key}` is not an array")))?;
		items
			.iter()
			.map(|v| match v {
				U8(x) => Some((*x).into()),
				I8(x) => Some((*x).into()),
				U16(x) => Some((*x).into()),
				I16(x) => Some((*x).into()),
				U32(x) => Some((*x).into()),
				I32(x) => Some((*x).into()),
				I64(x) => Some(*x),
				U64(x) => i64::try_from(*x).ok(),
				_ => None,
			})
			.collect::<Option<_>>()
			.ok_or_else(|| self.bad(format!("`{key}` holds a non-integer")))
	}

	/// Tensor `name` as stored.
	pub fn tensor(&mut self, name: &str) -> Result<RawTensor> {
		let info = self
			.content
			.tensor_infos
			.get(name)
			.ok_or_else(|| bad(&self.path, format!("no tensor `{name}`")))?;
		let dims = info.shape.dims().to_vec();
		let dtype = info.ggml_dtype;
		let elems = info.shape.elem_count();
		let block = dtype.block_size();
		if elems % block != 0 {
			return Err(bad(&self.path, format!("`{name}`: {elems} values in blocks of {block}")));
		}
		let len = (elems / block) * dtype.type_size();
		let start = self.content.tensor_data_offset.checked_add(info.offset);
		let path = self.path.clone();
		let io = |source| EngineError::Io { path: path.display().to_string(), source };
		let start = start.ok_or_else(|| bad(&path, format!("`{name}`: offset out of range")))?;
		// Never allocate what the file cannot hold (a corrupt index).
		let size = self.file.seek(SeekFrom::End(0)).map_err(io)?;
		if size.saturating_sub(start) < len as u64 {
			return Err(bad(&path, format!("`{name}`: {len} bytes at {start}, past the end")));
		}
		self.file.seek(SeekFrom::Start(start)).map_err(io)?;
		let mut bytes = vec![0u8; len];
		self.file
			.read_exact(&mut bytes)
			.map_err(|e| bad(&path, format!("`{name}`: {e} (file cut short?)")))?;
		Ok(RawTensor { dtype, dims, bytes })
	}

	/// The parsed header and the open file, for candle's own loaders.
	pub fn into_parts(self) -> (gguf_file::Content, File) {
		(self.content, self.file)
	}
}

fn bad(path: &Path, reason: impl std::fmt::Display) -> EngineError {
	EngineError::BadFile { path: path.display().to_string(), reason: reason.to_string() }
}
