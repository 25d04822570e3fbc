#!/usr/bin/env bash
# The main job: builds the node, fetches all-MiniLM-L6-v2 and
# SmolLM2-135M-Instruct if needed, starts a single-validator development
# chain (Alice) whose worker serves both, sends two sentences through the
# chain with `cinder-node embed` (paid by Bob) and prints their embeddings
# and similarity, then asks SmolLM2 a question with `cinder-node generate
# --chat` and prints the reply, its tokens and the fee, and keeps the chain
# running until Ctrl-C. Extra arguments go to cinder-node.
#
#   scripts/dev-chain.sh             # chain + one demo request
#   NO_DEMO=1 scripts/dev-chain.sh   # chain only
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/env.sh
bash scripts/build.sh
bash scripts/fetch-models.sh

node="$CARGO_TARGET_DIR/debug/cinder-node"
port="${RPC_PORT:-9944}"
"$node" --dev --tmp --rpc-port "$port" --models-dir "$CINDER_MODELS_DIR" "$@" &
pid=$!
trap 'kill -INT $pid 2>/dev/null; wait $pid' INT TERM EXIT

# Wait for the RPC port, then for the first blocks.
for _ in $(seq 1 120); do
	if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
		break
	fi
	sleep 1
done
sleep 6

if [ -z "${NO_DEMO:-}" ]; then
	echo
	echo "=== demo: two sentences through the chain (cinder-node embed) ==="
	"$node" embed --url "http://127.0.0.1:$port" \
		"A man is eating food." "A man is eating a piece of bread."
	echo
	echo "=== demo: a chat reply through the chain (cinder-node generate --chat) ==="
	"$node" generate --url "http://127.0.0.1:$port" --chat --max-tokens 48 \
		"What is the capital of France?"
	echo "=== the chain keeps running; Ctrl-C stops it ==="
	echo
fi
wait $pid
