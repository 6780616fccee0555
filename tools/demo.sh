#!/usr/bin/env bash
# The main job on the embedded default: a simulated Jetson TX2 (fake sysfs tree, table-driven from
# the real FlexiBO measurements) driven by the real flamed. Fits a FLAME grid model from 64 of the
# 768 measured clock combinations, starts flamed on the tree, replays a 30 FPS camera workload
# through its socket, stops it (clocks restored), then compares governors (flamed's policy, MAX,
# the stock governors, a trained zTT, the oracle) on the same board with `flame eval` and writes the
# report to BUILD_DIR/demo-report/. Last, the layer-wise path (bench/eval_layer.sh): flame profile of
# 12 combinations through the simulated application on the live layer-level Orin Nano, then flame
# eval with flamed on that model (report in BUILD_DIR/demo-report/layer-orin/).
# Usage: tools/demo.sh [BUILD_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
B=${1:-build}
FLAME=$PWD/$B/tools/flame FLAMED=$PWD/$B/daemon/flamed
T=$(mktemp -d /tmp/flame-demo.XXXXXX)
pid=""
cleanup() {
  [[ -n "$pid" ]] && kill -TERM "$pid" 2>/dev/null && wait "$pid" 2>/dev/null || true
  rm -rf "$T"
}
trap cleanup EXIT
mkdir -p "$T/models" "$T/state" "$T/run"

# 64 points: at 32 the fitted model underestimates one region by ~15 % and misses deadlines there
# (docs/evaluation.md, "Profile budget").
echo "== 1. Fit a FLAME model from 64 profiled clock combinations (of 768) of the real TX2 grid"
"$FLAME" fit data/jetson-public/flexibo-tx2/tx2_sampled_output_inceptionv3_200x200.csv --budget 64 --seed 1 \
  --name inceptionv3-200 --board tx2-flexibo --out "$T/models/inceptionv3-200.yaml"

echo "== 2. A simulated TX2: fake sysfs tree, clocks and power from the measured grid"
"$FLAME" sim tree --profile tx2-jp4 --out "$T/tree"
cp -a "$T/tree" "$T/tree.orig"
cat >"$T/flamed.yaml" <<CFG
sysfs_root: $T/tree
socket_path: $T/flamed.sock
socket_group: ""
models_dir: $T/models
state_dir: $T/state
runtime_dir: $T/run
board_file: $PWD/config/boards/tx2-flexibo.yaml
dbus: false
log_level: warn
CFG

echo "== 3. Start flamed on the simulated board"
"$FLAMED" --config "$T/flamed.yaml" 2>"$T/flamed.log" &
pid=$!
for _ in $(seq 100); do [[ -S "$T/flamed.sock" ]] && break; sleep 0.1; done
[[ -S "$T/flamed.sock" ]] || { cat "$T/flamed.log" >&2; exit 1; }

echo "== 4. Replay a 30 FPS camera pipeline (deadline per frame) through flamed's socket"
"$FLAME" sim workload --preset camera30 --seed 1 --frames 900 --out "$T/camera30.yaml" 2>/dev/null
"$FLAME" sim run --board tx2 --tree "$T/tree" --workload "$T/camera30.yaml" --seed 1 --socket "$T/flamed.sock"

echo "== 5. Stop flamed: every clock it changed is put back"
kill -TERM "$pid"; wait "$pid"; pid=""
# The control files flamed writes (the simulator itself updates cur_freq and the power rails).
changed=0
while IFS= read -r f; do
  rel=${f#"$T/tree.orig/"}
  cmp -s "$f" "$T/tree/$rel" || { echo "not restored: $rel" >&2; changed=1; }
done < <(find "$T/tree.orig" -type f \( -name 'scaling_m*_freq' -o -name 'scaling_governor' -o -name 'min_freq' \
  -o -name 'max_freq' -o -name 'governor' -o -name 'mrq_rate_locked' -o -path '*clk/emc/rate' \))
((changed == 0)) || exit 1
echo "clocks restored: every clock control file is byte-for-byte as before"

echo "== 6. Governor comparison on the same simulated board and workload (flame eval)"
report="$PWD/$B/demo-report"
"$FLAME" eval --board tx2 --workload "$T/camera30.yaml" --seed 1 --out "$report"
echo "(SVG plots beside the report; method and results: docs/evaluation.md)"

echo "== 7. FLAME layer-wise end to end on a live layer-level Orin Nano (simulated): flame profile of 12"
echo "     clock combinations through the simulated application, flamed on that layer-wise model, a"
echo "     camera stream (deadline 1.5 x the fastest), compared with flamed on the 64-point grid model,"
echo "     MAX, stock, zTT and both oracles (docs/evaluation.md, \"Live layer boards\")"
bench/eval_layer.sh "$B" layer-orin resnet50_b1_float32 tight 1 "" -- --out "$report/layer-orin" >"$T/layer.json"
python3 - "$T/layer.json" <<'PY'
import json, sys
e = json.load(open(sys.argv[1]))
g = e["governors"]
nc = g["oracle-nc"]["energy_total_j"]
print(f'{"governor":<12} {"met %":>6} {"J / frame":>10} {"J vs oracle-nc":>15}')
for name in ["flamed", "flamed-grid", "oracle-nc", "oracle", "ztt", "stock", "max"]:
    v = g[name]
    print(f'{name:<12} {v["met_pct"]:>6.1f} {v["energy_total_j"] / v["requests"]:>10.4f} {v["energy_total_j"] / nc:>15.3f}')
PY
echo "(report: $report/layer-orin)"
