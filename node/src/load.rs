//! `cinder-node load`: requests through a running chain, measured.
//!
//! Without `--rate`, latency one request at a time, then bursts of
//! doubling size. With `--rate R --duration S`, a sustained stream: R
//! requests a second for S seconds, signed in turn by several paying
//! accounts, then a drain until every request has finished. A watcher
//! follows the finalized chain block by block, matches each block's
//! `inference` events to the submitted transactions, and reports how many
//! were submitted, refused, on chain, answered, settled, refunded, still
//! open when the drain ended, and dropped by the pool (never on chain),
//! latency percentiles from submission to the result on chain and to
//! settlement (the time of the block that holds it: its timestamp, the
//! start of its slot; counted once it is final), and, minute by minute,
//! where the queue grew (the transaction pool, requests waiting for a
//! worker, results in their challenge window).

use std::{
	collections::{BTreeMap, HashMap},
	sync::{
		atomic::{AtomicBool, Ordering},
		Arc, Mutex,
	},
	time::{Duration, Instant},
};

use serde_json::{json, Value};

use crate::client::{
	best_block, connect, finalized_block, next_request_id, state_name, wait_for_request,
	ClientError, Payer, Result,
};
use crate::jsonrpc::HttpClient;

/// The text every load request embeds.
const TEXT: &str = "Validators run the model and post the result; anyone can challenge it.";

/// Measure latency and throughput of requests through a running chain.
#[derive(Debug, Clone, clap::Args)]
pub struct LoadCmd {
	/// The node's HTTP JSON-RPC endpoint.
	#[arg(long, default_value = "http://127.0.0.1:9944")]
	pub url: String,

	/// Secret URI of the paying account (burst mode).
	#[arg(long, default_value = "//Bob")]
	pub suri: String,

	/// Requests timed one at a time, for latency (burst mode).
	#[arg(long, default_value_t = 3)]
	pub latency_runs: u32,

	/// Requests sent at once per load step (each step doubles from 4 up to
	/// this many; burst mode).
	#[arg(long, default_value_t = 64)]
	pub max_burst: u32,

	/// Sustained mode: requests offered per second.
	#[arg(long)]
	pub rate: Option<f64>,

	/// Sustained mode: seconds to offer load for.
	#[arg(long, default_value_t = 60)]
	pub duration: u64,

	/// Sustained mode: the paying accounts' secret URIs (comma-separated),
	/// used in turn.
	#[arg(
		long,
		value_delimiter = ',',
		default_value = "//Alice//stash,//Bob//stash,//Charlie//stash,//Dave//stash,//Eve//stash,//Ferdie//stash"
	)]
	pub payers: Vec<String>,

	/// Sustained mode: after the load stops, seconds to wait at most for
	/// the open requests to finish.
	#[arg(long, default_value_t = 300)]
	pub drain: u64,

	/// Sustained mode: print the report as one JSON object.
	#[arg(long)]
	pub json: bool,
}

impl LoadCmd {
	pub fn run(&self) -> Result<()> {
		match self.rate {
			Some(rate) if rate > 0.0 && rate.is_finite() => self.sustained(rate),
			Some(rate) => Err(ClientError::Other(format!("--rate must be positive, not {rate}"))),
			None => self.bursts(),
		}
	}

	/// Tokens and price of the load request.
	fn request_input(rpc: &HttpClient) -> Result<(Vec<u32>, u128)> {
		let ids: Vec<u32> = crate::client::typed(
			"inference_tokenize",
			rpc.call("inference_tokenize", json!([0, TEXT]))?,
		)?;
		let quote: pallet_inference_rpc::FeeInfo = crate::client::typed(
			"inference_estimateFee",
			rpc.call("inference_estimateFee", json!([0, ids.clone()]))?,
		)?;
		Ok((ids, quote.price.0))
	}

