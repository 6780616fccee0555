#!/usr/bin/env bash
# `flame validate features` end to end: leave-one-configuration-out on both runs of the H200 data,
# JSON shape and consistency with the file, missing MACs reported, clear errors on unusable input.
set -euo pipefail
: "${FLAME:?}" "${FLAME_SOURCE_DIR:?}"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

run2="$FLAME_SOURCE_DIR/data/h200-coupling/run2/coupling.json"
run1="$FLAME_SOURCE_DIR/data/h200-coupling/coupling.json"

"$FLAME" validate features "$run2" >"$tmp/human.txt"
grep -q "qwen2-0.5b_prefill_ctx2048_bfloat16" "$tmp/human.txt"
if grep -q "has no \"macs\"" "$tmp/human.txt"; then exit 1; fi
"$FLAME" validate features "$run1" >"$tmp/human1.txt"
grep -q "this file has no \"macs\"; calls are predicted from activation and parameter bytes only" "$tmp/human1.txt"

"$FLAME" validate features "$run2" --json >"$tmp/run2.json"
"$FLAME" validate features "$run1" --json >"$tmp/run1.json"
python3 - "$tmp/run2.json" "$run2" "$tmp/run1.json" "$run1" <<'PY'
import json, sys

def ape(p, m):
    return abs(p - m) / m * 100

def check(report_path, data_path, has_macs):
    r = json.load(open(report_path))
    d = json.load(open(data_path))
    assert r["has_macs"] == has_macs
    assert ("macs" in r["features"]) == has_macs
    assert [c["tag"] for c in r["cases"]] == [x["tag"] for x in d["results"]]
    for c, x in zip(r["cases"], d["results"]):
        segs = x["segments"]
        assert abs(c["gpu_measured_ns"] - sum(s["gpu_ns"] for s in segs)) < 1e-6
        assert abs(c["call_measured_ns"] - sum(s["gpu_ns"] for s in segs if s["kind"] == "call")) < 1e-6
        assert abs(c["call_held_out_ns"] + c["glue_held_out_ns"] - c["gpu_held_out_ns"]) < 1e-6 * c["gpu_held_out_ns"]
        assert c["e2e_measured_ns"] == x["sweeps"][0]["e2e_median_ns"]
        assert 0 <= c["fallback_segments"] <= len(segs)
    # Summaries recomputed from the cases, overall and per model.
    def summary(cases):
        return {
            "gpu_total_held_out": [ape(c["gpu_held_out_ns"], c["gpu_measured_ns"]) for c in cases],
            "gpu_total_in_sample": [ape(c["gpu_in_sample_ns"], c["gpu_measured_ns"]) for c in cases],
            "weighted_held_out": [c["weighted_held_out_ape_pct"] for c in cases],
            "weighted_in_sample": [c["weighted_in_sample_ape_pct"] for c in cases],
            "e2e_held_out": [ape(c["e2e_held_out_ns"], c["e2e_measured_ns"]) for c in cases],
            "e2e_profiled": [ape(c["e2e_profiled_ns"], c["e2e_measured_ns"]) for c in cases],
        }
    groups = {"summary": r["cases"]}
    for c in r["cases"]:
        groups.setdefault(c["model"], []).append(c)
    assert set(r["by_model"]) == set(groups) - {"summary"}
    for name, cases in groups.items():
        got = r["summary"] if name == "summary" else r["by_model"][name]
        for key, vals in summary(cases).items():
            assert got[key]["n"] == len(vals)
            assert abs(got[key]["mean_ape_pct"] - sum(vals) / len(vals)) < 1e-9, (name, key)
            assert abs(got[key]["max_ape_pct"] - max(vals)) < 1e-9, (name, key)
    # Fitting on the configuration itself is at least as good on average as holding it out.
    s = r["summary"]
    assert s["weighted_in_sample"]["mean_ape_pct"] <= s["weighted_held_out"]["mean_ape_pct"]
    return r

r2 = check(sys.argv[1], sys.argv[2], True)
r1 = check(sys.argv[3], sys.argv[4], False)
for name, r in (("run 2", r2), ("run 1", r1)):
    s = r["summary"]
    print("validate features %s: held-out total %.2f%% (in-sample %.2f%%), weighted %.2f%% (%.2f%%), e2e %.2f%%" % (
        name, s["gpu_total_held_out"]["mean_ape_pct"], s["gpu_total_in_sample"]["mean_ape_pct"],
        s["weighted_held_out"]["mean_ape_pct"], s["weighted_in_sample"]["mean_ape_pct"],
        s["e2e_held_out"]["mean_ape_pct"]))
# With MACs, the SLM generalises across contexts within a few percent.
assert r2["by_model"]["qwen2-0.5b"]["gpu_total_held_out"]["mean_ape_pct"] < 3.0
PY

# One configuration cannot be left out; broken input names the file.
python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
json.dump(dict(d, results=d["results"][:1]), open(sys.argv[2], "w"))' "$run2" "$tmp/one.json"
if "$FLAME" validate features "$tmp/one.json" 2>"$tmp/err.txt"; then exit 1; fi
grep -q "leave-one-out needs at least two configurations" "$tmp/err.txt"
head -c 3000 "$run2" >"$tmp/broken.json"
if "$FLAME" validate features "$tmp/broken.json" 2>"$tmp/err.txt"; then exit 1; fi
grep -q "broken.json: not valid JSON" "$tmp/err.txt"
echo "ok"
