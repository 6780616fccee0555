#!/usr/bin/env bash
# `flame profile --e2e` end to end on the live layer-level Orin Nano board, for runtimes without a
# profiler: the command is `flame sim infer`, which runs resnet50 b1 at the clocks the tree holds
# (the board's truth plus its noise) and prints one latency per line; lib/fake_governor.py makes
# cur_freq follow the pinned limits. Checks: the grid model is written where flamed loads it, bound
# to the board, and the real flamed serves it (begin with a deadline -> ok with clocks); its error
# against the board's noise-free truth is within 1.5x the error of `flame fit` on the same board
# at the same budget (both printed); a failing command, no output and garbage stop the run with a
# clear message, the tree restored byte for byte and no model written; usage errors change nothing;
# the trtexec wrapper turns trtexec's exported times into latency lines.
set -euo pipefail
: "${FLAME:?}" "${FLAMED:?}" "${FLAME_SOURCE_DIR:?}" "${FLAME_BUILD_DIR:?}"
FLAMED_LOG_LEVEL=info
source "$FLAME_SOURCE_DIR/tests/integration/lib/flamed_env.sh"  # T, ROOT (fake Orin), CFG, start/stop_flamed
LIBDIR="$FLAME_SOURCE_DIR/tests/integration/lib"
BOARD="$FLAME_SOURCE_DIR/config/boards/orin-nano-8gb-super.yaml"
CONFIG=resnet50_b1_float32
BUDGET=12
RUN="$T/run" MODELS="$T/models"  # flamed (below) uses the same two
# shellcheck source=lib/governor.sh
source "$LIBDIR/governor.sh"
trap 'stop_governor; cleanup' EXIT
start_governor "$ROOT"

e2e() {  # e2e WORKDIR NAME [flame profile options...] -- COMMAND...
  local work=$1 name=$2
  shift 2
  local opts=()
  while [[ $1 != -- ]]; do opts+=("$1"); shift; done
  shift
  "$FLAME" profile --e2e --model-name "$name" --sysfs-root "$ROOT" --runtime-dir "$RUN" --models-dir "$MODELS" \
    --config /nonexistent --board "$BOARD" --work-dir "$work" "${opts[@]}" -- "$@"
}
# The clock control files (everything but the readings the governor and the simulated board refresh:
# current clocks, rails, temperatures) are byte for byte as built, and no baseline is left.
restored() {
  diff -r --no-dereference -x scaling_cur_freq -x cpuinfo_cur_freq -x cur_freq -x target_freq -x in1_input \
    -x curr1_input -x temp -x '*.tmp.*' -x '*.gov' \
    "$T/root.orig" "$ROOT" || { echo "the tree was not restored" >&2; return 1; }
  [[ ! -e "$RUN/baseline.json" ]] || { echo "a baseline was left behind" >&2; return 1; }
}
INFER=("$FLAME" sim infer --board layer-orin --sysfs-root "$ROOT" --config "$CONFIG")

# --- usage errors: refused before anything is touched ---------------------------------------------------
rc=0
e2e "$T/bad" bad --ctx 128,512 -- "${INFER[@]}" >"$T/out" 2>"$T/err" || rc=$?
[[ $rc == 2 ]] && grep -q -- "--ctx and --prefill-ctx need the layer-wise path" "$T/err" || { cat "$T/err" >&2; exit 1; }
rc=0
"$FLAME" profile --model-name bad --warmup 2 --sysfs-root "$ROOT" --runtime-dir "$RUN" --config /nonexistent \
  --board "$BOARD" --work-dir "$T/bad" -- true >"$T/out" 2>"$T/err" || rc=$?
[[ $rc == 2 ]] && grep -q -- "--warmup is for --e2e" "$T/err" || { cat "$T/err" >&2; exit 1; }
rc=0
e2e "$T/bad" bad -- >"$T/out" 2>"$T/err" || rc=$?
[[ $rc == 2 ]] && grep -q "prints one latency (ms) per inference" "$T/err" || { cat "$T/err" >&2; exit 1; }
[[ ! -e "$T/bad" ]]
restored

# --- bad commands: a clear message naming the combination, clocks restored, no model --------------------
bad_command() {  # bad_command NAME EXPECTED-MESSAGE COMMAND...
  local name=$1 expect=$2 rc=0
  shift 2
  e2e "$T/w-$name" "$name" --budget "$BUDGET" -- "$@" >"$T/out-$name" 2>"$T/err-$name" || rc=$?
  [[ $rc == 1 ]] || { echo "$name: exit $rc" >&2; cat "$T/err-$name" >&2; exit 1; }
  grep -q "$expect" "$T/err-$name" || { echo "$name: expected '$expect'" >&2; cat "$T/err-$name" >&2; exit 1; }
  grep -q "the clocks are restored" "$T/err-$name"
  restored
  [[ ! -e "$MODELS/$name.yaml" ]] || { echo "$name: a model was written" >&2; exit 1; }
  echo "bad command ($name): $(grep -m1 'flame profile:' "$T/err-$name")"
}
# Fails at the third combination (the first two printed latencies).
bad_command failing "the command failed at step 3 of $BUDGET (CPU .*): exit status 4" \
  sh -c '[ "$FLAME_PROFILE_STEP" -lt 2 ] || exit 4; for i in 1 2 3 4 5; do echo 10; done'
