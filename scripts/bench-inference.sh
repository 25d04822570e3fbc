#!/usr/bin/env bash
# Prints canonical-vs-candle inference figures on all-MiniLM-L6-v2
# (fetching the model first if needed). Extra arguments go to the bench.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/env.sh
bash scripts/build.sh
bash scripts/fetch-models.sh
exec "$CARGO_TARGET_DIR/debug/cinder-inference-bench" "$@"
