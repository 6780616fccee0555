#!/usr/bin/env bash
# The measurement behind docs/profiling.md: `flame profile` of one configuration through the simulated
# application on a live layer-level board (`flame sim app`, docs/simulator.md), then the fitted
# layer-wise model against the board's noise-free truth at every combination of the profiled grid
# (`flame sim layer --truth`, `flame model check`).
# Usage: bench/profile_layer.sh BUILD_DIR BOARD CONFIG [BUDGET] [SEED]
#   BOARD: layer-tx2 | layer-orin; CONFIG: a tag of data/h200-coupling/run2/coupling.json.
#   Prints flame profile's summary and the model check; takes a minute or two.
set -euo pipefail
BUILD=${1:?build dir}
BOARD_NAME=${2:?layer-tx2 or layer-orin}
CONFIG=${3:?configuration tag}
BUDGET=${4:-12}
SEED=${5:-1}
SRC=$(cd "$(dirname "$0")/.." && pwd)
FLAME="$BUILD/tools/flame"
source "$SRC/bench/lib/layer_board.sh"  # BOARD, T (the tree in $T/root), GOV
"$FLAME" profile --model-name m --budget "$BUDGET" --seed "$SEED" --sysfs-root "$T/root" --runtime-dir "$T/run" \
  --config /nonexistent --board "$BOARD" --work-dir "$T/work" --out "$T/m.yaml" -- \
  "$FLAME" sim app --board "$BOARD_NAME" --sysfs-root "$T/root" --config "$CONFIG" --seed "$SEED" \
  >"$T/out" 2>"$T/err" || { cat "$T/err" >&2; exit 1; }
grep -E "segments|combinations" "$T/out" || cat "$T/out"
# The truth at every combination of the profiled grid (all cores online).
"$FLAME" sim layer --board "$BOARD_NAME" --config "$CONFIG" --truth "$T/truth-all.csv"
python3 - "$T/work/journal.jsonl" "$T/truth-all.csv" >"$T/truth.csv" <<'PY'
import csv, json, sys
g = json.loads(open(sys.argv[1]).readline())["grid"]
keep = {k: {round(v) for v in g[k]} for k in ("cpu_khz", "gpu_hz", "emc_hz")}
rows = list(csv.DictReader(open(sys.argv[2])))
print("cpu_khz,gpu_hz,emc_hz,latency_ms,power_w")
for r in rows:
    if all(int(r[k]) in keep[k] for k in keep):
        print(f'{r["cpu_khz"]},{r["gpu_hz"]},{r["emc_hz"]},{r["latency_ms"]},{r["power_w"]}')
PY
echo "$BOARD_NAME $CONFIG budget $BUDGET seed $SEED: $(($(wc -l <"$T/truth.csv") - 1)) combinations"
"$FLAME" model check "$T/m.yaml" "$T/truth.csv"
# Per EMC level and per CPU half (where the error is).
for emc in $(tail -n +2 "$T/truth.csv" | cut -d, -f3 | sort -un); do
  { head -1 "$T/truth.csv"; grep ",$emc," "$T/truth.csv"; } >"$T/emc.csv"
  echo -n "  EMC $emc Hz: "
  "$FLAME" model check "$T/m.yaml" "$T/emc.csv" | sed 's/^m: //'
done
