# Sourced by integration tests: run flamed for a test. With the real binary ($FLAMED) it runs on a
# fake Jetson tree (flame_fake_sysfs) with one small layer-wise model named resnet50; without it,
# the protocol double lib/fake_flamed.py stands in, so client tests still exercise the protocol.
#
#   flamed_setup DIR           writes DIR/root, DIR/models/resnet50.yaml, DIR/flamed.yaml
#   flamed_start DIR [real|fake|auto]  starts it; sets FLAMED_SOCK, FLAMED_PID, FLAMED_KIND
#   flamed_stop                SIGTERM and wait
_flamed_env_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

flamed_setup() {
  local dir=$1
  mkdir -p "$dir/models" "$dir/state" "$dir/run"
  if [[ -n "${FLAMED:-}" ]]; then
    "$FLAME_BUILD_DIR/tests/flame_fake_sysfs" orin-nano-jp6 "$dir/root" >/dev/null
  fi
  # One segment: ~1-5 ms of CPU work, ~5-17 ms of GPU work, EMC-dependent memory time.
  cat >"$dir/models/resnet50.yaml" <<'YAML'
format: flame-model
version: 1
kind: layerwise
name: resnet50
board: orin-nano-8gb-super
costs: {cpu_offset_ns: 0, gpu_scale: 1, sync_latency_ns: 20000}
emc_hz: [204000000, 3199000000]
segments:
  - name: body
    cpu: [50000, 2.0e12]
    gpu: {work_ns_hz: 5.0e15, memory_ns: [4000000, 1000000]}
YAML
  cat >"$dir/flamed.yaml" <<YAML
sysfs_root: $dir/root
socket_path: $dir/flamed.sock
socket_group: ""
models_dir: $dir/models
state_dir: $dir/state
runtime_dir: $dir/run
dbus: false
log_level: info
request_expiry_ms: 1500
YAML
}

flamed_start() {
  local dir=$1 kind=${2:-auto}
  if [[ $kind == auto ]]; then
    kind=fake
    [[ -n "${FLAMED:-}" ]] && kind=real
  fi
  FLAMED_KIND=$kind
  FLAMED_SOCK="$dir/flamed.sock"
  if [[ $kind == real ]]; then
    "$FLAMED" --config "$dir/flamed.yaml" >"$dir/flamed.log" 2>&1 &
  else
    python3 "$_flamed_env_dir/fake_flamed.py" --socket "$FLAMED_SOCK" --expiry-ms 1500 >"$dir/flamed.log" 2>&1 &
  fi
  FLAMED_PID=$!
  local i
  for i in $(seq 200); do
    [[ -S "$FLAMED_SOCK" ]] && break
    kill -0 "$FLAMED_PID" 2>/dev/null || break
    sleep 0.05
  done
  if [[ ! -S "$FLAMED_SOCK" ]]; then
    echo "flamed ($kind) did not start:" >&2
    cat "$dir/flamed.log" >&2
    return 1
  fi
  echo "flamed: $kind (pid $FLAMED_PID, socket $FLAMED_SOCK)"
}

flamed_stop() {
  [[ -n "${FLAMED_PID:-}" ]] || return 0
  kill -TERM "$FLAMED_PID" 2>/dev/null || true
  wait "$FLAMED_PID" 2>/dev/null || true
  FLAMED_PID=""
}
