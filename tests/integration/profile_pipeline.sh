#!/usr/bin/env bash
# `flame profile` end to end on the live layer-level Orin Nano board. The command is the simulated
# application, `flame sim app --board layer-orin` (docs/simulator.md), which replays the H200
# configuration at the clocks the tree holds and writes its trace; lib/app_faults.sh adds the failures
# and logs what each run saw; lib/fake_governor.py makes cur_freq follow the pinned limits. Checks:
# every combination was pinned in the tree while the command ran and the power was sampled; the
# clocks are restored byte for byte on success, on a failing command, on a missing trace and on
# SIGINT; --resume runs only what is missing; the model file is written and the real flamed loads
# it; profiling is refused while flamed holds the controller lock; bad input changes nothing.
set -euo pipefail
: "${FLAME:?}" "${FLAMED:?}" "${FLAME_SOURCE_DIR:?}" "${FLAME_BUILD_DIR:?}"
FLAMED_LOG_LEVEL=info
source "$FLAME_SOURCE_DIR/tests/integration/lib/flamed_env.sh"  # T, ROOT (fake Orin), CFG, start/stop_flamed
LIBDIR="$FLAME_SOURCE_DIR/tests/integration/lib"
BOARD="$FLAME_SOURCE_DIR/config/boards/orin-nano-8gb-super.yaml"
APP_CONFIG=resnet18_b1_float32  # the configuration `flame sim app` runs (profile() below)
RUN="$T/run" MODELS="$T/models" WORK="$T/work"  # flamed (below) uses the same two
# shellcheck source=lib/governor.sh
source "$LIBDIR/governor.sh"
trap 'stop_governor; cleanup' EXIT
start_governor "$ROOT"

profile() {  # profile WORKDIR [flame profile options...] -- [app_faults.sh options...]
  local work=$1
  shift
  local opts=()
  while [[ $1 != -- ]]; do opts+=("$1"); shift; done
  shift
  local cmd=("$FLAME" profile --sysfs-root "$ROOT" --runtime-dir "$RUN" --models-dir "$MODELS"
    --config /nonexistent --board "$BOARD" --work-dir "$work" "${opts[@]}" --
    "$LIBDIR/app_faults.sh" "$@" -- "$FLAME" sim app --board layer-orin --sysfs-root "$ROOT" --config "$APP_CONFIG"
    --iterations 3 --json)
  # In the background (PROFILE_EXEC=1 profile ... &) flame replaces the subshell, so $! is flame's pid.
  if [[ ${PROFILE_EXEC:-} == 1 ]]; then exec "${cmd[@]}"; else "${cmd[@]}"; fi
}
# The clock control files (and everything else but the readings the governor and the simulated board
# refresh: current clocks, rails, temperatures) are as built.
restored() {
  diff -r --no-dereference -x scaling_cur_freq -x cpuinfo_cur_freq -x cur_freq -x target_freq -x in1_input \
    -x curr1_input -x temp -x '*.tmp.*' -x '*.gov' \
    "$T/root.orig" "$ROOT" || { echo "the tree was not restored" >&2; return 1; }
  [[ ! -e "$RUN/baseline.json" ]] || { echo "a baseline was left behind" >&2; return 1; }
}
steps_in() { echo $(($(wc -l <"$1/journal.jsonl") - 1)); }

# --- bad input: refused before anything is touched -------------------------------------------------
rc=0
profile "$T/bad" --model-name r18 --budget 3 -- >"$T/out" 2>"$T/err" || rc=$?
[[ $rc == 2 ]] && grep -q "needs at least 4" "$T/err" || { cat "$T/err" >&2; exit 1; }
rc=0
profile "$T/bad" --model-name 'bad name' -- >"$T/out" 2>"$T/err" || rc=$?
[[ $rc == 2 ]] && grep -q "model-name" "$T/err" || { cat "$T/err" >&2; exit 1; }
rc=0
"$FLAME" profile --model-name r18 --sysfs-root "$ROOT" --runtime-dir "$RUN" --config /nonexistent \
  --work-dir "$T/bad" >"$T/out" 2>"$T/err" || rc=$?
