#!/usr/bin/env bash
# FLAME end to end on a live layer-level board (docs/evaluation.md, "Live layer boards"): the board's
# tree, `flame profile` of one configuration through the simulated application (`flame sim app`) at
# flame profile's default budget, then `flame eval` on the camera stream of that configuration with
# flamed on the profiled layer-wise model beside flamed-grid (the end-to-end model at 64
# combinations), MAX, stock, zTT and both oracles.
# Usage: bench/eval_layer.sh BUILD_DIR BOARD CONFIG [CLASS] [SEED] [DATA] [-- extra flame eval args]
#   BOARD: layer-tx2 | layer-orin; CONFIG: a tag of DATA (default data/h200-coupling/run2/coupling.json);
#   CLASS: tight (deadline 1.5 x the fastest median) or loose (2.5 x). Prints the evaluation as JSON.
set -euo pipefail
BUILD=${1:?build dir}
BOARD_NAME=${2:?layer-tx2 or layer-orin}
CONFIG=${3:?configuration tag}
CLASS=${4:-tight}
SEED=${5:-1}
SRC=$(cd "$(dirname "$0")/.." && pwd)
DATA=${6:-$SRC/data/h200-coupling/run2/coupling.json}
shift $(($# < 6 ? $# : 6))
[[ ${1:-} == -- ]] && shift
FLAME="$BUILD/tools/flame"
source "$SRC/bench/lib/layer_board.sh"  # BOARD, T (the tree in $T/root), GOV
mkdir -p "$T/models"
"$FLAME" profile --model-name "$CONFIG" --seed "$SEED" --sysfs-root "$T/root" --runtime-dir "$T/run" \
  --config /nonexistent --board "$BOARD" --work-dir "$T/work" --out "$T/models/$CONFIG.yaml" -- \
  "$FLAME" sim app --board "$BOARD_NAME" --sysfs-root "$T/root" --data "$DATA" --config "$CONFIG" \
  --seed "$SEED" >"$T/profile.out" 2>"$T/profile.err" || { cat "$T/profile.err" >&2; exit 1; }
grep -E "combinations|power" "$T/profile.out" >&2 || true
"$FLAME" eval --board "$BOARD_NAME" --data "$DATA" --config "$CONFIG" --camera "$CLASS" --seed "$SEED" \
  --models "$T/models" --json "$@"
