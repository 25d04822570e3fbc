#!/usr/bin/env bash
# Regenerates pallets/*/src/weights.rs from the runtime's FRAME benchmarks,
# run in the wasm runtime by frame-omni-bencher (installed on first use into
# ~/.cache/cinder/tools), with scripts/weight-template.hbs.
#
#   scripts/bench-weights.sh [--steps N] [--repeat N] [PALLET…]
#
# PALLET is pallet_models, pallet_inference or pallet_disputes (default:
# all three).
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/env.sh
bash scripts/setup.sh

steps=50
repeat=20
pallets=()
while [ $# -gt 0 ]; do
	case "$1" in
	--steps) steps="$2"; shift 2 ;;
	--repeat) repeat="$2"; shift 2 ;;
	pallet_models|pallet_inference|pallet_disputes) pallets+=("$1"); shift ;;
	*) echo "unknown argument: $1 (pallets: pallet_models pallet_inference pallet_disputes)" >&2; exit 2 ;;
	esac
done
[ ${#pallets[@]} -gt 0 ] || pallets=(pallet_models pallet_inference pallet_disputes)

tools="$HOME/.cache/cinder/tools"
bencher="$tools/bin/frame-omni-bencher"
if ! [ -x "$bencher" ]; then
	echo "installing frame-omni-bencher 0.28.0 (polkadot-sdk 2609) into $tools"
	# SKIP_WASM_BUILD: the bencher's own test runtime (for storage
	# benchmarks, unused here) does not build its wasm under `cargo install`.
	CARGO_TARGET_DIR="$HOME/.cache/cinder/omni-target" SKIP_WASM_BUILD=1 \
		cargo install --locked frame-omni-bencher@0.28.0 --root "$tools"
fi

cargo build --locked -p cinder-runtime --features runtime-benchmarks
wasm="$CARGO_TARGET_DIR/debug/wbuild/cinder-runtime/cinder_runtime.compact.compressed.wasm"

for pallet in "${pallets[@]}"; do
	out="pallets/${pallet#pallet_}/src/weights.rs"
	"$bencher" v1 benchmark pallet \
		--runtime "$wasm" \
		--genesis-builder-preset development \
		--pallet "$pallet" --extrinsic '*' \
		--steps "$steps" --repeat "$repeat" \
		--template scripts/weight-template.hbs \
		--output "$out"
	rustfmt --edition 2021 "$out"
	echo "wrote $out"
done