[[ $rc == 2 ]] && grep -q "no command" "$T/err" || { cat "$T/err" >&2; exit 1; }
[[ ! -e "$T/bad" ]]
restored
# --plan prints the combinations without touching the board
"$FLAME" profile --plan --model-name r18 --budget 6 --sysfs-root "$ROOT" --board "$BOARD" --config /nonexistent \
  >"$T/plan" 2>"$T/plan.err"
[[ $(wc -l <"$T/plan") == 6 ]]
grep -q "22 CPU x 8 GPU x 3 EMC clocks = 528 combinations; profiling 6 of them" "$T/plan.err"
# --board auto (the default) picks the shipped description by the tree's device-tree compatible and
# says why.
"$FLAME" profile --plan --model-name r18 --budget 6 --sysfs-root "$ROOT" --config /nonexistent \
  >"$T/plan" 2>"$T/plan.err"
grep -q "^note: board description: orin-nano-8gb-super: device-tree compatible 'nvidia,p3768-0000+p3767-0005-super'" \
  "$T/plan.err" || { cat "$T/plan.err" >&2; exit 1; }
grep -q "^board orin-nano-8gb-super: 22 CPU x 8 GPU x 3 EMC clocks" "$T/plan.err"

# --- a failing command at the third combination -----------------------------------------------------
rc=0
profile "$WORK" --model-name r18 --budget 6 -- --log "$T/log" --fail-at 2 \
  >"$T/out" 2>"$T/err" || rc=$?
[[ $rc == 1 ]] || { echo "failing command: exit $rc" >&2; cat "$T/err" >&2; exit 1; }
grep -q "the command failed at step 3 of 6" "$T/err"
grep -q "exit status 3" "$T/err"
grep -q "the clocks are restored" "$T/err"
restored
[[ $(steps_in "$WORK") == 2 ]]
# Without --resume an existing journal is never overwritten.
rc=0
profile "$WORK" --model-name r18 --budget 6 -- >"$T/out" 2>"$T/err" || rc=$?
[[ $rc == 2 ]] && grep -q -- "--resume" "$T/err" || { cat "$T/err" >&2; exit 1; }
# --resume with other arguments is refused, naming the difference.
rc=0
profile "$WORK" --model-name r18 --budget 7 --resume -- >"$T/out" 2>"$T/err" ||
  rc=$?
[[ $rc == 2 ]] && grep -q "the budget (6 there, 7 now)" "$T/err" || { cat "$T/err" >&2; exit 1; }

# --- a missing trace at the fourth ----------------------------------------------------------------------
rc=0
profile "$T/w2" --model-name r18 --budget 6 -- --no-trace-at 3 \
  >"$T/out" 2>"$T/err" || rc=$?
[[ $rc == 1 ]] && grep -q "wrote no trace at .*step-003.json.gz" "$T/err" || { cat "$T/err" >&2; exit 1; }
restored
[[ $(steps_in "$T/w2") == 3 ]]

# --- SIGINT while the command runs at the fourth combination, then --resume -------------------------
rm -f "$T/marker"
PROFILE_EXEC=1 profile "$T/w3" --model-name r18 --budget 6 -- \
  --log "$T/log3" --hang-at 3 --marker "$T/marker" >"$T/out3" 2>"$T/err3" &
pid=$!
for _ in $(seq 600); do [[ -e "$T/marker" ]] && break; sleep 0.05; done
[[ -e "$T/marker" ]] || { echo "the application never reached step 3" >&2; cat "$T/err3" >&2; exit 1; }
[[ -e "$RUN/baseline.json" ]]  # clocks are pinned right now
kill -INT "$pid"
rc=0
wait "$pid" || rc=$?
[[ $rc == 130 ]] || { echo "SIGINT: exit $rc" >&2; cat "$T/err3" >&2; exit 1; }
grep -q "interrupted at step 4 of 6" "$T/err3"
restored
[[ $(steps_in "$T/w3") == 3 ]]
# Resume with the same command line: app_faults.sh hangs only while its marker does not exist, so
# this time step 3 completes; only the three missing combinations run.
: >"$T/log3"
profile "$T/w3" --model-name r18 --budget 6 --resume -- --log "$T/log3" \
  --hang-at 3 --marker "$T/marker" >"$T/out3" 2>"$T/err3" || { cat "$T/err3" >&2; exit 1; }
