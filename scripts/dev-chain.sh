#!/usr/bin/env bash
# Builds the node and starts a single-validator development chain (Alice),
# with a fresh temporary database. Extra arguments go to cinder-node.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/env.sh
bash scripts/build.sh

exec "$CARGO_TARGET_DIR/debug/cinder-node" --dev --tmp "$@"
