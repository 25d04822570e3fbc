//! The gateway's endpoints: OpenAI's request in, on-chain requests made and
//! followed, OpenAI's response out.

use std::{convert::Infallible, sync::Arc};

use base64::Engine as _;
use futures::{channel::mpsc, StreamExt};
use http_body_util::{BodyExt, StreamBody};
use hyper::{
	body::{Bytes, Frame},
	header, Response, StatusCode,
};
use serde_json::{json, Value};
use sp_core::{crypto::Ss58Codec, Get};

use cinder_engine::llama::{chat_conversation, CHAT_TURN_END};
use cinder_runtime::RuntimeCall;
use pallet_inference_runtime_api::{ModelKind, Sampling};

use super::{
	blocking,
	chain::{Account, Model, Wait},
	error::ApiError,
	error_response,
	openai::{ChatRequest, Content, EmbeddingsRequest, Input, Usage},
	Body, Gateway,
};
use crate::client::RequestOf;

/// What every chunk of one streamed chat completion carries.
struct Chunks {
	id: String,
	created: u64,
	model: String,
}

impl Chunks {
	/// A server-sent event of one chunk: `choices`, an extra field if any,
	/// and the request's `cinder` record.
	fn frame(&self, choices: Value, extra: Option<(&str, Value)>, cinder: Value) -> Bytes {
		let mut c = json!({
			"id": self.id,
			"object": "chat.completion.chunk",
			"created": self.created,
			"model": self.model,
			"choices": choices,
		});
		if let Some(map) = c.as_object_mut() {
			if let Some((key, value)) = extra {
				map.insert(key.into(), value);
			}
			if !cinder.is_null() {
				map.insert("cinder".into(), cinder);
			}
		}
		Bytes::from(format!("data: {c}\n\n"))
	}

	/// A chunk of the one choice: its `delta` and, on the last, why it
	/// finished; with the `cinder` record if given.
	fn delta(&self, delta: Value, finish: Option<&str>, cinder: Option<Value>) -> Bytes {
		let choices =
			json!([{"index": 0, "delta": delta, "logprobs": null, "finish_reason": finish}]);
		self.frame(choices, None, cinder.unwrap_or(Value::Null))
	}
}

fn unix_now() -> u64 {
	std::time::SystemTime::now()
		.duration_since(std::time::UNIX_EPOCH)
		.map(|d| d.as_secs())
		.unwrap_or_default()
}

fn kind(model: &Model) -> &'static str {
	match model.kind {
		ModelKind::Embedding => "embedding",
		ModelKind::Generation => "chat",
	}
}

/// A chat request made ready for the chain.
struct Prepared {
	model: Model,
	prompt_tokens: usize,
	max_new: u32,
	call: RuntimeCall,
}

impl Gateway {
	/// `GET /v1/models`: the chain's active models.
	pub(super) fn models(&self) -> Result<Value, ApiError> {
		let data: Vec<Value> = self
			.chain
			.models()?
			.into_iter()
			.filter(|m| m.active)
			.map(|m| {
				json!({
					"id": m.name,
					"object": "model",
					"created": 0,
					"owned_by": m.owner.to_ss58check(),
					"cinder": {
						"id": m.id,
						"kind": kind(&m),
						"price": m.price,
						"promptTokenPrice": m.prompt_token_price,
						"generatedTokenPrice": m.generated_token_price,
						"maxInputTokens": m.max_input_tokens,
						"specVersion": m.spec_version,
						"weightRoot": m.weight_root,
					},
				})
			})
			.collect();
		Ok(json!({"object": "list", "data": data}))
	}

