#!/usr/bin/env bash
# The measurement behind docs/profiling.md "End-to-end profiling": `flame profile --e2e` of one
# configuration through the simulated runtime (`flame sim infer`, docs/simulator.md) on a live
# layer-level board, and `flame fit` of the same board's measured grid at the same budget; both grid
# models against the board's noise-free truth at every combination of the profiled grid.
# Usage: bench/profile_e2e.sh BUILD_DIR BOARD CONFIG [BUDGET] [SEED] [COUNT] [WARMUP]
#   BOARD: layer-tx2 | layer-orin; CONFIG: a tag of data/h200-coupling/run2/coupling.json; COUNT
#   inferences per combination (default 8), WARMUP of them dropped (default 3).
set -euo pipefail
BUILD=${1:?build dir}
BOARD_NAME=${2:?layer-tx2 or layer-orin}
CONFIG=${3:?configuration tag}
BUDGET=${4:-12}
SEED=${5:-1}
COUNT=${6:-8}
WARMUP=${7:-3}
SRC=$(cd "$(dirname "$0")/.." && pwd)
FLAME="$BUILD/tools/flame"
source "$SRC/bench/lib/layer_board.sh"  # BOARD, T (the tree in $T/root), GOV
"$FLAME" profile --e2e --model-name m --budget "$BUDGET" --seed "$SEED" --warmup "$WARMUP" --sysfs-root "$T/root" \
  --runtime-dir "$T/run" --config /nonexistent --board "$BOARD" --work-dir "$T/work" --out "$T/m.yaml" -- \
  "$FLAME" sim infer --board "$BOARD_NAME" --sysfs-root "$T/root" --config "$CONFIG" --seed "$SEED" \
  --count "$COUNT" >"$T/out" 2>"$T/err" || { cat "$T/err" >&2; exit 1; }
grep -E "grid model|power model|combinations" "$T/out" || cat "$T/out"
"$FLAME" sim layer --board "$BOARD_NAME" --config "$CONFIG" --truth "$T/truth-all.csv"
"$FLAME" sim layer --board "$BOARD_NAME" --config "$CONFIG" --out "$T/grid" --seed "$SEED" >"$T/grids"
python3 "$SRC/tests/integration/lib/on_profiled_grid.py" "$T/work/journal.jsonl" "$T/truth-all.csv" "$T/truth.csv" \
  "$(cut -d: -f1 "$T/grids")" "$T/grid.csv"
"$FLAME" fit "$T/grid.csv" --budget "$BUDGET" --seed "$SEED" --name g -o "$T/g.yaml" 2>/dev/null
echo -n "flame profile --e2e: "
"$FLAME" model check "$T/m.yaml" "$T/truth.csv"
echo -n "flame fit:           "
"$FLAME" model check "$T/g.yaml" "$T/truth.csv"
