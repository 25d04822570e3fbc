//! A llama GGUF's tensors cut into the kernel's weight tiles
//! ([`cinder_kernel::program::llama::LlamaWeight`]): quantized rows kept
//! as the file stores them, norms' γ as f32.

use std::collections::HashMap;

use candle_core::quantized::GgmlDType;
use cinder_kernel::{
	program::llama::{weight_layout, LlamaShape, LlamaTensor, LlamaWeight},
	quant::WeightFormat,
	QTile, Tile, Weight,
};

use crate::{
	gguf::{Gguf, RawTensor},
	Result,
};

/// The GGUF tensor a weight tile is cut from.
pub fn tensor_name(gguf: &Gguf, w: &LlamaWeight) -> String {
	let l = w.layer;
	match w.tensor {
		LlamaTensor::Embedding => "token_embd.weight".into(),
		LlamaTensor::Output if gguf.content.tensor_infos.contains_key("output.weight") => {
			"output.weight".into()
		}
		LlamaTensor::Output => "token_embd.weight".into(),
		LlamaTensor::OutputNorm => "output_norm.weight".into(),
		LlamaTensor::AttentionNorm => format!("blk.{l}.attn_norm.weight"),
		LlamaTensor::Query => format!("blk.{l}.attn_q.weight"),
		LlamaTensor::Key => format!("blk.{l}.attn_k.weight"),
		LlamaTensor::Value => format!("blk.{l}.attn_v.weight"),
		LlamaTensor::AttentionOutput => format!("blk.{l}.attn_output.weight"),
		LlamaTensor::MlpNorm => format!("blk.{l}.ffn_norm.weight"),
		LlamaTensor::Gate => format!("blk.{l}.ffn_gate.weight"),
		LlamaTensor::Up => format!("blk.{l}.ffn_up.weight"),
		LlamaTensor::Down => format!("blk.{l}.ffn_down.weight"),
	}
}

fn dtype_of(format: Option<WeightFormat>) -> GgmlDType {
	match format {
		None => GgmlDType::F32,
		Some(WeightFormat::Q4_1) => GgmlDType::Q4_1,
		Some(WeightFormat::Q8_0) => GgmlDType::Q8_0,
	}
}

/// One tile of `raw` (tensor `name`) as `w` describes it; refuses a
/// tensor of another type or too short for the tile's rows.
fn cut(gguf: &Gguf, name: &str, raw: &RawTensor, w: &LlamaWeight) -> Result<Weight> {
	if raw.dtype != dtype_of(w.format) || raw.dims.last() != Some(&(w.cols as usize)) {
		return Err(gguf.bad(format!(
			"`{name}` is {:?} {:?}, the layout wants {:?} rows of {}",
			raw.dtype, raw.dims, w.format, w.cols
		)));
	}
	let row_bytes = match w.format {
		None => w.cols as usize * 4,
		Some(f) => f.row_bytes(w.cols as usize).unwrap_or(0),
	};
	let start = w.row as usize * row_bytes;
	let bytes = raw
		.bytes
		.get(start..start + w.rows as usize * row_bytes)
		.ok_or_else(|| gguf.bad(format!("`{name}` has no rows {}..+{}", w.row, w.rows)))?;
	Ok(match w.format {
		None => Weight::F32(Tile::new(
			w.rows,
			w.cols,
			bytes.chunks_exact(4).map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])).collect(),
		)?),
		Some(f) => Weight::Quant(QTile::new(f, w.rows, w.cols, bytes.to_vec())?),
	})
}

/// Every weight tile of `shape`'s layout, read from `gguf`.
pub fn weight_tiles(gguf: &mut Gguf, shape: &LlamaShape) -> Result<Vec<Weight>> {
	let layout = weight_layout(shape)?;
	let mut tensors: HashMap<String, RawTensor> = HashMap::new();
	let mut tiles = Vec::with_capacity(layout.len());
	for w in layout {
		let name = tensor_name(gguf, &w);
		if !tensors.contains_key(&name) {
			let raw = gguf.tensor(&name)?;
			tensors.insert(name.clone(), raw);
		}
		let raw = &tensors[&name];
		tiles.push(cut(gguf, &name, raw, &w)?);
	}
	Ok(tiles)
}