grep -q "resuming: 3 of 6" "$T/err3"
[[ $(wc -l <"$T/log3") == 3 ]]
[[ $(steps_in "$T/w3") == 6 ]]
restored
# The run that failed at step 3 fails there again when resumed (its command has not changed).
rc=0
profile "$WORK" --model-name r18 --budget 6 --resume -- --log "$T/log" \
  --fail-at 2 >"$T/out" 2>"$T/err" || rc=$?
[[ $rc == 1 ]] && grep -q "resuming: 2 of 6" "$T/err" && grep -q "failed at step 3 of 6" "$T/err" ||
  { cat "$T/err" >&2; exit 1; }
restored

# --- a clean run, resumed after a crash mid-way --------------------------------------------------------
profile "$T/w4" --model-name r18 --budget 6 -- --log "$T/log4" \
  >"$T/out4" 2>"$T/err4" || { cat "$T/err4" >&2; exit 1; }
restored
# Truncate to the header and two steps plus a torn line (a crash while writing the third), resume.
keep=$(($(head -3 "$T/w4/journal.jsonl" | wc -c) + 100))  # (no "| head -c": SIGPIPE under pipefail)
head -c "$keep" "$T/w4/journal.jsonl" >"$T/j"
cp "$T/j" "$T/w4/journal.jsonl"
: >"$T/log4"
profile "$T/w4" --model-name r18 --budget 6 --resume -- --log "$T/log4" \
  >"$T/out4" 2>"$T/err4" || { cat "$T/err4" >&2; exit 1; }
grep -q "dropped a torn last line" "$T/err4"
grep -q "resuming: 2 of 6" "$T/err4"
restored
[[ $(steps_in "$T/w4") == 6 ]]
[[ $(wc -l <"$T/log4") == 4 ]]  # only the four missing combinations ran
grep -q "clocks restored" "$T/err4"
grep -Eq "ETA .*exhaustive: 528 combinations" "$T/err4"
grep -q "leave-one-out" "$T/out4"
[[ -s "$MODELS/r18.yaml" ]]
"$FLAME" model show "$MODELS/r18.yaml" >"$T/show"  # (not piped into grep -q: SIGPIPE under pipefail)
grep -q "model 'r18' (kind layerwise, board orin-nano-8gb-super)" "$T/show"
"$FLAME" trace summarize "$T/w4/traces/step-005.json.gz" >"$T/summary"
grep -q "layer4.1.relu" "$T/summary"

# What each run saw: the simulated application read the journal's clocks from the tree, every
# combination was different, power was sampled at the value the board put on VDD_IN.
python3 "$LIBDIR/check_profile_journal.py" "$T/w4/journal.jsonl" "$T/log4" "$T/out4"
# --json: the final report as one JSON object (here of the finished run: nothing left to profile,
# nothing run, so the same arguments and log).
profile "$T/w4" --model-name r18 --budget 6 --resume --json -- --log "$T/log4" \
  >"$T/out4.json" 2>"$T/err4json" || { cat "$T/err4json" >&2; exit 1; }
python3 - "$T/out4.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
assert r["profiled"] == 6 and r["combinations"] == 528, r
m = r["models"][0]
assert m["name"] == "r18" and m["segments"] > 0 and m["cross_validated"]["n"] > 0, m
PY
restored

# --- An SLM: both phases and every context length in one model file -----------------------------------
# The runner replaces {phase} in the command; the application replaces {ctx} from FLAME_PROFILE_CTX.
rc=0
APP_CONFIG='qwen2-0.5b_{phase}_ctx{ctx}_bfloat16' profile "$T/w5" --model-name qwen --ctx 128 \
  --prefill-ctx 32,256,2048 -- >"$T/out5" 2>"$T/err5" || rc=$?
