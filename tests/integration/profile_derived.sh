#!/usr/bin/env bash
# A model from one profiled point (flame profile --prior, docs/feature-model.md) on the live layer-level
# Orin: a prior of other architectures profiled in full through the simulated application, ResNet-50
# derived at one combination, then flame eval on its camera stream with flamed on the derived model,
# and the real flamed serving it with the wider margin. Checks the prior never holds the derived
# model's architecture, the file says where it came from, bad --prior input is refused before any
# clock is touched, and flamed marks the model derived and plans it with derived_margin_pct.
set -euo pipefail
: "${FLAME:?}" "${FLAME_SOURCE_DIR:?}" "${FLAME_BUILD_DIR:?}"
source "$FLAME_SOURCE_DIR/tests/integration/lib/flamed_env.sh"
PRIOR_CONFIGS="mobilenet_v3_small_b1_float32 resnet18_b1_float32 resnet50_b8_float32 qwen2-0.5b_decode_ctx128_bfloat16" \
  PRIOR_CACHE="$T/cache" DERIVED_OUT="$T/derived.yaml" \
  bash "$FLAME_SOURCE_DIR/bench/eval_derived.sh" "$FLAME_BUILD_DIR" layer-orin resnet50_b1_float32 tight 1 "" -- \
  --frames 40 --governors flamed,max,oracle-nc >"$T/eval.json" 2>"$T/err" || { cat "$T/err" >&2; exit 1; }
grep -q "^prior: 3 models" "$T/err" || { cat "$T/err" >&2; exit 1; }
grep -q "derived from a prior of 3 models; no combination could be held back" "$T/err" || { cat "$T/err" >&2; exit 1; }
python3 - "$T/eval.json" "$T/derived.yaml" <<'PY'
import json, sys, yaml
e = json.load(open(sys.argv[1]))
g = e["governors"]
assert all(v["requests"] == 40 for v in g.values())
assert g["flamed"]["met_pct"] >= 95, g["flamed"]
assert g["flamed"]["energy_total_j"] < g["max"]["energy_total_j"], (g["flamed"], g["max"])
ratio = g["flamed"]["energy_total_j"] / g["oracle-nc"]["energy_total_j"]
assert ratio <= 1.10, ratio
m = yaml.safe_load(open(sys.argv[2]))
assert m["version"] == 4 and m["kind"] == "layerwise", m["version"]
d = m["derived"]
# Leave one model out: no batch or precision of ResNet-50 taught the prior.
assert d["profiled"] == 1 and not any(x.startswith("resnet50") for x in d["models"]), d
assert sorted(d["models"]) == ["mobilenet_v3_small_b1_float32", "qwen2-0.5b_decode_ctx128_bfloat16",
                               "resnet18_b1_float32"], d
# The trace's layer features reached the file: the first convolution is described.
conv = next(s for s in m["segments"] if s.get("name") == "conv1")
assert conv["layer"]["type"] == "Conv2d" and conv["layer"]["macs"] > 0, conv
print("profile_derived: flamed met %.1f %%, energy %.3f x oracle-nc" % (g["flamed"]["met_pct"], ratio))
PY
# flame model show says where the model came from, and which files can teach a prior.
"$FLAME" model show "$T/derived.yaml" >"$T/show"
grep -q "derived from 1 profiled combination(s) and a prior of 3 models" "$T/show"
grep -q "being derived, it teaches no prior" "$T/show"
"$FLAME" model show "$T/cache/layer-orin/resnet18_b1_float32.yaml" | grep -q "it can teach a prior"
"$FLAME" model show --json "$T/derived.yaml" | python3 -c '
import json, sys
j = json.load(sys.stdin)
assert j["derived"]["profiled"] == 1 and len(j["derived"]["models"]) == 3 and j["segments_with_features"] > 0, j'
# Refusals, before any clock is touched and without a journal: an empty prior, a budget other than 1,
# --prior with --e2e.
mkdir -p "$T/empty"
refused() {  # refused PATTERN flame-profile-options...
  local pattern=$1
  shift
  if "$FLAME" profile --model-name x --sysfs-root "$ROOT" --runtime-dir "$T/run" --config /nonexistent \
    --board "$FLAME_SOURCE_DIR/config/boards/orin-nano-8gb-super.yaml" --work-dir "$T/w" "$@" -- true 2>"$T/err"; then
    echo "accepted: $*" >&2
    exit 1
  fi
  grep -q -- "$pattern" "$T/err" || { cat "$T/err" >&2; exit 1; }
  same_tree "$ROOT" "$T/root.orig"
  [[ ! -e $T/w ]]
}
refused "no layer-wise model there can teach a prior" --prior "$T/empty"
refused "not 3" --prior "$T/cache/layer-orin" --budget 3
refused "does not combine with --e2e" --prior "$T/cache/layer-orin" --e2e
refused "prior" --prior "$T/nosuch"

# The real flamed serves the derived model with the wider margin, and says it is derived.
cp "$T/derived.yaml" "$T/models/resnet50_b1_float32.yaml"
write_config "derived_margin_pct: 25"
start_flamed
python3 - "$SOCK" <<'PY'
import sys
from wire import Connection
c = Connection(sys.argv[1])
assert c.req(op="hello", proto=1, app="profile_derived")["ok"]
status = c.req(op="status")
assert status["models"]["resnet50_b1_float32"]["derived"] is True, status["models"]["resnet50_b1_float32"]
r = c.req(op="begin", id=1, model="resnet50_b1_float32", deadline_ms=40)
assert r["ok"], r
assert abs(r["margin_pct"] - 25) < 1e-9, r
assert c.req(op="end", id=1, latency_ms=20)["ok"]
print("profile_derived: flamed plans the derived model with a %.0f %% margin" % r["margin_pct"])
PY
stop_flamed
same_tree "$ROOT" "$T/root.orig"
echo "profile_derived: ok"
