#!/usr/bin/env bash
# The live-layer-board evaluation of docs/evaluation.md: bench/eval_layer.sh over boards x
# configurations x deadline classes x seeds, one JSON per run in OUT, then the per-seed rows and the
# means against the targets (bench/lib/eval_layer_table.py).
# Usage: bench/eval_layer_sweep.sh BUILD_DIR OUT_DIR [SEEDS] [CLASSES]
#   SEEDS default "1 2 3 4 5", CLASSES default "tight loose". About 25 s per run on 2 idle cores.
set -euo pipefail
BUILD=${1:?build dir}
OUT=${2:?output folder}
SEEDS=${3:-1 2 3 4 5}
CLASSES=${4:-tight loose}
SRC=$(cd "$(dirname "$0")/.." && pwd)
CONFIGS="resnet50_b1_float32 mobilenet_v3_small_b1_float32 vit_b_16_b1_float16"
mkdir -p "$OUT"
for board in layer-orin layer-tx2; do
  for config in $CONFIGS; do
    for class in $CLASSES; do
      for seed in $SEEDS; do
        f="$OUT/$board.$config.$class.$seed.json"
        [[ -s $f ]] && continue  # resumable
        "$SRC/bench/eval_layer.sh" "$BUILD" "$board" "$config" "$class" "$seed" >"$f.tmp" 2>"$f.err" ||
          { echo "failed: $board $config $class $seed (see $f.err)" >&2; continue; }
        mv "$f.tmp" "$f"
      done
    done
  done
done
python3 "$SRC/bench/lib/eval_layer_table.py" "$OUT"
