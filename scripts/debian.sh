# shellcheck shell=bash
# `debian_packages PKG…`: installs those of the Debian packages that are not
# installed yet (with sudo when not root). Sourced by the setup scripts.
debian_packages() {
	local need=() pkg
	for pkg in "$@"; do
		dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || need+=("$pkg")
	done
	[ "${#need[@]}" -gt 0 ] || return 0
	echo "setup: installing Debian packages: ${need[*]}"
	local sudo=""
	[ "$(id -u)" -eq 0 ] || sudo="sudo"
	$sudo apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${need[@]}" >/dev/null
}
