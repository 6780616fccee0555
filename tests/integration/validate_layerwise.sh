#!/usr/bin/env bash
# `flame validate layerwise` end to end: real binary, repository data, JSON shape, refusal of a
# budget that is too small, determinism for a seed.
set -euo pipefail
: "${FLAME:?}" "${FLAME_SOURCE_DIR:?}"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
data="$FLAME_SOURCE_DIR/data/h200-coupling/run2/coupling.json"

"$FLAME" validate layerwise "$data" --config resnet50_b8_float32,vit_b_16_b1_float16 --json >"$tmp/a.json"
"$FLAME" validate layerwise "$data" --config resnet50_b8_float32,vit_b_16_b1_float16 --json >"$tmp/b.json"
cmp "$tmp/a.json" "$tmp/b.json"
python3 - "$tmp/a.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))["configs"]
assert [c["tag"] for c in d] == ["resnet50_b8_float32", "vit_b_16_b1_float16"], d
for c in d:
    assert c["profiled"] == 12 and c["grid_points"] == 528, c
    t = c["timeline"]
    assert t["mean_ape_pct"] < 2.0 and t["max_ape_pct"] < 8.0, c
    for name in ("sum_model", "scaled_max"):
        assert c["baselines"][name]["mean_ape_pct"] > 5 * t["mean_ape_pct"], (name, c)
PY
if "$FLAME" validate layerwise "$data" --budget 2 2>"$tmp/err.txt"; then exit 1; fi
grep -q "too small" "$tmp/err.txt"
if "$FLAME" validate layerwise "$data" --config nope 2>"$tmp/err.txt"; then exit 1; fi
grep -q "no configuration matches" "$tmp/err.txt"
echo ok
