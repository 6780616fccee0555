#!/usr/bin/env bash
# `flame validate derived` end to end: real binary, repository data, JSON shape, the prior never
# holds the predicted architecture, determinism for a seed, refusal of an unknown board.
set -euo pipefail
: "${FLAME:?}" "${FLAME_SOURCE_DIR:?}"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$FLAME" validate derived --board layer-tx2 --json >"$tmp/a.json"
"$FLAME" validate derived --board layer-tx2 --json >"$tmp/b.json"
cmp "$tmp/a.json" "$tmp/b.json"
python3 - "$tmp/a.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
assert d["board"] == "layer-tx2" and len(d["configs"]) == 11, d
for c in d["configs"]:
    arch = c["tag"].split("_b")[0]
    assert arch not in c["prior_models"] and "qwen2-0.5b" in c["prior_models"], c
    assert c["derived"]["n"] == c["full"]["n"] > 0, c
PY
"$FLAME" validate derived --board layer-tx2 | grep -q "^resnet50_b1_float32 "
if "$FLAME" validate derived --board nope 2>"$tmp/err"; then exit 1; fi
grep -q "unknown board 'nope'" "$tmp/err"
echo ok
