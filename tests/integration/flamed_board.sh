#!/usr/bin/env bash
# flamed and `flame board` on the board's start-up states (docs/board-io.md, "GPU wake"):
#  - a JetPack 6 GPU whose devfreq device is not registered until the GPU first powers up: a stand-in
#    "kernel" moves the devfreq device back into the tree once railgate_enable reads 0, as nvgpu does;
#    `flame board set` and flamed power the GPU up once, set it, and restore every file;
#  - a stale baseline left by a flamed killed with SIGKILL is restored before the socket opens;
#  - while `flame board set` holds the controller lock, flamed refuses to start and changes nothing.
set -euo pipefail
source "$(dirname "$0")/lib/flamed_env.sh"
GPU_DEV=/sys/devices/platform/bus@0/17000000.gpu
GPU=$GPU_DEV/devfreq/17000000.gpu
val() { tr -d '\n' <"$ROOT$1"; }
fail() { echo "FAIL: $*" >&2; [[ -f "$LOG" ]] && tail -30 "$LOG" >&2; exit 1; }

# Take the GPU's devfreq device away and start the stand-in kernel that registers it on power-up.
KERNEL_PID=
unregister_gpu() {
  mkdir -p "$T/stash"
  mv "$ROOT$GPU" "$T/stash/dir"
  mv "$ROOT/sys/class/devfreq/17000000.gpu" "$T/stash/link"
  (
    while [[ "$(tr -d '\n' <"$ROOT$GPU_DEV/railgate_enable")" != 0 ]]; do sleep 0.005; done
    mv "$T/stash/dir" "$ROOT$GPU"
    mv "$T/stash/link" "$ROOT/sys/class/devfreq/17000000.gpu"
  ) &
  KERNEL_PID=$!
}
kernel_done() { wait "$KERNEL_PID" || fail "stand-in kernel"; [[ -d "$ROOT$GPU" ]] || fail "GPU not registered"; }

# --- flame board set on a GPU that never powered up ------------------------------------------------------
unregister_gpu
"$FLAME" board show --sysfs-root "$ROOT" | grep -q "deferred" || fail "board show does not report the GPU deferred"
"$FLAME" board set --sysfs-root "$ROOT" --runtime-dir "$T/run" --gpu-hz 612000000 >"$T/set.txt" 2>&1 \
  || { cat "$T/set.txt" >&2; fail "board set"; }
kernel_done
grep -q "GPU powered up once" "$T/set.txt" || { cat "$T/set.txt" >&2; fail "no wake in the report"; }
[[ "$(val $GPU/min_freq)" == 612000000 && "$(val $GPU/max_freq)" == 612000000 ]] || fail "GPU not pinned"
[[ "$(val $GPU_DEV/railgate_enable)" == 1 ]] || fail "railgate_enable not put back"
grep -q '"railgate"' "$T/run/baseline.json" || fail "railgate_enable missing from the baseline"
"$FLAME" board restore --runtime-dir "$T/run" >/dev/null
same_tree "$ROOT" "$T/root.orig" || { diff -r --no-dereference "$ROOT" "$T/root.orig" >&2; fail "restore"; }

# --- flamed started on a GPU that never powered up ------------------------------------------------------
unregister_gpu
write_config
start_flamed
kernel_done
grep -q "GPU powered up once" "$LOG" || fail "flamed did not power the GPU up"
grep -Eq "clock grid: [0-9]+ CPU x ([2-9]|[1-9][0-9]+) GPU" "$LOG" || fail "flamed's grid has no GPU axis"
python3 - "$SOCK" "$ROOT$GPU" <<'PY'
import json, socket, sys
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); f = s.makefile("rwb")
f.write(b'{"op":"begin","id":1,"model":"resnet50","deadline_ms":0.01}\n'); f.flush()
r = json.loads(f.readline())
assert r["ok"] and r["clocks"]["gpu_hz"] == 1020000000, r
assert open(sys.argv[2] + "/min_freq").read().strip() == "1020000000"
PY
stop_flamed TERM
same_tree "$ROOT" "$T/root.orig" || { diff -r --no-dereference "$ROOT" "$T/root.orig" >&2; fail "SIGTERM restore"; }

# --- a stale baseline from a killed flamed is put back before anything else -----------------------------
start_flamed
python3 - "$SOCK" <<'PY'
import socket, sys
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); f = s.makefile("rwb")
f.write(b'{"op":"begin","id":1,"model":"resnet50","deadline_ms":0.01}\n'); f.flush(); f.readline()
PY
stop_flamed KILL || true
[[ -s "$T/run/baseline.json" ]] || fail "no baseline after kill -9"
! same_tree "$ROOT" "$T/root.orig" || fail "the request changed nothing"

start_flamed  # the socket exists only after the start-up restore
same_tree "$ROOT" "$T/root.orig" || { diff -r --no-dereference "$ROOT" "$T/root.orig" >&2; fail "stale baseline"; }
grep -q "a clock baseline from a previous run was found" "$LOG" || fail "no stale-baseline message"
[[ ! -e "$T/run/baseline.json" ]] || fail "the stale baseline was not removed"
stop_flamed TERM
same_tree "$ROOT" "$T/root.orig" || fail "final restore"

# --- another controller holds the clocks: flamed refuses to start, names it, changes nothing -----------
"$FLAME" board set --sysfs-root "$ROOT" --runtime-dir "$T/run" --cpu-khz 729600 --hold-seconds 60 \
  >"$T/holder.out" 2>&1 &
HOLDER=$!
for _ in $(seq 200); do grep -q "^holding clocks" "$T/holder.out" && break; sleep 0.05; done
grep -q "^holding clocks" "$T/holder.out" || fail "holder did not start"
cp -a "$ROOT" "$T/root.held"
set +e
"$FLAMED" --config "$CFG" >"$T/refused.log" 2>&1
rc=$?
set -e
kill "$HOLDER" 2>/dev/null || true
wait "$HOLDER" 2>/dev/null || true
[[ $rc != 0 ]] || fail "flamed started while another process controls the clocks"
grep -q "already controlled by pid $HOLDER (flame board set)" "$T/refused.log" || { cat "$T/refused.log" >&2; fail "lock message"; }
same_tree "$ROOT" "$T/root.held" || fail "the refused flamed changed a clock"
"$FLAME" board restore --runtime-dir "$T/run" >/dev/null
same_tree "$ROOT" "$T/root.orig" || fail "restore after the holder"
echo "flamed board start-up states: ok"