	fn bursts(&self) -> Result<()> {
		let mut payer = Payer::connect(&self.url, &self.suri)?;
		let (ids, price) = Self::request_input(&payer.rpc)?;
		let mut send = |n: u32| -> Result<Vec<Sent>> {
			let first = next_request_id(&payer.rpc)?;
			let block = best_block(&payer.rpc)?;
			let mut out = Vec::new();
			for i in 0..n {
				payer.request(0, ids.clone(), price)?;
				out.push(Sent { id: first + u64::from(i), at: Instant::now(), block });
			}
			Ok(out)
		};
		// `send` holds the payer; waiting polls over a connection of its own.
		let rpc = connect(&self.url)?;
		// Seconds and blocks from `sent` until its state is `want` (for
		// "answered", settling also counts); a refund is an error.
		let wait = |sent: &Sent, want: &str| -> Result<(f64, u64)> {
			let deadline = Instant::now() + Duration::from_secs(300);
			let reached = |state: &str| {
				state == want || (want == "answered" && state == "settled") || state == "refunded"
			};
			let info =
				wait_for_request(&rpc, sent.id, deadline, Duration::from_millis(100), reached)?;
			if state_name(&info.view.state) == "refunded" && want != "refunded" {
				return Err(ClientError::Other(format!("request {} was refunded", sent.id)));
			}
			Ok((sent.at.elapsed().as_secs_f64(), best_block(&rpc)? - sent.block))
		};

		println!("latency (one request at a time, {} tokens):", ids.len());
		for _ in 0..self.latency_runs {
			let sent = send(1)?;
			let (a_s, a_b) = wait(&sent[0], "answered")?;
			let (s_s, s_b) = wait(&sent[0], "settled")?;
			println!(
				"  request {}: result on chain after {a_s:.1} s ({a_b} blocks), settled after {s_s:.1} s ({s_b} blocks)",
				sent[0].id
			);
		}

		println!("throughput (bursts submitted at once, time until every result is on chain):");
		let mut burst = 4;
		while burst <= self.max_burst {
			let start = Instant::now();
			let sent = send(burst)?;
			let mut last = 0.0f64;
			for s in &sent {
				last = wait(s, "answered")?.0.max(last);
			}
			let elapsed = start.elapsed().as_secs_f64();
			println!(
				"  {burst:>4} requests: all answered in {elapsed:.1} s → {:.1} requests/s",
				f64::from(burst) / elapsed
			);
			burst *= 2;
		}
		let metrics = self.url.replace(":9944", ":9615");
		println!("worker inference time: see cinder_worker_inference_seconds at {metrics}/metrics");
		Ok(())
	}

	fn sustained(&self, rate: f64) -> Result<()> {
		if self.payers.is_empty() {
			return Err(ClientError::Other("--payers needs at least one account".into()));
		}
		let mut payers =
			self.payers.iter().map(|s| Payer::connect(&self.url, s)).collect::<Result<Vec<_>>>()?;
		let (input, price) = Self::request_input(&payers[0].rpc)?;
		let tracker = Arc::new(Mutex::new(Tracker::default()));
		let stop = Arc::new(AtomicBool::new(false));
		let watcher = {
			let rpc = connect(&self.url)?;
			let from = best_block(&rpc)? + 1;
			let (tracker, stop) = (tracker.clone(), stop.clone());
			std::thread::spawn(move || watch(&rpc, from, &tracker, &stop))
		};
		if !self.json {
			println!(
				"offering {rate} requests/s for {} s from {} accounts ({} tokens each, price {price})",
				self.duration,
				payers.len(),
				input.len()
			);
		}

		// Offer: request k goes out at start + k / rate (late ones at once).
		let start = Instant::now();
		let end = start + Duration::from_secs(self.duration);
		let mut k: u64 = 0;
		loop {
			let due = start + Duration::from_secs_f64(k as f64 / rate);
			if due >= end {
				break;
			}
			if let Some(wait) = due.checked_duration_since(Instant::now()) {
				std::thread::sleep(wait);
			}
			let payer = &mut payers[(k as usize) % self.payers.len()];
			let outcome = payer.request(0, input.clone(), price);
			let mut t = tracker.lock().map_err(|_| poisoned())?;
			match outcome {
				Ok((bytes, _)) => {
					t.submitted.insert(sp_io::hashing::blake2_256(&bytes), Instant::now());
				}
				Err(e) => {
					t.refused += 1;
					t.last_refusal = Some(e.to_string());
				}
			}
			drop(t);
			k += 1;
		}
		let offered_for = start.elapsed();

		// Drain: until every submitted request has finished, or the timeout.
		let drain_end = Instant::now() + Duration::from_secs(self.drain);
		while Instant::now() < drain_end {
			let t = tracker.lock().map_err(|_| poisoned())?;
			if t.ids.len() == t.submitted.len() && t.finished() == t.ids.len() {
				break;
			}
			drop(t);
			std::thread::sleep(Duration::from_millis(500));
		}
		stop.store(true, Ordering::SeqCst);
		let watched = watcher.join().map_err(|_| poisoned())?;
		let t = tracker.lock().map_err(|_| poisoned())?;
		let report = t.report(rate, k, offered_for, start, watched);
		if self.json {
			println!("{report}");
		} else {
			print_report(&report);
		}
		Ok(())
	}
}

fn poisoned() -> ClientError {
	ClientError::Other("the load watcher panicked".into())
}

struct Sent {
	id: u64,
	at: Instant,
	block: u64,
}