	/// `POST /v1/embeddings`: one on-chain request per input, all sent
	/// before any is waited for.
	pub(super) fn embeddings(
		&self,
		who: &Account,
		request: EmbeddingsRequest,
		wait: Wait,
	) -> Result<Value, ApiError> {
		let model = self.chain.model(&request.model)?;
		if model.kind != ModelKind::Embedding {
			return Err(ApiError::wrong_task(format!(
				"{} is a chat model: POST /v1/chat/completions asks it",
				model.name
			)));
		}
		let base64 = match request.encoding_format.as_deref() {
			None | Some("float") => false,
			Some("base64") => true,
			Some(other) => {
				return Err(ApiError::invalid(
					format!("encoding_format {other:?}: float or base64"),
					Some("encoding_format"),
				))
			}
		};
		let width = model.output_bytes / 4;
		if request.dimensions.is_some_and(|d| d != width) {
			return Err(ApiError::invalid(
				format!("{} embeds in {width} dimensions, not fewer", model.name),
				Some("dimensions"),
			));
		}
		let inputs = request.input.into_inputs();
		if inputs.is_empty() {
			return Err(ApiError::invalid("input is empty", Some("input")));
		}
		// Tokens and quotes for all before anything is held: one bad input
		// refuses the whole call.
		let mut requests = Vec::with_capacity(inputs.len());
		for input in inputs {
			let ids = match input {
				Input::Text(text) => self.chain.tokenize(model.id, &text)?,
				Input::Tokens(ids) => ids,
			};
			let max_fee = self.chain.quote(model.id, &ids, who, None)?;
			requests.push((ids, max_fee));
		}
		// Each was quoted alone: the account must hold them all at once.
		let total = requests.iter().fold(0u128, |sum, (_, fee)| sum.saturating_add(*fee));
		self.chain.can_hold(who, total)?;
		let mut submitted = Vec::with_capacity(requests.len());
		for (ids, max_fee) in &requests {
			let call = RuntimeCall::Inference(pallet_inference::Call::request {
				model: model.id,
				input: ids.clone(),
				max_fee: *max_fee,
			});
			submitted.push(self.chain.submit(who, call)?);
		}
		let made =
			submitted.into_iter().map(|s| self.chain.land(s)).collect::<Result<Vec<_>, _>>()?;
		let mut data = Vec::with_capacity(made.len());
		let mut cinder = Vec::with_capacity(made.len());
		for (index, made) in made.into_iter().enumerate() {
			let info = self.chain.follow(made, wait)?;
			let vector = info.embedding.clone().unwrap_or_default();
			let embedding = if base64 {
				let bytes: Vec<u8> = vector.iter().flat_map(|x| x.to_le_bytes()).collect();
				json!(base64::engine::general_purpose::STANDARD.encode(bytes))
			} else {
				json!(vector)
			};
			data.push(json!({"object": "embedding", "index": index, "embedding": embedding}));
			cinder.push(self.chain.info(made, &info));
		}
		let tokens: u64 = requests.iter().map(|(ids, _)| ids.len() as u64).sum();
		Ok(json!({
			"object": "list",
			"data": data,
			"model": model.name,
			"usage": Usage { prompt_tokens: tokens, completion_tokens: None, total_tokens: tokens },
			"cinder": cinder,
		}))
	}

	/// The prompt, limits and call of a chat request, after the checks
	/// the chain would run (so a refused request holds nothing).
	fn prepare_chat(&self, who: &Account, request: &ChatRequest) -> Result<Prepared, ApiError> {
		if request.n.is_some_and(|n| n != 1) {
			return Err(ApiError::invalid("n: one choice per request", Some("n")));
		}
		if request.stop.as_ref().is_some_and(|s| !s.is_null()) {
			return Err(ApiError::invalid(
				"stop sequences are not supported: a reply runs to its end token or max_tokens",
				Some("stop"),
			));
		}
		let model = self.chain.model(&request.model)?;
		if model.kind != ModelKind::Generation {
			return Err(ApiError::wrong_task(format!(
				"{} makes embeddings: POST /v1/embeddings asks it",
				model.name
			)));
		}
		let mut turns = Vec::with_capacity(request.messages.len());
		for message in &request.messages {
			let role = match message.role.as_str() {
				"system" | "developer" => "system",
				"user" => "user",
				"assistant" => "assistant",
				other => {
					return Err(ApiError::invalid(
						format!("message role {other:?}: system, developer, user or assistant"),
						Some("messages"),
					))
				}
			};
			let content = match &message.content {
				Content::Empty => String::new(),
				Content::Text(text) => text.clone(),
				Content::Parts(parts) => {
					if let Some(part) = parts.iter().find(|p| p.kind != "text") {
						return Err(ApiError::invalid(
							format!("content part {:?}: the chat models read text only", part.kind),
							Some("messages"),
						));
					}
					parts.iter().filter_map(|p| p.text.as_deref()).collect::<Vec<_>>().join("\n")
				}
			};
			turns.push((role, content));
		}
		if !turns.iter().any(|(role, _)| *role == "user") {
			return Err(ApiError::invalid("messages: at least one user message", Some("messages")));
		}
		let borrowed: Vec<(&str, &str)> = turns.iter().map(|(r, c)| (*r, c.as_str())).collect();
		let ids = self.chain.tokenize(model.id, &chat_conversation(&borrowed))?;
		let max_new = match request.max_completion_tokens.or(request.max_tokens) {
			Some(n) => n,
			// As many as the chain and the model's positions allow.
			None => {
				let chain_max: u32 =
					<cinder_runtime::Runtime as pallet_inference::Config>::MaxNewTokens::get();
				let room = (model.max_input_tokens + 1).saturating_sub(ids.len() as u32);
				chain_max.min(room).max(1)
			}
		};
		let sampling = match (request.temperature, request.top_p) {
			(Some(0.0), _) => Sampling::Greedy,
			(t, p) => {
				let (t, p) = (t.unwrap_or(1.0), p.unwrap_or(1.0));
				if !(t > 0.0 && t <= 2.0) {
					return Err(ApiError::invalid("temperature: from 0 to 2", Some("temperature")));
				}
				if !(p > 0.0 && p <= 1.0) {
					return Err(ApiError::invalid("top_p: above 0, at most 1", Some("top_p")));
				}
				Sampling::TopP { temperature: t.to_bits(), top_p: p.to_bits() }
			}
		};
		let max_fee = self.chain.quote(model.id, &ids, who, Some(max_new))?;
		let call = RuntimeCall::Inference(pallet_inference::Call::generate {
			model: model.id,
			prompt: ids.clone(),
			max_new_tokens: max_new,
			sampling,
			// OpenAI's seed is any integer: its 64 bits, as the chain's.
			seed: request.seed.map(|s| s as u64),
			max_fee,
		});
		Ok(Prepared { model, prompt_tokens: ids.len(), max_new, call })
	}