[[ $rc == 2 ]] && grep -q -- "--ctx: the decode model {1, ctx} needs at least 2 context lengths" "$T/err5" \
  || { echo "one decode context: exit $rc" >&2; cat "$T/err5" >&2; exit 1; }
[[ ! -e "$T/w5" ]]
APP_CONFIG='qwen2-0.5b_{phase}_ctx{ctx}_bfloat16' profile "$T/w5" --model-name qwen --ctx 128,1024 \
  --prefill-ctx 32,256,2048 -- >"$T/out5" 2>"$T/err5" || { cat "$T/err5" >&2; exit 1; }
restored
[[ -s "$MODELS/qwen.yaml" ]] && grep -q "^kind: slm" "$MODELS/qwen.yaml"
grep -q "profiling 16 of them over 5 context lengths of 2 phase(s) (16 traces)" "$T/err5"
grep -q "qwen: decode .* segments at contexts 128, 1024 (served 1 to 2048); prefill .* at contexts 32, 256, 2048" "$T/out5" \
  || { cat "$T/out5" >&2; exit 1; }
[[ $(ls "$T/w5/traces" | grep -c -- "-prefill-ctx") -ge 8 ]]
"$FLAME" model show "$MODELS/qwen.yaml" | grep -q "decode: .* segments, profiled at contexts 128, 1024, served 1 to 2048"
"$FLAME" model show --json "$MODELS/qwen.yaml" | python3 -c '
import json, sys; j = json.load(sys.stdin)
assert j["kind"] == "slm" and [p["phase"] for p in j["phases"]] == ["decode", "prefill"], j
assert j["phases"][1]["contexts"] == [32, 256, 2048] and j["phases"][1]["max_context"] == 4096, j'
# flame predict plans at a phase and context like flamed; without them it is refused.
short=$("$FLAME" predict "$MODELS/qwen.yaml" --cpu-khz 1728000 --gpu-hz 1020000000 --emc-hz 3199000000 --ctx 64 --phase prefill --json)
long=$("$FLAME" predict "$MODELS/qwen.yaml" --cpu-khz 1728000 --gpu-hz 1020000000 --emc-hz 3199000000 --ctx 2048 --phase prefill --json)
python3 -c 'import json, sys; a, b = (json.loads(x)["latency_ms"] for x in sys.argv[1:]); assert b > a, (a, b)' "$short" "$long"
! "$FLAME" predict "$MODELS/qwen.yaml" --cpu-khz 1728000 --gpu-hz 1020000000 --emc-hz 3199000000 2>/dev/null

# --- flamed loads the models; profiling is refused while it holds the controller lock -----------------
stop_governor
write_config
start_flamed
python3 "$LIBDIR/flamed_models.py" "$SOCK" r18 qwen
# The SLM is planned at each request's phase and context, and refused outside what it serves.
python3 - "$SOCK" <<'PY'
import sys
from wire import Connection
req = Connection(sys.argv[1]).req
assert req(op="hello", proto=1, app="slm")["ok"]
a = req(op="begin", id=1, model="qwen", deadline_ms=2000, phase="decode", ctx=200)
b = req(op="begin", id=2, model="qwen", deadline_ms=2000, phase="decode", ctx=2000)
assert a["ok"] and b["ok"], (a, b)
r = req(op="begin", id=3, model="qwen", deadline_ms=2000, phase="decode", ctx=5000)
assert not r["ok"] and "outside what the model serves: 1 to 2048" in r["error"], r
r = req(op="begin", id=4, model="qwen", deadline_ms=2000)
assert not r["ok"] and "needs" in r["error"], r
print("flamed plans the SLM per phase and context")
PY
rc=0
profile "$T/w6" --model-name r18b --budget 6 -- >"$T/out6" 2>"$T/err6" || rc=$?
[[ $rc == 3 ]] || { echo "lock held: exit $rc" >&2; cat "$T/err6" >&2; exit 1; }
grep -q "flamed" "$T/err6" && grep -q "stop it" "$T/err6"
[[ ! -e "$T/w6" ]]  # nothing written: a later run needs no --resume
stop_flamed
echo "profile pipeline: ok"
