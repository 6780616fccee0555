#!/usr/bin/env bash
# The simulated TX2 end to end: `flame sim tree` builds a TX2 (JetPack 4) tree, the real flamed runs
# on it (sysfs_root = the tree) with a TX2 model, `flame sim run` replays 300 camera frames (50
# inferences) through flamed's socket. Checks: flamed's writes reached the tree during the run, the
# clocks were put back byte for byte at SIGTERM, and the summary agrees with the per-request records.
set -euo pipefail
source "$(dirname "$0")/lib/sim_env.sh"

# The shipped workloads regenerate from their seeds.
"$FLAME" sim workload --check "$FLAME_SOURCE_DIR/config/workloads/camera30.yaml" | grep -q "regenerates byte for byte"
"$FLAME" sim workload --check "$FLAME_SOURCE_DIR/config/workloads/bursty.yaml" | grep -q "regenerates byte for byte"

"$FLAME" sim tree --profile tx2-jp4 --out "$tmp/tree" | grep -q "tx2-jp4"
cp -a "$tmp/tree" "$tmp/tree.orig"
mkdir -p "$tmp/models" "$tmp/state" "$tmp/run"
cp "$FLAME_SOURCE_DIR/tests/data/sim/inceptionv3-200.yaml" "$tmp/models/"
# idle_policy lowest: between and after requests the clocks stay set, so only SIGTERM puts them back.
sim_write_config "$tmp" "idle_policy: lowest"
sim_start_flamed "$tmp" "$tmp/flamed.log"
grep -q "clock grid: 12 CPU x 4 GPU x 4 EMC points" "$tmp/flamed.log"

"$FLAME" sim workload --preset camera30 --seed 1 --frames 300 --out "$tmp/camera.yaml" 2>/dev/null
start=$(date +%s%N)
"$FLAME" sim run --board tx2 --tree "$tmp/tree" --workload "$tmp/camera.yaml" --seed 1 \
  --socket "$tmp/flamed.sock" --json --records "$tmp/records.jsonl" >"$tmp/summary.json"
elapsed_ms=$((($(date +%s%N) - start) / 1000000))
echo "replay of 50 inferences took ${elapsed_ms} ms"
((elapsed_ms < 20000))
# The text form prints the same run.
"$FLAME" sim run --board tx2 --tree "$tmp/tree" --workload "$tmp/camera.yaml" --seed 1 --limit 5 \
  --socket "$tmp/flamed.sock" | grep -q "deadlines met"

P0=sys/devices/system/cpu/cpufreq/policy0
GPU=sys/devices/17000000.gp10b/devfreq/17000000.gp10b
EMC=sys/kernel/debug/bpmp/debug/clk/emc
CLOCK_FILES=("$P0/scaling_min_freq" "$P0/scaling_max_freq" "$GPU/min_freq" "$GPU/max_freq" "$EMC/rate"
  "$EMC/mrq_rate_locked")
# flamed holds the lowest clocks now: the tree differs from the original, and a baseline exists.
changed=0
for f in "${CLOCK_FILES[@]}"; do cmp -s "$tmp/tree/$f" "$tmp/tree.orig/$f" || changed=$((changed + 1)); done
((changed >= 4)) || { echo "flamed's writes did not reach the tree" >&2; exit 1; }
[[ -s "$tmp/run/baseline.json" ]]
[[ $(cat "$tmp/tree/$EMC/mrq_rate_locked") == 1 ]]

# flamed's own counters saw every request.
python3 - "$tmp/flamed.sock" <<'PY'
import json, socket, sys
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1])
s.sendall(b'{"op":"status"}\n')
buf = b""
while not buf.endswith(b"\n"): buf += s.recv(65536)
st = json.loads(buf)
c = st["counters"]
# A request queued behind a late one is announced at its arrival and renewed at its start.
assert c["begins"] >= 55 and c["ends"] == 55 and c["errors"] == 0, c
assert "inceptionv3-200" in st["models"], st["models"]
PY

