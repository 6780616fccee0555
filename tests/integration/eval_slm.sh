#!/usr/bin/env bash
# An SLM chat on the live layer Orin (docs/evaluation.md, "SLM chat on the live layer boards"): the
# shipped slm-chat-live file regenerates; a short chat's requests carry ctx and phase; `flame eval
# --slm` runs MAX, stock and both oracles on it with each request resolved to the configuration of
# its context (JSON shape, per-phase metrics, the oracles as bounds) and refuses flamed without a
# context model file and bad input; `flame sim run` replays the chat on the layer board and sends
# ctx and phase to the real flamed, which refuses them for a model that does not use them.
set -euo pipefail
source "$(dirname "$0")/lib/flamed_env.sh"  # T, ROOT (an orin-nano-jp6 tree), SOCK, start_flamed
fail() { echo "eval_slm: $*" >&2; exit 1; }

"$FLAME" sim workload --check "$FLAME_SOURCE_DIR/config/workloads/slm-chat-live.yaml" |
  grep -q "regenerates byte for byte"
"$FLAME" sim workload --preset slm-chat-live --turns 2 --seed 3 --out "$T/chat.yaml" 2>/dev/null
grep -q '^  model: "qwen2-0.5b"$' "$T/chat.yaml"
grep -q 'model: "qwen2-0.5b", deadline_ms: 166.667, stream: "turn1-decode", ctx: [0-9]*, phase: decode}' "$T/chat.yaml"
"$FLAME" sim workload --check "$T/chat.yaml" >/dev/null

# flamed needs the SLM's context model: without --models, a usage error (the default governors).
rc=0
"$FLAME" eval --board layer-orin --slm qwen2-0.5b --workload "$T/chat.yaml" --limit 10 2>"$T/err" || rc=$?
if [[ $rc != 2 ]] || ! grep -q -- "--models DIR" "$T/err"; then fail "without --models: $(cat "$T/err")"; fi

N=24
"$FLAME" eval --board layer-orin --slm qwen2-0.5b --workload "$T/chat.yaml" --limit $N --seed 2 \
  --governors max,oracle-nc,oracle,stock --json >"$T/eval.json" 2>"$T/err" || { cat "$T/err" >&2; exit 1; }
python3 - "$T/eval.json" "$T/chat.yaml" $N <<'PY'
import json, re, sys
e = json.load(open(sys.argv[1]))
n = int(sys.argv[3])
reqs = [l for l in open(sys.argv[2]) if l.startswith("  - {")][:n]
phases = {p: sum(f"phase: {p}}}" in l for l in reqs) for p in ("decode", "prefill")}
assert phases["prefill"] >= 1 and phases["decode"] >= 1, phases
assert e["board"] == "layer-orin" and e["requests"] == n, (e["board"], e["requests"])
g = e["governors"]
assert set(g) == {"max", "stock", "oracle-nc", "oracle"}, set(g)
for name, m in g.items():
    assert m["requests"] == n, (name, m)
    for p, k in phases.items():  # per-phase metrics: one decode request per token, one prefill per prompt
        assert m["phases"][p]["requests"] == k, (name, p, m["phases"])
        for key in ("met", "met_pct", "energy_j", "energy_total_j", "p99_response_over_deadline"):
            assert key in m["phases"][p], (name, p, key)
    assert abs(sum(v["energy_total_j"] for v in m["phases"].values()) - m["energy_total_j"]) < 1e-9
# Every request ran the dataset's configuration of its context: the fastest latencies are theirs.
assert e["fastest_ms"] and all(re.fullmatch(r"qwen2-0\.5b_(decode|prefill)_ctx\d+_bfloat16", k)
                               for k in e["fastest_ms"]), e["fastest_ms"]
assert any("_prefill_" in k for k in e["fastest_ms"]) and any("_decode_" in k for k in e["fastest_ms"])
assert e["deadline_over_fastest"]["min"] >= 1.5, e["deadline_over_fastest"]
assert g["max"]["met_pct"] == 100, g["max"]
for o in ("oracle", "oracle-nc"):
    assert g[o]["met_pct"] == 100, g[o]
    assert g[o]["energy_total_j"] < g["max"]["energy_total_j"], (o, g[o], g["max"])
assert e["targets"] == [], e["targets"]  # no flamed in this run: nothing to check
print("eval_slm: %d requests (%d decode), oracle-nc %.3f x MAX's energy" % (
    n, phases["decode"], g["oracle-nc"]["energy_total_j"] / g["max"]["energy_total_j"]))
PY

