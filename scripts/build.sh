#!/usr/bin/env bash
# Builds every binary of the workspace with exactly the features the test
# suite uses (`cargo test --workspace --no-run` also builds the binaries the
# integration tests run), so the dev chain, the benchmarks and the tests
# share one set of artifacts instead of compiling the node twice.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/env.sh
bash scripts/setup.sh
cargo test --workspace --locked --no-run
