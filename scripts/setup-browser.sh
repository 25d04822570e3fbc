#!/usr/bin/env bash
# Installs what the playground's browser test needs: Debian's chromium and
# Node.js, and puppeteer-core (pinned, no browser download) under
# ~/.cache/cinder/browser. Idempotent.
set -euo pipefail
. "$(dirname "$0")/env.sh"

. "$(dirname "$0")/debian.sh"
debian_packages chromium
# Any Node.js with npm will do (Debian's, or one installed before).
command -v node >/dev/null && command -v npm >/dev/null || debian_packages nodejs npm

version=25.16.0
dir="$HOME/.cache/cinder/browser"
if ! [ -f "$dir/node_modules/puppeteer-core/package.json" ] ||
	! grep -q "\"version\": \"$version\"" "$dir/node_modules/puppeteer-core/package.json"; then
	echo "setup: installing puppeteer-core $version into $dir"
	mkdir -p "$dir"
	(cd "$dir" && PUPPETEER_SKIP_DOWNLOAD=1 npm install --silent --no-audit --no-fund "puppeteer-core@$version" >/dev/null)
fi
