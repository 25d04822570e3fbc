#!/usr/bin/env bash
# Prints canonical-vs-candle inference figures on all-MiniLM-L6-v2
# (fetching the model first if needed). Extra arguments go to the bench.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/env.sh
bash scripts/setup.sh
bash scripts/fetch-models.sh
cargo build --locked -p cinder-engine --bin cinder-inference-bench
exec "$CARGO_TARGET_DIR/debug/cinder-inference-bench" "$@"
