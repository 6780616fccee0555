#!/usr/bin/env bash
# `flame trace summarize` on the real H200 traces: total_gpu_ns must equal the per-iteration GPU
# time (median over iterations) that an independent Python stdlib reading of the same trace
# finds, within 0.1 %; the table form must run; broken files must fail with a clear message.
set -euo pipefail
: "${FLAME:?path of the flame binary}" "${FLAME_SOURCE_DIR:?}"
DATA="$FLAME_SOURCE_DIR/tests/data/h200-coupling"
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

traces=("$DATA"/traces/*.json.gz "$DATA"/run2/traces/resnet50_b64_float32.json.gz
  "$DATA"/run2/traces/qwen2-0.5b_prefill_ctx2048_bfloat16.json.gz)
for i in "${!traces[@]}"; do
  "$FLAME" trace summarize --json "${traces[$i]}" >"$TMP/$i.out.json"
done

python3 - "$TMP" "${traces[@]}" <<'PY'
import gzip, json, os, statistics, sys

tmp, traces = sys.argv[1], sys.argv[2:]
GPU = ("kernel", "gpu_memcpy", "gpu_memset")
worst = 0.0
for i, path in enumerate(traces):
    with gzip.open(path, "rt") as f:
        events = json.load(f)["traceEvents"]
    iters = sorted(((e["ts"], e["ts"] + e["dur"]) for e in events
                    if e.get("ph") == "X" and e.get("cat") == "user_annotation"
                    and e.get("name", "").startswith("iter")))
    launch_ts = {e["args"]["correlation"]: e["ts"] for e in events
                 if e.get("cat") in ("cuda_runtime", "cuda_driver") and "correlation" in e.get("args", {})}
    per_iter = [0.0] * len(iters)
    for e in events:
        if e.get("cat") not in GPU:
            continue
        t = launch_ts.get(e["args"]["correlation"])
        for k, (a, b) in enumerate(iters):
            if t is not None and a <= t <= b:
                per_iter[k] += e["dur"] * 1000.0  # us -> ns
                break
    expected_gpu = statistics.median(per_iter)
    expected_cpu = statistics.median([(b - a) * 1000.0 for a, b in iters])
    with open(os.path.join(tmp, f"{i}.out.json")) as f:
        out = json.load(f)
    name = path
    rel = abs(out["total_gpu_ns"] - expected_gpu) / expected_gpu
    worst = max(worst, rel)
    assert out["iterations"] == len(iters) == 3, (name, out["iterations"], len(iters))
    assert rel <= 1e-3, f"{name}: total_gpu_ns {out['total_gpu_ns']} vs {expected_gpu:.1f} ({rel:.2e})"
    assert abs(out["total_cpu_ns"] - expected_cpu) <= 1e-3 * expected_cpu, (name, out["total_cpu_ns"], expected_cpu)
    segs = out["segments"]
    assert len(segs) % 2 == 1 and all(s["kind"] == ("call" if i % 2 else "glue") for i, s in enumerate(segs)), name
    assert [s["index"] for s in segs] == list(range(len(segs))), name
    for key in ("name", "type", "cpu_ns", "gpu_ns", "n_kernels"):
        assert all(key in s for s in segs), (name, key)
    assert out["kernels_unattributed"] == 0, name
print(f"trace_summarize: {len(traces)} traces, worst total_gpu_ns deviation {worst:.2e} (limit 1e-3)")
PY

# Human table: one row per segment plus header and totals.
table=$("$FLAME" trace summarize "$DATA/traces/resnet18_b1_float32.json.gz")
grep -q "CPU us" <<<"$table"
grep -q "^ *1  call  conv1 " <<<"$table"
grep -q "total per iteration (median over 3)" <<<"$table"

# Broken inputs: non-zero exit, the file named, the problem said, no crash.
expect_error() {  # file pattern
  local rc=0
  "$FLAME" trace summarize "$1" >"$TMP/out" 2>"$TMP/err" || rc=$?
  if [[ $rc -ne 1 ]] || ! grep -q "$(basename "$1")" "$TMP/err" || ! grep -qi "$2" "$TMP/err"; then
    echo "FAIL: $1 -> exit $rc, stderr: $(cat "$TMP/err")" >&2
    exit 1
  fi
}
src="$DATA/traces/resnet18_b1_float32.json.gz"
head -c 30000 "$src" >"$TMP/truncated.json.gz"
expect_error "$TMP/truncated.json.gz" "truncated gzip"
gzip -dc "$src" >"$TMP/full.json"
head -c 300000 "$TMP/full.json" >"$TMP/truncated.json"
expect_error "$TMP/truncated.json" "truncated JSON"
echo '{"schemaVersion": 1}' >"$TMP/empty-trace.json"
expect_error "$TMP/empty-trace.json" "traceEvents"
expect_error "$TMP/missing.json" "cannot open"
echo "trace_summarize: ok"
