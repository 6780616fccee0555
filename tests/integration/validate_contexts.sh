#!/usr/bin/env bash
# `flame validate contexts` end to end: the real binary on both runs of the H200 qwen2-0.5b data,
# JSON shape and consistency with the file, and clear errors on unusable input.
set -euo pipefail
: "${FLAME:?}" "${FLAME_SOURCE_DIR:?}"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

run2="$FLAME_SOURCE_DIR/data/h200-coupling/run2/coupling.json"
run1="$FLAME_SOURCE_DIR/data/h200-coupling/coupling.json"

"$FLAME" validate contexts "$run2" >"$tmp/human.txt"
grep -q "qwen2-0.5b decode: basis {1, ctx}, fit from ctx 128/1024/16384" "$tmp/human.txt"
grep -q "qwen2-0.5b prefill: basis {1, ctx, ctx^2}, fit from ctx 32/256/2048" "$tmp/human.txt"
grep -q "held out (5)" "$tmp/human.txt"

"$FLAME" validate contexts "$run2" --json >"$tmp/run2.json"
"$FLAME" validate contexts "$run1" --json >"$tmp/run1.json"
python3 - "$tmp/run2.json" "$run2" "$tmp/run1.json" "$run1" <<'PY'
import json, sys

def ape(p, m):
    return abs(p - m) / m * 100

def check(report_path, data_path, expect_fit):
    r = json.load(open(report_path))
    d = json.load(open(data_path))
    assert r["fit"] == 3
    by_tag = {x["tag"]: x for x in d["results"]}
    phases = {}
    for x in d["results"]:
        if x["config"].get("mode"):
            phases.setdefault(x["config"]["mode"], []).append(x["config"]["ctx"])
    assert [s["phase"] for s in r["series"]] == list(phases), r["series"]
    for s in r["series"]:
        ctxs = sorted(phases[s["phase"]])
        assert [c["ctx"] for c in s["cases"]] == ctxs
        assert s["fit_contexts"] == expect_fit[s["phase"]], s["fit_contexts"]
        assert s["held_out_contexts"] == [c for c in ctxs if c not in s["fit_contexts"]]
        assert s["basis"] == (["1", "ctx"] if s["phase"] == "decode" else ["1", "ctx", "ctx^2"])
        assert set(s["costs"]) == {"host_offset_ns", "gpu_scale", "sync_latency_ns"}
        for c in s["cases"]:
            assert c["fit"] == (c["ctx"] in s["fit_contexts"])
            x = by_tag[c["tag"]]
            # Measured quantities are the file's own.
            assert abs(c["gpu_measured_ns"] - sum(seg["gpu_ns"] for seg in x["segments"])) < 1e-6
            assert abs(c["cpu_measured_ns"] - sum(x["sweeps"][0]["cpu_seg_ns"][:-1])) < 1e-6
            assert c["e2e_measured_ns"] == x["sweeps"][0]["e2e_median_ns"]
            assert 0 <= c["gpu_median_ape_pct"] and 0 <= c["gpu_weighted_ape_pct"]
        # The held-out summaries are recomputed from the cases they summarise.
        held = [c for c in s["cases"] if not c["fit"]]
        pairs = {
            "gpu_weighted_ape_pct": [c["gpu_weighted_ape_pct"] for c in held],
            "gpu_total_ape_pct": [ape(c["gpu_predicted_ns"], c["gpu_measured_ns"]) for c in held],
            "e2e_ape_pct": [ape(c["e2e_predicted_ns"], c["e2e_measured_ns"]) for c in held],
            "e2e_measured_spans_ape_pct": [ape(c["e2e_measured_spans_ns"], c["e2e_measured_ns"]) for c in held],
            "e2e_measured_host_ape_pct": [ape(c["e2e_measured_host_ns"], c["e2e_measured_ns"]) for c in held],
        }
        for key, vals in pairs.items():
            st = s["held_out"][key]
            assert st["n"] == len(vals), (key, st)
            if vals:
                assert abs(st["mean_ape_pct"] - sum(vals) / len(vals)) < 1e-9, (key, st)
                assert abs(st["max_ape_pct"] - max(vals)) < 1e-9, (key, st)
        # The context model controls the GPU side: with the measured host side the error is small.
        if held:
            assert s["held_out"]["e2e_measured_host_ape_pct"]["max_ape_pct"] < 1.0, s["held_out"]
            assert s["held_out"]["gpu_total_ape_pct"]["max_ape_pct"] < 3.0, s["held_out"]
    return r

r2 = check(sys.argv[1], sys.argv[2], {"decode": [128, 1024, 16384], "prefill": [32, 256, 2048]})
r1 = check(sys.argv[3], sys.argv[4], {"decode": [128, 1024, 16384], "prefill": [32, 256, 1024]})
assert r1["series"][1]["held_out"]["gpu_weighted_ape_pct"]["n"] == 0  # run 1 prefill: nothing held out
for s in r2["series"]:
    h = s["held_out"]
    print("validate contexts run 2 %s: GPU w %.2f%% total %.2f%% e2e %.2f%% host %.3f%%" % (
        s["phase"], h["gpu_weighted_ape_pct"]["mean_ape_pct"], h["gpu_total_ape_pct"]["mean_ape_pct"],
        h["e2e_ape_pct"]["mean_ape_pct"], h["e2e_measured_host_ape_pct"]["mean_ape_pct"]))
PY

# --fit 4 uses four contexts per phase.
"$FLAME" validate contexts "$run2" --fit 4 --json | python3 -c '
import json, sys
r = json.load(sys.stdin)
assert [s["fit_contexts"] for s in r["series"]] == [[128, 512, 4096, 16384], [32, 128, 512, 2048]], r'

# Too few contexts for the prefill basis: refused with the reason; one phase at a time works.
if "$FLAME" validate contexts "$run1" --fit 2 2>"$tmp/err.txt"; then exit 1; fi
grep -q "prefill: fitting {1, ctx, ctx^2} needs at least 3 contexts, --fit asks for 2" "$tmp/err.txt"
"$FLAME" validate contexts "$run1" --fit 2 --phase decode --json >/dev/null

# No SLM configuration at all, and a series whose segments differ: named errors.
python3 - "$run2" "$tmp" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
cnn = dict(d, results=[x for x in d["results"] if not x["config"].get("mode")])
json.dump(cnn, open(sys.argv[2] + "/cnn.json", "w"))
q = [x for x in d["results"] if x["config"].get("mode") == "decode"][2]
q["segments"][7]["name"] = "model.layers.0.self_attn.renamed"
json.dump(d, open(sys.argv[2] + "/mismatch.json", "w"))
PY
if "$FLAME" validate contexts "$tmp/cnn.json" 2>"$tmp/err.txt"; then exit 1; fi
grep -q "no configuration with a context length" "$tmp/err.txt"
if "$FLAME" validate contexts "$tmp/mismatch.json" 2>"$tmp/err.txt"; then exit 1; fi
grep -q "qwen2-0.5b_decode_ctx512_bfloat16: segment 7 is call model.layers.0.self_attn.renamed" "$tmp/err.txt"

echo "ok"
