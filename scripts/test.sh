#!/usr/bin/env bash
# Runs Cinder's whole test suite: unit, runtime and end-to-end node tests
# (a dev chain and four-validator local networks on loopback), linted by
# clippy as they compile (scripts/env.sh), then rustfmt.
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
# The pallets' FRAME benchmarks run here too, as tests on their mock
# runtimes: they are compiled under `cfg(test)` (and the pallets'
# `benchmark-helpers` feature), so they need no `runtime-benchmarks` build of
# the dependency tree.
cargo test --workspace --locked "$@" -- --test-threads=1
if [ $# -eq 0 ]; then
	# Formatting. Lints ran in the build above: scripts/env.sh makes clippy
	# the compiler of the workspace's crates (every target: libraries, bins,
	# tests), with warnings denied. The workspace denies unwrap/expect (and
	# unchecked arithmetic in runtime code).
	cargo fmt --all --check
fi
echo "test: finished in $(( $(date +%s) - start ))s"
