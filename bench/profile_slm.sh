#!/usr/bin/env bash
# The measurement behind docs/profiling.md: `flame profile` of an SLM (the Qwen2-0.5B decode traces
# of the H200 traces in tests/data/h200-coupling, run 2, 8 context lengths) on a simulated Orin Nano Super (fake sysfs tree,
# the stand-in board of tests/integration/lib/profile_standin.py), then every fitted model against
# the stand-in's noise-free truth at all 528 clock combinations (`flame model check`).
# Usage: bench/profile_slm.sh BUILD_DIR [BUDGET]   (prints a table; takes a few minutes)
set -euo pipefail
BUILD=${1:?build dir}
BUDGET=${2:-12}
SRC=$(cd "$(dirname "$0")/.." && pwd)
FLAME="$BUILD/tools/flame"
LIB="$SRC/tests/integration/lib"
TRACES="$SRC/tests/data/h200-coupling/run2/traces"
BOARD="$SRC/config/boards/orin-nano-8gb-super.yaml"
MAXIMA=1728000,1020000000,3199000000
CTX=128,256,512,1024,2048,4096,8192,16384
T=$(mktemp -d /tmp/flame-profile-slm.XXXXXX)
trap 'touch "$T/gov.stop"; wait; rm -rf "$T"' EXIT
"$FLAME" sim tree --profile orin-nano-jp6 --out "$T/root" >/dev/null
python3 "$LIB/fake_governor.py" "$T/root" "$T/gov.ready" "$T/gov.stop" &
for _ in $(seq 200); do [[ -e "$T/gov.ready" ]] && break; sleep 0.05; done
start=$(date +%s.%N)
"$FLAME" profile --model-name qwen-decode --budget "$BUDGET" --ctx "$CTX" --sysfs-root "$T/root" \
  --runtime-dir "$T/run" --config /nonexistent --board "$BOARD" --work-dir "$T/work" --out "$T/models" -- \
  python3 "$LIB/profile_standin.py" --base-dir "$TRACES" --trace 'qwen2-0.5b_decode_ctx{ctx}_bfloat16.json.gz' \
  --max "$MAXIMA" --run-s 0 2>"$T/err" | tee "$T/out"
end=$(date +%s.%N)
echo "wall time of flame profile with the stand-in: $(python3 -c "print(round($end - $start, 1))") s"
# The grid, for the truth sweep.
python3 - "$T/work/journal.jsonl" >"$T/grid" <<'PY'
import json, sys
g = json.loads(open(sys.argv[1]).readline())["grid"]
print(" ".join(",".join(f"{v:.0f}" for v in g[k]) for k in ("cpu_khz", "gpu_hz", "emc_hz")))
PY
read -r cpus gpus emcs <"$T/grid"
python3 "$LIB/profile_standin.py" --base-dir "$TRACES" --trace 'qwen2-0.5b_decode_ctx{ctx}_bfloat16.json.gz' \
  --max "$MAXIMA" --truth "$cpus" "$gpus" "$emcs" --ctx "$CTX" --truth-out "$T/truth-ctx{ctx}.csv"
# Latency on the simulated Jetson: the time the 8 traces of one combination represent (warm-up and
# profiled iterations are the command's business; here: 3 profiled iterations per context).
python3 - "$T/work/journal.jsonl" "$T" "$CTX" <<'PY'
import csv, json, sys
lines = [json.loads(l) for l in open(sys.argv[1])]
steps, ctxs = lines[1:], [int(c) for c in sys.argv[3].split(",")]
prof = sum(w["e2e_ns"] for s in steps for w in s["workloads"]) / 1e9
full = sum(float(r["latency_ms"]) / 1e3 for c in ctxs for r in csv.DictReader(open(f"{sys.argv[2]}/truth-ctx{c}.csv")))
print(f"inference time per profiled iteration, summed: profiled combinations {prof:.2f} s, all 528: {full:.2f} s")
PY
for c in ${CTX//,/ }; do
  "$FLAME" model check "$T/models/qwen-decode-ctx$c.yaml" "$T/truth-ctx$c.csv"
done
