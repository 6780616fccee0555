#!/usr/bin/env bash
# An SLM chat on a live layer-level board, end to end (docs/evaluation.md, "SLM chat on the live layer
# boards"): the board's tree, `flame profile` of qwen2-0.5b's two phases through the simulated
# application into one model file (decode contexts 128,16384, prefill 32,256,2048, 16 runs by default),
# then `flame eval --slm` on the chat workload with flamed serving that file beside MAX, stock, zTT and
# both oracles.
# Usage: bench/eval_slm.sh BUILD_DIR BOARD [SEED] [DATA] [-- extra flame eval args]
#   BOARD: layer-tx2 | layer-orin. Prints the evaluation as JSON (the profile's report on stderr).
set -euo pipefail
BUILD=${1:?build dir}
BOARD_NAME=${2:?layer-tx2 or layer-orin}
SEED=${3:-1}
SRC=$(cd "$(dirname "$0")/.." && pwd)
DATA=${4:-$SRC/data/h200-coupling/run2/coupling.json}
shift $(($# < 4 ? $# : 4))
[[ ${1:-} == -- ]] && shift
FLAME="$BUILD/tools/flame"
SLM=qwen2-0.5b
source "$SRC/bench/lib/layer_board.sh"  # BOARD, T (the tree in $T/root), GOV
mkdir -p "$T/models"
"$FLAME" profile --model-name "$SLM" --ctx 128,16384 --prefill-ctx 32,256,2048 --seed "$SEED" \
  --sysfs-root "$T/root" --runtime-dir "$T/run" --config /nonexistent --board "$BOARD" --work-dir "$T/work" \
  --out "$T/models/$SLM.yaml" -- \
  "$FLAME" sim app --board "$BOARD_NAME" --sysfs-root "$T/root" --data "$DATA" \
  --config "${SLM}_{phase}_ctx{ctx}_bfloat16" --seed "$SEED" >"$T/profile.out" 2>"$T/profile.err" \
  || { cat "$T/profile.err" >&2; exit 1; }
grep -E "combinations|segments|power" "$T/profile.out" "$T/profile.err" >&2 || true
"$FLAME" eval --board "$BOARD_NAME" --data "$DATA" --slm "$SLM" --seed "$SEED" --models "$T/models" --json "$@"
