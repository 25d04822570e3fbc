//! `cinder-node gateway`: an OpenAI-compatible HTTP API in front of a node.
//! `GET /v1/models`, `POST /v1/embeddings` and `POST /v1/chat/completions`
//! (streamed as server-sent events with `stream: true`) take OpenAI's
//! request shapes and make one on-chain request per input, paid from the
//! gateway's account (`--suri`) or from the account a bearer key maps to
//! (`--keys`). Every answer also carries a `cinder` field: the request id,
//! the blocks, the worker, the trace root, the fee held and paid.
//! `GET /` is a playground page (embeddings' similarities, a streamed
//! chat, each request's life on chain, recent requests, validators and
//! disputes) built on these and on `GET /v1/cinder/requests/{id}` and
//! `GET /v1/cinder/overview`.
//!
//! The chain is reached over the node's HTTP JSON-RPC with the blocking
//! client the other commands use, on tokio's blocking pool; the HTTP side
//! is hyper's server.

mod chain;
mod error;
mod explorer;
mod handlers;
mod openai;

use std::{collections::HashMap, convert::Infallible, net::SocketAddr, sync::Arc, time::Duration};

use http_body_util::{combinators::BoxBody, BodyExt, Full, Limited};
use hyper::{
	body::{Bytes, Incoming},
	header, Method, Request, Response, StatusCode,
};

use chain::{Account, Chain, Wait};
use error::ApiError;

use crate::client::{connect, ClientError, Result};

/// Serve OpenAI's API in front of a node, paying for requests on chain.
#[derive(Debug, Clone, clap::Args)]
pub struct GatewayCmd {
	/// The node's HTTP JSON-RPC endpoint.
	#[arg(long, default_value = "http://127.0.0.1:9944")]
	pub url: String,

	/// Address to serve HTTP on (port 0 picks a free one; the address is
	/// printed).
	#[arg(long, default_value = "127.0.0.1:8080")]
	pub listen: SocketAddr,

	/// Secret URI of the account that pays for every request (any bearer
	/// key, or none, is accepted).
	#[arg(long, conflicts_with = "keys")]
	pub suri: Option<String>,

	/// A JSON file mapping bearer API keys to the secret URIs of the
	/// accounts they pay from (`{"sk-alice": "//Alice", …}`); an unknown
	/// key gets 401.
	#[arg(long)]
	pub keys: Option<std::path::PathBuf>,

	/// How long a request is followed on chain before the client is told
	/// to look for it later (504), in seconds.
	#[arg(long, default_value_t = 300)]
	pub timeout: u64,
}

/// Who pays: one account for everyone, or one per bearer key.
enum Payers {
	Open(Arc<Account>),
	Keyed(HashMap<String, Arc<Account>>),
}

/// The gateway's state, shared by every connection.
struct Gateway {
	chain: Chain,
	payers: Payers,
}

type Body = BoxBody<Bytes, Infallible>;

/// Largest request body read.
const MAX_BODY: usize = 4 << 20;

impl GatewayCmd {
	pub fn run(&self) -> Result<()> {
		let chain = Chain::new(connect(&self.url)?, Duration::from_secs(self.timeout));
		let payers = match (&self.suri, &self.keys) {
			(Some(suri), None) => Payers::Open(Arc::new(Account::connect(&self.url, suri)?)),
			(None, Some(path)) => {
				let text = std::fs::read_to_string(path).map_err(|e| {
					ClientError::Other(format!("cannot read {}: {e}", path.display()))
				})?;
				let keys: HashMap<String, String> = serde_json::from_str(&text).map_err(|e| {
					ClientError::Other(format!(
						"{} is not a JSON object of API keys to secret URIs: {e}",
						path.display()
					))
				})?;
				let mut accounts = HashMap::new();
				for (key, suri) in keys {
					accounts.insert(key, Arc::new(Account::connect(&self.url, &suri)?));
				}
				Payers::Keyed(accounts)
			}
			_ => {
				return Err(ClientError::Other(
					"say who pays: --suri for one account, or --keys for an account per API key"
						.into(),
				))
			}
		};
		let gateway = Arc::new(Gateway { chain, payers });
		let runtime = tokio::runtime::Builder::new_multi_thread()
			.enable_all()
			.build()
			.map_err(|e| ClientError::Other(format!("cannot start the async runtime: {e}")))?;
		runtime.block_on(serve(gateway, self.listen))
	}
}

