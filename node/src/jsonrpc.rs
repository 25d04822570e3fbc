//! How every client here talks to a node: jsonrpsee's own HTTP and
//! WebSocket clients, behind a blocking face for the command-line tools,
//! the gateway's worker threads and the end-to-end tests. One small tokio
//! runtime, shared by every client of the process, drives them.

use std::{sync::OnceLock, time::Duration};

use jsonrpsee::core::{
	client::{ClientT, Error as RpcError, SubscriptionClientT},
	params::ArrayParams,
};
use jsonrpsee_http_client::HttpClientBuilder;
use jsonrpsee_ws_client::{WsClient, WsClientBuilder};
use serde_json::Value;

/// Why a call failed.
#[derive(Debug, thiserror::Error)]
pub enum CallError {
	/// The node could not be reached, or did not answer with JSON-RPC.
	#[error("cannot reach the node at {url}: {reason}")]
	Transport {
		/// The endpoint.
		url: String,
		/// What went wrong, in words.
		reason: String,
	},
	/// The node answered with a JSON-RPC error.
	#[error("the node refused {method}: {message} (code {code}{})", detail(.data))]
	Rpc {
		/// The method called.
		method: String,
		/// The JSON-RPC error code.
		code: i64,
		/// The error message.
		message: String,
		/// The error's `data` member, if any.
		data: Option<Value>,
	},
}

fn detail(data: &Option<Value>) -> String {
	data.as_ref().map(|d| format!(", {d}")).unwrap_or_default()
}

/// The runtime the clients run on: one worker thread (a client waits on
/// the network, it does not compute), started on first use.
fn runtime() -> Result<&'static tokio::runtime::Runtime, String> {
	static RUNTIME: OnceLock<Result<tokio::runtime::Runtime, String>> = OnceLock::new();
	RUNTIME
		.get_or_init(|| {
			tokio::runtime::Builder::new_multi_thread()
				.worker_threads(1)
				.thread_name("jsonrpc-client")
				.enable_all()
				.build()
				.map_err(|e| format!("cannot start the client's runtime: {e}"))
		})
		.as_ref()
		.map_err(Clone::clone)
}

/// `params` (a JSON array, or `null` for none) as positional parameters.
fn positional(params: Value) -> Result<ArrayParams, String> {
	let mut out = ArrayParams::new();
	match params {
		Value::Null => {}
		Value::Array(values) => {
			for v in values {
				out.insert(v).map_err(|e| e.to_string())?;
			}
		}
		other => return Err(format!("parameters must be a JSON array, not {other}")),
	}
	Ok(out)
}

/// A jsonrpsee error as a [`CallError`].
fn call_error(url: &str, method: &str, e: RpcError) -> CallError {
	match e {
		RpcError::Call(err) => CallError::Rpc {
			method: method.into(),
			code: i64::from(err.code()),
			message: err.message().into(),
			data: err.data().and_then(|d| serde_json::from_str(d.get()).ok()),
		},
		other => CallError::Transport { url: url.into(), reason: other.to_string() },
	}
}

/// A node's HTTP JSON-RPC endpoint (jsonrpsee's HTTP client).
#[derive(Clone, Debug)]
pub struct HttpClient {
	url: String,
	inner: jsonrpsee_http_client::HttpClient,
}

impl HttpClient {
	/// A client for `url` (`http://host:port`); calls wait at most `timeout`
	/// for an answer.
	pub fn new(url: &str, timeout: Duration) -> Result<Self, CallError> {
		let transport = |reason: String| CallError::Transport { url: url.into(), reason };
		if !url.starts_with("http://") {
			return Err(transport("only http:// endpoints are supported".into()));
		}
		// Building the client spawns nothing, but hyper's connector wants
		// the runtime's context.
		let _context = runtime().map_err(transport)?.enter();
		let inner = HttpClientBuilder::default()
			.request_timeout(timeout)
			.max_response_size(64 << 20)
			.build(url)
			.map_err(|e| transport(e.to_string()))?;
		Ok(Self { url: url.into(), inner })
	}

	/// The endpoint this client calls.
	pub fn url(&self) -> &str {
		&self.url
	}

	/// Calls `method` with `params` (a JSON array); returns the `result`
	/// member. Blocks: call it from a thread, never from async code.
	pub fn call(&self, method: &str, params: Value) -> Result<Value, CallError> {
		let transport = |reason: String| CallError::Transport { url: self.url.clone(), reason };
		let params = positional(params).map_err(transport)?;
		let runtime = runtime().map_err(transport)?;
		runtime
			.block_on(self.inner.request::<Value, _>(method, params))
			.map_err(|e| call_error(&self.url, method, e))
	}
}

/// A subscription over a WebSocket of its own (jsonrpsee's WebSocket
/// client): the notifications' `result`s, in order.
pub struct Subscription {
	// Dropped first: its drop sends the unsubscription over the client.
	inner: jsonrpsee::core::client::Subscription<Value>,
	// Dropping the client closes the connection: it lives as long as the
	// subscription.
	_client: WsClient,
}

impl Subscription {
	/// Subscribes with `method` at `url` (`ws://host:port`); `unsubscribe`
	/// ends it when dropped.
	pub fn open(
		url: &str,
		method: &str,
		params: Value,
		unsubscribe: &str,
	) -> Result<Self, CallError> {
		let transport = |reason: String| CallError::Transport { url: url.into(), reason };
		let params = positional(params).map_err(transport)?;
		let runtime = runtime().map_err(transport)?;
		runtime.block_on(async {
			let client = WsClientBuilder::default()
				.request_timeout(Duration::from_secs(30))
				.build(url)
				.await
				.map_err(|e| call_error(url, method, e))?;
			let inner = client
				.subscribe::<Value, _>(method, params, unsubscribe)
				.await
				.map_err(|e| call_error(url, method, e))?;
			Ok(Self { inner, _client: client })
		})
	}

	/// The next notification's `result` within `timeout`, or `None` (none
	/// came, or the subscription ended).
	pub fn next(&mut self, timeout: Duration) -> Option<Value> {
		let runtime = runtime().ok()?;
		runtime
			.block_on(async { tokio::time::timeout(timeout, self.inner.next()).await })
			.ok()
			.flatten()
			.and_then(Result::ok)
	}
}
