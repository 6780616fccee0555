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
source "$(dirname "$0")/lib/layer_args.sh"  # BUILD BOARD_NAME CONFIG CLASS SEED SRC DATA FLAME
source "$SRC/bench/lib/layer_board.sh"  # BOARD, T (the tree in $T/root), GOV
mkdir -p "$T/models"
profile_config "$CONFIG" "$T/models/$CONFIG.yaml"
grep -E "combinations|power" "$T/profile.out" >&2 || true
"$FLAME" eval --board "$BOARD_NAME" --data "$DATA" --config "$CONFIG" --camera "$CLASS" --seed "$SEED" \
  --models "$T/models" --json "$@"
