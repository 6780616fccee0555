#!/usr/bin/env bash
# The real flamed when a clock write fails on release: the GPU's max_freq node turns into a directory
# (EISDIR) while a request holds the GPU. Disconnect, expiry and the idle restore each hit the fault;
# flamed keeps serving every client, reports the fault in status and metrics, clears it once a write
# succeeds again, and restores every file at shutdown.
set -euo pipefail
source "$(dirname "$0")/lib/flamed_env.sh"
GPU=/sys/devices/platform/bus@0/17000000.gpu/devfreq/17000000.gpu
fail() { echo "FAIL: $*" >&2; [[ -f "$LOG" ]] && tail -30 "$LOG" >&2; exit 1; }

write_config "idle_delay_ms: 0" "request_expiry_ms: 1500" \
  "metrics: {textfile: $T/metrics.prom, interval_s: 1}"
start_flamed

python3 - "$SOCK" "$T" "$ROOT$GPU" <<'PY'
import json, os, socket, subprocess, sys, time
sock, tmp, gpu = sys.argv[1:]

def connect():
    s = socket.socket(socket.AF_UNIX)
    s.settimeout(10)
    s.connect(sock)
    return s, s.makefile("rwb")

def ask(f, msg):
    f.write((json.dumps(msg) + "\n").encode()); f.flush()
    line = f.readline()
    assert line, "flamed closed the connection"
    return json.loads(line)

def shell(cmd):
    subprocess.run(["bash", "-c", cmd], check=True,
                   env=dict(os.environ, ROOT_GPU=gpu, T=tmp))

break_cmd = 'mv "$ROOT_GPU/max_freq" "$T/max_freq.saved"; mkdir "$ROOT_GPU/max_freq"'
mend_cmd = 'rmdir "$ROOT_GPU/max_freq"; mv "$T/max_freq.saved" "$ROOT_GPU/max_freq"'

watcher, wf = connect()  # a second client that must keep being served throughout

def status():
    return ask(wf, {"op": "status"})

# 1. Release by disconnect with the node broken.
s, f = connect()
r = ask(f, {"op": "begin", "id": 1, "model": "resnet50", "deadline_ms": 0.01})
assert r["ok"] and r["clocks"]["gpu_hz"] == 1020000000, r
shell(break_cmd)
f.close(); s.close()
for _ in range(100):
    st = status()
    if st["counters"]["hardware_faults"] >= 1:
        break
    time.sleep(0.05)
assert st["counters"]["hardware_faults"] >= 1, st
assert "Is a directory" in st["hardware_fault"], st
faults = st["counters"]["hardware_faults"]
ctl = subprocess.run([os.environ["FLAME_BUILD_DIR"] + "/tools/flamectl/flamectl", "--socket", sock, "status"],
                     capture_output=True, text=True, check=True).stdout
assert "hardware fault: the board refused the last clock write (release: " in ctl, ctl
assert f"{faults} refused by the board" in ctl, ctl

# 2. The daemon still serves: a new request is answered (an error or clocks, never a dropped socket).
s, f = connect()
r = ask(f, {"op": "begin", "id": 2, "model": "resnet50", "deadline_ms": 1000})
assert "ok" in r, r

# 3. Expiry with the node still broken.
time.sleep(1.8)
st = status()
assert st["counters"]["expired"] >= (1 if r["ok"] else 0), st
assert st["counters"]["hardware_faults"] >= faults, st

# 4. Mend the node: the next successful write clears the fault; the count stays.
shell(mend_cmd)
r = ask(f, {"op": "begin", "id": 3, "model": "resnet50", "deadline_ms": 0.01})
assert r["ok"], r
ask(f, {"op": "end", "id": 3})
st = status()
assert st["hardware_fault"] == "", st
assert st["counters"]["hardware_faults"] >= faults, st
f.close(); s.close()
PY
kill -0 "$FLAMED_PID" || fail "flamed died"
grep -q "clock write refused on release" "$LOG" || fail "no log line for the refused write"
for _ in $(seq 60); do grep -q "^flamed_hardware_faults_total [1-9]" "$T/metrics.prom" 2>/dev/null && break; sleep 0.05; done
grep -q "^flamed_hardware_faults_total [1-9]" "$T/metrics.prom" || { cat "$T/metrics.prom" >&2; fail "metric"; }
stop_flamed TERM || fail "flamed exited with an error"
same_tree "$ROOT" "$T/root.orig" || { diff -r --no-dereference "$ROOT" "$T/root.orig" >&2; fail "restore"; }
echo "flamed hardware fault: ok"
