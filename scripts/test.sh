#!/usr/bin/env bash
# Runs Cinder's whole test suite: unit, runtime and end-to-end node tests
# (a dev chain and four-validator local networks on loopback), then
# rustfmt and clippy.
#
#   scripts/test.sh            # everything
#   scripts/test.sh -p cinder-runtime   # extra arguments go to cargo test
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/env.sh
bash scripts/setup.sh
# The real-model accuracy tests need all-MiniLM-L6-v2.
bash scripts/fetch-models.sh

echo "test: target directory $CARGO_TARGET_DIR"
start=$(date +%s)
# The end-to-end tests start several nodes each; running two such tests at
# once on a 2-core machine only makes both slower, so tests run one at a time.
cargo test --workspace --locked "$@" -- --test-threads=1
if [ $# -eq 0 ]; then
	# The pallets' FRAME benchmarks, run as tests on their mock runtimes.
	cargo test --locked -p pallet-models -p pallet-inference -p pallet-disputes --features runtime-benchmarks
	# Formatting and lints: the workspace denies unwrap/expect (and unchecked
	# arithmetic in runtime code); clippy's warnings count as failures.
	cargo fmt --all --check
	cargo clippy --workspace --tests --bins --locked -- -D warnings
fi
echo "test: finished in $(( $(date +%s) - start ))s"
