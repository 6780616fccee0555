#!/usr/bin/env bash
# FLAME end to end on the live layer-level Orin board (bench/eval_layer.sh): flame profile through the
# simulated application, then flame eval with flamed on that layer-wise model beside flamed-grid, MAX
# and the non-clairvoyant oracle on a short tight camera stream. Checks the governors ran on the same
# requests, flamed met its deadlines with less energy than MAX, the oracle is a bound, and bad input
# to the layer boards is refused.
set -euo pipefail
: "${FLAME:?}" "${FLAME_SOURCE_DIR:?}" "${FLAME_BUILD_DIR:?}"
T=$(mktemp -d /tmp/flame-eval-layer-test.XXXXXX)
trap 'rm -rf "$T"' EXIT
bash "$FLAME_SOURCE_DIR/bench/eval_layer.sh" "$FLAME_BUILD_DIR" layer-orin resnet50_b1_float32 tight 1 "" -- \
  --frames 40 --governors flamed,flamed-grid,max,oracle-nc >"$T/eval.json" 2>"$T/err" || { cat "$T/err" >&2; exit 1; }
python3 - "$T/eval.json" <<'PY'
import json, sys
e = json.load(open(sys.argv[1]))
g = e["governors"]
assert e["board"] == "layer-orin", e["board"]
assert set(g) == {"flamed", "flamed-grid", "max", "oracle-nc"}, set(g)
assert all(v["requests"] == 40 for v in g.values())
assert g["max"]["met_pct"] == 100, g["max"]
assert g["flamed"]["met_pct"] >= 90, g["flamed"]
assert g["flamed"]["energy_total_j"] < g["max"]["energy_total_j"], (g["flamed"], g["max"])
assert g["oracle-nc"]["energy_total_j"] < g["max"]["energy_total_j"]
# The profiled model's power (rail samples of the recorded iterations, the busy form) ranks energy
# like the board does: flamed within 5 % of the non-clairvoyant oracle (docs/evaluation.md).
assert g["flamed"]["energy_total_j"] <= 1.05 * g["oracle-nc"]["energy_total_j"], (g["flamed"], g["oracle-nc"])
print("eval_layer: flamed met %.1f %%, energy %.3f x oracle-nc, %.3f x max" % (
    g["flamed"]["met_pct"], g["flamed"]["energy_total_j"] / g["oracle-nc"]["energy_total_j"],
    g["flamed"]["energy_total_j"] / g["max"]["energy_total_j"]))
PY
# The power model fitted from the rail samples: held-back error of a few percent, not tens.
python3 - "$T/err" <<'PY'
import re, sys
m = re.search(r"power model from the rail samples; error on held-back combinations mean ([\d.]+) %", open(sys.argv[1]).read())
assert m, open(sys.argv[1]).read()
assert float(m[1]) < 5, m[0]
print("eval_layer: power held-back error mean %s %%" % m[1])
PY
# Refusals: an unknown board, a layer board without --config, an unknown configuration, a bad class.
if "$FLAME" eval --board layer-mars --config x 2>"$T/err"; then exit 1; fi
grep -q "unknown board 'layer-mars'" "$T/err"
if "$FLAME" eval --board layer-orin 2>"$T/err"; then exit 1; fi
grep -q -- "--config TAG is required" "$T/err"
if "$FLAME" eval --board layer-orin --config nosuch_b1 2>"$T/err"; then exit 1; fi
grep -q "nosuch_b1" "$T/err"
if "$FLAME" eval --board layer-orin --config resnet50_b1_float32 --camera medium 2>"$T/err"; then exit 1; fi
grep -q "tight (1.5 x) or loose (2.5 x)" "$T/err"
echo "eval_layer: ok"
