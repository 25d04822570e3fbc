#!/usr/bin/env bash
# Prints inference figures on all-MiniLM-L6-v2 (fetching the models first if
# needed): the canonical path, candle's f32 forward and ONNX Runtime's f32
# (scripts/onnxruntime-minilm.py, measured just before, in a virtualenv
# under ~/.cache/cinder/onnxruntime) in one table, with the CPU and the
# instruction set the engine dispatched to; then SmolLM2-135M-Instruct's
# text generation, canonical against candle's quantized llama
# (cinder-llama-bench). Extra arguments go to the MiniLM benches
# (--seconds S, --threads N); the generation bench takes --threads.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/env.sh
bash scripts/build.sh
# build.sh builds the tests; the bench is a binary of its own, built with
# the same features.
cargo build --workspace --locked --bins --tests
bash scripts/fetch-models.sh

seconds=4
threads=2
args=("$@")
while [ $# -gt 0 ]; do
	case "$1" in
	--seconds) seconds=$2; shift ;;
	--threads) threads=$2; shift ;;
	esac
	shift
done

venv=$HOME/.cache/cinder/onnxruntime/venv
if [ ! -x "$venv/bin/python" ] || ! "$venv/bin/python" -c 'import onnxruntime, onnx, safetensors, tokenizers, sympy' 2>/dev/null; then
	python3 -m venv "$venv"
	"$venv/bin/pip" install -q onnxruntime onnx numpy safetensors tokenizers sympy packaging
fi
model="$CINDER_MODELS_DIR/all-minilm-l6-v2"
ort=$(mktemp)
trap 'rm -f "$ort"' EXIT
"$venv/bin/python" scripts/onnxruntime-minilm.py "$model" "$ort" --seconds "$seconds" --threads "$threads"
"$CARGO_TARGET_DIR/debug/cinder-inference-bench" "$model" --onnx-runtime "$ort" "${args[@]}"
echo
"$CARGO_TARGET_DIR/debug/cinder-llama-bench" --threads "$threads"
