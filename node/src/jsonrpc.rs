//! A small blocking HTTP JSON-RPC client over `std`: how `cinder-node embed`
//! and `load` talk to a node, and how the end-to-end tests do. One request
//! per connection (`Connection: close`), so there is no state to get wrong.

use std::{
	io::{BufRead, BufReader, Read, Write},
	net::TcpStream,
	time::Duration,
};

use serde_json::{json, Value};

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

/// A node's HTTP JSON-RPC endpoint.
#[derive(Clone, Debug)]
pub struct HttpClient {
	url: String,
	host: String,
	timeout: Duration,
}

impl HttpClient {
	/// A client for `url` (`http://host:port`); calls wait at most `timeout`
	/// for an answer.
	pub fn new(url: &str, timeout: Duration) -> Result<Self, CallError> {
		let rest = url.strip_prefix("http://").ok_or_else(|| CallError::Transport {
			url: url.into(),
			reason: "only http:// endpoints are supported".into(),
		})?;
		let host = rest.trim_end_matches('/').to_string();
		Ok(Self { url: url.into(), host, timeout })
	}

	/// The endpoint this client calls.
	pub fn url(&self) -> &str {
		&self.url
	}

	/// Calls `method` with `params`; returns the `result` member.
	pub fn call(&self, method: &str, params: Value) -> Result<Value, CallError> {
		let transport = |reason: String| CallError::Transport { url: self.url.clone(), reason };
		let body =
			json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params}).to_string();
		let mut stream = TcpStream::connect(&self.host).map_err(|e| transport(e.to_string()))?;
		stream.set_read_timeout(Some(self.timeout)).map_err(|e| transport(e.to_string()))?;
		write!(
			stream,
			"POST / HTTP/1.1\r\nHost: {}\r\nContent-Type: application/json\r\n\
			 Content-Length: {}\r\nConnection: close\r\n\r\n{}",
			self.host,
			body.len(),
			body
		)
		.map_err(|e| transport(e.to_string()))?;
		let mut reader = BufReader::new(stream);
		let mut length = None;
		loop {
			let mut line = String::new();
			reader.read_line(&mut line).map_err(|e| transport(e.to_string()))?;
			let line = line.trim_end();
			if line.is_empty() {
				break;
			}
			if let Some((k, v)) = line.split_once(':') {
				if k.eq_ignore_ascii_case("content-length") {
					length = v.trim().parse::<usize>().ok();
				}
			}
		}
		let mut buf = Vec::new();
		match length {
			Some(n) => {
				buf.resize(n, 0);
				reader.read_exact(&mut buf).map_err(|e| transport(e.to_string()))?;
			}
			None => {
				reader.read_to_end(&mut buf).map_err(|e| transport(e.to_string()))?;
			}
		}
		let reply: Value =
			serde_json::from_slice(&buf).map_err(|e| transport(format!("not JSON-RPC: {e}")))?;
		match reply.get("error") {
			Some(err) => Err(CallError::Rpc {
				method: method.into(),
				code: err.get("code").and_then(Value::as_i64).unwrap_or_default(),
				message: err.get("message").and_then(Value::as_str).unwrap_or("?").into(),
				data: err.get("data").cloned(),
			}),
			None => Ok(reply.get("result").cloned().unwrap_or(Value::Null)),
		}
	}
}