# Refusals: an SLM the dataset lacks, --slm with --config, SLM requests on the TX2 or with --config.
fails() {  # fails PATTERN flame-args...: exit status 2 and PATTERN on stderr
  local pattern=$1 rc=0
  shift
  "$FLAME" "$@" 2>"$T/err" >/dev/null || rc=$?
  if [[ $rc != 2 ]] || ! grep -q -- "$pattern" "$T/err"; then
    fail "expected exit 2 and '$pattern' from: $*: $(cat "$T/err")"
  fi
}
fails "no configuration runs qwen2-7b prefill" eval --board layer-orin --slm qwen2-7b --governors max --limit 3
fails "not both" eval --board layer-orin --slm qwen2-0.5b --config resnet50_b1_float32
fails "live layer boards" eval --board tx2 --workload "$T/chat.yaml"
fails "give --slm MODEL" eval --board layer-orin --config resnet50_b1_float32 --workload "$T/chat.yaml"
fails "flamed-grid does not run SLM requests" eval --board layer-orin --slm qwen2-0.5b --governors flamed-grid

# flame sim run on the layer board: without a daemon, every request runs and is recorded with its
# context and phase.
"$FLAME" sim run --board layer-orin --tree "$ROOT" --workload "$T/chat.yaml" --no-daemon --limit $N --json \
  --records "$T/records.jsonl" >"$T/run.json"
python3 - "$T/run.json" "$T/records.jsonl" $N <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))["summary"]
recs = [json.loads(l) for l in open(sys.argv[2])]
n = int(sys.argv[3])
assert s["requests"] == n and len(recs) == n, (s, len(recs))
assert all(r["ctx"] > 0 and r["phase"] in ("decode", "prefill") for r in recs)
dec = [r["ctx"] for r in recs if r["phase"] == "decode"]
assert dec == sorted(dec) and len(set(dec)) == len(dec), dec  # the context grows token by token
PY
# flamed with the SLM's context model: one file of both phases, profiled through the simulated
# application at 16 runs (unpaced, short runs), serves the chat: every request planned at its phase
# and context, every token's deadline met.
source "$FLAME_SOURCE_DIR/tests/integration/lib/governor.sh"
trap 'stop_governor; cleanup' EXIT
start_governor "$ROOT"
"$FLAME" profile --model-name qwen2-0.5b --ctx 128,16384 --prefill-ctx 32,256,2048 --sysfs-root "$ROOT" \
  --runtime-dir "$T/prun" --config /nonexistent --board "$FLAME_SOURCE_DIR/config/boards/orin-nano-8gb-super.yaml" \
  --work-dir "$T/pwork" --out "$T/slm/qwen2-0.5b.yaml" -- "$FLAME" sim app --board layer-orin --sysfs-root "$ROOT" \
  --config 'qwen2-0.5b_{phase}_ctx{ctx}_bfloat16' --iterations 2 --warmup 1 --warmup-ms 0 --no-pace \
  >"$T/profile.out" 2>"$T/profile.err" || fail "profile: $(cat "$T/profile.err")"
stop_governor
grep -q "^kind: slm" "$T/slm/qwen2-0.5b.yaml" || fail "not an SLM model file"
"$FLAME" eval --board layer-orin --slm qwen2-0.5b --workload "$T/chat.yaml" --limit $N --seed 2 \
  --governors flamed,oracle-nc --models "$T/slm" --json >"$T/eval2.json" 2>"$T/err" || fail "eval: $(cat "$T/err")"
python3 - "$T/eval2.json" $N <<'PY'
import json, sys
e = json.load(open(sys.argv[1]))
f = e["governors"]["flamed"]
assert f["requests"] == int(sys.argv[2]) and f["phases"]["decode"]["met_pct"] == 100.0, f
token = next(t for t in e["targets"] if t["id"] == "token_met")
assert token["applicable"] and token["met"], token
PY
echo "eval_slm: flamed with the profiled context model meets every token's deadline"

# Through the real flamed: a model that does not use ctx and phase (a layer-wise DNN model served
# under the SLM's name) refuses the first request, so they reached the daemon.
rm -f "$T"/models/*.yaml
sed 's/^name: resnet50$/name: qwen2-0.5b/' "$FLAME_SOURCE_DIR/config/models/resnet50.yaml" >"$T/models/qwen2-0.5b.yaml"
write_config
start_flamed
rc=0
"$FLAME" sim run --board layer-orin --tree "$ROOT" --workload "$T/chat.yaml" --socket "$SOCK" --limit 3 \
  >"$T/run.out" 2>"$T/err" || rc=$?
if [[ $rc == 0 ]] || ! grep -q 'flamed refused request 0 (qwen2-0.5b): .*does not use "ctx" or "phase"' "$T/err"; then
  fail "flamed did not see ctx and phase: $(cat "$T/err" "$LOG")"
fi
stop_flamed
echo "eval_slm: ok"
