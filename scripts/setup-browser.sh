#!/usr/bin/env bash
# Installs what the playground's browser test needs: Debian's chromium and
# Node.js, and puppeteer-core (pinned, no browser download) under
# ~/.cache/cinder/browser. Idempotent.
set -euo pipefail
. "$(dirname "$0")/env.sh"

need_apt=()
dpkg-query -W -f='${Status}' chromium 2>/dev/null | grep -q "install ok installed" || need_apt+=(chromium)
# Any Node.js with npm will do (Debian's, or one installed before).
command -v node >/dev/null && command -v npm >/dev/null || need_apt+=(nodejs npm)
if [ "${#need_apt[@]}" -gt 0 ]; then
	echo "setup: installing Debian packages: ${need_apt[*]}"
	SUDO=""
	[ "$(id -u)" -eq 0 ] || SUDO="sudo"
	$SUDO apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi

version=25.16.0
dir="$HOME/.cache/cinder/browser"
if ! [ -f "$dir/node_modules/puppeteer-core/package.json" ] ||
	! grep -q "\"version\": \"$version\"" "$dir/node_modules/puppeteer-core/package.json"; then
	echo "setup: installing puppeteer-core $version into $dir"
	mkdir -p "$dir"
	(cd "$dir" && PUPPETEER_SKIP_DOWNLOAD=1 npm install --silent --no-audit --no-fund "puppeteer-core@$version" >/dev/null)
fi
