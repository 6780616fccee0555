#!/usr/bin/env bash
# Two apps sharing the simulated TX2 through the real flamed: the shipped `mix` workload (a camera
# app running InceptionV3 and a bursty app running Xception, docs/workloads.md) is replayed with one
# connection per app, so that a request arriving while the other app's inference runs is held by
# flamed at the same time (per-domain maximum). Checks: every request was answered and ended, some
# begins overlapped and were arbitrated, flamed saw both models and no errors, the clocks were put
# back byte for byte at SIGTERM; and thermal throttling on a hot board shows in the replay's summary.
set -euo pipefail
source "$(dirname "$0")/lib/sim_env.sh"

mix="$FLAME_SOURCE_DIR/config/workloads/mix.yaml"
"$FLAME" sim workload --check "$mix" >"$tmp/check.txt"
grep -q "regenerates byte for byte" "$tmp/check.txt"

"$FLAME" sim tree --profile tx2-jp4 --out "$tmp/tree" >/dev/null
cp -a "$tmp/tree" "$tmp/tree.orig"
mkdir -p "$tmp/models" "$tmp/state" "$tmp/run"
grids="$FLAME_SOURCE_DIR/data/jetson-public/flexibo-tx2"
# A grid model per model the workload runs, fitted as a user would (flame fit on profiled points).
for m in inceptionv3 xception; do
  "$FLAME" fit "$grids/tx2_sampled_output_${m}_200x200.csv" --budget 64 --seed 1 --name "$m-200" \
    --board tx2-flexibo --out "$tmp/models/$m-200.yaml" >/dev/null
done
sim_write_config "$tmp"
sim_start_flamed "$tmp" "$tmp/flamed.log"

"$FLAME" sim run --board tx2 --tree "$tmp/tree" --workload "$mix" --seed 1 --socket "$tmp/flamed.sock" \
  --json --records "$tmp/records.jsonl" >"$tmp/summary.json"
# The same workload over a single connection still works (no overlap across connections then).
"$FLAME" sim run --board tx2 --tree "$tmp/tree" --workload "$mix" --seed 1 --socket "$tmp/flamed.sock" \
  --connections one --limit 20 --json >"$tmp/one.json"

python3 - "$tmp/flamed.sock" "$mix" "$tmp/summary.json" "$tmp/records.jsonl" "$tmp/one.json" <<'PY'
import json, socket, sys
sock, mix, summary, records, one = sys.argv[1:]
n = sum(1 for l in open(mix) if l.lstrip().startswith("- {t_ms:"))
j = json.load(open(summary)); s = j["summary"]; rep = j["replay"]
recs = [json.loads(l) for l in open(records)]
assert s["requests"] == n == len(recs), (s["requests"], n, len(recs))
assert {r["stream"] for r in recs} == {"camera", "burst"}
assert {r["model"] for r in recs} == {"inceptionv3-200", "xception-200"}
assert all("predicted_ms" in r and r["predicted_ms"] > 0 for r in recs), "a request was not answered"
assert rep["connections"] == 2, rep            # one per app
assert rep["overlapping_begins"] > 0, rep      # requests of both apps held at once
assert rep["arbitrated"] > 0, rep              # ... and the board ran their per-domain maximum
waited = sum(1 for r in recs if r["start_ms"] > r["arrival_ms"])
assert waited > 0, "no request queued behind the other app"
o = json.load(open(one))
assert o["replay"]["connections"] == 1 and o["summary"]["requests"] == 20, o["replay"]
c = socket.socket(socket.AF_UNIX); c.connect(sock)
c.sendall(b'{"op":"status"}\n')
buf = b""
while not buf.endswith(b"\n"): buf += c.recv(65536)
st = json.loads(buf)
k = st["counters"]
assert k["ends"] == n + 20 and k["errors"] == 0 and k["expired"] == 0, k
assert k["begins"] == rep["begins"] + o["replay"]["begins"], (k, rep)
assert st["active_requests"] == 0, st
assert {"inceptionv3-200", "xception-200"} <= set(st["models"]), st["models"]
print(f"mix: {n} requests, met {s['met_pct']:.1f} %, {rep['begins']} begins, "
      f"{rep['overlapping_begins']} overlapping, {rep['arbitrated']} arbitrated")
