#!/usr/bin/env bash
# `flame validate coupling` end to end: the real binary on the repository's copy of the H200 data
# and on the shared original, JSON shape and numbers, and a clear error on broken input.
set -euo pipefail
: "${FLAME:?}" "${FLAME_SOURCE_DIR:?}"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

data="$FLAME_SOURCE_DIR/data/h200-coupling/coupling.json"
"$FLAME" validate coupling "$data" >"$tmp/human.txt"
grep -q "timeline" "$tmp/human.txt"
grep -q "resnet50_b64_float32" "$tmp/human.txt"

"$FLAME" validate coupling "$data" --json >"$tmp/report.json"
python3 - "$tmp/report.json" "$data" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
d = json.load(open(sys.argv[2]))
n_sweeps = sum(len(x["sweeps"]) for x in d["results"])
assert len(r["cases"]) == n_sweeps, (len(r["cases"]), n_sweeps)
for c in r["cases"]:
    assert set(["tag", "slowdown", "measured_ns", "predicted_ns"]) <= set(c), c
for key in ("s_gt_1", "band"):
    assert set(["mean_ape_pct", "max_ape_pct", "n"]) <= set(r[key]), r[key]
assert set(r["baselines"]) == {"scaled_e2e", "max_of_sums", "sum_of_max"}
# Recompute our error from the cases: the summary must agree with the cases it summarises.
errs = [abs(c["predicted_ns"] - c["measured_ns"]) / c["measured_ns"] * 100 for c in r["cases"] if c["slowdown"] > 1]
assert abs(sum(errs) / len(errs) - r["s_gt_1"]["mean_ape_pct"]) < 1e-9
# The measured medians are the file's own.
meas = {(x["tag"], s["slowdown"]): s["e2e_median_ns"] for x in d["results"] for s in x["sweeps"]}
assert all(meas[(c["tag"], c["slowdown"])] == c["measured_ns"] for c in r["cases"])
assert r["s_gt_1"]["max_ape_pct"] <= 8.0, r["s_gt_1"]
# Leave-one-configuration-out and the steady split (docs/timeline-model.md).
for key in ("loco", "steady", "loco_steady"):
    assert set(["mean_ape_pct", "max_ape_pct", "n"]) <= set(r[key]["s_gt_1"]), r[key]
steady = [abs(c["predicted_ns"] - c["measured_ns"]) / c["measured_ns"] * 100 for c in r["cases"]
          if c["slowdown"] > 1 and c["steady"]]
assert len(steady) == r["steady"]["s_gt_1"]["n"] and abs(sum(steady) / len(steady) - r["steady"]["s_gt_1"]["mean_ape_pct"]) < 1e-9
for name, b in r["baselines"].items():
    assert r["band"]["mean_ape_pct"] < b["band"]["mean_ape_pct"], (name, b)
print("validate coupling: mean %.3f%% max %.2f%% band %.3f%%" % (
    r["s_gt_1"]["mean_ape_pct"], r["s_gt_1"]["max_ape_pct"], r["band"]["mean_ape_pct"]))
PY


# Broken input: truncated file -> non-zero exit and a message naming the file.
head -c 5000 "$data" >"$tmp/broken.json"
if "$FLAME" validate coupling "$tmp/broken.json" 2>"$tmp/err.txt"; then
  echo "expected failure on a truncated file" >&2
  exit 1
fi
grep -q "broken.json: not valid JSON" "$tmp/err.txt"
if "$FLAME" validate coupling "$tmp/missing.json" 2>"$tmp/err.txt"; then exit 1; fi
grep -q "cannot open" "$tmp/err.txt"
echo "ok"