	/// The reply's text and why it ended.
	fn reply(
		&self,
		model: &Model,
		info: &RequestOf,
		max_new: u32,
	) -> Result<(String, &'static str), ApiError> {
		let tokens = info.tokens.clone().unwrap_or_default();
		let text = match &info.text {
			Some(text) => text.clone(),
			None => self.chain.detokenize(model.id, &tokens)?,
		};
		Ok(match text.strip_suffix(CHAT_TURN_END) {
			Some(reply) => (reply.to_string(), "stop"),
			None if (tokens.len() as u32) < max_new => (text, "stop"),
			None => (text, "length"),
		})
	}

	/// `POST /v1/chat/completions`.
	pub(super) async fn chat(
		self: Arc<Self>,
		who: Arc<Account>,
		request: ChatRequest,
		wait: Wait,
	) -> Response<Body> {
		let stream = request.stream.unwrap_or(false);
		let include_usage = request.stream_options.as_ref().is_some_and(|o| o.include_usage);
		let gateway = self.clone();
		let head = blocking(move || {
			let prepared = gateway.prepare_chat(&who, &request)?;
			let submitted = gateway.chain.submit(&who, prepared.call.clone())?;
			let made = gateway.chain.land(submitted)?;
			Ok((prepared, made))
		})
		.await;
		let (prepared, made) = match head {
			Ok(head) => head,
			Err(e) => return error_response(e),
		};
		let created = unix_now();
		if !stream {
			let gateway = self.clone();
			let answer = blocking(move || {
				let info = gateway.chain.follow(made, wait)?;
				let (content, finish) = gateway.reply(&prepared.model, &info, prepared.max_new)?;
				Ok(json!({
					"id": format!("chatcmpl-cinder-{}", made.id),
					"object": "chat.completion",
					"created": created,
					"model": prepared.model.name,
					"choices": [{
						"index": 0,
						"message": {"role": "assistant", "content": content},
						"logprobs": null,
						"finish_reason": finish,
					}],
					"usage": Usage::of_chat(prepared.prompt_tokens, &info),
					"cinder": gateway.chain.info(made, &info),
				}))
			})
			.await;
			return match answer {
				Ok(value) => super::json_response(StatusCode::OK, &value),
				Err(e) => error_response(e),
			};
		}
		// Streamed: the first chunk now (the request is on chain), the
		// reply when its result is, then the end.
		let (tx, rx) = mpsc::unbounded::<Bytes>();
		let chunks = Chunks {
			id: format!("chatcmpl-cinder-{}", made.id),
			created,
			model: prepared.model.name.clone(),
		};
		let first = json!({"request": made.id, "state": "assigned", "requestedIn": made.block});
		let _ = tx.unbounded_send(chunks.delta(
			json!({"role": "assistant", "content": ""}),
			None,
			Some(first),
		));
		let gateway = self.clone();
		tokio::task::spawn_blocking(move || {
			let send = |bytes: Bytes| tx.unbounded_send(bytes).is_ok();
			let outcome = gateway.chain.follow(made, wait).and_then(|info| {
				let (content, finish) = gateway.reply(&prepared.model, &info, prepared.max_new)?;
				Ok((info, content, finish))
			});
			match outcome {
				Ok((info, content, finish)) => {
					send(chunks.delta(json!({"content": content}), None, None));
					let cinder = json!(gateway.chain.info(made, &info));
					send(chunks.delta(json!({}), Some(finish), Some(cinder.clone())));
					if include_usage {
						let usage = Usage::of_chat(prepared.prompt_tokens, &info);
						send(chunks.frame(json!([]), Some(("usage", json!(usage))), cinder));
					}
				}
				Err(e) => {
					let body = serde_json::to_string(&e.body).unwrap_or_default();
					send(Bytes::from(format!("data: {body}\n\n")));
				}
			}
			send(Bytes::from_static(b"data: [DONE]\n\n"));
		});
		let body = BodyExt::boxed(StreamBody::new(rx.map(|b| Ok::<_, Infallible>(Frame::data(b)))));
		let mut response = Response::new(body);
		let headers = response.headers_mut();
		headers.insert(header::CONTENT_TYPE, header::HeaderValue::from_static("text/event-stream"));
		headers.insert(header::CACHE_CONTROL, header::HeaderValue::from_static("no-cache"));
		response
	}
}