PY

# SIGTERM: flamed restores every clock attribute byte for byte.
kill -TERM "$pid"
rc=0
wait "$pid" || rc=$?
pid=""
[[ $rc == 0 ]] || { echo "flamed exited with $rc" >&2; cat "$tmp/flamed.log" >&2; exit 1; }
diff -r --no-dereference -x scaling_cur_freq -x cpuinfo_cur_freq -x cur_freq -x target_freq \
  -x in_power0_input -x in_current0_input -x ui_input_0 -x temp "$tmp/tree.orig" "$tmp/tree"
[[ ! -e "$tmp/run/baseline.json" ]]

# queue_aware: false (every request plans for its whole deadline, as if the GPU were its own)
# meets fewer of the mix's deadlines than the default, which budgets for the other app's work ahead.
# Then --realtime: the replay paces its messages in wall-clock time (first 4 requests, ~0.9 s).
sim_write_config "$tmp" "queue_aware: false"
sim_start_flamed "$tmp" "$tmp/flamed2.log"
"$FLAME" sim run --board tx2 --tree "$tmp/tree" --workload "$mix" --seed 1 --socket "$tmp/flamed.sock" \
  --json >"$tmp/blind.json"
"$FLAME" sim run --board tx2 --tree "$tmp/tree" --workload "$mix" --seed 1 --socket "$tmp/flamed.sock" \
  --realtime --limit 4 --json >"$tmp/rt.json"
python3 - "$tmp/summary.json" "$tmp/blind.json" "$tmp/rt.json" <<'PY'
import json, sys
aware, blind, rt = (json.load(open(p)) for p in sys.argv[1:4])
a, b = aware["summary"]["met"], blind["summary"]["met"]
print(f"mix: queue-aware {a}, blind {b} of {aware['summary']['requests']} deadlines met")
assert a > b, (a, b)
assert rt["summary"]["requests"] == 4 and rt["wall_s"] >= 0.6, rt
PY
kill -TERM "$pid"
wait "$pid"
pid=""

# Thermal throttling on a hot board (no daemon: the tree's ceilings, as MAX would run).
"$FLAME" sim run --board tx2 --tree "$tmp/tree" --workload "$FLAME_SOURCE_DIR/config/workloads/camera30.yaml" \
  --no-daemon --ambient-c 75 --throttle-c 80 --json >"$tmp/hot.json"
"$FLAME" sim run --board tx2 --tree "$tmp/tree" --workload "$FLAME_SOURCE_DIR/config/workloads/camera30.yaml" \
  --no-daemon --ambient-c 75 --json >"$tmp/warm.json"
python3 - "$tmp/hot.json" "$tmp/warm.json" "$tmp/tree" <<'PY'
import json, sys
hot, warm = (json.load(open(p)) for p in sys.argv[1:3])
assert hot["throttle_c"] == 80 and warm["throttle_c"] is None
assert warm["summary"]["throttled"] == 0 and warm["max_temperature_c"] > 80, warm
assert hot["summary"]["throttled"] > 0 and hot["throttle_engagements"] >= 1, hot
assert hot["summary"]["mean_latency_ms"] > warm["summary"]["mean_latency_ms"]
temp = int(open(sys.argv[3] + "/sys/devices/virtual/thermal/thermal_zone2/temp").read())
assert 75000 <= temp <= 100000, temp
PY
# Bad thermal options are refused.
if "$FLAME" sim run --board tx2 --tree "$tmp/tree" --workload "$mix" --no-daemon --ambient-c 50 \
  --throttle-c 40 2>"$tmp/err.txt"; then
  echo "a trip below ambient was accepted" >&2
  exit 1
fi
grep -q "above --ambient-c" "$tmp/err.txt"
if "$FLAME" sim run --board tx2 --tree "$tmp/tree" --workload "$mix" --no-daemon --connections two \
  2>"$tmp/err.txt"; then
  echo "--connections two was accepted" >&2
  exit 1
fi
grep -q "connections" "$tmp/err.txt"
