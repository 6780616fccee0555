#!/usr/bin/env bash
# flame sim layer: the layer-driven TX2 writes FlexiBO-format grids that the table-driven machinery
# and the estimator's validation read; one replay is broken down on request; bad input is refused.
set -euo pipefail
: "${FLAME:?}"
cd "$FLAME_SOURCE_DIR"
T=$(mktemp -d /tmp/flame-layer.XXXXXX)
trap 'rm -rf "$T"' EXIT
fail() { echo "sim_layer: FAIL: $*" >&2; exit 1; }

"$FLAME" sim layer --out "$T/grids" --config resnet18_b1_float32 --config qwen2-0.5b_decode_ctx512_bfloat16 >"$T/out"
[[ -f "$T/grids/tx2_sampled_output_resnet18_b1.csv" && -f "$T/grids/tx2_sampled_output_qwen2-0.5b-decode_c512.csv" ]] \
  || fail "grids not written: $(ls "$T/grids")"
[[ $(wc -l <"$T/grids/tx2_sampled_output_resnet18_b1.csv") == 769 ]] || fail "expected 768 rows and a header"

"$FLAME" sim grid --data "$T/grids" --json >"$T/grid.json"
python3 - "$T/grid.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
text = json.dumps(d)
for name in ("resnet18-b1", "qwen2-0.5b-decode-c512"):
    assert name in text, (name, text[:400])
PY

# The estimator, from 16 of 768 points, on the layer-driven truth.
"$FLAME" validate grid "$T/grids/tx2_sampled_output_resnet18_b1.csv" --budget 16 --no-curve --json >"$T/v.json"
python3 - "$T/v.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
lat = d["latency"]["mean_ape_pct"]
assert 0 < lat < 10, d["latency"]
assert d["baselines"]["fixed_max"]["latency"]["mean_ape_pct"] > 2 * lat, d["baselines"]
print(f"layer-driven resnet18-b1: latency mean APE {lat:.2f} % from 16 points")
PY

# A workload on a layer-driven model, regenerable, and the governor comparison on it.
"$FLAME" sim workload --preset camera30 --model resnet18-b1 --fps 40 --infer-every 1 --frames 60 \
  --name camera40-resnet18 --out "$T/w.yaml"
grep -q 'model: "resnet18-b1"' "$T/w.yaml" || fail "workload model override"
"$FLAME" sim workload --check "$T/w.yaml" >/dev/null || fail "the workload does not regenerate"
"$FLAME" eval --board tx2 --data "$T/grids" --workload "$T/w.yaml" --governors flamed,max,oracle --json >"$T/e.json"
python3 - "$T/e.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
g = d["governors"]
assert d["requests"] == 60, d["requests"]
assert g["max"]["met_pct"] >= g["flamed"]["met_pct"] - 5, g
assert g["oracle"]["energy_j"] <= g["flamed"]["energy_j"] * 1.02 and g["flamed"]["energy_j"] < g["max"]["energy_j"], g
print(f"layer-driven eval: flamed {g['flamed']['met_pct']:.1f} % met, {g['flamed']['energy_j'] / g['oracle']['energy_j']:.3f} x oracle energy")
PY
if "$FLAME" sim workload --preset camera30 --model a,b --out "$T/bad.yaml" 2>"$T/bad.err"; then fail "two camera models accepted"; fi
grep -q "one --model" "$T/bad.err" || fail "unclear error: $(cat "$T/bad.err")"

# One replay: the phase transition shows at the lowest CPU clock.
"$FLAME" sim layer --config resnet50_b1_float32 --at 4,2035200,1300500000,1866000000 --json >"$T/top.json"
"$FLAME" sim layer --config resnet50_b1_float32 --at 4,345600,1300500000,1866000000 --json >"$T/low.json"
python3 - "$T/top.json" "$T/low.json" <<'PY'
import json, sys
top, low = (json.load(open(f)) for f in sys.argv[1:])
assert not top["launch_bound"] and low["launch_bound"], (top, low)
assert low["latency_ms"] > 2 * top["latency_ms"] and low["bubble_ms"] > top["bubble_ms"], (top, low)
PY

# Refusals: unknown configuration, malformed --at, nothing to do.
for bad in "--config no_such_config --out $T/x" "--config resnet18_b1_float32 --at 4,1,2" \
  "--config resnet18_b1_float32 --at 0,2035200,1300500000,1866000000" "--config resnet18_b1_float32"; do
  # shellcheck disable=SC2086
  if "$FLAME" sim layer $bad >"$T/bad.out" 2>&1; then fail "accepted: $bad"; fi
  grep -qiE "no configuration|--at|at least one core|--out" "$T/bad.out" || fail "unclear error for '$bad': $(cat "$T/bad.out")"
done
[[ ! -e "$T/x" ]] || fail "a refused run created its output directory"
echo "sim_layer: OK"