# SIGTERM: flamed restores every clock attribute byte for byte and removes its baseline.
kill -TERM "$pid"
rc=0
wait "$pid" || rc=$?
pid=""
[[ $rc == 0 ]] || { echo "flamed exited with $rc" >&2; cat "$tmp/flamed.log" >&2; exit 1; }
for f in "${CLOCK_FILES[@]}"; do cmp "$tmp/tree/$f" "$tmp/tree.orig/$f"; done
# Everything else too, except what the simulator refreshes (current clocks, power, temperatures).
diff -r --no-dereference -x scaling_cur_freq -x cpuinfo_cur_freq -x cur_freq -x target_freq \
  -x in_power0_input -x in_current0_input -x ui_input_0 -x temp "$tmp/tree.orig" "$tmp/tree"
[[ ! -e "$tmp/run/baseline.json" ]]
grep -q "SIGTERM" "$tmp/flamed.log"

# Deterministic for a seed (without the daemon, whose calibration state carries over between runs).
run_nd() { "$FLAME" sim run --board tx2 --tree "$tmp/tree" --workload "$tmp/camera.yaml" --no-daemon --json "$@" |
  python3 -c 'import json,sys; j=json.load(sys.stdin); del j["wall_s"]; print(json.dumps(j, sort_keys=True))'; }
[[ "$(run_nd --seed 4)" == "$(run_nd --seed 4)" ]]
[[ "$(run_nd --seed 4)" != "$(run_nd --seed 5)" ]]

# The run: clocks changed during it, and the summary is what the records say.
python3 - "$tmp/summary.json" "$tmp/records.jsonl" <<'PY'
import json, math, sys
summary = json.load(open(sys.argv[1]))
s = summary["summary"]
recs = [json.loads(l) for l in open(sys.argv[2])]
assert summary["board"] == "tx2" and summary["seed"] == 1 and summary["daemon"], summary
assert len(recs) == 50 == s["requests"], (len(recs), s["requests"])
base = {"cores": 4, "cpu_khz": 2035200, "gpu_hz": 1300500000, "emc_hz": 1866000000}
assert recs[0]["effective"] == base, recs[0]            # the first inference starts at the old clocks
assert any(r["requested"] != base for r in recs), "clocks never changed"
assert all(r["predicted_ms"] > 0 and "feasible" in r for r in recs)
def pct(v, p):
    v = sorted(v); k = max(1, math.ceil(p / 100 * len(v))); return v[k - 1]
met = sum(1 for r in recs if r["met"])
assert all(r["met"] == (r["response_ms"] <= r["deadline_ms"]) for r in recs)
assert all(abs(r["response_ms"] - (r["finish_ms"] - r["arrival_ms"])) < 1e-6 for r in recs)
assert s["met"] == met, (s["met"], met)
assert abs(s["met_pct"] - 100 * met / len(recs)) < 1e-9
energy = sum(r["energy_j"] for r in recs)
assert abs(s["energy_j"] - energy) < 1e-9 * max(1, energy), (s["energy_j"], energy)
assert abs(s["energy_per_inference_j"] - energy / len(recs)) < 1e-9
assert abs(s["p99_latency_ms"] - pct([r["latency_ms"] for r in recs], 99)) < 1e-9
ratio = [r["response_ms"] / r["deadline_ms"] for r in recs]
assert abs(s["p99_response_over_deadline"] - pct(ratio, 99)) < 1e-12
assert abs(s["max_response_over_deadline"] - max(ratio)) < 1e-12
assert abs(s["virtual_s"] - max(r["finish_ms"] for r in recs) / 1000) < 1e-9
assert s["energy_j"] > 0 and 0 <= s["met_pct"] <= 100
print(f"met {s['met_pct']:.1f} %, energy {s['energy_j']:.3f} J, p99 response/deadline {s['p99_response_over_deadline']:.3f}")
PY
