#!/usr/bin/env bash
# Sustained load on the four-validator local network: starts it from
# genesis with scripts/local-net.sh (databases under
# ~/.cache/cinder/bench-net), records each node's resident memory, offers
# `cinder-node load --rate R --duration S` (requests signed in turn by the
# six dev stash accounts), records the memory again, and prints the load
# report (submitted / answered / settled / refunded / open / dropped, latency
# percentiles to the result on chain and to settlement, the queues minute
# by minute), each node's memory before and after, and what each worker
# served and how long one inference took (so the offered rate can be
# compared with what one worker computes), with each node's resident memory
# sampled once a minute during the run.
#
#   scripts/bench-network.sh [--rate R] [--duration S] [--audit-share P]
#                            [--trie-cache-mib M]
#
# Defaults: 20 requests/s for 600 s; workers audit 10% of the others'
# results (the production setting; the local chain's default is 100%);
# the nodes' state trie cache at its default (1 GiB) unless
# --trie-cache-mib sets it.
# A figure, not a test: nothing here passes or fails on timing.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/env.sh

rate=20
duration=600
audit=10
node_flags=()
while [ $# -gt 0 ]; do
	case "$1" in
	--rate) rate="$2"; shift 2 ;;
	--duration) duration="$2"; shift 2 ;;
	--audit-share) audit="$2"; shift 2 ;;
	--trie-cache-mib) node_flags+=(--trie-cache-size "$(($2 * 1024 * 1024))"); shift 2 ;;
	*) echo "usage: scripts/bench-network.sh [--rate R] [--duration S] [--audit-share P] [--trie-cache-mib M]" >&2; exit 2 ;;
	esac
done

bash scripts/build.sh
bash scripts/fetch-models.sh
node="$CARGO_TARGET_DIR/debug/cinder-node"
dir="$HOME/.cache/cinder/bench-net"
mkdir -p "$dir"
out="$dir/local-net.out"

LOCAL_NET_DIR="$dir" bash scripts/local-net.sh 4 --purge -- --audit-share "$audit" "${node_flags[@]}" >"$out" 2>&1 &
net=$!
# TERM, not INT: a script's background job ignores SIGINT, and bash cannot
# trap a signal ignored on entry.
trap 'kill -TERM $net 2>/dev/null || true; wait $net 2>/dev/null || true' EXIT
for _ in $(seq 1 600); do
	grep -q "local-net: running" "$out" && break
	kill -0 "$net" 2>/dev/null || { cat "$out"; exit 1; }
	sleep 1
done
grep -q "local-net: running" "$out" || { echo "the network did not start" >&2; cat "$out"; exit 1; }

names=(alice bob charlie dave)
rss() {
	for name in "${names[@]}"; do
		pid=$(pgrep -f -- "--base-path $dir/$name " | head -1)
		echo "$name $(ps -o rss= -p "$pid" | tr -d ' ')"
	done
}
metric() { # port name → value (0 if absent)
	python3 - "$1" "$2" <<-'EOF'
		import sys, urllib.request
		port, name = sys.argv[1], sys.argv[2]
		try:
		    text = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5).read().decode()
		except Exception:
		    text = ""
		# The node's registry prefixes "substrate_" and labels the chain.
		def metric_name(line):
		    return line.split("{")[0].split()[0] if line and not line.startswith("#") else ""
		print(next((l.split()[-1] for l in text.splitlines() if metric_name(l).endswith(name)), "0"))
	EOF
}

before=$(rss)
# Resident memory once a minute while the load runs (and drains).
samples="$dir/rss.txt"
: >"$samples"
(
	t=0
	while :; do
		echo "$t $(rss | awk '{printf "%s ", $2}')" >>"$samples"
		sleep 60
		t=$((t + 60))
	done
) &
sampler=$!
echo "=== load: $rate requests/s for $duration s, workers auditing $audit% ==="
"$node" load --url http://127.0.0.1:9944 --rate "$rate" --duration "$duration" | tee "$dir/load.txt"
kill "$sampler" 2>/dev/null || true
after=$(rss)

echo
echo "=== resident memory (KiB), before and after the run ==="
printf '%-8s %10s %10s\n' node before after
for name in "${names[@]}"; do
	printf '%-8s %10s %10s\n' "$name" "$(echo "$before" | awk -v n="$name" '$1==n{print $2}')" \
		"$(echo "$after" | awk -v n="$name" '$1==n{print $2}')"
done
echo
echo "=== resident memory (MiB) once a minute from the start of the load ==="
printf '%6s' s
for name in "${names[@]}"; do printf ' %8s' "$name"; done
echo
while read -r t a b c d; do
	printf '%6s' "$t"
	for kib in $a $b $c $d; do printf ' %8d' $((kib / 1024)); done
	echo
done <"$samples"
echo
echo "=== workers: requests served and audited, mean time of one run (one engine thread each) ==="
for i in "${!names[@]}"; do
	port=$((9615 + i))
	python3 - "${names[$i]}" \
		"$(metric "$port" cinder_worker_inference_seconds_sum)" "$(metric "$port" cinder_worker_inference_seconds_count)" \
		"$(metric "$port" cinder_worker_audit_seconds_sum)" "$(metric "$port" cinder_worker_audit_seconds_count)" <<-'EOF'
		import sys
		name, s, n, a_s, a_n = sys.argv[1], *map(float, sys.argv[2:])
		mean = s / n if n else 0.0
		audit = a_s / a_n if a_n else 0.0
		cap = 1 / mean if mean else 0.0
		print(f"{name:<8} served {n:>6.0f} ({mean * 1000:5.1f} ms each: one worker computes ~{cap:5.1f} requests/s), audited {a_n:>6.0f} ({audit * 1000:5.1f} ms each)")
	EOF
done
