#!/usr/bin/env bash
# Prints request latency (submission → result on chain → settlement, in
# seconds and blocks) and sustained throughput of a dev chain whose worker
# serves all-MiniLM-L6-v2, then the worker's inference-time metrics, so the
# bottleneck (worker compute or chain weight) can be named.
#
#   scripts/bench-requests.sh [--max-burst N] [--latency-runs N]
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/env.sh
bash scripts/build.sh
bash scripts/fetch-models.sh

node="$CARGO_TARGET_DIR/debug/cinder-node"
rpc=9977
prom=9677
"$node" --dev --tmp --rpc-port "$rpc" --prometheus-port "$prom" --port 30777 \
	--models-dir "$CINDER_MODELS_DIR" >/tmp/cinder-bench-node.log 2>&1 &
pid=$!
trap 'kill -INT $pid 2>/dev/null; wait $pid 2>/dev/null' EXIT
for _ in $(seq 1 120); do
	(exec 3<>"/dev/tcp/127.0.0.1/$rpc") 2>/dev/null && break
	sleep 1
done
sleep 6
"$node" load --url "http://127.0.0.1:$rpc" "$@"

# The worker's own numbers, from Prometheus.
exec 3<>"/dev/tcp/127.0.0.1/$prom"
printf 'GET /metrics HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n' >&3
metrics=$(cat <&3)
served=$(echo "$metrics" | awk '/^cinder_worker_requests_served_total/ {print $2}')
sum=$(echo "$metrics" | awk '/^cinder_worker_inference_seconds_sum/ {print $2}')
count=$(echo "$metrics" | awk '/^cinder_worker_inference_seconds_count/ {print $2}')
# The worker runs requests side by side, one engine thread each when they
# queue up (a lone request gets every thread), so its capacity is about its
# threads (the default: the machine's cores) over the mean time per request.
threads=$(nproc)
echo "worker: $served results served; mean canonical inference $(awk "BEGIN {printf \"%.1f\", 1000*$sum/$count}") ms per request, up to $threads side by side → about $(awk "BEGIN {printf \"%.0f\", $threads*$count/$sum}") requests/s of compute on this machine"
