#!/usr/bin/env bash
# The arm64 package (cross-built with GCC 11: tools/setup.sh package arm64, which tools/setup.sh
# test runs first) unpacked, its binaries run under qemu-aarch64-static on a simulated Orin Nano
# (JetPack 6) tree:
#   - flame board show / set / restore: the clocks land in the files, restore puts every file back;
#   - flamed on its socket: begin -> the clocks are written before the reply -> flamectl status
#     -> SIGTERM -> every file byte for byte as before.
# The libraries it links come from the host's multiarch directory (tools/arm64-sysroot.sh installs
# the :arm64 runtime packages), libc from the cross toolchain's /usr/aarch64-linux-gnu.
set -euo pipefail
: "${FLAME_BUILD_DIR:?}" "${FLAME_SOURCE_DIR:?}"
# skip-if-missing: artefact dist/flame_*_arm64.deb
debs=("$FLAME_SOURCE_DIR"/dist/flame_*_arm64.deb)
if [[ ! -f ${debs[0]} ]]; then
  echo "skipped: no dist/flame_*_arm64.deb (tools/setup.sh package arm64)"
  exit 77
fi
QEMU=$(command -v qemu-aarch64-static) || { echo "qemu-aarch64-static is missing (apt install qemu-user-static)" >&2; exit 1; }
w=$(mktemp -d)
dpkg-deb -x "${debs[0]}" "$w/pkg"
for b in bin/flame sbin/flamed bin/flamectl; do
  bin="$w/pkg/usr/$b"
  b=${b#*/}
  [[ -x $bin ]] || { echo "no arm64 $b in ${debs[0]}" >&2; exit 1; }
  readelf -h "$bin" | grep -q "Machine: *AArch64" || { echo "$bin is not an arm64 binary" >&2; exit 1; }
  printf '#!/bin/sh\nexec %s -L /usr/aarch64-linux-gnu %s "$@"\n' "$QEMU" "$bin" >"$w/$b"
  chmod +x "$w/$b"
done
export FLAME="$w/flame" FLAMED="$w/flamed"
"$FLAME" --version

# flamed_env.sh: the fake tree ($ROOT, $T/root.orig), models, config, cleanup on exit.
source "$FLAME_SOURCE_DIR/tests/integration/lib/flamed_env.sh"
trap 'cleanup; rm -rf "$w"' EXIT
POL=$ROOT/sys/devices/system/cpu/cpufreq/policy0
GPU=$ROOT/sys/devices/platform/bus@0/17000000.gpu/devfreq/17000000.gpu
EMC=$ROOT/sys/kernel/debug/bpmp/debug/clk/emc
val() { tr -d '\n' <"$1"; }
expect() { [[ "$(val "$1")" == "$2" ]] || { echo "expected $2 in $1, got $(val "$1")" >&2; exit 1; }; }

# Board I/O.
"$FLAME" board show --sysfs-root "$ROOT" >"$T/show.txt"
grep -q "^GPU .*active" "$T/show.txt" || { cat "$T/show.txt" >&2; exit 1; }
"$FLAME" board set --sysfs-root "$ROOT" --runtime-dir "$T/run" --cpu-khz 400000 --gpu-hz 510000000 \
  --emc-hz 1600000000 >"$T/set.txt"
grep -q "cpu:policy0 .*applied .*target 422400 (requested 400000)" "$T/set.txt"
expect "$POL/scaling_max_freq" 422400
expect "$GPU/max_freq" 510000000
expect "$EMC/rate" 1600000000
same_tree "$T/root.orig" "$ROOT" && { echo "board set changed nothing" >&2; exit 1; }
"$FLAME" board restore --runtime-dir "$T/run" | grep -q "^restored"
diff -r --no-dereference "$T/root.orig" "$ROOT"
echo "arm64 flame board show/set/restore: ok"

# flamed: emulation is slow, so wait longer for the socket than flamed_env.sh's start_flamed.
write_config "idle_delay_ms: 60000"
"$FLAMED" --config "$CFG" >>"$LOG" 2>&1 &
FLAMED_PID=$!
for _ in $(seq 1 600); do
  [[ -S $SOCK ]] && break
  kill -0 "$FLAMED_PID" 2>/dev/null || { cat "$LOG" >&2; echo "flamed died at start" >&2; exit 1; }
  sleep 0.1
done
[[ -S $SOCK ]] || { cat "$LOG" >&2; echo "flamed did not create its socket" >&2; exit 1; }

FLAMECTL="$w/flamectl" python3 - "$SOCK" "$POL" "$GPU" "$EMC" <<'PY'
import sys
from wire import Connection
sock, pol, gpu, emc = sys.argv[1:]
rd = lambda p: open(p).read().strip()
req = Connection(sock, 60).req
assert req(op="hello", proto=1, app="arm64")["ok"]
r = req(op="begin", id=1, model="resnet50", deadline_ms=400)
assert r["ok"] and r["feasible"], r
ck = r["clocks"]
# Applied before the reply.
assert int(rd(pol + "/scaling_max_freq")) == int(ck["cpu_khz"]), ck
assert int(rd(gpu + "/max_freq")) == int(ck["gpu_hz"]), ck
assert int(rd(emc + "/rate")) == int(ck["emc_hz"]) and rd(emc + "/mrq_rate_locked") == "1", ck
print("begin applied", ck)
# The request stays open (this connection is kept) while flamectl asks for the status.
sys.stdout.flush()
import os, subprocess
out = subprocess.run([os.environ["FLAMECTL"], "--socket", sock, "--timeout", "60", "status", "--requests"],
                     capture_output=True, text=True, timeout=120)
assert out.returncode == 0, out
assert "resnet50" in out.stdout, out.stdout
print("arm64 flamectl status: ok")
PY
same_tree "$T/root.orig" "$ROOT" && { echo "begin changed nothing" >&2; exit 1; }
stop_flamed TERM
same_tree "$T/root.orig" "$ROOT" || { diff -r "$T/root.orig" "$ROOT" >&2; cat "$LOG" >&2; exit 1; }
echo "arm64 flamed begin / SIGTERM restore: ok"
