# Shared setup for tests that run the real flamed: a fake Orin Nano tree, the shipped models, a
# config in a temp dir, and helpers to start, stop and talk to the daemon. Source it.
: "${FLAMED:?flamed binary (set by ctest)}" "${FLAME:?}" "${FLAME_BUILD_DIR:?}" "${FLAME_SOURCE_DIR:?}"
FAKE="$FLAME_BUILD_DIR/tests/flame_fake_sysfs"
# The inline Python of the tests talks to flamed through lib/wire.py.
export PYTHONPATH="$FLAME_SOURCE_DIR/tests/integration/lib${PYTHONPATH:+:$PYTHONPATH}"
T=$(mktemp -d /tmp/flamed-it.XXXXXX)
ROOT="$T/root" SOCK="$T/s.sock" CFG="$T/flamed.yaml" LOG="$T/flamed.log"
mkdir -p "$T/models" "$T/state" "$T/run"
"$FAKE" orin-nano-jp6 "$ROOT"
cp -a "$ROOT" "$T/root.orig"
cp "$FLAME_SOURCE_DIR"/config/models/*.yaml "$T/models/"
write_config() {  # write_config [extra yaml lines...]
  {
    echo "sysfs_root: $ROOT"
    echo "socket_path: $SOCK"
    echo "socket_group: \"\""
    echo "models_dir: $T/models"
    echo "state_dir: $T/state"
    echo "runtime_dir: $T/run"
    echo "board_file: $FLAME_SOURCE_DIR/config/boards/orin-nano-8gb-super.yaml"
    echo "log_level: ${FLAMED_LOG_LEVEL:-debug}"
    echo "dbus: false"
    for line in "$@"; do echo "$line"; done
  } >"$CFG"
}
FLAMED_PID=
start_flamed() {
  # Ready = the socket accepts connections (a socket file left by a killed flamed refuses them).
  local stale=0
  [[ -S "$SOCK" ]] && stale=1
  "$FLAMED" --config "$CFG" >>"$LOG" 2>&1 &
  FLAMED_PID=$!
  for _ in $(seq 1 100); do
    if [[ -S "$SOCK" ]]; then
      ((stale == 0)) && return 0
      python3 -c 'import socket,sys; socket.socket(socket.AF_UNIX).connect(sys.argv[1])' "$SOCK" 2>/dev/null \
        && return 0
    fi
    kill -0 "$FLAMED_PID" 2>/dev/null || { cat "$LOG" >&2; echo "flamed died at start" >&2; return 1; }
    sleep 0.05
  done
  cat "$LOG" >&2
  echo "flamed did not create its socket" >&2
  return 1
}
stop_flamed() {  # stop_flamed [signal] -> exit status of flamed
  local sig=${1:-TERM} rc=0
  kill -"$sig" "$FLAMED_PID"
  wait "$FLAMED_PID" || rc=$?
  FLAMED_PID=
  return $rc
}
cleanup() {
  [[ -n "$FLAMED_PID" ]] && kill -9 "$FLAMED_PID" 2>/dev/null
  if [[ "${KEEP:-}" == 1 ]]; then echo "kept $T" >&2; else rm -rf "$T"; fi
}
trap cleanup EXIT
same_tree() { diff -r --no-dereference "$1" "$2" >/dev/null; }
