#!/usr/bin/env bash
# Installs what building Cinder needs on a fresh Debian machine. Idempotent:
# every step checks before it installs, so the run and test commands call it
# each time at almost no cost.
set -euo pipefail
. "$(dirname "$0")/env.sh"

. "$(dirname "$0")/debian.sh"
debian_packages clang libclang-dev protobuf-compiler pkg-config libssl-dev python3-pip python3-venv

if ! command -v rustup >/dev/null; then
	echo "setup: rustup not found; install Rust stable first" >&2
	exit 1
fi
installed_targets="$(rustup target list --installed)"
grep -qx wasm32v1-none <<<"$installed_targets" || rustup target add wasm32v1-none
installed_components="$(rustup component list --installed)"
for component in rust-src rustfmt clippy; do
	grep -q "^$component" <<<"$installed_components" || rustup component add "$component"
done

mkdir -p "$CARGO_TARGET_DIR" "$CINDER_MODELS_DIR"
