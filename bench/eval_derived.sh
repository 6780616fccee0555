#!/usr/bin/env bash
# FLAME from one profiled point on a live layer board (docs/evaluation.md, "Derived models"): the prior's
# models profiled in full through the simulated application (flame profile at its default budget), a
# prior directory with every one of them whose architecture differs from CONFIG's (leave one model
# out: all batches and precisions of CONFIG's architecture stay out), `flame profile --prior` of CONFIG
# at one combination, then `flame eval` of CONFIG's camera stream with flamed on the derived model.
# Usage: bench/eval_derived.sh BUILD_DIR BOARD CONFIG [CLASS] [SEED] [DATA] [-- extra flame eval args]
#   PRIOR_CONFIGS: the prior's candidate configurations (default: every configuration of DATA);
#   PRIOR_CACHE: a directory keeping their full profiles between runs (default: a temporary one);
#   DERIVED_OUT: where to copy the derived model file (default: nowhere).
# Prints the evaluation as JSON; the derived model file's `derived` section goes to stderr.
set -euo pipefail
source "$(dirname "$0")/lib/layer_args.sh"  # BUILD BOARD_NAME CONFIG CLASS SEED SRC DATA FLAME
source "$SRC/bench/lib/layer_board.sh"  # BOARD, T (the tree in $T/root), GOV
CACHE=${PRIOR_CACHE:-$T/cache}/$BOARD_NAME
mkdir -p "$CACHE" "$T/prior" "$T/models"
architecture() { [[ $1 =~ ^(.*)_b[0-9]+_ ]] && echo "${BASH_REMATCH[1]}" || echo "$1"; }
if [[ -z ${PRIOR_CONFIGS:-} ]]; then
  PRIOR_CONFIGS=$(python3 -c 'import json,sys; print(" ".join(r["tag"] for r in json.load(open(sys.argv[1]))["results"]))' "$DATA")
fi
for c in $PRIOR_CONFIGS; do
  [[ $(architecture "$c") == $(architecture "$CONFIG") ]] && continue
  [[ -s $CACHE/$c.yaml ]] || profile_config "$c" "$CACHE/$c.yaml"
  ln -sf "$CACHE/$c.yaml" "$T/prior/$c.yaml"
done
profile_config "$CONFIG" "$T/models/$CONFIG.yaml" --prior "$T/prior"
grep -hE "^prior:|derived" "$T/profile.err" "$T/profile.out" >&2 || true
[[ -n ${DERIVED_OUT:-} ]] && cp "$T/models/$CONFIG.yaml" "$DERIVED_OUT"
"$FLAME" eval --board "$BOARD_NAME" --data "$DATA" --config "$CONFIG" --camera "$CLASS" --seed "$SEED" \
  --models "$T/models" --json "$@"