async fn serve(gateway: Arc<Gateway>, listen: SocketAddr) -> Result<()> {
	let listener = tokio::net::TcpListener::bind(listen)
		.await
		.map_err(|e| ClientError::Other(format!("cannot listen on {listen}: {e}")))?;
	let local = listener.local_addr().map_err(|e| ClientError::Other(e.to_string()))?;
	println!("gateway listening on http://{local}");
	loop {
		let (stream, _) = match listener.accept().await {
			Ok(accepted) => accepted,
			Err(e) => {
				log::warn!("gateway: accept failed: {e}");
				continue;
			}
		};
		let gateway = gateway.clone();
		tokio::spawn(async move {
			let service = hyper::service::service_fn(move |req| {
				let gateway = gateway.clone();
				async move { Ok::<_, Infallible>(gateway.handle(req).await) }
			});
			let io = hyper_util::rt::TokioIo::new(stream);
			if let Err(e) =
				hyper::server::conn::http1::Builder::new().serve_connection(io, service).await
			{
				log::debug!("gateway: connection ended: {e}");
			}
		});
	}
}

impl Gateway {
	async fn handle(self: Arc<Self>, req: Request<Incoming>) -> Response<Body> {
		let (parts, body) = req.into_parts();
		let path = parts.uri.path().to_string();
		if parts.method == Method::GET && path == "/" {
			let mut page = Response::new(full(explorer::PLAYGROUND));
			page.headers_mut().insert(
				header::CONTENT_TYPE,
				header::HeaderValue::from_static("text/html; charset=utf-8"),
			);
			return page;
		}
		let wait =
			match parts.uri.query().unwrap_or_default().split('&').any(|q| q == "wait=settled") {
				true => Wait::Settled,
				false => Wait::Answered,
			};
		let bearer = parts
			.headers
			.get(header::AUTHORIZATION)
			.and_then(|v| v.to_str().ok())
			.and_then(|v| v.strip_prefix("Bearer "))
			.map(str::to_string);
		let who = match self.payer(bearer.as_deref()) {
			Ok(who) => who,
			Err(e) => return error_response(e),
		};
		let bytes = match Limited::new(body, MAX_BODY).collect().await {
			Ok(collected) => collected.to_bytes(),
			Err(e) => {
				return error_response(ApiError::invalid(format!("unreadable body: {e}"), None))
			}
		};
		let result = match (&parts.method, path.as_str()) {
			(&Method::GET, "/v1/models") => {
				let gateway = self.clone();
				blocking(move || gateway.models()).await
			}
			(&Method::POST, "/v1/embeddings") => match parse(&bytes) {
				Ok(request) => {
					let gateway = self.clone();
					blocking(move || gateway.embeddings(&who, request, wait)).await
				}
				Err(e) => Err(e),
			},
			(&Method::POST, "/v1/chat/completions") => match parse(&bytes) {
				Ok(request) => return self.chat(who, request, wait).await,
				Err(e) => Err(e),
			},
			(&Method::GET, "/v1/cinder/overview") => {
				let gateway = self.clone();
				blocking(move || gateway.overview()).await
			}
			(&Method::GET, p) if p.starts_with("/v1/cinder/requests/") => {
				let (gateway, id) = (self.clone(), p["/v1/cinder/requests/".len()..].to_string());
				blocking(move || gateway.request_status(&id)).await
			}
			_ => Err(ApiError::not_found(&path)),
		};
		match result {
			Ok(value) => json_response(StatusCode::OK, &value),
			Err(e) => error_response(e),
		}
	}

	/// The account a request with `bearer` pays from.
	fn payer(&self, bearer: Option<&str>) -> std::result::Result<Arc<Account>, ApiError> {
		match &self.payers {
			Payers::Open(account) => Ok(account.clone()),
			Payers::Keyed(keys) => {
				bearer.and_then(|k| keys.get(k)).cloned().ok_or_else(ApiError::unauthorized)
			}
		}
	}
}

fn parse<T: serde::de::DeserializeOwned>(bytes: &[u8]) -> std::result::Result<T, ApiError> {
	serde_json::from_slice(bytes).map_err(|e| {
		ApiError::invalid(format!("the request body is not what OpenAI's API takes: {e}"), None)
	})
}

/// Runs blocking chain calls off the async threads.
async fn blocking<T: Send + 'static>(
	f: impl FnOnce() -> std::result::Result<T, ApiError> + Send + 'static,
) -> std::result::Result<T, ApiError> {
	tokio::task::spawn_blocking(f).await.unwrap_or_else(|e| {
		Err(ApiError::from(ClientError::Other(format!("the gateway's worker thread failed: {e}"))))
	})
}

fn full(bytes: impl Into<Bytes>) -> Body {
	Full::new(bytes.into()).boxed()
}

fn json_response(status: StatusCode, value: &impl serde::Serialize) -> Response<Body> {
	let body = serde_json::to_vec(value).unwrap_or_default();
	let mut response = Response::new(full(body));
	*response.status_mut() = status;
	response
		.headers_mut()
		.insert(header::CONTENT_TYPE, header::HeaderValue::from_static("application/json"));
	response
}

fn error_response(e: ApiError) -> Response<Body> {
	json_response(e.status, &e.body)
}