bad_command silent "succeeded at step 1 of $BUDGET (CPU .*) but printed no latencies" true
bad_command garbage "the output of the command at step 1 of $BUDGET (CPU .*) cannot be used: line 2 'Segmentation fault'" \
  sh -c 'echo 12.5; echo "Segmentation fault"; echo 13'
bad_command nan "line 4 'nan': the latency is NaN" sh -c 'echo 1; echo 2; echo 3; echo nan'
bad_command negative "line 1 '-3': the latency is -3: a latency must be above 0 ms" sh -c 'echo -3'
bad_command warmup "printed 2 latencies at step 1 of $BUDGET .*all of them warm-up (--warmup 3)" sh -c 'echo 1; echo 2'

# Ctrl-C while the command runs: interrupted (130), restored, no model.
rm -f "$T/marker"
"$FLAME" profile --e2e --model-name interrupted --budget "$BUDGET" --sysfs-root "$ROOT" --runtime-dir "$RUN" \
  --models-dir "$MODELS" --config /nonexistent --board "$BOARD" --work-dir "$T/w-int" -- \
  sh -c "echo 5; touch '$T/marker'; sleep 30" >"$T/out-int" 2>"$T/err-int" &
pid=$!
for _ in $(seq 600); do [[ -e "$T/marker" ]] && break; sleep 0.05; done
[[ -e "$T/marker" && -e "$RUN/baseline.json" ]] || { echo "the command never ran" >&2; cat "$T/err-int" >&2; exit 1; }
kill -INT "$pid"
rc=0
wait "$pid" || rc=$?
[[ $rc == 130 ]] && grep -q "interrupted at step 1 of $BUDGET" "$T/err-int" || { echo "SIGINT: exit $rc" >&2; cat "$T/err-int" >&2; exit 1; }
restored
[[ ! -e "$MODELS/interrupted.yaml" ]]

# --- the good run: flame sim infer prints 8 latencies per combination, 3 of them warm-up ---------------
e2e "$T/w" r50e --budget "$BUDGET" --warmup 3 --json -- "${INFER[@]}" --count 8 \
  >"$T/report.json" 2>"$T/err" || { cat "$T/err" >&2; exit 1; }
restored
grep -q "clocks restored" "$T/err"
[[ -s "$MODELS/r50e.yaml" ]]
python3 - "$T/report.json" "$T/w/journal.jsonl" "$BUDGET" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
budget = int(sys.argv[3])
assert r["mode"] == "e2e" and r["profiled"] == budget and r["combinations"] == 528, r
m = r["models"][0]
assert m["name"] == "r50e" and m["kind"] == "grid" and m["warmup"] == 3, m
assert m["cross_validated"]["n"] == budget and m["power"] is not None, m
lines = [json.loads(l) for l in open(sys.argv[2])]
assert lines[0]["mode"] == "e2e" and lines[0]["warmup"] == 3, lines[0]
for s in lines[1:]:
    e = s["e2e"]
    assert e["warmup_dropped"] == 3 and len(e["latencies_ms"]) == 5, e
    assert s["power_window"] == "iterations" and s["power_samples"] >= 1 and s["power_mw"] > 0, s
print("e2e report: leave-one-out mean %.2f %%, power leave-one-out mean %.2f %%" %
      (m["cross_validated"]["mean_ape_pct"], m["power"]["cross_validated"]["mean_ape_pct"]))
PY
"$FLAME" model show "$MODELS/r50e.yaml" >"$T/show"
grep -q "model 'r50e' (kind grid, board orin-nano-8gb-super)" "$T/show" || { cat "$T/show" >&2; exit 1; }

# --- its error against the board's truth, beside the grid fit's at the same budget -----------------------
# Both on the board's grid as flame profile sees it (its description's EMC rates; the simulated board
# also has a 204 MHz level the description does not list), with all cores online; `flame fit` from
# the board's measured grid (one noisy measurement per point, FlexiBO format).
"$FLAME" sim layer --board layer-orin --config "$CONFIG" --truth "$T/truth-all.csv"
"$FLAME" sim layer --board layer-orin --config "$CONFIG" --out "$T/grid" >/dev/null
python3 "$LIBDIR/on_profiled_grid.py" "$T/w/journal.jsonl" "$T/truth-all.csv" "$T/truth.csv" \
  "$T/grid"/tx2_sampled_output_resnet50_b1.csv "$T/grid6.csv"
