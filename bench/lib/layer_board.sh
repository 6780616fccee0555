# Sourced by the layer-board benchmarks: a live layer-level board's fake tree in a temporary folder $T
# with cur_freq following the pinned limits (tests/integration/lib/fake_governor.py, as a busy board's
# would; flame profile waits for it to settle), removed at exit (kept with KEEP=1).
# Needs SRC, FLAME and BOARD_NAME (and DATA and SEED for profile_config); sets BOARD (its description
# file), T and GOV.
case $BOARD_NAME in
  layer-tx2) BOARD="$SRC/config/boards/tx2-flexibo.yaml" ;;
  layer-orin) BOARD="$SRC/config/boards/orin-nano-8gb-super.yaml" ;;
  *) echo "unknown board $BOARD_NAME" >&2; exit 2 ;;
esac
T=$(mktemp -d /tmp/flame-layer-board.XXXXXX)
GOV=
trap '[[ -n $GOV ]] && { touch "$T/gov.stop"; wait "$GOV"; }; [[ ${KEEP:-} == 1 ]] && echo "kept $T" >&2 || rm -rf "$T"' EXIT
"$FLAME" sim tree --board "$BOARD_NAME" --out "$T/root" >/dev/null
python3 "$SRC/tests/integration/lib/fake_governor.py" "$T/root" "$T/gov.ready" "$T/gov.stop" &
GOV=$!
for _ in $(seq 200); do [[ -e "$T/gov.ready" ]] && break; sleep 0.05; done

# profile_config CONFIG OUT [flame profile options]: `flame profile` of CONFIG through the simulated
# application on this board into the model file OUT; its output in $T/profile.out and .err.
profile_config() {
  local config=$1 out=$2
  shift 2
  "$FLAME" profile --model-name "$config" --seed "$SEED" --sysfs-root "$T/root" --runtime-dir "$T/run" \
    --config /nonexistent --board "$BOARD" --work-dir "$T/work-$config" --out "$out" "$@" -- \
    "$FLAME" sim app --board "$BOARD_NAME" --sysfs-root "$T/root" --data "$DATA" --config "$config" \
    --seed "$SEED" >"$T/profile.out" 2>"$T/profile.err" || { cat "$T/profile.err" >&2; exit 1; }
}
