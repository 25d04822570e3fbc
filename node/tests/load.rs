//! End to end, `cinder-node load`'s sustained mode against a dev chain with
//! its worker: three requests a second for ten seconds from three paying
//! accounts; every request it submitted is found on chain, answered and
//! settled, nothing is lost, and the latency figures cover every request
//! and are ordered (p50 ≤ p95 ≤ p99 ≤ max, the result before settlement).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::{process::Command, time::Duration};

use common::{test_dir, Node};
use serde_json::Value;

#[test]
fn a_sustained_load_is_counted_and_timed_to_the_last_request() {
	if cinder_engine::installed_minilm().is_none() {
		return;
	}
	let dir = test_dir("load");
	let models = cinder_engine::models_dir().display().to_string();
	let node = Node::start("dev", dir.path(), &["--dev", "--tmp", "--models-dir", &models]);
	node.wait_until("block #1", Duration::from_secs(120), |n| n.best_number() >= 1);

	let url = format!("http://127.0.0.1:{}", node.rpc_port);
	let out = Command::new(env!("CARGO_BIN_EXE_cinder-node"))
		.args(["load", "--url", &url, "--rate", "3", "--duration", "10", "--drain", "180"])
		.args(["--payers", "//Alice//stash,//Bob//stash,//Charlie//stash", "--json"])
		.output()
		.expect("cinder-node runs");
	let stdout = String::from_utf8_lossy(&out.stdout);
	assert!(out.status.success(), "{stdout}{}", String::from_utf8_lossy(&out.stderr));
	let r: Value = serde_json::from_str(stdout.trim()).unwrap();
	let n = |k: &str| r[k].as_u64().unwrap();

	assert_eq!(n("offered"), 30, "{r}");
	assert_eq!(n("submitted"), 30, "{r}");
	assert_eq!(n("refused"), 0, "{r}");
	assert_eq!(n("onChain"), 30, "{r}");
	assert_eq!(n("answered"), 30, "{r}");
	assert_eq!(n("settled"), 30, "{r}");
	assert_eq!(n("refunded"), 0, "{r}");
	assert_eq!(n("open"), 0, "{r}");
	assert_eq!(n("dropped"), 0, "{r}");
	let p = |which: &str, k: &str| r[which][k].as_f64().unwrap();
	for which in ["toResult", "toSettlement"] {
		assert_eq!(r[which]["count"], 30, "{r}");
		assert!(p(which, "p50") <= p(which, "p95"), "{r}");
		assert!(p(which, "p95") <= p(which, "p99"), "{r}");
		assert!(p(which, "p99") <= p(which, "max"), "{r}");
	}
	// Settlement waits for the 10-block challenge window after the result.
	assert!(p("toSettlement", "p50") > p("toResult", "p50") + 20.0, "{r}");
	assert!(!r["queue"].as_array().unwrap().is_empty(), "{r}");
}
