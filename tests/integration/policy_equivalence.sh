#!/usr/bin/env bash
# Same decisions, by construction: `flame eval`'s flamed (flame::policy in-process on the simulated
# TX2, models from files with --models) and the real flamed on the simulation clock driven by
# `flame sim run` (as tools/demo.sh does) choose the same clocks for every request of camera30 and
# of the two-app mix, seed 1. Also: without simulation_clock, a request's t_ms is ignored; with it,
# a begin without t_ms is refused.
set -euo pipefail
source "$(dirname "$0")/lib/sim_env.sh"

grids="$FLAME_SOURCE_DIR/data/jetson-public/flexibo-tx2"
mkdir -p "$tmp/models"
for m in inceptionv3 xception; do
  "$FLAME" fit "$grids/tx2_sampled_output_${m}_200x200.csv" --budget 64 --seed 1 --name "$m-200" \
    --board tx2-flexibo --out "$tmp/models/$m-200.yaml" >/dev/null
done

for wl in camera30 mix; do
  d="$tmp/$wl"
  mkdir -p "$d/state" "$d/run"
  ln -s "$tmp/models" "$d/models"
  "$FLAME" sim tree --profile tx2-jp4 --out "$d/tree" >/dev/null
  sim_write_config "$d" "simulation_clock: true"
  sim_start_flamed "$d" "$d/flamed.log"
  "$FLAME" sim run --board tx2 --tree "$d/tree" --workload "$FLAME_SOURCE_DIR/config/workloads/$wl.yaml" \
    --seed 1 --socket "$d/flamed.sock" --json --records "$d/daemon.jsonl" >"$d/daemon.json"
  kill -TERM "$pid"
  wait "$pid"
  pid=""
  "$FLAME" eval --board tx2 --workload "$FLAME_SOURCE_DIR/config/workloads/$wl.yaml" --seed 1 \
    --governors flamed --models "$tmp/models" --records "$d/eval.jsonl" --json >"$d/eval.json"
  python3 - "$wl" "$d/daemon.jsonl" "$d/eval.jsonl" <<'PY'
import json, sys
wl, daemon, ev = sys.argv[1:]
a = [json.loads(l) for l in open(daemon)]
b = [json.loads(l) for l in open(ev)]
assert len(a) == len(b) > 0, (len(a), len(b))
diff = [(x["index"], x["requested"], y["requested"]) for x, y in zip(a, b) if x["requested"] != y["requested"]]
assert not diff, f"{wl}: {len(diff)} of {len(a)} requests got other clocks, first: {diff[:3]}"
same = sum(1 for x, y in zip(a, b) if x["met"] == y["met"] and abs(x["energy_j"] - y["energy_j"]) < 1e-9)
changes = len({json.dumps(x["requested"], sort_keys=True) for x in a})
# camera30 (one deadline, no queue) may settle on one setting; the mix's queue must move the clocks.
assert wl != "mix" or changes > 1, f"{wl}: one clock setting for every request proves nothing"
print(f"{wl}: {len(a)} requests, identical clocks ({changes} distinct settings); "
      f"{same} identical in met and energy")
PY
done

# The simulation clock is opt-in: without it, t_ms is accepted and ignored; with it, required.
d="$tmp/camera30"
sim_write_config "$d"
sim_start_flamed "$d" "$d/flamed2.log"
python3 - "$d/flamed.sock" <<'PY'
import json, socket, sys
c = socket.socket(socket.AF_UNIX); c.connect(sys.argv[1]); f = c.makefile("rw")
def call(m):
    f.write(json.dumps(m) + "\n"); f.flush(); return json.loads(f.readline())
r = call({"op": "begin", "id": 1, "model": "inceptionv3-200", "deadline_ms": 50, "t_ms": 1e9})
assert r["ok"], r
s = call({"op": "status", "detail": "requests"})
assert 9000 < s["requests"][0]["expires_in_ms"] <= 10000, s["requests"]  # the daemon's own clock
assert call({"op": "end", "id": 1, "t_ms": -1})["error"] == "\"t_ms\" must be a non-negative number"
PY
kill -TERM "$pid"
wait "$pid"
pid=""
sim_write_config "$d" "simulation_clock: true"
sim_start_flamed "$d" "$d/flamed3.log"
python3 - "$d/flamed.sock" <<'PY'
import json, socket, sys
c = socket.socket(socket.AF_UNIX); c.connect(sys.argv[1]); f = c.makefile("rw")
def call(m):
    f.write(json.dumps(m) + "\n"); f.flush(); return json.loads(f.readline())
r = call({"op": "begin", "id": 1, "model": "inceptionv3-200", "deadline_ms": 50})
assert not r["ok"] and "t_ms" in r["error"], r
assert call({"op": "begin", "id": 1, "model": "inceptionv3-200", "deadline_ms": 50, "t_ms": 1000})["ok"]
# Expiry runs on the clients' time: 10 s later (request_expiry_ms) the hold is gone.
s = call({"op": "status", "detail": "requests", "t_ms": 1000})
assert s["requests"][0]["expires_in_ms"] == 10000, s["requests"]
s = call({"op": "status", "t_ms": 11001})
assert s["active_requests"] == 0 and s["counters"]["expired"] == 1, s
PY
grep -q "simulation clock" "$d/flamed3.log"
