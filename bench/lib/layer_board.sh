# Sourced by the layer-board benchmarks: a live layer-level board's fake tree in a temporary folder $T
# with cur_freq following the pinned limits (tests/integration/lib/fake_governor.py, as a busy board's
# would; flame profile waits for it to settle), removed at exit (kept with KEEP=1).
# Needs SRC, FLAME and BOARD_NAME; sets BOARD (its description file), T and GOV.
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
