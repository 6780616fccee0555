#!/usr/bin/env bash
# flamed out of file descriptors: started under a low open-file limit it says that
# limits.max_connections does not fit; when clients use up the descriptors, accept pauses instead of
# spinning (bounded CPU and log), counts the failures in the metrics, and serves again once
# connections close.
set -euo pipefail
source "$(dirname "$0")/lib/flamed_env.sh"
fail() { echo "FAIL: $*" >&2; [[ -f "$LOG" ]] && tail -30 "$LOG" >&2; exit 1; }

# The metrics file is written at stop, when descriptors are free again: under UBSan a virtual call
# made while none is left is misreported ("invalid vptr": its memory probe needs a pipe).
# One uid opens every connection: the per-uid cap (32 by default) would refuse them before the
# descriptors run out, so it is raised to the global cap.
FLAMED_LOG_LEVEL=info write_config "metrics: {textfile: $T/metrics.prom, interval_s: 3600}" "limits: {max_connections_per_uid: 64}"
# flamed with a hard open-file limit of 64 (its soft limit cannot be raised above it); prlimit
# execs flamed, so $FLAMED_PID is flamed's.
printf '#!/bin/sh\nexec prlimit --nofile=64:64 %s "$@"\n' "$FLAMED" >"$T/flamed-64"
chmod +x "$T/flamed-64"
FLAMED="$T/flamed-64"
# UBSan's vptr check probes memory through a pipe(2): with no descriptor left it reports valid
# objects as "invalid vptr" (Boost's error_category on every error_code). Only this test runs
# flamed out of descriptors; the build makes that check recoverable so it can be suppressed here.
echo "vptr_check:*" >"$T/ubsan.supp"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:+$UBSAN_OPTIONS:}suppressions=$T/ubsan.supp"
start_flamed
grep -q "limits.max_connections 64 needs about 128 descriptors but the process may open 64" "$LOG" \
  || fail "no descriptor warning at start"

python3 - "$SOCK" "$FLAMED_PID" <<'PY'
import json, os, socket, sys, time
sock, pid = sys.argv[1], int(sys.argv[2])

def cpu_s():
    f = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(f[11]) + int(f[12])) / os.sysconf("SC_CLK_TCK")

clients = []
for _ in range(80):  # more than flamed has descriptors for
    s = socket.socket(socket.AF_UNIX)
    s.connect(sock)  # the kernel queues it even when flamed cannot accept
    clients.append(s)
time.sleep(0.5)
before = cpu_s()
time.sleep(2.0)
spent = cpu_s() - before
print(f"flamed CPU while out of descriptors: {spent:.2f} s in 2 s")
assert spent < 0.5, f"accept spins: {spent:.2f} s of CPU in 2 s"
for s in clients:
    s.close()
time.sleep(0.5)
s = socket.socket(socket.AF_UNIX); s.settimeout(10); s.connect(sock); f = s.makefile("rwb")
f.write(b'{"op":"status"}\n'); f.flush()
r = json.loads(f.readline())
assert r["ok"], r
PY
lines=$(grep -c "accept failed" "$LOG" || true)
((lines >= 1 && lines <= 3)) || fail "$lines 'accept failed' lines (want 1..3: logged once per 10 s)"
kill -0 "$FLAMED_PID" || fail "flamed died"
stop_flamed TERM || fail "flamed exited with an error"
grep -q "^flamed_accept_failures_total [1-9]" "$T/metrics.prom" || { cat "$T/metrics.prom" >&2; fail "metric"; }
same_tree "$ROOT" "$T/root.orig" || fail "restore"
echo "flamed descriptors: ok"
