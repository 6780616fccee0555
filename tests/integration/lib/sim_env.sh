# Shared by the tests that run the real flamed on the simulated TX2 (tests/integration/sim_*.sh):
# a config for a tree, models, state and runtime dirs under DIR, and a start that waits for the
# socket. Source it; needs FLAMED and FLAME_SOURCE_DIR. Sets tmp (removed at exit) and pid (a
# flamed still running at exit gets SIGTERM, so it restores the clocks first).
[[ -n "${FLAMED:-}" && -x "$FLAMED" ]] || { echo "FLAMED is not set to the flamed binary" >&2; exit 1; }
tmp=$(mktemp -d -p /dev/shm 2>/dev/null || mktemp -d)
pid=""
cleanup() {
  if [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid"
    wait "$pid" || true
  fi
  rm -rf "$tmp"
}
trap cleanup EXIT

sim_write_config() {  # sim_write_config DIR [extra yaml lines...] -> DIR/flamed.yaml
  local d=$1
  shift
  {
    echo "sysfs_root: $d/tree"
    echo "socket_path: $d/flamed.sock"
    echo 'socket_group: ""'
    echo "models_dir: $d/models"
    echo "state_dir: $d/state"
    echo "runtime_dir: $d/run"
    echo "board_file: $FLAME_SOURCE_DIR/config/boards/tx2-flexibo.yaml"
    echo "dbus: false"
    echo "log_level: info"
    local line
    for line in "$@"; do echo "$line"; done
  } >"$d/flamed.yaml"
}

sim_start_flamed() {  # sim_start_flamed DIR LOG -> sets pid; fails when no socket appears
  "$FLAMED" --config "$1/flamed.yaml" >"$2" 2>&1 &
  pid=$!
  for _ in $(seq 100); do
    [[ -S "$1/flamed.sock" ]] && return 0
    kill -0 "$pid" 2>/dev/null || { cat "$2" >&2; return 1; }
    sleep 0.1
  done
  echo "flamed did not open its socket" >&2
  cat "$2" >&2
  return 1
}