/// What the sustained run saw, keyed by transaction hash and request id.
#[derive(Default)]
struct Tracker {
	/// Accepted by the node's pool: when.
	submitted: HashMap<[u8; 32], Instant>,
	/// Submissions the node refused, and the last reason.
	refused: u64,
	last_refusal: Option<String>,
	/// Request id → when its transaction was submitted.
	ids: BTreeMap<u64, Instant>,
	/// When each request's result (first) landed, settled, was refunded.
	answered: HashMap<u64, Instant>,
	settled: HashMap<u64, Instant>,
	refunded: HashMap<u64, Instant>,
	/// Once a minute: (seconds since start, pool size, waiting for a worker,
	/// in the challenge window).
	samples: Vec<(u64, usize, usize, usize)>,
}

impl Tracker {
	fn finished(&self) -> usize {
		self.settled.len() + self.refunded.len()
	}

	/// Requests on chain and not finished: (waiting for a result, answered
	/// and in their challenge window or a dispute).
	fn open(&self) -> (usize, usize) {
		let open = self
			.ids
			.keys()
			.filter(|id| !self.settled.contains_key(id) && !self.refunded.contains_key(id));
		let (mut waiting, mut answered) = (0, 0);
		for id in open {
			if self.answered.contains_key(id) {
				answered += 1;
			} else {
				waiting += 1;
			}
		}
		(waiting, answered)
	}

	fn latencies(&self, of: &HashMap<u64, Instant>) -> Vec<f64> {
		let mut out: Vec<f64> = of
			.iter()
			.filter_map(|(id, at)| {
				Some(at.saturating_duration_since(*self.ids.get(id)?).as_secs_f64())
			})
			.collect();
		out.sort_by(f64::total_cmp);
		out
	}

	fn report(
		&self,
		rate: f64,
		offered: u64,
		offered_for: Duration,
		start: Instant,
		blocks: u64,
	) -> Value {
		let submitted = self.submitted.len() as u64;
		let settled = self.settled.len() as u64;
		let refunded = self.refunded.len() as u64;
		let answered = self.latencies(&self.answered);
		let settling = self.latencies(&self.settled);
		let last_settle =
			self.settled.values().max().map(|t| t.duration_since(start).as_secs_f64());
		json!({
			"rateOffered": rate,
			"seconds": offered_for.as_secs_f64(),
			"offered": offered,
			"submitted": submitted,
			"refused": self.refused,
			"lastRefusal": self.last_refusal,
			"onChain": self.ids.len(),
			"answered": self.answered.len(),
			"settled": settled,
			"refunded": refunded,
			// Accepted by the pool and never executed: dropped when the pool
			// overflowed or the transaction's mortality ran out. Nothing
			// was charged or held for them; a dapp sends them again.
			"dropped": submitted.saturating_sub(self.ids.len() as u64),
			// Executed, escrow held, and neither settled nor refunded when
			// the drain ended: still on their way.
			"open": (self.ids.len() as u64).saturating_sub(settled + refunded),
			"blocksWatched": blocks,
			"settledPerSecond": last_settle.map(|s| settled as f64 / s.max(1e-9)),
			"toResult": percentiles(&answered),
			"toSettlement": percentiles(&settling),
			"queue": self.samples.iter().map(|(s, pool, waiting, window)| json!({
				"second": s, "pool": pool, "waitingForWorker": waiting, "inChallengeWindow": window,
			})).collect::<Vec<_>>(),
		})
	}
}

/// p50, p95, p99 and max (nearest rank) of sorted `xs`, in seconds.
fn percentiles(xs: &[f64]) -> Value {
	let at = |p: f64| -> Option<f64> {
		if xs.is_empty() {
			return None;
		}
		let rank = ((p * xs.len() as f64).ceil() as usize).clamp(1, xs.len());
		xs.get(rank - 1).copied()
	};
	json!({ "p50": at(0.50), "p95": at(0.95), "p99": at(0.99), "max": xs.last(), "count": xs.len() })
}

/// Follows the finalized chain from block `from` until `stop` (a best
/// block may yet be replaced, and its events with it), matching each
/// block's `inference` events to the tracked transactions at the block's
/// own time (its timestamp, on the same clock as the submissions); samples
/// the queues once a minute. Returns the number of blocks read.
fn watch(rpc: &HttpClient, from: u64, tracker: &Mutex<Tracker>, stop: &AtomicBool) -> u64 {
	let start = Instant::now();
	let start_unix = unix_millis();
	let block_time = |timestamp: u64| {
		start
			.checked_add(Duration::from_millis(timestamp.saturating_sub(start_unix)))
			.unwrap_or(start)
	};
	let mut next = from;
	let mut next_sample = 0u64;
	let mut read = 0;
	while !stop.load(Ordering::SeqCst) {
		let finalized = finalized_block(rpc).unwrap_or(0);
		while next <= finalized {
			match read_block(rpc, next) {
				Ok(block) => {
					let at = block_time(block.timestamp);
					if let Ok(mut t) = tracker.lock() {
						note_block(&mut t, block, at);
					}
					next += 1;
					read += 1;
				}
				Err(e) => {
					log::warn!("load: block #{next}: {e}");
					break;
				}
			}
		}
		let elapsed = start.elapsed().as_secs();
		if elapsed >= next_sample {
			let pool = rpc
				.call("author_pendingExtrinsics", json!([]))
				.ok()
				.and_then(|v| v.as_array().map(Vec::len))
				.unwrap_or(0);
			if let Ok(mut t) = tracker.lock() {
				let (waiting, window) = t.open();
				t.samples.push((elapsed, pool, waiting, window));
			}
			next_sample += 60;
		}
		std::thread::sleep(Duration::from_millis(250));
	}
	read
}

