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
# The gateway's test runs the official `openai` Python package against it,
# and the playground in Debian's chromium with puppeteer-core.
bash scripts/setup-openai.sh
bash scripts/setup-browser.sh

echo "test: target directory $CARGO_TARGET_DIR"
start=$(date +%s)
# The pallets' FRAME benchmarks run here too, as tests on their mock
# runtimes: they are compiled under `cfg(test)` (and the pallets'
# `benchmark-helpers` feature), so they need no `runtime-benchmarks` build of
# the dependency tree.
if [ $# -gt 0 ]; then
	cargo test --workspace --locked "$@" -- --test-threads=1
else
	# Two lanes, each one test at a time. The fault tests (four-validator
	# networks killed, restarted and upgraded under a request stream, about
	# 14 minutes) spend most of their time waiting for 3-second blocks, so
	# the rest of the suite (about 10 minutes) runs beside them rather than
	# after. Every test runs exactly once: the second lane skips the fault
	# tests by their exact names, which the first lane's binary lists.
	cargo test --workspace --locked --no-run
	faults_log="$(mktemp)"
	cargo test --workspace --locked --test faults -- --test-threads=1 >"$faults_log" 2>&1 &
	faults_pid=$!
	skip=()
	while read -r name; do
		skip+=(--skip "$name")
	done < <(cargo test --workspace --locked --test faults -- --list --format terse 2>/dev/null |
		sed -n 's/: test$//p')
	[ "${#skip[@]}" -gt 0 ] || { echo "test: no fault tests listed" >&2; exit 1; }
	rest=0
	cargo test --workspace --locked -- --test-threads=1 --exact "${skip[@]}" || rest=$?
	faults=0
	wait "$faults_pid" || faults=$?
	echo "test: the fault tests' lane:"
	cat "$faults_log"
	rm -f "$faults_log"
	[ "$rest" -eq 0 ] && [ "$faults" -eq 0 ] || { echo "test: FAILED (rest $rest, faults $faults)" >&2; exit 1; }
	# Formatting. Lints ran in the build above: scripts/env.sh makes clippy
	# the compiler of the workspace's crates (every target: libraries, bins,
	# tests), with warnings denied. The workspace denies unwrap/expect (and
	# unchecked arithmetic in runtime code).
	cargo fmt --all --check
fi
echo "test: finished in $(( $(date +%s) - start ))s"
