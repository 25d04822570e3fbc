//! A byte-level BPE tokenizer (GPT-2 style, `tokenizer.ggml.model = gpt2`)
//! built from a GGUF file's own metadata: its vocabulary, merges, token
//! types and pre-tokenizer name. No `tokenizer.json` is needed.
//!
//! Pre-tokenizers, as the model's original `tokenizer.json` has them:
//! - `smollm` (SmolLM, SmolLM2): digits split one by one, then GPT-2's
//!   byte-level split, no space added in front;
//! - `gpt2` and `default`: GPT-2's byte-level split alone.
//!
//! Control tokens (type 3: `<|im_start|>`, `<|endoftext|>`, …) are special
//! tokens: found whole in a text, never merged from pieces, and left out
//! when decoding with `skip_special_tokens`.

use tokenizers::{
	decoders::byte_level::ByteLevel as ByteLevelDecoder,
	models::bpe::{Vocab, BPE},
	pre_tokenizers::{
		byte_level::ByteLevel, digits::Digits, sequence::Sequence, PreTokenizerWrapper,
	},
	AddedToken, Tokenizer,
};

use crate::{gguf::Gguf, EngineError, Result};

/// GGUF's token type of a control token.
const CONTROL: i64 = 3;

/// The tokenizer `gguf` describes.
pub fn from_gguf(gguf: &Gguf) -> Result<Tokenizer> {
	let model = gguf.string("tokenizer.ggml.model")?;
	if model != "gpt2" {
		return Err(gguf.bad(format!("tokenizer model `{model}`: only byte-level BPE (`gpt2`)")));
	}
	let tokens = gguf.strings("tokenizer.ggml.tokens")?;
	let types = gguf.integers("tokenizer.ggml.token_type")?;
	if types.len() != tokens.len() {
		return Err(gguf.bad("token types and tokens differ in number"));
	}
	let merges = gguf
		.strings("tokenizer.ggml.merges")?
		.into_iter()
		.map(|m| {
			m.split_once(' ')
				.map(|(a, b)| (a.to_string(), b.to_string()))
				.ok_or_else(|| gguf.bad(format!("merge `{m}` is not two tokens")))
		})
		.collect::<Result<Vec<_>>>()?;
	let vocab: Vocab = tokens.iter().zip(0u32..).map(|(t, i)| ((*t).to_string(), i)).collect();
	if vocab.len() != tokens.len() {
		return Err(gguf.bad("the vocabulary repeats a token"));
	}
	let bpe = BPE::builder()
		.vocab_and_merges(vocab, merges)
		.build()
		.map_err(|e| gguf.bad(format!("BPE: {e}")))?;
	let mut tokenizer = Tokenizer::new(bpe);

	let byte_level = ByteLevel::new(false, true, true);
	let pre = match gguf.string("tokenizer.ggml.pre").unwrap_or("gpt2") {
		"smollm" => PreTokenizerWrapper::Sequence(Sequence::new(vec![
			Digits::new(true).into(),
			byte_level.into(),
		])),
		"gpt2" | "default" => byte_level.into(),
		other => return Err(gguf.bad(format!("pre-tokenizer `{other}` is not supported"))),
	};
	tokenizer.with_pre_tokenizer(Some(pre));
	tokenizer.with_decoder(Some(ByteLevelDecoder::default()));
	let specials: Vec<AddedToken> = tokens
		.iter()
		.zip(&types)
		.filter(|(_, t)| **t == CONTROL)
		.map(|(token, _)| AddedToken::from((*token).to_string(), true))
		.collect();
	tokenizer.add_special_tokens(specials).map_err(|e| gguf.bad(format!("special tokens: {e}")))?;
	Ok(tokenizer)
}

/// `text`'s token ids (special tokens in it recognised, nothing added).
pub fn encode(tokenizer: &Tokenizer, text: &str) -> Result<Vec<u32>> {
	tokenizer
		.encode(text, false)
		.map(|e| e.get_ids().to_vec())
		.map_err(|e| EngineError::Tokenizer(e.to_string()))
}

/// The text of `ids`, special tokens kept; an id at or past `vocab` is an
/// error (the tokenizer would drop it silently).
pub fn decode(tokenizer: &Tokenizer, vocab: u32, ids: &[u32]) -> Result<String> {
	if let Some(&id) = ids.iter().find(|&&id| id >= vocab) {
		return Err(EngineError::Tokenizer(format!("token {id} outside the vocabulary")));
	}
	tokenizer.decode(ids, false).map_err(|e| EngineError::Tokenizer(e.to_string()))
}
