#!/usr/bin/env bash
# A local Cinder network on one machine: N validators of the `local` chain
# (default 4: Alice, Bob, Charlie and Dave, its genesis validators; a fifth
# and sixth, Eve and Ferdie, run as nodes that sync and could be elected
# once they bond and validate), each a separate process on loopback with a
# worker serving the installed models, a persistent base path under
# ~/.cache/cinder/local-net/<name> and a fixed node key (so Alice's peer id,
# the bootnode, is known). Waits until every node has finalized a block,
# prints each node's endpoints, and on Ctrl-C stops them all cleanly.
#
#   scripts/local-net.sh [N] [--purge] [--chain local|local-fast] [-- NODE FLAGS…]
#
# Node i (from 0) listens on p2p port 30333+i, JSON-RPC 9944+i and
# Prometheus 9615+i. --purge deletes the base paths first (back to genesis;
# needed after a rebuild that changed the runtime's genesis). Logs:
# ~/.cache/cinder/local-net/<name>.log. GRANDPA finalizes with three of the
# four genesis validators, so one of them may be down.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/env.sh

n=4
purge=""
chain=local
extra=()
while [ $# -gt 0 ]; do
	case "$1" in
	--purge) purge=1; shift ;;
	--chain) chain="$2"; shift 2 ;;
	--) shift; extra=("$@"); break ;;
	[1-6]) n="$1"; shift ;;
	*) echo "usage: scripts/local-net.sh [1-6] [--purge] [--chain local|local-fast] [-- node flags]" >&2; exit 2 ;;
	esac
done

bash scripts/build.sh
bash scripts/fetch-models.sh

node="$CARGO_TARGET_DIR/debug/cinder-node"
dir="${LOCAL_NET_DIR:-$HOME/.cache/cinder/local-net}"
names=(alice bob charlie dave eve ferdie)
# The peer id of node key 0x…01 (Alice's).
boot="/ip4/127.0.0.1/tcp/30333/p2p/12D3KooWEyoppNCUx8Yx66oV9fJnriXwCcXwDDUA2kj6vnc6iDEp"
mkdir -p "$dir"
if [ -n "$purge" ]; then
	for name in "${names[@]}"; do rm -rf "${dir:?}/$name"; done
	echo "local-net: purged $dir"
fi
if [ "$n" -lt 3 ]; then
	echo "local-net: with $n of the 4 genesis validators, blocks are produced but not finalized" >&2
fi

pids=()
stop() {
	trap - INT TERM EXIT
	echo
	echo "local-net: stopping ${#pids[@]} nodes"
	for pid in "${pids[@]}"; do kill -INT "$pid" 2>/dev/null || true; done
	for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
	echo "local-net: stopped"
}
trap stop INT TERM EXIT

for i in $(seq 0 $((n - 1))); do
	name="${names[$i]}"
	args=(--chain "$chain" "--$name" --base-path "$dir/$name"
		--node-key "$(printf '%064x' $((i + 1)))"
		--rpc-port $((9944 + i)) --prometheus-port $((9615 + i))
		--listen-addr "/ip4/127.0.0.1/tcp/$((30333 + i))"
		--no-mdns --no-telemetry
		--worker --models-dir "$CINDER_MODELS_DIR" --worker-threads 1)
	[ "$i" -eq 0 ] || args+=(--bootnodes "$boot")
	"$node" "${args[@]}" "${extra[@]}" >>"$dir/$name.log" 2>&1 &
	pids+=($!)
done

# JSON-RPC over HTTP with Python's standard library (no curl needed).
rpc() {
	python3 - "$1" "$2" <<-'EOF'
		import json, sys, urllib.request
		port, method = sys.argv[1], sys.argv[2]
		body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": method, "params": []}).encode()
		req = urllib.request.Request(f"http://127.0.0.1:{port}", body, {"Content-Type": "application/json"})
		try:
		    print(json.dumps(json.load(urllib.request.urlopen(req, timeout=5)).get("result")))
		except Exception:
		    print("null")
	EOF
}
finalized() {
	local port="$1" head
	head=$(rpc "$port" chain_getFinalizedHead | tr -d '"')
	[ "$head" != null ] || { echo 0; return; }
	python3 - "$port" "$head" <<-'EOF'
		import json, sys, urllib.request
		port, head = sys.argv[1], sys.argv[2]
		body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "chain_getHeader", "params": [head]}).encode()
		req = urllib.request.Request(f"http://127.0.0.1:{port}", body, {"Content-Type": "application/json"})
		try:
		    print(int(json.load(urllib.request.urlopen(req, timeout=5))["result"]["number"], 16))
		except Exception:
		    print(0)
	EOF
}

echo "local-net: $n nodes of chain '$chain' starting (logs in $dir/<name>.log)"
deadline=$((SECONDS + 300))
for i in $(seq 0 $((n - 1))); do
	until [ "$(finalized $((9944 + i)))" -ge 1 ] 2>/dev/null; do
		for pid in "${pids[@]}"; do
			kill -0 "$pid" 2>/dev/null || { echo "local-net: a node exited; see $dir/*.log (after a runtime change: --purge)" >&2; exit 1; }
		done
		if [ "$SECONDS" -gt "$deadline" ] || [ "$n" -lt 3 ]; then
			echo "local-net: ${names[$i]} has not finalized a block yet" >&2
			break
		fi
		sleep 2
	done
done

echo
printf '%-8s %-8s %-26s %-32s %s\n' node pid "JSON-RPC (HTTP + WS)" "Prometheus" finalized
for i in $(seq 0 $((n - 1))); do
	printf '%-8s %-8s %-26s %-32s #%s\n' "${names[$i]}" "${pids[$i]}" "ws://127.0.0.1:$((9944 + i))" \
		"http://127.0.0.1:$((9615 + i))/metrics" "$(finalized $((9944 + i)))"
done
echo
echo "local-net: running; Ctrl-C stops every node"
wait
