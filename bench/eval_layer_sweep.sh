#!/usr/bin/env bash
# The live-layer-board evaluations of docs/evaluation.md over boards x configurations x deadline
# classes x seeds, one JSON per run in OUT, then the per-run rows and the means against the targets:
#   default:      bench/eval_layer.sh (flamed on the model profiled in full; bench/lib/eval_layer_table.py)
#   DERIVED=1:    bench/eval_derived.sh (flamed on a model derived from one profiled point, "Derived
#                 models"; the prior's full profiles kept in OUT/cache; bench/lib/eval_derived_table.py)
# Usage: [DERIVED=1] bench/eval_layer_sweep.sh BUILD_DIR OUT_DIR [SEEDS] [CLASSES]
#   SEEDS default "1 2 3 4 5", CLASSES default "tight loose". About 25 s per run on 2 idle cores;
#   with DERIVED=1 first the prior's profiles (minutes per configuration on the TX2 at large batches
#   and long prompts: PRIOR_CONFIGS, see bench/eval_derived.sh, limits them).
set -euo pipefail
BUILD=${1:?build dir}
OUT=${2:?output folder}
SEEDS=${3:-1 2 3 4 5}
CLASSES=${4:-tight loose}
SRC=$(cd "$(dirname "$0")/.." && pwd)
CONFIGS="resnet50_b1_float32 mobilenet_v3_small_b1_float32 vit_b_16_b1_float16"
if [[ ${DERIVED:-} == 1 ]]; then
  RUN=("$SRC/bench/eval_derived.sh") EXTRA=(-- --governors flamed,max,oracle-nc,oracle) TABLE=eval_derived_table.py
  export PRIOR_CACHE="$OUT/cache"
else
  RUN=("$SRC/bench/eval_layer.sh") EXTRA=() TABLE=eval_layer_table.py
fi
mkdir -p "$OUT"
for board in layer-orin layer-tx2; do
  for config in $CONFIGS; do
    for class in $CLASSES; do
      for seed in $SEEDS; do
        f="$OUT/$board.$config.$class.$seed.json"
        [[ -s $f ]] && continue  # resumable
        "${RUN[@]}" "$BUILD" "$board" "$config" "$class" "$seed" "" "${EXTRA[@]}" >"$f.tmp" 2>"$f.err" ||
          { echo "failed: $board $config $class $seed (see $f.err)" >&2; continue; }
        mv "$f.tmp" "$f"
      done
    done
  done
done
python3 "$SRC/bench/lib/$TABLE" "$OUT"
