#!/usr/bin/env bash
# Installs the official `openai` Python package (pinned) into a virtualenv
# under ~/.cache/cinder/openai-venv, for the gateway's test with a client
# nobody here wrote (node/tests/openai_python.rs runs
# clients/openai/check_gateway.py with it). Idempotent.
set -euo pipefail
. "$(dirname "$0")/env.sh"
bash "$CINDER_ROOT/scripts/setup.sh"

version=3.54.0
venv="$HOME/.cache/cinder/openai-venv"
if ! "$venv/bin/python" -c "import openai, sys; sys.exit(openai.__version__ != '$version')" 2>/dev/null; then
	echo "setup: installing openai $version into $venv"
	python3 -m venv "$venv"
	"$venv/bin/python" -m pip install --quiet --disable-pip-version-check "openai==$version"
fi
