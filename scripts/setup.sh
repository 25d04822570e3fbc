#!/usr/bin/env bash
# Installs what building Cinder needs on a fresh Debian machine. Idempotent:
# every step checks before it installs, so the run and test commands call it
# each time at almost no cost.
set -euo pipefail
. "$(dirname "$0")/env.sh"

need_apt=()
for pkg in clang libclang-dev protobuf-compiler pkg-config libssl-dev python3-pip python3-venv; do
	dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || need_apt+=("$pkg")
done
if [ "${#need_apt[@]}" -gt 0 ]; then
	echo "setup: installing Debian packages: ${need_apt[*]}"
	SUDO=""
	[ "$(id -u)" -eq 0 ] || SUDO="sudo"
	$SUDO apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi

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
