#!/usr/bin/env bash
# A `status` storm beside a client's begin/end, for two flamed builds alternately: 16,000 requests
# held (16 connections x 1,000), four clients repeating the default `status`, and one client's
# round trips measured by `flame bench socket --clients 1 --requests 60`.
# Usage: bench/status_storm_ab.sh BEFORE_BUILD_DIR AFTER_BUILD_DIR [RUNS]; FLAME_CLIENT as in
# bench/socket_ab.sh. Prints one JSON line per run: p50_us, p99_us, the largest status reply, how
# many statuses were answered meanwhile.
set -euo pipefail
cd "$(dirname "$0")/.."
before=$(cd "$1" && pwd) after=$(cd "$2" && pwd) runs=${3:-2}
export FLAMED=$after/daemon/flamed FLAME=${FLAME_CLIENT:-$after/tools/flame} FLAME_BUILD_DIR=$after FLAME_SOURCE_DIR=$PWD
source tests/integration/lib/flamed_env.sh
cat >"$T/storm.py" <<'PY'
import json, socket, subprocess, sys, threading, time
sock, flame = sys.argv[1], sys.argv[2]
def conn():
    s = socket.socket(socket.AF_UNIX); s.connect(sock); s.settimeout(60); return s
holders = []
for c in range(16):
    s = conn(); holders.append(s)
    s.sendall("".join(json.dumps({"op": "begin", "id": i, "model": "resnet50", "deadline_ms": 1000}) + "\n"
                      for i in range(1000)).encode())
    f = s.makefile("rb")
    for _ in range(1000): assert json.loads(f.readline())["ok"]
stop = False; sizes = []
def storm():
    s = conn(); f = s.makefile("rb")
    while not stop:
        s.sendall(b'{"op":"status"}\n'); line = f.readline(); sizes.append(len(line))
ts = [threading.Thread(target=storm) for _ in range(4)]
for t in ts: t.start()
time.sleep(0.5)
out = subprocess.run([flame, "bench", "socket", "--socket", sock, "--clients", "1", "--requests", "60",
                      "--deadline-ms", "30", "--json"], capture_output=True, text=True, check=True).stdout
stop = True
for t in ts: t.join()
d = json.loads(out)
print(json.dumps({"p50_us": d["p50_us"], "p99_us": d["p99_us"], "status_bytes": max(sizes), "statuses": len(sizes)}))
PY
for _ in $(seq 1 "$runs"); do
  for label in before after; do
    b=$before
    [[ $label == after ]] && b=$after
    FLAMED=$b/daemon/flamed
    FLAMED_LOG_LEVEL=warn write_config "limits: {rate_per_s: 1000000, rate_burst: 1000000, max_requests_per_client: 1000}"
    start_flamed
    echo "$label $(python3 "$T/storm.py" "$SOCK" "$FLAME")"
    stop_flamed TERM || true
  done
done
