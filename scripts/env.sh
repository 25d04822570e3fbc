# shellcheck shell=bash
# Environment shared by every Cinder script. Sourced, never executed.
#
# One target directory outside the checkout, used by the dev chain, the tests
# and CI alike, so a fresh clone reuses the previous build. Every variable that
# reaches cargo is set here and only here: a variable that differs between two
# scripts makes cargo (and the wasm builder) rebuild.

CINDER_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export CINDER_ROOT
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/cinder/target}"
# The wasm builder looks for Cargo.lock upwards from the target directory
# unless told where the workspace is.
export WASM_BUILD_WORKSPACE_HINT="$CINDER_ROOT"
export WASM_BUILD_TYPE=release
export WASM_BUILD_NO_COLOR=1
# Models fetched by scripts/fetch-models.sh live outside the checkout too.
export CINDER_MODELS_DIR="${CINDER_MODELS_DIR:-$HOME/.cache/cinder/models}"
export PATH="$HOME/.cargo/bin:$PATH"
# Clippy lints the workspace's own crates as they compile (rustc's wrapper
# for workspace members; dependencies are compiled by plain rustc), so the
# build the tests and the dev chain use is the lint run too: a separate
# `cargo clippy` would check the whole dependency tree a second time (its
# check-mode artifacts share nothing with a build's). Warnings, rustc's and
# clippy's, fail the build, as `cargo clippy -- -D warnings` did.
export RUSTC_WORKSPACE_WRAPPER=clippy-driver
export CLIPPY_ARGS=-Dwarnings
# litep2p (sc-network's default transport) asks for OpenSSL built from
# source (str0m's `vendored` feature): five minutes of a cold build. Link
# the system's instead, which scripts/setup.sh installs (libssl-dev).
export OPENSSL_NO_VENDOR=1
