#!/usr/bin/env bash
# The derived-model evaluation of docs/evaluation.md ("Derived models"): bench/eval_derived.sh over
# boards x configurations x deadline classes x seeds, one JSON per run in OUT, the prior's full
# profiles kept in OUT/cache (profiled once per board), then the per-run rows and the means against
# the targets (bench/lib/eval_derived_table.py).
# Usage: bench/eval_derived_sweep.sh BUILD_DIR OUT_DIR [SEEDS] [CLASSES]
#   SEEDS default "1 2 3", CLASSES default "tight loose". The prior's profiles take ~7 min per board,
#   each run ~20 s on 2 idle cores.
set -euo pipefail
BUILD=${1:?build dir}
OUT=${2:?output folder}
SEEDS=${3:-1 2 3}
CLASSES=${4:-tight loose}
SRC=$(cd "$(dirname "$0")/.." && pwd)
CONFIGS="resnet50_b1_float32 mobilenet_v3_small_b1_float32 vit_b_16_b1_float16"
mkdir -p "$OUT/cache"
for board in layer-orin layer-tx2; do
  for config in $CONFIGS; do
    for class in $CLASSES; do
      for seed in $SEEDS; do
        f="$OUT/$board.$config.$class.$seed.json"
        [[ -s $f ]] && continue  # resumable
        PRIOR_CACHE="$OUT/cache" "$SRC/bench/eval_derived.sh" "$BUILD" "$board" "$config" "$class" "$seed" "" -- \
          --governors flamed,max,oracle-nc,oracle >"$f.tmp" 2>"$f.err" ||
          { echo "failed: $board $config $class $seed (see $f.err)" >&2; continue; }
        mv "$f.tmp" "$f"
      done
    done
  done
done
python3 "$SRC/bench/lib/eval_derived_table.py" "$OUT"