"$FLAME" model check "$MODELS/r50e.yaml" "$T/truth.csv" --json >"$T/check-e2e.json"
"$FLAME" fit "$T/grid6.csv" --budget "$BUDGET" --seed 1 --name r50g --board orin-nano-8gb-super -o "$T/r50g.yaml" 2>/dev/null
"$FLAME" model check "$T/r50g.yaml" "$T/truth.csv" --json >"$T/check-grid.json"
python3 - "$T/check-e2e.json" "$T/check-grid.json" "$BUDGET" <<'PY'
import json, sys
e2e = json.load(open(sys.argv[1]))["latency"]
grid = json.load(open(sys.argv[2]))["latency"]
print("latency error vs the truth at all %d combinations, budget %s: flame profile --e2e mean %.2f %% "
      "(p95 %.2f, max %.2f); flame fit mean %.2f %% (p95 %.2f, max %.2f)" %
      (e2e["n"], sys.argv[3], e2e["mean_ape_pct"], e2e["p95_ape_pct"], e2e["max_ape_pct"],
       grid["mean_ape_pct"], grid["p95_ape_pct"], grid["max_ape_pct"]))
assert e2e["n"] == grid["n"] == 528
assert e2e["mean_ape_pct"] <= 1.5 * grid["mean_ape_pct"], "e2e error above 1.5x the grid fit's"
PY

# --- the trtexec wrapper: exported per-query times become latency lines -----------------------------------
mkdir -p "$T/bin"
cat >"$T/bin/trtexec" <<'SH'
#!/bin/sh
# Stands in for trtexec: logs to stdout as trtexec does, writes the sample to --exportTimes=FILE.
for a in "$@"; do case $a in --exportTimes=*) cp "$SAMPLE" "${a#--exportTimes=}" ;; esac; done
echo "&&&& RUNNING TensorRT.trtexec [TensorRT v8601] # trtexec $*"
echo "[I] GPU Compute Time: min = 4.04 ms, max = 9.41 ms, mean = 5.12 ms, median = 4.05 ms"
SH
chmod +x "$T/bin/trtexec"
export SAMPLE="$FLAME_SOURCE_DIR/tests/data/trtexec/times.json"
PATH="$(dirname "$FLAME"):$PATH" FLAME_TRTEXEC="$T/bin/trtexec" \
  "$FLAME_SOURCE_DIR/clients/trtexec/flame-trtexec" --loadEngine=m.engine >"$T/trt.out" 2>"$T/trt.err"
[[ $(cat "$T/trt.out") == $'9.51001\n4.15674\n4.14355\n4.16211\n4.14746' ]] || { cat "$T/trt.out" "$T/trt.err" >&2; exit 1; }
grep -q "GPU Compute Time" "$T/trt.err"  # trtexec's log went to stderr
PATH="$(dirname "$FLAME"):$PATH" FLAME_TRTEXEC="$T/bin/trtexec" FLAME_TRTEXEC_METRIC=compute \
  "$FLAME_SOURCE_DIR/clients/trtexec/flame-trtexec" >"$T/trt.out" 2>/dev/null
[[ $(head -1 "$T/trt.out") == 9.4082 ]]
rc=0
"$FLAME" trace trtexec "$T/trt.err" >"$T/out" 2>"$T/err" || rc=$?
[[ $rc == 1 ]] && grep -q "not JSON" "$T/err" || { cat "$T/err" >&2; exit 1; }
rc=0
"$FLAME" trace trtexec --metric gpu "$SAMPLE" >"$T/out" 2>"$T/err" || rc=$?
[[ $rc == 2 ]] || { cat "$T/err" >&2; exit 1; }

# --- flamed loads the model and serves it: a begin with a deadline gets clocks -----------------------------
stop_governor
write_config
start_flamed
python3 "$LIBDIR/flamed_models.py" "$SOCK" r50e
python3 - "$SOCK" <<'PY'
import sys
from wire import Connection
req = Connection(sys.argv[1], 30).req
r = req(op="begin", id=1, model="r50e", deadline_ms=200)
assert r["ok"] and r["feasible"] and r["clocks"]["gpu_hz"] > 0, r
print("flamed: begin r50e 200 ms ->", r["clocks"], "predicted %.1f ms" % r["predicted_ms"])
assert req(op="end", id=1, latency_ms=r["predicted_ms"])["ok"]
PY
stop_flamed
echo "profile e2e: ok"