fn unix_millis() -> u64 {
	std::time::SystemTime::now()
		.duration_since(std::time::UNIX_EPOCH)
		.map(|d| d.as_millis() as u64)
		.unwrap_or(0)
}

/// A block's timestamp (ms), extrinsic hashes and events.
struct BlockEvents {
	timestamp: u64,
	hashes: Vec<[u8; 32]>,
	events: Vec<frame_system::EventRecord<cinder_runtime::RuntimeEvent, sp_core::H256>>,
}

fn read_block(rpc: &HttpClient, number: u64) -> Result<BlockEvents> {
	let (at, extrinsics) = crate::client::block_extrinsics(rpc, number)?;
	let hashes = extrinsics.iter().map(|x| sp_io::hashing::blake2_256(x)).collect();
	let key = crate::client::events_key();
	let events = crate::client::storage(rpc, &key, Some(at))?.unwrap_or_default();
	// `Timestamp::Now`, set by the block's inherent.
	let now_key =
		[sp_io::hashing::twox_128(b"Timestamp"), sp_io::hashing::twox_128(b"Now")].concat();
	let timestamp = crate::client::storage(rpc, &now_key, Some(at))?.unwrap_or_default();
	Ok(BlockEvents { timestamp, hashes, events })
}

/// Notes `block`'s inference events, as of `now` (the block's time).
fn note_block(t: &mut Tracker, block: BlockEvents, now: Instant) {
	use cinder_runtime::RuntimeEvent;
	use pallet_inference::Event;
	for record in block.events {
		let RuntimeEvent::Inference(event) = record.event else { continue };
		match event {
			Event::Requested { request, .. } => {
				let frame_system::Phase::ApplyExtrinsic(i) = record.phase else { continue };
				let Some(hash) = block.hashes.get(i as usize) else { continue };
				if let Some(at) = t.submitted.get(hash).copied() {
					t.ids.insert(request, at);
				}
			}
			Event::ResultSubmitted { request, .. } if t.ids.contains_key(&request) => {
				t.answered.entry(request).or_insert(now);
			}
			Event::Settled { request, .. } if t.ids.contains_key(&request) => {
				t.settled.insert(request, now);
			}
			Event::Refunded { request, .. } if t.ids.contains_key(&request) => {
				t.refunded.insert(request, now);
			}
			_ => {}
		}
	}
}

fn print_report(r: &Value) {
	let n = |k: &str| r[k].as_u64().unwrap_or_default();
	println!(
		"offered {} requests at {} /s over {:.0} s: {} submitted, {} refused by the node",
		n("offered"),
		r["rateOffered"],
		r["seconds"].as_f64().unwrap_or_default(),
		n("submitted"),
		n("refused")
	);
	if let Some(reason) = r["lastRefusal"].as_str() {
		println!("  last refusal: {reason}");
	}
	println!(
		"on chain {}, answered {}, settled {}, refunded {}, open at the end {} (escrow held, \
		 to settle or refund); never on chain {} (dropped by the pool: nothing charged)",
		n("onChain"),
		n("answered"),
		n("settled"),
		n("refunded"),
		n("open"),
		n("dropped"),
	);
	if let Some(rate) = r["settledPerSecond"].as_f64() {
		println!("settled {rate:.2} requests/s (settled ÷ seconds until the last settlement)");
	}
	for (label, key) in [("to the result on chain", "toResult"), ("to settlement", "toSettlement")]
	{
		let p = &r[key];
		let f = |k: &str| p[k].as_f64().map(|x| format!("{x:.1} s")).unwrap_or("-".into());
		println!(
			"latency {label}: p50 {}, p95 {}, p99 {}, max {} ({} requests)",
			f("p50"),
			f("p95"),
			f("p99"),
			f("max"),
			p["count"]
		);
	}
	println!("queues, once a minute (transaction pool; requests waiting for a worker; results in their challenge window):");
	for s in r["queue"].as_array().into_iter().flatten() {
		println!(
			"  {:>5} s: pool {:>5}, waiting {:>5}, in window {:>5}",
			s["second"], s["pool"], s["waitingForWorker"], s["inChallengeWindow"]
		);
	}
}
